//! `GET /v0/whoami` (an extension, used by the dashboard): who the credentials belong to and
//! which projects they may act for.

mod common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn whoami_names_the_caller_and_its_projects() {
    let s = TestServer::start().await;
    for p in ["physics", "chem", "bio"] {
        s.project(p).await;
    }
    s.user("alice", "alice-pw", false, &["physics", "bio"])
        .await;
    s.user("bob", "bob-pw", false, &["chem"]).await;
    s.user("loner", "loner-pw", false, &[]).await;

    let r = s
        .call(Some(("alice", "alice-pw")), "GET", "/v0/whoami", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json,
        json!({"user": "alice", "is_admin": false, "projects": ["bio", "physics"]})
    );

    let r = s
        .call(Some(("bob", "bob-pw")), "GET", "/v0/whoami", None)
        .await;
    assert_eq!(
        r.json,
        json!({"user": "bob", "is_admin": false, "projects": ["chem"]})
    );

    let r = s
        .call(Some(("loner", "loner-pw")), "GET", "/v0/whoami", None)
        .await;
    assert_eq!(
        r.json,
        json!({"user": "loner", "is_admin": false, "projects": []})
    );

    // An administrator may act for every project.
    assert_eq!(
        s.ok("GET", "/v0/whoami", None).await,
        json!({"user": "admin", "is_admin": true, "projects": ["bio", "chem", "physics"]})
    );
    s.shutdown().await;
}

#[tokio::test]
async fn whoami_needs_valid_credentials() {
    let s = TestServer::start().await;
    s.project("physics").await;
    s.user("alice", "alice-pw", false, &["physics"]).await;
    s.call(None, "GET", "/v0/whoami", None)
        .await
        .err(401, "AuthorizationError");
    s.call(Some(("alice", "wrong")), "GET", "/v0/whoami", None)
        .await
        .err(401, "AuthorizationError");
    s.call(Some(("mallory", "x")), "GET", "/v0/whoami", None)
        .await
        .err(401, "AuthorizationError");
    // No arguments.
    s.call(
        Some(("alice", "alice-pw")),
        "GET",
        "/v0/whoami?project=chem",
        None,
    )
    .await
    .err(400, "ValidationError");
    s.shutdown().await;
}

/// Without required authentication an anonymous caller may use the API, but there is nobody
/// for `whoami` to describe.
#[tokio::test]
async fn whoami_refuses_an_anonymous_caller_even_when_authentication_is_optional() {
    let s = TestServer::start_tweaked(|c| c.auth.require_authentication = false).await;
    s.call(None, "GET", "/v0/whoami", None)
        .await
        .err(401, "AuthorizationError");
    s.shutdown().await;
}
