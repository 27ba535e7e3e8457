//! Out-of-band management calls (hil-api.md §4.3): enabling a node's OBM, power, boot
//! device, power status and the serial console, plus the admin calls that show and change a
//! node's OBM details.
//!
//! Nodes registered with HIL v0.4's `obmd` form get HIL's 307 redirects to their obmd. Nodes
//! registered with an `obm` driver are served here: the operation checks and authorizes, then
//! hands the request to the OBM service and waits for the BMC's answer.

use std::convert::Infallible;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::StreamExt;
use hil_drivers::obm::{public_members, BootDevice, PowerState};
use hil_types::{ObmDetails, ObmInfo};
use serde_json::{Map, Value};

use super::{node, require_access, require_admin, Ctx};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::obm::{Audience, BmcRequest, DriverNode};
use crate::store::{self, nodes::Node, obm::ObmRegistration};

/// What an OBM call answers.
pub enum ObmAnswer<T> {
    /// HIL v0.4: the client re-sends its request to the node's obmd (307).
    Redirect(String),
    Served(T),
}

/// A node's serial console for one viewer.
pub type ConsoleStream = BoxStream<'static, Result<Bytes, Infallible>>;

/// Checks `obm`/`obmd` of `node_register` and `node_set_obm` (before authentication, like
/// the rest of HIL's schema): exactly one of them, an http(s) obmd uri, a known OBM type with
/// the members its driver wants.
pub fn validate_details(ctx: &Ctx, details: &ObmDetails) -> ApiResult<ObmRegistration> {
    match (&details.obm, &details.obmd) {
        (Some(obm), None) => {
            let (type_uri, members) = ctx.obm.validate(obm)?;
            Ok(ObmRegistration::Driver {
                type_uri,
                config: Value::Object(members).to_string(),
            })
        }
        (None, Some(obmd)) => {
            let scheme_ok = url::Url::parse(&obmd.uri)
                .map(|u| matches!(u.scheme(), "http" | "https"))
                .unwrap_or(false);
            if !scheme_ok {
                return Err(ApiError::invalid_args());
            }
            Ok(ObmRegistration::Obmd {
                uri: obmd.uri.clone(),
                admin_token: obmd.admin_token.clone(),
            })
        }
        _ => Err(ApiError::Validation(
            "Give exactly one of \"obm\" and \"obmd\".".into(),
        )),
    }
}

fn driver_node(node: &Node, type_uri: String, config: &str) -> ApiResult<DriverNode> {
    let config: Map<String, Value> = serde_json::from_str(config)
        .map_err(|e| ApiError::Internal(format!("stored OBM config of {}: {e}", node.label)))?;
    Ok(DriverNode {
        id: node.id,
        label: node.label.clone(),
        type_uri,
        config,
    })
}

/// The checks every OBM call shares (404 node → 401 project(node.project) → 409 disabled),
/// then where the call goes: the node's driver here, or (`Err`) the URL on the node's obmd
/// that HIL redirects the call at obmd path `suffix` to.
async fn destination(
    ctx: &Ctx,
    caller: &Caller,
    label: &str,
    suffix: &str,
) -> ApiResult<Result<DriverNode, String>> {
    let mut tx = ctx.store.read().await?;
    let n = node(&mut tx, label).await?;
    require_access(&mut tx, caller, n.project_id).await?;
    let obm = store::obm::get(&mut tx, n.id).await?;
    if !obm.enabled {
        return Err(ApiError::Blocked("OBM is not enabled".into()));
    }
    match obm.registration {
        // The token goes in verbatim, as HIL does; obmd mints hex tokens.
        ObmRegistration::Obmd { uri, .. } => Ok(Err(format!(
            "{uri}{suffix}?token={}",
            obm.obmd_token.unwrap_or_default()
        ))),
        ObmRegistration::Driver { type_uri, config } => Ok(Ok(driver_node(&n, type_uri, &config)?)),
    }
}

/// `PUT /node/<node>/obm`.
pub async fn node_enable_disable_obm(
    ctx: &Ctx,
    caller: &Caller,
    label: &str,
    enabled: bool,
) -> ApiResult<()> {
    let (n, obm) = {
        let mut tx = ctx.store.read().await?;
        let n = node(&mut tx, label).await?;
        require_access(&mut tx, caller, n.project_id).await?;
        let obm = store::obm::get(&mut tx, n.id).await?;
        (n, obm)
    };
    match obm.registration {
        ObmRegistration::Obmd { uri, admin_token } => {
            // HIL's order: obmd first, then the database. Both steps can be repeated, so a
            // failure in between is repaired by calling again.
            let token = if enabled {
                Some(ctx.obm.obmd_mint_token(&uri, &admin_token).await?)
            } else {
                ctx.obm.obmd_revoke_token(&uri, &admin_token).await?;
                None
            };
            let token = token.as_deref();
            ctx.store
                .retrying(|| async move {
                    let mut tx = ctx.store.begin().await?;
                    store::obm::set_obmd_token(&mut tx, n.id, token).await?;
                    tx.commit().await
                })
                .await?;
        }
        ObmRegistration::Driver { type_uri, config } => {
            // Checked again in the write: the node may have been deleted or moved meanwhile.
            ctx.store
                .retrying(|| async move {
                    let mut tx = ctx.store.begin().await?;
                    let current = node(&mut tx, label).await?;
                    require_access(&mut tx, caller, current.project_id).await?;
                    store::obm::set_enabled(&mut tx, current.id, enabled).await?;
                    tx.commit().await
                })
                .await?;
            if enabled {
                ctx.obm.start_console(&driver_node(&n, type_uri, &config)?);
            } else {
                ctx.obm.consoles.stop(n.id, &n.label).await;
            }
        }
    }
    tracing::info!(node = %label, enabled, "OBM {}", if enabled { "enabled" } else { "disabled" });
    Ok(())
}

/// Who reads a BMC failure's message.
fn audience(caller: &Caller) -> Audience {
    if caller.is_admin {
        Audience::Admin
    } else {
        Audience::Tenant
    }
}

/// `power_on`, `power_off` and `power_cycle`: `suffix` is the obmd path of the call.
pub async fn node_power(
    ctx: &Ctx,
    caller: &Caller,
    label: &str,
    request: BmcRequest,
    suffix: &str,
) -> ApiResult<ObmAnswer<()>> {
    let n = match destination(ctx, caller, label, suffix).await? {
        Ok(n) => n,
        Err(url) => return Ok(ObmAnswer::Redirect(url)),
    };
    ctx.obm.execute(&n, request, audience(caller)).await?;
    Ok(ObmAnswer::Served(()))
}

/// `GET /node/<node>/power_status`: `"on"` or `"off"`.
pub async fn node_power_status(
    ctx: &Ctx,
    caller: &Caller,
    label: &str,
) -> ApiResult<ObmAnswer<PowerState>> {
    let n = match destination(ctx, caller, label, "/power_status").await? {
        Ok(n) => n,
        Err(url) => return Ok(ObmAnswer::Redirect(url)),
    };
    let state = ctx
        .obm
        .execute(&n, BmcRequest::PowerStatus, audience(caller))
        .await?;
    let state = state.ok_or_else(|| ApiError::Internal("no power state".into()))?;
    Ok(ObmAnswer::Served(state))
}

/// `PUT /node/<node>/boot_device`. obmd validates `bootdev` itself; our drivers take HIL's
/// `pxe`, `disk` and `none`.
pub async fn node_set_bootdev(
    ctx: &Ctx,
    caller: &Caller,
    label: &str,
    bootdev: &str,
) -> ApiResult<ObmAnswer<()>> {
    let n = match destination(ctx, caller, label, "/boot_device").await? {
        Ok(n) => n,
        Err(url) => return Ok(ObmAnswer::Redirect(url)),
    };
    let device = BootDevice::parse(bootdev).ok_or_else(|| {
        ApiError::BadArgument(format!(
            "Invalid boot device {bootdev:?}: use pxe, disk or none."
        ))
    })?;
    ctx.obm
        .execute(&n, BmcRequest::SetBootdev(device), audience(caller))
        .await?;
    Ok(ObmAnswer::Served(()))
}

/// `GET /node/<node>/console`: the buffered tail, then live output, until another viewer
/// takes over or the OBM is disabled.
pub async fn show_console(
    ctx: &Ctx,
    caller: &Caller,
    label: &str,
) -> ApiResult<ObmAnswer<ConsoleStream>> {
    let n = match destination(ctx, caller, label, "/console").await? {
        Ok(n) => n,
        Err(url) => return Ok(ObmAnswer::Redirect(url)),
    };
    if !ctx.obm.consoles.enabled() {
        return Err(ApiError::Blocked(
            "This server keeps no consoles (obm.console = false, or it runs without the \
             worker); ask the server that runs the worker."
                .into(),
        ));
    }
    // After a restart, or when the session was started elsewhere, start keeping it now.
    ctx.obm.start_console(&n);
    match ctx.obm.consoles.view(n.id) {
        Some(stream) => Ok(ObmAnswer::Served(stream.boxed())),
        None => Err(ApiError::Blocked(format!(
            "The BMC of node {} has no serial console.",
            n.label
        ))),
    }
}

/// `PUT /node/<node>/obm_details` (admin): replaces how HIL reaches the node's BMC. The OBM
/// must be disabled first, so no console session runs with old credentials.
pub async fn node_set_obm(
    ctx: &Ctx,
    caller: &Caller,
    label: &str,
    registration: &ObmRegistration,
) -> ApiResult<()> {
    require_admin(caller)?;
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let n = node(&mut tx, label).await?;
            if n.obm_enabled {
                return Err(ApiError::Blocked(
                    "The node's OBM is enabled; disable it before changing its details.".into(),
                ));
            }
            store::obm::set_registration(&mut tx, n.id, registration).await?;
            tx.commit().await
        })
        .await
}

/// `GET /node/<node>/obm_details` (admin): the OBM type, whether it is enabled, and its
/// members without passwords or tokens.
pub async fn show_obm(ctx: &Ctx, caller: &Caller, label: &str) -> ApiResult<ObmInfo> {
    require_admin(caller)?;
    let mut tx = ctx.store.read().await?;
    let n = node(&mut tx, label).await?;
    let obm = store::obm::get(&mut tx, n.id).await?;
    let (obm_type, members) = match obm.registration {
        ObmRegistration::Obmd { uri, .. } => {
            let mut members = Map::new();
            members.insert("uri".into(), Value::String(uri));
            ("obmd".to_string(), members)
        }
        ObmRegistration::Driver { type_uri, config } => {
            let config = driver_node(&n, type_uri.clone(), &config)?.config;
            (type_uri, public_members(&config))
        }
    };
    Ok(ObmInfo {
        obm_type,
        enabled: obm.enabled,
        members,
    })
}

/// Powers a node off as it leaves its project (`release.power_off`). obmd nodes cannot be
/// reached without a token, which a released node no longer has; they are skipped.
pub async fn power_off_for_release(ctx: &Ctx, caller: &Caller, n: &Node) -> ApiResult<()> {
    let registration = {
        let mut tx = ctx.store.read().await?;
        store::obm::get(&mut tx, n.id).await?.registration
    };
    if let ObmRegistration::Driver { type_uri, config } = registration {
        let node = driver_node(n, type_uri, &config)?;
        ctx.obm
            .execute(&node, BmcRequest::PowerOff, audience(caller))
            .await?;
        tracing::info!(node = %n.label, "powered off on release");
    }
    Ok(())
}
