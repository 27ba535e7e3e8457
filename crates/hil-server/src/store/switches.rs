//! Switches and their ports.

use sqlx::FromRow;

use super::Conn;

#[derive(Debug, Clone, FromRow)]
pub struct Switch {
    pub id: i64,
    pub label: String,
    #[sqlx(rename = "type")]
    pub switch_type: String,
    /// Driver-specific members as JSON text (secrets included: never return it).
    pub config: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct Port {
    pub id: i64,
    pub label: String,
    pub owner_id: i64,
}

pub async fn get(c: &mut Conn, label: &str) -> sqlx::Result<Option<Switch>> {
    sqlx::query_as("SELECT id, label, type, config FROM switch WHERE label = $1")
        .bind(label)
        .fetch_optional(c)
        .await
}

pub async fn get_by_id(c: &mut Conn, id: i64) -> sqlx::Result<Switch> {
    sqlx::query_as("SELECT id, label, type, config FROM switch WHERE id = $1")
        .bind(id)
        .fetch_one(c)
        .await
}

pub async fn insert(
    c: &mut Conn,
    label: &str,
    switch_type: &str,
    config: &str,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO switch (label, type, config) VALUES ($1, $2, $3)")
        .bind(label)
        .bind(switch_type)
        .bind(config)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn delete(c: &mut Conn, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM switch WHERE id = $1")
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn list_labels(c: &mut Conn) -> sqlx::Result<Vec<String>> {
    super::sorted_labels(c, "switch", "").await
}

/// Port labels of a switch in creation order.
pub async fn port_labels(c: &mut Conn, switch_id: i64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT label FROM port WHERE owner_id = $1 ORDER BY id")
        .bind(switch_id)
        .fetch_all(c)
        .await
}

pub async fn port(c: &mut Conn, switch_id: i64, label: &str) -> sqlx::Result<Option<Port>> {
    sqlx::query_as("SELECT id, label, owner_id FROM port WHERE owner_id = $1 AND label = $2")
        .bind(switch_id)
        .bind(label)
        .fetch_optional(c)
        .await
}

pub async fn port_by_id(c: &mut Conn, id: i64) -> sqlx::Result<Port> {
    sqlx::query_as("SELECT id, label, owner_id FROM port WHERE id = $1")
        .bind(id)
        .fetch_one(c)
        .await
}

pub async fn insert_port(c: &mut Conn, switch_id: i64, label: &str) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO port (owner_id, label) VALUES ($1, $2)")
        .bind(switch_id)
        .bind(label)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn delete_port(c: &mut Conn, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM port WHERE id = $1")
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}
