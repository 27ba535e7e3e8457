//! REST switch drivers (HIL's `_vlan_http` family): Dell Networking OS9 and Brocade VDX.
//!
//! Both speak XML over HTTP with basic auth. This module holds what they share: the
//! registration checks, one HTTP client per session (HIL opened a new connection for every
//! request), the mapping of transport and HTTP failures onto [`SwitchErrorKind`]s, and small
//! XML and VLAN-list helpers.
//!
//! Differences from HIL, on purpose:
//! * `hostname` must be an `http://` or `https://` URL. HIL used it verbatim as a URL prefix,
//!   so a bare host name (as HIL's docs showed) only failed later, on the first request; we
//!   refuse it at `switch_register`. URLs carrying credentials, a query or a fragment are
//!   refused too, since they would end up in logs or break the paths we append.
//! * Every failure is a [`SwitchError`] with a kind, so the worker can retry what is transient
//!   (HIL let connection errors kill the network daemon).
//! * Error messages never contain the switch's password, nor the request bodies.

use std::sync::LazyLock;

use regex::Regex;
use reqwest::{Method, StatusCode};

use crate::http_error::error_chain;

use super::{
    has_exactly_string_members, DriverOptions, PortState, SwitchError, SwitchErrorKind, SwitchSpec,
};

pub mod brocade;
pub mod dellnos9;

pub use brocade::BrocadeDriver;
pub use dellnos9::DellNos9Driver;

/// The registration members of both REST switch types (HIL's closed schema).
const FIELDS: &[&str] = &["hostname", "username", "password", "interface_type"];

/// Port names both REST drivers accept: `1/3`, `1/0/1`, `101/0/10`.
static PORT_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\d+/\d+(/\d+)?$").expect("static regex"));

/// How much of a switch's error body goes into an error message.
const REASON_LIMIT: usize = 200;

/// Whether `name` is a port label a REST switch accepts.
pub(crate) fn valid_port_name(name: &str) -> bool {
    PORT_NAME.is_match(name)
}

/// The checks both drivers make at `switch_register`: exactly the four string members, and a
/// `hostname` that is a usable base URL.
pub(crate) fn validate_common(config: &serde_json::Map<String, serde_json::Value>) -> bool {
    has_exactly_string_members(config, FIELDS)
        && config
            .get("hostname")
            .and_then(|v| v.as_str())
            .is_some_and(valid_base_url)
}

/// Whether `text` is a usable `hostname` (see `base_url`).
pub(crate) fn valid_base_url(text: &str) -> bool {
    base_url(text).is_some()
}

/// The base URL a `hostname` stands for, without a trailing `/`: an
/// `http(s)://host[:port][/prefix]` URL without credentials, query or fragment, or such a
/// `host[:port][/prefix]` without a scheme, as HIL's own tests and inventories wrote it, which
/// means HTTPS (HIL sent such a hostname to `requests` as it was, which refused it at the
/// first call; HTTPS keeps the switch password off the wire).
pub(crate) fn base_url(hostname: &str) -> Option<String> {
    let text = if hostname.contains("://") {
        hostname.to_string()
    } else {
        format!("https://{hostname}")
    };
    let url = reqwest::Url::parse(&text).ok()?;
    let usable = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none();
    usable.then(|| text.trim_end_matches('/').to_string())
}

/// A port change refers to a port by label; labels reach URLs and CLI lines, so a label that
/// slipped past registration checks (e.g. registered under another driver) is refused here.
pub(crate) fn check_port(port: &str) -> Result<(), SwitchError> {
    if valid_port_name(port) {
        Ok(())
    } else {
        Err(SwitchError::new(
            SwitchErrorKind::Rejected,
            format!("{port:?} is not a valid port name for this switch"),
        ))
    }
}

/// A successful HTTP exchange: the status (2xx or one the caller accepted) and the body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: String,
}

/// One switch's HTTP endpoint, with the credentials and a client that keeps connections alive
/// for the length of a session.
pub(crate) struct Http {
    client: reqwest::Client,
    /// `hostname` without a trailing `/`; paths are appended to it.
    base: String,
    username: String,
    password: String,
    /// Secrets of the registration, scrubbed from every message as a last line of defence.
    spec: SwitchSpec,
}

impl Http {
    /// Builds the session's client. Nothing is sent yet: like HIL, the first request is the
    /// first contact with the switch.
    pub fn open(spec: &SwitchSpec, options: &DriverOptions) -> Result<Http, SwitchError> {
        let field = |key: &str| {
            spec.field(key).map(str::to_string).ok_or_else(|| {
                SwitchError::new(
                    SwitchErrorKind::Rejected,
                    format!("switch {} has no {key} in its registration", spec.label),
                )
            })
        };
        let base = base_url(&field("hostname")?).ok_or_else(|| {
            SwitchError::new(
                SwitchErrorKind::Rejected,
                format!("switch {}: hostname is not an http(s) URL", spec.label),
            )
        })?;
        let client = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.command_timeout)
            .build()
            .map_err(|e| {
                SwitchError::new(
                    SwitchErrorKind::Unreachable,
                    format!("cannot set up an HTTP client: {}", error_chain(&e)),
                )
            })?;
        Ok(Http {
            client,
            base,
            username: field("username")?,
            password: field("password")?,
            spec: spec.clone(),
        })
    }

    /// Sends one request. Statuses >= 400 fail unless listed in `accept` (HIL's
    /// `acceptable_error_codes`, for idempotent calls such as "already shut down").
    /// Like HIL, no Content-Type is set: the switches accepted HIL's requests that way.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
        accept: &[StatusCode],
    ) -> Result<Reply, SwitchError> {
        self.send_typed(method, path, body.map(|b| (b, None)), accept)
            .await
    }

    /// POSTs a JSON document (Arista's eAPI wants the Content-Type).
    pub async fn post_json(&self, path: &str, body: String) -> Result<Reply, SwitchError> {
        let body = Some((body, Some("application/json")));
        self.send_typed(Method::POST, path, body, &[]).await
    }

    async fn send_typed(
        &self,
        method: Method,
        path: &str,
        body: Option<(String, Option<&'static str>)>,
        accept: &[StatusCode],
    ) -> Result<Reply, SwitchError> {
        tracing::debug!(switch = %self.spec.label, %method, path, "switch request");
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .basic_auth(&self.username, Some(&self.password));
        if let Some((body, content_type)) = body {
            if let Some(content_type) = content_type {
                request = request.header(reqwest::header::CONTENT_TYPE, content_type);
            }
            request = request.body(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.scrub(transport_error(&e, &self.base)))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| self.scrub(transport_error(&e, &self.base)))?;
        if status.as_u16() >= 400 && !accept.contains(&status) {
            let error = status_error(&method, path, status, &body, &self.username);
            return Err(self.scrub(error));
        }
        Ok(Reply { status, body })
    }

    pub async fn get(&self, path: &str) -> Result<Reply, SwitchError> {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn put(&self, path: &str, body: String) -> Result<Reply, SwitchError> {
        self.send(Method::PUT, path, Some(body), &[]).await
    }

    pub async fn post(&self, path: &str, body: String) -> Result<Reply, SwitchError> {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    fn scrub(&self, mut error: SwitchError) -> SwitchError {
        error.message = self.spec.redact(&error.message);
        if !self.password.is_empty() {
            error.message = error.message.replace(&self.password, "********");
        }
        error
    }
}

/// Maps a failure to talk HTTP at all: timeouts (connect or request) are `Timeout`, anything
/// else (refused, DNS, reset, TLS) is `Unreachable`. Both are worth a retry. reqwest's own
/// message includes the URL; we name only the base and the innermost cause.
fn transport_error(error: &reqwest::Error, base: &str) -> SwitchError {
    let cause = error_chain(error);
    if error.is_timeout() {
        SwitchError::new(
            SwitchErrorKind::Timeout,
            format!("the switch at {base} did not answer in time: {cause}"),
        )
    } else {
        SwitchError::new(
            SwitchErrorKind::Unreachable,
            format!("cannot reach the switch at {base}: {cause}"),
        )
    }
}

/// Maps an HTTP error status: 401/403 are `Auth` (retrying will not fix a password), anything
/// else is `Rejected` with the status and the first line of the switch's answer.
fn status_error(
    method: &Method,
    path: &str,
    status: StatusCode,
    body: &str,
    username: &str,
) -> SwitchError {
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        return SwitchError::new(
            SwitchErrorKind::Auth,
            format!("authentication failed: the switch refused user {username:?} (HTTP {status})"),
        );
    }
    let path = path.split('?').next().unwrap_or(path);
    let mut message = format!("switch answered {method} {path} with HTTP {status}");
    let reason = first_line(body);
    if !reason.is_empty() {
        message.push_str(": ");
        message.push_str(&reason);
    }
    SwitchError::new(SwitchErrorKind::Rejected, message)
}

/// The first non-blank line of `body`, trimmed and cut to a readable length. When the body is
/// XML the text inside it is used, so `<error-message>` content rather than tags is shown.
fn first_line(body: &str) -> String {
    let text = match roxmltree::Document::parse(body) {
        Ok(doc) => doc
            .descendants()
            .filter(|n| n.is_text())
            .filter_map(|n| n.text())
            .collect::<Vec<_>>()
            .join("\n"),
        Err(_) => body.to_string(),
    };
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    match line.char_indices().nth(REASON_LIMIT) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_string(),
    }
}

/// Parses a switch's XML answer; a body that is not XML is a switch error, not a panic (HIL's
/// parse errors killed its daemon).
pub(crate) fn parse_xml(body: &str) -> Result<roxmltree::Document<'_>, SwitchError> {
    roxmltree::Document::parse(body).map_err(|e| {
        SwitchError::new(
            SwitchErrorKind::Rejected,
            format!("the switch's answer is not valid XML: {e}"),
        )
    })
}

/// The text of the first direct child element of `node` named `name` (namespace ignored, as
/// both switches put everything in a single default namespace).
pub(crate) fn child_text<'a>(node: roxmltree::Node<'a, '_>, name: &str) -> Option<&'a str> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
        .map(|c| c.text().unwrap_or_default())
}

/// Follows a path of child element names from `node`.
pub(crate) fn child_path<'a, 'input>(
    node: roxmltree::Node<'a, 'input>,
    path: &[&str],
) -> Option<roxmltree::Node<'a, 'input>> {
    path.iter().try_fold(node, |n, name| {
        n.children()
            .find(|c| c.is_element() && c.tag_name().name() == *name)
    })
}

/// Expands a switch's VLAN list (`4001,4025`, `12,14-18`) like HIL's `parse_vlans`, but
/// strictly: every piece must be a VLAN number or an ascending range of them.
pub(crate) fn parse_vlan_list(text: &str) -> Result<Vec<u16>, SwitchError> {
    let bad = || {
        SwitchError::new(
            SwitchErrorKind::Rejected,
            format!("cannot read the switch's VLAN list {text:?}"),
        )
    };
    let mut vlans = Vec::new();
    for piece in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (low, high) = match piece.split_once('-') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (piece, piece),
        };
        let low: u16 = low.parse().map_err(|_| bad())?;
        let high: u16 = high.parse().map_err(|_| bad())?;
        if low == 0 || high < low || high > super::MAX_VLAN {
            return Err(bad());
        }
        vlans.extend(low..=high);
    }
    Ok(vlans)
}

/// Builds a port state from what the switch reported: `vlan/native` and one `vlan/<id>` per
/// tagged VLAN, network ids being VLAN numbers as strings (HIL's vlan_pool convention).
pub(crate) fn port_state(native: Option<u16>, tagged: &[u16]) -> PortState {
    let mut state = PortState::new();
    if let Some(v) = native {
        state.insert("vlan/native".into(), v.to_string());
    }
    for v in tagged {
        state.insert(format!("vlan/{v}"), v.to_string());
    }
    state
}

/// A registration body for unit tests of both drivers.
#[cfg(test)]
fn test_config(hostname: &str, interface_type: &str) -> serde_json::Map<String, serde_json::Value> {
    serde_json::json!({"hostname": hostname, "username": "u", "password": "p",
                       "interface_type": interface_type})
    .as_object()
    .unwrap()
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_base_urls_need_a_scheme() {
        assert!(valid_base_url("http://switch.example.com:8008"));
        assert!(valid_base_url("https://10.0.0.1:8888/"));
        assert!(valid_base_url("http://proxy.example/switch1"));
        assert!(!valid_base_url("ftp://switch.example.com"));
        assert!(!valid_base_url("http://admin:pw@switch.example.com"));
        assert!(!valid_base_url("http://switch.example.com/?x=1"));
        assert!(!valid_base_url(""));
    }

    #[test]
    fn hostnames_without_a_scheme_mean_https() {
        assert_eq!(
            base_url("mybrocade.example.com").as_deref(),
            Some("https://mybrocade.example.com")
        );
        assert_eq!(
            base_url("switch.example.com:8008/").as_deref(),
            Some("https://switch.example.com:8008")
        );
        assert_eq!(
            base_url("http://10.0.0.1:8008").as_deref(),
            Some("http://10.0.0.1:8008")
        );
        assert_eq!(base_url("admin:pw@switch"), None);
        assert_eq!(base_url("switch?x=1"), None);
    }

    #[test]
    fn rest_port_names() {
        for good in ["1/3", "1/0/1", "101/0/10"] {
            assert!(valid_port_name(good), "{good}");
        }
        for bad in ["gi1/0/1", "1", "1/", "1/2/3/4", "1/2 ", "../1", "1/2\n"] {
            assert!(!valid_port_name(bad), "{bad:?}");
        }
        assert!(check_port("1/3").is_ok());
        assert_eq!(
            check_port("1/3/../x").unwrap_err().kind,
            SwitchErrorKind::Rejected
        );
    }

    #[test]
    fn rest_common_validation() {
        let ok = serde_json::json!({"hostname": "http://sw", "username": "u",
                                    "password": "p", "interface_type": "GigabitEthernet"});
        assert!(validate_common(ok.as_object().unwrap()));
        let bare = serde_json::json!({"hostname": "sw:8008", "username": "u",
                                      "password": "p", "interface_type": "GigabitEthernet"});
        assert!(validate_common(bare.as_object().unwrap()));
        let missing =
            serde_json::json!({"hostname": "http://sw", "username": "u", "password": "p"});
        assert!(!validate_common(missing.as_object().unwrap()));
    }

    #[test]
    fn rest_vlan_lists() {
        assert_eq!(parse_vlan_list("4001,4025").unwrap(), vec![4001, 4025]);
        assert_eq!(
            parse_vlan_list("12,14-18").unwrap(),
            vec![12, 14, 15, 16, 17, 18]
        );
        assert_eq!(parse_vlan_list("20").unwrap(), vec![20]);
        assert_eq!(parse_vlan_list("").unwrap(), Vec::<u16>::new());
        for bad in ["x", "5-3", "0", "1-4095", "1,,a", "10-"] {
            assert!(parse_vlan_list(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rest_xml_escape_and_paths() {
        let doc = parse_xml("<a xmlns='urn:x'><b><c>7</c></b><d/></a>").unwrap();
        let root = doc.root_element();
        assert_eq!(
            child_path(root, &["b", "c"]).and_then(|n| n.text()),
            Some("7")
        );
        assert_eq!(child_text(root, "d"), Some(""));
        assert_eq!(child_text(root, "e"), None);
        assert!(parse_xml("<vlan><add>5</vlan></vlan>").is_err());
    }

    #[test]
    fn rest_error_reasons() {
        let e = status_error(
            &Method::POST,
            "/api/x?with-defaults",
            StatusCode::INTERNAL_SERVER_ERROR,
            "\n  boom happened  \nsecond line",
            "admin",
        );
        assert_eq!(e.kind, SwitchErrorKind::Rejected);
        assert_eq!(
            e.message,
            "switch answered POST /api/x with HTTP 500 Internal Server Error: boom happened"
        );
        let xml =
            "<errors><error><error-message>% Error: no such VLAN</error-message></error></errors>";
        let e = status_error(&Method::PUT, "/p", StatusCode::BAD_REQUEST, xml, "u");
        assert!(
            e.message.ends_with(": % Error: no such VLAN"),
            "{}",
            e.message
        );
        let e = status_error(&Method::GET, "/p", StatusCode::UNAUTHORIZED, "", "admin");
        assert_eq!(e.kind, SwitchErrorKind::Auth);
        assert!(e.message.contains("authentication failed"));
        let long = "x".repeat(500);
        let e = status_error(&Method::GET, "/p", StatusCode::BAD_GATEWAY, &long, "u");
        assert!(e.message.len() < 300);
    }

    #[test]
    fn rest_port_state_shape() {
        let st = port_state(Some(100), &[200, 300]);
        assert_eq!(st.get("vlan/native").map(String::as_str), Some("100"));
        assert_eq!(st.get("vlan/200").map(String::as_str), Some("200"));
        assert_eq!(st.len(), 3);
        assert!(port_state(None, &[]).is_empty());
    }

    #[tokio::test]
    async fn rest_transport_errors_are_classified_without_secrets() {
        // A port nothing listens on: bind, learn the port, drop the listener.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let spec = SwitchSpec {
            label: "sw".into(),
            config: serde_json::json!({"hostname": format!("http://{addr}"), "username": "u",
                                       "password": "hunter2", "interface_type": "x"})
            .as_object()
            .unwrap()
            .clone(),
        };
        let http = Http::open(&spec, &DriverOptions::default()).unwrap();
        let e = http.get("/x").await.unwrap_err();
        assert_eq!(e.kind, SwitchErrorKind::Unreachable, "{}", e.message);
        assert!(!e.message.contains("hunter2"));
        assert!(e.message.contains(&addr.to_string()), "{}", e.message);
    }
}
