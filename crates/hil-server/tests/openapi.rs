//! `GET /v0/openapi.json`: the OpenAPI 3.1 document of the v0 API. It must describe every
//! call the server answers and nothing else, and schemathesis, fuzzing the server from it,
//! must never get a 5xx.

mod common;
mod lab;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::{json, Value};

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

async fn document(s: &TestServer) -> Value {
    let r = s.call(None, "GET", "/v0/openapi.json", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json
}

/// Every (method, path) the document lists, and its operation.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_needs_no_credentials() {
    let s = TestServer::start().await;
    let doc = document(&s).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "HIL REST API v0");
    // HTTP Basic on the database backend, for every call but the document itself.
    assert_eq!(doc["security"], json!([{"basic": []}]));
    assert_eq!(
        doc["components"]["securitySchemes"]["basic"],
        json!({"type": "http", "scheme": "basic"})
    );
    let own = &doc["paths"]["/v0/openapi.json"]["get"];
    assert_eq!(own["security"], json!([{}]));

    // A call as a client sees it: its body, its answer and the error shape.
    let connect = &doc["paths"]["/v0/node/{node}/nic/{nic}/connect_network"]["post"];
    assert_eq!(
        connect["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ConnectNetwork"
    );
    assert_eq!(
        connect["responses"]["202"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/StatusId"
    );
    for status in ["400", "401", "404", "409"] {
        assert_eq!(
            connect["responses"][status]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody",
            "{status}"
        );
    }
    let names: BTreeSet<&str> = connect["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, BTreeSet::from(["nic", "node"]));
    // Bodies are closed and their optional members may be left out, but not sent as null.
    let schema = &doc["components"]["schemas"]["ConnectNetwork"];
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["required"], json!(["network"]));
    assert_eq!(schema["properties"]["channel"]["type"], "string");

    // Port names contain `/`: the router's catch-all is an ordinary parameter here.
    assert!(doc["paths"]
        .get("/v0/switch/{switch}/port/{port}/connect_nic")
        .is_some());
    assert!(!doc["paths"].to_string().contains("{*"));
    // Path parameters carry the label rules the server enforces.
    let node = &doc["paths"]["/v0/node/{node}"]["get"]["parameters"][0]["schema"];
    assert_eq!(node["minLength"], 1);
    assert_eq!(node["maxLength"], 255);
    s.shutdown().await;
}

/// Every handler is registered with its description, so a handler without one (or one
/// routed by hand) is a handler missing from the document.
#[tokio::test]
async fn every_call_the_server_answers_is_documented() {
    let handlers = include_str!("../src/http/handlers.rs");
    // `port_action` only dispatches to the three documented port calls.
    let exempt = ["port_action"];
    let names: Vec<&str> = handlers
        .lines()
        .filter_map(|l| l.strip_prefix("pub async fn "))
        .map(|l| l.split('(').next().unwrap())
        .filter(|n| !exempt.contains(n))
        .collect();
    assert!(names.len() > 60, "{names:?}");

    let s = TestServer::start().await;
    let doc = document(&s).await;
    let documented: BTreeSet<String> = operations(&doc)
        .into_iter()
        .map(|(_, _, op)| op["operationId"].as_str().unwrap().to_string())
        .collect();
    let missing: Vec<&&str> = names.iter().filter(|n| !documented.contains(**n)).collect();
    assert!(
        missing.is_empty(),
        "handlers missing from the document: {missing:?}"
    );
    s.shutdown().await;
}

/// And everything the document lists is routed: no documented call answers "no such route"
/// or "method not allowed".
#[tokio::test]
async fn every_documented_call_is_routed() {
    let s = TestServer::start().await;
    let doc = document(&s).await;
    let ops = operations(&doc);
    assert!(ops.len() >= 70, "{}", ops.len());
    for (method, path, _) in ops {
        let concrete = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "probe" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        let r = s.admin(&method, &concrete, None).await;
        let unrouted = r.status == 405 || r.text.contains("No such API route");
        assert!(!unrouted, "{method} {path}: {} {}", r.status, r.text);
        assert!(r.status < 500, "{method} {path}: {} {}", r.status, r.text);
    }
    s.shutdown().await;
}

/// The document describes this server as configured: without database authentication there
/// are no user calls and no credentials to give.
#[tokio::test]
async fn the_document_follows_the_configuration() {
    let s =
        TestServer::start_tweaked(|c| c.auth.backend = hil_server::config::AuthBackend::Null).await;
    let doc = document(&s).await;
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.keys().all(|p| !p.starts_with("/v0/auth/")));
    assert!(paths.contains_key("/v0/node/{node}"));
    assert!(doc.get("security").is_none());
    s.shutdown().await;
}

// ---- schemathesis ----

/// schemathesis, installed by `scripts/test.sh` in its own venv.
fn schemathesis() -> Option<String> {
    let venv = std::env::var("HIL_SCHEMATHESIS_VENV").unwrap_or_else(|_| {
        format!(
            "{}/.cache/hil-lab/venv-schemathesis",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let program = format!("{venv}/bin/schemathesis");
    let missing = (!Path::new(&program).exists()).then(|| format!("{program} is not installed"));
    lab::available("schemathesis", missing).then_some(program)
}

/// The checks schemathesis runs, and why the others stay off:
/// - `missing_required_header`: HIL validates a call's arguments before it authenticates
///   (hil-api.md §1.3), so a bad body without credentials is a 400, not a 401;
/// - `positive_data_acceptance`: labels have rules JSON Schema cannot say of every body
///   member (no NUL, no empty name, a switch type must exist), so some schema-valid
///   requests are rightly refused;
/// - `unsupported_method` and `allow_header_conformance`: under a port, PUT, GET and DELETE
///   address a port whose name ends in `/revert` (port names contain `/`).
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance,ignored_auth,negative_data_rejection";

/// Runs schemathesis against the server's own document and fails on any failed check.
fn run_schemathesis(program: &str, url: &str, work: &Path, config: Option<&Path>) {
    let report = work.join("junit.xml");
    let mut cmd = Command::new(program);
    if let Some(config) = config {
        cmd.arg("--config-file").arg(config);
    }
    cmd.current_dir(work)
        .args(["run", &format!("{url}/v0/openapi.json")])
        .args(["--auth", &format!("{}:{}", ADMIN.0, ADMIN.1)])
        .args(["--checks", CHECKS])
        .args(["--phases", "coverage,fuzzing"])
        .args(["--max-examples", "15", "--workers", "2", "--seed", &seed()])
        .args(["--generation-database", "none", "--no-color"])
        .args(["--report", "junit"])
        .arg("--report-junit-path")
        .arg(&report);
    let out = cmd.output().expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{}", summary(&stdout));
    let junit = std::fs::read_to_string(&report).unwrap_or_default();
    assert!(
        junit.contains("<testcase"),
        "schemathesis wrote no report:\n{}\n{}",
        summary(&stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let failures = junit.matches("<failure").count();
    assert_eq!(
        failures,
        0,
        "schemathesis found failures:\n{}",
        section(&stdout, "FAILURES")
    );
    // Errors of schemathesis' own (a Python crash while it builds cases) leave an operation
    // less tested, not failed; they are shown, and the 5xx count below does not depend on them.
    let errors = junit.matches("<error").count();
    if errors > 0 {
        eprintln!("schemathesis reported {errors} errors of its own");
    }
}

/// A fixed seed, so that a failure can be replayed; `HIL_SCHEMATHESIS_SEED` explores others.
fn seed() -> String {
    std::env::var("HIL_SCHEMATHESIS_SEED").unwrap_or_else(|_| "20261206".into())
}

/// The run's last lines: phases, counts, failures.
fn summary(stdout: &str) -> String {
    section(stdout, "SUMMARY")
}

/// One `=== NAME ===` section of schemathesis' output.
fn section(stdout: &str, name: &str) -> String {
    let mut lines = stdout
        .lines()
        .skip_while(|l| !(l.starts_with("===") && l.contains(name)));
    let head = lines.next().unwrap_or_default().to_string();
    let rest: Vec<&str> = lines.take_while(|l| !l.starts_with("===")).collect();
    format!("{head}\n{}", rest.join("\n"))
}

/// Requests the server answered, and those it answered with 5xx, from its own metrics.
async fn answered(s: &TestServer) -> (f64, f64) {
    let r = s.admin("GET", "/metrics", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut all = 0.0;
    let mut server_errors = 0.0;
    for line in r
        .text
        .lines()
        .filter(|l| l.starts_with("hil_http_requests_total{"))
    {
        let (labels, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value.parse().unwrap();
        all += value;
        if labels.contains("status=\"5") {
            server_errors += value;
            eprintln!("5xx: {line}");
        }
    }
    (all, server_errors)
}

/// Labels that name real objects, so that the second run reaches past "not found" into the
/// operations themselves (and, through the worker, the mock switch and BMC).
fn known_labels_config(work: &Path) -> std::path::PathBuf {
    let path = work.join("schemathesis.toml");
    let text = r#"
[parameters]
"path.project" = "tenant"
"path.node" = "node-1"
"path.nic" = "eth0"
"path.network" = "net-a"
"path.switch" = "sw"
"path.port" = "gi1/0/1"
"path.user" = "someone"
"path.headnode" = "hn"
"path.hnic" = "hnic0"
"#;
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_gets_no_server_error() {
    let Some(program) = schemathesis() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    // schemathesis sends wrong credentials on purpose; throttling them would answer 429 to
    // the calls that follow and hide what they do.
    config.auth.max_failed_logins_per_user = u32::MAX;
    config.auth.max_failed_logins_per_address = u32::MAX;
    let s = TestServer::start_with(dir, config, true).await;
    let work = tempfile::tempdir().unwrap();

    // Unknown labels: validation, authentication and "not found" on every call.
    let (url, w) = (s.url.clone(), work.path().to_path_buf());
    let p = program.clone();
    tokio::task::spawn_blocking(move || run_schemathesis(&p, &url, &w, None))
        .await
        .unwrap();

    // Known labels: the same calls on a project, node, nic, port, switch and network.
    s.project("tenant").await;
    s.switch("sw").await;
    s.cabled_node("node-1", "sw", "gi1/0/1").await;
    s.reserve("tenant", "node-1").await;
    s.network("net-a", "tenant", "tenant", "").await;
    let config = known_labels_config(work.path());
    let (url, w) = (s.url.clone(), work.path().to_path_buf());
    tokio::task::spawn_blocking(move || run_schemathesis(&program, &url, &w, Some(&config)))
        .await
        .unwrap();

    let (all, server_errors) = answered(&s).await;
    assert!(all > 2000.0, "schemathesis made only {all} requests");
    assert_eq!(server_errors, 0.0, "the server answered 5xx");
    s.shutdown().await;
}
