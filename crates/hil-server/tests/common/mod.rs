//! Test harness: a real server on a random port over a fresh database (SQLite, or PostgreSQL
//! when `HIL_TEST_DB=postgres` with `HIL_TEST_PG_URL`), driven over HTTP.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hil_server::config::Config;
use reqwest::Method;
use serde_json::{json, Value};

pub const ADMIN: (&str, &str) = ("admin", "admin-pw");
pub const MOCK: &str = "http://schema.massopencloud.org/haas/v0/switches/mock";
pub const MOCK_OBM: &str = "http://schema.massopencloud.org/haas/v0/obm/mock";

pub fn use_postgres() -> bool {
    std::env::var("HIL_TEST_DB").is_ok_and(|v| v == "postgres")
}

/// A database URL for one test: a temp SQLite file, or a fresh PostgreSQL database.
pub async fn fresh_database_url(dir: &std::path::Path) -> String {
    if !use_postgres() {
        return format!("sqlite://{}?mode=rwc", dir.join("hil.db").display());
    }
    let base =
        std::env::var("HIL_TEST_PG_URL").expect("HIL_TEST_DB=postgres needs HIL_TEST_PG_URL");
    let name = format!("hil_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create database");
    let mut url = url::Url::parse(&base).expect("pg url");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

pub struct TestServer {
    pub url: String,
    pub dir: tempfile::TempDir,
    pub config: Config,
    pub ctx: Arc<hil_server::ops::Ctx>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<Result<(), String>>>,
    http: reqwest::Client,
    /// With the Keystone backend: the administrator's token, which `admin` and `ok` send.
    pub admin_token: Option<String>,
    /// With the Keystone backend: the token `call` sends for a (user, password); credentials
    /// not listed send a token Keystone never issued.
    pub tokens: std::collections::HashMap<(String, String), String>,
}

/// Base configuration for tests: fast worker polling, known admin password.
pub async fn test_config(dir: &std::path::Path) -> Config {
    let mut config = Config {
        data_dir: dir.to_path_buf(),
        ..Config::default()
    };
    config.database.url = Some(fresh_database_url(dir).await);
    config.auth.bootstrap_password = Some(ADMIN.1.into());
    config.auth.cache_ttl_secs = 60;
    config.allocator.vlans = "1001-1040".into();
    config.worker.poll_interval_secs = 0.05;
    config.worker.claim_lease_secs = 2;
    config.worker.retry_backoff_secs = 0.05;
    // Audits run when a test asks for one (`audited`), so that none changes a port under a
    // test that set it up by hand.
    config.audit.interval_secs = 0.0;
    config.log = "warn".into();
    config
}

impl TestServer {
    pub async fn start() -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = test_config(dir.path()).await;
        Self::start_with(dir, config, true).await
    }

    /// A server over the test configuration as `tweak` changes it, without the worker.
    pub async fn start_tweaked(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = test_config(dir.path()).await;
        tweak(&mut config);
        Self::start_with(dir, config, false).await
    }

    pub async fn start_with(dir: tempfile::TempDir, config: Config, worker: bool) -> TestServer {
        let ctx = hil_server::context(config.clone()).await.expect("context");
        hil_server::create_database(&ctx).await.expect("db create");
        hil_server::bootstrap_admin(&ctx).await.expect("bootstrap");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let options = hil_server::ServeOptions { worker };
        let shutdown = async move {
            let _ = stopped.await;
        };
        let handle = tokio::spawn(hil_server::serve(ctx.clone(), listener, options, shutdown));
        TestServer {
            url,
            dir,
            config,
            ctx,
            stop: Some(stop),
            handle: Some(handle),
            http: reqwest::Client::new(),
            admin_token: None,
            tokens: Default::default(),
        }
    }

    pub async fn shutdown(self) {
        self.stop().await;
    }

    /// Stops the server and hands back its directory (and so its SQLite database), for a
    /// test that starts another server on the same data.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
        self.ctx.store.close().await;
        self.dir
    }

    /// Sends a request as `user` (None = no credentials) and returns status and body.
    pub async fn call(
        &self,
        user: Option<(&str, &str)>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Resp {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{}", self.url, path));
        if let Some(user) = user {
            req = self.authenticated(req, user);
        }
        Self::send(req, body).await
    }

    async fn send(mut req: reqwest::RequestBuilder, body: Option<Value>) -> Resp {
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        Resp::read(req.send().await.expect("request")).await
    }

    /// HTTP basic credentials, or with Keystone the token issued for them (see `tokens`).
    fn authenticated(
        &self,
        req: reqwest::RequestBuilder,
        (user, password): (&str, &str),
    ) -> reqwest::RequestBuilder {
        if self.tokens.is_empty() {
            return req.basic_auth(user, Some(password));
        }
        let token = self
            .tokens
            .get(&(user.to_string(), password.to_string()))
            .map_or("a-token-keystone-never-issued", String::as_str);
        req.header("X-Auth-Token", token)
    }

    /// Sends a request with a Keystone token in `X-Auth-Token` (None = no token).
    pub async fn call_token(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Resp {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{}", self.url, path));
        if let Some(token) = token {
            req = req.header("X-Auth-Token", token);
        }
        Self::send(req, body).await
    }

    pub async fn raw(
        &self,
        user: Option<(&str, &str)>,
        method: &str,
        path: &str,
        body: Vec<u8>,
    ) -> Resp {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}{}", self.url, path))
            .body(body);
        if let Some(user) = user {
            req = self.authenticated(req, user);
        }
        Resp::read(req.send().await.expect("request")).await
    }

    /// As the administrator.
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        match &self.admin_token {
            Some(token) => self.call_token(Some(token), method, path, body).await,
            None => self.call(Some(ADMIN), method, path, body).await,
        }
    }

    /// As the administrator, expecting success.
    pub async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let r = self.admin(method, path, body).await;
        assert!(
            r.status == 200 || r.status == 202,
            "{method} {path}: {} {}",
            r.status,
            r.text
        );
        r.json
    }

    pub fn mock_state(&self, switch: &str) -> Value {
        let path = self.config.mock_state_dir().join(format!("{switch}.json"));
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap(),
            Err(_) => json!({}),
        }
    }

    /// Overwrites a mock switch's state behind HIL's back (`port → {channel → vlan}`).
    pub fn set_mock_state(&self, switch: &str, state: Value) {
        let dir = self.config.mock_state_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{switch}.json"));
        std::fs::write(path, serde_json::to_vec_pretty(&state).unwrap()).unwrap();
    }

    /// Asks for an audit of `switch` (202) and returns its state once it has finished.
    pub async fn audited(&self, switch: &str) -> Value {
        let path = format!("/v0/switch/{switch}/audit");
        let before = self.ok("GET", &path, None).await["counters"]["audits"].clone();
        let r = self.admin("POST", &path, None).await;
        assert_eq!(r.status, 202, "{}", r.text);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let state = self.ok("GET", &path, None).await;
            if state["counters"]["audits"] != before && state["state"] == "IDLE" {
                return state;
            }
            assert!(
                Instant::now() < deadline,
                "audit of {switch} never finished: {state}"
            );
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    /// Polls until no networking action is PENDING (repairs included).
    pub async fn queue_drained(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut c = self.ctx.store.single_read().await.unwrap();
            let pending: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM networking_action WHERE status = 'PENDING'",
            )
            .fetch_one(&mut *c)
            .await
            .unwrap();
            if pending == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{pending} actions stayed PENDING"
            );
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    pub fn mock_fail(&self, switch: &str, message: Option<&str>) {
        let dir = self.config.mock_state_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path: PathBuf = dir.join(format!("{switch}.fail"));
        match message {
            Some(m) => std::fs::write(path, m).unwrap(),
            None => {
                let _ = std::fs::remove_file(path);
            }
        }
    }

    /// Polls a networking action until it leaves PENDING.
    pub async fn wait_action(&self, status_id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let r = self
                .admin("GET", &format!("/v0/networking_action/{status_id}"), None)
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            if r.json["status"] != "PENDING" {
                return r.json;
            }
            assert!(
                Instant::now() < deadline,
                "action {status_id} stayed PENDING"
            );
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    /// Makes an admin call that queues a networking action (202, or 200 for a revert) and
    /// returns the action once it has left PENDING.
    pub async fn queued(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let r = self.admin(method, path, body).await;
        assert!(
            r.status == 202 || r.status == 200,
            "{method} {path}: {}",
            r.text
        );
        self.wait_action(r.json["status_id"].as_str().unwrap())
            .await
    }

    /// Queues connecting `node`'s `eth0` to `network` (202) and returns the action's id.
    pub async fn queue_connect(&self, node: &str, network: &str) -> String {
        let r = self
            .admin(
                "POST",
                &format!("/v0/node/{node}/nic/eth0/connect_network"),
                Some(json!({ "network": network })),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        r.json["status_id"].as_str().unwrap().to_string()
    }

    /// The VLAN of a network allocated from vlan_pool, read from its `vlan/<id>` channel.
    pub async fn vlan_of(&self, network: &str) -> u16 {
        let net = self
            .ok("GET", &format!("/v0/network/{network}"), None)
            .await;
        net["channels"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|c| c.as_str()?.strip_prefix("vlan/")?.parse().ok())
            .expect("a vlan/<id> channel")
    }

    // ---- fixtures ----

    pub async fn user(&self, name: &str, password: &str, admin: bool, projects: &[&str]) {
        self.ok(
            "PUT",
            &format!("/v0/auth/basic/user/{name}"),
            Some(json!({"password": password, "is_admin": admin})),
        )
        .await;
        for p in projects {
            self.ok(
                "POST",
                &format!("/v0/auth/basic/user/{name}/add_project"),
                Some(json!({"project": p})),
            )
            .await;
        }
    }

    pub async fn project(&self, name: &str) {
        self.ok("PUT", &format!("/v0/project/{name}"), None).await;
    }

    /// Project `project` reserves `node` (`project_connect_node`, as the administrator).
    pub async fn reserve(&self, project: &str, node: &str) {
        self.ok(
            "POST",
            &format!("/v0/project/{project}/connect_node"),
            Some(json!({ "node": node })),
        )
        .await;
    }

    /// A node with a mock OBM (BMC host `bmc-<name>`).
    pub async fn node(&self, name: &str) {
        // The mock OBM: enabling and disabling it needs no outside service.
        let obm = json!({"type": MOCK_OBM, "host": format!("bmc-{name}"), "user": "root",
                         "password": "bmc-secret"});
        let body = json!({ "obm": obm });
        self.ok("PUT", &format!("/v0/node/{name}"), Some(body))
            .await;
    }

    pub async fn switch(&self, name: &str) {
        let body = json!({"type": MOCK, "hostname": "sw.example", "username": "u", "password": "switch-secret"});
        self.ok("PUT", &format!("/v0/switch/{name}"), Some(body))
            .await;
    }

    /// A node with nic `eth0` cabled to `switch`'s `port`.
    pub async fn cabled_node(&self, node: &str, switch: &str, port: &str) {
        self.node(node).await;
        self.ok(
            "PUT",
            &format!("/v0/node/{node}/nic/eth0"),
            Some(json!({"macaddr": "de:ad:be:ef:00:01"})),
        )
        .await;
        self.ok("PUT", &format!("/v0/switch/{switch}/port/{port}"), None)
            .await;
        self.ok(
            "POST",
            &format!("/v0/switch/{switch}/port/{port}/connect_nic"),
            Some(json!({"node": node, "nic": "eth0"})),
        )
        .await;
    }

    /// Cables a new node `node` (nic `eth0`) to `port` of switch `sw`, reserves it for project
    /// `p` and connects it to `network`, which the switch must refuse. Returns the failed
    /// action's error.
    pub async fn refused_connect(&self, node: &str, port: &str, network: &str) -> String {
        self.cabled_node(node, "sw", port).await;
        self.reserve("p", node).await;
        let action = self
            .queued(
                "POST",
                &format!("/v0/node/{node}/nic/eth0/connect_network"),
                Some(json!({"network": network})),
            )
            .await;
        assert_eq!(action["status"], "ERROR", "{action}");
        action["error"]
            .as_str()
            .expect("an error message")
            .to_string()
    }

    pub async fn network(&self, name: &str, owner: &str, access: &str, net_id: &str) {
        self.ok(
            "PUT",
            &format!("/v0/network/{name}"),
            Some(json!({"owner": owner, "access": access, "net_id": net_id})),
        )
        .await;
    }
}

/// The drift record of `port` in a `GET /drift` answer.
pub fn drift_of<'a>(list: &'a Value, port: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|d| d["port"] == port)
        .unwrap_or_else(|| panic!("no drift for {port} in {list}"))
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub text: String,
    pub json: Value,
}

impl Resp {
    async fn read(resp: reqwest::Response) -> Resp {
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, text, json }
    }

    /// Asserts a HIL error body of the given type and status.
    #[track_caller]
    pub fn err(&self, status: u16, error_type: &str) {
        assert_eq!(self.status, status, "body: {}", self.text);
        assert_eq!(self.json["type"], error_type, "body: {}", self.text);
        assert!(self.json["msg"].is_string(), "body: {}", self.text);
    }

    #[track_caller]
    pub fn empty_ok(&self) {
        assert_eq!(self.status, 200, "body: {}", self.text);
        assert_eq!(
            self.text, "",
            "successful calls without output answer an empty body"
        );
    }
}
