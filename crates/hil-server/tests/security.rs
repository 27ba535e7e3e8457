//! Hardening found by hostile-tenant probing: every call authenticates, login floods cost
//! neither memory nor other users' latency, tenants learn nothing about BMCs from errors,
//! secrets are redacted without mangling messages, slow or malformed HTTP is answered and
//! bounded, and values come back exactly as they were given.

mod common;
#[path = "common/process.rs"]
mod process;

use std::time::{Duration, Instant};

use common::*;
use process::{free_port, spawn_server, wait_ready};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ALICE: Option<(&str, &str)> = Some(("alice", "alice-pw"));
const REDFISH: &str = "http://schema.massopencloud.org/haas/v0/obm/redfish";

#[tokio::test]
async fn headnode_images_need_credentials() {
    let s = TestServer::start().await;
    s.project("p").await;
    s.user("alice", "alice-pw", false, &["p"]).await;
    for path in [
        "/v0/headnode_images/",
        "/v0/headnode_images",
        "/headnode_images/",
    ] {
        s.call(None, "GET", path, None)
            .await
            .err(401, "AuthorizationError");
        s.call(Some(("alice", "wrong")), "GET", path, None)
            .await
            .err(401, "AuthorizationError");
        s.call(Some(("nobody", "x")), "GET", path, None)
            .await
            .err(401, "AuthorizationError");
        let r = s.call(ALICE, "GET", path, None).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert_eq!(r.json, json!([]));
    }
    s.shutdown().await;
}

/// A guessing client is held back per user name and per address with 429 and Retry-After,
/// without a password hash; the user it guessed at keeps working with the password it had.
#[tokio::test]
async fn failed_logins_are_throttled_per_user_and_per_address() {
    let s = TestServer::start_tweaked(|c| {
        c.auth.max_failed_logins_per_user = 3;
        c.auth.max_failed_logins_per_address = 5;
    })
    .await;
    s.project("p").await;
    s.user("alice", "alice-pw", false, &["p"]).await;
    s.user("bob", "bob-pw", false, &["p"]).await;
    assert_eq!(
        s.call(ALICE, "GET", "/v0/project/p/nodes", None)
            .await
            .status,
        200
    );

    for _ in 0..3 {
        s.call(Some(("alice", "guess")), "GET", "/v0/project/p/nodes", None)
            .await
            .err(401, "AuthorizationError");
    }
    let held = s
        .call(
            Some(("alice", "guess2")),
            "GET",
            "/v0/project/p/nodes",
            None,
        )
        .await;
    held.err(429, "TooManyRequestsError");
    assert!(held.json["msg"].as_str().unwrap().contains("try again in"));
    assert_eq!(
        s.call(ALICE, "GET", "/v0/project/p/nodes", None)
            .await
            .status,
        200,
        "a password verified before keeps working while alice's name is held back"
    );

    // Two more failures under other names bring this address to its limit of 5: now even
    // bob's correct, never-verified password waits.
    for name in ["x1", "x2"] {
        s.call(Some((name, "guess")), "GET", "/v0/project/p/nodes", None)
            .await
            .err(401, "AuthorizationError");
    }
    let url = format!("{}/v0/project/p/nodes", s.url);
    let r = reqwest::Client::new()
        .get(&url)
        .basic_auth("bob", Some("bob-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let retry_after: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    s.shutdown().await;
}

/// Refusing an unknown user name takes as long as refusing a wrong password (both cost one
/// password hash), so response times do not tell which user names exist.
#[tokio::test]
async fn unknown_users_take_as_long_to_refuse_as_wrong_passwords() {
    let s = TestServer::start().await;
    s.user("alice", "alice-pw", false, &[]).await;
    let median_refusal = |user: &'static str| {
        let s = &s;
        async move {
            let mut took = Vec::new();
            for i in 0..5 {
                let started = Instant::now();
                let password = format!("guess-{i}");
                s.call(Some((user, password.as_str())), "GET", "/v0/networks", None)
                    .await
                    .err(401, "AuthorizationError");
                took.push(started.elapsed());
            }
            took.sort();
            took[2]
        }
    };
    let wrong_password = median_refusal("alice").await;
    let unknown_user = median_refusal("mallory").await;
    assert!(
        unknown_user * 2 > wrong_password,
        "unknown user {unknown_user:?}, wrong password {wrong_password:?}"
    );
    s.shutdown().await;
}

/// Behind a trusted reverse proxy, clients are counted by their `X-Forwarded-For` address;
/// from anyone else the header is ignored, so a guesser cannot escape the count with it.
#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    let guess = |s: &TestServer, forwarded: &str| {
        reqwest::Client::new()
            .get(format!("{}/v0/networks", s.url))
            .basic_auth("nobody", Some("guess"))
            .header("X-Forwarded-For", forwarded.to_string())
            .send()
    };
    let s = TestServer::start_tweaked(|c| {
        c.auth.max_failed_logins_per_user = 0;
        c.auth.max_failed_logins_per_address = 2;
        c.auth.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    for _ in 0..2 {
        assert_eq!(guess(&s, "198.51.100.7").await.unwrap().status(), 401);
    }
    assert_eq!(guess(&s, "198.51.100.7").await.unwrap().status(), 429);
    assert_eq!(guess(&s, "198.51.100.8").await.unwrap().status(), 401);
    s.shutdown().await;

    let s = TestServer::start_tweaked(|c| {
        c.auth.max_failed_logins_per_user = 0;
        c.auth.max_failed_logins_per_address = 2;
    })
    .await;
    for forwarded in ["198.51.100.1", "198.51.100.2"] {
        assert_eq!(guess(&s, forwarded).await.unwrap().status(), 401);
    }
    assert_eq!(guess(&s, "198.51.100.3").await.unwrap().status(), 429);
    s.shutdown().await;
}

/// A BMC that cannot be reached: the tenant's error says so without naming the BMC's URL,
/// address or user; the administrator's says everything.
#[tokio::test]
async fn tenants_do_not_learn_bmc_addresses_from_errors() {
    let s = TestServer::start().await;
    let bmc = format!("https://127.0.0.1:{}", free_port());
    let obm = json!({"type": REDFISH, "host": bmc, "user": "bmc-operator", "password": "bmc-pw"});
    s.ok("PUT", "/v0/node/n1", Some(json!({ "obm": obm })))
        .await;
    s.project("p").await;
    s.user("alice", "alice-pw", false, &["p"]).await;
    s.reserve("p", "n1").await;
    s.ok("PUT", "/v0/node/n1/obm", Some(json!({"enabled": true})))
        .await;

    let tenant = s.call(ALICE, "GET", "/v0/node/n1/power_status", None).await;
    tenant.err(500, "OBMError");
    let msg = tenant.json["msg"].as_str().unwrap();
    assert!(msg.contains("could not be reached"), "{msg}");
    for secret in [
        "127.0.0.1",
        bmc.as_str(),
        "https://",
        "bmc-operator",
        "bmc-pw",
    ] {
        assert!(!msg.contains(secret), "{secret:?} in {msg}");
    }
    let tenant = s.call(ALICE, "POST", "/v0/node/n1/power_on", None).await;
    assert!(!tenant.text.contains("127.0.0.1"), "{}", tenant.text);

    let admin = s.admin("GET", "/v0/node/n1/power_status", None).await;
    admin.err(500, "OBMError");
    assert!(admin.text.contains(&bmc), "{}", admin.text);
    assert!(!admin.text.contains("bmc-pw"), "{}", admin.text);
    s.shutdown().await;
}

/// A one-letter switch password does not cut letters out of the switch's words.
#[tokio::test]
async fn redaction_keeps_switch_messages_whole() {
    let s = TestServer::start().await;
    let body = json!({"type": MOCK, "hostname": "sw.example", "username": "u", "password": "p"});
    s.ok("PUT", "/v0/switch/sw", Some(body)).await;
    s.cabled_node("n1", "sw", "gi1/0/3").await;
    s.project("p").await;
    s.reserve("p", "n1").await;
    s.network("net", "p", "p", "").await;
    s.mock_fail(
        "sw",
        Some("% port gi1/0/3 is administratively down; login p refused"),
    );
    let id = s.queue_connect("n1", "net").await;
    let action = s.wait_action(&id).await;
    assert_eq!(action["status"], "ERROR", "{action}");
    let error = action["error"].as_str().unwrap();
    assert!(
        error.contains("% port gi1/0/3 is administratively down; login ******** refused"),
        "{error}"
    );
    s.shutdown().await;
}

/// Sends raw bytes on a new connection and reads until the server closes it or `patience`
/// runs out; answers what came back and how long it took.
async fn raw_exchange(s: &TestServer, request: &[u8], patience: Duration) -> (String, Duration) {
    let address = s.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let started = Instant::now();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(patience, stream.read_to_end(&mut answer)).await;
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

async fn edge_server() -> TestServer {
    TestServer::start_tweaked(|c| {
        c.limits.header_timeout_secs = 1.0;
        c.limits.body_timeout_secs = 1.0;
        c.limits.max_connections = 4;
    })
    .await
}

#[tokio::test]
async fn slow_clients_are_cut_off() {
    let s = edge_server().await;
    // Headers that never end: the connection is closed after the header timeout.
    let (answer, took) = raw_exchange(
        &s,
        b"GET /v0/networks HTTP/1.1\r\nHost: hil\r\n",
        Duration::from_secs(10),
    )
    .await;
    assert!(
        took < Duration::from_secs(5),
        "held open {took:?}: {answer}"
    );
    assert!(!answer.contains("200 OK"), "{answer}");

    // A body that never arrives: 408 in HIL's format after the body timeout.
    let (answer, took) = raw_exchange(
        &s,
        b"PUT /v0/project/p HTTP/1.1\r\nHost: hil\r\nContent-Length: 10\r\n\r\n{",
        Duration::from_secs(10),
    )
    .await;
    assert!(
        took < Duration::from_secs(5),
        "held open {took:?}: {answer}"
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains(r#""type":"RequestTimeoutError""#),
        "{answer}"
    );
    assert_eq!(s.ok("GET", "/v0/projects", None).await, json!([]));

    // Connections beyond the limit wait for a slot; idle ones free theirs. (First the test
    // client's own keep-alive connection is left to time out.)
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let address = s.url.trim_start_matches("http://").to_string();
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(&address).await.unwrap());
    }
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let started = Instant::now();
    let r = fresh
        .get(format!("{}/v0/projects", s.url))
        .basic_auth(ADMIN.0, Some(ADMIN.1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "served while 4 of 4 slots were taken: {:?}",
        started.elapsed()
    );
    s.shutdown().await;
}

/// One address cannot take every connection slot: past its own limit, its new connections
/// are closed at once, and it gets slots again as its connections close.
#[tokio::test]
async fn one_address_cannot_take_every_connection() {
    let s = TestServer::start_tweaked(|c| {
        c.limits.max_connections_per_address = 2;
    })
    .await;
    let address = s.url.trim_start_matches("http://").to_string();
    let mut idle = Vec::new();
    for _ in 0..2 {
        idle.push(TcpStream::connect(&address).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (answer, took) = raw_exchange(
        &s,
        b"GET /v0/networks HTTP/1.1\r\nHost: hil\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(answer.is_empty(), "a third connection was served: {answer}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    drop(idle);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = reqwest::Client::new()
        .get(format!("{}/v0/networks", s.url))
        .basic_auth(ADMIN.0, Some(ADMIN.1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    s.shutdown().await;
}

#[tokio::test]
async fn malformed_and_unusual_requests_get_json_answers() {
    let s = edge_server().await;
    s.node("n1").await;
    let long = format!(
        "GET /v0/node/{} HTTP/1.1\r\nHost: hil\r\n\r\n",
        "x".repeat(70_000)
    );
    let (answer, _) = raw_exchange(&s, long.as_bytes(), Duration::from_secs(5)).await;
    assert!(
        answer.starts_with("HTTP/1.1 414"),
        "{}",
        &answer[..80.min(answer.len())]
    );
    let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["type"], "ValidationError");

    let (answer, _) = raw_exchange(&s, b"BR@KEN / HTTP/1.1\r\n\r\n", Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains(r#""type":"ValidationError""#), "{answer}");

    let http = reqwest::Client::new();
    let r = http
        .request(reqwest::Method::OPTIONS, format!("{}/v0/node/n1", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let allow = r.headers()["allow"].to_str().unwrap().to_string();
    for method in ["GET", "PUT", "DELETE", "OPTIONS"] {
        assert!(allow.contains(method), "{allow}");
    }
    assert!(!allow.contains("POST"), "{allow}");
    s.call(None, "OPTIONS", "/v0/no/such/route", None)
        .await
        .err(404, "NotFoundError");
    s.call(None, "PATCH", "/v0/node/n1", None)
        .await
        .err(405, "MethodNotAllowedError");
    s.shutdown().await;
}

#[tokio::test]
async fn values_come_back_exactly_and_empty_passwords_are_refused() {
    let s = TestServer::start().await;
    let raw = r#"{"obm": {"type": "http://schema.massopencloud.org/haas/v0/obm/mock",
                  "host": "h", "user": "u", "password": "p"},
                  "metadata": {"serial": 123456789012345678901234567890}}"#;
    let r = s.raw(Some(ADMIN), "PUT", "/v0/node/n1", raw.into()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    for (label, value) in [
        ("big", "123456789012345678901234567890"),
        ("tiny", "1e-400"),
        ("float", "0.1"),
        ("nested", r#"{"a":[18446744073709551616,-1.50]}"#),
    ] {
        let body = format!(r#"{{"value": {value}}}"#);
        let path = format!("/v0/node/n1/metadata/{label}");
        let r = s.raw(Some(ADMIN), "PUT", &path, body.into()).await;
        assert_eq!(r.status, 200, "{label}: {}", r.text);
        let shown = s.ok("GET", "/v0/node/n1", None).await;
        assert_eq!(shown["metadata"][label], value, "{shown}");
    }
    let shown = s.ok("GET", "/v0/node/n1", None).await;
    assert_eq!(
        shown["metadata"]["serial"],
        "123456789012345678901234567890"
    );

    s.admin(
        "PUT",
        "/v0/auth/basic/user/eve",
        Some(json!({"password": "", "is_admin": false})),
    )
    .await
    .err(400, "ValidationError");
    let users = s.ok("GET", "/v0/auth/basic/users", None).await;
    assert!(users.get("eve").is_none(), "{users}");
    s.call(Some(("eve", "")), "GET", "/v0/networks", None)
        .await
        .err(401, "AuthorizationError");
    s.shutdown().await;
}

/// An unreachable maintenance service is a WARN line that names it, in a log without colour
/// codes (operators grep and alert on it).
#[tokio::test]
async fn unreachable_maintenance_service_is_logged_as_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = fresh_database_url(dir.path()).await;
    let maintenance = format!("http://127.0.0.1:{}/clean", free_port());
    let env = [
        ("HIL_MAINTENANCE__PROJECT", "maintenance"),
        ("HIL_MAINTENANCE__URL", maintenance.as_str()),
    ];
    let server = spawn_server(dir.path(), &db_url, free_port(), &env);
    let http = reqwest::Client::new();
    wait_ready(&http, &server.url).await;
    let call = |method: reqwest::Method, path: &str, body: Value| {
        http.request(method, format!("{}/v0{path}", server.url))
            .basic_auth(ADMIN.0, Some(ADMIN.1))
            .body(body.to_string())
            .send()
    };
    let obm = json!({"type": MOCK_OBM, "host": "h", "user": "u", "password": "p"});
    for (method, path, body) in [
        (reqwest::Method::PUT, "/project/maintenance", json!({})),
        (reqwest::Method::PUT, "/project/p", json!({})),
        (reqwest::Method::PUT, "/node/n1", json!({ "obm": obm })),
        (
            reqwest::Method::POST,
            "/project/p/connect_node",
            json!({"node": "n1"}),
        ),
        (
            reqwest::Method::POST,
            "/project/p/detach_node",
            json!({"node": "n1"}),
        ),
    ] {
        let r = call(method, path, body).await.unwrap();
        assert_eq!(r.status(), 200, "{path}: {}", r.text().await.unwrap());
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    let log = loop {
        let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
        if log.contains("maintenance service") || Instant::now() > deadline {
            break log;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let line = log
        .lines()
        .find(|l| l.contains("maintenance service unreachable"))
        .unwrap_or_else(|| panic!("no warning in {log:?}"));
    assert!(line.contains(" WARN "), "{line:?}");
    assert!(line.contains(&maintenance), "{line:?}");
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a log file: {log:?}"
    );
    drop(server);
}
