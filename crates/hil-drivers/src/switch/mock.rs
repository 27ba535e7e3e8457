//! The `mock` switch (HIL's `hil.ext.switches.mock`): a switch that exists only as a state file.
//!
//! It keeps, per switch, `port → {channel → network id}` in `<state_dir>/<label>.json`, so a
//! test (or an operator trying HIL out) can see exactly what the worker did, even across server
//! restarts. Writing `<state_dir>/<label>.fail` makes every change on that switch fail with the
//! file's text, which is how tests exercise the worker's error path; writing a number of seconds
//! to `<state_dir>/<label>.delay` makes every change take that long first (a slow or, with a
//! large number, a hung switch), and `<label>.read-delay` does the same for every read-back.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use async_trait::async_trait;
use regex::Regex;

use super::{
    has_exactly_string_members, PortChange, PortState, SwitchDriver, SwitchError, SwitchErrorKind,
    SwitchSession, SwitchSpec,
};

pub const TYPE_URI: &str = "http://schema.massopencloud.org/haas/v0/switches/mock";

/// Port names HIL's mock switch accepts (`gi1/0/3`, `te1/0/12`).
static PORT_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(gi|te)\d+/\d+(/\d+)?$").expect("static regex"));

type SwitchState = std::collections::BTreeMap<String, PortState>;

pub struct MockDriver {
    state_dir: PathBuf,
}

impl MockDriver {
    pub fn new(state_dir: impl Into<PathBuf>) -> Self {
        MockDriver {
            state_dir: state_dir.into(),
        }
    }

    /// Reads the recorded state of every port of one switch.
    pub fn read_state(state_dir: &Path, label: &str) -> std::io::Result<SwitchState> {
        match fs::read(state_file(state_dir, label)) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SwitchState::new()),
            Err(e) => Err(e),
        }
    }
}

/// Labels become file names; anything but a conservative set of bytes is hex-escaped.
fn file_stem(label: &str) -> String {
    label
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn state_file(dir: &Path, label: &str) -> PathBuf {
    dir.join(format!("{}.json", file_stem(label)))
}

#[async_trait]
impl SwitchDriver for MockDriver {
    fn type_uri(&self) -> &'static str {
        TYPE_URI
    }

    fn extension_name(&self) -> &'static str {
        "hil.ext.switches.mock"
    }

    fn capabilities(&self) -> &'static [&'static str] {
        &["nativeless-trunk-mode"]
    }

    fn validate_config(&self, config: &serde_json::Map<String, serde_json::Value>) -> bool {
        has_exactly_string_members(config, &["hostname", "username", "password"])
    }

    fn validate_port_name(&self, name: &str) -> bool {
        PORT_NAME.is_match(name)
    }

    async fn open(&self, switch: &SwitchSpec) -> Result<Box<dyn SwitchSession>, SwitchError> {
        fs::create_dir_all(&self.state_dir).map_err(|e| {
            SwitchError::new(SwitchErrorKind::Unreachable, format!("mock state dir: {e}"))
        })?;
        Ok(Box::new(MockSession {
            dir: self.state_dir.clone(),
            label: switch.label.clone(),
        }))
    }
}

struct MockSession {
    dir: PathBuf,
    label: String,
}

impl MockSession {
    fn injected_fault(&self) -> Option<SwitchError> {
        let path = self.dir.join(format!("{}.fail", file_stem(&self.label)));
        let text = fs::read_to_string(path).ok()?;
        Some(SwitchError::new(
            SwitchErrorKind::Rejected,
            text.trim().to_string(),
        ))
    }

    /// The injected slowness, if any: seconds from the `.delay` (or `.read-delay`) file.
    fn injected_delay(&self, extension: &str) -> Option<std::time::Duration> {
        let path = self
            .dir
            .join(format!("{}.{extension}", file_stem(&self.label)));
        let secs: f64 = fs::read_to_string(path).ok()?.trim().parse().ok()?;
        std::time::Duration::try_from_secs_f64(secs).ok()
    }

    /// Read-modify-write of the state file under an exclusive lock, so that workers in several
    /// processes can share a mock switch.
    fn update(&self, change: impl FnOnce(&mut SwitchState)) -> Result<(), SwitchError> {
        let io = |e: std::io::Error| {
            SwitchError::new(
                SwitchErrorKind::Unreachable,
                format!("mock state file: {e}"),
            )
        };
        let lock_path = self.dir.join(format!("{}.lock", file_stem(&self.label)));
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(lock_path)
            .map_err(io)?;
        lock.lock().map_err(io)?;
        let mut state = MockDriver::read_state(&self.dir, &self.label).map_err(io)?;
        change(&mut state);
        let target = state_file(&self.dir, &self.label);
        let tmp = target.with_extension("json.tmp");
        let mut file = fs::File::create(&tmp).map_err(io)?;
        file.write_all(&serde_json::to_vec_pretty(&state).expect("state serializes"))
            .map_err(io)?;
        file.sync_all().map_err(io)?;
        fs::rename(&tmp, &target).map_err(io)?;
        Ok(())
    }
}

#[async_trait]
impl SwitchSession for MockSession {
    async fn apply(&mut self, change: &PortChange) -> Result<(), SwitchError> {
        if let Some(delay) = self.injected_delay("delay") {
            tokio::time::sleep(delay).await;
        }
        if let Some(fault) = self.injected_fault() {
            return Err(fault);
        }
        self.update(|state| match change {
            PortChange::Modify {
                port,
                channel,
                network_id: Some(id),
                ..
            } => {
                state
                    .entry(port.clone())
                    .or_default()
                    .insert(channel.clone(), id.clone());
            }
            PortChange::Modify {
                port,
                channel,
                network_id: None,
                ..
            } => {
                if let Some(p) = state.get_mut(port) {
                    p.remove(channel);
                    if p.is_empty() {
                        state.remove(port);
                    }
                }
            }
            PortChange::Revert { port } => {
                state.remove(port);
            }
        })
    }

    async fn port_state(&mut self, port: &str) -> Result<PortState, SwitchError> {
        if let Some(delay) = self.injected_delay("read-delay") {
            tokio::time::sleep(delay).await;
        }
        let state = MockDriver::read_state(&self.dir, &self.label).map_err(|e| {
            SwitchError::new(
                SwitchErrorKind::Unreachable,
                format!("mock state file: {e}"),
            )
        })?;
        Ok(state.get(port).cloned().unwrap_or_default())
    }

    async fn close(self: Box<Self>) -> Result<(), SwitchError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> SwitchSpec {
        SwitchSpec {
            label: "sw/1".into(),
            config: serde_json::Map::new(),
        }
    }

    #[tokio::test]
    async fn records_modify_and_revert() {
        let dir = tempfile::tempdir().unwrap();
        let driver = MockDriver::new(dir.path());
        let mut s = driver.open(&spec()).await.unwrap();
        let set = |ch: &str, id: Option<&str>| PortChange::Modify {
            port: "gi1/0/1".into(),
            channel: ch.into(),
            network_id: id.map(String::from),
            previous: None,
        };
        s.apply(&set("vlan/native", Some("100"))).await.unwrap();
        s.apply(&set("vlan/200", Some("200"))).await.unwrap();
        let st = s.port_state("gi1/0/1").await.unwrap();
        assert_eq!(st.get("vlan/native").map(String::as_str), Some("100"));
        assert_eq!(st.len(), 2);
        s.apply(&set("vlan/native", None)).await.unwrap();
        assert_eq!(s.port_state("gi1/0/1").await.unwrap().len(), 1);
        s.apply(&PortChange::Revert {
            port: "gi1/0/1".into(),
        })
        .await
        .unwrap();
        assert!(s.port_state("gi1/0/1").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn fault_file_fails_changes() {
        let dir = tempfile::tempdir().unwrap();
        let driver = MockDriver::new(dir.path());
        fs::write(dir.path().join("sw%2F1.fail"), "port is shut down\n").unwrap();
        let mut s = driver.open(&spec()).await.unwrap();
        let err = s
            .apply(&PortChange::Revert {
                port: "gi1/0/1".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.message, "port is shut down");
        assert_eq!(err.kind, SwitchErrorKind::Rejected);
    }

    #[test]
    fn validates_like_hil() {
        let d = MockDriver::new("/nonexistent");
        assert!(d.validate_port_name("gi1/0/3"));
        assert!(d.validate_port_name("te1/12"));
        assert!(!d.validate_port_name("eth0"));
        let cfg = serde_json::json!({"hostname": "h", "username": "u", "password": "p"});
        assert!(d.validate_config(cfg.as_object().unwrap()));
        let extra =
            serde_json::json!({"hostname": "h", "username": "u", "password": "p", "x": "y"});
        assert!(!d.validate_config(extra.as_object().unwrap()));
        let typed = serde_json::json!({"hostname": 1, "username": "u", "password": "p"});
        assert!(!d.validate_config(typed.as_object().unwrap()));
    }
}
