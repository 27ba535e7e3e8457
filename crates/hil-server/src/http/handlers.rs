//! One handler per API call: validate the arguments, authenticate, run the operation, answer.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hil_types::*;
use serde::Deserialize;

use super::call::{empty, json, Call, NoArgs};
use crate::error::{ApiError, ApiResult};
use crate::obm::BmcRequest;
use crate::ops::obm::ObmAnswer;
use crate::ops::{self, Ctx};

type S = State<Arc<Ctx>>;

// ---- headnodes ----

pub async fn headnode_create(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: HeadnodeCreate = call.args()?;
    let caller = call.caller(&ctx).await?;
    let label = call.param("headnode");
    ops::headnodes::headnode_create(&ctx, &caller, label, &args.project, &args.base_img).await?;
    Ok(empty())
}

pub async fn headnode_delete(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::headnodes::headnode_delete(&ctx, &caller, call.param("headnode")).await?;
    Ok(empty())
}

pub async fn headnode_start(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::headnodes::headnode_start(&ctx, &caller, call.param("headnode")).await?;
    Ok(empty())
}

pub async fn headnode_stop(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::headnodes::headnode_stop(&ctx, &caller, call.param("headnode")).await?;
    Ok(empty())
}

pub async fn headnode_create_hnic(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    let (headnode, hnic) = (call.param("headnode"), call.param("hnic"));
    ops::headnodes::headnode_create_hnic(&ctx, &caller, headnode, hnic).await?;
    Ok(empty())
}

pub async fn headnode_delete_hnic(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    let (headnode, hnic) = (call.param("headnode"), call.param("hnic"));
    ops::headnodes::headnode_delete_hnic(&ctx, &caller, headnode, hnic).await?;
    Ok(empty())
}

pub async fn headnode_connect_network(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: NetworkRef = call.args()?;
    let caller = call.caller(&ctx).await?;
    let (headnode, hnic) = (call.param("headnode"), call.param("hnic"));
    ops::headnodes::headnode_connect_network(&ctx, &caller, headnode, hnic, &args.network).await?;
    Ok(empty())
}

pub async fn headnode_detach_network(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    let (headnode, hnic) = (call.param("headnode"), call.param("hnic"));
    ops::headnodes::headnode_detach_network(&ctx, &caller, headnode, hnic).await?;
    Ok(empty())
}

pub async fn show_headnode(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(
        ops::headnodes::show_headnode(&ctx, &caller, call.param("headnode")).await?,
    ))
}

pub async fn list_project_headnodes(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(
        ops::headnodes::list_project_headnodes(&ctx, &caller, call.param("project")).await?,
    ))
}

pub async fn list_headnode_images(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    // Any authenticated caller may list images (HIL never asked for credentials here).
    let _caller = call.caller(&ctx).await?;
    Ok(json(ops::headnodes::list_headnode_images(&ctx)))
}

// ---- out-of-band management ----

/// An OBM call's answer: HIL's 307 to the node's obmd, or ours.
fn obm_answer<T>(answer: ObmAnswer<T>, served: impl FnOnce(T) -> Response) -> Response {
    match answer {
        ObmAnswer::Redirect(url) => Redirect::temporary(&url).into_response(),
        ObmAnswer::Served(value) => served(value),
    }
}

pub async fn node_enable_disable_obm(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: ObmEnable = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::obm::node_enable_disable_obm(&ctx, &caller, call.param("node"), args.enabled).await?;
    Ok(empty())
}

async fn node_power(
    ctx: &Ctx,
    call: Call,
    request: BmcRequest,
    suffix: &str,
) -> ApiResult<Response> {
    let caller = call.caller(ctx).await?;
    let answer = ops::obm::node_power(ctx, &caller, call.param("node"), request, suffix).await?;
    Ok(obm_answer(answer, |()| empty()))
}

pub async fn node_power_cycle(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: PowerCycle = call.args()?;
    let force = args.force.unwrap_or(false);
    node_power(&ctx, call, BmcRequest::PowerCycle { force }, "/power_cycle").await
}

pub async fn node_power_on(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    node_power(&ctx, call, BmcRequest::PowerOn, "/power_on").await
}

pub async fn node_power_off(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    node_power(&ctx, call, BmcRequest::PowerOff, "/power_off").await
}

pub async fn node_power_status(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    let answer = ops::obm::node_power_status(&ctx, &caller, call.param("node")).await?;
    Ok(obm_answer(answer, |state| {
        json(PowerStatus {
            power_status: state.as_str().into(),
        })
    }))
}

pub async fn node_set_bootdev(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: BootDevice = call.args()?;
    let caller = call.caller(&ctx).await?;
    let answer =
        ops::obm::node_set_bootdev(&ctx, &caller, call.param("node"), &args.bootdev).await?;
    Ok(obm_answer(answer, |()| empty()))
}

pub async fn show_console(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    let answer = ops::obm::show_console(&ctx, &caller, call.param("node")).await?;
    Ok(obm_answer(answer, |stream| {
        (
            [(header::CONTENT_TYPE, "application/octet-stream")],
            Body::from_stream(stream),
        )
            .into_response()
    }))
}

pub async fn node_set_obm(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: ObmDetails = call.args()?;
    let registration = ops::obm::validate_details(&ctx, &args)?;
    let caller = call.caller(&ctx).await?;
    ops::obm::node_set_obm(&ctx, &caller, call.param("node"), &registration).await?;
    Ok(empty())
}

pub async fn show_obm(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(
        ops::obm::show_obm(&ctx, &caller, call.param("node")).await?,
    ))
}

// ---- projects ----

pub async fn list_projects(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(ops::projects::list_projects(&ctx, &caller).await?))
}

pub async fn project_create(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::projects::project_create(&ctx, &caller, call.param("project")).await?;
    Ok(empty())
}

pub async fn project_delete(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::projects::project_delete(&ctx, &caller, call.param("project")).await?;
    Ok(empty())
}

pub async fn project_connect_node(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: NodeRef = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::projects::project_connect_node(&ctx, &caller, call.param("project"), &args.node).await?;
    Ok(empty())
}

pub async fn project_detach_node(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: NodeRef = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::projects::project_detach_node(&ctx, &caller, call.param("project"), &args.node).await?;
    Ok(empty())
}

pub async fn list_project_nodes(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(
        ops::projects::list_project_nodes(&ctx, &caller, call.param("project")).await?,
    ))
}

pub async fn list_project_networks(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(
        ops::projects::list_project_networks(&ctx, &caller, call.param("project")).await?,
    ))
}

// ---- nodes ----

pub async fn node_register(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: NodeRegister = call.args()?;
    ops::nodes::validate_node_register(&ctx, &args)?;
    let caller = call.caller(&ctx).await?;
    ops::nodes::node_register(&ctx, &caller, call.param("node"), &args).await?;
    Ok(empty())
}

pub async fn node_delete(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::nodes::node_delete(&ctx, &caller, call.param("node")).await?;
    Ok(empty())
}

pub async fn list_nodes(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(
        ops::nodes::list_nodes(&ctx, &caller, call.param("is_free")).await?,
    ))
}

pub async fn show_node(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(
        ops::nodes::show_node(&ctx, &caller, call.param("node")).await?,
    ))
}

pub async fn node_register_nic(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: NicRegister = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::nodes::node_register_nic(
        &ctx,
        &caller,
        call.param("node"),
        call.param("nic"),
        &args.macaddr,
    )
    .await?;
    Ok(empty())
}

pub async fn node_delete_nic(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::nodes::node_delete_nic(&ctx, &caller, call.param("node"), call.param("nic")).await?;
    Ok(empty())
}

pub async fn node_set_metadata(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: MetadataSet = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::nodes::node_set_metadata(
        &ctx,
        &caller,
        call.param("node"),
        call.param("label"),
        &args.value,
    )
    .await?;
    Ok(empty())
}

pub async fn node_delete_metadata(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::nodes::node_delete_metadata(&ctx, &caller, call.param("node"), call.param("label"))
        .await?;
    Ok(empty())
}

fn accepted(status_id: String) -> Response {
    (StatusCode::ACCEPTED, axum::Json(StatusId { status_id })).into_response()
}

pub async fn node_connect_network(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: ConnectNetwork = call.args()?;
    let caller = call.caller(&ctx).await?;
    let id = ops::nodes::node_connect_network(
        &ctx,
        &caller,
        call.param("node"),
        call.param("nic"),
        &args.network,
        args.channel.as_deref(),
    )
    .await?;
    Ok(accepted(id))
}

pub async fn node_detach_network(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: NetworkRef = call.args()?;
    let caller = call.caller(&ctx).await?;
    let id = ops::nodes::node_detach_network(
        &ctx,
        &caller,
        call.param("node"),
        call.param("nic"),
        &args.network,
    )
    .await?;
    Ok(accepted(id))
}

pub async fn show_networking_action(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(
        ops::actions::show_networking_action(&ctx, &caller, call.param("status_id")).await?,
    ))
}

// ---- networks ----

pub async fn network_create(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: NetworkCreate = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::networks::network_create(&ctx, &caller, call.param("network"), &args).await?;
    Ok(empty())
}

pub async fn network_delete(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::networks::network_delete(&ctx, &caller, call.param("network")).await?;
    Ok(empty())
}

pub async fn show_network(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(
        ops::networks::show_network(&ctx, &caller, call.param("network")).await?,
    ))
}

pub async fn list_networks(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(ops::networks::list_networks(&ctx, &caller).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentsQuery {
    project: Option<String>,
}

pub async fn list_network_attachments(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: AttachmentsQuery = call.args()?;
    let caller = call.caller(&ctx).await?;
    let list = ops::networks::list_network_attachments(
        &ctx,
        &caller,
        call.param("network"),
        args.project.as_deref(),
    )
    .await?;
    Ok(json(list))
}

pub async fn network_grant_project_access(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::networks::network_grant_project_access(
        &ctx,
        &caller,
        call.param("network"),
        call.param("project"),
    )
    .await?;
    Ok(empty())
}

pub async fn network_revoke_project_access(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::networks::network_revoke_project_access(
        &ctx,
        &caller,
        call.param("network"),
        call.param("project"),
    )
    .await?;
    Ok(empty())
}

// ---- switches and ports ----

pub async fn switch_register(State(ctx): S, call: Call) -> ApiResult<Response> {
    let (switch_type, members) = ops::switches::split_switch_type(call.open_args()?)?;
    let caller = call.caller(&ctx).await?;
    ops::switches::switch_register(&ctx, &caller, call.param("switch"), &switch_type, &members)
        .await?;
    Ok(empty())
}

pub async fn switch_delete(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::switches::switch_delete(&ctx, &caller, call.param("switch")).await?;
    Ok(empty())
}

pub async fn list_switches(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(ops::switches::list_switches(&ctx, &caller).await?))
}

pub async fn show_switch(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(
        ops::switches::show_switch(&ctx, &caller, call.param("switch")).await?,
    ))
}

pub async fn switch_register_port(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::switches::switch_register_port(&ctx, &caller, call.param("switch"), call.param("port"))
        .await?;
    Ok(empty())
}

pub async fn switch_delete_port(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::switches::switch_delete_port(&ctx, &caller, call.param("switch"), call.param("port"))
        .await?;
    Ok(empty())
}

pub async fn show_port(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(
        match ops::switches::show_port(&ctx, &caller, call.param("switch"), call.param("port"))
            .await?
        {
            Some(info) => json(info),
            None => json(serde_json::json!({})),
        },
    )
}

// ---- drift audits (extensions, admin-only) ----

pub async fn request_audit(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    let info = ops::audit::request_audit(&ctx, &caller, call.param("switch")).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(info)).into_response())
}

pub async fn show_audit(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(
        ops::audit::show_audit(&ctx, &caller, call.param("switch")).await?,
    ))
}

pub async fn list_audits(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(ops::audit::list_audits(&ctx, &caller).await?))
}

/// `GET /audit_log?user=&object=&since=&until=&limit=`.
pub async fn audit_log(State(ctx): S, call: Call) -> ApiResult<Response> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Args {
        user: Option<String>,
        object: Option<String>,
        since: Option<String>,
        until: Option<String>,
        limit: Option<String>,
    }
    let a: Args = call.args()?;
    let caller = call.caller(&ctx).await?;
    let query = ops::audit_log::Query {
        user: a.user,
        object: a.object,
        since: a.since,
        until: a.until,
        limit: a.limit,
    };
    Ok(json(ops::audit_log::search(&ctx, &caller, &query).await?))
}

/// `GET /drift` and `GET /switch/<s>/drift`: drift that lasts.
pub async fn list_drift(state: S, call: Call) -> ApiResult<Response> {
    drift(state, call, false).await
}

/// `GET /drift/all` and `GET /switch/<s>/drift/all`: repaired drift too.
pub async fn list_all_drift(state: S, call: Call) -> ApiResult<Response> {
    drift(state, call, true).await
}

async fn drift(State(ctx): S, call: Call, include_repaired: bool) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    let switch = Some(call.param("switch")).filter(|s| !s.is_empty());
    Ok(json(
        ops::audit::list_drift(&ctx, &caller, switch, include_repaired).await?,
    ))
}

/// `POST /switch/<s>/port/<port...>/<action>`: the last segment picks the call, the rest is
/// the port name (port names contain `/`).
pub async fn port_action(State(ctx): S, call: Call) -> ApiResult<Response> {
    let full = call.param("port");
    let Some((port, action)) = full.rsplit_once('/') else {
        return Err(ApiError::MethodNotAllowed(
            "This route does not accept that HTTP method.".into(),
        ));
    };
    let switch = call.param("switch");
    match action {
        "connect_nic" => {
            let args: PortConnectNic = call.args()?;
            let caller = call.caller(&ctx).await?;
            ops::switches::port_connect_nic(&ctx, &caller, switch, port, &args.node, &args.nic)
                .await?;
            Ok(empty())
        }
        "detach_nic" => {
            let NoArgs {} = call.args()?;
            let caller = call.caller(&ctx).await?;
            ops::switches::port_detach_nic(&ctx, &caller, switch, port).await?;
            Ok(empty())
        }
        "revert" => {
            let NoArgs {} = call.args()?;
            let caller = call.caller(&ctx).await?;
            let status_id = ops::switches::port_revert(&ctx, &caller, switch, port).await?;
            Ok(json(StatusId { status_id }))
        }
        _ => Err(ApiError::MethodNotAllowed(
            "This route does not accept that HTTP method.".into(),
        )),
    }
}

// ---- extensions and users ----

pub async fn list_active_extensions(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(ops::extensions::list_active_extensions(
        &ctx, &caller,
    )?))
}

pub async fn list_users(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(ops::users::list_users(&ctx, &caller).await?))
}

pub async fn user_create(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: UserCreate = call.args()?;
    let caller = call.caller(&ctx).await?;
    let is_admin = args.is_admin.unwrap_or(false);
    ops::users::user_create(&ctx, &caller, call.param("user"), &args.password, is_admin).await?;
    Ok(empty())
}

pub async fn user_delete(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::users::user_delete(&ctx, &caller, call.param("user")).await?;
    Ok(empty())
}

pub async fn user_set_admin(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: UserSetAdmin = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::users::user_set_admin(&ctx, &caller, call.param("user"), args.is_admin).await?;
    Ok(empty())
}

pub async fn user_add_project(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: ProjectRef = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::users::user_add_project(&ctx, &caller, call.param("user"), &args.project).await?;
    Ok(empty())
}

pub async fn user_remove_project(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: ProjectRef = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::users::user_remove_project(&ctx, &caller, call.param("user"), &args.project).await?;
    Ok(empty())
}

pub async fn whoami(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(ops::whoami::whoami(&ctx, &caller).await?))
}

pub async fn list_networking_actions(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(
        ops::actions::list_networking_actions(&ctx, &caller).await?,
    ))
}
