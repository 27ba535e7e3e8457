mod common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn harness_starts_and_serves() {
    let s = TestServer::start().await;
    s.project("p").await;
    assert_eq!(s.ok("GET", "/v0/projects", None).await, json!(["p"]));
    s.shutdown().await;
}
