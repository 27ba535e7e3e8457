//! The drift auditor: reads every registered port of a switch back through its driver, in one
//! session, and compares it with what `network_attachment` says the port carries.
//!
//! One switch is audited at a time per worker. A lease row in `switch_audit` keeps two workers
//! (on PostgreSQL) from auditing the same switch. The audit does not hold up the switch's
//! queue: a port whose actions or attachments changed while it was read is judged next time,
//! and ports with a PENDING action are not judged at all.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use hil_drivers::{SwitchError, SwitchSession};
use hil_types::PortVlans;
use tokio::sync::watch;

use super::sessions::SwitchTarget;
use super::Worker;
use crate::config::RepairMode;
use crate::error::ApiResult;
use crate::store::{self, audit::AuditOutcome, audit::PortExpectation, now_ms};

/// The channel key an OVS port that trunks every VLAN reports.
const ALL_VLANS: &str = "vlan/*";

/// One port read back from the switch.
struct Reading {
    port_id: i64,
    actual: PortVlans,
}

/// Every port of a switch that could be read, and the ones the switch would not show.
#[derive(Default)]
struct Readings {
    read: Vec<Reading>,
    unreadable: Vec<String>,
}

/// What the audit of one switch found, before it is written down.
struct Finding<'a> {
    expectation: &'a PortExpectation,
    actual: &'a PortVlans,
    foreign_vlans: Vec<String>,
}

impl Worker {
    /// Audits due switches until `shutdown`, polling for work between audits.
    pub(super) async fn run_auditor(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        self.request_audits_after_restart().await;
        let poll = Duration::from_secs_f64(self.config.poll_interval_secs.max(0.1));
        while !*shutdown.borrow() {
            let idle = match self.audit_next().await {
                Ok(audited) => !audited,
                Err(e) => {
                    tracing::warn!(error = %e, "looking for a switch to audit failed");
                    true
                }
            };
            if idle {
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }

    /// A worker that stopped may have changed ports without recording it: the switches with
    /// claimed, unfinished actions are audited before the others.
    async fn request_audits_after_restart(&self) {
        let requested = async {
            let mut tx = self.store.begin_queue().await?;
            let switches = store::actions::switches_with_claimed_actions(&mut tx).await?;
            for id in &switches {
                store::audit::request(&mut tx, *id, now_ms()).await?;
            }
            tx.commit().await?;
            ApiResult::Ok(switches)
        };
        match requested.await {
            Ok(switches) if !switches.is_empty() => {
                tracing::info!(switches = ?switches,
                    "switches with unfinished claimed actions will be audited first");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not look for unfinished actions"),
        }
    }

    /// Audits the switch most due, if any. True when it audited one.
    pub async fn audit_next(&self) -> ApiResult<bool> {
        let Some(switch_id) = self.claim_audit().await? else {
            return Ok(false);
        };
        let outcome = self.audit_switch(switch_id).await;
        let mut tx = self.store.begin_queue().await?;
        let kept = store::audit::finish(&mut tx, switch_id, &self.id, now_ms(), &outcome).await?;
        tx.commit().await?;
        if !kept {
            tracing::warn!(switch_id, "the audit's lease expired before it finished");
        }
        Ok(true)
    }

    async fn claim_audit(&self) -> ApiResult<Option<i64>> {
        let audit = &self.audit;
        let mut tx = self.store.begin_queue().await?;
        store::audit::ensure_rows(&mut tx).await?;
        let claimed = store::audit::claim_due(
            &mut tx,
            self.store.backend(),
            &self.id,
            now_ms(),
            audit.lease_secs as i64 * 1000,
            (audit.interval_secs * 1000.0) as i64,
        )
        .await?;
        tx.commit().await?;
        Ok(claimed)
    }

    /// Reads and judges every port of one switch. Failures end up in the outcome.
    async fn audit_switch(&self, switch_id: i64) -> AuditOutcome {
        let audited = async {
            let target = match self.switch_target(switch_id).await? {
                Ok(target) => target,
                Err((_, reason)) => return Ok(Err(reason)),
            };
            let before = self.expectations(switch_id).await?;
            let readings = match self.read_ports(&target, &before).await {
                Ok(readings) => readings,
                Err(e) => return Ok(Err(target.spec.redact(&e.message))),
            };
            Ok(Ok(self.judge(&target, before, readings).await?))
        };
        let outcome: ApiResult<Result<AuditOutcome, String>> = audited.await;
        let failure = match outcome {
            Ok(Ok(outcome)) => return outcome,
            Ok(Err(reason)) => reason,
            Err(e) => e.to_string(),
        };
        tracing::warn!(switch_id, reason = %failure, "audit failed");
        AuditOutcome {
            error: Some(failure),
            ..AuditOutcome::default()
        }
    }

    async fn expectations(&self, switch_id: i64) -> ApiResult<BTreeMap<i64, PortExpectation>> {
        let mut tx = self.store.read().await?;
        Ok(store::audit::expectations(&mut tx, switch_id, None).await?)
    }

    /// Reads back every port without a pending action, in one session, renewing the lease as
    /// it goes. A port the switch refuses to show is listed as unreadable, with its words.
    async fn read_ports(
        &self,
        target: &SwitchTarget,
        ports: &BTreeMap<i64, PortExpectation>,
    ) -> Result<Readings, SwitchError> {
        let limit = Duration::from_secs_f64(self.config.action_timeout_secs);
        let mut lease = timed(limit, self.sessions.take(target)).await?;
        let lease_for = Duration::from_secs(self.audit.lease_secs);
        let mut renewed = tokio::time::Instant::now();
        let mut readings = Readings::default();
        let mut by_label: Vec<&PortExpectation> = ports.values().collect();
        by_label.sort_by(|a, b| a.port.cmp(&b.port));
        for p in by_label.into_iter().filter(|p| !p.has_pending_action()) {
            let read = timed(limit, lease.session.port_state(&p.port)).await;
            match read {
                Ok(actual) => readings.read.push(Reading {
                    port_id: p.port_id,
                    actual,
                }),
                Err(e) if !e.is_transient() => {
                    let reason = target.spec.redact(&e.message);
                    tracing::warn!(switch = %target.spec.label, port = %p.port, %reason,
                        "the switch would not show a port");
                    readings.unreadable.push(format!("{}: {reason}", p.port));
                }
                Err(e) => {
                    close_session(lease.session).await;
                    return Err(e);
                }
            }
            if renewed.elapsed() > lease_for / 3 {
                self.renew_audit_lease(target.id).await;
                renewed = tokio::time::Instant::now();
            }
        }
        self.sessions.park(target, lease).await;
        Ok(readings)
    }

    async fn renew_audit_lease(&self, switch_id: i64) {
        let until = now_ms() + self.audit.lease_secs as i64 * 1000;
        let renewed = async {
            let mut tx = self.store.begin_queue().await?;
            let kept = store::audit::renew(&mut tx, switch_id, &self.id, until).await?;
            tx.commit().await?;
            ApiResult::Ok(kept)
        };
        match renewed.await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(switch_id, "lost the audit lease"),
            Err(e) => tracing::warn!(switch_id, error = %e, "renewing the audit lease failed"),
        }
    }

    /// Compares the readings with what the database says now, and writes down drift, repairs
    /// and resolutions in one transaction.
    async fn judge(
        &self,
        target: &SwitchTarget,
        before: BTreeMap<i64, PortExpectation>,
        readings: Readings,
    ) -> ApiResult<AuditOutcome> {
        let now = now_ms();
        let mut tx = self.store.begin_queue().await?;
        let after = store::audit::expectations(&mut tx, target.id, None).await?;
        let access = store::audit::vlan_access(&mut tx).await?;
        let open = store::audit::open_drift(&mut tx, target.id).await?;
        let mut outcome = AuditOutcome {
            ports_skipped: (before.len() - readings.read.len() - readings.unreadable.len()) as i64,
            unreadable: readings.unreadable,
            ..AuditOutcome::default()
        };
        for reading in &readings.read {
            let (Some(then), Some(now_expected)) =
                (before.get(&reading.port_id), after.get(&reading.port_id))
            else {
                outcome.ports_skipped += 1; // deleted meanwhile
                continue;
            };
            if then != now_expected {
                outcome.ports_skipped += 1; // changed while it was read
                continue;
            }
            outcome.ports_checked += 1;
            if reading.actual == then.expected {
                if store::audit::close(&mut tx, reading.port_id, now, "found correct").await? > 0 {
                    tracing::info!(switch = %target.spec.label, port = %then.port,
                        "a drifted port is right again");
                }
                continue;
            }
            outcome.ports_drifted += 1;
            let finding = Finding {
                expectation: then,
                actual: &reading.actual,
                foreign_vlans: foreign_vlans(&reading.actual, then.project_id, &access),
            };
            let is_new = !open.contains_key(&reading.port_id);
            self.record_drift(&mut tx, target, &finding, open.get(&reading.port_id), now)
                .await?;
            if is_new {
                outcome.new_drift += 1;
                outcome.new_incidents += i64::from(!finding.foreign_vlans.is_empty());
            }
        }
        tx.commit().await?;
        if outcome.ports_drifted > 0 {
            self.signal.notify_one(); // repairs may have been queued
        }
        tracing::info!(switch = %target.spec.label, checked = outcome.ports_checked,
            skipped = outcome.ports_skipped, drifted = outcome.ports_drifted, "audit finished");
        Ok(outcome)
    }

    /// Stores one drifted port, logs it, and queues its repair when the configuration says so.
    async fn record_drift(
        &self,
        tx: &mut store::Conn,
        target: &SwitchTarget,
        finding: &Finding<'_>,
        open: Option<&store::audit::OpenDrift>,
        now: i64,
    ) -> ApiResult<()> {
        let p = finding.expectation;
        let seen = store::audit::Seen {
            port_id: p.port_id,
            expected: &p.expected,
            actual: finding.actual,
            foreign_vlans: &finding.foreign_vlans,
        };
        let drift_id = match open {
            Some(o) => {
                store::audit::seen_again(tx, o.id, &seen, now).await?;
                o.id
            }
            None => store::audit::open(tx, &seen, now).await?,
        };
        let incident = !finding.foreign_vlans.is_empty();
        if incident {
            tracing::error!(switch = %target.spec.label, port = %p.port,
                foreign_vlans = ?finding.foreign_vlans, expected = ?p.expected,
                actual = ?finding.actual,
                "ISOLATION BREACH: a port carries VLANs of networks its project may not use");
        } else if open.is_none() && self.audit.repair != RepairMode::Off {
            tracing::warn!(switch = %target.spec.label, port = %p.port, expected = ?p.expected,
                actual = ?finding.actual, "a port differs from what HIL recorded");
        }
        let repair = match self.audit.repair {
            RepairMode::Auto => true,
            RepairMode::Report => incident && self.audit.quarantine,
            RepairMode::Off => false,
        };
        if repair {
            let uuid = uuid::Uuid::new_v4().to_string();
            let queued = store::actions::enqueue_sync(tx, p.port_id, &uuid).await?;
            store::audit::set_repair_action(tx, drift_id, &queued).await?;
            tracing::info!(switch = %target.spec.label, port = %p.port, action = %queued,
                "repair queued");
        }
        Ok(())
    }
}

/// Runs `f` with a deadline; overrunning it is a timeout error.
async fn timed<T>(
    limit: Duration,
    f: impl std::future::Future<Output = Result<T, SwitchError>>,
) -> Result<T, SwitchError> {
    tokio::time::timeout(limit, f).await.unwrap_or_else(|_| {
        Err(SwitchError::new(
            hil_drivers::SwitchErrorKind::Timeout,
            format!("the switch did not answer within {} s", limit.as_secs_f64()),
        ))
    })
}

async fn close_session(session: Box<dyn SwitchSession>) {
    if let Err(e) = session.close().await {
        tracing::debug!(error = %e, "closing an audit session failed");
    }
}

/// The VLANs on a port that belong to networks the port's project may not use. A port with
/// no node, or a free node, may use only public networks. A port that trunks every VLAN
/// carries every network.
fn foreign_vlans(
    actual: &PortVlans,
    project: Option<i64>,
    access: &HashMap<String, Option<BTreeSet<i64>>>,
) -> Vec<String> {
    let forbidden = |vlan: &String| match access.get(vlan) {
        Some(Some(projects)) => project.is_none_or(|p| !projects.contains(&p)),
        Some(None) | None => false, // public, or no network of HIL's
    };
    let mut vlans: BTreeSet<String> = BTreeSet::new();
    if actual.contains_key(ALL_VLANS) {
        vlans.extend(access.keys().filter(|v| forbidden(v)).cloned());
    }
    vlans.extend(
        actual
            .iter()
            .filter(|(channel, _)| channel.as_str() != ALL_VLANS)
            .map(|(_, vlan)| vlan)
            .filter(|v| forbidden(v))
            .cloned(),
    );
    let mut sorted: Vec<String> = vlans.into_iter().collect();
    sorted.sort_by_key(|v| v.parse::<u32>().unwrap_or(u32::MAX));
    sorted
}

#[cfg(test)]
mod tests {
    use super::super::repair::tests::vlans;
    use super::*;

    #[test]
    fn foreign_vlans_are_those_the_project_may_not_use() {
        let access: HashMap<String, Option<BTreeSet<i64>>> = [
            ("100".to_string(), Some(BTreeSet::from([1]))),
            ("200".to_string(), Some(BTreeSet::from([2]))),
            ("300".to_string(), None),
        ]
        .into();
        let port = vlans(&[
            ("vlan/native", "100"),
            ("vlan/200", "200"),
            ("vlan/300", "300"),
        ]);
        assert_eq!(foreign_vlans(&port, Some(1), &access), ["200"]);
        assert_eq!(foreign_vlans(&port, Some(2), &access), ["100"]);
        assert_eq!(foreign_vlans(&port, None, &access), ["100", "200"]);
        let unknown = vlans(&[("vlan/native", "999")]);
        assert!(foreign_vlans(&unknown, None, &access).is_empty());
        let everything = vlans(&[(ALL_VLANS, "*")]);
        assert_eq!(foreign_vlans(&everything, Some(1), &access), ["200"]);
    }
}
