//! The authorization matrix of every v0 route (hil-api.md §2, §4 and Appendix A).
//!
//! Callers: anonymous, a wrong password, an unknown user, a member of the project that owns the
//! object (`alice`, member of `proj`), a member of another project (`bob`, member of `other`)
//! and the administrator. Every route is exercised against a standard world in which the call
//! would succeed for an authorized caller:
//!
//! * all refused calls of a route run against one world, and that world must be unchanged
//!   afterwards (everything an administrator can read is compared);
//! * each caller that may make a state-changing call gets a fresh world, and the outcome is
//!   checked the way a user would check it.
//!
//! Check order matters (hil-api.md §1.4): authentication first, then each call's own checks in
//! order, so some lookups answer 404/409 before the authorization check answers 401.
//!
//! With `HIL_TEST_AUTH=keystone` the same matrix runs on Keystone tokens (`scripts/test.sh`
//! does both): one real Keystone for the binary, with projects named as HIL's (matched by
//! name), alice's token scoped to `proj`, bob's and carol's to `other`, and for a wrong
//! password or an unknown user a token Keystone never issued. The database backend's own user
//! routes do not exist then; their tests only run on the database backend.

mod common;
mod lab;

use std::collections::HashMap;

use common::*;
use hil_server::config::ProjectMatch;
use lab::keystone::Keystone;
use serde_json::{json, Value};

// ---- the Keystone variant ----

fn keystone_mode() -> bool {
    std::env::var("HIL_TEST_AUTH").is_ok_and(|v| v == "keystone")
}

/// The binary's Keystone and the token of each caller's credentials.
struct KeystoneCallers {
    keystone: Keystone,
    admin_token: String,
    tokens: HashMap<(String, String), String>,
}

static KEYSTONE: tokio::sync::OnceCell<KeystoneCallers> = tokio::sync::OnceCell::const_new();

async fn keystone_callers() -> &'static KeystoneCallers {
    KEYSTONE
        .get_or_init(|| async {
            let keystone = Keystone::start()
                .await
                .expect("HIL_TEST_AUTH=keystone needs the Keystone lab (scripts/test.sh)");
            let mut ids = HashMap::new();
            for p in ["proj", "other", "empty", "spare"] {
                ids.insert(p, keystone.project(p).await);
            }
            let mut tokens = HashMap::new();
            for (user, password, projects) in [
                ("alice", "alice-pw", ["proj", "empty"].as_slice()),
                ("bob", "bob-pw", ["other"].as_slice()),
                ("carol", "carol-pw", ["other"].as_slice()),
            ] {
                let ids: Vec<&str> = projects.iter().map(|p| ids[p].as_str()).collect();
                keystone.user(user, password, "member", &ids).await;
                let token = keystone.token(user, password, projects[0]).await;
                tokens.insert((user.to_string(), password.to_string()), token);
            }
            let admin_token = keystone.admin_token().await;
            tokens.insert(
                (ADMIN.0.to_string(), ADMIN.1.to_string()),
                admin_token.clone(),
            );
            KeystoneCallers {
                keystone,
                admin_token,
                tokens,
            }
        })
        .await
}

/// A test server on the database backend, or on Keystone in keystone mode.
async fn start_server() -> TestServer {
    if !keystone_mode() {
        return TestServer::start().await;
    }
    let callers = keystone_callers().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(dir.path()).await;
    callers.keystone.configure(&mut config.auth).await;
    config.auth.keystone.project_match = ProjectMatch::Name;
    let mut s = TestServer::start_with(dir, config, true).await;
    s.admin_token = Some(callers.admin_token.clone());
    s.tokens = callers.tokens.clone();
    s
}

// ---- callers ----

#[derive(Clone, Copy, Debug)]
struct Who {
    name: &'static str,
    creds: Option<(&'static str, &'static str)>,
}

const ANON: Who = Who {
    name: "anonymous",
    creds: None,
};
const WRONG_PW: Who = Who {
    name: "wrong-password(alice)",
    creds: Some(("alice", "not-alice-pw")),
};
const UNKNOWN: Who = Who {
    name: "unknown-user(mallory)",
    creds: Some(("mallory", "mallory-pw")),
};
const MEMBER: Who = Who {
    name: "member(alice of proj)",
    creds: Some(("alice", "alice-pw")),
};
const OTHER: Who = Who {
    name: "other-project(bob of other)",
    creds: Some(("bob", "bob-pw")),
};
const ADMIN_W: Who = Who {
    name: "admin",
    creds: Some(ADMIN),
};
const CAROL: Who = Who {
    name: "carol",
    creds: Some(("carol", "carol-pw")),
};

/// Every authenticated caller of the matrix.
const AUTHENTICATED: [Who; 3] = [MEMBER, OTHER, ADMIN_W];

const AUTHZ: &str = "AuthorizationError";
const NOT_FOUND: &str = "NotFoundError";
const DUPLICATE: &str = "DuplicateError";
const BLOCKED: &str = "BlockedError";
const MISMATCH: &str = "ProjectMismatchError";
const BAD_ARG: &str = "BadArgumentError";
const ILLEGAL: &str = "IllegalStateError";

const MAC1: &str = "de:ad:be:ef:00:01";
const MAC2: &str = "de:ad:be:ef:00:02";

// ---- requests ----

#[derive(Clone, Debug)]
struct Req {
    method: &'static str,
    path: String,
    body: Option<Value>,
}

fn req(method: &'static str, path: impl Into<String>, body: Option<Value>) -> Req {
    Req {
        method,
        path: path.into(),
        body,
    }
}

impl Req {
    async fn send(&self, s: &TestServer, who: Who) -> Resp {
        let r = s
            .call(who.creds, self.method, &self.path, self.body.clone())
            .await;
        assert!(
            r.status < 500,
            "{} {} as {}: server error {} {}",
            self.method,
            self.path,
            who.name,
            r.status,
            r.text
        );
        r
    }

    fn describe(&self, route: &str, who: Who) -> String {
        match &self.body {
            Some(b) => format!(
                "[{route}] {} {} {b} as {}",
                self.method, self.path, who.name
            ),
            None => format!("[{route}] {} {} as {}", self.method, self.path, who.name),
        }
    }
}

/// Asserts a HIL error body: status, `type` and a string `msg`.
fn assert_error(r: &Resp, ctx: &str, status: u16, error_type: &str) {
    assert_eq!(
        (r.status, r.json["type"].as_str()),
        (status, Some(error_type)),
        "{ctx}: expected {status} {error_type}, got {} {}",
        r.status,
        r.text
    );
    assert!(
        r.json["msg"].is_string(),
        "{ctx}: error body without a string msg: {}",
        r.text
    );
}

/// What a row of the matrix expects.
#[derive(Clone, Debug)]
enum Want {
    /// An error of this status and type.
    Err(u16, &'static str),
    /// 200 with exactly this JSON body.
    Json(Value),
}

fn check(r: &Resp, ctx: &str, want: &Want) {
    match want {
        Want::Err(status, ty) => assert_error(r, ctx, *status, ty),
        Want::Json(v) => {
            assert_eq!(
                r.status, 200,
                "{ctx}: expected 200, got {} {}",
                r.status, r.text
            );
            assert_eq!(&r.json, v, "{ctx}: unexpected body {}", r.text);
        }
    }
}

// ---- the standard world ----

/// Projects `proj` (alice; also `empty`), `other` (bob, carol), `empty` (no nodes/networks)
/// and `spare`; users alice, bob, carol; switches `sw` (ports gi1/0/1..3 cabled, gi1/0/9
/// free) and `sw-empty`; nodes `n-free` (free: eth0 on gi1/0/1, eth1 uncabled, metadata k),
/// `n-proj` (in proj: eth0 on gi1/0/2, metadata k), `n-att` (in proj: eth0 on gi1/0/3, attached
/// to `pub-net` natively and to `att-net` tagged) and `bare` (free, no nics); networks
/// `pub-net` (admin, public), `att-net` (admin, access proj), `proj-net` (owned by proj),
/// `adm-priv` (admin, access proj), `other-net` (owned by other) and `shared-net` (owned by
/// proj, access proj and other). `act_proj` is the DONE
/// action of n-att's nic, `act_free` the DONE revert of n-free's nic.
struct World {
    s: TestServer,
    act_proj: String,
    act_free: String,
    att_vlan: String,
    pub_vlan: String,
}

impl World {
    async fn new() -> World {
        let s = start_server().await;
        for p in ["proj", "other", "empty", "spare"] {
            s.project(p).await;
        }
        if !keystone_mode() {
            s.user("alice", "alice-pw", false, &["proj", "empty"]).await;
            s.user("bob", "bob-pw", false, &["other"]).await;
            s.user("carol", "carol-pw", false, &["other"]).await;
        }
        s.switch("sw").await;
        s.switch("sw-empty").await;

        s.cabled_node("n-free", "sw", "gi1/0/1").await;
        s.ok(
            "PUT",
            "/v0/node/n-free/nic/eth1",
            Some(json!({ "macaddr": MAC2 })),
        )
        .await;
        s.ok(
            "PUT",
            "/v0/node/n-free/metadata/k",
            Some(json!({"value": "v"})),
        )
        .await;

        s.cabled_node("n-proj", "sw", "gi1/0/2").await;
        s.ok(
            "PUT",
            "/v0/node/n-proj/metadata/k",
            Some(json!({"value": "v"})),
        )
        .await;
        s.reserve("proj", "n-proj").await;

        s.cabled_node("n-att", "sw", "gi1/0/3").await;
        s.reserve("proj", "n-att").await;

        s.node("bare").await;
        s.ok("PUT", "/v0/switch/sw/port/gi1/0/9", None).await;

        s.network("pub-net", "admin", "", "").await;
        s.network("att-net", "admin", "proj", "").await;
        s.network("proj-net", "proj", "proj", "").await;
        s.network("adm-priv", "admin", "proj", "").await;
        s.network("other-net", "other", "other", "").await;
        s.network("shared-net", "proj", "proj", "").await;
        s.ok("PUT", "/v0/network/shared-net/access/other", None)
            .await;
        let nets = s.ok("GET", "/v0/networks", None).await;
        let att_vlan = nets["att-net"]["network_id"]
            .as_str()
            .expect("att-net network_id")
            .to_string();
        let pub_vlan = nets["pub-net"]["network_id"]
            .as_str()
            .expect("pub-net network_id")
            .to_string();

        let r = s
            .ok(
                "POST",
                "/v0/node/n-att/nic/eth0/connect_network",
                Some(json!({"network": "pub-net"})),
            )
            .await;
        let done = s.wait_action(r["status_id"].as_str().unwrap()).await;
        assert_eq!(done["status"], "DONE", "world: {done}");
        let r = s
            .ok(
                "POST",
                "/v0/node/n-att/nic/eth0/connect_network",
                Some(json!({"network": "att-net", "channel": format!("vlan/{att_vlan}")})),
            )
            .await;
        let act_proj = r["status_id"].as_str().unwrap().to_string();
        let done = s.wait_action(&act_proj).await;
        assert_eq!(done["status"], "DONE", "world: {done}");

        let r = s
            .ok("POST", "/v0/switch/sw/port/gi1/0/1/revert", None)
            .await;
        let act_free = r["status_id"].as_str().unwrap().to_string();
        let done = s.wait_action(&act_free).await;
        assert_eq!(done["status"], "DONE", "world: {done}");

        World {
            s,
            act_proj,
            act_free,
            att_vlan,
            pub_vlan,
        }
    }

    async fn shutdown(self) {
        self.s.shutdown().await;
    }

    /// GET as `who`, expecting 200; the body.
    async fn get_as(&self, who: Who, path: &str, ctx: &str) -> Value {
        let r = self.s.call(who.creds, "GET", path, None).await;
        assert_eq!(
            r.status, 200,
            "{ctx}: GET {path} as {}: {} {}",
            who.name, r.status, r.text
        );
        r.json
    }

    /// GET as admin, expecting 200.
    async fn get(&self, path: &str, ctx: &str) -> Value {
        self.get_as(ADMIN_W, path, ctx).await
    }

    /// Status of `GET path` as `who`.
    async fn status_as(&self, who: Who, path: &str) -> u16 {
        self.s.call(who.creds, "GET", path, None).await.status
    }

    /// Everything an administrator can observe, keyed by the path it was read from.
    async fn snapshot(&self) -> Value {
        let mut snap = serde_json::Map::new();
        let mut paths = vec!["/v0/projects".to_string()];
        let projects = self.read(&mut snap, "/v0/projects").await;
        for p in labels(&projects) {
            paths.push(format!("/v0/project/{p}/nodes"));
            paths.push(format!("/v0/project/{p}/networks"));
        }
        paths.push("/v0/nodes/free".into());
        for n in labels(&self.read(&mut snap, "/v0/nodes/all").await) {
            paths.push(format!("/v0/node/{n}"));
        }
        let networks = self.read(&mut snap, "/v0/networks").await;
        for n in networks
            .as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            paths.push(format!("/v0/network/{n}"));
            paths.push(format!("/v0/network/{n}/attachments"));
        }
        for sw in labels(&self.read(&mut snap, "/v0/switches").await) {
            let shown = self.read(&mut snap, &format!("/v0/switch/{sw}")).await;
            for port in shown["ports"].as_array().cloned().unwrap_or_default() {
                if let Some(port) = port["label"].as_str() {
                    paths.push(format!("/v0/switch/{sw}/port/{port}"));
                }
            }
            snap.insert(format!("mock-state:{sw}"), self.s.mock_state(&sw));
        }
        paths.push("/v0/auth/basic/users".into());
        for id in [&self.act_proj, &self.act_free] {
            paths.push(format!("/v0/networking_action/{id}"));
        }
        for path in paths {
            self.read(&mut snap, &path).await;
        }
        Value::Object(snap)
    }

    /// GET as admin, recorded in a snapshot; the body.
    async fn read(&self, snap: &mut serde_json::Map<String, Value>, path: &str) -> Value {
        let r = self.s.admin("GET", path, None).await;
        snap.insert(
            path.to_string(),
            json!({"status": r.status, "body": r.json.clone()}),
        );
        r.json
    }
}

fn labels(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Compares two snapshots, naming the first path that differs.
fn assert_same(route: &str, before: &Value, after: &Value) {
    if before == after {
        return;
    }
    let (b, a) = (before.as_object().unwrap(), after.as_object().unwrap());
    for (k, v) in b {
        assert_eq!(
            Some(v),
            a.get(k),
            "[{route}] calls that must change nothing changed the state: {k} differs"
        );
    }
    for k in a.keys() {
        assert!(
            b.contains_key(k),
            "[{route}] calls that must change nothing changed the state: new {k}"
        );
    }
}

// ---- the matrix runner ----

/// Calls of one route that must not change anything, run against one world.
struct Case {
    route: &'static str,
    rows: Vec<(Req, Who, Want)>,
}

impl Case {
    fn new(route: &'static str) -> Case {
        Case {
            route,
            rows: Vec::new(),
        }
    }

    /// Anonymous, wrong password and unknown user: 401 before anything else.
    fn unauth(mut self, r: &Req) -> Case {
        for who in [ANON, WRONG_PW, UNKNOWN] {
            self.rows.push((r.clone(), who, Want::Err(401, AUTHZ)));
        }
        self
    }

    fn deny(mut self, r: &Req, who: Who, status: u16, ty: &'static str) -> Case {
        self.rows.push((r.clone(), who, Want::Err(status, ty)));
        self
    }

    /// A read that succeeds with exactly this body (placeholders: see `fill`).
    fn read(mut self, r: &Req, who: Who, body: Value) -> Case {
        self.rows.push((r.clone(), who, Want::Json(body)));
        self
    }

    async fn run(self) {
        let w = World::new().await;
        let before = w.snapshot().await;
        for (r, who, want) in &self.rows {
            let mut r = r.clone();
            r.path = r.path.replace("{ACT_PROJ}", &w.act_proj);
            r.path = r.path.replace("{ACT_FREE}", &w.act_free);
            let want = match want {
                Want::Json(v) => Want::Json(fill(v, &w)),
                other => other.clone(),
            };
            let resp = r.send(&w.s, *who).await;
            check(&resp, &r.describe(self.route, *who), &want);
        }
        let after = w.snapshot().await;
        assert_same(self.route, &before, &after);
        w.shutdown().await;
    }
}

/// Replaces `{VLAN}` (att-net's vlan) and `{PUBVLAN}` (pub-net's) inside expected bodies.
fn fill(v: &Value, w: &World) -> Value {
    let text = v
        .to_string()
        .replace("{VLAN}", &w.att_vlan)
        .replace("{PUBVLAN}", &w.pub_vlan);
    serde_json::from_str(&text).unwrap()
}

/// Runs `r` as `who` on a fresh world and asserts success with `status`; an empty body unless
/// `status_id` is expected. Returns the world (and response) for outcome checks.
async fn allowed(route: &str, r: &Req, who: Who, status: u16, status_id: bool) -> (World, Resp) {
    let w = World::new().await;
    let resp = r.send(&w.s, who).await;
    let ctx = r.describe(route, who);
    assert_eq!(
        resp.status, status,
        "{ctx}: expected {status}, got {} {}",
        resp.status, resp.text
    );
    if status_id {
        let id = resp.json["status_id"].as_str().unwrap_or_default();
        assert!(
            uuid::Uuid::parse_str(id).is_ok() && id == id.to_lowercase() && id.len() == 36,
            "{ctx}: not a lowercase hyphenated uuid status_id: {}",
            resp.text
        );
    } else {
        assert_eq!(
            resp.text, "",
            "{ctx}: a call without output answers an empty body"
        );
    }
    (w, resp)
}

/// Expected `show_node` bodies of the world's nodes, as admin or as a non-admin.
fn n_free_view(admin: bool) -> Value {
    let mut v = json!({
        "metadata": {"k": "\"v\""},
        "name": "n-free",
        "nics": [
            {"label": "eth0", "macaddr": MAC1, "networks": {}, "port": "gi1/0/1", "switch": "sw"},
            {"label": "eth1", "macaddr": MAC2, "networks": {}, "port": null, "switch": null}
        ],
        "project": null
    });
    if !admin {
        strip_ports(&mut v);
    }
    v
}

fn n_proj_view(admin: bool) -> Value {
    let mut v = json!({
        "metadata": {"k": "\"v\""},
        "name": "n-proj",
        "nics": [
            {"label": "eth0", "macaddr": MAC1, "networks": {}, "port": "gi1/0/2", "switch": "sw"}
        ],
        "project": "proj"
    });
    if !admin {
        strip_ports(&mut v);
    }
    v
}

fn n_att_view(admin: bool) -> Value {
    let mut v = json!({
        "metadata": {},
        "name": "n-att",
        "nics": [
            {"label": "eth0", "macaddr": MAC1,
             "networks": {"vlan/native": "pub-net", "vlan/{VLAN}": "att-net"},
             "port": "gi1/0/3", "switch": "sw"}
        ],
        "project": "proj"
    });
    if !admin {
        strip_ports(&mut v);
    }
    v
}

fn strip_ports(v: &mut Value) {
    for nic in v["nics"].as_array_mut().unwrap() {
        let nic = nic.as_object_mut().unwrap();
        nic.remove("port");
        nic.remove("switch");
    }
}

// =====================================================================================
// Projects
// =====================================================================================

#[tokio::test]
async fn list_projects() {
    let call = req("GET", "/v0/projects", None);
    Case::new("list_projects")
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        .read(&call, ADMIN_W, json!(["empty", "other", "proj", "spare"]))
        .run()
        .await;
}

#[tokio::test]
async fn project_create() {
    let route = "project_create";
    let call = req("PUT", "/v0/project/newp", None);
    Case::new(route)
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        // 401 comes before the duplicate check.
        .deny(&req("PUT", "/v0/project/proj", None), MEMBER, 401, AUTHZ)
        .deny(
            &req("PUT", "/v0/project/proj", None),
            ADMIN_W,
            409,
            DUPLICATE,
        )
        .run()
        .await;
    let (w, _) = allowed(route, &call, ADMIN_W, 200, false).await;
    assert_eq!(
        w.get("/v0/projects", route).await,
        json!(["empty", "newp", "other", "proj", "spare"]),
        "[{route}] admin: the new project is listed"
    );
    assert_eq!(w.get("/v0/project/newp/nodes", route).await, json!([]));
    w.shutdown().await;
}

#[tokio::test]
async fn project_delete() {
    let route = "project_delete";
    let call = req("DELETE", "/v0/project/empty", None);
    Case::new(route)
        .unauth(&call)
        // alice is a member of `empty`, but deleting projects is administrator-only.
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        // 401 comes before the lookup.
        .deny(&req("DELETE", "/v0/project/nope", None), MEMBER, 401, AUTHZ)
        .deny(
            &req("DELETE", "/v0/project/nope", None),
            ADMIN_W,
            404,
            NOT_FOUND,
        )
        .deny(
            &req("DELETE", "/v0/project/proj", None),
            ADMIN_W,
            409,
            BLOCKED,
        )
        .run()
        .await;
    let (w, _) = allowed(route, &call, ADMIN_W, 200, false).await;
    assert_eq!(
        w.get("/v0/projects", route).await,
        json!(["other", "proj", "spare"]),
        "[{route}] admin: the project is gone"
    );
    if !keystone_mode() {
        assert_eq!(
            w.get("/v0/auth/basic/users", route).await["alice"]["projects"],
            json!(["proj"]),
            "[{route}] admin: the memberships of the project are gone"
        );
    }
    let r = w.s.admin("GET", "/v0/project/empty/nodes", None).await;
    assert_error(&r, "[project_delete] deleted project", 404, NOT_FOUND);
    w.shutdown().await;
}

#[tokio::test]
async fn project_connect_node() {
    let route = "project_connect_node";
    let call = req(
        "POST",
        "/v0/project/proj/connect_node",
        Some(json!({"node": "n-free"})),
    );
    Case::new(route)
        .unauth(&call)
        .deny(&call, OTHER, 401, AUTHZ)
        // 404(Project) comes before 401 ...
        .deny(
            &req(
                "POST",
                "/v0/project/nope/connect_node",
                Some(json!({"node": "n-free"})),
            ),
            OTHER,
            404,
            NOT_FOUND,
        )
        // ... and 401 before 404(Node).
        .deny(
            &req(
                "POST",
                "/v0/project/proj/connect_node",
                Some(json!({"node": "ghost"})),
            ),
            OTHER,
            401,
            AUTHZ,
        )
        .deny(
            &req(
                "POST",
                "/v0/project/other/connect_node",
                Some(json!({"node": "n-free"})),
            ),
            MEMBER,
            401,
            AUTHZ,
        )
        .deny(
            &req(
                "POST",
                "/v0/project/proj/connect_node",
                Some(json!({"node": "n-proj"})),
            ),
            MEMBER,
            409,
            BLOCKED,
        )
        .run()
        .await;
    for who in [MEMBER, ADMIN_W] {
        let (w, _) = allowed(route, &call, who, 200, false).await;
        assert_eq!(
            w.get_as(who, "/v0/project/proj/nodes", route).await,
            // Database order of the nodes (creation order), not the order of connection.
            json!(["n-free", "n-proj", "n-att"]),
            "[{route}] {}: the project lists the node",
            who.name
        );
        assert_eq!(
            w.get_as(who, "/v0/node/n-free", route).await["project"],
            "proj"
        );
        assert_eq!(
            w.get("/v0/nodes/free", route).await,
            json!(["bare"]),
            "[{route}] {}: the node is no longer free",
            who.name
        );
        // Once in proj, bob can no longer see it.
        assert_eq!(w.status_as(OTHER, "/v0/node/n-free").await, 401);
        w.shutdown().await;
    }
}

#[tokio::test]
async fn project_detach_node() {
    let route = "project_detach_node";
    let call = req(
        "POST",
        "/v0/project/proj/detach_node",
        Some(json!({"node": "n-proj"})),
    );
    Case::new(route)
        .unauth(&call)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(
            &req(
                "POST",
                "/v0/project/nope/detach_node",
                Some(json!({"node": "n-proj"})),
            ),
            OTHER,
            404,
            NOT_FOUND,
        )
        .deny(
            &req(
                "POST",
                "/v0/project/proj/detach_node",
                Some(json!({"node": "ghost"})),
            ),
            OTHER,
            401,
            AUTHZ,
        )
        .deny(
            &req(
                "POST",
                "/v0/project/proj/detach_node",
                Some(json!({"node": "n-free"})),
            ),
            MEMBER,
            404,
            NOT_FOUND,
        )
        .deny(
            &req(
                "POST",
                "/v0/project/proj/detach_node",
                Some(json!({"node": "n-att"})),
            ),
            MEMBER,
            409,
            BLOCKED,
        )
        .run()
        .await;
    for who in [MEMBER, ADMIN_W] {
        let (w, _) = allowed(route, &call, who, 200, false).await;
        assert_eq!(
            w.get_as(who, "/v0/project/proj/nodes", route).await,
            json!(["n-att"]),
            "[{route}] {}: the project no longer lists the node",
            who.name
        );
        assert_eq!(
            w.get_as(who, "/v0/nodes/free", route).await,
            json!(["bare", "n-free", "n-proj"]),
            "[{route}] {}: the node is free",
            who.name
        );
        // A free node is visible to anyone authenticated.
        assert_eq!(w.status_as(OTHER, "/v0/node/n-proj").await, 200);
        w.shutdown().await;
    }
}

#[tokio::test]
async fn list_project_nodes() {
    let call = req("GET", "/v0/project/proj/nodes", None);
    Case::new("list_project_nodes")
        .unauth(&call)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(
            &req("GET", "/v0/project/nope/nodes", None),
            OTHER,
            404,
            NOT_FOUND,
        )
        .read(&call, MEMBER, json!(["n-proj", "n-att"]))
        .read(&call, ADMIN_W, json!(["n-proj", "n-att"]))
        .read(
            &req("GET", "/v0/project/other/nodes", None),
            OTHER,
            json!([]),
        )
        .deny(
            &req("GET", "/v0/project/other/nodes", None),
            MEMBER,
            401,
            AUTHZ,
        )
        .run()
        .await;
}

#[tokio::test]
async fn list_project_networks() {
    let call = req("GET", "/v0/project/proj/networks", None);
    let expect = json!(["adm-priv", "att-net", "proj-net", "shared-net"]);
    Case::new("list_project_networks")
        .unauth(&call)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(
            &req("GET", "/v0/project/nope/networks", None),
            OTHER,
            404,
            NOT_FOUND,
        )
        .read(&call, MEMBER, expect.clone())
        .read(&call, ADMIN_W, expect)
        .read(
            &req("GET", "/v0/project/other/networks", None),
            OTHER,
            json!(["other-net", "shared-net"]),
        )
        .run()
        .await;
}

// =====================================================================================
// Nodes, nics, metadata
// =====================================================================================

#[tokio::test]
async fn node_register() {
    let route = "node_register";
    let body = json!({"obmd": {"uri": "http://obmd.example/node/new", "admin_token": "tok"}});
    let call = req("PUT", "/v0/node/n-new", Some(body.clone()));
    Case::new(route)
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        // 401 before the duplicate check.
        .deny(
            &req("PUT", "/v0/node/n-free", Some(body.clone())),
            MEMBER,
            401,
            AUTHZ,
        )
        .deny(
            &req("PUT", "/v0/node/n-free", Some(body.clone())),
            ADMIN_W,
            409,
            DUPLICATE,
        )
        .run()
        .await;
    let (w, _) = allowed(route, &call, ADMIN_W, 200, false).await;
    assert_eq!(
        w.get("/v0/nodes/free", route).await,
        json!(["bare", "n-free", "n-new"]),
        "[{route}] admin: the node is registered and free"
    );
    assert_eq!(
        w.get_as(MEMBER, "/v0/node/n-new", route).await,
        json!({"metadata": {}, "name": "n-new", "nics": [], "project": null})
    );
    w.shutdown().await;
}

#[tokio::test]
async fn node_delete() {
    let route = "node_delete";
    let call = req("DELETE", "/v0/node/bare", None);
    Case::new(route)
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(&req("DELETE", "/v0/node/ghost", None), MEMBER, 401, AUTHZ)
        .deny(
            &req("DELETE", "/v0/node/ghost", None),
            ADMIN_W,
            404,
            NOT_FOUND,
        )
        .deny(&req("DELETE", "/v0/node/n-proj", None), MEMBER, 401, AUTHZ)
        .deny(
            &req("DELETE", "/v0/node/n-proj", None),
            ADMIN_W,
            409,
            BLOCKED,
        )
        .deny(
            &req("DELETE", "/v0/node/n-free", None),
            ADMIN_W,
            409,
            BLOCKED,
        )
        .run()
        .await;
    let (w, _) = allowed(route, &call, ADMIN_W, 200, false).await;
    assert_eq!(
        w.get("/v0/nodes/all", route).await,
        json!(["n-att", "n-free", "n-proj"]),
        "[{route}] admin: the node is gone"
    );
    let r = w.s.admin("GET", "/v0/node/bare", None).await;
    assert_error(&r, "[node_delete] deleted node", 404, NOT_FOUND);
    w.shutdown().await;
}

#[tokio::test]
async fn list_nodes() {
    let free = req("GET", "/v0/nodes/free", None);
    let all = req("GET", "/v0/nodes/all", None);
    let other = req("GET", "/v0/nodes/whatever", None);
    let mut case = Case::new("list_nodes")
        .unauth(&free)
        .unauth(&all)
        .unauth(&other);
    // Any authenticated caller may list nodes; `free` lists free nodes, anything else all.
    for who in AUTHENTICATED {
        case = case
            .read(&free, who, json!(["bare", "n-free"]))
            .read(&all, who, json!(["bare", "n-att", "n-free", "n-proj"]))
            .read(&other, who, json!(["bare", "n-att", "n-free", "n-proj"]));
    }
    case.run().await;
}

#[tokio::test]
async fn show_node_free() {
    // A free node needs no special access; only admins see ports and switches.
    let call = req("GET", "/v0/node/n-free", None);
    Case::new("show_node(free)")
        .unauth(&call)
        .read(&call, MEMBER, n_free_view(false))
        .read(&call, OTHER, n_free_view(false))
        .read(&call, ADMIN_W, n_free_view(true))
        .deny(&req("GET", "/v0/node/ghost", None), OTHER, 404, NOT_FOUND)
        .run()
        .await;
}

#[tokio::test]
async fn show_node_in_project() {
    let call = req("GET", "/v0/node/n-proj", None);
    let att = req("GET", "/v0/node/n-att", None);
    Case::new("show_node(in project)")
        .unauth(&call)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(&att, OTHER, 401, AUTHZ)
        .read(&call, MEMBER, n_proj_view(false))
        .read(&call, ADMIN_W, n_proj_view(true))
        .read(&att, MEMBER, n_att_view(false))
        .read(&att, ADMIN_W, n_att_view(true))
        .run()
        .await;
}

#[tokio::test]
async fn node_register_nic() {
    let route = "node_register_nic";
    let call = req(
        "PUT",
        "/v0/node/n-proj/nic/eth9",
        Some(json!({"macaddr": "aa:bb:cc:dd:ee:ff"})),
    );
    Case::new(route)
        .unauth(&call)
        // Even a member of the node's project may not add nics.
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(
            &req(
                "PUT",
                "/v0/node/ghost/nic/eth9",
                Some(json!({"macaddr": "x"})),
            ),
            MEMBER,
            401,
            AUTHZ,
        )
        .deny(
            &req(
                "PUT",
                "/v0/node/ghost/nic/eth9",
                Some(json!({"macaddr": "x"})),
            ),
            ADMIN_W,
            404,
            NOT_FOUND,
        )
        .deny(
            &req(
                "PUT",
                "/v0/node/n-proj/nic/eth0",
                Some(json!({"macaddr": "x"})),
            ),
            ADMIN_W,
            409,
            DUPLICATE,
        )
        .run()
        .await;
    let (w, _) = allowed(route, &call, ADMIN_W, 200, false).await;
    let nics = w.get_as(MEMBER, "/v0/node/n-proj", route).await["nics"].clone();
    assert_eq!(
        nics,
        json!([
            {"label": "eth0", "macaddr": MAC1, "networks": {}},
            {"label": "eth9", "macaddr": "aa:bb:cc:dd:ee:ff", "networks": {}}
        ]),
        "[{route}] admin: the node shows the new nic"
    );
    w.shutdown().await;
}

#[tokio::test]
async fn node_delete_nic() {
    let route = "node_delete_nic";
    let call = req("DELETE", "/v0/node/n-free/nic/eth0", None);
    Case::new(route)
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(
            &req("DELETE", "/v0/node/n-proj/nic/eth0", None),
            MEMBER,
            401,
            AUTHZ,
        )
        .deny(
            &req("DELETE", "/v0/node/n-proj/nic/eth0", None),
            ADMIN_W,
            409,
            BLOCKED,
        )
        .deny(
            &req("DELETE", "/v0/node/n-free/nic/eth7", None),
            ADMIN_W,
            404,
            NOT_FOUND,
        )
        .run()
        .await;
    let (w, _) = allowed(route, &call, ADMIN_W, 200, false).await;
    let nics = w.get("/v0/node/n-free", route).await["nics"].clone();
    assert_eq!(
        nics,
        json!([{"label": "eth1", "macaddr": MAC2, "networks": {}, "port": null, "switch": null}]),
        "[{route}] admin: the nic is gone"
    );
    assert_eq!(
        w.get("/v0/switch/sw/port/gi1/0/1", route).await,
        json!({}),
        "[{route}] admin: the nic's port is free"
    );
    let r =
        w.s.admin(
            "GET",
            &format!("/v0/networking_action/{}", w.act_free),
            None,
        )
        .await;
    assert_error(
        &r,
        "[node_delete_nic] the nic's action is gone",
        404,
        NOT_FOUND,
    );
    w.shutdown().await;
}

#[tokio::test]
async fn node_set_metadata() {
    let route = "node_set_metadata";
    let call = req(
        "PUT",
        "/v0/node/n-proj/metadata/k2",
        Some(json!({"value": {"a": [1, 2]}})),
    );
    Case::new(route)
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(
            &req(
                "PUT",
                "/v0/node/ghost/metadata/k2",
                Some(json!({"value": 1})),
            ),
            MEMBER,
            401,
            AUTHZ,
        )
        .deny(
            &req(
                "PUT",
                "/v0/node/ghost/metadata/k2",
                Some(json!({"value": 1})),
            ),
            ADMIN_W,
            404,
            NOT_FOUND,
        )
        .run()
        .await;
    let (w, _) = allowed(route, &call, ADMIN_W, 200, false).await;
    let md = w.get_as(MEMBER, "/v0/node/n-proj", route).await["metadata"].clone();
    assert_eq!(md["k"], "\"v\"", "[{route}] the old key is untouched");
    let stored: Value = serde_json::from_str(md["k2"].as_str().unwrap_or("null")).unwrap();
    assert_eq!(
        stored,
        json!({"a": [1, 2]}),
        "[{route}] admin: the value is stored as JSON text: {md}"
    );
    w.shutdown().await;
}

#[tokio::test]
async fn node_delete_metadata() {
    let route = "node_delete_metadata";
    let call = req("DELETE", "/v0/node/n-proj/metadata/k", None);
    Case::new(route)
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(
            &req("DELETE", "/v0/node/n-proj/metadata/nope", None),
            MEMBER,
            401,
            AUTHZ,
        )
        .deny(
            &req("DELETE", "/v0/node/n-proj/metadata/nope", None),
            ADMIN_W,
            404,
            NOT_FOUND,
        )
        .run()
        .await;
    let (w, _) = allowed(route, &call, ADMIN_W, 200, false).await;
    assert_eq!(
        w.get_as(MEMBER, "/v0/node/n-proj", route).await["metadata"],
        json!({}),
        "[{route}] admin: the key is gone"
    );
    w.shutdown().await;
}

// =====================================================================================
// Node networking
// =====================================================================================

#[tokio::test]
async fn node_connect_network() {
    let route = "node_connect_network";
    let call = req(
        "POST",
        "/v0/node/n-proj/nic/eth0/connect_network",
        Some(json!({"network": "proj-net"})),
    );
    let free = req(
        "POST",
        "/v0/node/n-free/nic/eth0/connect_network",
        Some(json!({"network": "pub-net"})),
    );
    Case::new(route)
        .unauth(&call)
        .deny(&call, OTHER, 401, AUTHZ)
        // Lookups come first ...
        .deny(
            &req(
                "POST",
                "/v0/node/n-proj/nic/eth7/connect_network",
                Some(json!({"network": "proj-net"})),
            ),
            OTHER,
            404,
            NOT_FOUND,
        )
        .deny(
            &req(
                "POST",
                "/v0/node/n-proj/nic/eth0/connect_network",
                Some(json!({"network": "nope"})),
            ),
            OTHER,
            404,
            NOT_FOUND,
        )
        // ... then "node is free" (409) before the authorization check.
        .deny(&free, OTHER, 409, MISMATCH)
        .deny(&free, MEMBER, 409, MISMATCH)
        .deny(&free, ADMIN_W, 409, MISMATCH)
        // The network's access list must include the node's project.
        .deny(
            &req(
                "POST",
                "/v0/node/n-proj/nic/eth0/connect_network",
                Some(json!({"network": "other-net"})),
            ),
            MEMBER,
            409,
            MISMATCH,
        )
        .run()
        .await;
    for who in [MEMBER, ADMIN_W] {
        let (w, resp) = allowed(route, &call, who, 202, true).await;
        let id = resp.json["status_id"].as_str().unwrap().to_string();
        let action = w.s.wait_action(&id).await;
        assert_eq!(action["status"], "DONE", "[{route}] {}: {action}", who.name);
        let shown = w
            .get_as(who, &format!("/v0/networking_action/{id}"), route)
            .await;
        assert_eq!(
            shown,
            json!({"status": "DONE", "node": "n-proj", "nic": "eth0", "type": "modify_port",
                   "channel": "vlan/native", "new_network": "proj-net"}),
            "[{route}] {}: the caller can follow its action",
            who.name
        );
        assert_eq!(
            w.get_as(who, "/v0/node/n-proj", route).await["nics"][0]["networks"],
            json!({"vlan/native": "proj-net"}),
            "[{route}] {}: the nic is attached",
            who.name
        );
        w.shutdown().await;
    }
}

#[tokio::test]
async fn node_detach_network() {
    let route = "node_detach_network";
    let call = req(
        "POST",
        "/v0/node/n-att/nic/eth0/detach_network",
        Some(json!({"network": "pub-net"})),
    );
    Case::new(route)
        .unauth(&call)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(
            &req(
                "POST",
                "/v0/node/n-att/nic/eth0/detach_network",
                Some(json!({"network": "nope"})),
            ),
            OTHER,
            404,
            NOT_FOUND,
        )
        .deny(
            &req(
                "POST",
                "/v0/node/n-free/nic/eth0/detach_network",
                Some(json!({"network": "pub-net"})),
            ),
            OTHER,
            409,
            MISMATCH,
        )
        .deny(
            &req(
                "POST",
                "/v0/node/n-proj/nic/eth0/detach_network",
                Some(json!({"network": "pub-net"})),
            ),
            MEMBER,
            400,
            BAD_ARG,
        )
        .run()
        .await;
    for who in [MEMBER, ADMIN_W] {
        let (w, resp) = allowed(route, &call, who, 202, true).await;
        let id = resp.json["status_id"].as_str().unwrap().to_string();
        let action = w.s.wait_action(&id).await;
        assert_eq!(action["status"], "DONE", "[{route}] {}: {action}", who.name);
        assert_eq!(action["new_network"], Value::Null);
        assert_eq!(
            w.get_as(who, "/v0/node/n-att", route).await["nics"][0]["networks"],
            json!({ format!("vlan/{}", w.att_vlan): "att-net" }),
            "[{route}] {}: only the tagged network is left",
            who.name
        );
        w.shutdown().await;
    }
}

#[tokio::test]
async fn show_networking_action() {
    let proj = req("GET", "/v0/networking_action/{ACT_PROJ}", None);
    let free = req("GET", "/v0/networking_action/{ACT_FREE}", None);
    let missing = req(
        "GET",
        "/v0/networking_action/00000000-0000-4000-8000-000000000000",
        None,
    );
    let proj_body = json!({"status": "DONE", "node": "n-att", "nic": "eth0",
        "type": "modify_port", "channel": "vlan/{VLAN}", "new_network": "att-net"});
    let free_body = json!({"status": "DONE", "node": "n-free", "nic": "eth0",
        "type": "revert_port", "channel": "", "new_network": null});
    Case::new("show_networking_action")
        .unauth(&proj)
        .unauth(&missing)
        .deny(&proj, OTHER, 401, AUTHZ)
        .read(&proj, MEMBER, proj_body.clone())
        .read(&proj, ADMIN_W, proj_body)
        // The action of a free node's nic: administrators only.
        .deny(&free, MEMBER, 401, AUTHZ)
        .deny(&free, OTHER, 401, AUTHZ)
        .read(&free, ADMIN_W, free_body)
        // 404 comes before the authorization check.
        .deny(&missing, OTHER, 404, NOT_FOUND)
        .deny(&missing, MEMBER, 404, NOT_FOUND)
        .deny(&missing, ADMIN_W, 404, NOT_FOUND)
        .run()
        .await;
}

// =====================================================================================
// Networks
// =====================================================================================

#[tokio::test]
async fn network_create_admin_owned() {
    let route = "network_create(admin-owned)";
    let call = req(
        "PUT",
        "/v0/network/new-net",
        Some(json!({"owner": "admin", "access": "", "net_id": ""})),
    );
    let with_access = |access: &str| {
        req(
            "PUT",
            "/v0/network/new-net",
            Some(json!({"owner": "admin", "access": access, "net_id": ""})),
        )
    };
    Case::new(route)
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        // admin owner: 401 before the access project lookup.
        .deny(&with_access("nope"), MEMBER, 401, AUTHZ)
        .deny(&with_access("nope"), ADMIN_W, 404, NOT_FOUND)
        .deny(&with_access("proj"), MEMBER, 401, AUTHZ)
        .run()
        .await;
    let (w, _) = allowed(route, &call, ADMIN_W, 200, false).await;
    let listed = w.get_as(MEMBER, "/v0/networks", route).await;
    assert!(
        listed["new-net"]["projects"].is_null() && listed["new-net"]["network_id"].is_string(),
        "[{route}] admin: the public network is listed for everyone: {listed}"
    );
    assert_eq!(
        w.get_as(OTHER, "/v0/network/new-net", route).await["owner"],
        "admin"
    );
    w.shutdown().await;
}

#[tokio::test]
async fn network_create_project_owned() {
    let route = "network_create(project-owned)";
    let body = json!({"owner": "proj", "access": "proj", "net_id": ""});
    let call = req("PUT", "/v0/network/proj-new", Some(body.clone()));
    Case::new(route)
        .unauth(&call)
        .deny(&call, OTHER, 401, AUTHZ)
        // A duplicate label is reported before any authorization check ...
        .deny(
            &req("PUT", "/v0/network/pub-net", Some(body.clone())),
            OTHER,
            409,
            DUPLICATE,
        )
        .deny(
            &req("PUT", "/v0/network/pub-net", Some(body.clone())),
            MEMBER,
            409,
            DUPLICATE,
        )
        .deny(
            &req(
                "PUT",
                "/v0/network/pub-net",
                Some(json!({"owner": "admin", "access": "", "net_id": ""})),
            ),
            OTHER,
            409,
            DUPLICATE,
        )
        // ... but not before authentication.
        .deny(
            &req("PUT", "/v0/network/pub-net", Some(body.clone())),
            ANON,
            401,
            AUTHZ,
        )
        // The owner lookup (404) comes before 401 ...
        .deny(
            &req(
                "PUT",
                "/v0/network/proj-new",
                Some(json!({"owner": "nope", "access": "nope", "net_id": ""})),
            ),
            OTHER,
            404,
            NOT_FOUND,
        )
        // ... and 401 before the argument checks (400).
        .deny(
            &req(
                "PUT",
                "/v0/network/proj-new",
                Some(json!({"owner": "proj", "access": "", "net_id": ""})),
            ),
            OTHER,
            401,
            AUTHZ,
        )
        .deny(
            &req(
                "PUT",
                "/v0/network/proj-new",
                Some(json!({"owner": "proj", "access": "", "net_id": ""})),
            ),
            MEMBER,
            400,
            BAD_ARG,
        )
        .deny(
            &req(
                "PUT",
                "/v0/network/proj-new",
                Some(json!({"owner": "proj", "access": "proj", "net_id": "3000"})),
            ),
            MEMBER,
            400,
            BAD_ARG,
        )
        .run()
        .await;
    for who in [MEMBER, ADMIN_W] {
        let (w, _) = allowed(route, &call, who, 200, false).await;
        let shown = w.get_as(who, "/v0/network/proj-new", route).await;
        assert_eq!(
            (&shown["owner"], &shown["access"]),
            (&json!("proj"), &json!(["proj"])),
            "[{route}] {}: {shown}",
            who.name
        );
        assert_eq!(
            w.get_as(who, "/v0/project/proj/networks", route).await,
            json!(["adm-priv", "att-net", "proj-net", "proj-new", "shared-net"]),
            "[{route}] {}: the project lists its new network",
            who.name
        );
        assert_eq!(w.status_as(OTHER, "/v0/network/proj-new").await, 401);
        w.shutdown().await;
    }
}

#[tokio::test]
async fn network_delete_project_owned() {
    let route = "network_delete(project-owned)";
    let call = req("DELETE", "/v0/network/proj-net", None);
    Case::new(route)
        .unauth(&call)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(
            &req("DELETE", "/v0/network/nope", None),
            OTHER,
            404,
            NOT_FOUND,
        )
        .deny(
            &req("DELETE", "/v0/network/other-net", None),
            MEMBER,
            401,
            AUTHZ,
        )
        .run()
        .await;
    for who in [MEMBER, ADMIN_W] {
        let (w, _) = allowed(route, &call, who, 200, false).await;
        assert_eq!(
            w.get_as(who, "/v0/project/proj/networks", route).await,
            json!(["adm-priv", "att-net", "shared-net"]),
            "[{route}] {}: the network is gone",
            who.name
        );
        let r = w.s.admin("GET", "/v0/network/proj-net", None).await;
        assert_error(&r, &format!("[{route}] {}: show", who.name), 404, NOT_FOUND);
        w.shutdown().await;
    }
}

#[tokio::test]
async fn network_delete_admin_owned() {
    let route = "network_delete(admin-owned)";
    let call = req("DELETE", "/v0/network/adm-priv", None);
    Case::new(route)
        .unauth(&call)
        // alice's project may use the network, but only admins own it.
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(
            &req("DELETE", "/v0/network/pub-net", None),
            MEMBER,
            401,
            AUTHZ,
        )
        .deny(
            &req("DELETE", "/v0/network/pub-net", None),
            ADMIN_W,
            409,
            BLOCKED,
        )
        // A finished action naming att-net still blocks its deletion.
        .deny(
            &req("DELETE", "/v0/network/att-net", None),
            ADMIN_W,
            409,
            BLOCKED,
        )
        .run()
        .await;
    let (w, _) = allowed(route, &call, ADMIN_W, 200, false).await;
    let nets = w.get("/v0/networks", route).await;
    assert!(
        nets.get("adm-priv").is_none(),
        "[{route}] admin: the network is gone: {nets}"
    );
    assert_eq!(
        w.get_as(MEMBER, "/v0/project/proj/networks", route).await,
        json!(["att-net", "proj-net", "shared-net"])
    );
    w.shutdown().await;
}

#[tokio::test]
async fn show_network() {
    let public = req("GET", "/v0/network/pub-net", None);
    let att = req("GET", "/v0/network/att-net", None);
    let proj = req("GET", "/v0/network/proj-net", None);
    let other = req("GET", "/v0/network/other-net", None);
    let pub_body = |connected: Value| {
        json!({"access": null, "channels": ["vlan/native", "vlan/{PUBVLAN}"],
               "connected-nodes": connected, "name": "pub-net", "owner": "admin"})
    };
    let att_body = json!({"access": ["proj"], "channels": ["vlan/native", "vlan/{VLAN}"],
        "connected-nodes": {"n-att": ["eth0"]}, "name": "att-net", "owner": "admin"});
    Case::new("show_network")
        .unauth(&public)
        .unauth(&att)
        // Public: anyone authenticated; attachments only for those with access to the
        // owner (admin) or to the node's project.
        .read(&public, MEMBER, pub_body(json!({"n-att": ["eth0"]})))
        .read(&public, OTHER, pub_body(json!({})))
        .read(&public, ADMIN_W, pub_body(json!({"n-att": ["eth0"]})))
        // Restricted: access to a project on the list.
        .read(&att, MEMBER, att_body.clone())
        .deny(&att, OTHER, 401, AUTHZ)
        .read(&att, ADMIN_W, att_body)
        .deny(&proj, OTHER, 401, AUTHZ)
        .deny(&other, MEMBER, 401, AUTHZ)
        .deny(&req("GET", "/v0/network/nope", None), OTHER, 404, NOT_FOUND)
        .run()
        .await;
    // Read-only checks of the other restricted networks, as the members who may see them.
    let w = World::new().await;
    let shown = w
        .get_as(MEMBER, "/v0/network/proj-net", "show_network")
        .await;
    assert_eq!(
        (&shown["owner"], &shown["access"], &shown["connected-nodes"]),
        (&json!("proj"), &json!(["proj"]), &json!({})),
        "[show_network] member: proj-net {shown}"
    );
    let shown = w
        .get_as(OTHER, "/v0/network/other-net", "show_network")
        .await;
    assert_eq!(
        (&shown["owner"], &shown["access"]),
        (&json!("other"), &json!(["other"])),
        "[show_network] other: other-net {shown}"
    );
    w.shutdown().await;
}

#[tokio::test]
async fn list_networks() {
    let route = "list_networks";
    let call = req("GET", "/v0/networks", None);
    let w = World::new().await;
    let before = w.snapshot().await;
    for who in [ANON, WRONG_PW, UNKNOWN] {
        let r = call.send(&w.s, who).await;
        assert_error(&r, &call.describe(route, who), 401, AUTHZ);
    }
    let all = w.get("/v0/networks", route).await;
    let id = |n: &str| {
        all[n]["network_id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        all,
        json!({
            "adm-priv": {"network_id": id("adm-priv"), "projects": ["proj"]},
            "att-net": {"network_id": id("att-net"), "projects": ["proj"]},
            "other-net": {"network_id": id("other-net"), "projects": ["other"]},
            "proj-net": {"network_id": id("proj-net"), "projects": ["proj"]},
            "pub-net": {"network_id": id("pub-net"), "projects": null},
            "shared-net": {"network_id": id("shared-net"), "projects": ["other", "proj"]},
        }),
        "[{route}] admin sees every network"
    );
    assert!(
        all.as_object()
            .unwrap()
            .values()
            .all(|v| v["network_id"].as_str().is_some_and(|s| !s.is_empty())),
        "[{route}] network ids: {all}"
    );
    // Non-admins see only public networks, even those their project owns or may use.
    for who in [MEMBER, OTHER] {
        assert_eq!(
            w.get_as(who, "/v0/networks", route).await,
            json!({"pub-net": {"network_id": id("pub-net"), "projects": null}}),
            "[{route}] {} sees public networks only",
            who.name
        );
    }
    assert_same(route, &before, &w.snapshot().await);
    w.shutdown().await;
}

#[tokio::test]
async fn list_network_attachments() {
    let route = "list_network_attachments";
    let att = |q: &str| req("GET", format!("/v0/network/att-net/attachments{q}"), None);
    let public = |q: &str| req("GET", format!("/v0/network/pub-net/attachments{q}"), None);
    let proj_net = req("GET", "/v0/network/proj-net/attachments", None);
    let tagged = json!({"n-att": {"nic": "eth0", "channel": "vlan/{VLAN}", "project": "proj"}});
    let native = json!({"n-att": {"nic": "eth0", "channel": "vlan/native", "project": "proj"}});
    Case::new(route)
        .unauth(&att(""))
        .unauth(&att("?project=proj"))
        // Without `project`: access to the owner (admin for admin-owned networks).
        .deny(&att(""), MEMBER, 401, AUTHZ)
        .deny(&att(""), OTHER, 401, AUTHZ)
        .read(&att(""), ADMIN_W, tagged.clone())
        // With `project`: the project must be on the access list and the caller a member.
        .read(&att("?project=proj"), MEMBER, tagged.clone())
        .deny(&att("?project=proj"), OTHER, 401, AUTHZ)
        .read(&att("?project=proj"), ADMIN_W, tagged.clone())
        .deny(&att("?project=other"), OTHER, 401, AUTHZ)
        .deny(&att("?project=other"), MEMBER, 401, AUTHZ)
        .read(&att("?project=other"), ADMIN_W, json!({}))
        .deny(&att("?project=nope"), OTHER, 404, NOT_FOUND)
        .deny(
            &req("GET", "/v0/network/nope/attachments", None),
            OTHER,
            404,
            NOT_FOUND,
        )
        // A public network has an empty access list: only admins may list it.
        .deny(&public(""), MEMBER, 401, AUTHZ)
        .deny(&public("?project=proj"), MEMBER, 401, AUTHZ)
        .read(&public(""), ADMIN_W, native)
        // A project-owned network: its members.
        .read(&proj_net, MEMBER, json!({}))
        .deny(&proj_net, OTHER, 401, AUTHZ)
        .read(&proj_net, ADMIN_W, json!({}))
        .run()
        .await;
}

#[tokio::test]
async fn network_grant_project_access_admin_owned() {
    let route = "network_grant_project_access(admin-owned)";
    let call = req("PUT", "/v0/network/adm-priv/access/spare", None);
    Case::new(route)
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(
            &req("PUT", "/v0/network/pub-net/access/proj", None),
            MEMBER,
            401,
            AUTHZ,
        )
        // Lookups come before the authorization check.
        .deny(
            &req("PUT", "/v0/network/nope/access/spare", None),
            OTHER,
            404,
            NOT_FOUND,
        )
        .deny(
            &req("PUT", "/v0/network/adm-priv/access/nope", None),
            OTHER,
            404,
            NOT_FOUND,
        )
        .deny(
            &req("PUT", "/v0/network/adm-priv/access/proj", None),
            ADMIN_W,
            409,
            DUPLICATE,
        )
        .run()
        .await;
    let (w, _) = allowed(route, &call, ADMIN_W, 200, false).await;
    assert_eq!(
        w.get("/v0/network/adm-priv", route).await["access"],
        json!(["proj", "spare"]),
        "[{route}] admin: the project is on the access list"
    );
    assert_eq!(
        w.get("/v0/project/spare/networks", route).await,
        json!(["adm-priv"])
    );
    w.shutdown().await;
}

#[tokio::test]
async fn network_grant_project_access_project_owned() {
    let route = "network_grant_project_access(project-owned)";
    let call = req("PUT", "/v0/network/proj-net/access/other", None);
    Case::new(route)
        .unauth(&call)
        // bob is a member of the project being granted, not of the owner.
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(
            &req("PUT", "/v0/network/other-net/access/proj", None),
            MEMBER,
            401,
            AUTHZ,
        )
        .deny(
            &req("PUT", "/v0/network/proj-net/access/proj", None),
            MEMBER,
            409,
            DUPLICATE,
        )
        .run()
        .await;
    for who in [MEMBER, ADMIN_W] {
        let (w, _) = allowed(route, &call, who, 200, false).await;
        assert_eq!(
            w.get_as(who, "/v0/network/proj-net", route).await["access"],
            json!(["proj", "other"]),
            "[{route}] {}: access list in grant order",
            who.name
        );
        assert_eq!(
            w.get_as(OTHER, "/v0/project/other/networks", route).await,
            json!(["other-net", "proj-net", "shared-net"]),
            "[{route}] {}: the granted project now lists the network",
            who.name
        );
        assert_eq!(w.status_as(OTHER, "/v0/network/proj-net").await, 200);
        w.shutdown().await;
    }
}

#[tokio::test]
async fn network_revoke_project_access() {
    let route = "network_revoke_project_access";
    let call = req("DELETE", "/v0/network/adm-priv/access/proj", None);
    Case::new(route)
        .unauth(&call)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(
            &req("DELETE", "/v0/network/nope/access/proj", None),
            OTHER,
            404,
            NOT_FOUND,
        )
        .deny(
            &req("DELETE", "/v0/network/adm-priv/access/nope", None),
            OTHER,
            404,
            NOT_FOUND,
        )
        // A public network has no access list: no authorization check, just "not on list".
        .deny(
            &req("DELETE", "/v0/network/pub-net/access/other", None),
            OTHER,
            404,
            NOT_FOUND,
        )
        // Not on the list.
        .deny(
            &req("DELETE", "/v0/network/adm-priv/access/spare", None),
            ADMIN_W,
            404,
            NOT_FOUND,
        )
        // The owner can never be removed.
        .deny(
            &req("DELETE", "/v0/network/proj-net/access/proj", None),
            MEMBER,
            409,
            BLOCKED,
        )
        // A project with attached nodes cannot be removed.
        .deny(
            &req("DELETE", "/v0/network/att-net/access/proj", None),
            MEMBER,
            409,
            BLOCKED,
        )
        .run()
        .await;
    // A member of the listed project may remove it (and so may admins).
    for who in [MEMBER, ADMIN_W] {
        let (w, _) = allowed(route, &call, who, 200, false).await;
        let shown = w.get_as(who, "/v0/network/adm-priv", route).await;
        assert_eq!(
            shown["access"],
            Value::Null,
            "[{route}] {}: the last project removed makes the network public: {shown}",
            who.name
        );
        assert_eq!(
            w.get_as(who, "/v0/project/proj/networks", route).await,
            json!(["att-net", "proj-net", "shared-net"])
        );
        let listed = w.get_as(OTHER, "/v0/networks", route).await;
        assert!(
            listed.get("adm-priv").is_some(),
            "[{route}] {}: now public, listed for bob: {listed}",
            who.name
        );
        w.shutdown().await;
    }
}

#[tokio::test]
async fn network_revoke_project_access_by_listed_project() {
    let route = "network_revoke_project_access(listed project)";
    // shared-net is owned by proj; other is on its access list.
    let call = req("DELETE", "/v0/network/shared-net/access/other", None);
    Case::new(route)
        .unauth(&call)
        // A listed project may remove itself, but not the owner nor anyone else.
        .deny(
            &req("DELETE", "/v0/network/shared-net/access/proj", None),
            OTHER,
            401,
            AUTHZ,
        )
        .deny(
            &req("DELETE", "/v0/network/adm-priv/access/proj", None),
            OTHER,
            401,
            AUTHZ,
        )
        .run()
        .await;
    // bob (member of the listed project), alice (member of the owner) and admins may.
    for who in [OTHER, MEMBER, ADMIN_W] {
        let (w, _) = allowed(route, &call, who, 200, false).await;
        assert_eq!(
            w.get_as(MEMBER, "/v0/network/shared-net", route).await["access"],
            json!(["proj"]),
            "[{route}] {}: other is off the list",
            who.name
        );
        assert_eq!(
            w.get_as(OTHER, "/v0/project/other/networks", route).await,
            json!(["other-net"]),
            "[{route}] {}",
            who.name
        );
        assert_eq!(
            w.status_as(OTHER, "/v0/network/shared-net").await,
            401,
            "[{route}] {}: bob no longer sees the network",
            who.name
        );
        w.shutdown().await;
    }
}

// =====================================================================================
// Switches and ports
// =====================================================================================

#[tokio::test]
async fn switch_register() {
    let route = "switch_register";
    let body = json!({"type": MOCK, "hostname": "sw2.example", "username": "u", "password": "p"});
    let call = req("PUT", "/v0/switch/sw2", Some(body.clone()));
    Case::new(route)
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(
            &req("PUT", "/v0/switch/sw", Some(body.clone())),
            MEMBER,
            401,
            AUTHZ,
        )
        .deny(
            &req("PUT", "/v0/switch/sw", Some(body)),
            ADMIN_W,
            409,
            DUPLICATE,
        )
        .run()
        .await;
    let (w, _) = allowed(route, &call, ADMIN_W, 200, false).await;
    assert_eq!(
        w.get("/v0/switches", route).await,
        json!(["sw", "sw-empty", "sw2"])
    );
    assert_eq!(
        w.get("/v0/switch/sw2", route).await,
        json!({"capabilities": ["nativeless-trunk-mode"], "name": "sw2", "ports": []})
    );
    w.shutdown().await;
}

#[tokio::test]
async fn switch_delete() {
    let route = "switch_delete";
    let call = req("DELETE", "/v0/switch/sw-empty", None);
    Case::new(route)
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(&req("DELETE", "/v0/switch/nope", None), MEMBER, 401, AUTHZ)
        .deny(
            &req("DELETE", "/v0/switch/nope", None),
            ADMIN_W,
            404,
            NOT_FOUND,
        )
        .deny(&req("DELETE", "/v0/switch/sw", None), ADMIN_W, 409, BLOCKED)
        .run()
        .await;
    let (w, _) = allowed(route, &call, ADMIN_W, 200, false).await;
    assert_eq!(w.get("/v0/switches", route).await, json!(["sw"]));
    w.shutdown().await;
}

#[tokio::test]
async fn list_switches() {
    let call = req("GET", "/v0/switches", None);
    Case::new("list_switches")
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        .read(&call, ADMIN_W, json!(["sw", "sw-empty"]))
        .run()
        .await;
}

#[tokio::test]
async fn show_switch() {
    let call = req("GET", "/v0/switch/sw", None);
    Case::new("show_switch")
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(&req("GET", "/v0/switch/nope", None), MEMBER, 401, AUTHZ)
        .deny(
            &req("GET", "/v0/switch/nope", None),
            ADMIN_W,
            404,
            NOT_FOUND,
        )
        .read(
            &call,
            ADMIN_W,
            json!({"capabilities": ["nativeless-trunk-mode"], "name": "sw",
                   "ports": [{"label": "gi1/0/1"}, {"label": "gi1/0/2"},
                             {"label": "gi1/0/3"}, {"label": "gi1/0/9"}]}),
        )
        .run()
        .await;
}

#[tokio::test]
async fn switch_register_port() {
    let route = "switch_register_port";
    let call = req("PUT", "/v0/switch/sw/port/gi1/0/10", None);
    Case::new(route)
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(
            &req("PUT", "/v0/switch/nope/port/gi1/0/10", None),
            MEMBER,
            401,
            AUTHZ,
        )
        .deny(
            &req("PUT", "/v0/switch/nope/port/gi1/0/10", None),
            ADMIN_W,
            404,
            NOT_FOUND,
        )
        .deny(
            &req("PUT", "/v0/switch/sw/port/gi1/0/9", None),
            ADMIN_W,
            409,
            DUPLICATE,
        )
        .run()
        .await;
    let (w, _) = allowed(route, &call, ADMIN_W, 200, false).await;
    let ports = w.get("/v0/switch/sw", route).await["ports"].clone();
    assert_eq!(
        ports.as_array().and_then(|p| p.last()).cloned(),
        Some(json!({"label": "gi1/0/10"})),
        "[{route}] admin: the port is listed last: {ports}"
    );
    assert_eq!(w.get("/v0/switch/sw/port/gi1/0/10", route).await, json!({}));
    w.shutdown().await;
}

#[tokio::test]
async fn switch_delete_port() {
    let route = "switch_delete_port";
    let call = req("DELETE", "/v0/switch/sw/port/gi1/0/9", None);
    Case::new(route)
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(
            &req("DELETE", "/v0/switch/sw/port/gi1/0/7", None),
            ADMIN_W,
            404,
            NOT_FOUND,
        )
        .deny(
            &req("DELETE", "/v0/switch/sw/port/gi1/0/1", None),
            ADMIN_W,
            409,
            BLOCKED,
        )
        .run()
        .await;
    let (w, _) = allowed(route, &call, ADMIN_W, 200, false).await;
    assert_eq!(
        w.get("/v0/switch/sw", route).await["ports"],
        json!([{"label": "gi1/0/1"}, {"label": "gi1/0/2"}, {"label": "gi1/0/3"}])
    );
    let r = w.s.admin("GET", "/v0/switch/sw/port/gi1/0/9", None).await;
    assert_error(&r, "[switch_delete_port] deleted port", 404, NOT_FOUND);
    w.shutdown().await;
}

#[tokio::test]
async fn show_port() {
    let call = req("GET", "/v0/switch/sw/port/gi1/0/3", None);
    Case::new("show_port")
        .unauth(&call)
        // Even the member whose node is cabled to the port may not look at it.
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(
            &req("GET", "/v0/switch/sw/port/gi1/0/7", None),
            MEMBER,
            401,
            AUTHZ,
        )
        .deny(
            &req("GET", "/v0/switch/sw/port/gi1/0/7", None),
            ADMIN_W,
            404,
            NOT_FOUND,
        )
        .read(
            &call,
            ADMIN_W,
            json!({"node": "n-att", "nic": "eth0",
                   "networks": {"vlan/native": "pub-net", "vlan/{VLAN}": "att-net"}}),
        )
        .read(
            &req("GET", "/v0/switch/sw/port/gi1/0/9", None),
            ADMIN_W,
            json!({}),
        )
        .run()
        .await;
}

#[tokio::test]
async fn port_connect_nic() {
    let route = "port_connect_nic";
    let call = req(
        "POST",
        "/v0/switch/sw/port/gi1/0/9/connect_nic",
        Some(json!({"node": "n-free", "nic": "eth1"})),
    );
    Case::new(route)
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(
            &req(
                "POST",
                "/v0/switch/sw/port/gi1/0/9/connect_nic",
                Some(json!({"node": "n-free", "nic": "eth0"})),
            ),
            ADMIN_W,
            409,
            DUPLICATE,
        )
        .deny(
            &req(
                "POST",
                "/v0/switch/sw/port/gi1/0/1/connect_nic",
                Some(json!({"node": "n-free", "nic": "eth1"})),
            ),
            ADMIN_W,
            409,
            DUPLICATE,
        )
        .deny(
            &req(
                "POST",
                "/v0/switch/sw/port/gi1/0/9/connect_nic",
                Some(json!({"node": "ghost", "nic": "eth1"})),
            ),
            ADMIN_W,
            404,
            NOT_FOUND,
        )
        .run()
        .await;
    let (w, _) = allowed(route, &call, ADMIN_W, 200, false).await;
    assert_eq!(
        w.get("/v0/switch/sw/port/gi1/0/9", route).await,
        json!({"node": "n-free", "nic": "eth1", "networks": {}})
    );
    assert_eq!(
        w.get("/v0/node/n-free", route).await["nics"][1]["port"],
        "gi1/0/9"
    );
    w.shutdown().await;
}

#[tokio::test]
async fn port_detach_nic() {
    let route = "port_detach_nic";
    let call = req("POST", "/v0/switch/sw/port/gi1/0/1/detach_nic", None);
    Case::new(route)
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(
            &req("POST", "/v0/switch/sw/port/gi1/0/9/detach_nic", None),
            ADMIN_W,
            404,
            NOT_FOUND,
        )
        .deny(
            &req("POST", "/v0/switch/sw/port/gi1/0/2/detach_nic", None),
            MEMBER,
            401,
            AUTHZ,
        )
        .deny(
            &req("POST", "/v0/switch/sw/port/gi1/0/2/detach_nic", None),
            ADMIN_W,
            409,
            BLOCKED,
        )
        .run()
        .await;
    let (w, _) = allowed(route, &call, ADMIN_W, 200, false).await;
    assert_eq!(w.get("/v0/switch/sw/port/gi1/0/1", route).await, json!({}));
    assert_eq!(
        w.get("/v0/node/n-free", route).await["nics"][0]["port"],
        Value::Null
    );
    w.shutdown().await;
}

#[tokio::test]
async fn port_revert() {
    let route = "port_revert";
    let call = req("POST", "/v0/switch/sw/port/gi1/0/3/revert", None);
    Case::new(route)
        .unauth(&call)
        // The member owns the node on that port, but reverting ports is administrator-only.
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(
            &req("POST", "/v0/switch/sw/port/gi1/0/9/revert", None),
            ADMIN_W,
            404,
            NOT_FOUND,
        )
        .run()
        .await;
    let (w, resp) = allowed(route, &call, ADMIN_W, 200, true).await;
    let id = resp.json["status_id"].as_str().unwrap().to_string();
    let action = w.s.wait_action(&id).await;
    assert_eq!(
        action,
        json!({"status": "DONE", "node": "n-att", "nic": "eth0", "type": "revert_port",
               "channel": "", "new_network": null}),
        "[{route}] admin"
    );
    assert_eq!(
        w.get_as(MEMBER, "/v0/node/n-att", route).await["nics"][0]["networks"],
        json!({}),
        "[{route}] admin: every attachment is gone"
    );
    let r =
        w.s.admin(
            "GET",
            &format!("/v0/networking_action/{}", w.act_proj),
            None,
        )
        .await;
    assert_error(&r, "[port_revert] the replaced action", 404, NOT_FOUND);
    w.shutdown().await;
}

// =====================================================================================
// Extensions and users
// =====================================================================================

#[tokio::test]
async fn list_active_extensions() {
    let route = "list_active_extensions";
    let call = req("GET", "/v0/active_extensions", None);
    Case::new(route)
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        .run()
        .await;
    let w = World::new().await;
    let exts = w.get("/v0/active_extensions", route).await;
    let names = labels(&exts);
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "[{route}] admin: sorted: {exts}");
    let auth = if keystone_mode() {
        "hil.ext.auth.keystone"
    } else {
        "hil.ext.auth.database"
    };
    for needed in [
        auth,
        "hil.ext.network_allocators.vlan_pool",
        "hil.ext.switches.mock",
    ] {
        assert!(
            names.iter().any(|n| n == needed),
            "[{route}] admin: {needed} missing from {exts}"
        );
    }
    w.shutdown().await;
}

#[tokio::test]
async fn list_users() {
    if keystone_mode() {
        return; // the database backend's routes
    }
    let call = req("GET", "/v0/auth/basic/users", None);
    Case::new("list_users")
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        .read(
            &call,
            ADMIN_W,
            json!({
                "admin": {"is_admin": true, "projects": []},
                "alice": {"is_admin": false, "projects": ["empty", "proj"]},
                "bob": {"is_admin": false, "projects": ["other"]},
                "carol": {"is_admin": false, "projects": ["other"]},
            }),
        )
        .run()
        .await;
}

#[tokio::test]
async fn user_create() {
    if keystone_mode() {
        return; // the database backend's routes
    }
    let route = "user_create";
    let call = req(
        "PUT",
        "/v0/auth/basic/user/dave",
        Some(json!({"password": "dave-pw"})),
    );
    Case::new(route)
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(
            &req(
                "PUT",
                "/v0/auth/basic/user/bob",
                Some(json!({"password": "x"})),
            ),
            MEMBER,
            401,
            AUTHZ,
        )
        .deny(
            &req(
                "PUT",
                "/v0/auth/basic/user/bob",
                Some(json!({"password": "x"})),
            ),
            ADMIN_W,
            409,
            DUPLICATE,
        )
        .run()
        .await;
    let (w, _) = allowed(route, &call, ADMIN_W, 200, false).await;
    assert_eq!(
        w.get("/v0/auth/basic/users", route).await["dave"],
        json!({"is_admin": false, "projects": []})
    );
    let dave = Who {
        name: "dave",
        creds: Some(("dave", "dave-pw")),
    };
    assert_eq!(w.status_as(dave, "/v0/nodes/free").await, 200);
    assert_eq!(w.status_as(dave, "/v0/projects").await, 401);
    w.shutdown().await;
}

#[tokio::test]
async fn user_delete() {
    if keystone_mode() {
        return; // the database backend's routes
    }
    let route = "user_delete";
    let call = req("DELETE", "/v0/auth/basic/user/carol", None);
    Case::new(route)
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        .deny(
            &req("DELETE", "/v0/auth/basic/user/nobody", None),
            MEMBER,
            401,
            AUTHZ,
        )
        .deny(
            &req("DELETE", "/v0/auth/basic/user/nobody", None),
            ADMIN_W,
            404,
            NOT_FOUND,
        )
        .run()
        .await;
    let w = World::new().await;
    // carol has just been authenticated (credentials possibly cached) ...
    assert_eq!(w.status_as(CAROL, "/v0/nodes/free").await, 200);
    let r = call.send(&w.s, ADMIN_W).await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (200, ""),
        "[{route}] admin: {}",
        r.text
    );
    // ... and is refused right after her deletion.
    let r = w.s.call(CAROL.creds, "GET", "/v0/nodes/free", None).await;
    assert_error(&r, "[user_delete] the deleted user", 401, AUTHZ);
    assert!(w
        .get("/v0/auth/basic/users", route)
        .await
        .get("carol")
        .is_none());
    w.shutdown().await;
}

#[tokio::test]
async fn user_set_admin() {
    if keystone_mode() {
        return; // the database backend's routes
    }
    let route = "user_set_admin";
    let call = req(
        "PATCH",
        "/v0/auth/basic/user/carol",
        Some(json!({"is_admin": true})),
    );
    Case::new(route)
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        // A non-admin changing its own flag: 401 (authorization comes first).
        .deny(
            &req(
                "PATCH",
                "/v0/auth/basic/user/alice",
                Some(json!({"is_admin": true})),
            ),
            MEMBER,
            401,
            AUTHZ,
        )
        // An admin changing its own flag: 409.
        .deny(
            &req(
                "PATCH",
                "/v0/auth/basic/user/admin",
                Some(json!({"is_admin": false})),
            ),
            ADMIN_W,
            409,
            ILLEGAL,
        )
        .deny(
            &req(
                "PATCH",
                "/v0/auth/basic/user/nobody",
                Some(json!({"is_admin": true})),
            ),
            ADMIN_W,
            404,
            NOT_FOUND,
        )
        .run()
        .await;
    let w = World::new().await;
    assert_eq!(w.status_as(CAROL, "/v0/projects").await, 401);
    let r = call.send(&w.s, ADMIN_W).await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (200, ""),
        "[{route}] admin: {}",
        r.text
    );
    assert_eq!(
        w.get("/v0/auth/basic/users", route).await["carol"]["is_admin"],
        true
    );
    assert_eq!(
        w.status_as(CAROL, "/v0/projects").await,
        200,
        "[{route}] carol is an administrator right away"
    );
    // And back.
    let r =
        w.s.admin(
            "PATCH",
            "/v0/auth/basic/user/carol",
            Some(json!({"is_admin": false})),
        )
        .await;
    assert_eq!(r.status, 200, "[{route}] admin: {}", r.text);
    assert_eq!(w.status_as(CAROL, "/v0/projects").await, 401);
    w.shutdown().await;
}

#[tokio::test]
async fn user_add_project() {
    if keystone_mode() {
        return; // the database backend's routes
    }
    let route = "user_add_project";
    let call = req(
        "POST",
        "/v0/auth/basic/user/carol/add_project",
        Some(json!({"project": "spare"})),
    );
    let add = |user: &str, project: &str| {
        req(
            "POST",
            format!("/v0/auth/basic/user/{user}/add_project"),
            Some(json!({ "project": project })),
        )
    };
    Case::new(route)
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        // Nobody may add themselves to a project either.
        .deny(&add("bob", "proj"), OTHER, 401, AUTHZ)
        .deny(&add("nobody", "spare"), ADMIN_W, 404, NOT_FOUND)
        .deny(&add("carol", "nope"), ADMIN_W, 404, NOT_FOUND)
        .deny(&add("carol", "other"), ADMIN_W, 409, DUPLICATE)
        .run()
        .await;
    let (w, _) = allowed(route, &call, ADMIN_W, 200, false).await;
    assert_eq!(
        w.get("/v0/auth/basic/users", route).await["carol"]["projects"],
        json!(["other", "spare"])
    );
    assert_eq!(w.status_as(CAROL, "/v0/project/spare/nodes").await, 200);
    w.shutdown().await;
}

#[tokio::test]
async fn user_remove_project() {
    if keystone_mode() {
        return; // the database backend's routes
    }
    let route = "user_remove_project";
    let call = req(
        "POST",
        "/v0/auth/basic/user/carol/remove_project",
        Some(json!({"project": "other"})),
    );
    let remove = |user: &str, project: &str| {
        req(
            "POST",
            format!("/v0/auth/basic/user/{user}/remove_project"),
            Some(json!({ "project": project })),
        )
    };
    Case::new(route)
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        // Not even from one's own project.
        .deny(&remove("bob", "other"), OTHER, 401, AUTHZ)
        .deny(&remove("nobody", "other"), ADMIN_W, 404, NOT_FOUND)
        .deny(&remove("carol", "nope"), ADMIN_W, 404, NOT_FOUND)
        .deny(&remove("carol", "proj"), ADMIN_W, 404, NOT_FOUND)
        .run()
        .await;
    let w = World::new().await;
    assert_eq!(w.status_as(CAROL, "/v0/project/other/nodes").await, 200);
    let r = call.send(&w.s, ADMIN_W).await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (200, ""),
        "[{route}] admin: {}",
        r.text
    );
    assert_eq!(
        w.get("/v0/auth/basic/users", route).await["carol"]["projects"],
        json!([])
    );
    assert_eq!(
        w.status_as(CAROL, "/v0/project/other/nodes").await,
        401,
        "[{route}] carol lost access right away"
    );
    w.shutdown().await;
}

// =====================================================================================
// Dashboard extensions
// =====================================================================================

#[tokio::test]
async fn whoami() {
    let route = "whoami";
    let call = req("GET", "/v0/whoami", None);
    // A database user acts for its memberships; a Keystone token for the one project it is
    // scoped to.
    let (alice, bob, admin) = if keystone_mode() {
        (
            json!({"user": "keystone:alice", "is_admin": false, "projects": ["proj"]}),
            json!({"user": "keystone:bob", "is_admin": false, "projects": ["other"]}),
            "keystone:admin",
        )
    } else {
        (
            json!({"user": "alice", "is_admin": false, "projects": ["empty", "proj"]}),
            json!({"user": "bob", "is_admin": false, "projects": ["other"]}),
            "admin",
        )
    };
    Case::new(route)
        .unauth(&call)
        .read(&call, MEMBER, alice)
        .read(&call, OTHER, bob)
        .read(
            &call,
            ADMIN_W,
            json!({"user": admin, "is_admin": true,
                   "projects": ["empty", "other", "proj", "spare"]}),
        )
        .run()
        .await;
}

#[tokio::test]
async fn list_networking_actions() {
    let route = "list_networking_actions";
    let call = req("GET", "/v0/networking_actions", None);
    // With `project`, the project's members see the actions on its nodes.
    let mine = req("GET", "/v0/networking_actions?project=proj", None);
    let unknown = req("GET", "/v0/networking_actions?project=nope", None);
    Case::new(route)
        .unauth(&call)
        .deny(&call, MEMBER, 401, AUTHZ)
        .deny(&call, OTHER, 401, AUTHZ)
        .unauth(&mine)
        .deny(&mine, OTHER, 401, AUTHZ)
        .deny(&unknown, MEMBER, 404, NOT_FOUND)
        .run()
        .await;
    let w = World::new().await;
    let queue = w.get("/v0/networking_actions", route).await;
    assert!(queue.is_array(), "[{route}] admin: {queue}");
    w.shutdown().await;
}
