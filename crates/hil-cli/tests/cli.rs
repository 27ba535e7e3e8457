//! End-to-end: the real `hil` binary against a real server (SQLite, or PostgreSQL with
//! `HIL_TEST_DB=postgres`), checking stdout, stderr and exit codes as a user would.

#[path = "../../hil-server/tests/common/mod.rs"]
mod common;
/// The Keystone lab of the server's tests, and the plumbing it finds in its parent module.
#[allow(dead_code)]
#[path = "../../hil-server/tests/lab/keystone.rs"]
mod keystone;
#[allow(dead_code)]
#[path = "../../hil-server/tests/lab/support.rs"]
mod support;
#[allow(unused_imports)]
use support::*;

use std::path::Path;
use std::process::Stdio;

use common::{TestServer, ADMIN};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

const ALICE: (&str, &str) = ("alice", "alice-pw");

/// What one run of `hil` produced.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        assert_eq!(self.stderr, "", "a successful run prints nothing on stderr");
        &self.stdout
    }

    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_str(self.ok()).unwrap_or_else(|e| panic!("not JSON ({e}): {self:#?}"))
    }

    /// A failure: the exit code, nothing on stdout, and exactly one `Error: ...` line.
    #[track_caller]
    fn fails(&self, code: i32, message: &str) {
        assert_eq!(self.code, code, "{self:#?}");
        assert_eq!(self.stdout, "", "{self:#?}");
        assert_one_error_line(&self.stderr, message);
    }
}

#[track_caller]
fn assert_one_error_line(stderr: &str, message: &str) {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got {stderr:?}");
    assert!(lines[0].starts_with("Error: "), "{stderr:?}");
    assert!(lines[0].contains(message), "{stderr:?} lacks {message:?}");
    assert!(!stderr.contains("panicked"), "{stderr:?}");
}

/// Runs `hil` with a clean environment: no HIL_* variables from the developer's shell and a
/// HOME without a config file, unless the test adds them.
#[derive(Clone)]
struct Hil<'a> {
    endpoint: String,
    home: &'a Path,
    user: Option<(&'a str, &'a str)>,
    env: Vec<(&'a str, String)>,
    stdin: Option<String>,
}

impl<'a> Hil<'a> {
    fn new(server: &'a TestServer, user: Option<(&'a str, &'a str)>) -> Hil<'a> {
        Hil {
            endpoint: server.url.clone(),
            home: server.dir.path(),
            user,
            env: Vec::new(),
            stdin: None,
        }
    }

    fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(text.to_string());
        self
    }

    fn env(mut self, key: &'a str, value: &str) -> Self {
        self.env.push((key, value.to_string()));
        self
    }

    async fn run(&self, args: &[&str]) -> Run {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_hil"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.home)
            .env("HIL_ENDPOINT", &self.endpoint)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some((u, p)) = self.user {
            cmd.env("HIL_USERNAME", u).env("HIL_PASSWORD", p);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("run hil");
        let mut stdin = child.stdin.take().unwrap();
        if let Some(text) = &self.stdin {
            stdin.write_all(text.as_bytes()).await.unwrap();
        }
        drop(stdin);
        let out = child.wait_with_output().await.unwrap();
        Run {
            code: out.status.code().expect("hil exits, it is not killed"),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }
}

async fn admin(s: &TestServer, args: &[&str]) -> Run {
    Hil::new(s, Some(ADMIN)).run(args).await
}

async fn alice(s: &TestServer, args: &[&str]) -> Run {
    Hil::new(s, Some(ALICE)).run(args).await
}

/// The operator's set-up, done through the CLI: a switch with two ports, two nodes with a
/// NIC each, cabled; project `physics` with user alice.
async fn operator_setup(s: &TestServer) {
    let a = Hil::new(s, Some(ADMIN));
    a.clone()
        .stdin("switch-secret\n")
        .run(&[
            "switch",
            "register",
            "sw0",
            "mock",
            "sw0.example",
            "admin",
            "-",
        ])
        .await
        .ok();
    for (node, port, mac) in [
        ("n1", "gi1/0/1", "de:ad:be:ef:00:01"),
        ("n2", "gi1/0/2", "de:ad:be:ef:00:02"),
    ] {
        a.run(&["port", "register", "sw0", port]).await.ok();
        let bmc = format!("bmc-{node}");
        let register = [
            "node",
            "register",
            node,
            "--obm",
            "mock",
            "--bmc-host",
            &bmc,
        ];
        a.clone()
            .stdin("bmc-secret\n")
            .run(&[&register[..], &["--bmc-user", "root"]].concat())
            .await
            .ok();
        a.run(&["node", "nic", "register", node, "eth0", mac])
            .await
            .ok();
        a.run(&["port", "nic", "add", "sw0", port, node, "eth0"])
            .await
            .ok();
    }
    a.run(&["project", "create", "physics"]).await.ok();
    a.clone()
        .stdin("alice-pw\n")
        .run(&["user", "create", "alice", "regular"])
        .await
        .ok();
    a.run(&["user", "project", "add", "alice", "physics"])
        .await
        .ok();
}

/// The operator's set-up plus node n1 in project physics and its network `pnet`.
async fn tenant_setup(s: &TestServer) {
    operator_setup(s).await;
    admin(s, &["project", "node", "add", "physics", "n1"])
        .await
        .ok();
    admin(s, &["network", "create", "pnet", "physics"])
        .await
        .ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_workflow_as_tables_and_json() {
    let s = TestServer::start().await;
    operator_setup(&s).await;

    // Every listing as a table ...
    let out = admin(&s, &["node", "list", "all"]).await;
    assert!(out.ok().contains("All Nodes (2)"), "{out:#?}");
    assert!(out.stdout.contains("| n1") && out.stdout.contains("| n2"));
    let out = admin(&s, &["switch", "list"]).await;
    assert!(out.ok().contains("Switches (1)") && out.stdout.contains("sw0"));
    let out = admin(&s, &["switch", "show", "sw0"]).await;
    assert!(out.ok().contains("gi1/0/1") && out.stdout.contains("gi1/0/2"));
    let out = admin(&s, &["port", "show", "sw0", "gi1/0/2"]).await;
    assert!(out.ok().contains("| Node") && out.stdout.contains("n2"));
    let out = admin(&s, &["user", "list"]).await;
    let alice_row = out.ok().lines().find(|l| l.contains("alice")).unwrap();
    assert!(alice_row.contains("regular") && alice_row.contains("physics"));
    let out = admin(&s, &["node", "show", "n1"]).await;
    for expected in [
        "Project",
        "None",
        "eth0",
        "de:ad:be:ef:00:01",
        "sw0",
        "gi1/0/1",
    ] {
        assert!(
            out.ok().contains(expected),
            "{expected} missing: {}",
            out.stdout
        );
    }

    // ... and with --json exactly what the API answers.
    for (args, path) in [
        (vec!["node", "list", "all"], "/v0/nodes/all"),
        (vec!["node", "show", "n1"], "/v0/node/n1"),
        (vec!["switch", "list"], "/v0/switches"),
        (vec!["switch", "show", "sw0"], "/v0/switch/sw0"),
        (
            vec!["port", "show", "sw0", "gi1/0/1"],
            "/v0/switch/sw0/port/gi1/0/1",
        ),
        (vec!["project", "list"], "/v0/projects"),
        (vec!["user", "list"], "/v0/auth/basic/users"),
        (vec!["extensions", "list"], "/v0/active_extensions"),
    ] {
        let mut args = args.clone();
        args.push("--json");
        let printed = admin(&s, &args).await.json();
        assert_eq!(printed, s.ok("GET", path, None).await, "hil {args:?}");
    }
    assert_eq!(
        admin(&s, &["user", "list", "--json"]).await.json()["alice"],
        json!({"is_admin": false, "projects": ["physics"]})
    );

    // Secrets went in through stdin and are not echoed back.
    let switch_show = admin(&s, &["switch", "show", "sw0", "--json"]).await;
    assert!(!switch_show.stdout.contains("switch-secret"));

    // Undo it all, as an operator would.
    for args in [
        vec!["port", "nic", "remove", "sw0", "gi1/0/2"],
        vec!["port", "delete", "sw0", "gi1/0/2"],
        vec!["node", "nic", "delete", "n2", "eth0"],
        vec!["node", "delete", "n2"],
        vec!["user", "project", "remove", "alice", "physics"],
        vec!["user", "set-admin", "alice", "admin"],
    ] {
        admin(&s, &args).await.ok();
    }
    assert_eq!(
        admin(&s, &["node", "list", "all", "--json"]).await.json(),
        json!(["n1"])
    );
    assert_eq!(
        admin(&s, &["user", "list", "--json"]).await.json()["alice"],
        json!({"is_admin": true, "projects": []})
    );
    admin(&s, &["user", "delete", "alice"]).await.ok();
    alice(&s, &["node", "list", "all"])
        .await
        .fails(1, "Authentication failed");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_workflow_with_wait() {
    let s = TestServer::start().await;
    operator_setup(&s).await;

    alice(&s, &["project", "node", "add", "physics", "n1"])
        .await
        .ok();
    let nodes = alice(&s, &["project", "node", "list", "physics"]).await;
    assert!(nodes.ok().contains("Nodes (1)") && nodes.stdout.contains("n1"));
    alice(&s, &["network", "create", "pnet", "physics"])
        .await
        .ok();
    let networks = alice(&s, &["project", "list-networks", "physics", "--json"]).await;
    assert_eq!(networks.json(), json!(["pnet"]));

    // Connect without a channel: the server's default (HIL's CLI sent "" and failed).
    let out = alice(
        &s,
        &["node", "network", "connect", "n1", "eth0", "pnet", "--wait"],
    )
    .await;
    assert!(out.ok().contains("DONE"), "{out:#?}");
    assert!(out.stdout.contains("vlan/native"));
    assert_eq!(
        s.mock_state("sw0"),
        json!({"gi1/0/1": {"vlan/native": "1001"}})
    );

    let shown = alice(&s, &["node", "show", "n1"]).await;
    assert!(shown.ok().contains("pnet(vlan/native)"), "{shown:#?}");
    assert!(
        !shown.stdout.contains("gi1/0/1"),
        "tenants do not see the cabling"
    );
    let net = alice(&s, &["network", "show", "pnet"]).await;
    assert!(net.ok().contains("n1: eth0") && net.stdout.contains("vlan/1001"));
    let attachments = alice(
        &s,
        &[
            "network",
            "list-attachments",
            "pnet",
            "--project",
            "physics",
            "--json",
        ],
    )
    .await;
    assert_eq!(
        attachments.json(),
        json!({"n1": {"nic": "eth0", "channel": "vlan/native", "project": "physics"}})
    );
    let all = alice(
        &s,
        &[
            "network",
            "list-attachments",
            "pnet",
            "--project",
            "all",
            "--json",
        ],
    )
    .await;
    assert_eq!(all.json(), attachments.json());

    // Detach with --wait --json prints the finished action as the API shows it.
    let out = alice(
        &s,
        &[
            "node", "network", "detach", "n1", "eth0", "pnet", "--wait", "--json",
        ],
    )
    .await;
    let action = out.json();
    assert_eq!(action["status"], "DONE");
    assert_eq!(action["new_network"], Value::Null);
    assert_eq!(s.mock_state("sw0"), json!({}));

    // Without --wait: a status id, which networking-action show follows.
    let out = alice(
        &s,
        &[
            "node",
            "network",
            "connect",
            "n1",
            "eth0",
            "pnet",
            "vlan/1001",
            "--json",
        ],
    )
    .await;
    let status_id = out.json()["status_id"].as_str().unwrap().to_string();
    let done = alice(&s, &["networking-action", "show", &status_id, "--wait"]).await;
    assert!(done.ok().contains("DONE") && done.stdout.contains("vlan/1001"));

    // Removing a node with networks is refused; --force detaches first.
    alice(&s, &["project", "node", "remove", "physics", "n1"])
        .await
        .fails(1, "Node attached to a network");
    alice(
        &s,
        &["project", "node", "remove", "physics", "n1", "--force"],
    )
    .await
    .ok();
    assert_eq!(s.mock_state("sw0"), json!({}));
    let free = alice(&s, &["node", "list", "free", "--json"]).await;
    assert_eq!(free.json(), json!(["n1", "n2"]));
    alice(&s, &["network", "delete", "pnet"]).await.ok();

    // Who connected n1 to pnet? The audit log, as the administrator reads it.
    let log = admin(&s, &["audit", "log", "--object", "node/n1", "--json"]).await;
    let entries = log.json();
    let connect = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["call"] == "/v0/node/{node}/nic/{nic}/connect_network")
        .unwrap_or_else(|| panic!("no connect in {entries:#}"));
    assert_eq!(connect["user"], "alice");
    assert_eq!(connect["args"]["network"], "pnet");
    assert_eq!(connect["outcome"], "ok");
    let table = admin(&s, &["audit", "log", "--by", "alice", "--since", "1h"]).await;
    let table = table.ok();
    assert!(
        table.contains("POST /v0/node/n1/nic/eth0/connect_network") && table.contains("alice"),
        "{table}"
    );
    assert!(!table.contains("alice-pw"), "no password in the log");
    // Tenants may not read it.
    alice(&s, &["audit", "log"])
        .await
        .fails(1, "administrator-only");
    s.shutdown().await;
}

/// `hil whoami` and `hil networking-action list`: a tenant finds its projects and follows
/// its project's changes; the whole queue is the administrators'.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_and_the_networking_queue() {
    let s = TestServer::start().await;
    tenant_setup(&s).await;

    let me = alice(&s, &["whoami"]).await;
    let text = me.ok();
    assert!(text.contains("alice") && text.contains("physics"), "{text}");
    let me = alice(&s, &["whoami", "--json"]).await;
    assert_eq!(
        me.json(),
        json!({"user": "alice", "is_admin": false, "projects": ["physics"]})
    );

    let out = alice(
        &s,
        &["node", "network", "connect", "n1", "eth0", "pnet", "--json"],
    )
    .await;
    let id = out.json()["status_id"].as_str().unwrap().to_string();
    alice(&s, &["networking-action", "show", &id, "--wait"])
        .await
        .ok();
    let queue = alice(&s, &["networking-action", "list", "--project", "physics"]).await;
    let table = queue.ok();
    assert!(table.contains(&id) && table.contains("DONE"), "{table}");
    assert!(
        !table.contains("gi1/0/1"),
        "tenants do not see the switch side: {table}"
    );
    let queue = alice(
        &s,
        &[
            "networking-action",
            "list",
            "--project",
            "physics",
            "--json",
        ],
    )
    .await;
    assert_eq!(queue.json()[0]["new_network"], "pnet");

    // Without --project the queue is the administrators'.
    alice(&s, &["networking-action", "list"])
        .await
        .fails(1, "This operation is administrator-only.");
    let all = admin(&s, &["networking-action", "list", "--json"]).await;
    assert_eq!(all.json()[0]["port"], "gi1/0/1");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_force_remove_reverts_ports() {
    let s = TestServer::start().await;
    operator_setup(&s).await;
    admin(&s, &["project", "node", "add", "physics", "n2"])
        .await
        .ok();
    admin(&s, &["network", "create", "a", "physics"]).await.ok();
    admin(&s, &["network", "create", "b", "physics"]).await.ok();
    for (net, channel) in [("a", "vlan/native"), ("b", "vlan/1002")] {
        admin(
            &s,
            &[
                "node", "network", "connect", "n2", "eth0", net, channel, "--wait",
            ],
        )
        .await
        .ok();
    }
    assert_eq!(
        s.mock_state("sw0"),
        json!({"gi1/0/2": {"vlan/native": "1001", "vlan/1002": "1002"}})
    );
    admin(
        &s,
        &["project", "node", "remove", "physics", "n2", "--force"],
    )
    .await
    .ok();
    assert_eq!(s.mock_state("sw0"), json!({}));
    let out = admin(&s, &["port", "revert", "sw0", "gi1/0/2", "--wait"]).await;
    assert!(out.ok().contains("revert_port"));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_finds_and_lists_drift() {
    let s = TestServer::start().await;
    tenant_setup(&s).await;
    admin(
        &s,
        &["node", "network", "connect", "n1", "eth0", "pnet", "--wait"],
    )
    .await
    .ok();
    let clean = admin(&s, &["audit", "run", "sw0", "--wait", "--json"])
        .await
        .json();
    assert_eq!(clean["last_result"], "clean", "{clean}");
    assert_eq!(clean["ports_checked"], 2, "{clean}");
    // Behind HIL's back, n1's port moves to a VLAN HIL never handed out.
    s.set_mock_state("sw0", json!({"gi1/0/1": {"vlan/native": "999"}}));
    let table = admin(&s, &["audit", "run", "sw0", "--wait"]).await;
    let table = table.ok();
    assert!(table.contains("| Last result    | drift"), "{table}");
    let drift = admin(&s, &["audit", "drift", "--json"]).await.json();
    assert_eq!(drift[0]["port"], "gi1/0/1", "{drift}");
    assert_eq!(drift[0]["actual"], json!({"vlan/native": "999"}));
    let table = admin(&s, &["audit", "drift", "--switch", "sw0"]).await;
    let table = table.ok();
    assert!(table.contains("vlan/native=1001"), "{table}");
    assert!(table.contains("vlan/native=999"), "{table}");
    let list = admin(&s, &["audit", "list"]).await;
    assert!(list.ok().contains("| sw0"), "{list:?}");
    alice(&s, &["audit", "drift"])
        .await
        .fails(1, "administrator");
    admin(&s, &["audit", "show", "nope"]).await.fails(1, "nope");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_reports_a_switch_failure_and_times_out() {
    let s = TestServer::start().await;
    tenant_setup(&s).await;

    s.mock_fail("sw0", Some("port gi1/0/1 is shut down"));
    let out = alice(
        &s,
        &["node", "network", "connect", "n1", "eth0", "pnet", "--wait"],
    )
    .await;
    assert_eq!(out.code, 1, "{out:#?}");
    assert!(
        out.stdout.contains("ERROR"),
        "the final action is shown: {out:#?}"
    );
    assert_one_error_line(&out.stderr, "failed: ");
    assert!(out.stderr.contains("port gi1/0/1 is shut down"), "{out:#?}");
    // The same through networking-action show --wait.
    let queued = alice(
        &s,
        &["node", "network", "connect", "n1", "eth0", "pnet", "--json"],
    )
    .await;
    let status_id = queued.json()["status_id"].as_str().unwrap().to_string();
    let out = alice(&s, &["networking-action", "show", &status_id, "--wait"]).await;
    assert_eq!(out.code, 1, "{out:#?}");
    assert!(out.stdout.contains("ERROR") && out.stdout.contains("shut down"));
    assert_one_error_line(&out.stderr, &status_id);
    s.mock_fail("sw0", None);
    s.shutdown().await;

    // No worker: the action stays PENDING and --timeout ends the wait.
    let dir = tempfile::tempdir().unwrap();
    let config = common::test_config(dir.path()).await;
    let s = TestServer::start_with(dir, config, false).await;
    tenant_setup(&s).await;
    let started = std::time::Instant::now();
    let out = admin(
        &s,
        &[
            "node",
            "network",
            "connect",
            "n1",
            "eth0",
            "pnet",
            "--wait",
            "--timeout",
            "1",
        ],
    )
    .await;
    out.fails(1, "is still PENDING after 1s");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_paths_end_in_one_line_and_the_right_code() {
    let s = TestServer::start().await;
    tenant_setup(&s).await;

    // Wrong password.
    Hil::new(&s, Some(("admin", "wrong")))
        .run(&["project", "list"])
        .await
        .fails(1, "Authentication failed");
    // A missing object.
    admin(&s, &["node", "show", "nope"])
        .await
        .fails(1, "Node nope does not exist");
    // A forbidden call.
    alice(&s, &["project", "list"])
        .await
        .fails(1, "administrator-only");
    // A bad channel.
    alice(
        &s,
        &[
            "node",
            "network",
            "connect",
            "n1",
            "eth0",
            "pnet",
            "vlan/4242",
        ],
    )
    .await
    .fails(1, "vlan/4242");
    assert_eq!(s.mock_state("sw0"), json!({}), "nothing was queued");
    // An unreachable endpoint.
    Hil::new(&s, Some(ADMIN))
        .env("HIL_ENDPOINT", "http://127.0.0.1:9")
        .run(&["node", "list", "all"])
        .await
        .fails(1, "cannot reach HIL at http://127.0.0.1:9");

    // Usage errors exit 2.
    let out = admin(&s, &["node", "list"]).await;
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(out.stderr.contains("<POOL>"));
    let out = admin(&s, &["frobnicate"]).await;
    assert_eq!(out.code, 2, "{out:#?}");
    Hil::new(&s, Some(ADMIN))
        .env("HIL_ENDPOINT", "")
        .run(&["node", "list", "all"])
        .await
        .fails(2, "no HIL endpoint");
    Hil::new(&s, Some(ADMIN))
        .env("HIL_ENDPOINT", "ftp://example")
        .run(&["node", "list", "all"])
        .await
        .fails(2, "invalid endpoint");
    // HIL's three-argument form works, with a warning that the password shows in `ps`.
    let legacy = admin(&s, &["user", "create", "bob", "bob-pw", "regular"]).await;
    assert_eq!(legacy.code, 0, "{legacy:#?}");
    assert!(
        legacy.stderr.contains("visible to other users"),
        "{legacy:#?}"
    );
    assert!(
        !legacy.stderr.contains("bob-pw"),
        "the warning does not repeat the password"
    );
    Hil::new(&s, Some(("bob", "bob-pw")))
        .run(&["network", "list"])
        .await
        .ok();
    admin(&s, &["user", "create", "carol", "pw", "root"])
        .await
        .fails(2, "admin or regular");
    admin(
        &s,
        &["node", "metadata", "add", "n1", "k", "{", "--json-value"],
    )
    .await
    .fails(2, "not valid JSON");
    admin(&s, &["switch", "register", "sw9", "mock", "host-only"])
        .await
        .fails(2, "switch type mock takes HOSTNAME USERNAME PASSWORD");
    assert_eq!(
        s.ok("GET", "/v0/switches", None).await,
        json!(["sw0"]),
        "refused registrations change nothing"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_from_flags_stdin_and_config_file() {
    let s = TestServer::start().await;
    operator_setup(&s).await;

    // --user with --password-stdin beats the environment's user.
    let out = Hil::new(&s, Some(ADMIN))
        .stdin("alice-pw\n")
        .run(&["--user", "alice", "--password-stdin", "project", "list"])
        .await;
    out.fails(1, "administrator-only");
    // --user without a password for that user is refused rather than sending admin's.
    Hil::new(&s, Some(ADMIN))
        .run(&["--user", "alice", "project", "list"])
        .await
        .fails(2, "no password for alice");

    // The config file holds endpoint and credentials; the environment overrides it.
    let config_dir = s.dir.path().join(".config/hil");
    std::fs::create_dir_all(&config_dir).unwrap();
    let config = config_dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "endpoint = \"{}\"\nusername = \"admin\"\npassword = \"admin-pw\"\n",
            s.url
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let from_file = Hil::new(&s, None)
        .env("HIL_ENDPOINT", "")
        .run(&["project", "list", "--json"])
        .await;
    assert_eq!(from_file.json(), json!(["physics"]));
    alice(&s, &["project", "list"])
        .await
        .fails(1, "administrator-only");

    // A broken config file is a usage error naming the file.
    std::fs::write(&config, "endpoint = \n").unwrap();
    Hil::new(&s, None)
        .run(&["project", "list"])
        .await
        .fails(2, "config.toml");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_users_get_their_password_from_stdin() {
    let s = TestServer::start().await;
    admin(&s, &["project", "create", "p"]).await.ok();
    Hil::new(&s, Some(ADMIN))
        .stdin("bob-pw\n")
        .run(&["user", "create", "bob", "admin"])
        .await
        .ok();
    // Both the caller's and the new user's password through one pipe.
    Hil::new(&s, None)
        .stdin("admin-pw\ncarol-pw\n")
        .run(&[
            "--user",
            "admin",
            "--password-stdin",
            "user",
            "create",
            "carol",
            "regular",
        ])
        .await
        .ok();
    let out = Hil::new(&s, Some(("bob", "bob-pw")))
        .run(&["project", "list", "--json"])
        .await;
    assert_eq!(out.json(), json!(["p"]));
    let out = Hil::new(&s, Some(("carol", "carol-pw")))
        .run(&["node", "list", "all", "--json"])
        .await;
    assert_eq!(out.json(), json!([]));
    // No password on stdin: refused before anything is sent.
    admin(&s, &["user", "create", "dave", "regular"])
        .await
        .fails(2, "expected password for dave on standard input");
    assert!(s
        .ok("GET", "/v0/auth/basic/users", None)
        .await
        .get("dave")
        .is_none());
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_networks_show_and_list_without_crashing() {
    let s = TestServer::start().await;
    operator_setup(&s).await;
    admin(
        &s,
        &[
            "network", "create", "uplink", "admin", "--access", "", "--net-id", "100",
        ],
    )
    .await
    .ok();
    for who in [Some(ADMIN), Some(ALICE)] {
        let out = Hil::new(&s, who).run(&["network", "list"]).await;
        let row = out.ok().lines().find(|l| l.contains("uplink")).unwrap();
        assert!(row.contains("100") && row.contains("public"), "{out:#?}");
    }
    let shown = alice(&s, &["network", "show", "uplink"]).await;
    assert!(shown.ok().contains("public"), "{shown:#?}");
    assert_eq!(
        alice(&s, &["network", "show", "uplink", "--json"])
            .await
            .json()["access"],
        Value::Null
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headnode_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::test_config(dir.path()).await;
    config.headnode.base_imgs = vec!["base-headnode".into(), "base-headnode-2".into()];
    let s = TestServer::start_with(dir, config, true).await;
    operator_setup(&s).await;
    let images = alice(&s, &["headnode", "list-images", "--json"]).await;
    assert_eq!(images.json(), json!(["base-headnode", "base-headnode-2"]));
    alice(&s, &["headnode", "create", "hn0", "physics", "nope"])
        .await
        .fails(1, "not a valid image");
    alice(
        &s,
        &["headnode", "create", "hn0", "physics", "base-headnode"],
    )
    .await
    .ok();
    alice(&s, &["headnode", "nic", "create", "hn0", "eth0"])
        .await
        .ok();
    alice(&s, &["network", "create", "physics-net", "physics"])
        .await
        .ok();
    alice(
        &s,
        &[
            "headnode",
            "network",
            "connect",
            "hn0",
            "eth0",
            "physics-net",
        ],
    )
    .await
    .ok();
    let shown = alice(&s, &["headnode", "show", "hn0", "--json"])
        .await
        .json();
    assert_eq!(shown["hnics"], json!(["eth0"]));
    assert_eq!(shown["vncport"], Value::Null);
    assert_eq!(shown, s.ok("GET", "/v0/headnode/hn0", None).await);

    alice(&s, &["headnode", "start", "hn0"]).await.ok();
    let shown = alice(&s, &["headnode", "show", "hn0"]).await;
    assert!(shown.ok().contains("5900"), "{shown:#?}");
    // Frozen after the first start.
    alice(&s, &["headnode", "nic", "create", "hn0", "eth1"])
        .await
        .fails(1, "can no longer change");
    alice(&s, &["headnode", "network", "detach", "hn0", "eth0"])
        .await
        .fails(1, "can no longer change");
    alice(&s, &["headnode", "stop", "hn0"]).await.ok();
    let shown = alice(&s, &["headnode", "show", "hn0", "--json"])
        .await
        .json();
    assert_eq!(shown["vncport"], Value::Null);
    let listed = alice(&s, &["headnode", "list", "physics", "--json"]).await;
    assert_eq!(listed.json(), json!(["hn0"]));
    alice(&s, &["headnode", "delete", "hn0"]).await.ok();
    let listed = alice(&s, &["headnode", "list", "physics", "--json"]).await;
    assert_eq!(listed.json(), json!([]));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn obm_power_boot_device_and_console() {
    let s = TestServer::start().await;
    operator_setup(&s).await;
    let shown = admin(&s, &["node", "obm", "show", "n1"]).await;
    for want in ["mock", "bmc-n1", "root", "false"] {
        assert!(shown.ok().contains(want), "{shown:#?}");
    }
    assert!(!shown.stdout.contains("bmc-secret"));
    let api = s.ok("GET", "/v0/node/n1/obm_details", None).await;
    let json = admin(&s, &["node", "obm", "show", "n1", "--json"]).await;
    assert_eq!(json.json(), api);

    admin(&s, &["node", "obm", "enable", "n1"]).await.ok();
    admin(&s, &["node", "power", "on", "n1"]).await.ok();
    let status = admin(&s, &["node", "power", "status", "n1", "--json"]).await;
    assert_eq!(status.json(), json!({"power_status": "on"}));
    admin(&s, &["node", "power", "cycle", "n1", "--force"])
        .await
        .ok();
    admin(&s, &["node", "bootdev", "n1", "pxe"]).await.ok();
    admin(&s, &["node", "bootdev", "n1", "floppy"])
        .await
        .fails(1, "Invalid boot device");

    // `console show` follows the stream until interrupted.
    let mut console = tokio::process::Command::new(env!("CARGO_BIN_EXE_hil"))
        .args(["node", "console", "show", "n1"])
        .env_clear()
        .env("HOME", s.dir.path())
        .env("HIL_ENDPOINT", &s.url)
        .env("HIL_USERNAME", ADMIN.0)
        .env("HIL_PASSWORD", ADMIN.1)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = console.stdout.take().unwrap();
    let mut seen = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 1024];
        while !String::from_utf8_lossy(&seen).contains("line 2") {
            let n = stdout.read(&mut buf).await.unwrap();
            assert!(n > 0, "console ended early");
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "console output: {:?}",
        String::from_utf8_lossy(&seen)
    );
    assert!(String::from_utf8_lossy(&seen).contains("mock console of bmc-n1"));
    console.kill().await.unwrap();

    // Details change only while the OBM is disabled; the password comes from stdin.
    let set = [
        "node",
        "obm",
        "set",
        "n1",
        "--obm",
        "mock",
        "--bmc-host",
        "bmc-new",
    ];
    Hil::new(&s, Some(ADMIN))
        .stdin("new-secret\n")
        .run(&[&set[..], &["--bmc-user", "ops"]].concat())
        .await
        .fails(1, "disable it");
    admin(&s, &["node", "obm", "disable", "n1"]).await.ok();
    Hil::new(&s, Some(ADMIN))
        .stdin("new-secret\n")
        .run(&[&set[..], &["--bmc-user", "ops"]].concat())
        .await
        .ok();
    let shown = admin(&s, &["node", "obm", "show", "n1", "--json"]).await;
    assert_eq!(shown.json()["host"], "bmc-new");
    assert_eq!(shown.json()["user"], "ops");

    // HIL v0.4's obmd form is still accepted.
    Hil::new(&s, Some(ADMIN))
        .stdin("obm-token\n")
        .run(&["node", "register", "n3", "http://obmd.example/node/n3"])
        .await
        .ok();
    let shown = admin(&s, &["node", "obm", "show", "n3", "--json"]).await;
    assert_eq!(shown.json()["type"], "obmd");
    // Both forms at once are a usage error.
    let both = admin(
        &s,
        &["node", "register", "n4", "http://o/n4", "--obm", "mock"],
    )
    .await;
    assert_eq!(both.code, 2, "{both:#?}");
    assert!(both.stderr.contains("cannot be used with"), "{both:#?}");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_and_ports_with_slashes() {
    let s = TestServer::start().await;
    operator_setup(&s).await;
    admin(&s, &["node", "metadata", "add", "n1", "rack", "B12"])
        .await
        .ok();
    admin(
        &s,
        &[
            "node",
            "metadata",
            "add",
            "n1",
            "slots",
            "[1, 2]",
            "--json-value",
        ],
    )
    .await
    .ok();
    let node = s.ok("GET", "/v0/node/n1", None).await;
    assert_eq!(
        node["metadata"],
        json!({"rack": "\"B12\"", "slots": "[1,2]"})
    );
    let shown = admin(&s, &["node", "show", "n1"]).await;
    let rack = shown.ok().lines().find(|l| l.contains("rack")).unwrap();
    assert!(rack.contains("B12") && !rack.contains('"'), "{rack}");
    admin(&s, &["node", "metadata", "delete", "n1", "rack"])
        .await
        .ok();
    assert_eq!(
        s.ok("GET", "/v0/node/n1", None).await["metadata"],
        json!({"slots": "[1,2]"})
    );
    // Port names keep their slashes; labels with odd characters are one path segment.
    admin(&s, &["port", "register", "sw0", "te1/0/3"])
        .await
        .ok();
    let ports = s.ok("GET", "/v0/switch/sw0", None).await["ports"].clone();
    assert!(ports
        .as_array()
        .unwrap()
        .contains(&json!({"label": "te1/0/3"})));
    admin(&s, &["node", "show", "a b?c#d"])
        .await
        .fails(1, "a b?c#d");
    s.shutdown().await;
}

#[tokio::test]
async fn completions_version_and_help_need_no_server() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hil"))
            .args(["completions", shell])
            .env_clear()
            .env("HOME", dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(
            script.contains("networking-action"),
            "{shell} script lacks commands"
        );
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hil"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("hil {}", env!("CARGO_PKG_VERSION"))
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hil"))
        .args(["port", "revert", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success() && help.contains("--wait") && help.contains("Example"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_shows_a_spinner_only_on_a_terminal() {
    let s = TestServer::start().await;
    tenant_setup(&s).await;

    // `script` (util-linux, in every Debian) gives hil a pseudo-terminal.
    let command = format!(
        "{} node network connect n1 eth0 pnet --wait",
        env!("CARGO_BIN_EXE_hil")
    );
    let out = tokio::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", s.dir.path())
        .env("TERM", "xterm")
        .env("HIL_ENDPOINT", &s.url)
        .env("HIL_USERNAME", ADMIN.0)
        .env("HIL_PASSWORD", ADMIN.1)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("script(1) from util-linux");
    let terminal = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{terminal}");
    assert!(
        terminal.contains("waiting for networking action") && terminal.contains("s)"),
        "spinner with elapsed time expected: {terminal:?}"
    );
    assert!(terminal.contains("DONE"));

    // Piped, the same wait prints the result and nothing else.
    admin(
        &s,
        &["node", "network", "detach", "n1", "eth0", "pnet", "--wait"],
    )
    .await
    .ok();
    let out = admin(
        &s,
        &["node", "network", "connect", "n1", "eth0", "pnet", "--wait"],
    )
    .await;
    out.ok();
    assert!(!out.stdout.contains("waiting"));
    s.shutdown().await;
}

/// A tenant of a Keystone-backed server works with the usual OpenStack variables, or with an
/// entry of clouds.yaml; bad or missing credentials end in one clear line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_workflow_with_keystone_credentials() {
    let Some(ks) = keystone::Keystone::start().await else {
        return;
    };
    let physics = ks.project("physics").await;
    ks.user("alice", "alice-pw", "member", &[&physics]).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::test_config(dir.path()).await;
    ks.configure(&mut config.auth).await;
    let mut s = TestServer::start_with(dir, config, true).await;
    s.admin_token = Some(ks.admin_token().await);
    // The operator, through the API: a cabled node in the project named after physics' id.
    s.switch("sw0").await;
    s.cabled_node("n1", "sw0", "gi1/0/1").await;
    s.project(&physics).await;
    s.reserve(&physics, "n1").await;

    fn os<'a>(hil: Hil<'a>, auth_url: &str) -> Hil<'a> {
        hil.env("OS_AUTH_URL", auth_url)
            .env("OS_USERNAME", "alice")
            .env("OS_PROJECT_NAME", "physics")
            .env("OS_USER_DOMAIN_NAME", "Default")
            .env("OS_PROJECT_DOMAIN_ID", "default")
    }
    let url = ks.url();
    let alice = os(Hil::new(&s, None), &url).env("OS_PASSWORD", "alice-pw");
    let nodes = alice.run(&["project", "node", "list", &physics]).await;
    assert!(nodes.ok().contains("n1"), "{nodes:#?}");
    alice
        .run(&["network", "create", "pnet", &physics])
        .await
        .ok();
    let out = alice
        .run(&["node", "network", "connect", "n1", "eth0", "pnet", "--wait"])
        .await;
    assert!(out.ok().contains("DONE"), "{out:#?}");
    let shown = alice.run(&["node", "show", "n1"]).await;
    assert!(shown.ok().contains("pnet(vlan/native)"), "{shown:#?}");
    // Admin-only calls stay refused for a member.
    alice
        .run(&["switch", "list"])
        .await
        .fails(1, "administrator-only");

    // clouds.yaml, with the password from the environment.
    let yaml = format!(
        "clouds:\n  moc:\n    auth:\n      auth_url: {}\n      username: alice\n      \
         project_name: physics\n      user_domain_name: Default\n      \
         project_domain_name: Default\n",
        ks.url()
    );
    let clouds = s.dir.path().join("clouds.yaml");
    std::fs::write(&clouds, yaml).unwrap();
    let cloud = Hil::new(&s, None)
        .env("OS_CLOUD", "moc")
        .env("OS_CLIENT_CONFIG_FILE", clouds.to_str().unwrap())
        .env("OS_PASSWORD", "alice-pw");
    let networks = cloud
        .run(&["project", "list-networks", &physics, "--json"])
        .await;
    assert_eq!(networks.json(), json!(["pnet"]));

    // A wrong password: Keystone's refusal, in one line, exit 1; no password echoed.
    let wrong = os(Hil::new(&s, None), &url).env("OS_PASSWORD", "not-alice-pw");
    let out = wrong.run(&["project", "node", "list", &physics]).await;
    out.fails(1, "refused alice (HTTP 401)");
    assert!(!out.stderr.contains("not-alice-pw"));
    // Something missing: a usage error naming it.
    os(Hil::new(&s, None), &url)
        .run(&["node", "list", "free"])
        .await
        .fails(2, "OS_PASSWORD");
    s.shutdown().await;
}
