//! A minimal OVSDB client (RFC 7047 JSON-RPC) over a Unix socket or TCP.
//!
//! Only what the `ovs` driver needs: `transact`, answering the server's `echo` keep-alives, and
//! the encoding of OVSDB sets. One request is in flight at a time, so replies are matched by id
//! without a dispatcher.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::switch::{SwitchError, SwitchErrorKind};

/// Replies larger than this are refused; a port update's reply is a few hundred bytes.
const MAX_MESSAGE_BYTES: usize = 4 << 20;

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub struct Ovsdb {
    io: Box<dyn Io>,
    buf: Vec<u8>,
    next_id: u64,
    timeout: Duration,
}

fn unreachable(address: &str, e: impl std::fmt::Display) -> SwitchError {
    SwitchError::new(
        SwitchErrorKind::Unreachable,
        format!("cannot reach OVSDB at {address}: {e}"),
    )
}

fn timed_out(what: &str) -> SwitchError {
    SwitchError::new(SwitchErrorKind::Timeout, format!("OVSDB {what} timed out"))
}

impl Ovsdb {
    /// Connects to `unix:<path>` or `tcp:<host>:<port>` (the notation of `ovs-vsctl --db`).
    pub async fn connect(
        address: &str,
        connect_timeout: Duration,
        timeout: Duration,
    ) -> Result<Ovsdb, SwitchError> {
        let io: Box<dyn Io> = if let Some(path) = address.strip_prefix("unix:") {
            let stream =
                tokio::time::timeout(connect_timeout, tokio::net::UnixStream::connect(path))
                    .await
                    .map_err(|_| timed_out("connect"))?
                    .map_err(|e| unreachable(address, e))?;
            Box::new(stream)
        } else if let Some(host_port) = address.strip_prefix("tcp:") {
            let stream =
                tokio::time::timeout(connect_timeout, tokio::net::TcpStream::connect(host_port))
                    .await
                    .map_err(|_| timed_out("connect"))?
                    .map_err(|e| unreachable(address, e))?;
            stream.set_nodelay(true).ok();
            Box::new(stream)
        } else {
            return Err(SwitchError::new(
                SwitchErrorKind::Rejected,
                format!("OVSDB address {address:?} is neither unix:<path> nor tcp:<host>:<port>"),
            ));
        };
        Ok(Ovsdb {
            io,
            buf: Vec::new(),
            next_id: 1,
            timeout,
        })
    }

    /// Runs `ops` as one atomic transaction on the `Open_vSwitch` database and returns one
    /// result per op. An op-level error (e.g. a constraint violation) fails the whole call.
    pub async fn transact(&mut self, ops: Vec<Value>) -> Result<Vec<Value>, SwitchError> {
        let mut params = vec![json!("Open_vSwitch")];
        params.extend(ops);
        let result = self.call("transact", Value::Array(params)).await?;
        let results = match result {
            Value::Array(results) => results,
            other => return Err(protocol(format!("transact returned {other}"))),
        };
        if let Some(err) = results.iter().find_map(|r| r.get("error")) {
            let details = results
                .iter()
                .find_map(|r| r.get("details"))
                .and_then(Value::as_str)
                .unwrap_or("");
            return Err(SwitchError::new(
                SwitchErrorKind::Rejected,
                format!(
                    "OVSDB refused the change: {} {details}",
                    err.as_str().unwrap_or("?")
                )
                .trim_end()
                .to_string(),
            ));
        }
        Ok(results)
    }

    async fn call(&mut self, method: &str, params: Value) -> Result<Value, SwitchError> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"method": method, "params": params, "id": id}))
            .await?;
        tokio::time::timeout(self.timeout, self.reply_to(id))
            .await
            .map_err(|_| timed_out(method))?
    }

    async fn send(&mut self, message: &Value) -> Result<(), SwitchError> {
        let bytes = serde_json::to_vec(message).expect("JSON values serialize");
        tokio::time::timeout(self.timeout, self.io.write_all(&bytes))
            .await
            .map_err(|_| timed_out("write"))?
            .map_err(|e| unreachable("the OVSDB socket", e))
    }

    /// Reads messages until the reply to `id`, answering echo requests on the way.
    async fn reply_to(&mut self, id: u64) -> Result<Value, SwitchError> {
        loop {
            let message = self.next_message().await?;
            if message.get("method").and_then(Value::as_str) == Some("echo") {
                let echo_id = message.get("id").cloned().unwrap_or(Value::Null);
                let params = message.get("params").cloned().unwrap_or(json!([]));
                self.send(&json!({"id": echo_id, "result": params, "error": null}))
                    .await?;
                continue;
            }
            if message.get("id").and_then(Value::as_u64) != Some(id) {
                continue; // a notification or a stale reply
            }
            match message.get("error") {
                Some(Value::Null) | None => {
                    return Ok(message.get("result").cloned().unwrap_or(Value::Null))
                }
                Some(err) => return Err(protocol(format!("server error {err}"))),
            }
        }
    }

    /// The next complete JSON value on the stream. OVSDB sends bare concatenated objects.
    async fn next_message(&mut self) -> Result<Value, SwitchError> {
        loop {
            let mut values = serde_json::Deserializer::from_slice(&self.buf).into_iter::<Value>();
            match values.next() {
                Some(Ok(value)) => {
                    let used = values.byte_offset();
                    self.buf.drain(..used);
                    return Ok(value);
                }
                Some(Err(e)) if !e.is_eof() => return Err(protocol(format!("bad JSON: {e}"))),
                _ => {}
            }
            if self.buf.len() > MAX_MESSAGE_BYTES {
                return Err(protocol("reply too large".into()));
            }
            let mut chunk = [0u8; 8192];
            let n = self
                .io
                .read(&mut chunk)
                .await
                .map_err(|e| unreachable("the OVSDB socket", e))?;
            if n == 0 {
                return Err(unreachable("the OVSDB socket", "connection closed"));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

fn protocol(message: String) -> SwitchError {
    SwitchError::new(SwitchErrorKind::Rejected, format!("OVSDB: {message}"))
}

/// An OVSDB set of integers (`["set", [..]]`).
pub fn int_set(values: impl IntoIterator<Item = u16>) -> Value {
    json!(["set", values.into_iter().collect::<Vec<_>>()])
}

/// The integers of a column that is an optional integer or a set of integers.
pub fn ints(column: Option<&Value>) -> Vec<u16> {
    match column {
        Some(Value::Number(n)) => n.as_u64().map(|v| v as u16).into_iter().collect(),
        Some(Value::Array(pair)) if pair.first() == Some(&json!("set")) => pair
            .get(1)
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_u64)
                    .map(|v| v as u16)
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The string of a column that is an optional string (`"x"` or `["set", []]`).
pub fn opt_string(column: Option<&Value>) -> Option<&str> {
    column.and_then(Value::as_str)
}

/// The UUIDs in a column of references (`["uuid", u]` or `["set", [["uuid", u], ..]]`).
pub fn uuids(column: Option<&Value>) -> Vec<String> {
    fn one(v: &Value) -> Option<String> {
        match v.as_array()?.as_slice() {
            [tag, Value::String(u)] if tag == "uuid" => Some(u.clone()),
            _ => None,
        }
    }
    match column {
        Some(v) if one(v).is_some() => one(v).into_iter().collect(),
        Some(Value::Array(pair)) if pair.first() == Some(&json!("set")) => pair
            .get(1)
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(one).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_ovsdb_columns() {
        assert_eq!(ints(Some(&json!(100))), vec![100]);
        assert_eq!(ints(Some(&json!(["set", [200, 300]]))), vec![200, 300]);
        assert!(ints(Some(&json!(["set", []]))).is_empty());
        assert_eq!(opt_string(Some(&json!("trunk"))), Some("trunk"));
        assert_eq!(opt_string(Some(&json!(["set", []]))), None);
        assert_eq!(uuids(Some(&json!(["uuid", "a"]))), vec!["a"]);
        assert_eq!(
            uuids(Some(&json!(["set", [["uuid", "a"], ["uuid", "b"]]]))),
            vec!["a", "b"]
        );
        assert_eq!(int_set([5, 6]), json!(["set", [5, 6]]));
    }
}
