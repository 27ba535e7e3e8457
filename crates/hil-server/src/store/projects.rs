//! Projects.

use sqlx::Row;

use super::Conn;

pub async fn id_by_label(c: &mut Conn, label: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM project WHERE label = $1")
        .bind(label)
        .fetch_optional(c)
        .await
}

pub async fn label_by_id(c: &mut Conn, id: i64) -> sqlx::Result<String> {
    sqlx::query_scalar("SELECT label FROM project WHERE id = $1")
        .bind(id)
        .fetch_one(c)
        .await
}

pub async fn list_labels(c: &mut Conn) -> sqlx::Result<Vec<String>> {
    super::sorted_labels(c, "project", "").await
}

pub async fn insert(c: &mut Conn, label: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar("INSERT INTO project (label) VALUES ($1) RETURNING id")
        .bind(label)
        .fetch_one(c)
        .await
}

/// Deletes the project and its user memberships.
pub async fn delete(c: &mut Conn, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM user_projects WHERE project_id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    sqlx::query("DELETE FROM project WHERE id = $1")
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

/// What still hangs on a project, in the order `project_delete` checks it.
pub struct Dependents {
    pub nodes: bool,
    pub owned_networks: bool,
    pub network_access: bool,
    pub headnodes: bool,
}

pub async fn dependents(c: &mut Conn, id: i64) -> sqlx::Result<Dependents> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM node WHERE project_id = $1) AS nodes,
                (SELECT COUNT(*) FROM network WHERE owner_id = $1) AS owned,
                (SELECT COUNT(*) FROM network_projects WHERE project_id = $1) AS access,
                (SELECT COUNT(*) FROM headnode WHERE project_id = $1) AS headnodes",
    )
    .bind(id)
    .fetch_one(c)
    .await?;
    let n = |col: &str| row.try_get::<i64, _>(col).map(|v| v > 0);
    Ok(Dependents {
        nodes: n("nodes")?,
        owned_networks: n("owned")?,
        network_access: n("access")?,
        headnodes: n("headnodes")?,
    })
}

/// Node labels of a project, in creation order (HIL's database order).
pub async fn node_labels(c: &mut Conn, id: i64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT label FROM node WHERE project_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(c)
        .await
}

/// Labels of the networks whose access list holds the project, sorted.
pub async fn network_labels(c: &mut Conn, id: i64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT n.label FROM network n JOIN network_projects a ON a.network_id = n.id
         WHERE a.project_id = $1 ORDER BY n.label",
    )
    .bind(id)
    .fetch_all(c)
    .await
}
