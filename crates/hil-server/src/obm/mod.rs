//! The OBM service: runs the BMC requests operations hand it, and keeps serial consoles.
//!
//! HIL's power and boot calls answer only once the BMC has (a client scripts `power_off`, then
//! `set_bootdev`, then `power_on`), so the queue here is in memory: an operation submits a
//! request and awaits its outcome. Each request runs in its own task, one at a time per node,
//! bounded by `obm.command_timeout_secs`; a slow or dead BMC holds up nothing but its node.
//! Drivers come from `hil_drivers::obm` and never see the database.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hil_drivers::obm::{
    self, obmd::ObmdNode, Bmc, BootDevice, ObmDriver, ObmError, ObmOptions, ObmSpec, PowerState,
};
use serde_json::{Map, Value};

use crate::config::ObmConfig;
use crate::error::{ApiError, ApiResult};
use crate::keyed_lock::KeyedLocks;
use crate::metrics::Metrics;

pub mod console;
use console::ConsoleHub;

/// One BMC request.
#[derive(Debug, Clone, Copy)]
pub enum BmcRequest {
    PowerOn,
    PowerOff,
    PowerCycle { force: bool },
    PowerStatus,
    SetBootdev(BootDevice),
}

impl BmcRequest {
    fn name(self) -> &'static str {
        match self {
            BmcRequest::PowerOn => "power on",
            BmcRequest::PowerOff => "power off",
            BmcRequest::PowerCycle { .. } => "power cycle",
            BmcRequest::PowerStatus => "power status",
            BmcRequest::SetBootdev(_) => "set boot device",
        }
    }

    /// The `call` label of `hil_obm_call_duration_seconds`.
    fn metric_name(self) -> &'static str {
        match self {
            BmcRequest::PowerOn => "power_on",
            BmcRequest::PowerOff => "power_off",
            BmcRequest::PowerCycle { .. } => "power_cycle",
            BmcRequest::PowerStatus => "power_status",
            BmcRequest::SetBootdev(_) => "set_bootdev",
        }
    }
}

/// Who reads a failed request's error. Administrators get the BMC's own words; tenants only the
/// kind of failure, because the BMC's address, user and URLs belong to the data centre, not to
/// them. The log always has the whole story.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Admin,
    Tenant,
}

/// A node whose OBM is one of our drivers, as operations hand it over.
#[derive(Clone)]
pub struct DriverNode {
    pub id: i64,
    pub label: String,
    pub type_uri: String,
    /// The driver's members, secrets included.
    pub config: Map<String, Value>,
}

pub struct ObmService {
    /// Enabled drivers by type URI.
    drivers: BTreeMap<&'static str, Arc<dyn ObmDriver>>,
    options: ObmOptions,
    http: reqwest::Client,
    /// Serialises requests per node: BMCs handle one session poorly, two worse.
    node_locks: KeyedLocks<i64>,
    pub consoles: ConsoleHub,
    metrics: Arc<Metrics>,
}

impl ObmService {
    pub fn new(config: &ObmConfig, http: reqwest::Client, metrics: Arc<Metrics>) -> ObmService {
        let drivers = obm::all_drivers()
            .into_iter()
            .filter(|d| config.enabled.iter().any(|n| n == d.name()))
            .map(|d| (d.type_uri(), d))
            .collect();
        ObmService {
            drivers,
            options: config.driver_options(),
            http,
            node_locks: KeyedLocks::default(),
            consoles: ConsoleHub::new(config),
            metrics,
        }
    }

    /// Checks an `obm` registration: a known, enabled `type` and the driver's members.
    /// Returns the type URI and the members without `type`.
    pub fn validate(&self, obm: &Map<String, Value>) -> ApiResult<(String, Map<String, Value>)> {
        let Some(type_uri) = obm.get("type").and_then(Value::as_str) else {
            return Err(ApiError::Validation(
                "OBM member \"type\" is missing or not a string".into(),
            ));
        };
        let driver = self.drivers.get(type_uri).ok_or_else(|| {
            ApiError::BadArgument(format!("'{type_uri}' is not a valid OBM type."))
        })?;
        let mut members = obm.clone();
        members.remove("type");
        driver.validate(&members).map_err(ApiError::Validation)?;
        Ok((type_uri.to_string(), members))
    }

    fn bmc(&self, node: &DriverNode, audience: Audience) -> ApiResult<Arc<dyn Bmc>> {
        let driver = self.drivers.get(node.type_uri.as_str()).ok_or_else(|| {
            ApiError::Obm(format!(
                "OBM type {} of node {} is not enabled on this server (obm.enabled)",
                node.type_uri, node.label
            ))
        })?;
        let spec = ObmSpec {
            node: node.label.clone(),
            config: node.config.clone(),
        };
        driver
            .bmc(&spec, &self.options)
            .map_err(|e| obm_error(node, "connect", e, audience))
    }

    /// Runs `request` on the node's BMC and waits for the outcome. The request runs in its
    /// own task, so it finishes even if the caller goes away.
    pub async fn execute(
        &self,
        node: &DriverNode,
        request: BmcRequest,
        audience: Audience,
    ) -> ApiResult<Option<PowerState>> {
        let bmc = self.bmc(node, audience)?;
        let kind = self.driver_name(node);
        let metrics = self.metrics.clone();
        let lock = self.node_locks.of(&node.id);
        let limit = self.options.command_timeout;
        let label = node.label.clone();
        let task = tokio::spawn(async move {
            let _turn = tokio::time::timeout(limit, lock.lock_owned())
                .await
                .map_err(|_| {
                    ObmError::new(
                        obm::ObmErrorKind::Timeout,
                        format!("the BMC of node {label} is busy with another request"),
                    )
                })?;
            // A power cycle may take two BMC calls (cycle, then power on).
            let started = Instant::now();
            let outcome =
                tokio::time::timeout(2 * limit + Duration::from_secs(1), run(&*bmc, request))
                    .await
                    .unwrap_or_else(|_| Err(ObmError::timeout("the BMC", limit)));
            metrics
                .obm_calls
                .observe(&[kind, request.metric_name()], started.elapsed());
            outcome
        });
        let outcome = task
            .await
            .map_err(|e| ApiError::Internal(format!("BMC task failed: {e}")))?;
        match outcome {
            Ok(state) => {
                tracing::info!(node = %node.label, request = request.name(), "BMC request done");
                Ok(state)
            }
            Err(e) => Err(obm_error(node, request.name(), e, audience)),
        }
    }

    /// The driver's name (`ipmi`, `redfish`, ...), the `kind` label of BMC call metrics.
    fn driver_name(&self, node: &DriverNode) -> &'static str {
        self.drivers
            .get(node.type_uri.as_str())
            .map_or("unknown", |d| d.name())
    }

    /// Starts the node's serial console session, if its BMC has one and consoles are on.
    pub fn start_console(&self, node: &DriverNode) {
        match self.bmc(node, Audience::Admin) {
            Ok(bmc) if bmc.has_console() => self.consoles.start(node.id, &node.label, bmc),
            Ok(_) => {}
            Err(e) => tracing::warn!(node = %node.label, "console not started: {e}"),
        }
    }

    /// `POST <uri>/token` on the node's obmd.
    pub async fn obmd_mint_token(&self, uri: &str, admin_token: &str) -> ApiResult<String> {
        let node = ObmdNode { uri, admin_token };
        let started = Instant::now();
        let minted = node
            .mint_token(&self.http, self.options.command_timeout)
            .await;
        self.metrics
            .obm_calls
            .observe(&["obmd", "mint_token"], started.elapsed());
        minted.map_err(|e| ApiError::Obm(e.message))
    }

    /// `DELETE <uri>/token` on the node's obmd.
    pub async fn obmd_revoke_token(&self, uri: &str, admin_token: &str) -> ApiResult<()> {
        let node = ObmdNode { uri, admin_token };
        let started = Instant::now();
        let revoked = node
            .revoke_token(&self.http, self.options.command_timeout)
            .await;
        self.metrics
            .obm_calls
            .observe(&["obmd", "revoke_token"], started.elapsed());
        revoked.map_err(|e| ApiError::Obm(e.message))
    }
}

/// One request against one BMC; `power status` answers the state it read.
async fn run(bmc: &dyn Bmc, request: BmcRequest) -> Result<Option<PowerState>, ObmError> {
    match request {
        BmcRequest::PowerOn => bmc.power_on().await.map(|_| None),
        BmcRequest::PowerOff => bmc.power_off().await.map(|_| None),
        BmcRequest::PowerCycle { force } => bmc.power_cycle(force).await.map(|_| None),
        BmcRequest::PowerStatus => bmc.power_status().await.map(Some),
        BmcRequest::SetBootdev(device) => bmc.set_bootdev(device).await.map(|_| None),
    }
}

/// A driver error as the API reports it: what failed, on which node, and why (redacted; for
/// tenants, only the kind of failure).
fn obm_error(node: &DriverNode, what: &str, e: ObmError, audience: Audience) -> ApiError {
    let message = obm::redact_secrets(&node.config, &e.message);
    tracing::warn!(node = %node.label, request = what, "BMC request failed: {message}");
    let reason = match audience {
        Audience::Admin => message,
        Audience::Tenant => format!(
            "{}; an administrator can find the details in the server log",
            failure_kind(e.kind)
        ),
    };
    ApiError::Obm(format!("{what} of node {} failed: {reason}", node.label))
}

/// What a tenant may learn of a BMC failure.
fn failure_kind(kind: obm::ObmErrorKind) -> &'static str {
    use obm::ObmErrorKind as K;
    match kind {
        K::Rejected => "the BMC refused the request",
        K::Unreachable => "the BMC could not be reached",
        K::Timeout => "the BMC did not answer in time",
        K::Auth => "the BMC refused HIL's credentials",
        K::Unsupported => "this node's BMC cannot do that",
    }
}
