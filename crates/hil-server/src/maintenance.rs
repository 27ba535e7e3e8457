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
    tokio::spawn(async move {
        let result = client
            .post(&url)
            .json(&body)
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        match result {
            Ok(resp) if resp.status().is_success() => {
                tracing::info!(%node, "maintenance service notified")
            }
            Ok(resp) => {
                tracing::warn!(%node, status = %resp.status(), "maintenance service refused the node")
            }
            Err(e) => tracing::warn!(%node, error = %e, "maintenance service unreachable"),
        }
    });
}
