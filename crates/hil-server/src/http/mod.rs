//! The HTTP face: every v0 route in one table, mapping a path to an operation. Errors of every
//! kind, unknown routes, wrong methods and panics included, answer HIL's JSON error body.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use tracing::Instrument;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::ops::Ctx;

pub mod audit_log;
pub mod call;
mod dashboard;
mod handlers;
pub mod openapi;
pub mod server;

use handlers as h;

/// The whole API.
pub fn router(ctx: Arc<Ctx>) -> Router {
    // Each call is registered by its handler, whose `#[utoipa::path]` names the route: the
    // routing table and the OpenAPI document are one list and cannot disagree.
    let mut v0 = OpenApiRouter::new()
        .routes(routes!(h::list_projects))
        .routes(routes!(h::project_create, h::project_delete))
        .routes(routes!(h::project_connect_node))
        .routes(routes!(h::project_detach_node))
        .routes(routes!(h::list_project_nodes))
        .routes(routes!(h::list_project_networks))
        .routes(routes!(h::list_nodes))
        .routes(routes!(h::node_register, h::node_delete, h::show_node))
        .routes(routes!(h::node_register_nic, h::node_delete_nic))
        .routes(routes!(h::node_set_metadata, h::node_delete_metadata))
        .routes(routes!(h::node_connect_network))
        .routes(routes!(h::node_detach_network))
        .routes(routes!(h::node_enable_disable_obm))
        .routes(routes!(h::node_set_obm, h::show_obm))
        .routes(routes!(h::node_power_cycle))
        .routes(routes!(h::node_power_on))
        .routes(routes!(h::node_power_off))
        .routes(routes!(h::node_set_bootdev))
        .routes(routes!(h::node_power_status))
        .routes(routes!(h::show_console))
        .routes(routes!(h::show_networking_action))
        .routes(routes!(h::list_networking_actions))
        .routes(routes!(h::list_networks))
        .routes(routes!(
            h::network_create,
            h::network_delete,
            h::show_network
        ))
        .routes(routes!(h::list_network_attachments))
        .routes(routes!(
            h::network_grant_project_access,
            h::network_revoke_project_access
        ))
        .routes(routes!(h::list_switches))
        .routes(routes!(
            h::switch_register,
            h::switch_delete,
            h::show_switch
        ))
        .routes(routes!(
            h::switch_register_port,
            h::switch_delete_port,
            h::show_port
        ))
        // Port names contain `/`, so one catch-all route takes every POST under a port and
        // `port_action` picks the call by the last segment; each call is documented apart.
        .route("/switch/{switch}/port/{*port}", post(h::port_action))
        .merge(OpenApiRouter::with_openapi(openapi::PortActions::openapi()))
        .routes(routes!(h::show_audit, h::request_audit))
        .routes(routes!(h::list_switch_drift))
        .routes(routes!(h::list_switch_all_drift))
        .routes(routes!(h::list_audits))
        .routes(routes!(h::audit_log))
        .routes(routes!(h::list_drift))
        .routes(routes!(h::list_all_drift))
        .routes(routes!(h::list_active_extensions))
        .routes(routes!(h::whoami))
        .merge(headnode_routes());
    if ctx.auth.is_database() {
        v0 = v0
            .routes(routes!(h::list_users))
            .routes(routes!(h::user_create, h::user_delete, h::user_set_admin))
            .routes(routes!(h::user_add_project))
            .routes(routes!(h::user_remove_project));
    }
    let (v0, spec) = OpenApiRouter::new().nest("/v0", v0).split_for_parts();
    let spec = openapi::finish(spec, &ctx);
    let v0 = v0
        .route("/v0/openapi.json", get(openapi::document))
        .layer(axum::Extension(spec));
    let mut api = Router::new()
        .merge(v0)
        // HIL's own `hil headnode` commands left `/v0` out of their URLs (hil-api.md §13.4).
        .merge(headnode_routes().split_for_parts().0)
        // The web dashboard, a page that calls this API from the browser.
        .merge(dashboard::routes());
    if ctx.config.metrics.on_api {
        api = api.route("/metrics", get(admin_metrics));
    }
    let api = api
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Inside run_to_completion, so a call is logged even when its client hangs up.
        .layer(axum::middleware::from_fn_with_state(
            ctx.clone(),
            audit_log::record_changes,
        ))
        .layer(axum::middleware::from_fn(run_to_completion))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn_with_state(
            ctx.clone(),
            record_request,
        ))
        .with_state(ctx);
    // OPTIONS reads the `Allow` header of the router's 405, which the router adds only as the
    // answer leaves it: so this layer wraps the whole router.
    let with_options = tower::Layer::layer(&axum::middleware::from_fn(answer_options), api);
    Router::new().fallback_service(with_options)
}

/// The router of `metrics.listen`: `GET /metrics` without authentication, nothing else.
pub fn metrics_router(ctx: Arc<Ctx>) -> Router {
    Router::new()
        .route("/metrics", get(open_metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(ctx)
}

/// `GET /metrics` on the API address: administrators only, authenticated as for the API.
async fn admin_metrics(State(ctx): State<Arc<Ctx>>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let client = server::client_address(&parts, &ctx.config.auth.trusted_proxies);
    match ctx
        .auth
        .authenticate(&ctx.store, &parts.headers, client)
        .await
    {
        Ok(caller) if caller.is_admin => exposition(crate::metrics::scrape(&ctx).await),
        Ok(_) => ApiError::admin_only().into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /metrics` on `metrics.listen`, which the operator keeps to a private address.
async fn open_metrics(State(ctx): State<Arc<Ctx>>) -> Response {
    exposition(crate::metrics::scrape(&ctx).await)
}

fn exposition(text: String) -> Response {
    ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response()
}

/// Counts every request by method, route template (never the raw path: its labels would be
/// unbounded) and status, and times it.
async fn record_request(State(ctx): State<Arc<Ctx>>, request: Request, next: Next) -> Response {
    let method = crate::metrics::method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let m = &ctx.metrics;
    m.http_requests.inc(&[method, &route, &status]);
    m.http_duration
        .observe(&[method, &route], started.elapsed());
    response
}

/// The headnode calls (hil-api.md §4.7), served under `/v0` and, for HIL's CLI, without it.
fn headnode_routes() -> OpenApiRouter<Arc<Ctx>> {
    OpenApiRouter::new()
        .routes(routes!(h::list_project_headnodes))
        .routes(routes!(
            h::headnode_create,
            h::headnode_delete,
            h::show_headnode
        ))
        .routes(routes!(h::headnode_start))
        .routes(routes!(h::headnode_stop))
        .routes(routes!(h::headnode_create_hnic, h::headnode_delete_hnic))
        .routes(routes!(h::headnode_connect_network))
        .routes(routes!(h::headnode_detach_network))
        .routes(routes!(h::list_headnode_images))
        // HIL's client asked for the list with a trailing slash.
        .route("/headnode_images/", get(h::list_headnode_images))
}

/// An unmatched `/v0/...` path with an empty segment (`/v0/project/`) is a call with an empty
/// label: a validation error, like an empty label anywhere else, rather than "no such route".
async fn not_found(uri: axum::http::Uri) -> ApiError {
    let path = uri.path();
    if path.starts_with("/v0/") && (path.ends_with('/') || path.contains("//")) {
        return ApiError::Validation("Labels may not be empty.".into());
    }
    ApiError::NotFound("No such API route. HIL's API lives under /v0.".into())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed("This route does not accept that HTTP method.".into())
}

/// `OPTIONS` on a route answers 204 with the methods it takes in `Allow`. The router already
/// knows them: its 405 for an unrouted method carries them.
async fn answer_options(request: Request, next: Next) -> Response {
    if request.method() != Method::OPTIONS {
        return next.run(request).await;
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::METHOD_NOT_ALLOWED {
        return response;
    }
    let routed = response
        .headers()
        .get(header::ALLOW)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let allow = if routed.is_empty() {
        "OPTIONS".to_string()
    } else {
        format!("{routed},OPTIONS")
    };
    (StatusCode::NO_CONTENT, [(header::ALLOW, allow)]).into_response()
}

/// Runs each request in a task of its own, so that a client that hangs up or times out does not
/// cancel the call halfway: a write that has begun finishes (or rolls back) as a whole, and
/// the answer is simply not delivered.
async fn run_to_completion(request: Request, next: Next) -> Response {
    let call = next.run(request).instrument(tracing::Span::current());
    match tokio::spawn(call).await {
        Ok(response) => response,
        Err(e) if e.is_panic() => panic_response(e.into_panic()),
        Err(_) => ApiError::Internal("the request's task was cancelled".into()).into_response(),
    }
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    let body = hil_types::ErrorBody {
        error_type: hil_types::ErrorType::Server.name().into(),
        msg: "Internal server error; the server log has the details.".into(),
    };
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}
