//! Turning an HTTP request into a call's arguments, the way HIL binds them (hil-api.md §1.3):
//! path parameters, then the query string (GET) or the JSON body (everything else), checked
//! against the call's closed schema. Validation runs before authentication, as in HIL.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, RawPathParams, Request};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::ops::Ctx;

/// One API request, read in full and ready to be validated.
pub struct Call {
    method: Method,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
    params: Vec<(String, String)>,
    /// The client's address, for failed-login throttling.
    client: Option<std::net::IpAddr>,
    /// Where a state-changing call leaves what the audit log keeps of it.
    record: Option<super::audit_log::CallRecord>,
}

/// The schema of calls that take no arguments: the body must be empty or `{}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

impl FromRequest<Arc<Ctx>> for Call {
    type Rejection = ApiError;

    async fn from_request(req: Request, ctx: &Arc<Ctx>) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let params = path_params(&mut parts).await?;
        let limits = &ctx.config.limits;
        for (name, value) in &params {
            check_path_label(name, value, limits.max_label_chars)?;
        }
        let record = parts
            .extensions
            .get::<super::audit_log::CallRecord>()
            .cloned();
        let client = super::server::client_address(&parts, &ctx.config.auth.trusted_proxies);
        if let Some(record) = &record {
            let route = parts.extensions.get::<axum::extract::MatchedPath>();
            record.began(route.map(|r| r.as_str()), client);
        }
        let body = read_body(body, limits.max_body_bytes, limits.body_timeout()).await?;
        if let Some(record) = &record {
            record.arguments(&body);
        }
        Ok(Call {
            record,
            client,
            method: parts.method,
            query: parts.uri.query().map(str::to_string),
            headers: parts.headers,
            body,
            params,
        })
    }
}

/// Path parameters, percent-decoded; a route without parameters has none.
async fn path_params(parts: &mut axum::http::request::Parts) -> ApiResult<Vec<(String, String)>> {
    use axum::extract::rejection::RawPathParamsRejection;
    use axum::extract::FromRequestParts;
    match RawPathParams::from_request_parts(parts, &()).await {
        Ok(p) => Ok(p
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()),
        Err(RawPathParamsRejection::MissingPathParams(_)) => Ok(Vec::new()),
        Err(_) => Err(ApiError::Validation("The path is not valid UTF-8.".into())),
    }
}

/// Labels in paths: non-empty, bounded, no `/` (except port names), no control characters.
/// HIL stored whatever it was given; a label it could never address again, or one with a NUL
/// that PostgreSQL refuses, is rejected here instead.
fn check_path_label(name: &str, value: &str, max_chars: usize) -> ApiResult<()> {
    let bad = |why: &str| ApiError::Validation(format!("Invalid {name}: {why}."));
    if value.is_empty() {
        return Err(bad("empty"));
    }
    if value.chars().count() > max_chars {
        return Err(bad(&format!("longer than {max_chars} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(bad("control characters are not allowed"));
    }
    // Only the catch-all parameters (`{*port}`, `{*rest}`) may span several segments.
    if name != "port" && name != "rest" && value.contains('/') {
        return Err(bad("'/' is not allowed"));
    }
    Ok(())
}

/// The whole body, which must arrive within `patience` (a client that announces a body and
/// never sends it must not hold a connection and a task for ever).
async fn read_body(body: Body, limit: usize, patience: std::time::Duration) -> ApiResult<Bytes> {
    match tokio::time::timeout(patience, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(ApiError::Validation(format!(
            "The request body is larger than {limit} bytes or unreadable."
        ))),
        Err(_) => Err(ApiError::RequestTimeout(format!(
            "The request body did not arrive within {} seconds.",
            patience.as_secs_f64()
        ))),
    }
}

impl Call {
    /// A path parameter, by name (routes guarantee it exists).
    pub fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    /// The call's arguments as HIL assembles them, before the schema check.
    fn raw_args(&self) -> ApiResult<serde_json::Map<String, serde_json::Value>> {
        let map = if self.method == Method::GET {
            if !self.body.is_empty() {
                return Err(ApiError::Validation(
                    "GET request made with a non-empty request body".into(),
                ));
            }
            query_args(self.query.as_deref())?
        } else if self.body.iter().all(u8::is_ascii_whitespace) {
            serde_json::Map::new()
        } else {
            match serde_json::from_slice::<serde_json::Value>(&self.body) {
                Ok(serde_json::Value::Object(map)) => map,
                Ok(_) => {
                    return Err(ApiError::Validation(
                        "The request body must be a JSON object".into(),
                    ))
                }
                Err(_) => {
                    return Err(ApiError::Validation(
                        "The request body is not valid JSON".into(),
                    ))
                }
            }
        };
        if map.keys().any(|k| self.params.iter().any(|(p, _)| p == k)) {
            return Err(ApiError::invalid_args());
        }
        if map.values().any(contains_nul) || map.keys().any(|k| k.contains('\0')) {
            return Err(ApiError::Validation(
                "NUL characters are not allowed".into(),
            ));
        }
        Ok(map)
    }

    /// Validates the arguments against the call's closed schema `T`.
    pub fn args<T: DeserializeOwned>(&self) -> ApiResult<T> {
        let map = self.raw_args()?;
        serde_json::from_value(serde_json::Value::Object(map)).map_err(|_| ApiError::invalid_args())
    }

    /// The arguments as an open object (`switch_register` accepts any driver members).
    pub fn open_args(&self) -> ApiResult<serde_json::Map<String, serde_json::Value>> {
        self.raw_args()
    }

    pub async fn caller(&self, ctx: &Ctx) -> ApiResult<Caller> {
        let caller = ctx
            .auth
            .authenticate(&ctx.store, &self.headers, self.client)
            .await?;
        if let Some(record) = &self.record {
            record.made_by(caller.name.as_deref());
        }
        Ok(caller)
    }
}

fn query_args(query: Option<&str>) -> ApiResult<serde_json::Map<String, serde_json::Value>> {
    let mut map = serde_json::Map::new();
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if v.is_empty() {
            return Err(ApiError::Validation("Empty parameter specified".into()));
        }
        // A repeated key keeps its first value, as in HIL.
        map.entry(k.into_owned())
            .or_insert(serde_json::Value::String(v.into_owned()));
    }
    Ok(map)
}

fn contains_nul(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(contains_nul),
        serde_json::Value::Object(m) => m.iter().any(|(k, v)| k.contains('\0') || contains_nul(v)),
        _ => false,
    }
}

/// A successful call with nothing to say: 200 and an empty body (HIL's clients expect that).
pub fn empty() -> Response {
    StatusCode::OK.into_response()
}

/// 200 with a JSON body.
pub fn json<T: serde::Serialize>(value: T) -> Response {
    axum::Json(value).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_labels() {
        assert!(check_path_label("node", "node-1", 255).is_ok());
        assert!(check_path_label("node", "nœud", 255).is_ok());
        assert!(check_path_label("node", "", 255).is_err());
        assert!(check_path_label("node", "a/b", 255).is_err());
        assert!(check_path_label("port", "gi1/0/1", 255).is_ok());
        assert!(check_path_label("node", "a\0b", 255).is_err());
        assert!(check_path_label("node", &"x".repeat(256), 255).is_err());
    }

    #[test]
    fn query_rules() {
        assert!(query_args(Some("project=")).is_err());
        let m = query_args(Some("project=a&project=b")).unwrap();
        assert_eq!(m["project"], "a");
    }
}
