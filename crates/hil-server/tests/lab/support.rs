//! Processes, ports and skipping: what every lab peer needs, with nothing but the standard
//! library (so other crates' tests can include it, with the peers they use, by `#[path]`).

use std::path::PathBuf;
use std::process::{Command, Output};

/// The repository's `lab/` directory (helper scripts written for these tests).
pub fn scripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../lab")
}

/// Returns false (after saying why) when the test should be skipped; panics instead when
/// `HIL_LAB_REQUIRED=1`.
pub fn available(what: &str, missing: Option<String>) -> bool {
    let Some(reason) = missing else {
        return true;
    };
    if std::env::var("HIL_LAB_REQUIRED").is_ok_and(|v| v == "1") {
        panic!("{what} lab is required but unavailable: {reason}");
    }
    eprintln!("skipping {what} lab test: {reason}");
    false
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `None` when every program is on PATH, else the first missing one.
pub fn missing_program(programs: &[&str]) -> Option<String> {
    programs
        .iter()
        .find(|p| {
            Command::new("sh")
                .args(["-c", &format!("command -v {p}")])
                .output()
                .map_or(true, |o| !o.status.success())
        })
        .map(|p| format!("{p} is not installed"))
}

/// A TCP port on 127.0.0.1 that nothing listens on (for a peer to bind next).
pub fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free tcp port")
}

/// A UDP port on 127.0.0.1 that nothing uses.
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("free udp port")
}

/// Runs a command, panicking with its stderr if it cannot start.
pub fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

/// Runs a command that must succeed.
pub fn must(program: &str, args: &[&str]) -> String {
    let out = run(program, args);
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether a process is alive. PID 1 here reaps late, so a zombie counts as dead.
pub fn alive(pid: u32) -> bool {
    let out = run("ps", &["-o", "stat=", "-p", &pid.to_string()]);
    let stat = String::from_utf8_lossy(&out.stdout);
    out.status.success() && !stat.trim().starts_with('Z') && !stat.trim().is_empty()
}

/// Kills a process and waits (briefly) until it is gone.
pub fn kill(pid: u32) {
    let _ = run("kill", &[&pid.to_string()]);
    for _ in 0..50 {
        if !alive(pid) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = run("kill", &["-9", &pid.to_string()]);
}
