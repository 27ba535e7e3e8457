//! `/metrics`: scraped over HTTP and parsed, and the counts checked against the calls the test
//! made. On the API address it is administrator-only; `metrics.listen` serves it openly.

mod common;
use std::collections::BTreeMap;

use common::*;
use serde_json::json;

/// One sample of the text exposition format.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the text exposition format, checking every line as it goes: comments are `# HELP`
/// or `# TYPE`, and every sample is `name{label="value",...} number`.
fn parse(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix("# ") {
            assert!(
                comment.starts_with("HELP ") || comment.starts_with("TYPE "),
                "odd comment: {line}"
            );
            continue;
        }
        let name_end = line
            .find(['{', ' '])
            .unwrap_or_else(|| panic!("no value: {line}"));
        let name = &line[..name_end];
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name in {line}"
        );
        let mut labels = BTreeMap::new();
        let mut rest = &line[name_end..];
        if let Some(inner) = rest.strip_prefix('{') {
            let mut chars = inner.char_indices();
            let closed_at = loop {
                let mut key = String::new();
                let mut ended = None;
                for (i, c) in chars.by_ref() {
                    match c {
                        '=' => break,
                        '}' if key.is_empty() => {
                            ended = Some(i + 1);
                            break;
                        }
                        ',' if key.is_empty() => {}
                        c => key.push(c),
                    }
                }
                if let Some(end) = ended {
                    break end;
                }
                assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
                let mut value = String::new();
                loop {
                    match chars.next().unwrap_or_else(|| panic!("open quote: {line}")) {
                        (_, '"') => break,
                        (_, '\\') => match chars.next().map(|(_, c)| c) {
                            Some('n') => value.push('\n'),
                            Some(c @ ('\\' | '"')) => value.push(c),
                            other => panic!("bad escape {other:?} in {line}"),
                        },
                        (_, c) => value.push(c),
                    }
                }
                assert!(
                    labels.insert(key.clone(), value).is_none(),
                    "label {key} twice: {line}"
                );
            };
            rest = &inner[closed_at..];
        }
        let value = rest
            .strip_prefix(' ')
            .unwrap_or_else(|| panic!("no space before the value: {line}"));
        let value = match value {
            "+Inf" => f64::INFINITY,
            v => v
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("bad value: {line}")),
        };
        samples.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    samples
}

/// The value of the sample `name` whose labels include all of `labels` (None: no such sample).
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let found: Vec<f64> = samples
        .iter()
        .filter(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .collect();
    assert!(found.len() <= 1, "{name} {labels:?} matches {found:?}");
    found.first().copied()
}

/// A histogram's name and its labels other than `le`.
type Series = (String, Vec<(String, String)>);

/// Every histogram series: buckets rise with `le`, the `+Inf` bucket equals `_count`, and the
/// sum is not negative.
fn check_histograms(samples: &[Sample]) -> usize {
    let mut series: BTreeMap<Series, Vec<(f64, f64)>> = BTreeMap::new();
    for s in samples.iter().filter(|s| s.name.ends_with("_bucket")) {
        let base = s.name.trim_end_matches("_bucket").to_string();
        let mut labels = s.labels.clone();
        let le = labels.remove("le").expect("a bucket has le");
        let le = if le == "+Inf" {
            f64::INFINITY
        } else {
            le.parse().unwrap()
        };
        let key = (base, labels.into_iter().collect());
        series.entry(key).or_default().push((le, s.value));
    }
    for ((base, labels), buckets) in &series {
        let pairs: Vec<(&str, &str)> = labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        for w in buckets.windows(2) {
            assert!(w[0].0 < w[1].0 && w[0].1 <= w[1].1, "{base} {labels:?}");
        }
        let (last_le, last) = *buckets.last().unwrap();
        assert_eq!(last_le, f64::INFINITY, "{base} {labels:?} has no +Inf");
        let count = value(samples, &format!("{base}_count"), &pairs).expect("a _count");
        assert_eq!(last, count, "{base} {labels:?}: +Inf bucket and _count");
        let sum = value(samples, &format!("{base}_sum"), &pairs).expect("a _sum");
        assert!(sum >= 0.0);
    }
    series.len()
}

async fn scrape(s: &TestServer) -> Vec<Sample> {
    let r = s.admin("GET", "/metrics", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    parse(&r.text)
}

#[tokio::test]
async fn scraped_metrics_count_what_the_server_did() {
    let s = TestServer::start().await;
    s.switch("sw").await;
    s.cabled_node("n1", "sw", "gi1/0/1").await;
    s.project("p").await;
    s.reserve("p", "n1").await;
    s.network("pnet", "p", "p", "").await;

    let before = scrape(&s).await;
    let node_gets = |samples: &[Sample]| {
        value(
            samples,
            "hil_http_requests_total",
            &[
                ("method", "GET"),
                ("route", "/v0/node/{node}"),
                ("status", "200"),
            ],
        )
        .unwrap_or(0.0)
    };
    let gets_before = node_gets(&before);

    for _ in 0..3 {
        s.ok("GET", "/v0/node/n1", None).await;
    }
    // A 404 on the same route counts under the same template, with its own status.
    s.admin("GET", "/v0/node/nobody", None)
        .await
        .err(404, "NotFoundError");
    s.call(Some(("admin", "wrong")), "GET", "/v0/projects", None)
        .await
        .err(401, "AuthorizationError");
    s.call(Some(("ghost", "boo")), "GET", "/v0/projects", None)
        .await
        .err(401, "AuthorizationError");
    let done = s
        .queued(
            "POST",
            "/v0/node/n1/nic/eth0/connect_network",
            Some(json!({"network": "pnet"})),
        )
        .await;
    assert_eq!(done["status"], "DONE", "{done}");
    // A switch that refuses: the action ends ERROR.
    s.mock_fail("sw", Some("port is shut down"));
    let refused = s
        .queued(
            "POST",
            "/v0/node/n1/nic/eth0/detach_network",
            Some(json!({"network": "pnet"})),
        )
        .await;
    assert_eq!(refused["status"], "ERROR", "{refused}");
    s.queue_drained().await;
    s.ok("PUT", "/v0/node/n1/obm", Some(json!({"enabled": true})))
        .await;
    s.ok("POST", "/v0/node/n1/power_on", None).await;

    let after = scrape(&s).await;
    assert_eq!(node_gets(&after) - gets_before, 3.0);
    // connect, detach, enable the OBM, power on: four entries in the audit log.
    let written = |samples: &[Sample]| {
        value(
            samples,
            "hil_audit_log_entries_total",
            &[("outcome", "written")],
        )
        .unwrap_or(0.0)
    };
    assert_eq!(written(&after) - written(&before), 4.0);
    assert_eq!(
        value(
            &after,
            "hil_audit_log_entries_total",
            &[("outcome", "lost")]
        ),
        None
    );
    assert_eq!(
        value(
            &after,
            "hil_http_requests_total",
            &[
                ("method", "GET"),
                ("route", "/v0/node/{node}"),
                ("status", "404")
            ],
        ),
        Some(1.0)
    );
    // Raw paths never become labels.
    assert!(after
        .iter()
        .all(|x| x.labels.get("route").is_none_or(|r| !r.contains("n1"))));
    assert!(
        value(
            &after,
            "hil_auth_failures_total",
            &[("backend", "database"), ("reason", "wrong_password")]
        )
        .unwrap_or(0.0)
            >= 1.0
    );
    assert!(
        value(
            &after,
            "hil_auth_failures_total",
            &[("backend", "database"), ("reason", "unknown_user")]
        )
        .unwrap_or(0.0)
            >= 1.0
    );
    assert!(after
        .iter()
        .filter(|x| x.name == "hil_auth_failures_total")
        .all(|x| !x.labels.values().any(|v| v == "ghost" || v == "admin")));
    assert_eq!(
        value(
            &after,
            "hil_networking_actions_total",
            &[("switch", "sw"), ("outcome", "done")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &after,
            "hil_networking_actions_total",
            &[("switch", "sw"), ("outcome", "error")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &after,
            "hil_networking_actions_total",
            &[("switch", "sw"), ("outcome", "retry")]
        ),
        None
    );
    assert_eq!(
        value(&after, "hil_networking_queue_depth", &[("switch", "sw")]),
        Some(0.0)
    );
    assert_eq!(
        value(
            &after,
            "hil_switch_session_seconds_count",
            &[("switch_type", MOCK)]
        ),
        Some(2.0)
    );
    assert_eq!(
        value(
            &after,
            "hil_obm_call_duration_seconds_count",
            &[("kind", "mock"), ("call", "power_on")]
        ),
        Some(1.0)
    );
    let route_count = value(
        &after,
        "hil_http_request_duration_seconds_count",
        &[("method", "GET"), ("route", "/v0/node/{node}")],
    )
    .expect("the route is timed");
    assert!(route_count >= 4.0);
    assert!(check_histograms(&after) >= 4);
    s.shutdown().await;
}

#[tokio::test]
async fn queue_depth_counts_pending_actions_per_switch() {
    // No worker: the action stays PENDING.
    let s = TestServer::start_tweaked(|_| {}).await;
    s.switch("sw").await;
    s.switch("idle").await;
    s.cabled_node("n1", "sw", "gi1/0/1").await;
    s.project("p").await;
    s.reserve("p", "n1").await;
    s.network("pnet", "p", "p", "").await;
    s.queue_connect("n1", "pnet").await;
    let samples = scrape(&s).await;
    let depth = |sw| value(&samples, "hil_networking_queue_depth", &[("switch", sw)]);
    assert_eq!(depth("sw"), Some(1.0));
    assert_eq!(depth("idle"), Some(0.0));
    s.shutdown().await;
}

#[tokio::test]
async fn metrics_on_the_api_address_are_for_administrators() {
    let s = TestServer::start().await;
    s.project("p").await;
    s.user("t", "tpw", false, &["p"]).await;
    s.call(None, "GET", "/metrics", None)
        .await
        .err(401, "AuthorizationError");
    s.call(Some(("t", "tpw")), "GET", "/metrics", None)
        .await
        .err(401, "AuthorizationError");
    s.call(Some(("admin", "nope")), "GET", "/metrics", None)
        .await
        .err(401, "AuthorizationError");
    let r = s.admin("GET", "/metrics", None).await;
    assert_eq!(r.status, 200);
    assert!(!parse(&r.text).is_empty());

    let off = TestServer::start_tweaked(|c| c.metrics.on_api = false).await;
    off.admin("GET", "/metrics", None)
        .await
        .err(404, "NotFoundError");
    off.shutdown().await;
    s.shutdown().await;
}

#[tokio::test]
async fn the_metrics_address_serves_without_authentication() {
    let s = TestServer::start().await;
    s.ok("GET", "/v0/projects", None).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(hil_server::serve_metrics(
        s.ctx.clone(),
        listener,
        async move {
            let _ = stopped.await;
        },
    ));
    let r = reqwest::get(format!("{url}/metrics")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let samples = parse(&r.text().await.unwrap());
    assert!(
        value(
            &samples,
            "hil_http_requests_total",
            &[
                ("method", "GET"),
                ("route", "/v0/projects"),
                ("status", "200")
            ]
        )
        .unwrap_or(0.0)
            >= 1.0
    );
    // Only /metrics is there.
    let r = reqwest::get(format!("{url}/v0/projects")).await.unwrap();
    assert_eq!(r.status(), 404);
    let _ = stop.send(());
    served.await.unwrap();
    s.shutdown().await;
}

#[tokio::test]
async fn serve_binds_the_configured_metrics_address() {
    // A free port, as the operator would configure one.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let s =
        TestServer::start_tweaked(|c| c.metrics.listen = Some(format!("127.0.0.1:{port}"))).await;
    let url = format!("http://127.0.0.1:{port}/metrics");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let text = loop {
        match reqwest::get(&url).await {
            Ok(r) if r.status() == 200 => break r.text().await.unwrap(),
            _ if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await
            }
            other => panic!("metrics.listen never answered: {other:?}"),
        }
    };
    assert!(text.contains("# TYPE hil_http_requests_total counter"));
    s.shutdown().await;
}

/// Scrapes `url` until `ready` accepts the samples (within 20 s).
async fn scrape_until(url: &str, ready: impl Fn(&[Sample]) -> bool) -> Vec<Sample> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Ok(r) = reqwest::get(url).await {
            if r.status() == 200 {
                let samples = parse(&r.text().await.unwrap());
                if ready(&samples) {
                    return samples;
                }
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{url} never showed what was expected"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_separate_worker_serves_its_own_metrics() {
    // The API without a worker; `hil-admin serve-networks` works the queue in another process.
    let s = TestServer::start_tweaked(|_| {}).await;
    s.switch("sw").await;
    s.cabled_node("n1", "sw", "gi1/0/1").await;
    s.project("p").await;
    s.reserve("p", "n1").await;
    s.network("pnet", "p", "p", "").await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut worker = tokio::process::Command::new(env!("CARGO_BIN_EXE_hil-admin"))
        .arg("serve-networks")
        .env("HIL_DATA_DIR", s.dir.path())
        .env(
            "HIL_DATABASE__URL",
            s.config.database.url.as_deref().unwrap(),
        )
        .env("HIL_WORKER__POLL_INTERVAL_SECS", "0.05")
        .env("HIL_AUDIT__INTERVAL_SECS", "0")
        .env("HIL_METRICS__LISTEN", format!("127.0.0.1:{port}"))
        .env("HIL_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .expect("run hil-admin serve-networks");
    let id = s.queue_connect("n1", "pnet").await;
    assert_eq!(s.wait_action(&id).await["status"], "DONE");

    let done = [("switch", "sw"), ("outcome", "done")];
    let url = format!("http://127.0.0.1:{port}/metrics");
    let samples = scrape_until(&url, |samples| {
        value(samples, "hil_networking_actions_total", &done) == Some(1.0)
    })
    .await;
    assert_eq!(
        value(
            &samples,
            "hil_switch_session_seconds_count",
            &[("switch_type", MOCK)]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&samples, "hil_networking_queue_depth", &[("switch", "sw")]),
        Some(0.0)
    );
    check_histograms(&samples);
    // The API process did no networking; its scrape says so.
    let api = scrape(&s).await;
    assert_eq!(value(&api, "hil_networking_actions_total", &done), None);
    worker.kill().await.unwrap();
    s.shutdown().await;
}
