//! `hil audit ...`: drift audits of switches, and the audit log of API calls.

use std::time::{Duration, Instant};

use hil_client::AuditLogQuery;
use hil_types::{AuditLogEntry, DriftRecord, PortVlans, SwitchAuditInfo};

use super::{print, Ctx, Result};
use crate::cli::AuditCmd;
use crate::error::CliError;
use crate::output;

pub async fn run(cmd: AuditCmd, ctx: &Ctx) -> Result {
    let hil = &ctx.client;
    match cmd {
        AuditCmd::Run {
            switch,
            wait,
            timeout,
        } => {
            let requested = hil.request_audit(&switch).await?;
            if !wait {
                print(ctx, &requested, |a| output::fields(audit_rows(a)));
                return Ok(());
            }
            let finished = wait_for_audit(ctx, &switch, &requested, timeout).await?;
            print(ctx, &finished, |a| output::fields(audit_rows(a)));
            if let Some(error) = finished.last_error {
                return Err(CliError::Failed(format!(
                    "the audit of {switch} failed: {error}"
                )));
            }
        }
        AuditCmd::Show { switch } => {
            let audit = hil.show_audit(&switch).await?;
            print(ctx, &audit, |a| output::fields(audit_rows(a)));
        }
        AuditCmd::List => {
            let audits = hil.list_audits().await?;
            print(ctx, &audits, |audits| {
                output::columns(
                    &[
                        "Switch",
                        "State",
                        "Last finished",
                        "Result",
                        "Drifted",
                        "Incidents",
                    ],
                    audits.iter().map(audit_line).collect(),
                )
            });
        }
        AuditCmd::Log {
            by,
            object,
            since,
            until,
            limit,
        } => {
            let query = AuditLogQuery {
                user: by,
                object,
                since,
                until,
                limit: Some(limit),
            };
            let entries = hil.audit_log(&query).await?;
            print(ctx, &entries, |entries| {
                output::columns(
                    &["Time", "User", "Client", "Call", "Arguments", "Outcome"],
                    entries.iter().map(log_line).collect(),
                )
            });
        }
        AuditCmd::Drift { switch, all } => {
            let drift = hil.list_drift(switch.as_deref(), all).await?;
            print(ctx, &drift, |drift| {
                output::columns(
                    &[
                        "Switch",
                        "Port",
                        "Node",
                        "Expected",
                        "Actual",
                        "Foreign",
                        "First seen",
                        "Last seen",
                        "Repaired",
                    ],
                    drift.iter().map(drift_line).collect(),
                )
            });
        }
    }
    Ok(())
}

/// Polls until an audit that started after the request has finished.
async fn wait_for_audit(
    ctx: &Ctx,
    switch: &str,
    requested: &SwitchAuditInfo,
    timeout: u64,
) -> Result<SwitchAuditInfo> {
    let started = Instant::now();
    loop {
        let audit = ctx.client.show_audit(switch).await?;
        if audit.counters.audits > requested.counters.audits && audit.state == "IDLE" {
            return Ok(audit);
        }
        if started.elapsed() > Duration::from_secs(timeout) {
            return Err(CliError::Failed(format!(
                "the audit of {switch} did not finish within {timeout} s (it is {})",
                audit.state
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn audit_rows(a: &SwitchAuditInfo) -> Vec<(&str, String)> {
    let mut rows = vec![
        ("Switch", a.switch.clone()),
        ("State", a.state.clone()),
        ("Requested", output::or_none(a.requested_at.as_deref())),
        ("Last started", output::or_none(a.last_started.as_deref())),
        ("Last finished", output::or_none(a.last_finished.as_deref())),
        ("Last result", output::or_none(a.last_result.as_deref())),
        ("Ports checked", a.ports_checked.to_string()),
        ("Ports skipped", a.ports_skipped.to_string()),
        ("Ports drifted", a.ports_drifted.to_string()),
        ("Audits", a.counters.audits.to_string()),
        ("Failed audits", a.counters.audits_failed.to_string()),
        ("Drift found", a.counters.drift_found.to_string()),
        ("Drift repaired", a.counters.drift_repaired.to_string()),
        ("Incidents", a.counters.incidents.to_string()),
    ];
    if let Some(error) = &a.last_error {
        rows.insert(6, ("Last error", error.clone()));
    }
    rows
}

fn audit_line(a: &SwitchAuditInfo) -> Vec<String> {
    vec![
        a.switch.clone(),
        a.state.clone(),
        output::or_none(a.last_finished.as_deref()),
        output::or_none(a.last_result.as_deref()),
        a.ports_drifted.to_string(),
        a.counters.incidents.to_string(),
    ]
}

fn drift_line(d: &DriftRecord) -> Vec<String> {
    vec![
        d.switch.clone(),
        d.port.clone(),
        output::or_none(d.node.as_deref()),
        vlans(&d.expected),
        vlans(&d.actual),
        output::lines(&d.foreign_vlans),
        d.first_seen.clone(),
        d.last_seen.clone(),
        output::or_none(d.repaired_at.as_deref()),
    ]
}

/// `channel=vlan` lines; `idle` for a port that carries nothing.
fn vlans(v: &PortVlans) -> String {
    if v.is_empty() {
        return "idle".into();
    }
    let items: Vec<String> = v.iter().map(|(c, n)| format!("{c}={n}")).collect();
    output::lines(&items)
}

fn log_line(e: &AuditLogEntry) -> Vec<String> {
    let args = match &e.args {
        serde_json::Value::Object(m) if m.is_empty() => String::new(),
        other => other.to_string(),
    };
    let outcome = if e.outcome == "ok" {
        e.status.to_string()
    } else {
        format!("{} {}", e.status, e.outcome)
    };
    vec![
        e.time.clone(),
        output::or_none(e.user.as_deref()),
        output::or_none(e.client.as_deref()),
        format!("{} {}", e.method, e.path),
        args,
        outcome,
    ]
}
