//! The networking worker: claims queued actions, applies them through switch drivers, and
//! records DONE or ERROR. It never dies because a switch misbehaved: a driver error ends that
//! action (transient ones after a few attempts with backoff), and a failure of the worker's
//! own bookkeeping is logged and retried on the next pass.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::FutureExt;
use hil_drivers::{PortChange, SwitchError, SwitchSession, SwitchSpec};
use hil_types::{ActionStatus, ActionType};
use tokio::sync::{watch, Notify};

use crate::config::WorkerConfig;
use crate::error::ApiResult;
use crate::store::{self, actions::Claimed, Store};
use crate::switches::SwitchRegistry;

pub struct Worker {
    pub id: String,
    store: Store,
    switches: SwitchRegistry,
    config: WorkerConfig,
    signal: Arc<Notify>,
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

impl Worker {
    pub fn new(
        store: Store,
        switches: SwitchRegistry,
        config: WorkerConfig,
        signal: Arc<Notify>,
    ) -> Worker {
        let id = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        Worker {
            id,
            store,
            switches,
            config,
            signal,
        }
    }

    /// Runs until `shutdown` turns true. Each pass drains the queue; between passes the worker
    /// sleeps until woken by a new action or the poll interval.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(worker = %self.id, "networking worker started");
        let poll = Duration::from_secs_f64(self.config.poll_interval_secs);
        let mut consecutive_errors: u32 = 0;
        while !*shutdown.borrow() {
            let pass = std::panic::AssertUnwindSafe(self.drain())
                .catch_unwind()
                .await;
            let delay = match pass {
                Ok(Ok(())) => {
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
            tokio::select! {
                _ = self.signal.notified() => {}
                _ = tokio::time::sleep(delay) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!(worker = %self.id, "networking worker stopped");
    }

    /// Processes batches until nothing is due.
    pub async fn drain(&self) -> ApiResult<()> {
        loop {
            let claimed = self.claim().await?;
            if claimed.is_empty() {
                return Ok(());
            }
            self.process(claimed).await?;
        }
    }

    async fn claim(&self) -> ApiResult<Vec<Claimed>> {
        let lease_ms = (self.config.claim_lease_secs * 1000) as i64;
        let mut tx = self.store.begin_queue().await?;
        let claimed = store::actions::claim(
            &mut tx,
            self.store.backend(),
            &self.id,
            now_ms(),
            lease_ms,
            i64::from(self.config.batch_size),
        )
        .await?;
        tx.commit().await?;
        Ok(claimed)
    }

    /// Applies a batch: one driver session per switch, actions in queue order.
    async fn process(&self, claimed: Vec<Claimed>) -> ApiResult<()> {
        let mut by_switch: BTreeMap<Option<i64>, Vec<Claimed>> = BTreeMap::new();
        for action in claimed {
            by_switch.entry(action.switch_id).or_default().push(action);
        }
        let heartbeat = self.spawn_heartbeat();
        let result = async {
            for (switch_id, actions) in by_switch {
                self.process_switch(switch_id, actions).await?;
            }
            Ok(())
        }
        .await;
        heartbeat.abort();
        result
    }

    /// Keeps our claims alive while a slow switch works.
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
        let mut session = match self.open_session(switch_id).await? {
            Ok(session) => session,
            Err(e) => {
                for a in &actions {
                    self.record(a, self.classify(a, &e)).await?;
                }
                return Ok(());
            }
        };
        for a in &actions {
            let outcome = match change_for(a) {
                Some(change) => match session.apply(&change).await {
                    Ok(()) => Outcome::Done,
                    Err(e) => self.classify(a, &e),
                },
                None => Outcome::Failed("Unknown networking action type.".into()),
            };
            self.record(a, outcome).await?;
        }
        if let Err(e) = session.close().await {
            tracing::warn!(switch_id, error = %e, "closing switch session failed");
        }
        Ok(())
    }

    async fn open_session(
        &self,
        switch_id: i64,
    ) -> ApiResult<Result<Box<dyn SwitchSession>, SwitchError>> {
        let sw = {
            let mut tx = self.store.read().await?;
            store::switches::get_by_id(&mut tx, switch_id).await?
        };
        let Some(driver) = self.switches.get(&sw.switch_type) else {
            return Ok(Err(SwitchError::new(
                hil_drivers::SwitchErrorKind::Rejected,
                format!(
                    "switch type {} is not enabled on this server",
                    sw.switch_type
                ),
            )));
        };
        let config = serde_json::from_str(&sw.config).unwrap_or_default();
        let spec = SwitchSpec {
            label: sw.label,
            config,
        };
        Ok(driver.open(&spec).await)
    }

    fn classify(&self, a: &Claimed, e: &SwitchError) -> Outcome {
        if e.is_transient() && (a.attempts + 1) < i64::from(self.config.max_attempts) {
            Outcome::Retry(e.message.clone())
        } else {
            Outcome::Failed(e.message.clone())
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
