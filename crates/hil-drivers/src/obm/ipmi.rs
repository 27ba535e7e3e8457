//! IPMI 2.0 over LAN (`lanplus`) through `ipmitool`, HIL's original OBM type.
//!
//! Every call is one `ipmitool` run, killed when it exceeds the command timeout. The password
//! reaches ipmitool through its environment (`-E`, `IPMI_PASSWORD`), never its argument list,
//! so it does not show in `ps`. The serial console is a long-running `sol activate`.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use super::{
    check_members, Bmc, BootDevice, ConsoleSession, ObmDriver, ObmError, ObmErrorKind, ObmOptions,
    ObmSpec, PowerState,
};
use crate::address::host_and_port;

pub const TYPE_URI: &str = "http://schema.massopencloud.org/haas/v0/obm/ipmi";
const IPMI_PORT: u16 = 623;
/// ipmitool's line once a SOL session is up; everything after it is the node's output.
const SOL_READY: &[u8] = b"SOL Session operational";

pub struct IpmiObm;

impl ObmDriver for IpmiObm {
    fn type_uri(&self) -> &'static str {
        TYPE_URI
    }

    fn name(&self) -> &'static str {
        "ipmi"
    }

    fn validate(&self, config: &Map<String, Value>) -> Result<(), String> {
        check_members(
            config,
            &["host", "user", "password"],
            &[("cipher_suite", is_cipher_suite)],
        )?;
        match config.get("host").and_then(Value::as_str) {
            Some(h) if host_and_port(h, IPMI_PORT).is_some() => Ok(()),
            _ => Err("OBM member \"host\" must be a host, host:port or [v6]:port".into()),
        }
    }

    fn bmc(&self, spec: &ObmSpec, options: &ObmOptions) -> Result<Arc<dyn Bmc>, ObmError> {
        let (host, port) = spec
            .field("host")
            .and_then(|h| host_and_port(h, IPMI_PORT))
            .ok_or_else(|| ObmError::new(ObmErrorKind::Rejected, "bad BMC host"))?;
        let cipher_suite = spec
            .config
            .get("cipher_suite")
            .and_then(Value::as_u64)
            .map(|c| c as u8)
            .unwrap_or(options.ipmi_cipher_suite);
        Ok(Arc::new(IpmiBmc {
            host,
            port,
            user: spec.field("user").unwrap_or_default().to_string(),
            password: spec.field("password").unwrap_or_default().to_string(),
            cipher_suite,
            ipmitool: options.ipmitool.clone(),
            timeout: options.command_timeout,
        }))
    }
}

fn is_cipher_suite(v: &Value) -> bool {
    v.as_u64().is_some_and(|c| c <= 17)
}

#[derive(Clone)]
struct IpmiBmc {
    host: String,
    port: u16,
    user: String,
    password: String,
    cipher_suite: u8,
    ipmitool: String,
    timeout: Duration,
}

impl IpmiBmc {
    fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// `ipmitool -I lanplus -C <suite> -H <host> -p <port> -U <user> -E <args>`.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.ipmitool);
        cmd.args(["-I", "lanplus", "-C", &self.cipher_suite.to_string()])
            .args(["-H", &self.host, "-p", &self.port.to_string()])
            .args(["-U", &self.user, "-E"])
            .args(args)
            .env("IPMI_PASSWORD", &self.password)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        cmd
    }

    /// Runs one ipmitool command and returns its standard output.
    async fn run(&self, args: &[&str]) -> Result<String, ObmError> {
        let mut cmd = self.command(args);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let what = format!("ipmitool {}", args.join(" "));
        let output = tokio::time::timeout(self.timeout, cmd.output())
            .await
            .map_err(|_| ObmError::timeout(&format!("BMC {}", self.address()), self.timeout))?
            .map_err(|e| {
                ObmError::new(
                    ObmErrorKind::Unreachable,
                    format!("cannot run {}: {e}", self.ipmitool),
                )
            })?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if output.status.success() {
            tracing::debug!(bmc = %self.address(), %what, "ipmitool ok");
            return Ok(stdout);
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(self.failure(&what, &format!("{stdout}\n{stderr}")))
    }

    /// Turns ipmitool's complaint into an error that says what went wrong.
    fn failure(&self, what: &str, output: &str) -> ObmError {
        let said = said(output, &self.password);
        if said.contains("Unable to establish") {
            ObmError::new(
                ObmErrorKind::Unreachable,
                format!(
                    "no IPMI session with BMC {} (wrong user or password, wrong cipher suite, \
                     or no BMC answering): {said}",
                    self.address()
                ),
            )
        } else {
            ObmError::new(
                ObmErrorKind::Rejected,
                format!("BMC {} refused `{what}`: {said}", self.address()),
            )
        }
    }

    async fn chassis(&self, args: &[&str]) -> Result<String, ObmError> {
        let mut full = vec!["chassis"];
        full.extend_from_slice(args);
        self.run(&full).await
    }

    /// Starts `sol activate` and waits until ipmitool reports the session operational.
    async fn activate(&self) -> Result<SolSession, ObmError> {
        let mut child = self
            .command(&["sol", "activate"])
            // ipmitool reads its escape sequences from stdin; an open pipe we never write to
            // keeps the session up without a terminal.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                ObmError::new(
                    ObmErrorKind::Unreachable,
                    format!("cannot run {}: {e}", self.ipmitool),
                )
            })?;
        let mut stdout = child.stdout.take().expect("piped stdout");
        let stdin = child.stdin.take().expect("piped stdin");
        let mut seen = Vec::new();
        let ready = tokio::time::timeout(self.timeout, async {
            let mut chunk = [0u8; 4096];
            loop {
                let n = stdout.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    return false;
                }
                seen.extend_from_slice(&chunk[..n]);
                if find(&seen, SOL_READY).is_some() {
                    return true;
                }
            }
        })
        .await;
        match ready {
            Ok(true) => {
                let pending = after_ready_line(&seen);
                drain_stderr(&mut child, self.address());
                Ok(SolSession {
                    child,
                    stdout,
                    _stdin: stdin,
                    bmc: self.clone(),
                    pending,
                })
            }
            Ok(false) => {
                let mut err = Vec::new();
                if let Some(mut stderr) = child.stderr.take() {
                    let _ = stderr.read_to_end(&mut err).await;
                }
                let _ = child.wait().await;
                let text = format!(
                    "{}\n{}",
                    String::from_utf8_lossy(&seen),
                    String::from_utf8_lossy(&err)
                );
                Err(self.failure("sol activate", &text))
            }
            Err(_) => Err(ObmError::timeout(
                &format!("BMC {} (sol activate)", self.address()),
                self.timeout,
            )),
        }
    }
}

#[async_trait]
impl Bmc for IpmiBmc {
    async fn power_on(&self) -> Result<(), ObmError> {
        self.chassis(&["power", "on"]).await.map(drop)
    }

    async fn power_off(&self) -> Result<(), ObmError> {
        self.chassis(&["power", "off"]).await.map(drop)
    }

    /// HIL's sequence: reset (force) or cycle, and power on when that fails; BMCs refuse a
    /// cycle of a node that is off.
    async fn power_cycle(&self, force: bool) -> Result<(), ObmError> {
        let restart = if force { "reset" } else { "cycle" };
        match self.chassis(&["power", restart]).await {
            Ok(_) => Ok(()),
            Err(e) if e.kind == ObmErrorKind::Rejected => self.power_on().await,
            Err(e) => Err(e),
        }
    }

    async fn power_status(&self) -> Result<PowerState, ObmError> {
        let out = self.chassis(&["power", "status"]).await?;
        parse_power_status(&out).ok_or_else(|| {
            ObmError::new(
                ObmErrorKind::Rejected,
                format!(
                    "BMC {} gave an unexpected power status: {}",
                    self.address(),
                    out.trim()
                ),
            )
        })
    }

    async fn set_bootdev(&self, device: BootDevice) -> Result<(), ObmError> {
        self.chassis(&["bootdev", device.as_str(), "options=persistent"])
            .await
            .map(drop)
    }

    fn has_console(&self) -> bool {
        true
    }

    /// A stale SOL payload (a session left by a killed client) is freed with `sol deactivate`
    /// and the activation tried once more.
    async fn open_console(&self) -> Result<Box<dyn ConsoleSession>, ObmError> {
        let session = match self.activate().await {
            Err(e) if e.message.contains("already active") => {
                tracing::info!(bmc = %self.address(), "SOL payload already active; deactivating it");
                let _ = self.run(&["sol", "deactivate"]).await;
                self.activate().await
            }
            other => other,
        }?;
        Ok(Box::new(session))
    }
}

/// ipmitool's `Chassis Power is on|off`.
fn parse_power_status(out: &str) -> Option<PowerState> {
    let line = out.lines().find(|l| l.contains("Chassis Power is"))?;
    match line.rsplit(' ').next()?.trim() {
        "on" => Some(PowerState::On),
        "off" => Some(PowerState::Off),
        _ => None,
    }
}

/// The meaningful lines of ipmitool's output (its terminal warnings dropped), with the
/// password blanked in case a BMC echoes it.
fn said(output: &str, password: &str) -> String {
    let text = output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("tcgetattr"))
        .collect::<Vec<_>>()
        .join("; ");
    if password.is_empty() {
        text
    } else {
        text.replace(password, "********")
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// What followed ipmitool's "SOL Session operational" line: the node's first output.
fn after_ready_line(seen: &[u8]) -> Vec<u8> {
    let start = find(seen, SOL_READY).unwrap_or(0);
    match seen[start..].iter().position(|&b| b == b'\n') {
        Some(nl) => seen[start + nl + 1..].to_vec(),
        None => Vec::new(),
    }
}

/// ipmitool complains on stderr about the missing terminal; read it so it never blocks.
fn drain_stderr(child: &mut Child, bmc: String) {
    if let Some(mut stderr) = child.stderr.take() {
        tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            while let Ok(n) = stderr.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                tracing::debug!(%bmc, "sol: {}", String::from_utf8_lossy(&buf[..n]).trim());
            }
        });
    }
}

struct SolSession {
    child: Child,
    stdout: ChildStdout,
    _stdin: ChildStdin,
    bmc: IpmiBmc,
    /// Output read along with the ready line, handed out first.
    pending: Vec<u8>,
}

#[async_trait]
impl ConsoleSession for SolSession {
    async fn next_output(&mut self) -> Result<Option<Vec<u8>>, ObmError> {
        if !self.pending.is_empty() {
            return Ok(Some(std::mem::take(&mut self.pending)));
        }
        let mut chunk = vec![0u8; 4096];
        match self.stdout.read(&mut chunk).await {
            Ok(0) => Ok(None),
            Ok(n) => {
                chunk.truncate(n);
                Ok(Some(chunk))
            }
            Err(e) => Err(ObmError::new(
                ObmErrorKind::Unreachable,
                format!(
                    "reading the SOL session of {} failed: {e}",
                    self.bmc.address()
                ),
            )),
        }
    }

    async fn close(mut self: Box<Self>) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        // A killed ipmitool leaves the payload active on the BMC until it is deactivated.
        if let Err(e) = self.bmc.run(&["sol", "deactivate"]).await {
            tracing::debug!(bmc = %self.bmc.address(), "sol deactivate: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn registrations_follow_hils_schema() {
        let ok = config(json!({"host": "10.0.0.9", "user": "root", "password": "pw"}));
        assert_eq!(IpmiObm.validate(&ok), Ok(()));
        let with_port = config(
            json!({"host": "127.0.0.1:9623", "user": "u", "password": "p",
                                      "cipher_suite": 17}),
        );
        assert_eq!(IpmiObm.validate(&with_port), Ok(()));
        for bad in [
            json!({"host": "h", "user": "u"}),
            json!({"host": "h", "user": "u", "password": 5}),
            json!({"host": "h", "user": "u", "password": "p", "port": 623}),
            json!({"host": "h", "user": "u", "password": "p", "cipher_suite": 99}),
            json!({"host": "h:x", "user": "u", "password": "p"}),
        ] {
            assert!(IpmiObm.validate(&config(bad.clone())).is_err(), "{bad}");
        }
    }

    #[test]
    fn power_status_lines() {
        assert_eq!(
            parse_power_status("Chassis Power is on\n"),
            Some(PowerState::On)
        );
        assert_eq!(
            parse_power_status("Chassis Power is off\n"),
            Some(PowerState::Off)
        );
        assert_eq!(parse_power_status("garbage"), None);
    }

    #[test]
    fn ipmitool_complaints_are_cleaned_and_redacted() {
        let out = "tcgetattr: Inappropriate ioctl\nError: bad pw s3cret\n\n";
        assert_eq!(said(out, "s3cret"), "Error: bad pw ********");
    }

    #[test]
    fn the_ready_line_is_not_console_output() {
        let seen = b"[SOL Session operational.  Use ~? for help]\r\n\r\nnode1 login: ";
        assert_eq!(after_ready_line(seen), b"\r\nnode1 login: ".to_vec());
        assert_eq!(
            after_ready_line(b"[SOL Session operational."),
            Vec::<u8>::new()
        );
    }

    #[test]
    fn the_password_is_not_an_argument() {
        let bmc = IpmiBmc {
            host: "bmc".into(),
            port: 623,
            user: "root".into(),
            password: "s3cret".into(),
            cipher_suite: 3,
            ipmitool: "ipmitool".into(),
            timeout: Duration::from_secs(1),
        };
        let cmd = bmc.command(&["chassis", "power", "status"]);
        let args: Vec<_> = cmd
            .as_std()
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(!args.iter().any(|a| a.contains("s3cret")), "{args:?}");
        assert!(args.contains(&"-E".to_string()));
        assert_eq!(&args[..4], ["-I", "lanplus", "-C", "3"]);
    }
}
