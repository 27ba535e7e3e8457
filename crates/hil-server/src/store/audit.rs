//! Drift audits: which switch is due, the lease that keeps two workers from auditing one
//! switch at once, what each port should carry, and the drift records.
//!
//! Times are Unix milliseconds. A `switch_audit` row is created for a switch the first time the
//! auditor looks for work; `port_drift` keeps one row per episode of drift on a port.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use hil_types::PortVlans;
use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use super::{Backend, Conn};

/// Gives every switch an audit row (new switches are due at once). Workers may race to add
/// the same row; the loser adds nothing.
pub async fn ensure_rows(c: &mut Conn) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO switch_audit (switch_id)
         SELECT id FROM switch WHERE id NOT IN (SELECT switch_id FROM switch_audit)
         ON CONFLICT DO NOTHING",
    )
    .execute(c)
    .await?;
    Ok(())
}

/// Claims the switch most due for an audit: requested ones first (oldest request first), then
/// those whose last audit finished more than `interval_ms` ago (never audited first). An
/// `interval_ms` of 0 means only requested audits run. Returns the switch id.
pub async fn claim_due(
    c: &mut Conn,
    backend: Backend,
    worker: &str,
    now_ms: i64,
    lease_ms: i64,
    interval_ms: i64,
) -> sqlx::Result<Option<i64>> {
    let lock = match backend {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE switch_audit SET claimed_by = $1, claimed_until = $2, started_at = $3
         WHERE switch_id IN (
             SELECT switch_id FROM switch_audit
             WHERE (claimed_by IS NULL OR claimed_until < $3)
               AND (requested_at IS NOT NULL
                    OR ($4 > 0 AND COALESCE(finished_at, 0) <= $3 - $4))
             ORDER BY CASE WHEN requested_at IS NULL THEN 1 ELSE 0 END,
                      COALESCE(requested_at, 0), COALESCE(finished_at, 0), switch_id
             LIMIT 1 {lock})
         RETURNING switch_id"
    );
    sqlx::query_scalar(&sql)
        .bind(worker)
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .bind(interval_ms)
        .fetch_optional(c)
        .await
}

/// Extends this worker's lease on a switch it is auditing. False when the lease was lost.
pub async fn renew(
    c: &mut Conn,
    switch_id: i64,
    worker: &str,
    until_ms: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE switch_audit SET claimed_until = $1 WHERE switch_id = $2 AND claimed_by = $3",
    )
    .bind(until_ms)
    .bind(switch_id)
    .bind(worker)
    .execute(c)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Asks for an audit of `switch_id` as soon as a worker is free. An earlier request that has
/// not started yet keeps its place.
pub async fn request(c: &mut Conn, switch_id: i64, now_ms: i64) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO switch_audit (switch_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(switch_id)
        .execute(&mut *c)
        .await?;
    sqlx::query(
        "UPDATE switch_audit SET requested_at = $1
         WHERE switch_id = $2 AND (requested_at IS NULL OR requested_at <= COALESCE(started_at, 0))",
    )
    .bind(now_ms)
    .bind(switch_id)
    .execute(c)
    .await?;
    Ok(())
}

/// What one audit found, for the switch's audit row.
#[derive(Debug, Default, Clone)]
pub struct AuditOutcome {
    /// Why the audit could not finish (the switch could not be read).
    pub error: Option<String>,
    /// Ports the switch would not show, with its words: the audit finished without them.
    pub unreadable: Vec<String>,
    pub ports_checked: i64,
    pub ports_skipped: i64,
    pub ports_drifted: i64,
    /// Drift episodes that began in this audit, and how many of them break isolation.
    pub new_drift: i64,
    pub new_incidents: i64,
}

impl AuditOutcome {
    pub fn result(&self) -> &'static str {
        match (&self.error, self.unreadable.is_empty(), self.ports_drifted) {
            (Some(_), _, _) => "error",
            (None, false, _) => "incomplete",
            (None, true, 0) => "clean",
            (None, true, _) => "drift",
        }
    }

    /// What the audit row keeps as `error`: why it failed, or which ports it could not read.
    fn message(&self) -> Option<String> {
        match &self.error {
            Some(e) => Some(e.clone()),
            None if self.unreadable.is_empty() => None,
            None => Some(format!(
                "ports the switch would not show: {}",
                self.unreadable.join("; ")
            )),
        }
    }
}

/// Ends this worker's audit of a switch: records the outcome, adds to the totals, and clears
/// the request it served (a request made while it ran stays for the next audit).
pub async fn finish(
    c: &mut Conn,
    switch_id: i64,
    worker: &str,
    now_ms: i64,
    outcome: &AuditOutcome,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE switch_audit
         SET claimed_by = NULL, claimed_until = NULL, finished_at = $1, result = $2, error = $3,
             ports_checked = $4, ports_skipped = $5, ports_drifted = $6,
             audits_total = audits_total + 1,
             audits_failed = audits_failed + $7,
             drift_found = drift_found + $8,
             incidents = incidents + $9,
             requested_at = CASE WHEN requested_at <= started_at THEN NULL ELSE requested_at END
         WHERE switch_id = $10 AND claimed_by = $11",
    )
    .bind(now_ms)
    .bind(outcome.result())
    .bind(outcome.message())
    .bind(outcome.ports_checked)
    .bind(outcome.ports_skipped)
    .bind(outcome.ports_drifted)
    .bind(i64::from(outcome.error.is_some()))
    .bind(outcome.new_drift)
    .bind(outcome.new_incidents)
    .bind(switch_id)
    .bind(worker)
    .execute(c)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A switch's audit row.
pub struct AuditRow {
    pub switch: String,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<i64>,
    pub requested_at: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub result: Option<String>,
    pub error: Option<String>,
    pub ports_checked: i64,
    pub ports_skipped: i64,
    pub ports_drifted: i64,
    pub audits_total: i64,
    pub audits_failed: i64,
    pub drift_found: i64,
    pub drift_repaired: i64,
    pub incidents: i64,
}

impl FromRow<'_, AnyRow> for AuditRow {
    fn from_row(row: &AnyRow) -> sqlx::Result<Self> {
        Ok(AuditRow {
            switch: row.try_get("label")?,
            claimed_by: row.try_get("claimed_by")?,
            claimed_until: row.try_get("claimed_until")?,
            requested_at: row.try_get("requested_at")?,
            started_at: row.try_get("started_at")?,
            finished_at: row.try_get("finished_at")?,
            result: row.try_get("result")?,
            error: row.try_get("error")?,
            ports_checked: row.try_get("ports_checked")?,
            ports_skipped: row.try_get("ports_skipped")?,
            ports_drifted: row.try_get("ports_drifted")?,
            audits_total: row.try_get("audits_total")?,
            audits_failed: row.try_get("audits_failed")?,
            drift_found: row.try_get("drift_found")?,
            drift_repaired: row.try_get("drift_repaired")?,
            incidents: row.try_get("incidents")?,
        })
    }
}

const AUDIT_COLUMNS: &str = "s.label, a.claimed_by, a.claimed_until, a.requested_at, a.started_at,
    a.finished_at, a.result, a.error, COALESCE(a.ports_checked, 0) AS ports_checked,
    COALESCE(a.ports_skipped, 0) AS ports_skipped, COALESCE(a.ports_drifted, 0) AS ports_drifted,
    COALESCE(a.audits_total, 0) AS audits_total, COALESCE(a.audits_failed, 0) AS audits_failed,
    COALESCE(a.drift_found, 0) AS drift_found, COALESCE(a.drift_repaired, 0) AS drift_repaired,
    COALESCE(a.incidents, 0) AS incidents";

/// Every switch's audit state, by label (a switch never audited has an empty row).
pub async fn all(c: &mut Conn) -> sqlx::Result<Vec<AuditRow>> {
    sqlx::query_as(&format!(
        "SELECT {AUDIT_COLUMNS} FROM switch s LEFT JOIN switch_audit a ON a.switch_id = s.id
         ORDER BY s.label"
    ))
    .fetch_all(c)
    .await
}

pub async fn of_switch(c: &mut Conn, switch_id: i64) -> sqlx::Result<AuditRow> {
    sqlx::query_as(&format!(
        "SELECT {AUDIT_COLUMNS} FROM switch s LEFT JOIN switch_audit a ON a.switch_id = s.id
         WHERE s.id = $1"
    ))
    .bind(switch_id)
    .fetch_one(c)
    .await
}

/// What one registered port should carry, and what could change that under the audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortExpectation {
    pub port_id: i64,
    pub port: String,
    /// The project of the node cabled to the port (`None`: no node, or a free node).
    pub project_id: Option<i64>,
    /// channel → VLAN, from `network_attachment`.
    pub expected: PortVlans,
    /// Actions on the port (id, status). A port with a PENDING one is not judged, and a port
    /// whose actions changed while it was being read is judged next time.
    pub actions: Vec<(i64, String)>,
}

impl PortExpectation {
    pub fn has_pending_action(&self) -> bool {
        let pending = hil_types::ActionStatus::Pending.as_str();
        self.actions.iter().any(|(_, s)| s == pending)
    }
}

/// Runs `sql`, whose `$1` is a switch and whose `$2`, present only with `only`, is one port.
async fn rows_of_switch<T>(
    c: &mut Conn,
    sql: &str,
    switch_id: i64,
    only: Option<i64>,
) -> sqlx::Result<Vec<T>>
where
    T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
{
    let query = sqlx::query_as(sql).bind(switch_id);
    match only {
        Some(port_id) => query.bind(port_id).fetch_all(c).await,
        None => query.fetch_all(c).await,
    }
}

/// The expectation for every port of a switch (`only`: just this port), by port id.
pub async fn expectations(
    c: &mut Conn,
    switch_id: i64,
    only: Option<i64>,
) -> sqlx::Result<BTreeMap<i64, PortExpectation>> {
    let port_filter = if only.is_some() { "AND p.id = $2" } else { "" };
    let ports: Vec<(i64, String, Option<i64>)> = rows_of_switch(
        c,
        &format!(
            "SELECT p.id, p.label, d.project_id FROM port p
             LEFT JOIN nic n ON n.port_id = p.id LEFT JOIN node d ON d.id = n.owner_id
             WHERE p.owner_id = $1 {port_filter}"
        ),
        switch_id,
        only,
    )
    .await?;
    let mut ports: BTreeMap<i64, PortExpectation> = ports
        .into_iter()
        .map(|(port_id, port, project_id)| {
            let e = PortExpectation {
                port_id,
                port,
                project_id,
                expected: PortVlans::new(),
                actions: Vec::new(),
            };
            (port_id, e)
        })
        .collect();
    let attachments: Vec<(i64, String, String)> = rows_of_switch(
        c,
        &format!(
            "SELECT p.id, a.channel, w.network_id FROM network_attachment a
             JOIN nic n ON n.id = a.nic_id JOIN port p ON p.id = n.port_id
             JOIN network w ON w.id = a.network_id
             WHERE p.owner_id = $1 {port_filter}"
        ),
        switch_id,
        only,
    )
    .await?;
    for (port_id, channel, vlan) in attachments {
        if let Some(p) = ports.get_mut(&port_id) {
            p.expected.insert(channel, vlan);
        }
    }
    let actions: Vec<(i64, i64, String)> = rows_of_switch(
        c,
        &format!(
            "SELECT p.id, q.id, q.status FROM networking_action q
             LEFT JOIN nic n ON n.id = q.nic_id
             JOIN port p ON p.id = COALESCE(q.port_id, n.port_id)
             WHERE p.owner_id = $1 {port_filter} ORDER BY q.id"
        ),
        switch_id,
        only,
    )
    .await?;
    for (port_id, action, status) in actions {
        if let Some(p) = ports.get_mut(&port_id) {
            p.actions.push((action, status));
        }
    }
    Ok(ports)
}

/// Who may use each VLAN that a network holds: `None` for a public network (anyone), else
/// the projects with access.
pub async fn vlan_access(c: &mut Conn) -> sqlx::Result<HashMap<String, Option<BTreeSet<i64>>>> {
    let rows: Vec<(String, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT w.network_id, w.owner_id, np.project_id FROM network w
         LEFT JOIN network_projects np ON np.network_id = w.id",
    )
    .fetch_all(c)
    .await?;
    let mut access: HashMap<String, Option<BTreeSet<i64>>> = HashMap::new();
    for (vlan, owner, project) in rows {
        let public = owner.is_none() && project.is_none();
        let entry = access
            .entry(vlan)
            .or_insert_with(|| (!public).then(BTreeSet::new));
        if let (Some(set), Some(p)) = (entry.as_mut(), project) {
            set.insert(p);
        }
        if let (Some(set), Some(o)) = (entry.as_mut(), owner) {
            set.insert(o);
        }
    }
    Ok(access)
}

/// An open drift record (the port has not been found right since).
#[derive(Debug, Clone)]
pub struct OpenDrift {
    pub id: i64,
    pub port_id: i64,
    pub repair_action: Option<String>,
}

pub async fn open_drift(c: &mut Conn, switch_id: i64) -> sqlx::Result<HashMap<i64, OpenDrift>> {
    let rows: Vec<(i64, i64, Option<String>)> = sqlx::query_as(
        "SELECT d.id, d.port_id, d.repair_action FROM port_drift d JOIN port p ON p.id = d.port_id
         WHERE p.owner_id = $1 AND d.repaired_at IS NULL",
    )
    .bind(switch_id)
    .fetch_all(c)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, port_id, repair_action)| {
            (
                port_id,
                OpenDrift {
                    id,
                    port_id,
                    repair_action,
                },
            )
        })
        .collect())
}

/// A port as the audit saw it.
pub struct Seen<'a> {
    pub port_id: i64,
    pub expected: &'a PortVlans,
    pub actual: &'a PortVlans,
    pub foreign_vlans: &'a [String],
}

fn json_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serializes")
}

/// Starts a drift record. Returns its id.
pub async fn open(c: &mut Conn, seen: &Seen<'_>, now_ms: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO port_drift (port_id, expected, actual, foreign_vlans, first_seen, last_seen)
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind(seen.port_id)
    .bind(json_text(seen.expected))
    .bind(json_text(seen.actual))
    .bind(json_text(&seen.foreign_vlans))
    .bind(now_ms)
    .fetch_one(c)
    .await
}

/// Updates an open drift record with the latest reading.
pub async fn seen_again(c: &mut Conn, id: i64, seen: &Seen<'_>, now_ms: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE port_drift SET expected = $1, actual = $2, foreign_vlans = $3, last_seen = $4
         WHERE id = $5",
    )
    .bind(json_text(seen.expected))
    .bind(json_text(seen.actual))
    .bind(json_text(&seen.foreign_vlans))
    .bind(now_ms)
    .bind(id)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn set_repair_action(c: &mut Conn, id: i64, uuid: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE port_drift SET repair_action = $1 WHERE id = $2")
        .bind(uuid)
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

/// Closes the open drift records of a port. `resolution` says how the port came right.
/// Returns how many were closed.
pub async fn close(c: &mut Conn, port_id: i64, now_ms: i64, resolution: &str) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "UPDATE port_drift SET repaired_at = $1, resolution = $2
         WHERE port_id = $3 AND repaired_at IS NULL",
    )
    .bind(now_ms)
    .bind(resolution)
    .bind(port_id)
    .execute(c)
    .await?;
    Ok(done.rows_affected())
}

/// Counts a repair on the port's switch.
pub async fn count_repair(c: &mut Conn, port_id: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE switch_audit SET drift_repaired = drift_repaired + 1
         WHERE switch_id = (SELECT owner_id FROM port WHERE id = $1)",
    )
    .bind(port_id)
    .execute(c)
    .await?;
    Ok(())
}

/// A drift record as the API shows it.
pub struct DriftRow {
    pub switch: String,
    pub port: String,
    pub node: Option<String>,
    pub nic: Option<String>,
    pub expected: String,
    pub actual: String,
    pub foreign_vlans: String,
    pub first_seen: i64,
    pub last_seen: i64,
    pub repaired_at: Option<i64>,
    pub resolution: Option<String>,
    pub repair_status: Option<String>,
}

impl FromRow<'_, AnyRow> for DriftRow {
    fn from_row(row: &AnyRow) -> sqlx::Result<Self> {
        Ok(DriftRow {
            switch: row.try_get("switch")?,
            port: row.try_get("port")?,
            node: row.try_get("node")?,
            nic: row.try_get("nic")?,
            expected: row.try_get("expected")?,
            actual: row.try_get("actual")?,
            foreign_vlans: row.try_get("foreign_vlans")?,
            first_seen: row.try_get("first_seen")?,
            last_seen: row.try_get("last_seen")?,
            repaired_at: row.try_get("repaired_at")?,
            resolution: row.try_get("resolution")?,
            repair_status: row.try_get("repair_status")?,
        })
    }
}

/// Drift records, newest first: open ones only unless `include_repaired`, and only one
/// switch's when `switch_id` is given.
pub async fn list(
    c: &mut Conn,
    switch_id: Option<i64>,
    include_repaired: bool,
) -> sqlx::Result<Vec<DriftRow>> {
    let mut filters = Vec::new();
    if !include_repaired {
        filters.push("d.repaired_at IS NULL");
    }
    if switch_id.is_some() {
        filters.push("s.id = $1");
    }
    let filter = if filters.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", filters.join(" AND "))
    };
    let sql = format!(
        "SELECT s.label AS switch, p.label AS port, d2.label AS node, n.label AS nic,
                d.expected, d.actual, d.foreign_vlans, d.first_seen, d.last_seen, d.repaired_at,
                d.resolution, q.status AS repair_status
         FROM port_drift d JOIN port p ON p.id = d.port_id JOIN switch s ON s.id = p.owner_id
         LEFT JOIN nic n ON n.port_id = p.id LEFT JOIN node d2 ON d2.id = n.owner_id
         LEFT JOIN networking_action q ON q.uuid = d.repair_action
         {filter} ORDER BY d.id DESC"
    );
    let query = sqlx::query_as(&sql);
    match switch_id {
        Some(id) => query.bind(id).fetch_all(c).await,
        None => query.fetch_all(c).await,
    }
}
