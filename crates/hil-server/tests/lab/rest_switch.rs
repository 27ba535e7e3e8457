//! A stand-in for the REST switches (Dell Networking OS9 and Brocade VDX), because no emulator
//! exists for either API. It is an HTTP server on `127.0.0.1:0` that speaks the requests HIL's
//! drivers send (see the hardware reference, §4.2 and §4.3) and keeps real per-port state:
//! shutdown flag, native VLAN, tagged VLANs.
//!
//! It is deliberately strict where a mistake in a driver would matter: bodies must be
//! well-formed XML (so HIL's `<vlan><add>V</vlan></vlan>` would fail), credentials must match
//! (401 otherwise), a VLAN can only be put on a port in layer-2 (and, on the Brocade, trunk)
//! mode, a Dell port cannot leave layer-2/hybrid mode while it is in a VLAN, and a Dell port is
//! untagged in at most one VLAN. Where the real switches' behaviour is unknown it is lenient
//! (removing a tagged VLAN that is not there succeeds). Every request is recorded, and the
//! switch can be told to fail every request with a status, or to hang.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;

/// Which API the stand-in speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    DellNos9,
    Brocade,
}

/// What a port looks like from outside: whether it is shut down and which VLANs it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortView {
    pub shutdown: bool,
    pub native: Option<u16>,
    pub tagged: BTreeSet<u16>,
    /// Brocade only: the native VLAN is sent tagged (`switchport trunk tag native-vlan`).
    pub native_tagged: bool,
}

impl PortView {
    /// A port that is shut down and carries nothing (how admins are told to leave ports).
    pub fn idle() -> PortView {
        PortView {
            shutdown: true,
            native: None,
            tagged: BTreeSet::new(),
            native_tagged: false,
        }
    }
}

/// The full state of one port (both dialects share it; each uses its own flags).
#[derive(Clone, Debug)]
struct Port {
    shutdown: bool,
    /// Layer-2 mode (Dell `<switchport/>`, Brocade `switchport`).
    switchport: bool,
    /// Dell `portmode hybrid`.
    hybrid: bool,
    /// Brocade `switchport mode trunk`.
    trunk: bool,
    native_tagged: bool,
    native: Option<u16>,
    tagged: BTreeSet<u16>,
}

impl Default for Port {
    fn default() -> Self {
        Port {
            shutdown: true,
            switchport: false,
            hybrid: false,
            trunk: false,
            native_tagged: false,
            native: None,
            tagged: BTreeSet::new(),
        }
    }
}

impl Port {
    fn view(&self) -> PortView {
        PortView {
            shutdown: self.shutdown,
            native: self.native,
            tagged: self.tagged.clone(),
            native_tagged: self.native_tagged,
        }
    }

    fn has_vlans(&self) -> bool {
        self.native.is_some() || !self.tagged.is_empty()
    }
}

struct Inner {
    kind: Kind,
    user: String,
    password: String,
    ports: BTreeMap<String, Port>,
    requests: Vec<String>,
    fail: Option<StatusCode>,
    hang: bool,
    saves: usize,
}

type Shared = Arc<Mutex<Inner>>;

/// A running stand-in switch. Dropping it stops the server.
pub struct RestSwitch {
    url: String,
    inner: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RestSwitch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RestSwitch {
    /// Starts a switch of `kind` that accepts only `user`/`password`.
    pub async fn start(kind: Kind, user: &str, password: &str) -> RestSwitch {
        let inner = Arc::new(Mutex::new(Inner {
            kind,
            user: user.into(),
            password: password.into(),
            ports: BTreeMap::new(),
            requests: Vec::new(),
            fail: None,
            hang: false,
            saves: 0,
        }));
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind stand-in switch");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        RestSwitch { url, inner, task }
    }

    /// The base URL to register as the switch's `hostname`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap()
    }

    /// The state of port `name` (`1/3`); ports never touched are idle.
    pub fn port(&self, name: &str) -> PortView {
        self.lock()
            .ports
            .get(name)
            .map(Port::view)
            .unwrap_or_else(PortView::idle)
    }

    /// Puts a port into a state as if configured by hand (on, layer 2, trunk/hybrid).
    pub fn configure_port(&self, name: &str, native: Option<u16>, tagged: &[u16]) {
        let port = Port {
            shutdown: false,
            switchport: true,
            hybrid: true,
            trunk: true,
            native_tagged: false,
            native,
            tagged: tagged.iter().copied().collect(),
        };
        self.lock().ports.insert(name.into(), port);
    }

    /// Every request so far, as `METHOD /path[?query]`.
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    /// From now on every request is answered with `status` (after being recorded).
    pub fn fail_with(&self, status: u16) {
        self.lock().fail = Some(StatusCode::from_u16(status).expect("status"));
    }

    /// From now on every request is left unanswered for an hour.
    pub fn hang(&self) {
        self.lock().hang = true;
    }

    /// Undoes `fail_with` and `hang`.
    pub fn recover(&self) {
        let mut inner = self.lock();
        inner.fail = None;
        inner.hang = false;
    }

    /// How many times the configuration was saved (Dell `write`).
    pub fn saves(&self) -> usize {
        self.lock().saves
    }
}

/// An answer: status and body.
type Reply = (StatusCode, String);
/// An error answer.
type Fail = Reply;

fn bad(message: impl Into<String>) -> Fail {
    (StatusCode::BAD_REQUEST, message.into())
}

fn not_found() -> Fail {
    (StatusCode::NOT_FOUND, "Not Found".into())
}

async fn handle(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (hang, fail, authorized) = {
        let mut inner = shared.lock().unwrap();
        let target = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
        inner.requests.push(format!("{method} {target}"));
        let authorized =
            credentials(&headers) == Some((inner.user.clone(), inner.password.clone()));
        (inner.hang, inner.fail, authorized)
    };
    if hang {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    if let Some(status) = fail {
        let text = "Internal error: simulated switch failure\nsecond line of detail";
        return (status, text).into_response();
    }
    if !authorized {
        let challenge = [(header::WWW_AUTHENTICATE, "Basic realm=\"switch\"")];
        return (StatusCode::UNAUTHORIZED, challenge, "Unauthorized").into_response();
    }
    let body = String::from_utf8_lossy(&body).into_owned();
    let mut inner = shared.lock().unwrap();
    let result = match inner.kind {
        Kind::DellNos9 => dell::handle(&mut inner, &method, &uri, &body),
        Kind::Brocade => brocade::handle(&mut inner, &method, &uri, &body),
    };
    result.unwrap_or_else(|e| e).into_response()
}

/// The user and password of a basic `Authorization` header.
fn credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.into(), password.into()))
}

fn parse_xml(body: &str) -> Result<roxmltree::Document<'_>, Fail> {
    roxmltree::Document::parse(body).map_err(|e| bad(format!("malformed XML: {e}")))
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

fn only_child<'a, 'i>(node: roxmltree::Node<'a, 'i>) -> Result<roxmltree::Node<'a, 'i>, Fail> {
    let mut elements = node.children().filter(|c| c.is_element());
    match (elements.next(), elements.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(bad("expected exactly one element")),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn vlan(text: &str) -> Result<u16, Fail> {
    text.trim()
        .parse::<u16>()
        .ok()
        .filter(|v| (1..=4094).contains(v))
        .ok_or_else(|| bad(format!("% Error: invalid VLAN {text:?}")))
}

/// `10,20-22` → {10, 20, 21, 22}.
fn vlan_list(text: &str) -> Result<BTreeSet<u16>, Fail> {
    let mut out = BTreeSet::new();
    for piece in text.split(',') {
        let (a, b) = piece.split_once('-').unwrap_or((piece, piece));
        let (a, b) = (vlan(a)?, vlan(b)?);
        if b < a {
            return Err(bad("% Error: bad VLAN range"));
        }
        out.extend(a..=b);
    }
    Ok(out)
}

/// `{10, 20, 21, 22}` → `10,20-22`, as switches print VLAN lists.
fn compress(vlans: &BTreeSet<u16>) -> String {
    let mut ranges: Vec<(u16, u16)> = Vec::new();
    for v in vlans {
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == *v => *end = *v,
            _ => ranges.push((*v, *v)),
        }
    }
    ranges
        .iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// `1/3`, `1/0/1`: two or three numbers separated by `/`.
fn valid_port(name: &str, separator: char) -> bool {
    let parts: Vec<&str> = name.split(separator).collect();
    (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Dell Networking OS9: CLI-over-REST plus the interface resource.
mod dell {
    use super::*;

    const NS: &str = "http://www.dell.com/ns/dell:0.1/root";
    const TYPES: &[(&str, &str)] = &[
        ("GigabitEthernet", "gige-"),
        ("TenGigabitEthernet", "tengig-"),
        ("TwentyfiveGigabitEthernet", "twentyfivegig-"),
        ("fortyGigE", "fortygig-"),
        ("peGigabitEthernet", "pegig-"),
        ("FiftyGigabitEthernet", "fiftygig-"),
        ("HundredGigabitEthernet", "hundredgig-"),
    ];

    pub fn handle(
        inner: &mut Inner,
        method: &Method,
        uri: &Uri,
        body: &str,
    ) -> Result<Reply, Fail> {
        let path = uri.path();
        if path == "/api/running/dell/_operations/cli" && method == Method::POST {
            return cli(inner, body).map(|text| (StatusCode::OK, text));
        }
        let Some(name) = path.strip_prefix("/api/running/dell/interfaces/interface/") else {
            return Err(not_found());
        };
        let port = port_of(name).ok_or_else(not_found)?;
        match *method {
            Method::GET => get_interface(inner, name, &port, uri.query()),
            Method::PUT => put_interface(inner, name, &port, body),
            _ => Err((StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed".into())),
        }
    }

    /// `gige-1-3` → `1/3`.
    fn port_of(name: &str) -> Option<String> {
        let (_, prefix) = TYPES.iter().find(|(_, p)| name.starts_with(p))?;
        let rest = &name[prefix.len()..];
        valid_port(rest, '-').then(|| rest.replace('-', "/"))
    }

    /// Without `?with-defaults` the resource leaves out values at their defaults, among them
    /// `<shutdown>false</shutdown>`; HIL's driver reads that value, so it asks for defaults.
    fn get_interface(
        inner: &Inner,
        name: &str,
        port: &str,
        query: Option<&str>,
    ) -> Result<Reply, Fail> {
        let with_defaults = match query {
            None => false,
            Some("with-defaults") => true,
            Some(other) => return Err(bad(format!("unknown query {other:?}"))),
        };
        let p = inner.ports.get(port).cloned().unwrap_or_default();
        let mut xml = format!("<interface xmlns=\"{NS}\"><name>{name}</name>");
        if p.hybrid || with_defaults {
            xml.push_str(&format!(
                "<portmode><hybrid>{}</hybrid></portmode>",
                p.hybrid
            ));
        }
        if p.switchport {
            xml.push_str("<switchport></switchport>");
        }
        if p.shutdown || with_defaults {
            xml.push_str(&format!("<shutdown>{}</shutdown>", p.shutdown));
        }
        if with_defaults {
            xml.push_str("<mtu>1554</mtu>");
        }
        xml.push_str("</interface>");
        Ok((StatusCode::OK, xml))
    }

    /// PUT replaces the resource: absent elements go back to their defaults.
    fn put_interface(inner: &mut Inner, name: &str, port: &str, body: &str) -> Result<Reply, Fail> {
        let doc = parse_xml(body)?;
        let root = doc.root_element();
        if root.tag_name().name() != "interface" {
            return Err(bad("expected <interface>"));
        }
        if child(root, "name").and_then(|n| n.text()) != Some(name) {
            return Err(bad("interface name does not match the URL"));
        }
        let flag = |node: Option<roxmltree::Node>| -> Result<bool, Fail> {
            match node.map(|n| n.text().unwrap_or_default().trim()) {
                None | Some("false") => Ok(false),
                Some("true") => Ok(true),
                Some(other) => Err(bad(format!("bad boolean {other:?}"))),
            }
        };
        let hybrid = flag(child(root, "portmode").and_then(|m| child(m, "hybrid")))?;
        let shutdown = flag(child(root, "shutdown"))?;
        let switchport = child(root, "switchport").is_some();
        let p = inner.ports.entry(port.to_string()).or_default();
        if (!switchport || !hybrid) && p.has_vlans() {
            return Err(bad(
                "% Error: Port is a member of a VLAN; remove it before changing its mode.",
            ));
        }
        p.hybrid = hybrid;
        p.switchport = switchport;
        p.shutdown = shutdown;
        Ok((StatusCode::NO_CONTENT, String::new()))
    }

    /// `<input><config-commands|show-command|exec-command>TEXT</…></input>`.
    fn cli(inner: &mut Inner, body: &str) -> Result<String, Fail> {
        let doc = parse_xml(body)?;
        let root = doc.root_element();
        if root.tag_name().name() != "input" {
            return Err(bad("expected <input>"));
        }
        let op = only_child(root)?;
        let text = op.text().unwrap_or_default();
        let output = match op.tag_name().name() {
            "config-commands" => config(inner, text)?,
            "show-command" => show(inner, text)?,
            "exec-command" if text.trim() == "write" => {
                inner.saves += 1;
                "Copy completed successfully.".to_string()
            }
            _ => return Err(bad("% Error: Invalid input at \"^\" marker.")),
        };
        Ok(format!(
            "<output xmlns=\"{NS}\"><command>{}</command></output>",
            escape(&output)
        ))
    }

    /// Runs configuration lines in order, all or nothing.
    fn config(inner: &mut Inner, text: &str) -> Result<String, Fail> {
        let mut ports = inner.ports.clone();
        let mut context: Option<u16> = None;
        let lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        for line in lines {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["interface", "vlan", v] => context = Some(vlan(v)?),
                [verb @ .., ty, port] if !verb.is_empty() => {
                    let v = context.ok_or_else(|| bad("% Error: not in VLAN context"))?;
                    if !TYPES.iter().any(|(t, _)| t == ty) || !valid_port(port, '/') {
                        return Err(bad(format!("% Error: no such interface {ty} {port}")));
                    }
                    let p = ports.entry(port.to_string()).or_default();
                    membership(p, &verb.join(" "), v)?;
                }
                _ => return Err(bad(format!("% Error: Invalid input: {line}"))),
            }
        }
        inner.ports = ports;
        Ok(String::new())
    }

    fn layer2(p: &Port) -> Result<(), Fail> {
        if p.switchport {
            Ok(())
        } else {
            Err(bad("% Error: Port is not in Layer-2 mode."))
        }
    }

    fn membership(p: &mut Port, verb: &str, v: u16) -> Result<(), Fail> {
        match verb {
            "untagged" => {
                layer2(p)?;
                if p.native.is_some_and(|n| n != v) {
                    return Err(bad("% Error: Port is untagged in another Vlan."));
                }
                if p.tagged.contains(&v) {
                    return Err(bad("% Error: Port is tagged in this Vlan."));
                }
                p.native = Some(v);
            }
            "tagged" => {
                layer2(p)?;
                if p.native == Some(v) {
                    return Err(bad("% Error: Port is untagged in this Vlan."));
                }
                p.tagged.insert(v);
            }
            "no untagged" => {
                if p.native != Some(v) {
                    return Err(bad(format!("% Error: Port is not untagged in Vlan {v}.")));
                }
                p.native = None;
            }
            "no tagged" => {
                p.tagged.remove(&v);
            }
            _ => return Err(bad(format!("% Error: Invalid input: {verb}"))),
        }
        Ok(())
    }

    /// `show interfaces switchport <type> <port>`, in OS9's layout.
    fn show(inner: &Inner, text: &str) -> Result<String, Fail> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let ["interfaces", "switchport", ty, port] = words.as_slice() else {
            return Err(bad("% Error: Invalid input at \"^\" marker."));
        };
        if !TYPES.iter().any(|(t, _)| t == ty) || !valid_port(port, '/') {
            return Err(bad(format!("% Error: no such interface {ty} {port}")));
        }
        let p = inner.ports.get(*port).cloned().unwrap_or_default();
        let mut out = String::from(
            "Codes:  U - Untagged, T - Tagged\n        x - Dot1x untagged, X - Dot1x tagged\n        \
             G - GVRP tagged, M - Trunk\n\n",
        );
        out.push_str(&format!("Name: {ty} {port}\n802.1QTagged: Hybrid\n"));
        out.push_str("Vlan membership:\nQ       Vlans\n");
        if let Some(n) = p.native {
            out.push_str(&format!("U       {n}\n"));
        }
        if !p.tagged.is_empty() {
            out.push_str(&format!("T       {}\n", compress(&p.tagged)));
        }
        if let Some(n) = p.native {
            out.push_str(&format!("\nNative VlanId:     {n}.\n"));
        }
        Ok(out)
    }
}

/// Brocade VDX: NOS REST under `/rest/config/running/interface/<type>/%22<port>%22`.
mod brocade {
    use super::*;

    const NS: &str = "urn:brocade.com:mgmt:brocade-interface";
    const PREFIX: &str = "/rest/config/running/interface/";

    pub fn handle(
        inner: &mut Inner,
        method: &Method,
        uri: &Uri,
        body: &str,
    ) -> Result<Reply, Fail> {
        let (ty, port, suffix) = split(uri.path()).ok_or_else(not_found)?;
        let p = inner.ports.entry(port.clone()).or_default();
        let ok = |text: String| Ok((StatusCode::OK, text));
        let done = || Ok((StatusCode::NO_CONTENT, String::new()));
        match (method.as_str(), suffix.as_str()) {
            ("GET", "") => ok(interface_xml(&ty, &port, p)),
            ("POST", "") => {
                create(p, body)?;
                Ok((StatusCode::CREATED, String::new()))
            }
            ("DELETE", "/shutdown") if p.shutdown => {
                p.shutdown = false;
                done()
            }
            ("GET", "/switchport/mode") if p.switchport => ok(format!(
                "<mode xmlns=\"{NS}\"><vlan-mode>{}</vlan-mode></mode>",
                if p.trunk { "trunk" } else { "access" }
            )),
            ("PUT", "/switchport/mode") => {
                set_mode(p, body)?;
                done()
            }
            ("GET", "/switchport/trunk") if p.switchport => ok(trunk_xml(p)),
            ("PUT", "/switchport/trunk") => {
                set_native(p, body)?;
                done()
            }
            ("PUT", "/switchport/trunk/allowed/vlan") => {
                allowed(p, body)?;
                done()
            }
            ("DELETE", "/switchport/trunk/tag/native-vlan") if p.native_tagged => {
                p.native_tagged = false;
                done()
            }
            ("DELETE", "/switchport/trunk/native-vlan") if p.native.is_some() => {
                p.native = None;
                done()
            }
            _ => Err(not_found()),
        }
    }

    /// `/rest/config/running/interface/Te/%221/0/4%22/switchport` → (`Te`, `1/0/4`, `/switchport`).
    fn split(path: &str) -> Option<(String, String, String)> {
        let rest = path.strip_prefix(PREFIX)?;
        let (ty, rest) = rest.split_once('/')?;
        let rest = rest.strip_prefix("%22")?;
        let end = rest.find("%22")?;
        let (port, suffix) = (&rest[..end], &rest[end + 3..]);
        let valid_type =
            !ty.is_empty() && ty.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        (valid_type && valid_port(port, '/')).then(|| (ty.into(), port.into(), suffix.into()))
    }

    fn interface_xml(ty: &str, port: &str, p: &Port) -> String {
        let mut xml = format!("<{ty} xmlns=\"{NS}\"><name>{port}</name>");
        if p.shutdown {
            xml.push_str("<shutdown>true</shutdown>");
        }
        if p.switchport {
            xml.push_str("<switchport-basic><basic></basic></switchport-basic>");
        }
        xml.push_str(&format!("</{ty}>"));
        xml
    }

    fn trunk_xml(p: &Port) -> String {
        let mut xml = format!("<trunk xmlns=\"{NS}\">");
        if !p.tagged.is_empty() {
            xml.push_str(&format!(
                "<allowed><vlan><add>{}</add></vlan></allowed>",
                compress(&p.tagged)
            ));
        }
        if p.native_tagged {
            xml.push_str("<tag><native-vlan>true</native-vlan></tag>");
        }
        if let Some(n) = p.native {
            xml.push_str(&format!("<native-vlan>{n}</native-vlan>"));
        }
        xml.push_str("</trunk>");
        xml
    }

    /// POST on the interface creates `<shutdown>true</shutdown>` or `<switchport/>`; 409 when
    /// it already exists.
    fn create(p: &mut Port, body: &str) -> Result<(), Fail> {
        let doc = parse_xml(body)?;
        let root = doc.root_element();
        let conflict = || Err((StatusCode::CONFLICT, "object already exists".to_string()));
        match (
            root.tag_name().name(),
            root.text().unwrap_or_default().trim(),
        ) {
            ("shutdown", "true") if p.shutdown => conflict(),
            ("shutdown", "true") => {
                p.shutdown = true;
                Ok(())
            }
            ("switchport", _) if p.switchport => conflict(),
            ("switchport", _) => {
                p.switchport = true;
                Ok(())
            }
            _ => Err(bad("unknown element")),
        }
    }

    fn require_trunk(p: &Port) -> Result<(), Fail> {
        if p.switchport && p.trunk {
            Ok(())
        } else {
            Err(bad("% Error: Interface is not in trunk mode"))
        }
    }

    fn set_mode(p: &mut Port, body: &str) -> Result<(), Fail> {
        if !p.switchport {
            return Err(bad("% Error: Interface is not configured for switching"));
        }
        let doc = parse_xml(body)?;
        let root = doc.root_element();
        let mode = child(root, "vlan-mode").and_then(|n| n.text());
        match (root.tag_name().name(), mode) {
            ("mode", Some("trunk")) if !p.trunk => {
                p.trunk = true;
                p.native_tagged = true; // NOS tags the native VLAN by default
            }
            ("mode", Some("trunk")) => {}
            ("mode", Some("access")) => {
                p.trunk = false;
                p.native = None;
                p.native_tagged = false;
                p.tagged.clear();
            }
            _ => return Err(bad("bad mode")),
        }
        Ok(())
    }

    fn set_native(p: &mut Port, body: &str) -> Result<(), Fail> {
        require_trunk(p)?;
        let doc = parse_xml(body)?;
        let root = doc.root_element();
        match (root.tag_name().name(), child(root, "native-vlan")) {
            ("trunk", Some(n)) => {
                p.native = Some(vlan(n.text().unwrap_or_default())?);
                Ok(())
            }
            _ => Err(bad("expected <trunk><native-vlan>")),
        }
    }

    /// `<vlan><add>L</add></vlan>`, `<vlan><remove>L</remove></vlan>`, `<vlan><none>true</none></vlan>`.
    fn allowed(p: &mut Port, body: &str) -> Result<(), Fail> {
        require_trunk(p)?;
        let doc = parse_xml(body)?;
        let root = doc.root_element();
        if root.tag_name().name() != "vlan" {
            return Err(bad("expected <vlan>"));
        }
        let op = only_child(root)?;
        let text = op.text().unwrap_or_default().trim();
        match op.tag_name().name() {
            "add" => p.tagged.extend(vlan_list(text)?),
            "remove" => {
                for v in vlan_list(text)? {
                    p.tagged.remove(&v);
                }
            }
            "none" if text == "true" => p.tagged.clear(),
            _ => return Err(bad("unknown allowed-vlan operation")),
        }
        Ok(())
    }
}
