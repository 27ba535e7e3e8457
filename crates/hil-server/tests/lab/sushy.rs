//! `sushy-emulator` (sushy-tools, fake driver) on loopback: a real Redfish service for the
//! `redfish` OBM driver, with basic auth and a set of fake systems chosen by the test.
//!
//! The emulator runs from a Python venv (`$HIL_SUSHY_VENV`, default
//! `~/.cache/hil-lab/venv-sushy`, with `sushy-tools==2.2.0` and `bcrypt`). Each run gets its
//! own port, config and state dir: the emulator keeps system state in SQLite across restarts,
//! so a shared state dir would leak one test's power and boot settings into the next.
//!
//! Two emulator habits tests must allow for: power changes land 1-11 s after the reset
//! (poll with [`Sushy::wait_for_power`]), and `BootSourceOverrideEnabled` always reads back
//! `Continuous`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The emulator's only account.
pub const USER: &str = "admin";
pub const PASSWORD: &str = "password";

/// How long the emulator may take to answer its service root after starting. It takes about
/// 0.3 s on an idle machine; a busy CI runner compiling in parallel is much slower.
const START_LIMIT: Duration = Duration::from_secs(30);

/// How long a queued power change may take to land (the emulator's delay is at most 11 s).
const POWER_LIMIT: Duration = Duration::from_secs(15);

pub fn venv() -> PathBuf {
    std::env::var_os("HIL_SUSHY_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into()))
                .join(".cache/hil-lab/venv-sushy")
        })
}

/// A running emulator. Dropping it kills the process and removes its files.
pub struct Sushy {
    port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

/// `text` as a single-quoted Python string literal.
fn py_str(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// One `SUSHY_EMULATOR_FAKE_SYSTEMS` entry. The fake driver reads `nics` when asked for
/// Ethernet interfaces, so every system gets one.
fn system_entry(index: usize, uuid: &str, name: &str, power: &str) -> String {
    format!(
        "    {{'uuid': {}, 'name': {}, 'power_state': {}, 'external_notifier': False,\n     \
         'nics': [{{'mac': '52:54:00:00:01:{:02x}', 'ip': '10.77.1.{}'}}]}},\n",
        py_str(uuid),
        py_str(name),
        py_str(power),
        index % 256,
        index % 250 + 1,
    )
}

/// A GET with the emulator's credentials: status and body.
///
/// reqwest's blocking client runs its own runtime and panics when created or dropped inside
/// an async one, so the request runs on a thread of its own; that way the observer works
/// from plain and `#[tokio::test]` tests alike.
fn get(url: &str, auth: bool) -> Result<(u16, String), String> {
    std::thread::scope(|s| {
        s.spawn(|| {
            let client = reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .map_err(|e| e.to_string())?;
            let mut request = client.get(url);
            if auth {
                request = request.basic_auth(USER, Some(PASSWORD));
            }
            let response = request.send().map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            let body = response.text().map_err(|e| e.to_string())?;
            Ok((status, body))
        })
        .join()
        .expect("observer thread")
    })
}

impl Sushy {
    /// Starts an emulator serving `systems` as `(uuid, name, power)` with power `"On"` or
    /// `"Off"`, or returns None (see `super::available`) when the venv is missing.
    pub fn start(systems: &[(&str, &str, &str)]) -> Option<Sushy> {
        let venv = venv();
        let emulator = venv.join("bin/sushy-emulator");
        let python = venv.join("bin/python");
        let ready = emulator.is_file()
            && Command::new(&python)
                .args(["-c", "import sushy_tools, bcrypt"])
                .output()
                .is_ok_and(|o| o.status.success());
        let missing = (!ready).then(|| format!("no sushy-tools venv at {}", venv.display()));
        if !super::available("sushy-tools", missing) {
            return None;
        }

        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("state");
        std::fs::create_dir(&state).expect("state dir");
        let htpasswd = dir.path().join("htpasswd");
        let hash = Command::new(&python)
            .args([
                "-c",
                "import bcrypt, sys; sys.stdout.write(bcrypt.hashpw(sys.argv[1].encode(), \
                 bcrypt.gensalt(rounds=5)).decode())",
                PASSWORD,
            ])
            .output()
            .expect("bcrypt hash");
        assert!(
            hash.status.success(),
            "bcrypt: {}",
            String::from_utf8_lossy(&hash.stderr)
        );
        let line = format!("{USER}:{}\n", String::from_utf8_lossy(&hash.stdout).trim());
        std::fs::write(&htpasswd, line).expect("htpasswd");

        let port = super::free_tcp_port();
        let entries: String = systems
            .iter()
            .enumerate()
            .map(|(i, (uuid, name, power))| system_entry(i, uuid, name, power))
            .collect();
        let config = format!(
            "SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'\n\
             SUSHY_EMULATOR_LISTEN_PORT = {port}\n\
             SUSHY_EMULATOR_FAKE_DRIVER = True\n\
             SUSHY_EMULATOR_STATE_DIR = {}\n\
             SUSHY_EMULATOR_AUTH_FILE = {}\n\
             SUSHY_EMULATOR_FAKE_SYSTEMS = [\n{entries}]\n",
            py_str(&state.to_string_lossy()),
            py_str(&htpasswd.to_string_lossy()),
        );
        let conf = dir.path().join("emulator.conf");
        std::fs::write(&conf, config).expect("emulator.conf");

        let log = std::fs::File::create(dir.path().join("sushy.log")).expect("log file");
        let child = Command::new(&emulator)
            .arg("--config")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("start sushy-emulator");
        std::fs::write(dir.path().join("sushy.pid"), child.id().to_string()).expect("pidfile");
        let sushy = Sushy { port, child, dir };
        sushy.wait_until_ready();
        Some(sushy)
    }

    /// Polls the service root (open without credentials) until it answers 200. An installed
    /// emulator that will not start is a failure, not a skip.
    fn wait_until_ready(&self) {
        let root = format!("{}/redfish/v1/", self.url());
        let started = Instant::now();
        loop {
            if matches!(get(&root, false), Ok((200, _))) {
                return;
            }
            let pid = self.child.id();
            if !super::alive(pid) || started.elapsed() > START_LIMIT {
                panic!(
                    "sushy-emulator (pid {pid}) did not answer {root}; its log ends:\n{}",
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("sushy.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// The BMC address to register as the node's OBM `host`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The system's resource, read with an independent client.
    pub fn system(&self, uuid: &str) -> Value {
        let url = format!("{}/redfish/v1/Systems/{uuid}", self.url());
        let (status, body) = get(&url, true).unwrap_or_else(|e| panic!("GET {url}: {e}"));
        assert_eq!(status, 200, "GET {url}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: {e}: {body}"))
    }

    /// The system's `PowerState` as the emulator reports it (`On`, `Off`).
    pub fn power_state(&self, uuid: &str) -> String {
        self.system(uuid)["PowerState"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The system's `Boot.BootSourceOverrideTarget` (`Pxe`, `Hdd`, `None`).
    pub fn boot_target(&self, uuid: &str) -> String {
        self.system(uuid)["Boot"]["BootSourceOverrideTarget"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Polls the power state (every 0.25 s, for up to 15 s) until it reads `want`, and
    /// returns the last state seen, so `assert_eq!(lab.wait_for_power(u, "On"), "On")` shows
    /// what it was instead. Blocks the calling thread (and so a current-thread test runtime)
    /// while it waits; the emulator does not need the test's runtime to make progress.
    pub fn wait_for_power(&self, uuid: &str, want: &str) -> String {
        let started = Instant::now();
        loop {
            let state = self.power_state(uuid);
            if state == want || started.elapsed() > POWER_LIMIT {
                return state;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Sushy {
    fn drop(&mut self) {
        super::kill(self.child.id());
        let _ = self.child.wait();
    }
}
