//! `hil-admin serve` as a child process, configured through the environment: for tests that
//! kill the server, read its log, or measure its memory.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::ADMIN;

pub struct Process {
    pub child: Child,
    pub url: String,
}

impl Process {
    /// The server's resident memory, in KiB (Linux `/proc`).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server is running");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/<pid>/status")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server on `port` over `db_url`; `env` adds `HIL_*` settings. Its log goes to
/// `<dir>/server.log`.
pub fn spawn_server(
    dir: &std::path::Path,
    db_url: &str,
    port: u16,
    env: &[(&str, &str)],
) -> Process {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hil-admin"));
    command
        .arg("serve")
        .current_dir(dir)
        .env("HIL_DATA_DIR", dir)
        .env("HIL_DATABASE__URL", db_url)
        .env("HIL_LISTEN", format!("127.0.0.1:{port}"))
        .env("HIL_ADMIN_PASSWORD", ADMIN.1)
        .env("HIL_WORKER__POLL_INTERVAL_SECS", "0.05")
        .env("HIL_WORKER__CLAIM_LEASE_SECS", "1")
        .env(
            "HIL_LOG",
            std::env::var("HIL_TEST_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
        );
    for (key, value) in env {
        command.env(key, value);
    }
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .unwrap();
    let child = command
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn hil-admin");
    Process {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn wait_ready(client: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if client
            .get(format!("{url}/v0/nodes/all"))
            .basic_auth(ADMIN.0, Some(ADMIN.1))
            .send()
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server at {url} did not come up");
}
