//! The networking worker: claims queued actions, applies them through switch drivers, and
//! records DONE or ERROR. It never dies because a switch misbehaved: a driver error ends that
//! action (transient ones after a few attempts with backoff), and a failure of the worker's
//! own bookkeeping is logged and retried on the next pass.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::FutureExt;
use hil_drivers::{PortChange, SwitchError, SwitchSpec};
use hil_types::{ActionStatus, ActionType};
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;

use crate::config::WorkerConfig;
use crate::error::ApiResult;
use crate::store::{self, actions::Claimed, Store};
use crate::switches::SwitchRegistry;

mod sessions;
use sessions::{SessionPool, SwitchTarget};

pub struct Worker {
    pub id: String,
    store: Store,
    switches: SwitchRegistry,
    config: WorkerConfig,
    signal: Arc<Notify>,
    sessions: SessionPool,
    /// Switches with a task running; their new actions wait for the next claim.
    busy: Mutex<HashSet<Option<i64>>>,
    /// Bounds how many switches are worked on at once.
    permits: Arc<Semaphore>,
    tasks: Mutex<JoinSet<()>>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The outcome of one action.
enum Outcome {
    Done,
    Failed(String),
    Retry(String),
}

/// Marks a switch idle again when its task ends (even by panic) and wakes the worker loop,
/// which may have left actions for that switch unclaimed.
struct BusyGuard {
    worker: Arc<Worker>,
    switch_id: Option<i64>,
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.worker.busy.lock().unwrap().remove(&self.switch_id);
        self.worker.signal.notify_one();
    }
}

impl Worker {
    pub fn new(
        store: Store,
        switches: SwitchRegistry,
        config: WorkerConfig,
        signal: Arc<Notify>,
    ) -> Worker {
        let id = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        let sessions = SessionPool::new(Duration::from_secs_f64(config.session_idle_secs));
        let permits = Arc::new(Semaphore::new(config.max_parallel_switches as usize));
        Worker {
            id,
            store,
            switches,
            config,
            signal,
            sessions,
            busy: Mutex::new(HashSet::new()),
            permits,
            tasks: Mutex::new(JoinSet::new()),
        }
    }

    /// Runs until `shutdown` turns true. Each pass hands what is due to per-switch tasks;
    /// between passes the worker sleeps until woken by a new action, a finished task, the
    /// poll interval, or a parked switch session due to be closed.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(worker = %self.id, "networking worker started");
        let heartbeat = self.spawn_heartbeat();
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
                let guard = BusyGuard {
                    worker: self.clone(),
                    switch_id,
                };
                let worker = self.clone();
                self.tasks.lock().unwrap().spawn(async move {
                    let _guard = guard;
                    let Ok(_permit) = worker.permits.clone().acquire_owned().await else {
                        return;
                    };
                    if let Err(e) = worker.process_switch(switch_id, actions).await {
                        // The claims expire and the actions are tried again.
                        tracing::error!(error = %e, ?switch_id, "recording switch work failed");
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
        Ok(claimed)
    }

    /// Keeps this worker's claims alive while slow switches work.
    fn spawn_heartbeat(&self) -> tokio::task::JoinHandle<()> {
        let store = self.store.clone();
        let id = self.id.clone();
        let every = Duration::from_millis((self.config.claim_lease_secs * 1000 / 3).max(100));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let beat = async {
                    let mut tx = store.begin_queue().await?;
                    store::actions::heartbeat(&mut tx, &id, now_ms()).await?;
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
                self.record(
                    a,
                    Outcome::Failed("The nic is not connected to a switch port.".into()),
                )
                .await?;
            }
            return Ok(());
        };
        let target = match self.switch_target(switch_id).await? {
            Ok(target) => target,
            Err(reason) => {
                for a in &actions {
                    self.record(a, Outcome::Failed(reason.clone())).await?;
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
        let results = futures::future::join_all(
            chunks
                .into_iter()
                .map(|chunk| self.process_lane(&target, chunk)),
        )
        .await;
        results.into_iter().collect()
    }

    /// Applies `actions` through one session to the switch, then saves once if anything
    /// changed, and parks the session for reuse.
    async fn process_lane(&self, target: &SwitchTarget, actions: Vec<Claimed>) -> ApiResult<()> {
        let mut lease = match self.sessions.take(target).await {
            Ok(lease) => lease,
            Err(e) => {
                for a in &actions {
                    self.record(a, self.classify(a, &target.spec, &e)).await?;
                }
                return Ok(());
            }
        };
        let mut changed = false;
        for a in &actions {
            let outcome = match change_for(a) {
                None => Outcome::Failed("Unknown networking action type.".into()),
                Some(change) => match self.sessions.apply(target, &mut lease, &change).await {
                    Ok(()) => {
                        changed = true;
                        Outcome::Done
                    }
                    Err(e) => self.classify(a, &target.spec, &e),
                },
            };
            self.record(a, outcome).await?;
        }
        if changed {
            if let Err(e) = lease.session.save().await {
                tracing::error!(switch = %target.spec.label, error = %target.spec.redact(&e.message),
                    "saving the switch configuration failed");
            }
        }
        self.sessions.park(target, lease).await;
        Ok(())
    }

    /// The driver and registration of a switch, or why its actions cannot run.
    async fn switch_target(&self, switch_id: i64) -> ApiResult<Result<SwitchTarget, String>> {
        let sw = {
            let mut tx = self.store.read().await?;
            store::switches::get_by_id(&mut tx, switch_id).await?
        };
        let Some(driver) = self.switches.get(&sw.switch_type) else {
            return Ok(Err(format!(
                "switch type {} is not enabled on this server",
                sw.switch_type
            )));
        };
        let config = serde_json::from_str(&sw.config).unwrap_or_default();
        Ok(Ok(SwitchTarget {
            id: switch_id,
            fingerprint: format!("{}\n{}", sw.switch_type, sw.config),
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
    }
}

/// The switch confirmed the change: make `network_attachment` say so.
async fn apply_attachment(c: &mut store::Conn, a: &Claimed) -> ApiResult<()> {
    match (a.action_type, a.new_network_id) {
        (Some(ActionType::ModifyPort), Some(network)) => {
            store::networks::attach(c, a.nic_id, network, &a.channel).await?
        }
        (Some(ActionType::ModifyPort), None) => {
            store::networks::detach_channel(c, a.nic_id, &a.channel).await?
        }
        (Some(ActionType::RevertPort), _) => store::networks::detach_all(c, a.nic_id).await?,
        (None, _) => {}
    }
    Ok(())
}
