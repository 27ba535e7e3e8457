//! The audit log, as administrators query it: who changed what, from where, and how it ended.
//! Calls are recorded by the HTTP layer (`http::audit_log`) and written here, in groups
//! ([`AuditLogWriter`]); old entries are pruned after `audit_log.retention_days`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hil_types::AuditLogEntry;
use tokio::sync::{mpsc, oneshot};

use super::{require_admin, Ctx};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::store::{self, audit_log::Entry, audit_log::Filter, now_ms, Store};

/// Entries one query returns at most.
pub const MAX_LIMIT: i64 = 1000;
/// Entries a query returns when it does not say.
pub const DEFAULT_LIMIT: i64 = 100;

/// What `GET /audit_log` asks for, as the query string gives it.
#[derive(Debug, Default)]
pub struct Query {
    pub user: Option<String>,
    /// `type/label`, e.g. `node/n1`, `network/net-a`, `project/physics`.
    pub object: Option<String>,
    /// RFC 3339 times, or durations before now (`2h`, `7d`).
    pub since: Option<String>,
    pub until: Option<String>,
    pub limit: Option<String>,
}

/// The newest matching entries, newest first.
pub async fn search(ctx: &Ctx, caller: &Caller, q: &Query) -> ApiResult<Vec<AuditLogEntry>> {
    require_admin(caller)?;
    let filter = Filter {
        principal: q.user.clone(),
        object: q.object.as_deref().map(object).transpose()?,
        since_ms: q
            .since
            .as_deref()
            .map(|t| time_ms("since", t))
            .transpose()?,
        until_ms: q
            .until
            .as_deref()
            .map(|t| time_ms("until", t))
            .transpose()?,
        limit: q
            .limit
            .as_deref()
            .map(limit)
            .transpose()?
            .unwrap_or(DEFAULT_LIMIT),
    };
    let mut c = ctx.store.single_read().await?;
    let rows = store::audit_log::search(&mut c, &filter).await?;
    Ok(rows.into_iter().map(entry).collect())
}

/// Deletes the entries older than the retention; returns how many went.
pub async fn prune(ctx: &Ctx) -> ApiResult<u64> {
    let days = ctx.config.audit_log.retention_days;
    if days == 0 {
        return Ok(0);
    }
    let before = now_ms() - i64::from(days) * 86_400_000;
    let mut tx = ctx.store.begin().await?;
    let gone = store::audit_log::prune(&mut tx, before).await?;
    tx.commit().await?;
    Ok(gone)
}

fn object(text: &str) -> ApiResult<(String, String)> {
    match text.split_once('/') {
        Some((kind, label)) if !kind.is_empty() && !label.is_empty() => {
            Ok((kind.to_string(), label.to_string()))
        }
        _ => Err(ApiError::Validation(format!(
            "object {text:?}: give it as type/name, e.g. node/n1 or network/net-a"
        ))),
    }
}

/// An RFC 3339 time, or a duration before now (`90m`, `2h`, `7d`).
fn time_ms(name: &str, text: &str) -> ApiResult<i64> {
    let at = humantime::parse_rfc3339_weak(text)
        .or_else(|_| humantime::parse_duration(text).map(|ago| SystemTime::now() - ago));
    let at = at.map_err(|_| {
        ApiError::Validation(format!(
            "{name} {text:?}: give an RFC 3339 time (2026-12-06T10:00:00Z) or a duration \
             before now (2h, 7d)"
        ))
    })?;
    Ok(at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64))
}

fn limit(text: &str) -> ApiResult<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .ok_or_else(|| ApiError::Validation(format!("limit must be 1 to {MAX_LIMIT}")))
}

fn entry(row: Entry) -> AuditLogEntry {
    let at = UNIX_EPOCH + Duration::from_millis(row.at_ms.max(0) as u64);
    AuditLogEntry {
        time: humantime::format_rfc3339_millis(at).to_string(),
        user: row.principal,
        client: row.client,
        method: row.method,
        path: row.path,
        call: row.route,
        args: serde_json::from_str(&row.args).unwrap_or(serde_json::Value::Null),
        status: u16::try_from(row.status).unwrap_or(0),
        outcome: row.outcome,
    }
}

/// Writes the audit log with group commit. Each call still waits until its entry is committed
/// (an answered call is a logged call), but the entries that arrive while one group is being
/// written go together in the next transaction. One write transaction per call doubled the
/// cost of every write on SQLite, whose writes are serialised.
pub struct AuditLogWriter {
    queue: mpsc::UnboundedSender<Pending>,
}

/// An entry, and who waits for its commit.
type Pending = (Entry, oneshot::Sender<Result<(), String>>);

/// Entries one transaction takes at most.
const MAX_GROUP: usize = 256;

impl AuditLogWriter {
    /// Starts the writer task; it ends when the writer is dropped.
    pub fn start(store: Store) -> AuditLogWriter {
        let (queue, pending) = mpsc::unbounded_channel();
        tokio::spawn(write_groups(store, pending));
        AuditLogWriter { queue }
    }

    /// Returns once `entry` is committed, or why it could not be.
    pub async fn record(&self, entry: Entry) -> Result<(), String> {
        let (done, committed) = oneshot::channel();
        self.queue
            .send((entry, done))
            .map_err(|_| "the audit log writer has stopped".to_string())?;
        committed
            .await
            .map_err(|_| "the audit log writer has stopped".to_string())?
    }
}

async fn write_groups(store: Store, mut pending: mpsc::UnboundedReceiver<Pending>) {
    while let Some(first) = pending.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match pending.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let entries: Vec<&Entry> = group.iter().map(|(entry, _)| entry).collect();
        let outcomes = match insert(&store, &entries).await {
            Ok(()) => vec![Ok(()); group.len()],
            // One bad entry must not lose the others: each is tried alone.
            Err(_) if group.len() > 1 => {
                let mut outcomes = Vec::with_capacity(group.len());
                for entry in &entries {
                    outcomes.push(insert(&store, &[entry]).await);
                }
                outcomes
            }
            Err(e) => vec![Err(e)],
        };
        for ((_, done), outcome) in group.into_iter().zip(outcomes) {
            let _ = done.send(outcome);
        }
    }
}

async fn insert(store: &Store, entries: &[&Entry]) -> Result<(), String> {
    let mut tx = store.begin().await.map_err(|e| e.to_string())?;
    for entry in entries {
        store::audit_log::insert(&mut tx, entry)
            .await
            .map_err(|e| e.to_string())?;
    }
    tx.commit().await.map_err(|e| e.to_string())
}
