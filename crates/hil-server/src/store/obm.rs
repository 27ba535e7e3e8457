//! How HIL reaches each node's BMC: obmd (HIL v0.4) or one of our OBM drivers, and whether
//! the node's OBM is enabled.

use sqlx::Row;

use super::{get_bool, Conn};

/// A node's OBM registration, secrets included: never hand it to a response or a log.
#[derive(Clone)]
pub enum ObmRegistration {
    Obmd { uri: String, admin_token: String },
    Driver { type_uri: String, config: String },
}

/// A node's OBM as stored.
#[derive(Clone)]
pub struct NodeObm {
    pub registration: ObmRegistration,
    /// For obmd nodes: the token minted while enabled.
    pub obmd_token: Option<String>,
    pub enabled: bool,
}

const COLUMNS: &str =
    "obmd_uri, obmd_admin_token, obmd_node_token, obm_type, obm_config, obm_enabled";

fn from_row(row: &sqlx::any::AnyRow) -> sqlx::Result<NodeObm> {
    let obm_type: Option<String> = row.try_get("obm_type")?;
    let obmd_token: Option<String> = row.try_get("obmd_node_token")?;
    let registration = match obm_type {
        Some(type_uri) => ObmRegistration::Driver {
            type_uri,
            config: row
                .try_get::<Option<String>, _>("obm_config")?
                .unwrap_or_default(),
        },
        None => ObmRegistration::Obmd {
            uri: row.try_get("obmd_uri")?,
            admin_token: row.try_get("obmd_admin_token")?,
        },
    };
    let enabled = match registration {
        ObmRegistration::Obmd { .. } => obmd_token.is_some(),
        ObmRegistration::Driver { .. } => get_bool(row, "obm_enabled")?,
    };
    Ok(NodeObm {
        registration,
        obmd_token,
        enabled,
    })
}

pub async fn get(c: &mut Conn, node_id: i64) -> sqlx::Result<NodeObm> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM node WHERE id = $1"))
        .bind(node_id)
        .fetch_one(c)
        .await?;
    from_row(&row)
}

/// Replaces a node's registration; the OBM ends up disabled.
pub async fn set_registration(
    c: &mut Conn,
    node_id: i64,
    registration: &ObmRegistration,
) -> sqlx::Result<()> {
    let (uri, admin_token, obm_type, config) = match registration {
        ObmRegistration::Obmd { uri, admin_token } => {
            (uri.as_str(), admin_token.as_str(), None, None)
        }
        ObmRegistration::Driver { type_uri, config } => {
            ("", "", Some(type_uri.as_str()), Some(config.as_str()))
        }
    };
    sqlx::query(
        "UPDATE node SET obmd_uri = $1, obmd_admin_token = $2, obmd_node_token = NULL,
                obm_type = $3, obm_config = $4, obm_enabled = $5
         WHERE id = $6",
    )
    .bind(uri)
    .bind(admin_token)
    .bind(obm_type)
    .bind(config)
    .bind(false)
    .bind(node_id)
    .execute(c)
    .await
    .map(drop)
}

/// Enables or disables a driver node's OBM.
pub async fn set_enabled(c: &mut Conn, node_id: i64, enabled: bool) -> sqlx::Result<()> {
    sqlx::query("UPDATE node SET obm_enabled = $1 WHERE id = $2")
        .bind(enabled)
        .bind(node_id)
        .execute(c)
        .await
        .map(drop)
}

/// Stores (or, with `None`, clears) an obmd node's token.
pub async fn set_obmd_token(c: &mut Conn, node_id: i64, token: Option<&str>) -> sqlx::Result<()> {
    sqlx::query("UPDATE node SET obmd_node_token = $1 WHERE id = $2")
        .bind(token)
        .bind(node_id)
        .execute(c)
        .await
        .map(drop)
}

/// Driver nodes whose OBM is enabled: (node id, label, type, config). The console service
/// resumes their sessions at start-up.
pub async fn enabled_driver_nodes(
    c: &mut Conn,
) -> sqlx::Result<Vec<(i64, String, String, String)>> {
    let rows = sqlx::query(
        "SELECT id, label, obm_type, obm_config, obm_enabled FROM node
         WHERE obm_type IS NOT NULL ORDER BY id",
    )
    .fetch_all(c)
    .await?;
    let mut out = Vec::new();
    for row in rows {
        if get_bool(&row, "obm_enabled")? {
            out.push((
                row.try_get("id")?,
                row.try_get("label")?,
                row.try_get("obm_type")?,
                row.try_get::<Option<String>, _>("obm_config")?
                    .unwrap_or_default(),
            ));
        }
    }
    Ok(out)
}
