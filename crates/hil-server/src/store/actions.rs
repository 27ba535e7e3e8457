//! The durable networking-action queue: written by API operations, claimed by workers.
//!
//! A claim is `(claimed_by, claimed_at)`. A worker refreshes `claimed_at` while it works
//! (heartbeat); an action whose claim is older than the lease belongs to a worker that died and
//! may be claimed again. Every completion is filtered by `claimed_by = me`, so a worker that lost
//! its claim cannot overwrite another's result, and no action is applied by two live workers.

use hil_types::{ActionStatus, ActionType};
use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use super::{Backend, Conn};

pub async fn status_of_nic(c: &mut Conn, nic_id: i64) -> sqlx::Result<Option<(i64, String)>> {
    sqlx::query_as("SELECT id, status FROM networking_action WHERE nic_id = $1")
        .bind(nic_id)
        .fetch_optional(c)
        .await
}

pub async fn delete(c: &mut Conn, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM networking_action WHERE id = $1")
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

pub struct NewAction<'a> {
    pub uuid: &'a str,
    pub action_type: ActionType,
    pub nic_id: i64,
    pub new_network_id: Option<i64>,
    pub channel: &'a str,
}

pub async fn enqueue(c: &mut Conn, a: &NewAction<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO networking_action (uuid, status, type, nic_id, new_network_id, channel)
         VALUES ($1, 'PENDING', $2, $3, $4, $5)",
    )
    .bind(a.uuid)
    .bind(a.action_type.as_str())
    .bind(a.nic_id)
    .bind(a.new_network_id)
    .bind(a.channel)
    .execute(c)
    .await?;
    Ok(())
}

/// An action as `show_networking_action` reports it.
pub struct ActionView {
    pub status: ActionStatus,
    pub action_type: ActionType,
    pub node: String,
    pub node_project_id: Option<i64>,
    pub nic: String,
    pub channel: String,
    pub new_network: Option<String>,
    pub error: Option<String>,
}

impl FromRow<'_, AnyRow> for ActionView {
    fn from_row(row: &AnyRow) -> sqlx::Result<Self> {
        let bad = |what: &str, v: String| sqlx::Error::Decode(format!("bad {what} {v:?}").into());
        let status: String = row.try_get("status")?;
        let action_type: String = row.try_get("type")?;
        Ok(ActionView {
            status: ActionStatus::parse(&status).ok_or_else(|| bad("status", status.clone()))?,
            action_type: ActionType::parse(&action_type)
                .ok_or_else(|| bad("type", action_type.clone()))?,
            node: row.try_get("node")?,
            node_project_id: row.try_get("node_project_id")?,
            nic: row.try_get("nic")?,
            channel: row.try_get("channel")?,
            new_network: row.try_get("new_network")?,
            error: row.try_get("error")?,
        })
    }
}

pub async fn view(c: &mut Conn, uuid: &str) -> sqlx::Result<Option<ActionView>> {
    sqlx::query_as(
        "SELECT q.status, q.type, d.label AS node, d.project_id AS node_project_id, n.label AS nic,
                q.channel, w.label AS new_network, q.error
         FROM networking_action q JOIN nic n ON n.id = q.nic_id JOIN node d ON d.id = n.owner_id
         LEFT JOIN network w ON w.id = q.new_network_id
         WHERE q.uuid = $1",
    )
    .bind(uuid)
    .fetch_optional(c)
    .await
}

/// A claimed action with everything a driver needs.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub uuid: String,
    pub action_type: Option<ActionType>,
    pub nic_id: i64,
    pub channel: String,
    pub new_network_id: Option<i64>,
    /// The target network's allocator id (VLAN number), when connecting.
    pub vlan: Option<String>,
    /// The allocator id of the network attached on `channel` now, if any.
    pub previous_vlan: Option<String>,
    pub port: Option<String>,
    pub switch_id: Option<i64>,
    pub attempts: i64,
}

impl FromRow<'_, AnyRow> for Claimed {
    fn from_row(row: &AnyRow) -> sqlx::Result<Self> {
        let action_type: String = row.try_get("type")?;
        Ok(Claimed {
            id: row.try_get("id")?,
            uuid: row.try_get("uuid")?,
            action_type: ActionType::parse(&action_type),
            nic_id: row.try_get("nic_id")?,
            channel: row.try_get("channel")?,
            new_network_id: row.try_get("new_network_id")?,
            vlan: row.try_get("vlan")?,
            previous_vlan: row.try_get("previous_vlan")?,
            port: row.try_get("port")?,
            switch_id: row.try_get("switch_id")?,
            attempts: row.try_get("attempts")?,
        })
    }
}

/// Claims up to `limit` due PENDING actions that no live worker holds, oldest first, leaving
/// out actions on `skip_switches` (which this worker is busy with; they keep their order).
pub async fn claim(
    c: &mut Conn,
    backend: Backend,
    worker: &str,
    now_ms: i64,
    lease_ms: i64,
    limit: i64,
    skip_switches: &[i64],
) -> sqlx::Result<Vec<Claimed>> {
    // PostgreSQL: SKIP LOCKED lets concurrent workers claim disjoint rows without waiting.
    let lock = match backend {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let skip = if skip_switches.is_empty() {
        String::new()
    } else {
        format!(
            "AND nic_id NOT IN (SELECT n.id FROM nic n JOIN port p ON p.id = n.port_id
                                WHERE p.owner_id IN ({}))",
            id_list(skip_switches)
        )
    };
    let sql = format!(
        "UPDATE networking_action SET claimed_by = $1, claimed_at = $2
         WHERE id IN (SELECT id FROM networking_action
                      WHERE status = 'PENDING' AND retry_at <= $3
                        AND (claimed_by IS NULL OR claimed_at < $4) {skip}
                      ORDER BY id LIMIT $5 {lock})
         RETURNING id"
    );
    let mut ids: Vec<i64> = sqlx::query_scalar(&sql)
        .bind(worker)
        .bind(now_ms)
        .bind(now_ms)
        .bind(now_ms - lease_ms)
        .bind(limit)
        .fetch_all(&mut *c)
        .await?;
    ids.sort_unstable();
    let mut claimed = Vec::with_capacity(ids.len());
    for id in ids {
        let row: Claimed = sqlx::query_as(
            "SELECT q.id, q.uuid, q.type, q.nic_id, q.channel, q.new_network_id,
                    w.network_id AS vlan, pw.network_id AS previous_vlan,
                    p.label AS port, p.owner_id AS switch_id, q.attempts
             FROM networking_action q JOIN nic n ON n.id = q.nic_id
             LEFT JOIN port p ON p.id = n.port_id
             LEFT JOIN network w ON w.id = q.new_network_id
             LEFT JOIN network_attachment a ON a.nic_id = q.nic_id AND a.channel = q.channel
             LEFT JOIN network pw ON pw.id = a.network_id
             WHERE q.id = $1",
        )
        .bind(id)
        .fetch_one(&mut *c)
        .await?;
        claimed.push(row);
    }
    Ok(claimed)
}

/// Ids for an `IN (...)` list. Integers only, so formatting them into the SQL is safe.
fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// Refreshes this worker's claim on `ids`, the actions it is still working on. Claims it
/// holds but no longer works on (a result it could not record) are left to expire, so that
/// another pass or worker picks them up again.
pub async fn heartbeat(c: &mut Conn, worker: &str, now_ms: i64, ids: &[i64]) -> sqlx::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE networking_action SET claimed_at = $1
         WHERE claimed_by = $2 AND status = 'PENDING' AND id IN ({})",
        id_list(ids)
    );
    sqlx::query(&sql)
        .bind(now_ms)
        .bind(worker)
        .execute(c)
        .await?;
    Ok(())
}

/// Records the outcome of an action this worker holds. False when the claim was lost (or the
/// action deleted with its nic); the caller must then roll back.
pub async fn finish(
    c: &mut Conn,
    id: i64,
    worker: &str,
    status: ActionStatus,
    error: Option<&str>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE networking_action SET status = $1, error = $2, claimed_by = NULL, claimed_at = NULL
         WHERE id = $3 AND claimed_by = $4 AND status = 'PENDING'",
    )
    .bind(status.as_str())
    .bind(error)
    .bind(id)
    .bind(worker)
    .execute(c)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Releases an action for a later attempt after a transient failure.
pub async fn retry_later(
    c: &mut Conn,
    id: i64,
    worker: &str,
    retry_at_ms: i64,
    error: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE networking_action
         SET attempts = attempts + 1, retry_at = $1, error = $2, claimed_by = NULL, claimed_at = NULL
         WHERE id = $3 AND claimed_by = $4 AND status = 'PENDING'",
    )
    .bind(retry_at_ms)
    .bind(error)
    .bind(id)
    .bind(worker)
    .execute(c)
    .await?;
    Ok(())
}
