//! The `redfish` OBM type: a node's BMC driven over DMTF Redfish (HTTP + JSON, basic auth).
//!
//! What HIL needs maps onto three Redfish operations on the node's `ComputerSystem`:
//! * power state: `GET` the system and read `PowerState`;
//! * power changes: `POST {"ResetType": ...}` to the system's `ComputerSystem.Reset` action;
//! * boot device: `PATCH` the system's `Boot` override.
//!
//! Choices made here, and why:
//! * `host` may be a bare host (`10.0.0.5`, `bmc1:8443`), which means `https://`, since
//!   Redfish is served over TLS on real BMCs; `http://` must be asked for explicitly (emulators).
//! * TLS certificates are verified unless the node's registration says `"verify_tls": false`.
//!   Many BMCs ship self-signed certificates, but turning checks off for every node would hand
//!   the BMC password to anyone who can intercept one; so the opt-out is per node.
//! * Which system: a BMC may manage several (blade chassis, emulators). With `system` unset
//!   the BMC must list exactly one, and we remember it for the handle's lifetime. We never
//!   guess among several: powering off the wrong blade is worse than asking the admin.
//! * Every URL we follow from a BMC answer (`@odata.id`, an action `target`) must stay on the
//!   BMC's own scheme, host and port, so the credentials are never sent anywhere else.
//! * Error messages name the BMC, the request and the BMC's own reason, but never the
//!   password nor the request bodies; they pass through `ObmSpec::redact` as a last line of
//!   defence.
//! * There is no serial console: Redfish has no standard one (vendors use SSH or IPMI SOL).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{HeaderValue, ACCEPT};
use reqwest::{Method, StatusCode, Url};
use serde_json::{json, Map, Value};
use tokio::sync::OnceCell;

use crate::http_error::error_chain;

use super::{
    check_members, Bmc, BootDevice, ObmDriver, ObmError, ObmErrorKind, ObmOptions, ObmSpec,
    PowerState,
};

/// The collection of systems every Redfish service has.
const SYSTEMS: &str = "/redfish/v1/Systems";

/// How much of a BMC's error text goes into a message.
const REASON_LIMIT: usize = 200;

/// How many system ids an "ambiguous system" error lists.
const LISTED_SYSTEMS: usize = 4;

/// The Redfish OBM type.
pub struct RedfishObm;

impl ObmDriver for RedfishObm {
    fn type_uri(&self) -> &'static str {
        "http://schema.massopencloud.org/haas/v0/obm/redfish"
    }

    fn name(&self) -> &'static str {
        "redfish"
    }

    fn validate(&self, config: &Map<String, Value>) -> Result<(), String> {
        check_members(
            config,
            &["host", "user", "password"],
            &[
                ("system", Value::is_string),
                ("verify_tls", Value::is_boolean),
            ],
        )?;
        let host = config.get("host").and_then(Value::as_str).unwrap_or("");
        base_url(host)?;
        if let Some(system) = config.get("system").and_then(Value::as_str) {
            system_path(system)?;
        }
        Ok(())
    }

    fn bmc(&self, spec: &ObmSpec, options: &ObmOptions) -> Result<Arc<dyn Bmc>, ObmError> {
        Ok(Arc::new(RedfishBmc::new(spec, options)?))
    }
}

/// The base URL (`scheme://host[:port]`, no path) for a `host` member, or why it is unusable.
/// Messages name the member but not its value.
fn base_url(host: &str) -> Result<Url, String> {
    let host = host.trim();
    let bad = |why: &str| Err(format!("OBM member \"host\" {why}"));
    if host.is_empty() {
        return bad("is empty");
    }
    let text = if host.contains("://") {
        host.to_string()
    } else if host.contains(['/', '@', '?', '#']) || host.chars().any(char::is_whitespace) {
        return bad("must be a host name, host:port, or an http(s) URL");
    } else {
        format!("https://{host}")
    };
    let Ok(url) = Url::parse(&text) else {
        return bad("must be a host name, host:port, or an http(s) URL");
    };
    if !matches!(url.scheme(), "http" | "https") {
        return bad("must use the http or https scheme");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return bad("has no host");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return bad("must not carry credentials (use \"user\" and \"password\")");
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return bad("must not have a path, query or fragment (Redfish paths start at /redfish/v1)");
    }
    Ok(url)
}

/// Whether `segment` is a plain URL path segment: a system id such as a UUID,
/// `System.Embedded.1` or `437XR1138R2`. Anything needing escapes is refused rather than
/// guessed at.
fn valid_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment != "."
        && segment != ".."
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~:@!$&'()*+,;=".contains(c))
}

/// The system's path for a `system` member: a bare id goes under `/redfish/v1/Systems/`; a
/// path must already be there.
fn system_path(system: &str) -> Result<String, String> {
    let prefix = format!("{SYSTEMS}/");
    let rest = match system.strip_prefix(&prefix) {
        Some(rest) => rest.trim_end_matches('/'),
        None if system.contains('/') => {
            return Err(format!(
                "OBM member \"system\" must be a system id or a path under {prefix}"
            ))
        }
        None => system,
    };
    if rest.split('/').all(valid_segment) {
        Ok(format!("{prefix}{rest}"))
    } else {
        Err("OBM member \"system\" is not a valid system id or path".into())
    }
}

/// `reference` (an `@odata.id` or action `target` from the BMC) as a URL on the BMC, refusing
/// references that lead to another scheme, host or port: we would send them the password.
fn resolve(base: &Url, reference: &str) -> Result<Url, String> {
    let url = base
        .join(reference)
        .map_err(|_| format!("the BMC gave an unusable link {reference:?}"))?;
    if url.origin() != base.origin() {
        return Err(format!(
            "the BMC gave a link to another server ({reference:?}); refusing to follow it"
        ));
    }
    Ok(url)
}

/// HIL's view of a Redfish `PowerState`. A transition counts as where it started from
/// (`PoweringOff` is still on), so a node reads off only once it really is.
fn power_state_from(text: &str) -> Option<PowerState> {
    match text {
        "On" | "PoweringOff" => Some(PowerState::On),
        "Off" | "PoweringOn" => Some(PowerState::Off),
        _ => None,
    }
}

/// The `PowerState` of a system resource.
fn power_state_of(system: &Value) -> Result<PowerState, ObmError> {
    match system.get("PowerState") {
        Some(Value::String(s)) => power_state_from(s).ok_or_else(|| {
            rejected(format!(
                "the BMC reports power state {:?}, which HIL does not understand",
                truncate(s)
            ))
        }),
        _ => Err(rejected("the BMC's system resource has no PowerState")),
    }
}

/// Where to POST resets: the system's advertised `ComputerSystem.Reset` target, else the
/// conventional location.
fn reset_target(system: &Value, system_path: &str) -> String {
    system
        .pointer("/Actions/#ComputerSystem.Reset/target")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("{system_path}/Actions/ComputerSystem.Reset"))
}

/// The `ResetType` that restarts a node: a node that is off is simply switched on.
fn cycle_reset_type(state: PowerState, force: bool) -> &'static str {
    match (state, force) {
        (PowerState::Off, _) => "On",
        (PowerState::On, true) => "ForceRestart",
        (PowerState::On, false) => "GracefulRestart",
    }
}

/// The PATCH body that sets the boot device. PXE and disk are persistent (`Continuous`),
/// like HIL's IPMI driver; `none` drops the override so the BMC's boot order applies.
fn boot_patch(device: BootDevice) -> Value {
    let (target, enabled) = match device {
        BootDevice::Pxe => ("Pxe", "Continuous"),
        BootDevice::Disk => ("Hdd", "Continuous"),
        BootDevice::None => ("None", "Disabled"),
    };
    json!({"Boot": {"BootSourceOverrideTarget": target, "BootSourceOverrideEnabled": enabled}})
}

fn rejected(message: impl Into<String>) -> ObmError {
    ObmError::new(ObmErrorKind::Rejected, message)
}

/// `text` cut to a readable length.
fn truncate(text: &str) -> String {
    match text.char_indices().nth(REASON_LIMIT) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

/// The reason in a BMC's error body. Redfish puts it in `error.message` and, often more
/// useful, in `error.@Message.ExtendedInfo[].Message`; both are shown. A body that is not
/// Redfish JSON contributes its first line, unless it is markup (an HTML error page says
/// nothing the status does not).
fn error_reason(body: &str) -> String {
    if let Ok(value) = serde_json::from_str::<Value>(body) {
        let error = &value["error"];
        let mut parts: Vec<&str> = Vec::new();
        let main = error["message"].as_str().map(str::trim);
        parts.extend(main.filter(|m| !m.is_empty()));
        if let Some(infos) = error["@Message.ExtendedInfo"].as_array() {
            for info in infos {
                if let Some(m) = info["Message"].as_str().map(str::trim) {
                    if !m.is_empty() && !parts.contains(&m) {
                        parts.push(m);
                    }
                }
            }
        }
        return truncate(&parts.join("; "));
    }
    let line = body
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    if line.starts_with('<') {
        String::new()
    } else {
        truncate(line)
    }
}

/// Maps an HTTP error status: 401/403 are `Auth` (retrying will not fix a password),
/// anything else is `Rejected` with the status and the BMC's reason.
fn status_error(
    bmc: &str,
    method: &Method,
    path: &str,
    status: StatusCode,
    body: &str,
    user: &str,
) -> ObmError {
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        return ObmError::new(
            ObmErrorKind::Auth,
            format!("the BMC {bmc} refused the credentials for user {user:?} (HTTP {status})"),
        );
    }
    let mut message = format!("the BMC {bmc} answered {method} {path} with HTTP {status}");
    let reason = error_reason(body);
    if !reason.is_empty() {
        message.push_str(": ");
        message.push_str(&reason);
    }
    rejected(message)
}

/// Maps a failure to talk HTTP at all: a timeout is `Timeout`, anything else (refused,
/// DNS, reset, TLS) is `Unreachable`.
fn transport_error(error: &reqwest::Error, bmc: &str, limit: Duration) -> ObmError {
    if error.is_timeout() {
        return ObmError::timeout(&format!("BMC {bmc}"), limit);
    }
    let cause = error_chain(error);
    let mut message = format!("cannot reach the BMC {bmc}: {cause}");
    if cause.to_ascii_lowercase().contains("certificate") {
        message.push_str(
            " (if this BMC has a self-signed certificate, register it with \"verify_tls\": false)",
        );
    }
    ObmError::new(ObmErrorKind::Unreachable, message)
}

/// One node's BMC: the HTTP client (kept for the handle's lifetime, so connections are
/// reused across the calls of one operation) and the system, once known.
struct RedfishBmc {
    client: reqwest::Client,
    base: Url,
    /// The `host` member as registered, to name the BMC in messages.
    host: String,
    user: String,
    password: String,
    /// The system path from the registration, or the one found by listing the systems.
    system: OnceCell<String>,
    limit: Duration,
    spec: ObmSpec,
}

impl RedfishBmc {
    /// Checks the registration again (it may predate a rule) and builds the client. No I/O.
    fn new(spec: &ObmSpec, options: &ObmOptions) -> Result<RedfishBmc, ObmError> {
        let invalid = |why: String| {
            rejected(spec.redact(&format!(
                "node {}: unusable Redfish registration: {why}",
                spec.node
            )))
        };
        RedfishObm.validate(&spec.config).map_err(invalid)?;
        let host = spec.field("host").unwrap_or_default().trim().to_string();
        let base = base_url(&host).map_err(invalid)?;
        let configured = spec.field("system").map(system_path).transpose();
        let system = OnceCell::new_with(configured.map_err(invalid)?);
        let verify_tls = spec
            .config
            .get("verify_tls")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let mut builder = reqwest::Client::builder()
            .connect_timeout(options.command_timeout)
            .timeout(options.command_timeout);
        if !verify_tls {
            builder = builder.danger_accept_invalid_certs(true);
        }
        let client = builder.build().map_err(|e| {
            ObmError::new(
                ObmErrorKind::Unreachable,
                format!("cannot set up an HTTP client: {}", error_chain(&e)),
            )
        })?;
        Ok(RedfishBmc {
            client,
            base,
            host,
            user: spec.field("user").unwrap_or_default().to_string(),
            password: spec.field("password").unwrap_or_default().to_string(),
            system,
            limit: options.command_timeout,
            spec: spec.clone(),
        })
    }

    /// Sends one request to `reference` (a path or a link from the BMC) and returns the body
    /// of a 2xx answer. Redirects (sushy's name aliases) are followed by reqwest, which keeps
    /// the credentials only while the host stays the same.
    async fn send(
        &self,
        method: Method,
        reference: &str,
        body: Option<&Value>,
    ) -> Result<String, ObmError> {
        let url = resolve(&self.base, reference).map_err(|e| self.scrub(rejected(e)))?;
        let path = url.path().to_string();
        tracing::debug!(node = %self.spec.node, %method, path, "redfish request");
        let mut request = self
            .client
            .request(method.clone(), url)
            .basic_auth(&self.user, Some(&self.password))
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .header("OData-Version", HeaderValue::from_static("4.0"));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.scrub(transport_error(&e, &self.host, self.limit)))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| self.scrub(transport_error(&e, &self.host, self.limit)))?;
        if !status.is_success() {
            let error = status_error(&self.host, &method, &path, status, &text, &self.user);
            return Err(self.scrub(error));
        }
        Ok(text)
    }

    /// GETs a resource and parses it.
    async fn get_json(&self, reference: &str) -> Result<Value, ObmError> {
        let text = self.send(Method::GET, reference, None).await?;
        serde_json::from_str(&text).map_err(|_| {
            self.scrub(rejected(format!(
                "the BMC {} answered GET {reference} with something other than JSON",
                self.host
            )))
        })
    }

    /// The system's path: the registered one, or the only one the BMC lists.
    async fn system(&self) -> Result<&str, ObmError> {
        self.system
            .get_or_try_init(|| self.discover_system())
            .await
            .map(String::as_str)
    }

    async fn discover_system(&self) -> Result<String, ObmError> {
        let collection = self.get_json(SYSTEMS).await?;
        let members: Vec<&str> = collection["Members"]
            .as_array()
            .map(|m| m.iter().filter_map(|x| x["@odata.id"].as_str()).collect())
            .unwrap_or_default();
        match members.as_slice() {
            [only] => resolve(&self.base, only)
                .map(|url| url.path().trim_end_matches('/').to_string())
                .map_err(|e| self.scrub(rejected(e))),
            [] => Err(self.scrub(rejected(format!(
                "the BMC {} lists no systems under {SYSTEMS}; set the OBM member \"system\"",
                self.host
            )))),
            several => {
                let mut ids: Vec<&str> = several
                    .iter()
                    .take(LISTED_SYSTEMS)
                    .map(|p| p.trim_end_matches('/').rsplit('/').next().unwrap_or(p))
                    .collect();
                if several.len() > LISTED_SYSTEMS {
                    ids.push("...");
                }
                Err(self.scrub(rejected(format!(
                    "the BMC {} manages {} systems ({}); set the OBM member \"system\" to this \
                     node's",
                    self.host,
                    several.len(),
                    ids.join(", ")
                ))))
            }
        }
    }

    /// POSTs a reset of `reset_type`, to the target `system` (the resource) advertises.
    async fn reset(&self, system: &Value, reset_type: &str) -> Result<(), ObmError> {
        let path = self.system().await?;
        let target = reset_target(system, path);
        let body = json!({ "ResetType": reset_type });
        self.send(Method::POST, &target, Some(&body)).await?;
        Ok(())
    }

    /// Reads the system resource.
    async fn system_resource(&self) -> Result<Value, ObmError> {
        let path = self.system().await?.to_string();
        self.get_json(&path).await
    }

    fn scrub(&self, mut error: ObmError) -> ObmError {
        error.message = self.spec.redact(&error.message);
        if !self.password.is_empty() {
            error.message = error.message.replace(&self.password, "********");
        }
        error
    }
}

#[async_trait]
impl Bmc for RedfishBmc {
    async fn power_on(&self) -> Result<(), ObmError> {
        let system = self.system_resource().await?;
        self.reset(&system, "On").await
    }

    async fn power_off(&self) -> Result<(), ObmError> {
        let system = self.system_resource().await?;
        self.reset(&system, "ForceOff").await
    }

    async fn power_cycle(&self, force: bool) -> Result<(), ObmError> {
        let system = self.system_resource().await?;
        let state = power_state_of(&system).map_err(|e| self.scrub(e))?;
        self.reset(&system, cycle_reset_type(state, force)).await
    }

    async fn power_status(&self) -> Result<PowerState, ObmError> {
        let system = self.system_resource().await?;
        power_state_of(&system).map_err(|e| self.scrub(e))
    }

    async fn set_bootdev(&self, device: BootDevice) -> Result<(), ObmError> {
        let path = self.system().await?.to_string();
        self.send(Method::PATCH, &path, Some(&boot_patch(device)))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn spec(v: Value) -> ObmSpec {
        ObmSpec {
            node: "node-7".into(),
            config: config(v),
        }
    }

    #[test]
    fn redfish_names() {
        assert_eq!(
            RedfishObm.type_uri(),
            "http://schema.massopencloud.org/haas/v0/obm/redfish"
        );
        assert_eq!(RedfishObm.name(), "redfish");
    }

    #[test]
    fn redfish_members() {
        let ok = config(json!({"host": "10.0.0.5", "user": "root", "password": "calvin"}));
        assert_eq!(RedfishObm.validate(&ok), Ok(()));
        let full = config(
            json!({"host": "https://bmc1", "user": "root", "password": "calvin",
                                 "system": "System.Embedded.1", "verify_tls": false}),
        );
        assert_eq!(RedfishObm.validate(&full), Ok(()));

        let missing = config(json!({"host": "bmc", "user": "root"}));
        assert!(RedfishObm
            .validate(&missing)
            .unwrap_err()
            .contains("\"password\" is missing"));
        let extra = config(json!({"host": "bmc", "user": "u", "password": "p", "port": 443}));
        assert!(RedfishObm
            .validate(&extra)
            .unwrap_err()
            .contains("\"port\" is not allowed"));
        let wrong = config(json!({"host": "bmc", "user": "u", "password": "p",
                                  "verify_tls": "no"}));
        assert!(RedfishObm
            .validate(&wrong)
            .unwrap_err()
            .contains("verify_tls"));
        let number = config(json!({"host": "bmc", "user": "u", "password": "p", "system": 1}));
        assert!(RedfishObm.validate(&number).unwrap_err().contains("system"));
    }

    #[test]
    fn redfish_validation_never_echoes_values() {
        let bad = config(json!({"host": "ftp://s3cret-host", "user": "u",
                                "password": "hunter2"}));
        let e = RedfishObm.validate(&bad).unwrap_err();
        assert!(e.contains("\"host\""), "{e}");
        assert!(!e.contains("s3cret") && !e.contains("hunter2"), "{e}");
        let creds = config(json!({"host": "https://root:hunter2@bmc", "user": "u",
                                  "password": "hunter2"}));
        let e = RedfishObm.validate(&creds).unwrap_err();
        assert!(e.contains("credentials") && !e.contains("hunter2"), "{e}");
    }

    #[test]
    fn redfish_host_forms() {
        let base = |h: &str| base_url(h).map(|u| u.to_string());
        assert_eq!(base("https://10.0.0.5").unwrap(), "https://10.0.0.5/");
        assert_eq!(
            base("http://127.0.0.1:8000/").unwrap(),
            "http://127.0.0.1:8000/"
        );
        assert_eq!(base("10.0.0.5").unwrap(), "https://10.0.0.5/");
        assert_eq!(
            base("bmc1.example.com:8443").unwrap(),
            "https://bmc1.example.com:8443/"
        );
        assert_eq!(base(" bmc1 ").unwrap(), "https://bmc1/");
        assert_eq!(base("[fe80::1]:443").unwrap(), "https://[fe80::1]/");
        for bad in [
            "",
            "ftp://bmc",
            "ssh://bmc",
            "http://",
            "https://bmc/redfish/v1",
            "bmc/redfish",
            "https://bmc?x=1",
            "user@bmc",
            "https://u:p@bmc",
            "bmc 1",
            "fe80::1",
        ] {
            assert!(base_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn redfish_system_paths() {
        let uuid = "11111111-1111-1111-1111-111111111111";
        assert_eq!(
            system_path(uuid).unwrap(),
            format!("/redfish/v1/Systems/{uuid}")
        );
        assert_eq!(
            system_path("System.Embedded.1").unwrap(),
            "/redfish/v1/Systems/System.Embedded.1"
        );
        assert_eq!(
            system_path("/redfish/v1/Systems/1/").unwrap(),
            "/redfish/v1/Systems/1"
        );
        for bad in [
            "",
            "/redfish/v1/Chassis/1",
            "/redfish/v1/Systems/",
            "a/../b",
            "a/b",
            "..",
            "sys 1",
            "1?x",
            "1#x",
            "/redfish/v1/Systems/a//b",
        ] {
            assert!(system_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn redfish_links_stay_on_the_bmc() {
        let base = base_url("https://bmc:8443").unwrap();
        assert_eq!(
            resolve(&base, "/redfish/v1/Systems/1").unwrap().as_str(),
            "https://bmc:8443/redfish/v1/Systems/1"
        );
        assert_eq!(
            resolve(&base, "https://bmc:8443/redfish/v1/Systems/1")
                .unwrap()
                .path(),
            "/redfish/v1/Systems/1"
        );
        for elsewhere in [
            "https://evil/redfish/v1/Systems/1",
            "http://bmc:8443/redfish/v1/Systems/1",
            "https://bmc/redfish/v1/Systems/1",
            "//evil/x",
        ] {
            assert!(resolve(&base, elsewhere).is_err(), "{elsewhere}");
        }
    }

    #[test]
    fn redfish_power_states() {
        assert_eq!(power_state_from("On"), Some(PowerState::On));
        assert_eq!(power_state_from("PoweringOff"), Some(PowerState::On));
        assert_eq!(power_state_from("Off"), Some(PowerState::Off));
        assert_eq!(power_state_from("PoweringOn"), Some(PowerState::Off));
        assert_eq!(power_state_from("Paused"), None);
        assert_eq!(power_state_from("on"), None);

        assert_eq!(
            power_state_of(&json!({"PowerState": "On"})),
            Ok(PowerState::On)
        );
        let e = power_state_of(&json!({"PowerState": "Paused"})).unwrap_err();
        assert_eq!(e.kind, ObmErrorKind::Rejected);
        assert!(e.message.contains("Paused"), "{}", e.message);
        let e = power_state_of(&json!({"PowerState": null})).unwrap_err();
        assert_eq!(e.kind, ObmErrorKind::Rejected);
    }

    #[test]
    fn redfish_reset_choices() {
        assert_eq!(cycle_reset_type(PowerState::Off, true), "On");
        assert_eq!(cycle_reset_type(PowerState::Off, false), "On");
        assert_eq!(cycle_reset_type(PowerState::On, true), "ForceRestart");
        assert_eq!(cycle_reset_type(PowerState::On, false), "GracefulRestart");

        let advertised = json!({"Actions": {"#ComputerSystem.Reset":
            {"target": "/redfish/v1/Systems/1/Actions/Reset.Vendor"}}});
        assert_eq!(
            reset_target(&advertised, "/redfish/v1/Systems/1"),
            "/redfish/v1/Systems/1/Actions/Reset.Vendor"
        );
        assert_eq!(
            reset_target(&json!({"Actions": {}}), "/redfish/v1/Systems/1"),
            "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset"
        );
    }

    #[test]
    fn redfish_boot_bodies() {
        assert_eq!(
            boot_patch(BootDevice::Pxe),
            json!({"Boot": {"BootSourceOverrideTarget": "Pxe",
                            "BootSourceOverrideEnabled": "Continuous"}})
        );
        assert_eq!(
            boot_patch(BootDevice::Disk),
            json!({"Boot": {"BootSourceOverrideTarget": "Hdd",
                            "BootSourceOverrideEnabled": "Continuous"}})
        );
        assert_eq!(
            boot_patch(BootDevice::None),
            json!({"Boot": {"BootSourceOverrideTarget": "None",
                            "BootSourceOverrideEnabled": "Disabled"}})
        );
    }

    #[test]
    fn redfish_error_reasons() {
        let sushy = r#"{"error": {"code": "Base.1.0.GeneralError",
            "message": "Power state Nmi is not supported",
            "@Message.ExtendedInfo": [{"MessageId": "Base.1.0.GeneralError"}]}}"#;
        assert_eq!(error_reason(sushy), "Power state Nmi is not supported");
        let extended = r#"{"error": {"message": "See ExtendedInfo",
            "@Message.ExtendedInfo": [{"Message": "The value Floppy is not allowed."},
                                      {"Message": "See ExtendedInfo"}]}}"#;
        assert_eq!(
            error_reason(extended),
            "See ExtendedInfo; The value Floppy is not allowed."
        );
        assert_eq!(error_reason("\n  plain failure \nmore"), "plain failure");
        assert_eq!(error_reason("<!doctype html>\n<p>no</p>"), "");
        assert_eq!(error_reason(""), "");
        let long = format!(r#"{{"error": {{"message": "{}"}}}}"#, "x".repeat(1000));
        assert!(error_reason(&long).len() < REASON_LIMIT + 10);
    }

    #[test]
    fn redfish_status_errors() {
        let e = status_error(
            "10.0.0.5",
            &Method::GET,
            "/redfish/v1/Systems",
            StatusCode::UNAUTHORIZED,
            "",
            "root",
        );
        assert_eq!(e.kind, ObmErrorKind::Auth);
        assert!(
            e.message
                .contains("refused the credentials for user \"root\""),
            "{}",
            e.message
        );
        let e = status_error(
            "10.0.0.5",
            &Method::GET,
            "/x",
            StatusCode::FORBIDDEN,
            "",
            "root",
        );
        assert_eq!(e.kind, ObmErrorKind::Auth);
        let body = r#"{"error": {"message": "Power state Nmi is not supported"}}"#;
        let e = status_error(
            "10.0.0.5",
            &Method::POST,
            "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset",
            StatusCode::NOT_IMPLEMENTED,
            body,
            "root",
        );
        assert_eq!(e.kind, ObmErrorKind::Rejected);
        assert_eq!(
            e.message,
            "the BMC 10.0.0.5 answered POST /redfish/v1/Systems/1/Actions/ComputerSystem.Reset \
             with HTTP 501 Not Implemented: Power state Nmi is not supported"
        );
    }

    #[test]
    fn redfish_handles_need_no_io_and_keep_secrets() {
        let options = ObmOptions::default();
        let good = spec(json!({"host": "https://bmc.invalid", "user": "root",
                               "password": "hunter2", "verify_tls": false}));
        assert!(RedfishObm.bmc(&good, &options).is_ok());
        let with_system = spec(json!({"host": "bmc.invalid", "user": "root",
                                      "password": "hunter2", "system": "1"}));
        let bmc = RedfishBmc::new(&with_system, &options).unwrap();
        assert_eq!(
            bmc.system.get().map(String::as_str),
            Some("/redfish/v1/Systems/1")
        );
        assert!(!bmc.has_console());

        let bad = spec(json!({"host": "gopher://hunter2", "user": "root",
                              "password": "hunter2"}));
        let e = RedfishObm.bmc(&bad, &options).err().unwrap();
        assert_eq!(e.kind, ObmErrorKind::Rejected);
        assert!(e.message.contains("node-7"), "{}", e.message);
        assert!(!e.message.contains("hunter2"), "{}", e.message);

        let scrubbed = bmc.scrub(rejected("BMC said hunter2 is wrong"));
        assert_eq!(scrubbed.message, "BMC said ******** is wrong");
    }
}
