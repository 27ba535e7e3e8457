//! Drift audits, as administrators see them: asking for an audit, its state per switch, and the
//! drift it found. The audits themselves run in the worker (`worker::audit`). Tenants see
//! none of it.

use std::time::{Duration, UNIX_EPOCH};

use hil_types::{ActionStatus, AuditCounters, DriftRecord, PortVlans, SwitchAuditInfo};

use super::{require_admin, switch, Ctx};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::store::{self, audit::AuditRow, audit::DriftRow, now_ms};

/// Asks for an audit of one switch as soon as a worker is free (`202`); the answer is the
/// switch's audit state, which `GET /switch/<switch>/audit` keeps reporting.
pub async fn request_audit(ctx: &Ctx, caller: &Caller, label: &str) -> ApiResult<SwitchAuditInfo> {
    require_admin(caller)?;
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let sw = switch(&mut tx, label).await?;
            store::audit::request(&mut tx, sw.id, now_ms()).await?;
            let row = store::audit::of_switch(&mut tx, sw.id).await?;
            tx.commit().await?;
            Ok(audit_info(row))
        })
        .await
}

pub async fn show_audit(ctx: &Ctx, caller: &Caller, label: &str) -> ApiResult<SwitchAuditInfo> {
    require_admin(caller)?;
    let mut tx = ctx.store.read().await?;
    let sw = switch(&mut tx, label).await?;
    Ok(audit_info(store::audit::of_switch(&mut tx, sw.id).await?))
}

pub async fn list_audits(ctx: &Ctx, caller: &Caller) -> ApiResult<Vec<SwitchAuditInfo>> {
    require_admin(caller)?;
    let mut tx = ctx.store.read().await?;
    let rows = store::audit::all(&mut tx).await?;
    Ok(rows.into_iter().map(audit_info).collect())
}

/// Drift records, newest first: open ones, or all (`include_repaired`); of every switch, or of
/// one.
pub async fn list_drift(
    ctx: &Ctx,
    caller: &Caller,
    switch_label: Option<&str>,
    include_repaired: bool,
) -> ApiResult<Vec<DriftRecord>> {
    require_admin(caller)?;
    let mut tx = ctx.store.read().await?;
    let switch_id = match switch_label {
        Some(label) => Some(switch(&mut tx, label).await?.id),
        None => None,
    };
    let rows = store::audit::list(&mut tx, switch_id, include_repaired).await?;
    rows.into_iter().map(drift_record).collect()
}

fn audit_info(row: AuditRow) -> SwitchAuditInfo {
    let running = row.claimed_by.is_some() && row.claimed_until.is_some_and(|t| t >= now_ms());
    let state = if running {
        "RUNNING"
    } else if row.requested_at.is_some() {
        "PENDING"
    } else {
        "IDLE"
    };
    SwitchAuditInfo {
        switch: row.switch,
        state: state.into(),
        requested_at: row.requested_at.map(rfc3339),
        last_started: row.started_at.map(rfc3339),
        last_finished: row.finished_at.map(rfc3339),
        last_result: row.result,
        last_error: row.error,
        ports_checked: row.ports_checked,
        ports_skipped: row.ports_skipped,
        ports_drifted: row.ports_drifted,
        counters: AuditCounters {
            audits: row.audits_total,
            audits_failed: row.audits_failed,
            drift_found: row.drift_found,
            drift_repaired: row.drift_repaired,
            incidents: row.incidents,
        },
    }
}

fn drift_record(row: DriftRow) -> ApiResult<DriftRecord> {
    let expected: PortVlans = stored_json(&row.expected)?;
    let actual: PortVlans = stored_json(&row.actual)?;
    let foreign_vlans: Vec<String> = stored_json(&row.foreign_vlans)?;
    Ok(DriftRecord {
        switch: row.switch,
        port: row.port,
        node: row.node,
        nic: row.nic,
        expected,
        actual,
        foreign_vlans,
        first_seen: rfc3339(row.first_seen),
        last_seen: rfc3339(row.last_seen),
        repaired_at: row.repaired_at.map(rfc3339),
        resolution: row.resolution,
        repair_status: row.repair_status.as_deref().and_then(ActionStatus::parse),
    })
}

fn stored_json<T: serde::de::DeserializeOwned>(text: &str) -> ApiResult<T> {
    serde_json::from_str(text)
        .map_err(|e| ApiError::Internal(format!("stored drift record is not JSON: {e}")))
}

/// Unix milliseconds as an RFC 3339 UTC time.
fn rfc3339(ms: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(at).to_string()
}
