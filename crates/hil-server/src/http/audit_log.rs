//! Recording state-changing calls in the audit log: every API call made with a method other
//! than GET (or HEAD, OPTIONS), whatever its outcome, with who made it, from where, its
//! arguments without secrets, and the answer.
//!
//! The middleware hands each such request a [`CallRecord`]; the call's extractor fills in the
//! route, the client and the arguments, and authentication the principal. Once the answer is
//! ready the middleware writes the row. Requests that never became a call (no such route)
//! leave the record empty and are not logged.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use hil_types::ErrorType;
use serde_json::Value;

use crate::ops::Ctx;
use crate::store::{self, audit_log::Entry};

/// What is known of one call so far; shared by the middleware and the call's extractor.
#[derive(Clone, Default)]
pub struct CallRecord(Arc<Mutex<Recorded>>);

#[derive(Default)]
struct Recorded {
    route: Option<String>,
    client: Option<IpAddr>,
    args: Option<Value>,
    principal: Option<String>,
}

impl CallRecord {
    fn with<T>(&self, f: impl FnOnce(&mut Recorded) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The request reached a route (`None`: the router's fallback).
    pub fn began(&self, route: Option<&str>, client: Option<IpAddr>) {
        self.with(|r| {
            r.route = Some(route.unwrap_or("(no route)").to_string());
            r.client = client;
        });
    }

    /// The body, kept as JSON with every secret replaced (or as text when it is not JSON).
    pub fn arguments(&self, body: &[u8]) {
        let args = match serde_json::from_slice::<Value>(body) {
            Ok(mut value) => {
                redact(&mut value);
                value
            }
            Err(_) if body.iter().all(u8::is_ascii_whitespace) => Value::Object(Default::default()),
            Err(_) => Value::String(format!("({} bytes that are not JSON)", body.len())),
        };
        self.with(|r| r.args = Some(args));
    }

    /// Authentication named the caller.
    pub fn made_by(&self, principal: Option<&str>) {
        self.with(|r| r.principal = principal.map(str::to_string));
    }
}

/// Members whose names say they hold a secret.
fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "token", "secret", "passphrase", "key"]
        .iter()
        .any(|s| key.contains(s))
}

/// Replaces the value of every secret member, at any depth.
fn redact(value: &mut Value) {
    match value {
        Value::Object(members) => {
            for (key, member) in members.iter_mut() {
                if is_secret(key) {
                    *member = Value::String("********".into());
                } else {
                    redact(member);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// The middleware: logs each state-changing call once it has its answer.
pub async fn record_changes(State(ctx): State<Arc<Ctx>>, mut req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let record = CallRecord::default();
    req.extensions_mut().insert(record.clone());
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let response = next.run(req).await;
    let recorded = record.with(std::mem::take);
    let Some(route) = recorded.route else {
        return response;
    };
    let entry = Entry {
        id: 0,
        at_ms: store::now_ms(),
        principal: recorded.principal,
        client: recorded.client.map(|c| c.to_string()),
        method,
        path,
        route,
        args: recorded
            .args
            .unwrap_or_else(|| Value::Object(Default::default()))
            .to_string(),
        status: i64::from(response.status().as_u16()),
        outcome: response
            .extensions()
            .get::<ErrorType>()
            .map_or("ok", |t| t.name())
            .to_string(),
    };
    let (method, path) = (entry.method.clone(), entry.path.clone());
    match ctx.audit_log.record(entry).await {
        Ok(()) => ctx.metrics.audit_log_entries.inc(&["written"]),
        Err(e) => {
            ctx.metrics.audit_log_entries.inc(&["lost"]);
            tracing::error!(error = %e, %method, %path,
                "a call could not be written to the audit log");
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_replaced_at_any_depth() {
        let mut args = serde_json::json!({
            "obm": {"type": "ipmi", "host": "h", "user": "root", "password": "bmc-secret"},
            "obmd": {"uri": "http://o", "admin_token": "t0k3n-value"},
            "list": [{"Password": "p4ss"}],
            "network": "net-a"
        });
        redact(&mut args);
        let text = args.to_string();
        for secret in ["bmc-secret", "t0k3n-value", "p4ss"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert_eq!(args["network"], "net-a");
        assert_eq!(args["obm"]["user"], "root");
    }
}
