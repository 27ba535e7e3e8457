//! `--wait`: poll a networking action to its end, with a spinner on a terminal.

use std::io::IsTerminal;
use std::time::Duration;

use hil_client::Client;
use hil_types::{ActionStatus, NetworkingAction};
use indicatif::{ProgressBar, ProgressStyle};

use crate::error::CliError;

/// Waits until the action is DONE or ERROR and returns it; gives up after `timeout_secs`.
pub async fn finished(
    client: &Client,
    status_id: &str,
    timeout_secs: u64,
) -> Result<NetworkingAction, CliError> {
    let spinner = spinner(status_id);
    let outcome = client
        .wait_networking_action(status_id, Duration::from_secs(timeout_secs))
        .await;
    spinner.finish_and_clear();
    Ok(outcome?)
}

/// The failure an ERROR outcome means, with the switch's reason.
pub fn failure(status_id: &str, action: &NetworkingAction) -> Option<CliError> {
    (action.status == ActionStatus::Error).then(|| {
        CliError::Failed(format!(
            "networking action {status_id} failed: {}",
            action
                .error
                .as_deref()
                .unwrap_or("the switch reported an error")
        ))
    })
}

/// Waits and turns an ERROR outcome into a failure.
pub async fn until_done(
    client: &Client,
    status_id: &str,
    timeout_secs: u64,
) -> Result<NetworkingAction, CliError> {
    let action = finished(client, status_id, timeout_secs).await?;
    match failure(status_id, &action) {
        Some(err) => Err(err),
        None => Ok(action),
    }
}

/// A spinner with elapsed time on stderr, or nothing at all when stderr is not a terminal.
fn spinner(status_id: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("the template is valid"),
    );
    bar.set_message(format!("waiting for networking action {status_id}"));
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}
