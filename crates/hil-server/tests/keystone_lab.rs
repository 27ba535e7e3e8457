//! The Keystone lab itself (`lab::keystone`): a real Keystone issues, validates, revokes and
//! expires tokens the way the `keystone` auth backend's tests rely on.

mod lab;

use std::time::Duration;

use lab::keystone::Keystone;
use reqwest::StatusCode;
use serde_json::Value;

fn role_names(validated: &Value) -> Vec<String> {
    validated["token"]["roles"]
        .as_array()
        .unwrap_or_else(|| panic!("no roles in {validated}"))
        .iter()
        .map(|r| r["name"].as_str().expect("role name").to_string())
        .collect()
}

#[tokio::test]
async fn lab_keystone_issues_validates_revokes_and_stops() {
    let Some(mut keystone) = Keystone::start().await else {
        return;
    };
    let p1 = keystone.project("lab-p1").await;
    let p2 = keystone.project("lab-p2").await;
    let alice = keystone.user("alice", "alice-pw", "member", &[&p1]).await;
    keystone.user("bob", "bob-pw", "member", &[&p2]).await;
    keystone.user("root", "root-pw", "admin", &[&p1, &p2]).await;

    let alice_token = keystone.token("alice", "alice-pw", "lab-p1").await;
    let bob_token = keystone.token("bob", "bob-pw", "lab-p2").await;
    let root_token = keystone.token("root", "root-pw", "lab-p2").await;
    assert_ne!(alice_token, bob_token);
    // No role on the project, or a wrong password: no token.
    let (status, none) = keystone.try_token("bob", "bob-pw", "lab-p1").await;
    assert_eq!((status, none), (StatusCode::UNAUTHORIZED, None));
    let (status, _) = keystone.try_token("alice", "wrong", "lab-p1").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The service user validates someone else's token: project, user and roles come back.
    let (status, body) = keystone.validate(&alice_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = &body["token"];
    assert_eq!(token["project"]["id"], p1.as_str(), "{body}");
    assert_eq!(token["project"]["name"], "lab-p1");
    assert_eq!(token["user"]["id"], alice.as_str());
    assert_eq!(token["user"]["name"], "alice");
    assert!(token["expires_at"].as_str().is_some(), "{body}");
    let roles = role_names(&body);
    assert!(roles.contains(&"member".to_string()), "{roles:?}");
    assert!(!roles.contains(&"admin".to_string()), "{roles:?}");

    let (status, body) = keystone.validate(&root_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token"]["project"]["id"], p2.as_str());
    assert!(role_names(&body).contains(&"admin".to_string()), "{body}");

    // Garbage is not a token.
    let (status, body) = keystone.validate("not-a-token").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // Revoking one token leaves the others valid.
    keystone.revoke(&alice_token).await;
    let (status, body) = keystone.validate(&alice_token).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], 404, "{body}");
    let (status, body) = keystone.validate(&bob_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The service credentials are stable, and a member may not validate others' tokens.
    assert_eq!(keystone.service_user().await, keystone.service_user().await);
    let url = keystone.url();
    let client = reqwest::Client::new();
    let check = |auth: String, subject: String| {
        client
            .get(format!("{url}/auth/tokens"))
            .header("X-Auth-Token", auth)
            .header("X-Subject-Token", subject)
            .send()
    };
    let response = check(bob_token.clone(), root_token.clone()).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    keystone.stop();
    // A new client: the old one may hold a kept-alive connection that now reads EOF.
    let error = reqwest::Client::new()
        .get(&url)
        .send()
        .await
        .expect_err("Keystone is stopped");
    assert!(error.is_connect(), "{error:?}");
}

#[tokio::test]
async fn lab_keystone_tokens_expire() {
    let Some(keystone) = Keystone::start_with_expiry(5).await else {
        return;
    };
    // Make the service user first: that takes a dozen requests, which must not eat into the
    // test token's short life.
    keystone.service_user().await;
    let project = keystone.project("lab-short").await;
    keystone
        .user("carol", "carol-pw", "member", &[&project])
        .await;
    let token = keystone.token("carol", "carol-pw", "lab-short").await;
    let (status, body) = keystone.validate(&token).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    tokio::time::sleep(Duration::from_secs(5)).await;
    // `validate` uses a fresh service token: only the subject has expired.
    let (status, body) = keystone.validate(&token).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["message"], "Failed to validate token");
}
