//! Serial consoles: one session per node while its OBM is enabled, output kept in a bounded
//! buffer (and optionally a file), and one viewer at a time.
//!
//! HIL's console broke when a session was left behind ("SOL payload already active") or its
//! ipmitool died. Here a session task owns the BMC's console: it reopens a session that
//! ended (the driver frees a stale payload first), backing off while the BMC refuses, and it
//! records output whether or not anyone watches. A viewer gets the buffered tail, then live
//! output; a new viewer ends the previous one's stream, as in HIL.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use hil_drivers::obm::{Bmc, ConsoleSession, ObmErrorKind};
use tokio::io::AsyncWriteExt;
use tokio::sync::{broadcast, watch};

use crate::config::ObmConfig;

/// Live chunks a slow viewer may fall behind by before it misses output.
const LIVE_CHUNKS: usize = 1024;
const MAX_BACKOFF: Duration = Duration::from_secs(30);

pub struct ConsoleHub {
    /// `obm.console`, and this process runs the worker (see `keep_none`).
    enabled: AtomicBool,
    buffer_bytes: usize,
    log_dir: Option<PathBuf>,
    nodes: Mutex<HashMap<i64, Kept>>,
    /// How long `stop` waits for a session to close (it frees the BMC's SOL payload).
    close_limit: Duration,
}

/// A kept console and the task that keeps it.
struct Kept {
    console: Arc<NodeConsole>,
    task: tokio::task::JoinHandle<()>,
}

struct NodeConsole {
    label: String,
    tail: Mutex<VecDeque<u8>>,
    live: broadcast::Sender<Bytes>,
    /// The current viewer's number; a stream ends when it no longer matches its own.
    viewer: watch::Sender<u64>,
    /// Set to end the session task.
    stop: watch::Sender<bool>,
}

/// No viewer number is ever this; set when the console is stopped, it ends every stream.
const CLOSED: u64 = u64::MAX;

impl ConsoleHub {
    pub fn new(config: &ObmConfig) -> ConsoleHub {
        ConsoleHub {
            enabled: AtomicBool::new(config.console),
            buffer_bytes: config.console_buffer_bytes,
            log_dir: config.console_log_dir.clone(),
            nodes: Mutex::new(HashMap::new()),
            close_limit: config.command_timeout() + Duration::from_secs(1),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Keeps no consoles in this process. API-only servers (`serve --no-worker`) call it, so
    /// that only the process running the worker holds SOL sessions: two processes would keep
    /// taking the one payload a BMC has from each other.
    pub fn keep_none(&self) {
        self.enabled.store(false, Ordering::Relaxed);
    }

    fn get(&self, node_id: i64) -> Option<Arc<NodeConsole>> {
        self.lock().get(&node_id).map(|kept| kept.console.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Kept>> {
        self.nodes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts keeping the node's console; a no-op when it is kept already.
    pub fn start(&self, node_id: i64, label: &str, bmc: Arc<dyn Bmc>) {
        if !self.enabled() {
            return;
        }
        let mut nodes = self.lock();
        if nodes.contains_key(&node_id) {
            return;
        }
        let (stop, stop_rx) = watch::channel(false);
        let console = Arc::new(NodeConsole {
            label: label.to_string(),
            tail: Mutex::new(VecDeque::new()),
            live: broadcast::channel(LIVE_CHUNKS).0,
            viewer: watch::channel(0).0,
            stop,
        });
        let log_file = self.log_file(label);
        let limit = self.buffer_bytes;
        let task = tokio::spawn(keep_console(console.clone(), bmc, stop_rx, limit, log_file));
        nodes.insert(node_id, Kept { console, task });
        tracing::info!(node = %label, "console session started");
    }

    /// Ends the node's session, its viewer's stream, and forgets its output (buffer and
    /// file), so that the node's next tenant cannot read it. Returns once the session is
    /// closed, so the BMC's serial payload is free for whoever comes next.
    pub async fn stop(&self, node_id: i64, label: &str) {
        let kept = self.lock().remove(&node_id);
        if let Some(Kept { console, task }) = kept {
            console.end();
            if tokio::time::timeout(self.close_limit, task).await.is_err() {
                tracing::warn!(node = %console.label, "console session did not close in time");
            }
            tracing::info!(node = %console.label, "console session stopped");
        }
        if let Some(path) = self.log_file(label) {
            match tokio::fs::remove_file(&path).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!(path = %path.display(), "cannot remove console log: {e}"),
            }
        }
    }

    /// Ends every session (server shutdown). Buffers go with the process; files stay.
    pub fn stop_all(&self) {
        for (_, kept) in self.lock().drain() {
            kept.console.end();
        }
    }

    /// The node's console for a new viewer: the buffered tail, then live output, until
    /// another viewer takes over or the console stops. `None` when no session is kept.
    pub fn view(&self, node_id: i64) -> Option<impl Stream<Item = Result<Bytes, Infallible>>> {
        let console = self.get(node_id)?;
        // Snapshot and subscription under the tail lock (which `record` holds while it
        // sends): no chunk is missed or repeated.
        let (tail, live) = {
            let tail = console.tail.lock().unwrap_or_else(|e| e.into_inner());
            let bytes = Bytes::from(tail.iter().copied().collect::<Vec<u8>>());
            (bytes, console.live.subscribe())
        };
        let mut me = 0;
        console.viewer.send_modify(|n| {
            *n += 1;
            me = *n;
        });
        let viewer = console.viewer.subscribe();
        let first = (!tail.is_empty()).then_some(tail);
        Some(futures::stream::unfold(
            (first, live, viewer),
            move |(first, mut live, mut viewer)| async move {
                if let Some(tail) = first {
                    return Some((Ok(tail), (None, live, viewer)));
                }
                loop {
                    if *viewer.borrow() != me {
                        return None;
                    }
                    tokio::select! {
                        _ = viewer.changed() => continue,
                        chunk = live.recv() => match chunk {
                            Ok(bytes) => return Some((Ok(bytes), (None, live, viewer))),
                            Err(broadcast::error::RecvError::Lagged(_)) => continue,
                            Err(broadcast::error::RecvError::Closed) => return None,
                        },
                    }
                }
            },
        ))
    }

    /// `<console_log_dir>/<node>.log`, with characters unsafe in file names replaced.
    fn log_file(&self, label: &str) -> Option<PathBuf> {
        let safe: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.log_dir
            .as_ref()
            .map(|dir| dir.join(format!("{safe}.log")))
    }
}

impl NodeConsole {
    /// Ends the viewer's stream and tells the session task to close the session.
    fn end(&self) {
        self.viewer.send_replace(CLOSED);
        self.stop.send_replace(true);
    }

    /// Keeps the last `limit` bytes and hands the chunk to the viewer.
    fn record(&self, chunk: &[u8], limit: usize) {
        let mut tail = self.tail.lock().unwrap_or_else(|e| e.into_inner());
        tail.extend(chunk);
        let excess = tail.len().saturating_sub(limit);
        tail.drain(..excess);
        // No viewer is fine: the output is in the tail.
        let _ = self.live.send(Bytes::copy_from_slice(chunk));
    }
}

/// The session task: open, record until the session ends, reopen with backoff; until stopped.
async fn keep_console(
    console: Arc<NodeConsole>,
    bmc: Arc<dyn Bmc>,
    mut stop: watch::Receiver<bool>,
    limit: usize,
    log_file: Option<PathBuf>,
) {
    let mut backoff = Duration::from_secs(1);
    let mut log = open_log(log_file.as_ref()).await;
    while !*stop.borrow() {
        let opened = tokio::select! {
            _ = stop.changed() => break,
            opened = bmc.open_console() => opened,
        };
        match opened {
            Ok(session) => {
                tracing::debug!(node = %console.label, "console session open");
                backoff = Duration::from_secs(1);
                record_session(&console, session, &mut stop, limit, &mut log).await;
            }
            Err(e) if e.kind == ObmErrorKind::Unsupported => return,
            Err(e) => tracing::warn!(node = %console.label, "console session failed: {e}"),
        }
        tokio::select! {
            _ = stop.changed() => break,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Records one session's output until it ends or the console is stopped, then closes it.
async fn record_session(
    console: &NodeConsole,
    mut session: Box<dyn ConsoleSession>,
    stop: &mut watch::Receiver<bool>,
    limit: usize,
    log: &mut Option<tokio::fs::File>,
) {
    loop {
        let output = tokio::select! {
            _ = stop.changed() => break,
            output = session.next_output() => output,
        };
        match output {
            Ok(Some(chunk)) => {
                console.record(&chunk, limit);
                if let Some(file) = log.as_mut() {
                    if let Err(e) = file.write_all(&chunk).await {
                        tracing::warn!(node = %console.label, "console log write failed: {e}");
                        *log = None;
                    }
                }
            }
            Ok(None) => {
                tracing::info!(node = %console.label, "console session ended; reopening");
                break;
            }
            Err(e) => {
                tracing::warn!(node = %console.label, "console session broke: {e}");
                break;
            }
        }
    }
    session.close().await;
}

async fn open_log(path: Option<&PathBuf>) -> Option<tokio::fs::File> {
    let path = path?;
    if let Some(dir) = path.parent() {
        let _ = tokio::fs::create_dir_all(dir).await;
    }
    match tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .await
    {
        Ok(file) => Some(file),
        Err(e) => {
            tracing::warn!(path = %path.display(), "cannot open console log: {e}");
            None
        }
    }
}
