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
    /// The nic a tenant's action is for; `None` for a repair, which names its port.
    pub nic_id: Option<i64>,
    /// The port the action changes (the nic's port, or a repair's own).
    pub port_id: Option<i64>,
    pub channel: String,
    pub new_network_id: Option<i64>,
    /// The target network's allocator id (VLAN number), when connecting.
    pub vlan: Option<String>,
    /// The allocator id of the network attached on `channel` now, if any.
    pub previous_vlan: Option<String>,
    pub port: Option<String>,
    pub switch_id: Option<i64>,
    pub attempts: i64,
    /// An earlier claim expired: it may have been applied without being recorded.
    pub recovered: bool,
}

impl FromRow<'_, AnyRow> for Claimed {
    fn from_row(row: &AnyRow) -> sqlx::Result<Self> {
        let action_type: String = row.try_get("type")?;
        Ok(Claimed {
            id: row.try_get("id")?,
            uuid: row.try_get("uuid")?,
            action_type: ActionType::parse(&action_type),
            nic_id: row.try_get("nic_id")?,
            port_id: row.try_get("port_id")?,
            channel: row.try_get("channel")?,
            new_network_id: row.try_get("new_network_id")?,
            vlan: row.try_get("vlan")?,
            previous_vlan: row.try_get("previous_vlan")?,
            port: row.try_get("port")?,
            switch_id: row.try_get("switch_id")?,
            attempts: row.try_get("attempts")?,
            recovered: row.try_get::<i64, _>("recovered")? != 0,
        })
    }
}

/// Claims up to `limit` due PENDING actions that no live worker holds, oldest first, leaving
/// out actions on `skip_switches` (which this worker is busy with; they keep their order) and
/// actions whose port has an older action still pending (a repair and a tenant's change to
/// the same port run one after the other, in the order they were queued).
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
        let switches = id_list(skip_switches);
        format!(
            "AND (q.nic_id IS NULL OR q.nic_id NOT IN (SELECT n.id FROM nic n JOIN port p ON p.id = n.port_id
                                                       WHERE p.owner_id IN ({switches})))
             AND (q.port_id IS NULL OR q.port_id NOT IN (SELECT id FROM port WHERE owner_id IN ({switches})))"
        )
    };
    // Repairs are rare, so the check for an older action on the same port is cheap: it
    // looks up repairs by port, and the tenant's actions of the one nic cabled to a port.
    let sql = format!(
        "UPDATE networking_action
         SET claimed_by = $1, claimed_at = $2,
             recovered = CASE WHEN claimed_by IS NULL THEN 0 ELSE 1 END
         WHERE id IN (SELECT q.id FROM networking_action q
                      WHERE q.status = 'PENDING' AND q.retry_at <= $3
                        AND (q.claimed_by IS NULL OR q.claimed_at < $4) {skip}
                        AND (q.nic_id IS NULL OR NOT EXISTS (
                            SELECT 1 FROM networking_action r
                            WHERE r.port_id = (SELECT port_id FROM nic WHERE id = q.nic_id)
                              AND r.status = 'PENDING' AND r.id < q.id))
                        AND (q.port_id IS NULL OR NOT EXISTS (
                            SELECT 1 FROM networking_action r JOIN nic n ON n.id = r.nic_id
                            WHERE n.port_id = q.port_id AND r.status = 'PENDING' AND r.id < q.id))
                      ORDER BY q.id LIMIT $5 {lock})
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
            "SELECT q.id, q.uuid, q.type, q.nic_id, p.id AS port_id, q.channel, q.new_network_id,
                    w.network_id AS vlan, pw.network_id AS previous_vlan,
                    p.label AS port, p.owner_id AS switch_id, q.attempts, q.recovered
             FROM networking_action q LEFT JOIN nic n ON n.id = q.nic_id
             LEFT JOIN port p ON p.id = COALESCE(q.port_id, n.port_id)
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

/// Queues a repair of `port_id` unless one is already pending; a finished one is replaced.
/// Returns the pending repair's id either way.
pub async fn enqueue_sync(c: &mut Conn, port_id: i64, uuid: &str) -> sqlx::Result<String> {
    let existing: Option<(String, String)> =
        sqlx::query_as("SELECT uuid, status FROM networking_action WHERE port_id = $1")
            .bind(port_id)
            .fetch_optional(&mut *c)
            .await?;
    match existing {
        Some((pending, status)) if status == ActionStatus::Pending.as_str() => return Ok(pending),
        Some(_) => {
            sqlx::query("DELETE FROM networking_action WHERE port_id = $1")
                .bind(port_id)
                .execute(&mut *c)
                .await?;
        }
        None => {}
    }
    sqlx::query(
        "INSERT INTO networking_action (uuid, status, type, port_id, channel)
         VALUES ($1, 'PENDING', $2, $3, '')",
    )
    .bind(uuid)
    .bind(ActionType::SyncPort.as_str())
    .bind(port_id)
    .execute(c)
    .await?;
    Ok(uuid.to_string())
}

/// Switches with claimed, unfinished actions. When a worker starts, these are what a worker
/// that stopped may have been changing: they are audited first.
pub async fn switches_with_claimed_actions(c: &mut Conn) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT DISTINCT p.owner_id FROM networking_action q LEFT JOIN nic n ON n.id = q.nic_id
         JOIN port p ON p.id = COALESCE(q.port_id, n.port_id)
         WHERE q.status = 'PENDING' AND q.claimed_by IS NOT NULL",
    )
    .fetch_all(c)
    .await
}

/// PENDING actions per switch, every switch listed (0 when none), at most `limit` switches,
/// by name. For the `hil_networking_queue_depth` gauge.
pub async fn pending_per_switch(c: &mut Conn, limit: i64) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "SELECT s.label, COUNT(DISTINCT q.id) FROM switch s
         LEFT JOIN port p ON p.owner_id = s.id
         LEFT JOIN nic n ON n.port_id = p.id
         LEFT JOIN networking_action q
           ON q.status = 'PENDING' AND (q.port_id = p.id OR q.nic_id = n.id)
         GROUP BY s.label ORDER BY s.label LIMIT $1",
    )
    .bind(limit)
    .fetch_all(c)
    .await
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

/// One row of the queue as `list_networking_actions` shows it.
#[derive(sqlx::FromRow)]
pub struct QueueRow {
    pub uuid: String,
    pub status: String,
    #[sqlx(rename = "type")]
    pub action_type: String,
    pub node: Option<String>,
    pub nic: Option<String>,
    pub switch: Option<String>,
    pub port: Option<String>,
    pub channel: String,
    pub new_network: Option<String>,
    pub error: Option<String>,
    pub attempts: i64,
    pub claimed_by: Option<String>,
}

/// The newest `limit` actions in the queue (each nic and each repaired port keeps its latest
/// action), newest first; with `project`, only those on that project's nodes.
pub async fn list(c: &mut Conn, project: Option<i64>, limit: i64) -> sqlx::Result<Vec<QueueRow>> {
    sqlx::query_as(
        "SELECT q.uuid, q.status, q.type, d.label AS node, n.label AS nic, s.label AS switch,
                p.label AS port, q.channel, w.label AS new_network, q.error,
                CAST(q.attempts AS BIGINT) AS attempts, q.claimed_by
         FROM networking_action q
         LEFT JOIN nic n ON n.id = q.nic_id
         LEFT JOIN node d ON d.id = n.owner_id
         LEFT JOIN port p ON p.id = COALESCE(q.port_id, n.port_id)
         LEFT JOIN switch s ON s.id = p.owner_id
         LEFT JOIN network w ON w.id = q.new_network_id
         WHERE $1 IS NULL OR d.project_id = $1
         ORDER BY q.id DESC
         LIMIT $2",
    )
    .bind(project)
    .bind(limit)
    .fetch_all(c)
    .await
}
