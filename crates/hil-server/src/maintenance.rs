//! The maintenance-pool notification (hil-api.md §10). It runs after the release is committed
//! and never fails the API call: an unreachable service is only logged, as in HIL.

use std::time::Duration;

use crate::ops::Ctx;

pub fn notify(ctx: &Ctx, node: &str) {
    let Some(url) = ctx.config.maintenance.url.clone() else {
        return;
    };
    let client = ctx.http.clone();
    let body = serde_json::json!({ "node": node });
    let node = node.to_string();
    let shown_url = crate::config::redact_url_password(&url);
    tokio::spawn(async move {
        let result = client
            .post(&url)
            .json(&body)
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        // Operators alert on these warnings (HIL logged them at WARNING): say which URL and why.
        match result {
            Ok(resp) if resp.status().is_success() => {
                tracing::info!(%node, "maintenance service notified")
            }
            Ok(resp) => tracing::warn!(%node, url = %shown_url, status = %resp.status(),
                "maintenance service refused the node; it stays in the maintenance project"),
            Err(e) => {
                tracing::warn!(%node, url = %shown_url, error = %hil_drivers::http_error::error_chain(&e),
                "maintenance service unreachable; the node stays in the maintenance project")
            }
        }
    });
}
