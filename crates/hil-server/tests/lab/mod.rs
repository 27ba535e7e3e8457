//! Shared plumbing for lab tests: tests that drive real third-party programs (Open vSwitch,
//! switch emulators) installed by `scripts/test.sh`.
//!
//! When a peer is missing, a lab test skips with a message, so `cargo test` works on a bare
//! machine. `scripts/test.sh` sets `HIL_LAB_REQUIRED=1`, which turns a skip into a failure:
//! in CI a missing peer must never pass silently.

#![allow(dead_code)]

pub mod fakeswitch;
pub mod ipmi;
pub mod keystone;
pub mod libvirt;
pub mod ovs;
pub mod rest_switch;
pub mod ssh_standin;
pub mod standin_vendors;
pub mod support;
pub mod sushy;

pub use support::*;

static LOGS: std::sync::OnceLock<std::sync::Arc<std::sync::Mutex<Vec<u8>>>> =
    std::sync::OnceLock::new();

/// Captures this test process's log output at debug level, so a test can check what the
/// server logged (e.g. that no secret appears). Call it before starting a server.
pub fn capture_logs() {
    LOGS.get_or_init(|| {
        let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let make_writer = move || LogWriter(sink.clone());
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_writer(make_writer)
            .with_ansi(false)
            .try_init();
        buffer
    });
}

/// Everything logged since `capture_logs`.
pub fn log_text() -> String {
    LOGS.get()
        .map(|b| String::from_utf8_lossy(&b.lock().unwrap()).into_owned())
        .unwrap_or_default()
}

struct LogWriter(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
