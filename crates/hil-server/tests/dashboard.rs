//! The web dashboard (`/ui/`): how it is served, and the tenant story driven in a real browser,
//! with HIL's own users and with Keystone tokens (the Keystone lab, `lab::keystone`).
//!
//! The browser test runs headless Chromium through `chromedriver` (Debian's `chromium` and
//! `chromium-driver`, which `scripts/test.sh` installs); without them it skips, unless
//! `HIL_LAB_REQUIRED=1`. It saves a PNG screenshot of each step in the directory named by
//! `HIL_DASHBOARD_SCREENSHOTS`, by default `dashboard-screenshots/` in the cargo target
//! directory (e.g. `target/dashboard-screenshots/`).

mod common;
mod lab;

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use fantoccini::{Client, ClientBuilder, Locator};
use hil_server::config::ProjectMatch;
use lab::keystone::Keystone;
use serde_json::{json, Value};

// ---- serving the page ----

#[tokio::test]
async fn the_page_is_served_with_strict_headers() {
    let s = TestServer::start().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (path, content_type, needle) in [
        ("/ui/", "text/html; charset=utf-8", "<script src=\"app.js\""),
        ("/ui/app.js", "text/javascript; charset=utf-8", "/whoami"),
        ("/ui/app.css", "text/css; charset=utf-8", "#error"),
    ] {
        let r = http.get(format!("{}{path}", s.url)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers().clone();
        assert_eq!(h["content-type"], content_type, "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
        let body = r.text().await.unwrap();
        assert!(body.contains(needle), "{path}");
    }
    // No inline script: every <script> loads a file.
    let page = http
        .get(format!("{}/ui/", s.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(page.matches("<script").count(), 1);
    assert!(!page.contains("onclick="));

    let r = http.get(format!("{}/ui", s.url)).send().await.unwrap();
    assert_eq!(r.status(), 308);
    assert_eq!(r.headers()["location"], "/ui/");

    // The API's answers for unknown paths and methods, and OPTIONS, still hold around it.
    s.call(None, "GET", "/ui/nothing-here", None)
        .await
        .err(404, "NotFoundError");
    s.call(None, "POST", "/ui/", None)
        .await
        .err(405, "MethodNotAllowedError");
    let r = s.call(None, "OPTIONS", "/ui/", None).await;
    assert_eq!(r.status, 204);
    s.shutdown().await;
}

/// The queue (`GET /v0/networking_actions`, an extension): all of it for administrators, a
/// project's for its members.
#[tokio::test]
async fn administrators_list_the_networking_queue() {
    let s = TestServer::start().await;
    s.switch("sw").await;
    s.project("physics").await;
    s.user("alice", "alice-pw", false, &["physics"]).await;
    s.cabled_node("n1", "sw", "gi1/0/1").await;
    s.reserve("physics", "n1").await;
    s.network("pnet", "physics", "physics", "").await;
    assert_eq!(s.ok("GET", "/v0/networking_actions", None).await, json!([]));
    let id = s.queue_connect("n1", "pnet").await;
    s.wait_action(&id).await;
    let queue = s.ok("GET", "/v0/networking_actions", None).await;
    assert_eq!(
        queue,
        json!([{"status_id": id, "status": "DONE", "type": "modify_port", "node": "n1",
                "nic": "eth0", "switch": "sw", "port": "gi1/0/1", "channel": "vlan/native",
                "new_network": "pnet", "error": null, "attempts": 0, "claimed_by": null}])
    );
    let alice = Some(("alice", "alice-pw"));
    s.call(alice, "GET", "/v0/networking_actions", None)
        .await
        .err(401, "AuthorizationError");
    s.call(None, "GET", "/v0/networking_actions", None)
        .await
        .err(401, "AuthorizationError");

    // A project's members see the actions on its nodes, without the switch side.
    let r = s
        .call(alice, "GET", "/v0/networking_actions?project=physics", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json,
        json!([{"status_id": id, "status": "DONE", "type": "modify_port", "node": "n1",
                "nic": "eth0", "switch": null, "port": null, "channel": "vlan/native",
                "new_network": "pnet", "error": null, "attempts": 0, "claimed_by": null}])
    );
    // Another project's queue is empty; one the caller is not in is refused.
    s.project("chem").await;
    s.user("bob", "bob-pw", false, &["chem"]).await;
    let bob = Some(("bob", "bob-pw"));
    let r = s
        .call(bob, "GET", "/v0/networking_actions?project=chem", None)
        .await;
    assert_eq!(r.json, json!([]), "{}", r.text);
    s.call(bob, "GET", "/v0/networking_actions?project=physics", None)
        .await
        .err(401, "AuthorizationError");
    // Administrators may filter too, and see the switch side.
    let mine = s
        .ok("GET", "/v0/networking_actions?project=physics", None)
        .await;
    assert_eq!(mine[0]["port"], "gi1/0/1");
    s.shutdown().await;
}

// ---- the browser ----

/// `chromedriver` on a free port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Driver {
        let port = lab::free_tcp_port();
        // A process group of its own, so that dropping the driver also ends the browsers it
        // started, even when a failed test never closed its session.
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn browser(driver: &Driver) -> Client {
    let mut options = json!({
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
                 "--disable-dev-shm-usage"],
    });
    if std::path::Path::new("/usr/bin/chromium").exists() {
        options["binary"] = json!("/usr/bin/chromium");
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), options);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session")
}

fn screenshot_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("HIL_DASHBOARD_SCREENSHOTS") {
        return PathBuf::from(dir);
    }
    // The test binary is <target>/<profile>/deps/dashboard-<hash>.
    let exe = std::env::current_exe().expect("current exe");
    let target = exe
        .ancestors()
        .nth(3)
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    target.join("dashboard-screenshots")
}

async fn screenshot(c: &Client, name: &str) {
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let png = c.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).expect("write screenshot");
    eprintln!("screenshot: {}", path.display());
}

/// Evaluates `expr` (a JavaScript expression) in the page.
async fn js(c: &Client, expr: &str) -> Value {
    c.execute(&format!("return ({expr});"), vec![])
        .await
        .unwrap_or_else(|e| panic!("{expr}: {e}"))
}

/// Waits until `expr` is true in the page; panics (with a screenshot) after 20 s.
async fn wait_for(c: &Client, expr: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if js(c, expr).await == json!(true) {
            return;
        }
        if Instant::now() > deadline {
            screenshot(c, &format!("failed-{}", what.replace(' ', "-"))).await;
            let error = js(c, "document.getElementById('error').textContent").await;
            panic!("timed out waiting for {what} ({expr}); page error: {error}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn fill(c: &Client, css: &str, text: &str) {
    let field = c.find(Locator::Css(css)).await.expect(css);
    field.clear().await.expect("clear");
    field.send_keys(text).await.expect("type");
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Debian's Chromium and chromedriver, or a skip (a failure under `HIL_LAB_REQUIRED=1`).
fn chromium_available() -> bool {
    lab::available(
        "chromium",
        lab::missing_program(&["chromium", "chromedriver"]),
    )
}

/// Waits for the page to show an error, and returns its text.
async fn shown_error(c: &Client, what: &str) -> String {
    wait_for(c, "!document.getElementById('error').hidden", what).await;
    let error = js(c, "document.getElementById('error').textContent").await;
    error.as_str().unwrap_or_default().to_string()
}

/// Signs out, and checks that the page forgot the credentials.
async fn sign_out(c: &Client) {
    click(c, "#sign-out").await;
    wait_for(
        c,
        "!document.getElementById('login').hidden",
        "the sign-in form again",
    )
    .await;
    assert_eq!(
        js(c, "sessionStorage.getItem('hil-auth')").await,
        Value::Null
    );
    assert_eq!(js(c, "localStorage.length").await, json!(0));
}

fn port_vlans(s: &TestServer) -> Value {
    s.mock_state("sw")
        .get("gi1/0/1")
        .cloned()
        .unwrap_or(json!({}))
}

/// Sign in as a tenant, see only the project's nodes, connect a nic to a network and watch
/// the action reach DONE (and the switch carry the VLAN), detach it again; an action started
/// elsewhere shows up live; a refused power cycle shows its error, an allowed one powers the
/// node on; then the administrator's view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_connects_a_node_in_the_browser() {
    if !chromium_available() {
        return;
    }
    let s = TestServer::start().await;
    s.switch("sw").await;
    s.project("physics").await;
    s.project("chem").await;
    s.user("alice", "alice-pw", false, &["physics"]).await;
    s.user("bob", "bob-pw", false, &["chem"]).await;
    s.cabled_node("n1", "sw", "gi1/0/1").await;
    s.reserve("physics", "n1").await;
    s.node("c1").await;
    s.reserve("chem", "c1").await;
    s.network("pnet", "physics", "physics", "").await;
    s.network("cnet", "chem", "chem", "").await;
    let vlan = s.vlan_of("pnet").await.to_string();

    let driver = Driver::start();
    let c = browser(&driver).await;
    c.goto(&format!("{}/ui", s.url))
        .await
        .expect("open the page");
    wait_for(
        &c,
        "!!document.getElementById('login-form')",
        "the sign-in form",
    )
    .await;
    screenshot(&c, "01-sign-in").await;

    // A wrong password: the API's error is shown, and the page stays at the sign-in form.
    fill(&c, "#login-user", "alice").await;
    fill(&c, "#login-password", "not-her-password").await;
    click(&c, "#login-submit").await;
    let error = shown_error(&c, "the sign-in error").await;
    assert!(error.contains("AuthorizationError"), "{error}");
    assert!(error.contains("Authentication failed"), "{error}");
    assert_eq!(js(&c, "document.getElementById('app').hidden").await, true);
    screenshot(&c, "02-wrong-password").await;

    // alice signs in and sees her project's node and network, nothing of chem.
    fill(&c, "#login-password", "alice-pw").await;
    click(&c, "#login-submit").await;
    wait_for(
        &c,
        "!!document.querySelector('tr[data-node=\"n1\"] select[data-nic=\"eth0\"] option')",
        "node n1 and its nic",
    )
    .await;
    assert_eq!(
        js(&c, "document.getElementById('error').hidden").await,
        true
    );
    assert_eq!(
        js(
            &c,
            "[...document.querySelectorAll('#project option')].map(o => o.value)"
        )
        .await,
        json!(["physics"])
    );
    assert_eq!(
        js(
            &c,
            "[...document.querySelectorAll('#nodes tr[data-node]')].map(r => r.dataset.node)"
        )
        .await,
        json!(["n1"])
    );
    assert_eq!(
        js(
            &c,
            "[...document.querySelectorAll('#networks li')].map(r => r.textContent)"
        )
        .await,
        json!(["pnet"])
    );
    assert_eq!(
        js(&c, "document.getElementById('admin').hidden").await,
        true
    );
    let text = js(&c, "document.body.innerText").await;
    let text = text.as_str().unwrap();
    assert!(!text.contains("c1") && !text.contains("chem") && !text.contains("cnet"));
    assert!(text.contains("alice"), "{text}");
    wait_for(
        &c,
        "document.querySelector('tr[data-node=\"n1\"] .power').textContent !== '…'",
        "n1's power state",
    )
    .await;
    screenshot(&c, "03-tenant-view").await;

    // Connect n1's eth0 to pnet and watch the action go to DONE.
    click(&c, "tr[data-node=\"n1\"] button[data-do=\"connect\"]").await;
    wait_for(
        &c,
        "!!document.querySelector('#actions tr[data-action-id]')",
        "the action row",
    )
    .await;
    wait_for(
        &c,
        "document.querySelector('#actions tr[data-action-id] .status').textContent === 'DONE'",
        "the connect action to be DONE",
    )
    .await;
    assert_eq!(port_vlans(&s), json!({ "vlan/native": vlan }));
    // The page refreshes: n1's nic now shows the network, with a Detach button.
    wait_for(
        &c,
        "!!document.querySelector('tr[data-node=\"n1\"] li[data-network=\"pnet\"] button')",
        "pnet attached to n1",
    )
    .await;
    screenshot(&c, "04-connected").await;

    // Detach it again.
    click(
        &c,
        "tr[data-node=\"n1\"] li[data-network=\"pnet\"] button[data-do=\"detach\"]",
    )
    .await;
    wait_for(
        &c,
        "document.querySelector('#actions tr[data-action-id] .kind').textContent === 'detach' && \
         document.querySelector('#actions tr[data-action-id] .status').textContent === 'DONE'",
        "the detach action to be DONE",
    )
    .await;
    assert_eq!(port_vlans(&s), json!({}));
    wait_for(
        &c,
        "!document.querySelector('tr[data-node=\"n1\"] li[data-network]')",
        "n1 without networks",
    )
    .await;
    screenshot(&c, "05-detached").await;

    // An action started elsewhere (here the administrator, through the API) shows up by
    // itself, and so does its outcome on the node.
    let elsewhere = s.queue_connect("n1", "pnet").await;
    wait_for(
        &c,
        &format!(
            "!!document.querySelector('#actions tr[data-action-id=\"{elsewhere}\"]') && \
             !!document.querySelector('tr[data-node=\"n1\"] li[data-network=\"pnet\"]')"
        ),
        "the action started elsewhere and its network",
    )
    .await;
    assert_eq!(port_vlans(&s), json!({ "vlan/native": vlan }));

    // Power-cycling a node whose OBM is off: the API's refusal is shown.
    click(&c, "tr[data-node=\"n1\"] button[data-do=\"power-cycle\"]").await;
    let error = shown_error(&c, "the power-cycle error").await;
    assert!(error.contains("BlockedError"), "{error}");
    screenshot(&c, "06-power-cycle-refused").await;

    // With the OBM enabled (and the node off), the power cycle goes through and the node
    // shows as on.
    s.ok("PUT", "/v0/node/n1/obm", Some(json!({"enabled": true})))
        .await;
    s.ok("POST", "/v0/node/n1/power_off", None).await;
    click(&c, "#refresh").await;
    wait_for(
        &c,
        "document.querySelector('tr[data-node=\"n1\"] .power')?.textContent === 'off'",
        "n1 off",
    )
    .await;
    click(&c, "tr[data-node=\"n1\"] button[data-do=\"power-cycle\"]").await;
    wait_for(
        &c,
        "document.querySelector('tr[data-node=\"n1\"] .power')?.textContent === 'on'",
        "n1 on after the power cycle",
    )
    .await;
    assert_eq!(
        js(&c, "document.getElementById('error').hidden").await,
        true
    );
    let status = s.ok("GET", "/v0/node/n1/power_status", None).await;
    assert_eq!(status["power_status"], "on");
    screenshot(&c, "07-power-cycled").await;

    // Signing out forgets the credentials.
    sign_out(&c).await;

    // Someone changed the port behind HIL's back; the audit reports it (repair = "report").
    s.set_mock_state("sw", json!({"gi1/0/1": {}}));
    let audit = s.audited("sw").await;
    assert_eq!(audit["last_result"], "drift", "{audit}");

    // The administrator sees both projects, the switch, the drift and the audit log.
    fill(&c, "#login-user", ADMIN.0).await;
    fill(&c, "#login-password", ADMIN.1).await;
    click(&c, "#login-submit").await;
    wait_for(
        &c,
        "!!document.querySelector('#switches [data-switch=\"sw\"]') && \
         document.querySelectorAll('#audit-log tbody tr').length > 0",
        "the administrator's view",
    )
    .await;
    assert_eq!(
        js(
            &c,
            "[...document.querySelectorAll('#project option')].map(o => o.value)"
        )
        .await,
        json!(["chem", "physics"])
    );
    let switches = js(&c, "document.getElementById('switches').textContent").await;
    assert!(switches.as_str().unwrap().contains("gi1/0/1"), "{switches}");
    let log = js(&c, "document.getElementById('audit-log').textContent").await;
    assert!(
        log.as_str()
            .unwrap()
            .contains("POST /v0/node/n1/nic/eth0/connect_network"),
        "{log}"
    );
    let queue = js(
        &c,
        "[...document.querySelectorAll('#queue tr[data-queued] td')].map(t => t.textContent)",
    )
    .await;
    assert_eq!(
        queue,
        json!([
            "DONE",
            "modify_port",
            "n1 / eth0",
            "sw / gi1/0/1",
            "vlan/native",
            "pnet",
            "0",
            ""
        ])
    );
    wait_for(
        &c,
        "!!document.querySelector('#drift tr[data-port=\"sw/gi1/0/1\"]')",
        "the drift row",
    )
    .await;
    let drift = js(
        &c,
        "[...document.querySelectorAll('#drift tr[data-port=\"sw/gi1/0/1\"] td')]\
         .map(t => t.textContent)",
    )
    .await;
    assert_eq!(drift[0], "sw / gi1/0/1", "{drift}");
    assert_eq!(drift[1], "n1 / eth0");
    assert_eq!(drift[2], format!("vlan/native={vlan}").as_str());
    assert_eq!(drift[3], "none");
    assert_eq!(drift[4], "-", "no foreign VLAN");
    assert_eq!(
        js(
            &c,
            "document.querySelector('#audits tr[data-switch=\"sw\"] .result').textContent"
        )
        .await,
        "drift"
    );
    screenshot(&c, "08-admin-view").await;

    c.close().await.expect("close the browser");
    drop(driver);
    s.shutdown().await;
}

/// With the Keystone auth backend the page asks for a token (the API's OpenAPI document says
/// how it authenticates): a garbage token is refused, a tenant's token shows its project.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keystone_user_signs_in_with_a_token() {
    if !chromium_available() {
        return;
    }
    let Some(ks) = Keystone::start().await else {
        return;
    };
    let physics = ks.project("physics").await;
    ks.project("chem").await;
    ks.user("alice", "alice-pw", "member", &[&physics]).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path()).await;
    ks.configure(&mut config.auth).await;
    config.auth.keystone.project_match = ProjectMatch::Name;
    let mut s = TestServer::start_with(dir, config, true).await;
    s.admin_token = Some(ks.admin_token().await);
    for (project, node) in [("physics", "n1"), ("chem", "c1")] {
        s.project(project).await;
        s.node(node).await;
        s.reserve(project, node).await;
    }
    let token = ks.token("alice", "alice-pw", "physics").await;

    let driver = Driver::start();
    let c = browser(&driver).await;
    c.goto(&format!("{}/ui/", s.url))
        .await
        .expect("open the page");
    wait_for(
        &c,
        "!document.getElementById('token-form').hidden && \
         document.getElementById('login-form').hidden",
        "the token form",
    )
    .await;
    screenshot(&c, "k1-token-sign-in").await;

    fill(&c, "#login-token", "not-a-token").await;
    click(&c, "#token-submit").await;
    let error = shown_error(&c, "the refused token").await;
    assert!(error.contains("AuthorizationError"), "{error}");

    fill(&c, "#login-token", &token).await;
    click(&c, "#token-submit").await;
    wait_for(
        &c,
        "!!document.querySelector('#nodes tr[data-node=\"n1\"]')",
        "alice's node",
    )
    .await;
    assert_eq!(
        js(&c, "document.getElementById('whoami').textContent").await,
        "keystone:alice"
    );
    assert_eq!(
        js(
            &c,
            "[...document.querySelectorAll('#project option')].map(o => o.value)"
        )
        .await,
        json!(["physics"])
    );
    let text = js(&c, "document.body.innerText").await;
    assert!(!text.as_str().unwrap().contains("c1"), "{text}");
    assert_eq!(
        js(&c, "document.getElementById('admin').hidden").await,
        true
    );
    screenshot(&c, "k2-keystone-tenant").await;

    sign_out(&c).await;
    c.close().await.expect("close the browser");
    drop(driver);
    s.shutdown().await;
}
