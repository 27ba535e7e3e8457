//! Waiting for a queued networking action to finish.

use std::time::{Duration, Instant};

use hil_types::{ActionStatus, NetworkingAction};

use crate::{Client, Error};

/// Polling starts fast, since the mock and OVS finish in milliseconds, then doubles up to
/// `MAX_POLL_INTERVAL` so a slow SSH switch is not hammered.
const FIRST_POLL_INTERVAL: Duration = Duration::from_millis(20);
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(1);

impl Client {
    /// Polls `show_networking_action` until the action is `DONE` or `ERROR` and returns it.
    ///
    /// An `ERROR` outcome is returned as `Ok`: check `status` (and `error`, the reason). After
    /// `timeout` this gives up with [`Error::WaitTimeout`].
    pub async fn wait_networking_action(
        &self,
        status_id: &str,
        timeout: Duration,
    ) -> Result<NetworkingAction, Error> {
        let started = Instant::now();
        let mut interval = FIRST_POLL_INTERVAL;
        loop {
            let action = self.show_networking_action(status_id).await?;
            if action.status != ActionStatus::Pending {
                return Ok(action);
            }
            let waited = started.elapsed();
            if waited >= timeout {
                return Err(Error::WaitTimeout {
                    status_id: status_id.to_string(),
                    waited,
                    last: Box::new(action),
                });
            }
            tokio::time::sleep(interval.min(timeout - waited)).await;
            interval = (interval * 2).min(MAX_POLL_INTERVAL);
        }
    }
}
