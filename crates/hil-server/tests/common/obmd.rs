//! A stand-in for obmd, HIL v0.4's OBM daemon: token minting with the admin token, and the
//! user routes HIL redirects to, checking the node token. It records every request, so tests
//! can see what reached it (and that no HIL credentials did).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use axum::Router;

#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub body: String,
    /// Whether the request carried an `Authorization` header.
    pub authorization: bool,
}

#[derive(Default)]
struct ObmdState {
    admin_token: String,
    tokens: HashMap<String, String>,
    power: HashMap<String, bool>,
    seen: Vec<Seen>,
    minted: u32,
}

type Shared = Arc<Mutex<ObmdState>>;

pub struct Obmd {
    pub url: String,
    state: Shared,
}

impl Obmd {
    pub async fn start(admin_token: &str) -> Obmd {
        let state: Shared = Arc::new(Mutex::new(ObmdState {
            admin_token: admin_token.into(),
            ..ObmdState::default()
        }));
        let app = Router::new()
            .route("/node/{id}/token", post(mint).delete(revoke))
            .route("/node/{id}/{op}", any(user_call))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Obmd { url, state }
    }

    /// The node's URI on this obmd, as HIL registers it.
    pub fn node_uri(&self, node: &str) -> String {
        format!("{}/node/{node}", self.url)
    }

    pub fn token(&self, node: &str) -> Option<String> {
        self.state.lock().unwrap().tokens.get(node).cloned()
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    pub fn powered(&self, node: &str) -> bool {
        self.state.lock().unwrap().power.get(node).copied() == Some(true)
    }
}

fn record(state: &Shared, method: &Method, uri: &Uri, headers: &HeaderMap, body: &str) {
    state.lock().unwrap().seen.push(Seen {
        method: method.to_string(),
        path: uri.path().to_string(),
        body: body.to_string(),
        authorization: headers.contains_key("authorization"),
    });
}

fn admin_ok(state: &ObmdState, headers: &HeaderMap) -> bool {
    use base64::Engine;
    let want =
        base64::engine::general_purpose::STANDARD.encode(format!("admin:{}", state.admin_token));
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Basic {want}"))
}

async fn mint(
    State(state): State<Shared>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    record(&state, &method, &uri, &headers, "");
    let mut s = state.lock().unwrap();
    if !admin_ok(&s, &headers) {
        return StatusCode::NOT_FOUND.into_response();
    }
    s.minted += 1;
    let token = format!("{:032x}", 0xfeed_0000_u64 + u64::from(s.minted));
    s.tokens.insert(id, token.clone());
    axum::Json(serde_json::json!({ "token": token })).into_response()
}

async fn revoke(
    State(state): State<Shared>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    record(&state, &method, &uri, &headers, "");
    let mut s = state.lock().unwrap();
    if !admin_ok(&s, &headers) {
        return StatusCode::NOT_FOUND.into_response();
    }
    s.tokens.remove(&id);
    StatusCode::OK.into_response()
}

async fn user_call(
    State(state): State<Shared>,
    Path((id, op)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    record(&state, &method, &uri, &headers, &body);
    let mut s = state.lock().unwrap();
    if s.tokens
        .get(&id)
        .is_none_or(|t| Some(t) != query.get("token"))
    {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    match (method.as_str(), op.as_str()) {
        ("POST", "power_on") | ("POST", "power_cycle") => {
            s.power.insert(id, true);
        }
        ("POST", "power_off") => {
            s.power.insert(id, false);
        }
        ("PUT", "boot_device") => {}
        ("GET", "power_status") => {
            let on = s.power.get(&id).copied() == Some(true);
            let status = if on { "on" } else { "off" };
            return axum::Json(serde_json::json!({ "power_status": status })).into_response();
        }
        ("GET", "console") => return format!("console of {id}\n").into_response(),
        _ => return StatusCode::NOT_FOUND.into_response(),
    }
    StatusCode::OK.into_response()
}
