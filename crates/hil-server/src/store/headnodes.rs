//! Headnodes and their hnics.

use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use super::{get_bool, Conn};

#[derive(Debug, Clone)]
pub struct Headnode {
    pub id: i64,
    pub label: String,
    pub project_id: i64,
    /// True until the first start; afterwards the headnode is frozen.
    pub dirty: bool,
    pub base_img: String,
    pub uuid: String,
}

impl Headnode {
    /// The VM's name on the host, as HIL names it.
    pub fn vm_name(&self) -> String {
        format!("headnode-{}", self.uuid)
    }
}

impl FromRow<'_, AnyRow> for Headnode {
    fn from_row(row: &AnyRow) -> sqlx::Result<Self> {
        Ok(Headnode {
            id: row.try_get("id")?,
            label: row.try_get("label")?,
            project_id: row.try_get("project_id")?,
            dirty: get_bool(row, "dirty")?,
            base_img: row.try_get("base_img")?,
            uuid: row.try_get("uuid")?,
        })
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct Hnic {
    pub id: i64,
    pub label: String,
    pub network_id: Option<i64>,
}

pub async fn get(c: &mut Conn, label: &str) -> sqlx::Result<Option<Headnode>> {
    sqlx::query_as(
        "SELECT id, label, project_id, dirty, base_img, uuid FROM headnode WHERE label = $1",
    )
    .bind(label)
    .fetch_optional(c)
    .await
}

pub async fn insert(
    c: &mut Conn,
    label: &str,
    project_id: i64,
    base_img: &str,
    uuid: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO headnode (label, project_id, dirty, base_img, uuid)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(label)
    .bind(project_id)
    .bind(true)
    .bind(base_img)
    .bind(uuid)
    .execute(c)
    .await
    .map(drop)
}

/// Deletes a headnode with its hnics.
pub async fn delete(c: &mut Conn, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM hnic WHERE owner_id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    sqlx::query("DELETE FROM headnode WHERE id = $1")
        .bind(id)
        .execute(c)
        .await
        .map(drop)
}

/// Freezes the headnode (after its first start).
pub async fn set_started(c: &mut Conn, id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE headnode SET dirty = $1 WHERE id = $2")
        .bind(false)
        .bind(id)
        .execute(c)
        .await
        .map(drop)
}

/// The project's headnode labels, sorted.
pub async fn labels_of_project(c: &mut Conn, project_id: i64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT label FROM headnode WHERE project_id = $1 ORDER BY label")
        .bind(project_id)
        .fetch_all(c)
        .await
}

pub async fn hnic(c: &mut Conn, headnode_id: i64, label: &str) -> sqlx::Result<Option<Hnic>> {
    sqlx::query_as("SELECT id, label, network_id FROM hnic WHERE owner_id = $1 AND label = $2")
        .bind(headnode_id)
        .bind(label)
        .fetch_optional(c)
        .await
}

/// The headnode's hnic labels in creation order.
pub async fn hnic_labels(c: &mut Conn, headnode_id: i64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT label FROM hnic WHERE owner_id = $1 ORDER BY id")
        .bind(headnode_id)
        .fetch_all(c)
        .await
}

pub async fn insert_hnic(c: &mut Conn, headnode_id: i64, label: &str) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO hnic (label, owner_id) VALUES ($1, $2)")
        .bind(label)
        .bind(headnode_id)
        .execute(c)
        .await
        .map(drop)
}

pub async fn delete_hnic(c: &mut Conn, hnic_id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM hnic WHERE id = $1")
        .bind(hnic_id)
        .execute(c)
        .await
        .map(drop)
}

pub async fn set_hnic_network(
    c: &mut Conn,
    hnic_id: i64,
    network_id: Option<i64>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE hnic SET network_id = $1 WHERE id = $2")
        .bind(network_id)
        .bind(hnic_id)
        .execute(c)
        .await
        .map(drop)
}

/// The hnics that have a network, in creation order, with the network's VLAN id: the NICs
/// the headnode's VM gets.
pub async fn vm_nics(c: &mut Conn, headnode_id: i64) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT h.label, n.network_id FROM hnic h JOIN network n ON n.id = h.network_id
         WHERE h.owner_id = $1 ORDER BY h.id",
    )
    .bind(headnode_id)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("label")?, r.try_get("network_id")?)))
        .collect()
}
