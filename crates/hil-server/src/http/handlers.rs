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

/// Create a headnode (a provisioning VM) for a project.
#[utoipa::path(
    put,
    path = "/headnode/{headnode}",
    tag = "headnodes",
    request_body = HeadnodeCreate,
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn headnode_create(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: HeadnodeCreate = call.args()?;
    let caller = call.caller(&ctx).await?;
    let label = call.param("headnode");
    ops::headnodes::headnode_create(&ctx, &caller, label, &args.project, &args.base_img).await?;
    Ok(empty())
}

/// Delete a headnode.
#[utoipa::path(
    delete,
    path = "/headnode/{headnode}",
    tag = "headnodes",
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn headnode_delete(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::headnodes::headnode_delete(&ctx, &caller, call.param("headnode")).await?;
    Ok(empty())
}

/// Start a headnode; its hnics can no longer change.
#[utoipa::path(
    post,
    path = "/headnode/{headnode}/start",
    tag = "headnodes",
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn headnode_start(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::headnodes::headnode_start(&ctx, &caller, call.param("headnode")).await?;
    Ok(empty())
}

/// Stop a headnode.
#[utoipa::path(
    post,
    path = "/headnode/{headnode}/stop",
    tag = "headnodes",
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn headnode_stop(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::headnodes::headnode_stop(&ctx, &caller, call.param("headnode")).await?;
    Ok(empty())
}

/// Add a network interface to a headnode that has never started.
#[utoipa::path(
    put,
    path = "/headnode/{headnode}/hnic/{hnic}",
    tag = "headnodes",
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn headnode_create_hnic(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    let (headnode, hnic) = (call.param("headnode"), call.param("hnic"));
    ops::headnodes::headnode_create_hnic(&ctx, &caller, headnode, hnic).await?;
    Ok(empty())
}

/// Remove a network interface from a headnode.
#[utoipa::path(
    delete,
    path = "/headnode/{headnode}/hnic/{hnic}",
    tag = "headnodes",
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn headnode_delete_hnic(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    let (headnode, hnic) = (call.param("headnode"), call.param("hnic"));
    ops::headnodes::headnode_delete_hnic(&ctx, &caller, headnode, hnic).await?;
    Ok(empty())
}

/// Connect a headnode interface to a network.
#[utoipa::path(
    post,
    path = "/headnode/{headnode}/hnic/{hnic}/connect_network",
    tag = "headnodes",
    request_body = NetworkRef,
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn headnode_connect_network(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: NetworkRef = call.args()?;
    let caller = call.caller(&ctx).await?;
    let (headnode, hnic) = (call.param("headnode"), call.param("hnic"));
    ops::headnodes::headnode_connect_network(&ctx, &caller, headnode, hnic, &args.network).await?;
    Ok(empty())
}

/// Detach a headnode interface from its network.
#[utoipa::path(
    post,
    path = "/headnode/{headnode}/hnic/{hnic}/detach_network",
    tag = "headnodes",
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn headnode_detach_network(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    let (headnode, hnic) = (call.param("headnode"), call.param("hnic"));
    ops::headnodes::headnode_detach_network(&ctx, &caller, headnode, hnic).await?;
    Ok(empty())
}

/// Show a headnode.
#[utoipa::path(
    get,
    path = "/headnode/{headnode}",
    tag = "headnodes",
    responses(
        (status = 200, description = "The headnode", body = HeadnodeInfo),
    ),
)]
pub async fn show_headnode(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(
        ops::headnodes::show_headnode(&ctx, &caller, call.param("headnode")).await?,
    ))
}

/// List a project's headnodes.
#[utoipa::path(
    get,
    path = "/project/{project}/headnodes",
    tag = "headnodes",
    responses(
        (status = 200, description = "Headnode labels", body = Vec<String>),
    ),
)]
pub async fn list_project_headnodes(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(
        ops::headnodes::list_project_headnodes(&ctx, &caller, call.param("project")).await?,
    ))
}

/// List the images headnodes can be created from.
#[utoipa::path(
    get,
    path = "/headnode_images",
    tag = "headnodes",
    responses(
        (status = 200, description = "Image names", body = Vec<String>),
    ),
)]
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

/// Enable or disable a node's out-of-band management (admin).
#[utoipa::path(
    put,
    path = "/node/{node}/obm",
    tag = "obm",
    request_body = ObmEnable,
    responses((status = 200, description = "Done; the body is empty")),
)]
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

/// Power-cycle a node (with `force`, a hard reset instead of off and on).
#[utoipa::path(
    post,
    path = "/node/{node}/power_cycle",
    tag = "obm",
    request_body = PowerCycle,
    responses(
        (status = 200, description = "Done; the body is empty"),
        (status = 307, description = "The node is managed by obmd: repeat the call at the `Location` it names"),
    ),
)]
pub async fn node_power_cycle(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: PowerCycle = call.args()?;
    let force = args.force.unwrap_or(false);
    node_power(&ctx, call, BmcRequest::PowerCycle { force }, "/power_cycle").await
}

/// Power a node on.
#[utoipa::path(
    post,
    path = "/node/{node}/power_on",
    tag = "obm",
    responses(
        (status = 200, description = "Done; the body is empty"),
        (status = 307, description = "The node is managed by obmd: repeat the call at the `Location` it names"),
    ),
)]
pub async fn node_power_on(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    node_power(&ctx, call, BmcRequest::PowerOn, "/power_on").await
}

/// Power a node off.
#[utoipa::path(
    post,
    path = "/node/{node}/power_off",
    tag = "obm",
    responses(
        (status = 200, description = "Done; the body is empty"),
        (status = 307, description = "The node is managed by obmd: repeat the call at the `Location` it names"),
    ),
)]
pub async fn node_power_off(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    node_power(&ctx, call, BmcRequest::PowerOff, "/power_off").await
}

/// A node's power state.
#[utoipa::path(
    get,
    path = "/node/{node}/power_status",
    tag = "obm",
    responses(
        (status = 200, description = "`on` or `off`", body = PowerStatus),
        (status = 307, description = "The node is managed by obmd: repeat the call at the `Location` it names"),
    ),
)]
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

/// Set a node's next boot device (`disk`, `pxe`, `none`).
#[utoipa::path(
    put,
    path = "/node/{node}/boot_device",
    tag = "obm",
    request_body = BootDevice,
    responses(
        (status = 200, description = "Done; the body is empty"),
        (status = 307, description = "The node is managed by obmd: repeat the call at the `Location` it names"),
    ),
)]
pub async fn node_set_bootdev(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: BootDevice = call.args()?;
    let caller = call.caller(&ctx).await?;
    let answer =
        ops::obm::node_set_bootdev(&ctx, &caller, call.param("node"), &args.bootdev).await?;
    Ok(obm_answer(answer, |()| empty()))
}

/// Stream a node's serial console.
#[utoipa::path(
    get,
    path = "/node/{node}/console",
    tag = "obm",
    responses(
        (status = 200, description = "The console output as it arrives", content_type = "application/octet-stream", body = String),
        (status = 307, description = "The node is managed by obmd: repeat the call at the `Location` it names"),
    ),
)]
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

/// Replace a node's OBM registration (admin).
#[utoipa::path(
    put,
    path = "/node/{node}/obm_details",
    tag = "obm",
    request_body = ObmDetails,
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn node_set_obm(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: ObmDetails = call.args()?;
    let registration = ops::obm::validate_details(&ctx, &args)?;
    let caller = call.caller(&ctx).await?;
    ops::obm::node_set_obm(&ctx, &caller, call.param("node"), &registration).await?;
    Ok(empty())
}

/// A node's OBM registration without its secrets (admin).
#[utoipa::path(
    get,
    path = "/node/{node}/obm_details",
    tag = "obm",
    responses(
        (status = 200, description = "The registration", body = ObmInfo),
    ),
)]
pub async fn show_obm(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(
        ops::obm::show_obm(&ctx, &caller, call.param("node")).await?,
    ))
}

// ---- projects ----

/// List projects (admin).
#[utoipa::path(
    get,
    path = "/projects",
    tag = "projects",
    responses(
        (status = 200, description = "Project labels", body = Vec<String>),
    ),
)]
pub async fn list_projects(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(ops::projects::list_projects(&ctx, &caller).await?))
}

/// Create a project (admin).
#[utoipa::path(
    put,
    path = "/project/{project}",
    tag = "projects",
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn project_create(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::projects::project_create(&ctx, &caller, call.param("project")).await?;
    Ok(empty())
}

/// Delete an empty project (admin).
#[utoipa::path(
    delete,
    path = "/project/{project}",
    tag = "projects",
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn project_delete(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::projects::project_delete(&ctx, &caller, call.param("project")).await?;
    Ok(empty())
}

/// Reserve a free node for a project.
#[utoipa::path(
    post,
    path = "/project/{project}/connect_node",
    tag = "projects",
    request_body = NodeRef,
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn project_connect_node(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: NodeRef = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::projects::project_connect_node(&ctx, &caller, call.param("project"), &args.node).await?;
    Ok(empty())
}

/// Return a node to the free pool.
#[utoipa::path(
    post,
    path = "/project/{project}/detach_node",
    tag = "projects",
    request_body = NodeRef,
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn project_detach_node(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: NodeRef = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::projects::project_detach_node(&ctx, &caller, call.param("project"), &args.node).await?;
    Ok(empty())
}

/// List a project's nodes.
#[utoipa::path(
    get,
    path = "/project/{project}/nodes",
    tag = "projects",
    responses(
        (status = 200, description = "Node labels", body = Vec<String>),
    ),
)]
pub async fn list_project_nodes(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(
        ops::projects::list_project_nodes(&ctx, &caller, call.param("project")).await?,
    ))
}

/// List the networks a project may use.
#[utoipa::path(
    get,
    path = "/project/{project}/networks",
    tag = "projects",
    responses(
        (status = 200, description = "Network labels", body = Vec<String>),
    ),
)]
pub async fn list_project_networks(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(
        ops::projects::list_project_networks(&ctx, &caller, call.param("project")).await?,
    ))
}

// ---- nodes ----

/// Register a node with its OBM (admin).
#[utoipa::path(
    put,
    path = "/node/{node}",
    tag = "nodes",
    request_body = NodeRegister,
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn node_register(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: NodeRegister = call.args()?;
    ops::nodes::validate_node_register(&ctx, &args)?;
    let caller = call.caller(&ctx).await?;
    ops::nodes::node_register(&ctx, &caller, call.param("node"), &args).await?;
    Ok(empty())
}

/// Delete a free node without nics (admin).
#[utoipa::path(
    delete,
    path = "/node/{node}",
    tag = "nodes",
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn node_delete(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::nodes::node_delete(&ctx, &caller, call.param("node")).await?;
    Ok(empty())
}

/// List nodes: `all` or `free`.
#[utoipa::path(
    get,
    path = "/nodes/{is_free}",
    tag = "nodes",
    responses(
        (status = 200, description = "Node labels", body = Vec<String>),
    ),
)]
pub async fn list_nodes(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(
        ops::nodes::list_nodes(&ctx, &caller, call.param("is_free")).await?,
    ))
}

/// Show a node, its nics and their networks.
#[utoipa::path(
    get,
    path = "/node/{node}",
    tag = "nodes",
    responses((status = 200, description = "The node", body = NodeInfo)),
)]
pub async fn show_node(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(
        ops::nodes::show_node(&ctx, &caller, call.param("node")).await?,
    ))
}

/// Register a nic on a node (admin).
#[utoipa::path(
    put,
    path = "/node/{node}/nic/{nic}",
    tag = "nodes",
    request_body = NicRegister,
    responses((status = 200, description = "Done; the body is empty")),
)]
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

/// Delete a nic (admin).
#[utoipa::path(
    delete,
    path = "/node/{node}/nic/{nic}",
    tag = "nodes",
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn node_delete_nic(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::nodes::node_delete_nic(&ctx, &caller, call.param("node"), call.param("nic")).await?;
    Ok(empty())
}

/// Set a metadata value on a node (admin).
#[utoipa::path(
    put,
    path = "/node/{node}/metadata/{label}",
    tag = "nodes",
    request_body = MetadataSet,
    responses((status = 200, description = "Done; the body is empty")),
)]
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

/// Delete a node's metadata value (admin).
#[utoipa::path(
    delete,
    path = "/node/{node}/metadata/{label}",
    tag = "nodes",
    responses((status = 200, description = "Done; the body is empty")),
)]
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

/// Connect a nic to a network on a channel; the switch changes asynchronously.
#[utoipa::path(
    post,
    path = "/node/{node}/nic/{nic}/connect_network",
    tag = "nodes",
    request_body = ConnectNetwork,
    responses(
        (status = 202, description = "Queued; poll `GET /v0/networking_action/{status_id}`", body = StatusId),
    ),
)]
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

/// Detach a nic from a network; the switch changes asynchronously.
#[utoipa::path(
    post,
    path = "/node/{node}/nic/{nic}/detach_network",
    tag = "nodes",
    request_body = NetworkRef,
    responses(
        (status = 202, description = "Queued; poll `GET /v0/networking_action/{status_id}`", body = StatusId),
    ),
)]
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

/// The status of a queued networking action.
#[utoipa::path(
    get,
    path = "/networking_action/{status_id}",
    tag = "nodes",
    responses(
        (status = 200, description = "The action", body = NetworkingAction),
    ),
)]
pub async fn show_networking_action(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(
        ops::actions::show_networking_action(&ctx, &caller, call.param("status_id")).await?,
    ))
}

// ---- networks ----

/// Create a network.
#[utoipa::path(
    put,
    path = "/network/{network}",
    tag = "networks",
    request_body = NetworkCreate,
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn network_create(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: NetworkCreate = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::networks::network_create(&ctx, &caller, call.param("network"), &args).await?;
    Ok(empty())
}

/// Delete a network nothing is attached to.
#[utoipa::path(
    delete,
    path = "/network/{network}",
    tag = "networks",
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn network_delete(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::networks::network_delete(&ctx, &caller, call.param("network")).await?;
    Ok(empty())
}

/// Show a network.
#[utoipa::path(
    get,
    path = "/network/{network}",
    tag = "networks",
    responses(
        (status = 200, description = "The network", body = NetworkInfo),
    ),
)]
pub async fn show_network(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(
        ops::networks::show_network(&ctx, &caller, call.param("network")).await?,
    ))
}

/// List every network (admin).
#[utoipa::path(
    get,
    path = "/networks",
    tag = "networks",
    responses(
        (status = 200, description = "Networks by label", body = std::collections::BTreeMap<String, NetworkListEntry>),
    ),
)]
pub async fn list_networks(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(ops::networks::list_networks(&ctx, &caller).await?))
}

/// The query of calls that take an optional `project` filter.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectFilter {
    project: Option<String>,
}

/// List the nics attached to a network.
#[utoipa::path(
    get,
    path = "/network/{network}/attachments",
    tag = "networks",
    params(("project" = Option<String>, Query, description = "Only nodes of this project")),
    responses(
        (status = 200, description = "Attachments by node label", body = std::collections::BTreeMap<String, AttachmentInfo>),
    ),
)]
pub async fn list_network_attachments(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: ProjectFilter = call.args()?;
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

/// Let a project use a network.
#[utoipa::path(
    put,
    path = "/network/{network}/access/{project}",
    tag = "networks",
    responses((status = 200, description = "Done; the body is empty")),
)]
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

/// Take a project's access to a network away.
#[utoipa::path(
    delete,
    path = "/network/{network}/access/{project}",
    tag = "networks",
    responses((status = 200, description = "Done; the body is empty")),
)]
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

/// Register a switch (admin); the members depend on its `type`.
#[utoipa::path(
    put,
    path = "/switch/{switch}",
    tag = "switches",
    request_body = super::openapi::SwitchRegistration,
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn switch_register(State(ctx): S, call: Call) -> ApiResult<Response> {
    let (switch_type, members) = ops::switches::split_switch_type(call.open_args()?)?;
    let caller = call.caller(&ctx).await?;
    ops::switches::switch_register(&ctx, &caller, call.param("switch"), &switch_type, &members)
        .await?;
    Ok(empty())
}

/// Delete a switch without ports (admin).
#[utoipa::path(
    delete,
    path = "/switch/{switch}",
    tag = "switches",
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn switch_delete(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::switches::switch_delete(&ctx, &caller, call.param("switch")).await?;
    Ok(empty())
}

/// List switches (admin).
#[utoipa::path(
    get,
    path = "/switches",
    tag = "switches",
    responses(
        (status = 200, description = "Switch labels", body = Vec<String>),
    ),
)]
pub async fn list_switches(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(ops::switches::list_switches(&ctx, &caller).await?))
}

/// Show a switch and its ports (admin).
#[utoipa::path(
    get,
    path = "/switch/{switch}",
    tag = "switches",
    responses(
        (status = 200, description = "The switch", body = SwitchInfo),
    ),
)]
pub async fn show_switch(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(
        ops::switches::show_switch(&ctx, &caller, call.param("switch")).await?,
    ))
}

/// Register a port on a switch (admin).
#[utoipa::path(
    put,
    path = "/switch/{switch}/port/{*port}",
    tag = "switches",
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn switch_register_port(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::switches::switch_register_port(&ctx, &caller, call.param("switch"), call.param("port"))
        .await?;
    Ok(empty())
}

/// Delete a port without a nic (admin).
#[utoipa::path(
    delete,
    path = "/switch/{switch}/port/{*port}",
    tag = "switches",
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn switch_delete_port(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::switches::switch_delete_port(&ctx, &caller, call.param("switch"), call.param("port"))
        .await?;
    Ok(empty())
}

/// Show the nic on a port and its networks (admin); `{}` when none.
#[utoipa::path(
    get,
    path = "/switch/{switch}/port/{*port}",
    tag = "switches",
    responses((status = 200, description = "The port", body = super::openapi::PortAnswer)),
)]
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

/// Ask for a drift audit of a switch now (admin).
#[utoipa::path(
    post,
    path = "/switch/{switch}/audit",
    tag = "audit",
    responses(
        (status = 202, description = "Requested", body = SwitchAuditInfo),
    ),
)]
pub async fn request_audit(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    let info = ops::audit::request_audit(&ctx, &caller, call.param("switch")).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(info)).into_response())
}

/// The state of a switch's drift audits (admin).
#[utoipa::path(
    get,
    path = "/switch/{switch}/audit",
    tag = "audit",
    responses(
        (status = 200, description = "The audit state", body = SwitchAuditInfo),
    ),
)]
pub async fn show_audit(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(
        ops::audit::show_audit(&ctx, &caller, call.param("switch")).await?,
    ))
}

/// The audit state of every switch (admin).
#[utoipa::path(
    get,
    path = "/audits",
    tag = "audit",
    responses(
        (status = 200, description = "Per switch", body = Vec<SwitchAuditInfo>),
    ),
)]
pub async fn list_audits(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(ops::audit::list_audits(&ctx, &caller).await?))
}

/// Search the log of state-changing calls (admin).
#[utoipa::path(
    get,
    path = "/audit_log",
    tag = "audit",
    params(
        ("user" = Option<String>, Query, description = "Calls made by this user"),
        ("object" = Option<String>, Query, description = "Calls on this object, as type/name: `node/n1`, `network/net-a`"),
        ("since" = Option<String>, Query, description = "RFC 3339 time or a duration such as `7d`"),
        ("until" = Option<String>, Query, description = "RFC 3339 time or a duration"),
        ("limit" = Option<String>, Query, description = "At most this many entries, newest first"),
    ),
    responses(
        (status = 200, description = "Entries, newest first", body = Vec<AuditLogEntry>),
    ),
)]
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

/// Drift that lasts, on every switch (admin).
#[utoipa::path(
    get,
    path = "/drift",
    tag = "audit",
    responses(
        (status = 200, description = "Drift episodes", body = Vec<DriftRecord>),
    ),
)]
pub async fn list_drift(state: S, call: Call) -> ApiResult<Response> {
    drift(state, call, false).await
}

/// Every drift episode, repaired ones too (admin).
#[utoipa::path(
    get,
    path = "/drift/all",
    tag = "audit",
    responses(
        (status = 200, description = "Drift episodes", body = Vec<DriftRecord>),
    ),
)]
pub async fn list_all_drift(state: S, call: Call) -> ApiResult<Response> {
    drift(state, call, true).await
}

/// Drift that lasts on one switch (admin).
#[utoipa::path(
    get,
    path = "/switch/{switch}/drift",
    tag = "audit",
    responses(
        (status = 200, description = "Drift episodes", body = Vec<DriftRecord>),
    ),
)]
pub async fn list_switch_drift(state: S, call: Call) -> ApiResult<Response> {
    drift(state, call, false).await
}

/// Every drift episode of one switch (admin).
#[utoipa::path(
    get,
    path = "/switch/{switch}/drift/all",
    tag = "audit",
    responses(
        (status = 200, description = "Drift episodes", body = Vec<DriftRecord>),
    ),
)]
pub async fn list_switch_all_drift(state: S, call: Call) -> ApiResult<Response> {
    drift(state, call, true).await
}

/// Drift on every switch, or on the one the path names; repaired episodes too if asked.
async fn drift(State(ctx): S, call: Call, include_repaired: bool) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    let switch = Some(call.param("switch")).filter(|s| !s.is_empty());
    Ok(json(
        ops::audit::list_drift(&ctx, &caller, switch, include_repaired).await?,
    ))
}

/// `POST /switch/<s>/port/<port...>/<action>`: the last segment picks the call, the rest is
/// the port name (port names contain `/`, so the router cannot tell them apart itself).
pub async fn port_action(State(ctx): S, call: Call) -> ApiResult<Response> {
    let full = call.param("port").to_string();
    match full.rsplit_once('/') {
        Some((port, "connect_nic")) => port_connect_nic(&ctx, call, port).await,
        Some((port, "detach_nic")) => port_detach_nic(&ctx, call, port).await,
        Some((port, "revert")) => port_revert(&ctx, call, port).await,
        // The path names a port, which takes no POST.
        _ => {
            let mut response =
                ApiError::MethodNotAllowed("This route does not accept that HTTP method.".into())
                    .into_response();
            let allow = header::HeaderValue::from_static("GET,HEAD,PUT,DELETE");
            response.headers_mut().insert(header::ALLOW, allow);
            Ok(response)
        }
    }
}

/// Record that a nic is cabled to a port (admin).
#[utoipa::path(
    post,
    path = "/switch/{switch}/port/{port}/connect_nic",
    tag = "switches",
    request_body = PortConnectNic,
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn port_connect_nic(ctx: &Ctx, call: Call, port: &str) -> ApiResult<Response> {
    let args: PortConnectNic = call.args()?;
    let caller = call.caller(ctx).await?;
    let switch = call.param("switch");
    ops::switches::port_connect_nic(ctx, &caller, switch, port, &args.node, &args.nic).await?;
    Ok(empty())
}

/// Forget the nic cabled to a port (admin).
#[utoipa::path(
    post,
    path = "/switch/{switch}/port/{port}/detach_nic",
    tag = "switches",
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn port_detach_nic(ctx: &Ctx, call: Call, port: &str) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(ctx).await?;
    ops::switches::port_detach_nic(ctx, &caller, call.param("switch"), port).await?;
    Ok(empty())
}

/// Remove every network from a port (admin).
#[utoipa::path(
    post,
    path = "/switch/{switch}/port/{port}/revert",
    tag = "switches",
    responses(
        (status = 200, description = "Queued; poll `GET /v0/networking_action/{status_id}`", body = StatusId),
    ),
)]
pub async fn port_revert(ctx: &Ctx, call: Call, port: &str) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(ctx).await?;
    let status_id = ops::switches::port_revert(ctx, &caller, call.param("switch"), port).await?;
    Ok(json(StatusId { status_id }))
}

// ---- extensions and users ----

/// The extensions this server runs.
#[utoipa::path(
    get,
    path = "/active_extensions",
    tag = "service",
    responses(
        (status = 200, description = "Extension names", body = Vec<String>),
    ),
)]
pub async fn list_active_extensions(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(ops::extensions::list_active_extensions(
        &ctx, &caller,
    )?))
}

/// List users (admin; database authentication only).
#[utoipa::path(
    get,
    path = "/auth/basic/users",
    tag = "users",
    responses(
        (status = 200, description = "Users by name", body = std::collections::BTreeMap<String, UserInfo>),
    ),
)]
pub async fn list_users(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(ops::users::list_users(&ctx, &caller).await?))
}

/// Create a user (admin).
#[utoipa::path(
    put,
    path = "/auth/basic/user/{user}",
    tag = "users",
    request_body = UserCreate,
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn user_create(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: UserCreate = call.args()?;
    let caller = call.caller(&ctx).await?;
    let is_admin = args.is_admin.unwrap_or(false);
    ops::users::user_create(&ctx, &caller, call.param("user"), &args.password, is_admin).await?;
    Ok(empty())
}

/// Delete a user (admin).
#[utoipa::path(
    delete,
    path = "/auth/basic/user/{user}",
    tag = "users",
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn user_delete(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::users::user_delete(&ctx, &caller, call.param("user")).await?;
    Ok(empty())
}

/// Make a user an administrator or not (admin).
#[utoipa::path(
    patch,
    path = "/auth/basic/user/{user}",
    tag = "users",
    request_body = UserSetAdmin,
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn user_set_admin(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: UserSetAdmin = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::users::user_set_admin(&ctx, &caller, call.param("user"), args.is_admin).await?;
    Ok(empty())
}

/// Add a user to a project (admin).
#[utoipa::path(
    post,
    path = "/auth/basic/user/{user}/add_project",
    tag = "users",
    request_body = ProjectRef,
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn user_add_project(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: ProjectRef = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::users::user_add_project(&ctx, &caller, call.param("user"), &args.project).await?;
    Ok(empty())
}

/// Remove a user from a project (admin).
#[utoipa::path(
    post,
    path = "/auth/basic/user/{user}/remove_project",
    tag = "users",
    request_body = ProjectRef,
    responses((status = 200, description = "Done; the body is empty")),
)]
pub async fn user_remove_project(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: ProjectRef = call.args()?;
    let caller = call.caller(&ctx).await?;
    ops::users::user_remove_project(&ctx, &caller, call.param("user"), &args.project).await?;
    Ok(empty())
}

/// Who the credentials belong to, and their projects.
#[utoipa::path(
    get,
    path = "/whoami",
    tag = "service",
    responses((status = 200, description = "The caller", body = WhoAmI)),
)]
pub async fn whoami(State(ctx): S, call: Call) -> ApiResult<Response> {
    let NoArgs {} = call.args()?;
    let caller = call.caller(&ctx).await?;
    Ok(json(ops::whoami::whoami(&ctx, &caller).await?))
}

/// The networking queue, newest first: all of it (admin), or a project's.
#[utoipa::path(
    get,
    path = "/networking_actions",
    tag = "service",
    params(("project" = Option<String>, Query, description = "Only the actions on this project's nodes; required unless an administrator asks")),
    responses((status = 200, description = "Queued and finished actions", body = Vec<QueuedAction>)),
)]
pub async fn list_networking_actions(State(ctx): S, call: Call) -> ApiResult<Response> {
    let args: ProjectFilter = call.args()?;
    let caller = call.caller(&ctx).await?;
    let project = args.project.as_deref();
    Ok(json(
        ops::actions::list_networking_actions(&ctx, &caller, project).await?,
    ))
}
