//! The networking worker: claims queued actions, applies them through switch drivers, and
//! records DONE or ERROR. It never dies because a switch misbehaved: a driver error ends that
//! action (transient ones after a few attempts with backoff), and a failure of the worker's
//! own bookkeeping is logged and retried on the next pass.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::FutureExt;
use hil_drivers::{PortChange, SwitchError, SwitchErrorKind, SwitchSpec};
use hil_types::{ActionStatus, ActionType, PortVlans};
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;

use crate::config::{AuditConfig, WorkerConfig};
use crate::error::ApiResult;
use crate::metrics::Metrics;
use crate::store::{self, actions::Claimed, now_ms, Store};
use crate::switches::SwitchRegistry;

mod audit;
mod repair;
mod sessions;
use sessions::{Lease, SessionPool, SwitchTarget};

pub struct Worker {
    pub id: String,
    store: Store,
    switches: SwitchRegistry,
    config: WorkerConfig,
    audit: AuditConfig,
    signal: Arc<Notify>,
    sessions: SessionPool,
    /// Switches with a task running; their new actions wait for the next claim.
    busy: Mutex<HashSet<Option<i64>>>,
    /// Bounds how many switches are worked on at once.
    permits: Arc<Semaphore>,
    /// Claimed actions this worker is still working on: the only ones the heartbeat renews.
    in_flight: Arc<Mutex<HashSet<i64>>>,
    tasks: Mutex<JoinSet<()>>,
    metrics: Arc<Metrics>,
}

/// The outcome of one action.
#[derive(Clone)]
enum Outcome {
    Done,
    Failed(String),
    Retry(String),
}

impl Outcome {
    /// The `outcome` label of `hil_networking_actions_total`.
    fn metric_name(&self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Failed(_) => "error",
            Outcome::Retry(_) => "retry",
        }
    }
}

/// What the worker does at the switch for one action.
enum Plan {
    /// Apply a tenant's or an admin's change.
    Apply(PortChange),
    /// An earlier claim on the action expired, so the change may be on the switch already:
    /// read the port, and apply the change only if the port is not yet `after` it.
    Settle {
        change: PortChange,
        after: PortVlans,
    },
    /// A drift repair: bring the port to exactly these VLANs.
    Sync { port: String, expected: PortVlans },
}

/// Ends a switch task's hold (even when it panicked): the switch is idle again, the heartbeat
/// stops renewing the task's claims (what it did not record expires and is claimed anew), and
/// the worker loop wakes, as it may have left actions for that switch unclaimed.
struct TaskGuard {
    worker: Arc<Worker>,
    switch_id: Option<i64>,
    actions: Vec<i64>,
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.worker.busy.lock().unwrap().remove(&self.switch_id);
        let mut in_flight = self.worker.in_flight.lock().unwrap();
        for id in &self.actions {
            in_flight.remove(id);
        }
        drop(in_flight);
        self.worker.signal.notify_one();
    }
}

/// One session's worth of work on a switch: the session (opened on first use), whether it
/// changed anything (and so must save), and why it could not be opened, if it could not.
#[derive(Default)]
struct Lane {
    lease: Option<Lease>,
    /// When the lease was taken, for `hil_switch_session_seconds`.
    taken_at: Option<Instant>,
    changed: bool,
    open_failed: Option<SwitchError>,
}

impl Worker {
    pub fn new(
        store: Store,
        switches: SwitchRegistry,
        config: WorkerConfig,
        audit: AuditConfig,
        signal: Arc<Notify>,
        metrics: Arc<Metrics>,
    ) -> Worker {
        let id = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        let sessions = SessionPool::new(Duration::from_secs_f64(config.session_idle_secs));
        let permits = Arc::new(Semaphore::new(config.max_parallel_switches as usize));
        Worker {
            id,
            store,
            switches,
            config,
            audit,
            signal,
            sessions,
            busy: Mutex::new(HashSet::new()),
            permits,
            in_flight: Arc::new(Mutex::new(HashSet::new())),
            tasks: Mutex::new(JoinSet::new()),
            metrics,
        }
    }

    /// Runs until `shutdown` turns true. Each pass hands what is due to per-switch tasks;
    /// between passes the worker sleeps until woken by a new action, a finished task, the
    /// poll interval, or a parked switch session due to be closed.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(worker = %self.id, "networking worker started");
        let heartbeat = self.spawn_heartbeat();
        let auditor = tokio::spawn(self.clone().run_auditor(shutdown.clone()));
        let poll = Duration::from_secs_f64(self.config.poll_interval_secs);
        let mut consecutive_errors: u32 = 0;
        while !*shutdown.borrow() {
            let pass = std::panic::AssertUnwindSafe(self.dispatch())
                .catch_unwind()
                .await;
            let delay = match pass {
                Ok(Ok(_)) => {
                    consecutive_errors = 0;
                    poll
                }
                Ok(Err(e)) => {
                    consecutive_errors += 1;
                    tracing::error!(error = %e, consecutive_errors, "worker pass failed");
                    backoff(consecutive_errors).min(poll.max(Duration::from_secs(30)))
                }
                Err(_) => {
                    consecutive_errors += 1;
                    tracing::error!(consecutive_errors, "worker pass panicked");
                    backoff(consecutive_errors)
                }
            };
            let delay = match self.sessions.close_idle().await {
                Some(next_expiry) => delay.min(next_expiry),
                None => delay,
            };
            tokio::select! {
                _ = self.signal.notified() => {}
                _ = tokio::time::sleep(delay) => {}
                _ = shutdown.changed() => {}
            }
        }
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap());
        if tokio::time::timeout(Duration::from_secs(5), tasks.join_all())
            .await
            .is_err()
        {
            tracing::warn!("switch work still running at shutdown; its claims will expire");
        }
        if tokio::time::timeout(Duration::from_secs(5), auditor)
            .await
            .is_err()
        {
            tracing::warn!("an audit was still running at shutdown; its lease will expire");
        }
        heartbeat.abort();
        self.sessions.close_all().await;
        tracing::info!(worker = %self.id, "networking worker stopped");
    }

    /// Processes everything due, waiting for it to finish (used by tests and one-shot runs).
    pub async fn drain(self: &Arc<Self>) -> ApiResult<()> {
        loop {
            let started = self.dispatch().await?;
            let tasks = std::mem::take(&mut *self.tasks.lock().unwrap());
            let waited = !tasks.is_empty();
            tasks.join_all().await;
            if started == 0 && !waited {
                return Ok(());
            }
        }
    }

    /// Claims due actions of switches that are not being worked on and starts one task per
    /// switch. Returns how many tasks it started.
    async fn dispatch(self: &Arc<Self>) -> ApiResult<usize> {
        self.reap_tasks();
        let mut started = 0;
        loop {
            let busy: Vec<i64> = self
                .busy
                .lock()
                .unwrap()
                .iter()
                .flatten()
                .copied()
                .collect();
            let claimed = self.claim(&busy).await?;
            if claimed.is_empty() {
                return Ok(started);
            }
            let mut by_switch: BTreeMap<Option<i64>, Vec<Claimed>> = BTreeMap::new();
            for action in claimed {
                by_switch.entry(action.switch_id).or_default().push(action);
            }
            for (switch_id, actions) in by_switch {
                self.busy.lock().unwrap().insert(switch_id);
                let guard = TaskGuard {
                    worker: self.clone(),
                    switch_id,
                    actions: actions.iter().map(|a| a.id).collect(),
                };
                let worker = self.clone();
                self.tasks.lock().unwrap().spawn(async move {
                    let _guard = guard;
                    let Ok(_permit) = worker.permits.clone().acquire_owned().await else {
                        return;
                    };
                    if let Err(e) = worker.process_switch(switch_id, actions).await {
                        // The claims expire and the actions are tried again.
                        tracing::error!(error = %e, ?switch_id, "reading the switch failed");
                    }
                });
                started += 1;
            }
        }
    }

    /// Forgets finished tasks, logging the ones that panicked.
    fn reap_tasks(&self) {
        let mut tasks = self.tasks.lock().unwrap();
        while let Some(done) = tasks.try_join_next() {
            if let Err(e) = done {
                tracing::error!(error = %e, "a switch task panicked");
            }
        }
    }

    async fn claim(&self, busy_switches: &[i64]) -> ApiResult<Vec<Claimed>> {
        let lease_ms = (self.config.claim_lease_secs * 1000) as i64;
        let mut tx = self.store.begin_queue().await?;
        let claimed = store::actions::claim(
            &mut tx,
            self.store.backend(),
            &self.id,
            now_ms(),
            lease_ms,
            i64::from(self.config.batch_size),
            busy_switches,
        )
        .await?;
        tx.commit().await?;
        self.in_flight
            .lock()
            .unwrap()
            .extend(claimed.iter().map(|a| a.id));
        Ok(claimed)
    }

    /// Keeps the claims of actions still being worked on alive while slow switches work.
    fn spawn_heartbeat(&self) -> tokio::task::JoinHandle<()> {
        let store = self.store.clone();
        let id = self.id.clone();
        let in_flight = self.in_flight.clone();
        let every = Duration::from_millis((self.config.claim_lease_secs * 1000 / 3).max(100));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let ids: Vec<i64> = in_flight.lock().unwrap().iter().copied().collect();
                let beat = async {
                    let mut tx = store.begin_queue().await?;
                    store::actions::heartbeat(&mut tx, &id, now_ms(), &ids).await?;
                    tx.commit().await
                };
                if let Err(e) = beat.await {
                    tracing::warn!(error = %e, "worker heartbeat failed");
                }
            }
        })
    }

    async fn process_switch(&self, switch_id: Option<i64>, actions: Vec<Claimed>) -> ApiResult<()> {
        let Some(switch_id) = switch_id else {
            // HIL spun forever on such actions (§16 #29); they can never be applied.
            for a in &actions {
                let reason = "The nic is not connected to a switch port.";
                self.record_durably(a, "", Outcome::Failed(reason.into()))
                    .await;
            }
            return Ok(());
        };
        let target = match self.switch_target(switch_id).await? {
            Ok(target) => target,
            Err((switch, reason)) => {
                for a in &actions {
                    self.record_durably(a, &switch, Outcome::Failed(reason.clone()))
                        .await;
                }
                return Ok(());
            }
        };
        // Several sessions to one switch only when configured; each port appears at most once
        // per batch (one pending action per nic), so splitting keeps per-port order.
        let lanes = (self.config.sessions_per_switch as usize).clamp(1, actions.len().max(1));
        let mut chunks: Vec<Vec<Claimed>> = vec![Vec::new(); lanes];
        for (i, a) in actions.into_iter().enumerate() {
            chunks[i % lanes].push(a);
        }
        futures::future::join_all(
            chunks
                .into_iter()
                .map(|chunk| self.process_lane(&target, chunk)),
        )
        .await;
        Ok(())
    }

    /// Applies `actions` through one session to the switch, then saves once if anything
    /// changed, and parks the session for reuse.
    async fn process_lane(&self, target: &SwitchTarget, actions: Vec<Claimed>) {
        let mut lane = Lane::default();
        for a in &actions {
            let outcome = self.apply_one(target, &mut lane, a).await;
            self.record_durably(a, &target.spec.label, outcome).await;
        }
        let Some(mut lease) = lane.lease else { return };
        let taken_at = lane.taken_at.unwrap_or_else(Instant::now);
        if lane.changed {
            if let Err(e) = lease.session.save().await {
                tracing::error!(switch = %target.spec.label, error = %target.spec.redact(&e.message),
                    "saving the switch configuration failed");
            }
        }
        self.sessions.park(target, lease).await;
        self.metrics
            .switch_sessions
            .observe(&[&target.switch_type], taken_at.elapsed());
    }

    /// Applies one action, opening the lane's session first if needed, all within the action
    /// deadline. A session that overran it is dropped, never parked: it may be stuck mid-command.
    async fn apply_one(&self, target: &SwitchTarget, lane: &mut Lane, a: &Claimed) -> Outcome {
        if let Some(e) = &lane.open_failed {
            return self.classify(a, &target.spec, e);
        }
        let plan = match self.plan(target.id, a).await {
            Ok(plan) => plan,
            Err(outcome) => return outcome,
        };
        let limit = Duration::from_secs_f64(self.config.action_timeout_secs);
        let deadline = tokio::time::Instant::now() + limit;
        let timed_out = || {
            Outcome::Failed(format!(
                "timed out: the switch did not finish the change within {} s",
                self.config.action_timeout_secs
            ))
        };
        if lane.lease.is_none() {
            match tokio::time::timeout_at(deadline, self.sessions.take(target)).await {
                Ok(Ok(lease)) => {
                    lane.lease = Some(lease);
                    lane.taken_at = Some(Instant::now());
                }
                Ok(Err(e)) => {
                    let outcome = self.classify(a, &target.spec, &e);
                    lane.open_failed = Some(e);
                    return outcome;
                }
                Err(_) => {
                    tracing::warn!(switch = %target.spec.label, "logging in overran the action deadline");
                    return timed_out();
                }
            }
        }
        let lease = lane.lease.as_mut().expect("opened above");
        let executed = self.execute(target, lease, a, &plan);
        match tokio::time::timeout_at(deadline, executed).await {
            Ok(Ok(changed)) => {
                lane.changed |= changed;
                Outcome::Done
            }
            Ok(Err(e)) => self.classify(a, &target.spec, &e),
            Err(_) => {
                tracing::warn!(switch = %target.spec.label, action = %a.uuid,
                    "the switch overran the action deadline; dropping its session");
                lane.lease = None;
                timed_out()
            }
        }
    }

    /// What to do at the switch for `a`. Repairs and recovered actions need to know what the
    /// port should carry, which is read from the database here, before the switch is touched.
    async fn plan(&self, switch_id: i64, a: &Claimed) -> Result<Plan, Outcome> {
        let unknown = || Outcome::Failed("Unknown networking action type.".into());
        let needs_expectation = a.recovered || a.action_type == Some(ActionType::SyncPort);
        let expected = match (needs_expectation, a.port_id) {
            (true, Some(port_id)) => self
                .port_expectation(switch_id, port_id)
                .await
                .map_err(|e| Outcome::Retry(format!("reading the port's networks failed: {e}")))?,
            _ => PortVlans::new(),
        };
        if a.action_type == Some(ActionType::SyncPort) {
            let port = a.port.clone().ok_or_else(unknown)?;
            return Ok(Plan::Sync { port, expected });
        }
        let change = change_for(a).ok_or_else(unknown)?;
        if a.recovered {
            let after = repair::state_after(expected, &change);
            return Ok(Plan::Settle { change, after });
        }
        Ok(Plan::Apply(change))
    }

    async fn port_expectation(&self, switch_id: i64, port_id: i64) -> ApiResult<PortVlans> {
        let mut tx = self.store.read().await?;
        let mut ports = store::audit::expectations(&mut tx, switch_id, Some(port_id)).await?;
        Ok(ports
            .remove(&port_id)
            .map(|p| p.expected)
            .unwrap_or_default())
    }

    /// Carries out a plan. True when the switch was changed (and so should save).
    async fn execute(
        &self,
        target: &SwitchTarget,
        lease: &mut Lease,
        a: &Claimed,
        plan: &Plan,
    ) -> Result<bool, SwitchError> {
        match plan {
            Plan::Apply(change) => self
                .sessions
                .apply(target, lease, change)
                .await
                .map(|()| true),
            Plan::Settle { change, after } => {
                let now = lease.session.port_state(change.port()).await?;
                if &now == after {
                    tracing::info!(action = %a.uuid, port = %change.port(),
                        "an interrupted action was already applied; settled without changing the port");
                    return Ok(false);
                }
                self.sessions
                    .apply(target, lease, change)
                    .await
                    .map(|()| true)
            }
            Plan::Sync { port, expected } => {
                let actual = lease.session.port_state(port).await?;
                if &actual == expected {
                    return Ok(false);
                }
                // The smallest change first: it leaves what is right alone, so the tenant's
                // traffic on the port does not stop. If the port still differs (or the
                // difference cannot be expressed as changes), rebuild it from a clean port.
                let mut now = actual.clone();
                if let Some(changes) = repair::smallest_changes(port, &actual, expected) {
                    for change in changes {
                        self.sessions.apply(target, lease, &change).await?;
                    }
                    now = lease.session.port_state(port).await?;
                }
                if &now != expected {
                    for change in repair::rebuild(port, expected) {
                        self.sessions.apply(target, lease, &change).await?;
                    }
                    now = lease.session.port_state(port).await?;
                }
                if &now != expected {
                    return Err(SwitchError::new(
                        SwitchErrorKind::Rejected,
                        format!("after the repair the port carries {now:?}, not {expected:?}"),
                    ));
                }
                tracing::info!(switch = %target.spec.label, %port, was = ?actual, now = ?now,
                    "port repaired");
                Ok(true)
            }
        }
    }

    /// The driver and registration of a switch, or why its actions cannot run.
    async fn switch_target(
        &self,
        switch_id: i64,
    ) -> ApiResult<Result<SwitchTarget, (String, String)>> {
        let sw = {
            let mut tx = self.store.read().await?;
            store::switches::get_by_id(&mut tx, switch_id).await?
        };
        let Some(driver) = self.switches.get(&sw.switch_type) else {
            let reason = format!(
                "switch type {} is not enabled on this server",
                sw.switch_type
            );
            return Ok(Err((sw.label, reason)));
        };
        let config = serde_json::from_str(&sw.config).unwrap_or_default();
        Ok(Ok(SwitchTarget {
            id: switch_id,
            fingerprint: format!("{}\n{}", sw.switch_type, sw.config),
            switch_type: sw.switch_type.clone(),
            driver: driver.clone(),
            spec: SwitchSpec {
                label: sw.label,
                config,
            },
        }))
    }

    /// What a driver error means for an action. The message is the switch's own reason, with
    /// the switch's secrets blanked out in case a driver or device echoed one.
    fn classify(&self, a: &Claimed, spec: &SwitchSpec, e: &SwitchError) -> Outcome {
        let reason = spec.redact(&e.message);
        if e.is_transient() && (a.attempts + 1) < i64::from(self.config.max_attempts) {
            Outcome::Retry(reason)
        } else {
            Outcome::Failed(reason)
        }
    }

    /// Records an outcome, retrying while the database is unavailable, for as long as the
    /// claim lasts. If it still cannot, it lets go of the action: the heartbeat stops renewing
    /// it, the claim expires, and the action is claimed again and re-applied (the switch
    /// change is idempotent), so that the switch and the database end up agreeing.
    async fn record_durably(&self, a: &Claimed, switch: &str, outcome: Outcome) {
        self.metrics
            .networking_actions
            .inc(&[switch, outcome.metric_name()]);
        let lease = Duration::from_secs(self.config.claim_lease_secs);
        let started = tokio::time::Instant::now();
        let mut failures = 0;
        loop {
            match self.record(a, outcome.clone()).await {
                Ok(()) => break,
                Err(e) if started.elapsed() < lease => {
                    failures += 1;
                    tracing::warn!(action = %a.uuid, error = %e, failures,
                        "recording an action's outcome failed; retrying");
                    tokio::time::sleep(backoff(failures).min(lease / 4)).await;
                }
                Err(e) => {
                    tracing::error!(action = %a.uuid, error = %e,
                        "could not record an action's outcome; its claim will expire and it will be applied again");
                    break;
                }
            }
        }
        self.in_flight.lock().unwrap().remove(&a.id);
    }

    /// Writes the outcome, and on success the attachment change, in one transaction that
    /// only commits while this worker still holds the claim.
    async fn record(&self, a: &Claimed, outcome: Outcome) -> ApiResult<()> {
        let mut tx = self.store.begin_queue().await?;
        match outcome {
            Outcome::Done => {
                if !store::actions::finish(&mut tx, a.id, &self.id, ActionStatus::Done, None)
                    .await?
                {
                    tracing::warn!(action = %a.uuid, "claim lost before completion; not recorded");
                    return Ok(()); // dropping tx rolls back
                }
                apply_attachment(&mut tx, a).await?;
                if let (Some(ActionType::SyncPort), Some(port_id)) = (a.action_type, a.port_id) {
                    if store::audit::close(&mut tx, port_id, now_ms(), "repaired").await? > 0 {
                        store::audit::count_repair(&mut tx, port_id).await?;
                    }
                }
                tracing::info!(action = %a.uuid, "networking action done");
            }
            Outcome::Failed(reason) => {
                store::actions::finish(&mut tx, a.id, &self.id, ActionStatus::Error, Some(&reason))
                    .await?;
                tracing::warn!(action = %a.uuid, %reason, "networking action failed");
            }
            Outcome::Retry(reason) => {
                let delay = self.config.retry_backoff_secs * 2f64.powi(a.attempts as i32);
                let retry_at = now_ms() + (delay * 1000.0) as i64;
                store::actions::retry_later(&mut tx, a.id, &self.id, retry_at, &reason).await?;
                tracing::warn!(action = %a.uuid, %reason, "networking action will be retried");
            }
        }
        tx.commit().await
    }
}

fn backoff(consecutive_errors: u32) -> Duration {
    Duration::from_millis(100 * 2u64.saturating_pow(consecutive_errors.min(8)))
}

/// The driver-level change an action asks for.
fn change_for(a: &Claimed) -> Option<PortChange> {
    let port = a.port.clone()?;
    match a.action_type? {
        ActionType::ModifyPort => Some(PortChange::Modify {
            port,
            channel: a.channel.clone(),
            network_id: a.vlan.clone(),
            previous: a.previous_vlan.clone(),
        }),
        ActionType::RevertPort => Some(PortChange::Revert { port }),
        ActionType::SyncPort => None,
    }
}

/// The switch confirmed the change: make `network_attachment` say so.
async fn apply_attachment(c: &mut store::Conn, a: &Claimed) -> ApiResult<()> {
    let Some(nic_id) = a.nic_id else {
        return Ok(()); // a repair changes the switch, not the record
    };
    match (a.action_type, a.new_network_id) {
        (Some(ActionType::ModifyPort), Some(network)) => {
            store::networks::attach(c, nic_id, network, &a.channel).await?
        }
        (Some(ActionType::ModifyPort), None) => {
            store::networks::detach_channel(c, nic_id, &a.channel).await?
        }
        (Some(ActionType::RevertPort), _) => store::networks::detach_all(c, nic_id).await?,
        (Some(ActionType::SyncPort) | None, _) => {}
    }
    Ok(())
}
