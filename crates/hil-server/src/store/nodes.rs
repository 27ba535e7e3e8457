//! Nodes, their nics and their metadata.

use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use super::Conn;

#[derive(Debug, Clone)]
pub struct Node {
    pub id: i64,
    pub label: String,
    pub project_id: Option<i64>,
    pub obm_enabled: bool,
}

impl FromRow<'_, AnyRow> for Node {
    fn from_row(row: &AnyRow) -> sqlx::Result<Self> {
        Ok(Node {
            id: row.try_get("id")?,
            label: row.try_get("label")?,
            project_id: row.try_get("project_id")?,
            obm_enabled: row
                .try_get::<Option<String>, _>("obmd_node_token")?
                .is_some()
                || super::get_bool(row, "obm_enabled")?,
        })
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct Nic {
    pub id: i64,
    pub label: String,
    pub owner_id: i64,
    pub mac_addr: Option<String>,
    pub port_id: Option<i64>,
}

pub async fn get(c: &mut Conn, label: &str) -> sqlx::Result<Option<Node>> {
    sqlx::query_as(
        "SELECT id, label, project_id, obmd_node_token, obm_enabled FROM node WHERE label = $1",
    )
    .bind(label)
    .fetch_optional(c)
    .await
}

pub async fn get_by_id(c: &mut Conn, id: i64) -> sqlx::Result<Node> {
    sqlx::query_as(
        "SELECT id, label, project_id, obmd_node_token, obm_enabled FROM node WHERE id = $1",
    )
    .bind(id)
    .fetch_one(c)
    .await
}

pub async fn insert(
    c: &mut Conn,
    label: &str,
    obm: &super::obm::ObmRegistration,
) -> sqlx::Result<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO node (label, obmd_uri, obmd_admin_token) VALUES ($1, '', '') RETURNING id",
    )
    .bind(label)
    .fetch_one(&mut *c)
    .await?;
    super::obm::set_registration(c, id, obm).await?;
    Ok(id)
}

/// Deletes a node with its metadata (HIL left metadata dangling, §16 #28).
pub async fn delete(c: &mut Conn, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM metadata WHERE owner_id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    sqlx::query("DELETE FROM node WHERE id = $1")
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

/// Sorted node labels; only free nodes when `free_only`.
pub async fn list_labels(c: &mut Conn, free_only: bool) -> sqlx::Result<Vec<String>> {
    let condition = if free_only {
        "WHERE project_id IS NULL"
    } else {
        ""
    };
    super::sorted_labels(c, "node", condition).await
}

/// Puts a free node into a project. False if the node was not free any more.
pub async fn reserve(c: &mut Conn, node_id: i64, project_id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE node SET project_id = $1 WHERE id = $2 AND project_id IS NULL")
        .bind(project_id)
        .bind(node_id)
        .execute(c)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_project(c: &mut Conn, node_id: i64, project_id: Option<i64>) -> sqlx::Result<()> {
    sqlx::query("UPDATE node SET project_id = $1 WHERE id = $2")
        .bind(project_id)
        .bind(node_id)
        .execute(c)
        .await?;
    Ok(())
}

/// Creates or replaces a metadata value (stored as its JSON text).
pub async fn set_metadata(c: &mut Conn, node_id: i64, label: &str, json: &str) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO metadata (owner_id, label, value) VALUES ($1, $2, $3)
         ON CONFLICT (owner_id, label) DO UPDATE SET value = excluded.value",
    )
    .bind(node_id)
    .bind(label)
    .bind(json)
    .execute(c)
    .await?;
    Ok(())
}

/// Deletes a metadata key; false when it did not exist.
pub async fn delete_metadata(c: &mut Conn, node_id: i64, label: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM metadata WHERE owner_id = $1 AND label = $2")
        .bind(node_id)
        .bind(label)
        .execute(c)
        .await?;
    Ok(done.rows_affected() > 0)
}

const NIC_COLUMNS: &str = "id, label, owner_id, mac_addr, port_id";

pub async fn nic(c: &mut Conn, node_id: i64, label: &str) -> sqlx::Result<Option<Nic>> {
    sqlx::query_as(&format!(
        "SELECT {NIC_COLUMNS} FROM nic WHERE owner_id = $1 AND label = $2"
    ))
    .bind(node_id)
    .bind(label)
    .fetch_optional(c)
    .await
}

pub async fn nic_on_port(c: &mut Conn, port_id: i64) -> sqlx::Result<Option<Nic>> {
    sqlx::query_as(&format!("SELECT {NIC_COLUMNS} FROM nic WHERE port_id = $1"))
        .bind(port_id)
        .fetch_optional(c)
        .await
}

pub async fn has_nics(c: &mut Conn, node_id: i64) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM nic WHERE owner_id = $1")
        .bind(node_id)
        .fetch_one(c)
        .await?;
    Ok(n > 0)
}

pub async fn insert_nic(
    c: &mut Conn,
    node_id: i64,
    label: &str,
    macaddr: &str,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO nic (owner_id, label, mac_addr) VALUES ($1, $2, $3)")
        .bind(node_id)
        .bind(label)
        .bind(macaddr)
        .execute(c)
        .await?;
    Ok(())
}

/// Deletes a nic with its networking action; its port becomes free.
pub async fn delete_nic(c: &mut Conn, nic_id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM networking_action WHERE nic_id = $1")
        .bind(nic_id)
        .execute(&mut *c)
        .await?;
    sqlx::query("DELETE FROM nic WHERE id = $1")
        .bind(nic_id)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn set_nic_port(c: &mut Conn, nic_id: i64, port_id: Option<i64>) -> sqlx::Result<()> {
    sqlx::query("UPDATE nic SET port_id = $1 WHERE id = $2")
        .bind(port_id)
        .bind(nic_id)
        .execute(c)
        .await?;
    Ok(())
}

/// A nic as `show_node` reports it, with its port and switch labels.
#[derive(Debug, Clone)]
pub struct NicView {
    pub id: i64,
    pub label: String,
    pub mac_addr: Option<String>,
    pub port: Option<String>,
    pub switch: Option<String>,
}

/// Everything `show_node` shows, read by one statement (one round trip, one snapshot).
pub struct NodeShow {
    pub label: String,
    pub project_id: Option<i64>,
    pub project: Option<String>,
    /// In creation order.
    pub nics: Vec<NicView>,
    /// (nic id, channel, network label), in attachment order.
    pub attachments: Vec<(i64, String, String)>,
    /// (key, JSON text), in creation order.
    pub metadata: Vec<(String, String)>,
}

pub async fn show(c: &mut Conn, label: &str) -> sqlx::Result<Option<NodeShow>> {
    let json = super::Json::of(c);
    // Each list carries its row id first, to be put in order here.
    let list = |items: &str, rest: &str| {
        json.column(&format!("SELECT {} {rest}", json.agg(&json.array(items))))
    };
    let nics = list(
        "n.id, n.label, n.mac_addr, p.label, s.label",
        "FROM nic n LEFT JOIN port p ON p.id = n.port_id LEFT JOIN switch s ON s.id = p.owner_id
         WHERE n.owner_id = d.id",
    );
    let attachments = list(
        "a.id, a.nic_id, a.channel, w.label",
        "FROM network_attachment a JOIN nic n ON n.id = a.nic_id
         JOIN network w ON w.id = a.network_id WHERE n.owner_id = d.id",
    );
    let metadata = list(
        "m.id, m.label, m.value",
        "FROM metadata m WHERE m.owner_id = d.id",
    );
    let sql = format!(
        "SELECT d.label, d.project_id, j.label AS project, {nics} AS nics,
                {attachments} AS attachments, {metadata} AS metadata
         FROM node d LEFT JOIN project j ON j.id = d.project_id WHERE d.label = $1"
    );
    let Some(row) = sqlx::query(&sql).bind(label).fetch_optional(c).await? else {
        return Ok(None);
    };
    type NicRow = (i64, String, Option<String>, Option<String>, Option<String>);
    let mut nics: Vec<NicRow> = super::from_json(row.try_get("nics")?)?;
    nics.sort_unstable_by_key(|n| n.0);
    let mut attachments: Vec<(i64, i64, String, String)> =
        super::from_json(row.try_get("attachments")?)?;
    attachments.sort_unstable_by_key(|a| a.0);
    let mut metadata: Vec<(i64, String, String)> = super::from_json(row.try_get("metadata")?)?;
    metadata.sort_unstable_by_key(|m| m.0);
    Ok(Some(NodeShow {
        label: row.try_get("label")?,
        project_id: row.try_get("project_id")?,
        project: row.try_get("project")?,
        nics: nics
            .into_iter()
            .map(|(id, label, mac_addr, port, switch)| NicView {
                id,
                label,
                mac_addr,
                port,
                switch,
            })
            .collect(),
        attachments: attachments
            .into_iter()
            .map(|(_, nic, channel, network)| (nic, channel, network))
            .collect(),
        metadata: metadata.into_iter().map(|(_, k, v)| (k, v)).collect(),
    }))
}

/// Attachments of one nic: (channel, network row id, network label).
pub async fn attachments_of_nic(
    c: &mut Conn,
    nic_id: i64,
) -> sqlx::Result<Vec<(String, i64, String)>> {
    sqlx::query_as(
        "SELECT a.channel, w.id, w.label FROM network_attachment a
         JOIN network w ON w.id = a.network_id WHERE a.nic_id = $1 ORDER BY a.id",
    )
    .bind(nic_id)
    .fetch_all(c)
    .await
}

/// Whether any nic of the node has an attachment / a PENDING action.
pub async fn networking_state(c: &mut Conn, node_id: i64) -> sqlx::Result<(bool, bool)> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM network_attachment a JOIN nic n ON n.id = a.nic_id
                 WHERE n.owner_id = $1) AS attached,
                (SELECT COUNT(*) FROM networking_action q JOIN nic n ON n.id = q.nic_id
                 WHERE n.owner_id = $1 AND q.status = 'PENDING') AS pending",
    )
    .bind(node_id)
    .fetch_one(c)
    .await?;
    Ok((
        row.try_get::<i64, _>("attached")? > 0,
        row.try_get::<i64, _>("pending")? > 0,
    ))
}
