//! Networks, their access lists and their attachments.

use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use super::{get_bool, Conn};

#[derive(Debug, Clone)]
pub struct Network {
    pub id: i64,
    pub label: String,
    /// NULL = owned by the administrators.
    pub owner_id: Option<i64>,
    pub allocated: bool,
    /// The allocator's id (a VLAN number for vlan_pool).
    pub network_id: String,
}

impl FromRow<'_, AnyRow> for Network {
    fn from_row(row: &AnyRow) -> sqlx::Result<Self> {
        Ok(Network {
            id: row.try_get("id")?,
            label: row.try_get("label")?,
            owner_id: row.try_get("owner_id")?,
            allocated: get_bool(row, "allocated")?,
            network_id: row.try_get("network_id")?,
        })
    }
}

const COLUMNS: &str = "id, label, owner_id, allocated, network_id";

pub async fn get(c: &mut Conn, label: &str) -> sqlx::Result<Option<Network>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM network WHERE label = $1"))
        .bind(label)
        .fetch_optional(c)
        .await
}

pub async fn exists(c: &mut Conn, label: &str) -> sqlx::Result<bool> {
    Ok(get(c, label).await?.is_some())
}

pub async fn insert(
    c: &mut Conn,
    label: &str,
    owner_id: Option<i64>,
    allocated: bool,
    network_id: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO network (label, owner_id, allocated, network_id) VALUES ($1, $2, $3, $4)
         RETURNING id",
    )
    .bind(label)
    .bind(owner_id)
    .bind(allocated)
    .bind(network_id)
    .fetch_one(c)
    .await
}

pub async fn delete(c: &mut Conn, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM network_projects WHERE network_id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    sqlx::query("DELETE FROM network WHERE id = $1")
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

/// The access list: (project id, project label) in grant order.
pub async fn access(c: &mut Conn, id: i64) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as(
        "SELECT p.id, p.label FROM network_projects a JOIN project p ON p.id = a.project_id
         WHERE a.network_id = $1 ORDER BY a.id",
    )
    .bind(id)
    .fetch_all(c)
    .await
}

pub async fn grant(c: &mut Conn, network_id: i64, project_id: i64) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO network_projects (network_id, project_id) VALUES ($1, $2)")
        .bind(network_id)
        .bind(project_id)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn revoke(c: &mut Conn, network_id: i64, project_id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM network_projects WHERE network_id = $1 AND project_id = $2")
        .bind(network_id)
        .bind(project_id)
        .execute(c)
        .await?;
    Ok(())
}

/// Every network's label, network id and access list (project labels, sorted), sorted by
/// label: what `list_networks` shows. One statement with two aggregates, joined here: a
/// subquery per network made the list several times slower at 4,000 networks.
pub async fn listing(c: &mut Conn) -> sqlx::Result<Vec<(String, String, Vec<String>)>> {
    let json = super::Json::of(c);
    let networks = json.column(&format!(
        "SELECT {} FROM network",
        json.agg(&json.array("label, network_id"))
    ));
    let access = json.column(&format!(
        "SELECT {} FROM network_projects a JOIN network n ON n.id = a.network_id
         JOIN project p ON p.id = a.project_id",
        json.agg(&json.array("n.label, p.label"))
    ));
    let (networks, access): (String, String) =
        sqlx::query_as(&format!("SELECT {networks}, {access}"))
            .fetch_one(&mut *c)
            .await?;
    let networks: Vec<(String, String)> = super::from_json(&networks)?;
    let access: Vec<(String, String)> = super::from_json(&access)?;
    let mut projects_of: std::collections::HashMap<String, Vec<String>> =
        std::collections::HashMap::new();
    for (network, project) in access {
        projects_of.entry(network).or_default().push(project);
    }
    let mut listing: Vec<_> = networks
        .into_iter()
        .map(|(label, network_id)| {
            let mut projects = projects_of.remove(&label).unwrap_or_default();
            projects.sort_unstable();
            (label, network_id, projects)
        })
        .collect();
    listing.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(listing)
}

/// An attachment of a network, with what the listing calls need to show and filter it.
#[derive(Debug, Clone, FromRow)]
pub struct Attachment {
    pub node: String,
    pub node_project_id: Option<i64>,
    pub node_project: Option<String>,
    pub nic: String,
    pub channel: String,
}

pub async fn attachments(c: &mut Conn, id: i64) -> sqlx::Result<Vec<Attachment>> {
    sqlx::query_as(
        "SELECT d.label AS node, d.project_id AS node_project_id, p.label AS node_project,
                n.label AS nic, a.channel
         FROM network_attachment a JOIN nic n ON n.id = a.nic_id JOIN node d ON d.id = n.owner_id
         LEFT JOIN project p ON p.id = d.project_id
         WHERE a.network_id = $1 ORDER BY a.id",
    )
    .bind(id)
    .fetch_all(c)
    .await
}

/// What blocks `network_delete`, in HIL's order.
pub struct Dependents {
    pub attachments: bool,
    pub hnics: bool,
    pub actions: bool,
}

pub async fn dependents(c: &mut Conn, id: i64) -> sqlx::Result<Dependents> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM network_attachment WHERE network_id = $1) AS attached,
                (SELECT COUNT(*) FROM hnic WHERE network_id = $1) AS hnics,
                (SELECT COUNT(*) FROM networking_action WHERE new_network_id = $1) AS actions",
    )
    .bind(id)
    .fetch_one(c)
    .await?;
    let n = |col: &str| row.try_get::<i64, _>(col).map(|v| v > 0);
    Ok(Dependents {
        attachments: n("attached")?,
        hnics: n("hnics")?,
        actions: n("actions")?,
    })
}

/// Whether a node / a headnode of `project_id` uses the network (blocks revoking access).
pub async fn project_usage(c: &mut Conn, id: i64, project_id: i64) -> sqlx::Result<(bool, bool)> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM network_attachment a JOIN nic n ON n.id = a.nic_id
                 JOIN node d ON d.id = n.owner_id
                 WHERE a.network_id = $1 AND d.project_id = $2) AS nodes,
                (SELECT COUNT(*) FROM hnic h JOIN headnode d ON d.id = h.owner_id
                 WHERE h.network_id = $1 AND d.project_id = $2) AS headnodes",
    )
    .bind(id)
    .bind(project_id)
    .fetch_one(c)
    .await?;
    Ok((
        row.try_get::<i64, _>("nodes")? > 0,
        row.try_get::<i64, _>("headnodes")? > 0,
    ))
}

pub async fn attach(c: &mut Conn, nic_id: i64, network_id: i64, channel: &str) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO network_attachment (nic_id, network_id, channel) VALUES ($1, $2, $3)")
        .bind(nic_id)
        .bind(network_id)
        .bind(channel)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn detach_channel(c: &mut Conn, nic_id: i64, channel: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM network_attachment WHERE nic_id = $1 AND channel = $2")
        .bind(nic_id)
        .bind(channel)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn detach_all(c: &mut Conn, nic_id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM network_attachment WHERE nic_id = $1")
        .bind(nic_id)
        .execute(c)
        .await?;
    Ok(())
}
