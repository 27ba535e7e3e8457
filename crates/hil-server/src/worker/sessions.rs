//! Switch sessions kept open between batches.
//!
//! Logging in is the slow part of talking to a CLI switch (HIL logged in again for every
//! batch: ~11 s per apply on Nexus). A session that finished a batch is parked here and
//! reused by the next batch for the same switch, until it has been idle for
//! `session_idle_secs`. A session whose switch registration changed is never reused.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hil_drivers::{
    PortChange, SwitchDriver, SwitchError, SwitchErrorKind, SwitchSession, SwitchSpec,
};

/// A switch as the worker needs it: its driver and registration.
pub struct SwitchTarget {
    pub id: i64,
    /// Type and registration; a change means the parked sessions are for another switch.
    pub fingerprint: String,
    /// The registration's type URI (the `switch_type` label of session metrics).
    pub switch_type: String,
    pub driver: Arc<dyn SwitchDriver>,
    pub spec: SwitchSpec,
}

/// A session lent to one lane of a batch.
pub struct Lease {
    pub session: Box<dyn SwitchSession>,
    /// Came from the pool (it may have gone stale while parked).
    reused: bool,
    /// A transport error happened: do not park it.
    broken: bool,
}

struct Parked {
    fingerprint: String,
    session: Box<dyn SwitchSession>,
    since: Instant,
}

pub struct SessionPool {
    parked: tokio::sync::Mutex<HashMap<i64, Vec<Parked>>>,
    idle_for: Duration,
}

impl SessionPool {
    pub fn new(idle_for: Duration) -> SessionPool {
        SessionPool {
            parked: tokio::sync::Mutex::new(HashMap::new()),
            idle_for,
        }
    }

    /// A parked session for this switch, or a new one.
    pub async fn take(&self, target: &SwitchTarget) -> Result<Lease, SwitchError> {
        let parked = {
            let mut all = self.parked.lock().await;
            let list = all.entry(target.id).or_default();
            let at = list
                .iter()
                .position(|p| p.fingerprint == target.fingerprint);
            at.map(|i| list.swap_remove(i))
        };
        if let Some(p) = parked {
            tracing::debug!(switch = %target.spec.label, "reusing switch session");
            return Ok(Lease {
                session: p.session,
                reused: true,
                broken: false,
            });
        }
        let session = target.driver.open(&target.spec).await?;
        tracing::debug!(switch = %target.spec.label, "opened switch session");
        Ok(Lease {
            session,
            reused: false,
            broken: false,
        })
    }

    /// Applies one change. A parked session that turns out to be dead (the switch closed it
    /// while idle) is replaced by a fresh one and the change is tried again, once.
    pub async fn apply(
        &self,
        target: &SwitchTarget,
        lease: &mut Lease,
        change: &PortChange,
    ) -> Result<(), SwitchError> {
        let result = lease.session.apply(change).await;
        match result {
            Err(e) if e.kind == SwitchErrorKind::Unreachable && lease.reused => {
                tracing::info!(switch = %target.spec.label, "parked session went stale; reconnecting");
                let fresh = target.driver.open(&target.spec).await.inspect_err(|_| {
                    lease.broken = true;
                })?;
                let stale = std::mem::replace(&mut lease.session, fresh);
                lease.reused = false;
                tokio::spawn(async move {
                    let _ = stale.close().await;
                });
                let retried = lease.session.apply(change).await;
                lease.broken = retried.as_ref().is_err_and(SwitchError::is_transient);
                retried
            }
            Err(e) => {
                lease.broken = e.is_transient();
                Err(e)
            }
            Ok(()) => Ok(()),
        }
    }

    /// Parks a session for the next batch, or closes it when it is broken or reuse is off.
    pub async fn park(&self, target: &SwitchTarget, lease: Lease) {
        if lease.broken || self.idle_for.is_zero() {
            close(&target.spec.label, lease.session).await;
            return;
        }
        self.parked
            .lock()
            .await
            .entry(target.id)
            .or_default()
            .push(Parked {
                fingerprint: target.fingerprint.clone(),
                session: lease.session,
                since: Instant::now(),
            });
    }

    /// Closes sessions idle for too long. Returns how long until the next one expires.
    pub async fn close_idle(&self) -> Option<Duration> {
        let now = Instant::now();
        let mut expired = Vec::new();
        let next = {
            let mut all = self.parked.lock().await;
            for list in all.values_mut() {
                let (old, keep): (Vec<Parked>, Vec<Parked>) = std::mem::take(list)
                    .into_iter()
                    .partition(|p| now.duration_since(p.since) >= self.idle_for);
                *list = keep;
                expired.extend(old);
            }
            all.retain(|_, list| !list.is_empty());
            all.values()
                .flatten()
                .map(|p| (p.since + self.idle_for).saturating_duration_since(now))
                .min()
        };
        for p in expired {
            close("idle", p.session).await;
        }
        next
    }

    /// Closes every parked session (at shutdown).
    pub async fn close_all(&self) {
        let all: Vec<Parked> = self
            .parked
            .lock()
            .await
            .drain()
            .flat_map(|(_, l)| l)
            .collect();
        for p in all {
            close("shutdown", p.session).await;
        }
    }
}

async fn close(why: &str, session: Box<dyn SwitchSession>) {
    if let Err(e) = session.close().await {
        tracing::debug!(why, error = %e, "closing a switch session failed");
    }
}
