//! Accepting connections: how long a client may take to send its request headers, how many
//! connections are open at once, the peer's address for the handlers, a graceful drain at
//! shutdown, and HIL's JSON error body even for requests too malformed to reach the router.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// Limits on connections, from `[limits]`.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// A request's headers must arrive within this long, or the connection is closed (this
    /// also ends idle keep-alive connections, and slow-header attacks).
    pub header_timeout: Duration,
    /// Connections open at once; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// Connections open at once from one address; further ones are closed on accept.
    pub max_per_address: usize,
    /// Addresses (trusted proxies) that only count towards `max_connections`.
    pub exempt: Vec<IpAddr>,
    /// At shutdown, how long requests in flight may take to finish.
    pub drain_timeout: Duration,
}

/// Serves `app` on `listener` until `shutdown` completes, then drains the open connections.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let per_address = Arc::new(AddressCounts::default());
    let graceful = GracefulShutdown::new();
    // HTTP/1.1 only: HIL's clients speak nothing else, and a protocol-sniffing server would
    // wait for a silent client's first byte without any timeout.
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before accept: wait a
                    // little instead of spinning.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let own_slot = if limits.exempt.contains(&peer.ip()) {
            None
        } else {
            match per_address.enter(peer.ip(), limits.max_per_address) {
                Some(entered) => Some(entered),
                None => {
                    tracing::debug!(%peer, "connection refused: too many from this address");
                    continue;
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let service = app
            .clone()
            .map_request(move |mut request: axum::http::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let io = TokioIo::new(JsonParseErrors::new(stream));
        let connection = builder.serve_connection(io, TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, "connection ended: {e}");
            }
            drop(own_slot);
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after the drain timeout were cut off");
    }
}

/// Open connections per client address.
#[derive(Default)]
struct AddressCounts(Mutex<HashMap<IpAddr, usize>>);

/// One open connection of an address, counted until dropped.
struct Entered {
    counts: Arc<AddressCounts>,
    address: IpAddr,
}

impl AddressCounts {
    /// Counts a new connection from `address`, unless it already has `limit` open.
    fn enter(self: &Arc<Self>, address: IpAddr, limit: usize) -> Option<Entered> {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let open = counts.entry(address).or_insert(0);
        if *open >= limit {
            return None;
        }
        *open += 1;
        Some(Entered {
            counts: self.clone(),
            address,
        })
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(open) = counts.get_mut(&self.address) {
            *open -= 1;
            if *open == 0 {
                counts.remove(&self.address);
            }
        }
    }
}

/// The client's address: the connection's peer, or, when the peer is one of the trusted
/// reverse proxies, the last `X-Forwarded-For` address that is not itself a trusted proxy.
/// None when the router is driven without the connection loop.
pub fn client_address(
    parts: &axum::http::request::Parts,
    trusted_proxies: &[IpAddr],
) -> Option<IpAddr> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
    if !trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|a| a.trim().parse::<IpAddr>())
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    let client = forwarded
        .into_iter()
        .rev()
        .find(|a| !trusted_proxies.contains(a));
    Some(client.unwrap_or(peer))
}

/// A connection whose write side turns hyper's own answers to unparseable requests (a 4xx
/// status with an empty body: URI too long, headers too large, not HTTP) into HIL's JSON
/// error format. The router never sees such requests, and every answer the router gives
/// has a body, so an empty 4xx can only come from hyper.
struct JsonParseErrors<IO> {
    inner: IO,
    /// A rewritten response still being written, and the length of the original that the
    /// caller is told was written once it is out.
    rewritten: Option<Rewritten>,
}

struct Rewritten {
    bytes: Vec<u8>,
    written: usize,
    replaces: usize,
}

impl<IO> JsonParseErrors<IO> {
    fn new(inner: IO) -> Self {
        JsonParseErrors {
            inner,
            rewritten: None,
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for JsonParseErrors<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for JsonParseErrors<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.rewritten.is_none() {
            match json_parse_error(buf) {
                Some(bytes) => {
                    self.rewritten = Some(Rewritten {
                        bytes,
                        written: 0,
                        replaces: buf.len(),
                    })
                }
                None => return Pin::new(&mut self.inner).poll_write(cx, buf),
            }
        }
        let this = &mut *self;
        let pending = this.rewritten.as_mut().expect("set above");
        while pending.written < pending.bytes.len() {
            let n = ready!(
                Pin::new(&mut this.inner).poll_write(cx, &pending.bytes[pending.written..])
            )?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            pending.written += n;
        }
        let replaces = pending.replaces;
        this.rewritten = None;
        Poll::Ready(Ok(replaces))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// If `head` is a complete 4xx response head with `content-length: 0`, the same response with
/// a JSON error body.
fn json_parse_error(head: &[u8]) -> Option<Vec<u8>> {
    // Cheap checks first: this runs on every write, most of them large 2xx bodies.
    let status_class = head.get(9).copied();
    if head.len() > 512 || !head.starts_with(b"HTTP/1.") || status_class != Some(b'4') {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let rest = text
        .strip_prefix("HTTP/1.1 4")
        .or_else(|| text.strip_prefix("HTTP/1.0 4"))?;
    let header_block = text.strip_suffix("\r\n\r\n")?;
    if header_block.contains("\r\n\r\n") {
        return None;
    }
    let mut lines = header_block.split("\r\n");
    let status_line = lines.next()?;
    let headers: Vec<&str> = lines.collect();
    let empty_body = headers
        .iter()
        .any(|h| h.eq_ignore_ascii_case("content-length: 0"));
    if !empty_body {
        return None;
    }
    let msg = match rest.get(..2) {
        Some("14") => "The request URI is too long.",
        Some("31") => "The request headers are too large.",
        _ => "The request is not valid HTTP.",
    };
    let body = serde_json::to_vec(&hil_types::ErrorBody {
        error_type: hil_types::ErrorType::Validation.name().into(),
        msg: msg.into(),
    })
    .ok()?;
    let mut out = format!("{status_line}\r\n");
    for header in headers {
        if !header.eq_ignore_ascii_case("content-length: 0") {
            out.push_str(header);
            out.push_str("\r\n");
        }
    }
    out.push_str("content-type: application/json\r\n");
    out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let mut out = out.into_bytes();
    out.extend_from_slice(&body);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(peer: &str, forwarded: &[&str]) -> axum::http::request::Parts {
        let mut request = axum::http::Request::new(());
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(peer.parse().unwrap(), 4000)));
        for f in forwarded {
            request
                .headers_mut()
                .append("x-forwarded-for", f.parse().unwrap());
        }
        request.into_parts().0
    }

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        let direct = parts("192.0.2.9", &["203.0.113.5"]);
        assert_eq!(client_address(&direct, &[proxy]), ip("192.0.2.9"));
        let proxied = parts("10.0.0.1", &["198.51.100.1, 203.0.113.5"]);
        assert_eq!(client_address(&proxied, &[proxy]), ip("203.0.113.5"));
        let chained = parts("10.0.0.1", &["203.0.113.5", "10.0.0.1"]);
        assert_eq!(client_address(&chained, &[proxy]), ip("203.0.113.5"));
        let garbage = parts("10.0.0.1", &["not-an-address"]);
        assert_eq!(client_address(&garbage, &[proxy]), ip("10.0.0.1"));
        assert_eq!(
            client_address(&parts("10.0.0.1", &[]), &[proxy]),
            ip("10.0.0.1")
        );
        let unrouted = axum::http::Request::new(()).into_parts().0;
        assert_eq!(client_address(&unrouted, &[proxy]), None);
    }

    #[test]
    fn hypers_empty_4xx_answers_get_a_json_body() {
        let head = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let out = String::from_utf8(json_parse_error(head).unwrap()).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 414 URI Too Long\r\n"));
        assert!(head.contains("content-type: application/json"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["type"], "ValidationError");
        assert_eq!(body["msg"], "The request URI is too long.");
    }

    #[test]
    fn other_writes_pass_through() {
        assert!(json_parse_error(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(json_parse_error(b"HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\n\r\n").is_none());
        assert!(json_parse_error(
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n{\"type\":1}"
        )
        .is_none());
        assert!(json_parse_error(b"{\"nodes\": []}").is_none());
    }
}
