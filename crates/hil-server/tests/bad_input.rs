//! Bad input is harmless (hil-api.md §1.2, §1.3 and our deliberate deviations): malformed or
//! mistyped requests answer 400 with a JSON `{"type", "msg"}` body, before authentication
//! (an anonymous client gets 400, not 401), never a 5xx, and change nothing. Unicode labels
//! work end to end.

mod common;

use common::*;
use serde_json::{json, Value};

const VALIDATION: &str = "ValidationError";
const BAD_ARG: &str = "BadArgumentError";

/// Credentials of the member of `proj` in the world below.
const ALICE: (&str, &str) = ("alice", "alice-pw");

// ---- sending, and checking every answer ----

/// Sends raw bytes as `user`; no answer in this file may be a server error.
async fn send(
    s: &TestServer,
    user: Option<(&str, &str)>,
    method: &str,
    path: &str,
    body: &[u8],
) -> Resp {
    let r = s.raw(user, method, path, body.to_vec()).await;
    assert!(
        r.status < 500,
        "{method} {path} as {user:?} with body {}: server error {} {}",
        preview(body),
        r.status,
        r.text
    );
    r
}

fn preview(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if text.chars().count() > 120 {
        format!(
            "{}... ({} bytes)",
            text.chars().take(120).collect::<String>(),
            body.len()
        )
    } else {
        format!("{text:?}")
    }
}

/// What is wrong with `r` if it is not a `status` error of type `error_type` with a JSON body
/// carrying `type` and a string `msg`.
fn problem(r: &Resp, ctx: &str, status: u16, error_type: &str) -> Option<String> {
    if r.status != status || r.json["type"].as_str() != Some(error_type) {
        return Some(format!(
            "{ctx}: expected {status} {error_type}, got {} {}",
            r.status, r.text
        ));
    }
    if !r.json["msg"].is_string() {
        return Some(format!(
            "{ctx}: the error body needs a string msg: {}",
            r.text
        ));
    }
    None
}

/// Asserts a 400 with exactly this error type and a JSON body carrying `type` and `msg`.
fn assert_400(r: &Resp, ctx: &str, error_type: &str) {
    assert_eq!(
        (r.status, r.json["type"].as_str()),
        (400, Some(error_type)),
        "{ctx}: expected 400 {error_type}, got {} {}",
        r.status,
        r.text
    );
    assert!(
        r.json["msg"].is_string(),
        "{ctx}: the error body needs a string msg: {}",
        r.text
    );
}

/// Percent-encodes one path segment (UTF-8, everything but unreserved characters).
fn enc(label: &str) -> String {
    let mut out = String::new();
    for b in label.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ---- the world ----

/// Project `proj` (member alice); switch `sw` with ports gi1/0/1 (cabled to n1's eth0) and
/// gi1/0/9 (free); node `n1` in proj, node `n-free` (free, nic eth1 uncabled), node `bare`
/// (free, no nic); public network `pub-net`.
async fn world() -> TestServer {
    let s = TestServer::start().await;
    s.project("proj").await;
    s.user("alice", "alice-pw", false, &["proj"]).await;
    s.switch("sw").await;
    s.cabled_node("n1", "sw", "gi1/0/1").await;
    s.reserve("proj", "n1").await;
    s.node("n-free").await;
    s.ok(
        "PUT",
        "/v0/node/n-free/nic/eth1",
        Some(json!({"macaddr": "de:ad:be:ef:00:02"})),
    )
    .await;
    s.ok("PUT", "/v0/switch/sw/port/gi1/0/9", None).await;
    s.node("bare").await;
    s.network("pub-net", "admin", "", "").await;
    s
}

/// Everything an administrator can read about the world, keyed by path.
async fn snapshot(s: &TestServer) -> Value {
    let mut snap = serde_json::Map::new();
    let mut get = async |path: String| -> Value {
        let r = s.admin("GET", &path, None).await;
        snap.insert(path, json!({"status": r.status, "body": r.json.clone()}));
        r.json
    };
    let projects = get("/v0/projects".into()).await;
    for p in strings(&projects) {
        get(format!("/v0/project/{}/nodes", enc(&p))).await;
        get(format!("/v0/project/{}/networks", enc(&p))).await;
    }
    get("/v0/nodes/free".into()).await;
    for n in strings(&get("/v0/nodes/all".into()).await) {
        get(format!("/v0/node/{}", enc(&n))).await;
    }
    let networks = get("/v0/networks".into()).await;
    for n in networks.as_object().cloned().unwrap_or_default().keys() {
        get(format!("/v0/network/{}", enc(n))).await;
        get(format!("/v0/network/{}/attachments", enc(n))).await;
    }
    for sw in strings(&get("/v0/switches".into()).await) {
        let shown = get(format!("/v0/switch/{}", enc(&sw))).await;
        for port in shown["ports"].as_array().cloned().unwrap_or_default() {
            if let Some(port) = port["label"].as_str() {
                get(format!("/v0/switch/{}/port/{port}", enc(&sw))).await;
            }
        }
    }
    get("/v0/auth/basic/users".into()).await;
    snap.insert("mock-state:sw".into(), s.mock_state("sw"));
    Value::Object(snap)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn assert_same(ctx: &str, before: &Value, after: &Value) {
    if before == after {
        return;
    }
    let (b, a) = (before.as_object().unwrap(), after.as_object().unwrap());
    for (k, v) in b {
        assert_eq!(Some(v), a.get(k), "{ctx}: bad input changed the state: {k}");
    }
    for k in a.keys() {
        assert!(
            b.contains_key(k),
            "{ctx}: bad input changed the state: new {k}"
        );
    }
}

// ---- the routes under test ----

/// One route: a valid request (path with labels marked `<label>`) and its bad variants.
struct Target {
    route: &'static str,
    method: &'static str,
    path: &'static str,
    /// Query string of the valid request (GET only), without `?`.
    query: &'static str,
    valid: Option<Value>,
    ok_status: u16,
    /// Bad bodies (JSON) with the expected error type.
    bad: Vec<(Value, &'static str)>,
    /// Bad raw bodies with the expected error type.
    bad_raw: Vec<(Vec<u8>, &'static str)>,
    /// Bad query strings (GET only), without `?`.
    bad_queries: Vec<&'static str>,
}

impl Target {
    fn new(route: &'static str, method: &'static str, path: &'static str) -> Target {
        Target {
            route,
            method,
            path,
            query: "",
            valid: None,
            ok_status: 200,
            bad: Vec::new(),
            bad_raw: Vec::new(),
            bad_queries: Vec::new(),
        }
    }

    fn valid(mut self, body: Value) -> Target {
        self.valid = Some(body);
        self
    }

    fn ok_status(mut self, status: u16) -> Target {
        self.ok_status = status;
        self
    }

    fn query(mut self, q: &'static str) -> Target {
        self.query = q;
        self
    }

    /// Bad bodies that fail validation (400 ValidationError, before authentication).
    fn invalid(mut self, bodies: impl IntoIterator<Item = Value>) -> Target {
        self.bad.extend(bodies.into_iter().map(|b| (b, VALIDATION)));
        self
    }

    /// Well-formed bodies the call rejects as bad arguments (400 BadArgumentError).
    fn bad_args(mut self, bodies: impl IntoIterator<Item = Value>) -> Target {
        self.bad.extend(bodies.into_iter().map(|b| (b, BAD_ARG)));
        self
    }

    fn invalid_raw(mut self, body: &[u8]) -> Target {
        self.bad_raw.push((body.to_vec(), VALIDATION));
        self
    }

    fn bad_queries(mut self, q: &[&'static str]) -> Target {
        self.bad_queries.extend(q);
        self
    }

    fn markers(&self) -> usize {
        self.path.matches('<').count()
    }

    /// The path with its labels filled in; label number `bad.0` replaced by the raw
    /// (already percent-encoded) `bad.1`.
    fn path_with(&self, bad: Option<(usize, &str)>) -> String {
        let mut out = String::new();
        let mut rest = self.path;
        let mut i = 0;
        while let Some(start) = rest.find('<') {
            let end = rest[start..].find('>').unwrap() + start;
            out.push_str(&rest[..start]);
            match bad {
                Some((j, raw)) if j == i => out.push_str(raw),
                _ => out.push_str(&enc(&rest[start + 1..end])),
            }
            rest = &rest[end + 1..];
            i += 1;
        }
        out.push_str(rest);
        if !self.query.is_empty() {
            out.push('?');
            out.push_str(self.query);
        }
        out
    }

    /// The body of the valid request (GETs have none).
    fn valid_bytes(&self) -> Vec<u8> {
        if self.method == "GET" {
            return Vec::new();
        }
        self.valid
            .as_ref()
            .map(|v| v.to_string().into_bytes())
            .unwrap_or_default()
    }

    /// Sends a bad request as the administrator and anonymously; both must get `ty`
    /// (anonymous: 401 instead when the check comes after authentication). Mismatches are
    /// collected in `failures`, so that one run reports every one of them.
    async fn expect(
        &self,
        s: &TestServer,
        failures: &mut Vec<String>,
        what: &str,
        path: &str,
        body: &[u8],
        ty: &str,
    ) {
        let ctx = format!(
            "[{}] {what}: {} {path} body {}",
            self.route,
            self.method,
            preview(body)
        );
        let r = send(s, Some(ADMIN), self.method, path, body).await;
        failures.extend(problem(&r, &format!("{ctx} as admin"), 400, ty));
        let r = send(s, None, self.method, path, body).await;
        if ty == VALIDATION {
            // Validation happens before authentication.
            failures.extend(problem(&r, &format!("{ctx} as anonymous"), 400, ty));
        } else {
            // A semantic check comes after authentication.
            failures.extend(problem(
                &r,
                &format!("{ctx} as anonymous"),
                401,
                "AuthorizationError",
            ));
        }
    }

    /// Every bad variant, then the unchanged state, then the valid request still works.
    async fn run(&self) {
        let s = world().await;
        let before = snapshot(&s).await;
        let path = self.path_with(None);
        let mut failures = Vec::new();

        // Bodies that are not JSON objects, too big, or with NUL characters: always invalid.
        let big = format!(r#"{{"x": "{}"}}"#, "a".repeat(100 * 1024));
        let mut generic: Vec<(String, Vec<u8>)> = [
            "{",
            r#"{"a": }"#,
            "not json",
            r#"{"a": 1,}"#,
            "[]",
            "[1, 2]",
            "42",
            "-1.5",
            r#""a string""#,
            "true",
            "null",
            r#"{"a\u0000": "b\u0000"}"#,
        ]
        .iter()
        .map(|b| (format!("body {b}"), b.as_bytes().to_vec()))
        .collect();
        generic.push(("invalid UTF-8 body".into(), vec![0xff, 0xfe, b'{', 0xc3]));
        generic.push(("100 KiB body".into(), big.into_bytes()));
        if self.method == "GET" {
            // A GET must come without a body, even an empty object.
            generic.push(("GET with body {}".into(), b"{}".to_vec()));
            if let Some(v) = &self.valid {
                generic.push((
                    "GET with a valid-looking body".into(),
                    v.to_string().into_bytes(),
                ));
            }
        }
        for (what, body) in &generic {
            self.expect(&s, &mut failures, what, &path, body, VALIDATION)
                .await;
        }
        for (body, ty) in &self.bad {
            self.expect(
                &s,
                &mut failures,
                &format!("body {body}"),
                &path,
                body.to_string().as_bytes(),
                ty,
            )
            .await;
        }
        for (body, ty) in &self.bad_raw {
            self.expect(&s, &mut failures, "raw body", &path, body, ty)
                .await;
        }
        for q in &self.bad_queries {
            let base = self.path_with(None);
            let base = base.split('?').next().unwrap();
            let p = format!("{base}?{q}");
            self.expect(
                &s,
                &mut failures,
                &format!("query ?{q}"),
                &p,
                &self.valid_bytes(),
                VALIDATION,
            )
            .await;
        }

        // Bad labels in every labelled path position.
        // (Empty labels: see `empty_labels_are_validation_errors`.)
        let huge = "x".repeat(300);
        let bad_labels: [(&str, &str); 9] = [
            ("300-character label", &huge),
            ("label with %2F", "a%2Fb"),
            ("label that is %2F", "%2F"),
            ("label with %00", "a%00b"),
            ("label with %0A", "a%0Ab"),
            ("label with %7F", "a%7Fb"),
            ("label with %FF", "a%FFb"),
            ("label %FF", "%FF"),
            ("label with bad UTF-8 %C3%28", "a%C3%28"),
        ];
        for i in 0..self.markers() {
            for (what, raw) in bad_labels {
                let p = self.path_with(Some((i, raw)));
                let body = self.valid_bytes();
                self.expect(
                    &s,
                    &mut failures,
                    &format!("{what} (label #{i})"),
                    &p,
                    &body,
                    VALIDATION,
                )
                .await;
            }
        }

        let after = snapshot(&s).await;
        assert_same(self.route, &before, &after);

        // The valid request still succeeds: nothing above left anything behind.
        let r = send(&s, Some(ADMIN), self.method, &path, &self.valid_bytes()).await;
        assert_eq!(
            r.status, self.ok_status,
            "[{}] the valid request {} {path} after the bad ones: {}",
            self.route, self.method, r.text
        );
        s.shutdown().await;
        assert!(
            failures.is_empty(),
            "[{}] {} bad requests were not answered as expected:\n{}",
            self.route,
            failures.len(),
            failures.join("\n")
        );
    }
}

const IPMI_OBM: &str = "http://schema.massopencloud.org/haas/v0/obm/ipmi";

fn ipmi_obm() -> Value {
    json!({"type": IPMI_OBM, "host": "10.0.0.1", "user": "u", "password": "p"})
}

fn obmd() -> Value {
    json!({"uri": "http://obmd.example/node/n-new", "admin_token": "tok"})
}

// =====================================================================================

#[tokio::test]
async fn project_create() {
    Target::new("project_create", "PUT", "/v0/project/<newp>")
        .invalid([
            json!({"x": 1}),
            json!({"project": "newp"}),
            json!({"project": "other"}),
            json!({"label": null}),
        ])
        .run()
        .await;
}

#[tokio::test]
async fn node_register() {
    Target::new("node_register", "PUT", "/v0/node/<n-new>")
        .valid(json!({"obmd": obmd(), "metadata": {"rack": 4}}))
        .invalid([
            json!({}),
            json!({"obmd": null}),
            json!({"obmd": "http://obmd.example/node/n-new"}),
            json!({"obmd": [obmd()]}),
            json!({"obmd": {"uri": 5, "admin_token": "tok"}}),
            json!({"obmd": {"uri": "http://obmd.example/n", "admin_token": 5}}),
            json!({"obmd": {"uri": "http://obmd.example/n", "admin_token": null}}),
            json!({"obmd": {"uri": "http://obmd.example/n"}}),
            json!({"obmd": {"admin_token": "tok"}}),
            json!({"obmd": {"uri": "http://obmd.example/n", "admin_token": "tok", "x": 1}}),
            json!({"obmd": obmd(), "metadata": null}),
            json!({"obmd": obmd(), "metadata": []}),
            json!({"obmd": obmd(), "metadata": "rack=4"}),
            json!({"obmd": obmd(), "metadata": 4}),
            json!({"obmd": obmd(), "extra": 1}),
            json!({"obmd": obmd(), "node": "n-new"}),
            // obmd uris must be http(s) URLs.
            json!({"obmd": {"uri": "ftp://x", "admin_token": "tok"}}),
            json!({"obmd": {"uri": "file:///etc/passwd", "admin_token": "tok"}}),
            json!({"obmd": {"uri": "not a url", "admin_token": "tok"}}),
            json!({"obmd": {"uri": "", "admin_token": "tok"}}),
            // NUL characters anywhere in the body.
            json!({"obmd": {"uri": "http://obmd.example/n", "admin_token": "t\u{0}k"}}),
            json!({"obmd": obmd(), "metadata": {"k": "v\u{0}"}}),
            json!({"obmd": obmd(), "metadata": {"k\u{0}": 1}}),
            // The driver form: exactly one of obm and obmd, a known type, HIL's members.
            json!({"obmd": obmd(), "obm": ipmi_obm()}),
            json!({"obm": null}),
            json!({"obm": "ipmi"}),
            json!({"obm": {"host": "h", "user": "u", "password": "p"}}),
            json!({"obm": {"type": 5, "host": "h", "user": "u", "password": "p"}}),
            json!({"obm": {"type": IPMI_OBM, "host": "h", "user": "u"}}),
            json!({"obm": {"type": IPMI_OBM, "host": "h", "user": "u", "password": 1}}),
            json!({"obm": {"type": IPMI_OBM, "host": "", "user": "u", "password": "p"}}),
            json!({"obm": {"type": IPMI_OBM, "host": "h", "user": "u", "password": "p", "cipher_suite": "3"}}),
            json!({"obm": {"type": IPMI_OBM, "host": "h", "user": "u", "password": "p", "extra": 1}}),
        ])
        .invalid_raw(b"")
        .run()
        .await;
}

#[tokio::test]
async fn node_register_nic() {
    Target::new("node_register_nic", "PUT", "/v0/node/<n-free>/nic/<eth9>")
        .valid(json!({"macaddr": "aa:bb:cc:dd:ee:ff"}))
        .invalid([
            json!({}),
            json!({"macaddr": 5}),
            json!({"macaddr": null}),
            json!({"macaddr": true}),
            json!({"macaddr": ["aa"]}),
            json!({"macaddr": {"a": "b"}}),
            json!({"macaddr": "aa", "extra": 1}),
            json!({"macaddr": "aa", "nic": "eth9"}),
            json!({"macaddr": "aa", "node": "n-free"}),
            json!({"macaddr": "aa\u{0}"}),
        ])
        .invalid_raw(b"")
        .run()
        .await;
}

#[tokio::test]
async fn node_set_metadata() {
    Target::new("node_set_metadata", "PUT", "/v0/node/<n-free>/metadata/<k>")
        .valid(json!({"value": {"a": [1, null, "x"]}}))
        .invalid([
            json!({}),
            json!({"val": 1}),
            json!({"value": 1, "extra": 2}),
            json!({"value": 1, "label": "k"}),
            json!({"value": 1, "node": "n-free"}),
            json!({"value": "a\u{0}"}),
            json!({"value": {"a\u{0}": 1}}),
            json!({"value": [["\u{0}"]]}),
        ])
        .invalid_raw(b"")
        .run()
        .await;
}

#[tokio::test]
async fn network_create() {
    let net = |owner: Value, access: Value, net_id: Value| json!({"owner": owner, "access": access, "net_id": net_id});
    Target::new("network_create", "PUT", "/v0/network/<new-net>")
        .valid(json!({"owner": "admin", "access": "", "net_id": ""}))
        .invalid([
            json!({}),
            net(json!("admin"), json!(""), json!(5)),
            net(json!("admin"), json!(""), json!(3000)),
            net(json!("admin"), json!(""), json!(null)),
            net(json!(null), json!(""), json!("")),
            net(json!("admin"), json!(false), json!("")),
            net(json!(["admin"]), json!(""), json!("")),
            json!({"owner": "admin", "access": ""}),
            json!({"access": "", "net_id": ""}),
            json!({"owner": "admin", "access": "", "net_id": "", "extra": 1}),
            json!({"owner": "admin", "access": "", "net_id": "", "network": "new-net"}),
            net(json!("admin"), json!(""), json!("1\u{0}")),
        ])
        .bad_args([
            // VLAN ids are 1..4094.
            net(json!("admin"), json!(""), json!("4095")),
            net(json!("admin"), json!(""), json!("4096")),
            net(json!("admin"), json!(""), json!("0")),
            net(json!("admin"), json!(""), json!("-5")),
            net(json!("admin"), json!(""), json!("abc")),
            net(json!("admin"), json!(""), json!("1.5")),
            net(json!("admin"), json!(""), json!("99999999999999999999")),
            // A project-owned network must be accessible by its owner and use the pool.
            net(json!("proj"), json!(""), json!("")),
            net(json!("proj"), json!("proj"), json!("3000")),
        ])
        .invalid_raw(b"")
        .run()
        .await;
}

#[tokio::test]
async fn node_connect_network() {
    let with_channel = |channel: Value| json!({"network": "pub-net", "channel": channel});
    Target::new(
        "node_connect_network",
        "POST",
        "/v0/node/<n1>/nic/<eth0>/connect_network",
    )
    .valid(json!({"network": "pub-net"}))
    .ok_status(202)
    .invalid([
        json!({}),
        json!({"network": 5}),
        json!({"network": null}),
        with_channel(json!(null)),
        with_channel(json!(5)),
        with_channel(json!(true)),
        with_channel(json!(["vlan/native"])),
        json!({"channel": "vlan/native"}),
        json!({"network": "pub-net", "extra": 1}),
        json!({"network": "pub-net", "nic": "eth0"}),
        json!({"network": "pub-net", "node": "n1"}),
        with_channel(json!("vlan/native\u{0}")),
    ])
    .bad_args([
        // A channel must be exactly vlan/native or vlan/<the network's id>.
        with_channel(json!("vlan/9999")),
        with_channel(json!("vlan/1")),
        with_channel(json!("")),
        with_channel(json!("vlan/")),
        with_channel(json!("vlan/native ")),
        with_channel(json!("VLAN/NATIVE")),
        with_channel(json!("null")),
    ])
    .invalid_raw(b"")
    .run()
    .await;
}

#[tokio::test]
async fn switch_register() {
    let valid = json!({"type": MOCK, "hostname": "h", "username": "u", "password": "p"});
    let with = |key: &str, value: Value| {
        let mut body = valid.clone();
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = valid.clone();
        body.as_object_mut().unwrap().remove(key);
        body
    };
    Target::new("switch_register", "PUT", "/v0/switch/<sw2>")
        .valid(valid.clone())
        .invalid([
            json!({}),
            without("type"),
            with("type", json!(5)),
            with("type", json!(null)),
            with("type", json!([MOCK])),
            with("switch", json!("sw2")),
            with("hostname", json!("h\u{0}")),
        ])
        .bad_args([
            // Extra keys pass HIL's first schema but not the driver's closed one.
            with("extra", json!(1)),
            without("hostname"),
            with("hostname", json!(5)),
            with("password", json!(null)),
            with(
                "type",
                json!("http://schema.massopencloud.org/haas/v0/switches/bogus"),
            ),
            with("type", json!("")),
        ])
        .invalid_raw(b"")
        .run()
        .await;
}

#[tokio::test]
async fn port_connect_nic() {
    Target::new(
        "port_connect_nic",
        "POST",
        "/v0/switch/<sw>/port/gi1/0/9/connect_nic",
    )
    .valid(json!({"node": "n-free", "nic": "eth1"}))
    .invalid([
        json!({}),
        json!({"node": "n-free"}),
        json!({"nic": "eth1"}),
        json!({"node": 5, "nic": "eth1"}),
        json!({"node": "n-free", "nic": null}),
        json!({"node": "n-free", "nic": false}),
        json!({"node": "n-free", "nic": "eth1", "extra": 1}),
        json!({"node": "n-free", "nic": "eth1", "switch": "sw"}),
        json!({"node": "n-free", "nic": "eth1", "port": "gi1/0/9"}),
        json!({"node": "n-free\u{0}", "nic": "eth1"}),
    ])
    .invalid_raw(b"")
    .run()
    .await;
}

#[tokio::test]
async fn user_create() {
    Target::new("user_create", "PUT", "/v0/auth/basic/user/<dave>")
        .valid(json!({"password": "dave-pw", "is_admin": false}))
        .invalid([
            json!({}),
            json!({"is_admin": true}),
            json!({"password": 5}),
            json!({"password": null}),
            json!({"password": "pw", "is_admin": null}),
            json!({"password": "pw", "is_admin": "true"}),
            json!({"password": "pw", "is_admin": 1}),
            json!({"password": "pw", "is_admin": 0}),
            json!({"password": "pw", "extra": 1}),
            json!({"password": "pw", "user": "dave"}),
            json!({"password": "pw\u{0}"}),
        ])
        .invalid_raw(b"")
        .run()
        .await;
}

#[tokio::test]
async fn user_set_admin() {
    Target::new("user_set_admin", "PATCH", "/v0/auth/basic/user/<alice>")
        .valid(json!({"is_admin": true}))
        .invalid([
            json!({}),
            json!({"is_admin": "yes"}),
            json!({"is_admin": "true"}),
            json!({"is_admin": null}),
            json!({"is_admin": 0}),
            json!({"is_admin": 1}),
            json!({"is_admin": [true]}),
            json!({"is_admin": true, "extra": 1}),
            json!({"is_admin": true, "user": "alice"}),
            json!({"is_admin": true, "password": "x"}),
        ])
        .invalid_raw(b"")
        .run()
        .await;
}

#[tokio::test]
async fn list_network_attachments() {
    Target::new(
        "list_network_attachments",
        "GET",
        "/v0/network/<pub-net>/attachments",
    )
    .query("project=proj")
    .valid(json!({"project": "proj"}))
    .bad_queries(&[
        "project=",
        "project",
        "project=proj&project=",
        "project=&project=proj",
        "bogus=1",
        "project=proj&bogus=x",
        "network=pub-net",
        "project=proj&network=pub-net",
    ])
    .run()
    .await;
}

/// GETs without a body: the same rules on a route without parameters and on one with path
/// parameters only.
#[tokio::test]
async fn get_routes_refuse_bodies_and_stray_query_parameters() {
    Target::new("list_projects", "GET", "/v0/projects")
        .bad_queries(&["x=", "x=1", "project=proj"])
        .run()
        .await;
    Target::new("show_node", "GET", "/v0/node/<n1>")
        .bad_queries(&["node=n1", "x=1", "x="])
        .run()
        .await;
}

/// Calls without arguments accept no body, `{}` or an empty object, but nothing else.
#[tokio::test]
async fn calls_without_arguments_refuse_members() {
    Target::new("node_delete", "DELETE", "/v0/node/<bare>")
        .invalid([json!({"force": true}), json!({"node": "bare"})])
        .run()
        .await;
    Target::new("port_revert", "POST", "/v0/switch/<sw>/port/gi1/0/1/revert")
        .invalid([json!({"x": 1}), json!({"port": "gi1/0/1"})])
        .run()
        .await;
}

/// Labels that are legal but unusual must work end to end.
#[tokio::test]
async fn unicode_labels_work() {
    let s = world().await;
    let before = snapshot(&s).await;
    let project = "projet-é-数据";
    let node = "nœud ü";
    let network = "réseau-網";
    let user = "usér-ß";
    let p = enc(project);

    let r = send(&s, Some(ADMIN), "PUT", &format!("/v0/project/{p}"), b"").await;
    assert_eq!(r.status, 200, "create {project}: {}", r.text);
    assert_eq!(
        s.ok("GET", "/v0/projects", None).await,
        json!(["proj", project]),
        "the unicode project is listed"
    );

    let body = json!({"obmd": {"uri": "https://obmd.example/nœud", "admin_token": "jeton-é"},
                      "metadata": {"clé": "valeur-值"}});
    let r = send(
        &s,
        Some(ADMIN),
        "PUT",
        &format!("/v0/node/{}", enc(node)),
        body.to_string().as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "register {node}: {}", r.text);
    s.ok(
        "PUT",
        &format!("/v0/node/{}/nic/{}", enc(node), enc("ёth0")),
        Some(json!({"macaddr": "mäc"})),
    )
    .await;
    s.ok(
        "POST",
        &format!("/v0/project/{p}/connect_node"),
        Some(json!({ "node": node })),
    )
    .await;
    s.network(network, project, project, "").await;

    // A unicode user with a unicode password, member of the unicode project.
    s.user(user, "pässwörd", false, &[project]).await;
    let shown = s
        .call(
            Some((user, "pässwörd")),
            "GET",
            &format!("/v0/node/{}", enc(node)),
            None,
        )
        .await;
    assert_eq!(shown.status, 200, "{user} shows {node}: {}", shown.text);
    assert_eq!(
        shown.json,
        json!({"metadata": {"clé": "\"valeur-值\""}, "name": node,
               "nics": [{"label": "ёth0", "macaddr": "mäc", "networks": {}}],
               "project": project})
    );
    let nodes = s
        .call(
            Some((user, "pässwörd")),
            "GET",
            &format!("/v0/project/{p}/nodes"),
            None,
        )
        .await;
    assert_eq!(nodes.json, json!([node]), "{}", nodes.text);
    assert_eq!(
        s.ok("GET", &format!("/v0/project/{p}/networks"), None)
            .await,
        json!([network])
    );
    assert_eq!(
        s.ok("GET", &format!("/v0/network/{}", enc(network)), None)
            .await["owner"],
        project
    );
    assert_eq!(
        s.ok("GET", "/v0/auth/basic/users", None).await[user]["projects"],
        json!([project])
    );

    // And everything can be taken apart again.
    s.ok(
        "DELETE",
        &format!("/v0/auth/basic/user/{}", enc(user)),
        None,
    )
    .await;
    s.ok("DELETE", &format!("/v0/network/{}", enc(network)), None)
        .await;
    s.ok(
        "POST",
        &format!("/v0/project/{p}/detach_node"),
        Some(json!({ "node": node })),
    )
    .await;
    s.ok(
        "DELETE",
        &format!("/v0/node/{}/nic/{}", enc(node), enc("ёth0")),
        None,
    )
    .await;
    s.ok("DELETE", &format!("/v0/node/{}", enc(node)), None)
        .await;
    let r = send(&s, Some(ADMIN), "DELETE", &format!("/v0/project/{p}"), b"").await;
    assert_eq!(r.status, 200, "delete {project}: {}", r.text);
    assert_eq!(s.ok("GET", "/v0/projects", None).await, json!(["proj"]));
    assert_same("unicode_labels_work", &before, &snapshot(&s).await);
    s.shutdown().await;
}

/// The label length limit counts characters, not bytes: 255 characters work, 256 do not.
#[tokio::test]
async fn label_length_limit_counts_characters() {
    let s = world().await;
    let ok = "é".repeat(255);
    let r = send(
        &s,
        None,
        "PUT",
        &format!("/v0/project/{}", enc(&"é".repeat(256))),
        b"",
    )
    .await;
    assert_400(&r, "256-character project label, anonymous", VALIDATION);
    let r = send(
        &s,
        Some(ADMIN),
        "PUT",
        &format!("/v0/project/{}", enc(&"é".repeat(256))),
        b"",
    )
    .await;
    assert_400(&r, "256-character project label", VALIDATION);
    let r = send(
        &s,
        Some(ADMIN),
        "PUT",
        &format!("/v0/project/{}", enc(&ok)),
        b"",
    )
    .await;
    assert_eq!(r.status, 200, "255-character project label: {}", r.text);
    assert_eq!(s.ok("GET", "/v0/projects", None).await, json!(["proj", ok]));
    let r = send(
        &s,
        Some(ADMIN),
        "DELETE",
        &format!("/v0/project/{}", enc(&ok)),
        b"",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    s.shutdown().await;
}

/// The edges of the VLAN range are legal explicit ids.
#[tokio::test]
async fn vlan_range_edges_are_accepted() {
    let s = world().await;
    for id in ["1", "4094"] {
        let r = send(
            &s,
            Some(ADMIN),
            "PUT",
            &format!("/v0/network/edge-{id}"),
            json!({"owner": "admin", "access": "", "net_id": id})
                .to_string()
                .as_bytes(),
        )
        .await;
        assert_eq!(r.status, 200, "net_id {id}: {}", r.text);
        assert_eq!(
            s.ok("GET", "/v0/networks", None).await[format!("edge-{id}")]["network_id"],
            id
        );
    }
    s.shutdown().await;
}

/// Non-GET requests ignore the query string entirely (hil-api.md §1.3), even an empty value.
#[tokio::test]
async fn non_get_requests_ignore_the_query_string() {
    let s = world().await;
    let r = send(
        &s,
        Some(ADMIN),
        "PUT",
        "/v0/project/q1?x=&project=other",
        b"",
    )
    .await;
    assert_eq!((r.status, r.text.as_str()), (200, ""), "{}", r.text);
    assert_eq!(
        s.ok("GET", "/v0/projects", None).await,
        json!(["proj", "q1"])
    );
    s.shutdown().await;
}

/// Authentication does not come before validation for any caller, and bad credentials do
/// not turn a malformed request into a 401.
#[tokio::test]
async fn validation_comes_before_authentication_for_every_caller() {
    let s = world().await;
    let before = snapshot(&s).await;
    let callers = [
        ("anonymous", None),
        ("wrong password", Some(("alice", "nope"))),
        ("unknown user", Some(("mallory", "x"))),
        ("member", Some(ALICE)),
        ("admin", Some(ADMIN)),
    ];
    let cases: [(&str, &str, &[u8]); 7] = [
        ("PUT", "/v0/project/newp", b"{"),
        (
            "PUT",
            "/v0/switch/sw2",
            br#"{"hostname": "h", "username": "u", "password": "p"}"#,
        ),
        (
            "PUT",
            "/v0/node/n-new",
            br#"{"obmd": {"uri": "ftp://x", "admin_token": "t"}}"#,
        ),
        (
            "POST",
            "/v0/node/n1/nic/eth0/connect_network",
            br#"{"network": "pub-net", "channel": null}"#,
        ),
        ("GET", "/v0/network/pub-net/attachments?project=", b""),
        ("GET", "/v0/projects", b"{}"),
        ("PUT", "/v0/project/a%2Fb", b""),
    ];
    let mut failures = Vec::new();
    for (name, who) in callers {
        for (method, path, body) in cases {
            let r = send(&s, who, method, path, body).await;
            let ctx = format!("{method} {path} {} as {name}", preview(body));
            failures.extend(problem(&r, &ctx, 400, VALIDATION));
        }
    }
    assert_same(
        "validation before authentication",
        &before,
        &snapshot(&s).await,
    );
    s.shutdown().await;
    assert!(
        failures.is_empty(),
        "{} malformed requests were not answered 400 ValidationError:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Empty labels in paths (at the end or in the middle) are 400 ValidationError, for every
/// caller, and change nothing.
#[tokio::test]
async fn empty_labels_are_validation_errors() {
    let s = world().await;
    let before = snapshot(&s).await;
    let cases: [(&str, &str, &[u8]); 10] = [
        ("PUT", "/v0/project/", b""),
        ("DELETE", "/v0/project/", b""),
        ("GET", "/v0/project//nodes", b""),
        (
            "PUT",
            "/v0/node/",
            br#"{"obmd": {"uri": "http://o/n", "admin_token": "t"}}"#,
        ),
        ("PUT", "/v0/node//nic/eth9", br#"{"macaddr": "aa"}"#),
        ("PUT", "/v0/node/n-free/nic/", br#"{"macaddr": "aa"}"#),
        ("PUT", "/v0/node/n-free/metadata/", br#"{"value": 1}"#),
        (
            "PUT",
            "/v0/network/",
            br#"{"owner": "admin", "access": "", "net_id": ""}"#,
        ),
        ("GET", "/v0/network//attachments", b""),
        ("PUT", "/v0/auth/basic/user/", br#"{"password": "pw"}"#),
    ];
    let mut failures = Vec::new();
    for (method, path, body) in cases {
        for (name, who) in [("admin", Some(ADMIN)), ("anonymous", None)] {
            let r = send(&s, who, method, path, body).await;
            failures.extend(problem(
                &r,
                &format!("{method} {path} as {name}"),
                400,
                VALIDATION,
            ));
        }
    }
    assert_same("empty labels", &before, &snapshot(&s).await);
    s.shutdown().await;
    assert!(
        failures.is_empty(),
        "{} empty-label requests were not answered 400 ValidationError:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
