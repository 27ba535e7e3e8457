//! A real OpenStack Keystone (v3 API, fernet tokens, SQLite) on loopback, for the `keystone`
//! auth backend: projects, users, role assignments and tokens made by the test, validated the
//! way a service validates them.
//!
//! Keystone runs from a Python venv (`$HIL_KEYSTONE_VENV`, default
//! `~/.cache/hil-lab/venv-keystone`, with `keystone==30.0.0` and `gunicorn==27.0.1`, made by
//! `scripts/test.sh`) through `lab/keystone.sh`. Each [`Keystone`] gets a fresh state dir and
//! port; the bootstrap admin's password is random.
//!
//! # Facts verified against Keystone 30.0.0 (by hand and by `tests/keystone_lab.rs`)
//!
//! * **Start-up** took 10.5 s on a 2-core machine (15-17 s while cargo compiled alongside):
//!   about 8 s are the four `keystone-manage` steps, 2 s gunicorn loading Keystone. Start
//!   one per test binary where possible. A Keystone kept in a `static` is never dropped, so
//!   `lab/keystone.sh` watches the test process and stops gunicorn within a second of its exit.
//! * **Bootstrap** makes user `admin` (project `admin`, Default domain) and the roles `admin`,
//!   `manager`, `member`, `reader` and `service`. Roles imply others: a `member` token lists
//!   `member` and `reader`; an `admin` token lists `admin`, `manager`, `member`, `reader`.
//!   There is no `service` project until [`Keystone::service_user`] makes one.
//! * **Issue**: `POST /v3/auth/tokens` → 201, token in the `X-Subject-Token` header (a fernet
//!   token of ~180 characters). Wrong password, unknown user, or no role on the requested
//!   project → 401.
//! * **Validate**: `GET /v3/auth/tokens` with `X-Auth-Token` (the validating service's own
//!   token) and `X-Subject-Token` (the token to check) → 200, echoing `X-Subject-Token`.
//!   The body (`?nocatalog` drops `catalog`):
//!   ```json
//!   {"token": {"methods": ["password"],
//!              "user": {"id": "…", "name": "alice", "password_expires_at": null,
//!                       "domain": {"id": "default", "name": "Default"}},
//!              "project": {"id": "…", "name": "p1",
//!                          "domain": {"id": "default", "name": "Default"}},
//!              "roles": [{"id": "…", "name": "member"}, {"id": "…", "name": "reader"}],
//!              "is_domain": false, "audit_ids": ["…"], "catalog": [ … ],
//!              "issued_at": "2026-12-06T03:21:32.000000Z",
//!              "expires_at": "2026-12-06T04:21:32.000000Z"}}
//!   ```
//!   An unscoped token (no `scope` at issue) has no `project`, no `roles`, no `catalog`.
//! * **Who may validate** (default policy; this oslo.policy always checks scope types, and
//!   `enforce_new_defaults` is on): `identity:validate_token` is `role:admin or (role:reader
//!   and system_scope:all) or role:service or token subject`. So a project-scoped token with
//!   role `service` (what [`Keystone::service_user`] gets) or `admin` may `GET` anyone's
//!   token; `member`, `reader` and `manager` get 403. `HEAD /v3/auth/tokens`
//!   (`identity:check_token`) does NOT admit `service`: 403 for the service user, 200 for
//!   admin; it carries no roles anyway. `DELETE` (revoke) is admin or the token's own user
//!   only: 403 for the service user.
//! * **Rejections** of `GET /v3/auth/tokens`:
//!   - garbage or tampered subject token → 404 `{"error": {"code": 404, "message": "Could not
//!     recognize Fernet token", "title": "Not Found"}}`;
//!   - revoked token (admin's or the user's own `DELETE`), expired token, token of a user
//!     since disabled → 404 `"message": "Failed to validate token"`;
//!   - no `X-Subject-Token` → 404 `"No token in the request"`;
//!   - `X-Auth-Token` (the validator's own token) missing, garbage or expired → 401 `"The
//!     request you have made requires authentication."`, whatever the subject;
//!   - with `?allow_expired=1` an expired (not revoked) token validates (200) for 48 h more:
//!     HIL must not send that parameter.
//!
//!   Revoking an already revoked token → 404.
//! * **Expiry**: `[token] expiration` (seconds, default 3600) is global and applies to every
//!   token, the service user's and the admin's too; see [`Keystone::start_with_expiry`]. Its
//!   minimum is 0, which Keystone accepts and which issues tokens (201) already expired
//!   (`expires_at == issued_at`), useless here since the admin's are too. Fernet validation
//!   honours it: `issued_at` is truncated to whole seconds and `expires_at = issued_at +
//!   expiration`, so a token lives between `expiration - 1` and `expiration` seconds. With
//!   `expiration = 5` a token issued at 03:21:32.46 validated 200 at :36.46 and 404 ("Failed
//!   to validate token") at :37.78.
//! * Token issue takes ~0.08 s (`password_hash_rounds = 4`); gunicorn serves 4 requests at
//!   once (12 parallel issues took 0.8 s).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// How long Keystone may take to set up and answer. About 10 s idle; a CI runner compiling in
/// parallel is much slower.
const START_LIMIT: Duration = Duration::from_secs(120);

/// The name, and the project, of the account HIL's server validates tokens with.
pub const SERVICE_USER: &str = "hil-service";
pub const SERVICE_PROJECT: &str = "service";

pub fn venv() -> PathBuf {
    std::env::var_os("HIL_KEYSTONE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into()))
                .join(".cache/hil-lab/venv-keystone")
        })
}

/// A running Keystone. Dropping it kills the server and removes its state dir.
pub struct Keystone {
    port: u16,
    /// `lab/keystone.sh`, the leader of its own process group (gunicorn and its worker).
    /// None once stopped.
    child: Option<Child>,
    dir: tempfile::TempDir,
    admin_password: String,
    /// No pooled connections, so one `Keystone` works from several tests' runtimes.
    http: reqwest::Client,
    service: tokio::sync::OnceCell<(String, String, String)>,
}

impl Keystone {
    /// Starts a private Keystone (fresh state dir, free port, tokens valid for an hour) and
    /// waits until it answers; None (see `super::available`) when the venv is missing.
    pub async fn start() -> Option<Keystone> {
        Self::launch(None).await
    }

    /// Like `start`, but every token (the service user's and the admin's too) expires
    /// `seconds` after issue (see the module docs). A client of such a Keystone must get a
    /// new token of its own once its old one is refused with 401; this module's helpers issue
    /// a fresh admin or service token for each call. Give a token at least 5 s: it may live
    /// a second less than that, and a loaded CI runner is slow.
    pub async fn start_with_expiry(seconds: u32) -> Option<Keystone> {
        Self::launch(Some(seconds)).await
    }

    async fn launch(expiration: Option<u32>) -> Option<Keystone> {
        let venv = venv();
        let ready = venv.join("bin/keystone-manage").is_file()
            && venv.join("bin/gunicorn").is_file()
            && Command::new(venv.join("bin/python"))
                .args(["-c", "import keystone, gunicorn"])
                .output()
                .is_ok_and(|o| o.status.success());
        let missing = (!ready).then(|| format!("no Keystone venv at {}", venv.display()));
        if !super::available("keystone", missing) {
            return None;
        }

        let dir = tempfile::tempdir().expect("tempdir");
        let port = super::free_tcp_port();
        let admin_password = format!("adm-{}", uuid::Uuid::new_v4().simple());
        let log = std::fs::File::create(dir.path().join("gunicorn.log")).expect("log file");
        let mut command = Command::new(super::scripts_dir().join("keystone.sh"));
        command
            .arg(&venv)
            .arg(dir.path().join("state"))
            .arg(port.to_string())
            .args(expiration.map(|s| s.to_string()))
            .env("KEYSTONE_ADMIN_PASSWORD", &admin_password)
            .env("KEYSTONE_WATCH_PID", std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log);
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().expect("start lab/keystone.sh");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .pool_max_idle_per_host(0)
            .build()
            .expect("http client");
        let mut keystone = Keystone {
            port,
            child: Some(child),
            dir,
            admin_password,
            http,
            service: tokio::sync::OnceCell::new(),
        };
        keystone.wait_until_ready().await;
        Some(keystone)
    }

    /// Polls `GET /v3` until it answers 200. An installed Keystone that will not start is a
    /// failure, not a skip. Each probe has a timeout: gunicorn accepts connections even while
    /// its worker cannot load the application.
    async fn wait_until_ready(&mut self) {
        let started = Instant::now();
        let url = self.url();
        loop {
            let probe = self
                .http
                .get(&url)
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if probe.is_ok_and(|r| r.status() == StatusCode::OK) {
                return;
            }
            let exited = self.child.as_mut().map(|c| c.try_wait());
            if let Some(Ok(Some(status))) = exited {
                panic!(
                    "lab/keystone.sh exited ({status}) before Keystone answered {url}:\n{}",
                    self.log_tail()
                );
            }
            if started.elapsed() > START_LIMIT {
                panic!(
                    "Keystone did not answer {url} in time:\n{}",
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The ends of the setup and server logs, for failure messages.
    pub fn log_tail(&self) -> String {
        let tail = |name: &str| {
            let text = std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            format!(
                "--- {name}:\n{}",
                lines[lines.len().saturating_sub(15)..].join("\n")
            )
        };
        [
            tail("state/setup.log"),
            tail("gunicorn.log"),
            tail("state/keystone.log"),
        ]
        .join("\n")
    }

    /// `http://127.0.0.1:PORT/v3`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v3", self.port)
    }

    /// Kills the server (for "Keystone is down" tests); `url` then refuses connections.
    pub fn stop(&mut self) {
        self.kill();
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "Keystone on port {} still accepts connections after kill",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the script's process group (the script leads it; gunicorn's master and worker
    /// are in it) and reaps the script.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = super::run("kill", &["-KILL", "--", &format!("-{}", child.id())]);
            let _ = child.wait();
        }
    }

    /// Sends a request to `path` (below `/v3`), with `X-Auth-Token: token` and
    /// `X-Subject-Token: subject` when given; returns status, `X-Subject-Token` and the JSON
    /// body (`Null` when empty).
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        subject: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Option<String>, Value) {
        let url = format!("{}{path}", self.url());
        let mut request = self.http.request(method.clone(), &url);
        if let Some(token) = token {
            request = request.header("X-Auth-Token", token);
        }
        if let Some(subject) = subject {
            request = request.header("X-Subject-Token", subject);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = response.status();
        let subject = response
            .headers()
            .get("X-Subject-Token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{method} {url}: {status}, not JSON ({e}): {text}"))
        };
        (status, subject, body)
    }

    /// Like `call`, with a fresh admin token, panicking unless the status is `want`.
    async fn admin_call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        want: StatusCode,
    ) -> Value {
        let token = self.admin_token().await;
        let (status, _, body) = self
            .call(method.clone(), path, Some(&token), None, body)
            .await;
        assert_eq!(status, want, "{method} {path}: {body}");
        body
    }

    /// Issues a project-scoped token (Default domain); the status and the token when 201.
    pub async fn try_token(
        &self,
        user: &str,
        password: &str,
        project_name: &str,
    ) -> (StatusCode, Option<String>) {
        let body = json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": user, "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": project_name, "domain": {"id": "default"}}}}});
        let (status, token, _) = self
            .call(Method::POST, "/auth/tokens", None, None, Some(body))
            .await;
        (status, token.filter(|_| status == StatusCode::CREATED))
    }

    /// A project-scoped token for `user` on `project_name` (Default domain), via
    /// `POST /v3/auth/tokens`: the `X-Subject-Token`. Panics unless Keystone issues one.
    pub async fn token(&self, user: &str, password: &str, project_name: &str) -> String {
        match self.try_token(user, password, project_name).await {
            (_, Some(token)) => token,
            (status, None) => panic!("no token for {user} on {project_name}: {status}"),
        }
    }

    /// A token of the bootstrap admin, scoped to the `admin` project.
    pub async fn admin_token(&self) -> String {
        self.token("admin", &self.admin_password, "admin").await
    }

    /// Creates a project in the Default domain; returns its id.
    pub async fn project(&self, name: &str) -> String {
        let body = json!({"project": {"name": name, "domain_id": "default"}});
        let created = self
            .admin_call(Method::POST, "/projects", Some(body), StatusCode::CREATED)
            .await;
        created["project"]["id"]
            .as_str()
            .expect("project id")
            .into()
    }

    /// The id of role `name` (bootstrap made admin, manager, member, reader and service).
    pub async fn role_id(&self, name: &str) -> String {
        let found = self
            .admin_call(
                Method::GET,
                &format!("/roles?name={name}"),
                None,
                StatusCode::OK,
            )
            .await;
        found["roles"][0]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no role {name}: {found}"))
            .into()
    }

    /// Creates a user (Default domain) with `password` and gives it `role` on each project
    /// id listed; returns the user id.
    pub async fn user(
        &self,
        name: &str,
        password: &str,
        role: &str,
        project_ids: &[&str],
    ) -> String {
        let body = json!({"user": {"name": name, "password": password, "domain_id": "default"}});
        let created = self
            .admin_call(Method::POST, "/users", Some(body), StatusCode::CREATED)
            .await;
        let user_id: String = created["user"]["id"].as_str().expect("user id").into();
        let role_id = self.role_id(role).await;
        for project in project_ids {
            self.grant(&user_id, &role_id, project).await;
        }
        user_id
    }

    /// Gives the user `role` on another project.
    pub async fn assign(&self, user_id: &str, role: &str, project_id: &str) {
        let role_id = self.role_id(role).await;
        self.grant(user_id, &role_id, project_id).await;
    }

    async fn grant(&self, user_id: &str, role_id: &str, project_id: &str) {
        let path = format!("/projects/{project_id}/users/{user_id}/roles/{role_id}");
        self.admin_call(Method::PUT, &path, None, StatusCode::NO_CONTENT)
            .await;
    }

    /// Revokes a token (`DELETE /v3/auth/tokens` by the admin).
    pub async fn revoke(&self, token: &str) {
        let admin = self.admin_token().await;
        let (status, _, body) = self
            .call(
                Method::DELETE,
                "/auth/tokens",
                Some(&admin),
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "revoke: {body}");
    }

    /// The credentials HIL's server validates tokens with: user `hil-service` with role
    /// `service` on project `service` (both made on first call; the same afterwards). Role
    /// `service` is the least Keystone 30's default policy needs to `GET /v3/auth/tokens` for
    /// someone else's token (see the module docs). Returns (username, password, project name),
    /// all in the Default domain.
    pub async fn service_user(&self) -> (String, String, String) {
        self.service
            .get_or_init(|| async {
                let found = self
                    .admin_call(
                        Method::GET,
                        &format!("/projects?name={SERVICE_PROJECT}"),
                        None,
                        StatusCode::OK,
                    )
                    .await;
                let project = match found["projects"][0]["id"].as_str() {
                    Some(id) => id.to_string(),
                    None => self.project(SERVICE_PROJECT).await,
                };
                let password = format!("svc-{}", uuid::Uuid::new_v4().simple());
                self.user(SERVICE_USER, &password, "service", &[&project])
                    .await;
                (SERVICE_USER.into(), password, SERVICE_PROJECT.into())
            })
            .await
            .clone()
    }

    /// Points a HIL server's configuration at this Keystone: the Keystone backend with
    /// [`Keystone::service_user`]'s credentials.
    pub async fn configure(&self, auth: &mut hil_server::config::AuthConfig) {
        let (username, password, project_name) = self.service_user().await;
        auth.backend = hil_server::config::AuthBackend::Keystone;
        auth.keystone.auth_url = self.url();
        auth.keystone.username = username;
        auth.keystone.password = password;
        auth.keystone.project_name = project_name;
    }

    /// Validates `token` as HIL's server would: `GET /v3/auth/tokens` with a fresh token of
    /// [`Keystone::service_user`]. Returns the status and the JSON body (200 with
    /// `{"token": {…}}`, or 404 with `{"error": {…}}`).
    pub async fn validate(&self, token: &str) -> (StatusCode, Value) {
        let (user, password, project) = self.service_user().await;
        let service = self.token(&user, &password, &project).await;
        let (status, _, body) = self
            .call(
                Method::GET,
                "/auth/tokens",
                Some(&service),
                Some(token),
                None,
            )
            .await;
        (status, body)
    }
}

impl Drop for Keystone {
    fn drop(&mut self) {
        self.kill();
    }
}
