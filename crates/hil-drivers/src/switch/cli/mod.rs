//! SSH CLI switches: one prompt-driven session engine, and per-vendor tables (`dialect`).
//!
//! Unlike HIL, which typed commands ahead and only looked for a few prompts, the engine waits
//! for the prompt after every line and reads what the switch printed in between, so a refused
//! command fails its action with the switch's own words instead of passing silently.
//!
//! A session logs in once and then applies any number of changes. Between changes it stays in
//! global configuration mode, so a change costs `interface`, its commands and `exit`.

pub mod dialect;
pub(crate) mod ssh;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use async_trait::async_trait;
use regex::{Regex, RegexSet, RegexSetBuilder};
use serde_json::Value;

use self::dialect::{render, Dialect, Values};
use self::ssh::{Shell, Target};
use crate::address::host_and_port;

use super::{
    DriverOptions, PortChange, PortState, SwitchDriver, SwitchError, SwitchErrorKind,
    SwitchSession, SwitchSpec, VlanOp,
};

/// The SSH port when `hostname` names none.
const SSH_PORT: u16 = 22;

pub struct CliDriver {
    dialect: &'static Dialect,
    port_name: Regex,
    outcomes: Arc<Outcomes>,
    options: DriverOptions,
    known_hosts: PathBuf,
}

/// The dialect's patterns for judging output, compiled once per driver and shared by its
/// sessions.
struct Outcomes {
    /// Any of them on an output line means the switch refused the command.
    errors: RegexSet,
    save_ok: Regex,
}

impl CliDriver {
    pub fn new(dialect: &'static Dialect, options: DriverOptions, known_hosts: PathBuf) -> Self {
        let errors = RegexSetBuilder::new(dialect.errors)
            .case_insensitive(true)
            .build()
            .expect("dialect error patterns");
        CliDriver {
            dialect,
            port_name: regex(dialect.port_pattern),
            outcomes: Arc::new(Outcomes {
                errors,
                save_ok: regex(dialect.save_ok),
            }),
            options,
            known_hosts,
        }
    }
}

/// The `dummy_vlan` member: HIL accepted anything `int()` took, so a number or a numeric string.
fn dummy_vlan(config: &serde_json::Map<String, Value>) -> Option<u16> {
    match config.get("dummy_vlan")? {
        Value::Number(n) => n.as_u64().and_then(|v| u16::try_from(v).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[async_trait]
impl SwitchDriver for CliDriver {
    fn type_uri(&self) -> &'static str {
        self.dialect.type_uri
    }

    fn extension_name(&self) -> &'static str {
        self.dialect.extension_name
    }

    fn capabilities(&self) -> &'static [&'static str] {
        &["nativeless-trunk-mode"]
    }

    fn validate_config(&self, config: &serde_json::Map<String, Value>) -> bool {
        let mut keys = vec!["hostname", "username", "password"];
        if self.dialect.dummy_vlan_max.is_some() {
            keys.push("dummy_vlan");
        }
        let strings_ok = ["hostname", "username", "password"]
            .iter()
            .all(|k| config.get(*k).is_some_and(Value::is_string));
        let dummy_ok = match self.dialect.dummy_vlan_max {
            Some(max) => dummy_vlan(config).is_some_and(|v| (1..=max).contains(&v)),
            None => true,
        };
        let hostname_ok = config
            .get("hostname")
            .and_then(Value::as_str)
            .and_then(|h| host_and_port(h, SSH_PORT))
            .is_some();
        config.len() == keys.len() && strings_ok && dummy_ok && hostname_ok
    }

    fn validate_port_name(&self, name: &str) -> bool {
        self.port_name.is_match(name)
    }

    async fn open(&self, switch: &SwitchSpec) -> Result<Box<dyn SwitchSession>, SwitchError> {
        let (host, port) = switch
            .field("hostname")
            .and_then(|h| host_and_port(h, SSH_PORT))
            .ok_or_else(|| rejected("the switch's hostname is not host or host:port".into()))?;
        let target = Target {
            host,
            port,
            username: switch.field("username").unwrap_or_default().to_string(),
            password: switch.field("password").unwrap_or_default().to_string(),
            known_hosts: self.known_hosts.clone(),
            connect_timeout: self.options.connect_timeout,
        };
        let shell = Shell::open(&target).await?;
        let mut session = CliSession {
            dialect: self.dialect,
            shell,
            timeout: self.options.command_timeout,
            prompt: None,
            in_config: false,
            dummy: dummy_vlan(&switch.config),
            save: self.options.save,
            outcomes: self.outcomes.clone(),
        };
        session.login(&target.username, &target.password).await?;
        session.prepare().await?;
        Ok(Box::new(session))
    }
}

fn rejected(message: String) -> SwitchError {
    SwitchError::new(SwitchErrorKind::Rejected, message)
}

fn auth(message: &str) -> SwitchError {
    SwitchError::new(SwitchErrorKind::Auth, message)
}

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("static regex")
}

static USERNAME_PROMPT: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?i)(user ?name|login|user):\s*$"));
static PASSWORD_PROMPT: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)password:\s*$"));
static USER_MODE: LazyLock<Regex> = LazyLock::new(|| regex(r">\s*$"));
static PRIVILEGED: LazyLock<Regex> = LazyLock::new(|| regex(r"#\s*$"));
static PAGER: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)(--more--|more: .*)\s*$"));
static CONFIRM: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)(\(y/n\)|\[confirm\]|\[y/n\])\s*$"));
static DESTINATION: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)destination filename.*\?\s*$"));

struct CliSession {
    dialect: &'static Dialect,
    shell: Shell,
    timeout: Duration,
    /// Matches any prompt of this switch (`name#`, `name(config)#`, `name(config-if-x)#`),
    /// learnt after login.
    prompt: Option<Regex>,
    in_config: bool,
    dummy: Option<u16>,
    save: bool,
    outcomes: Arc<Outcomes>,
}

/// What a command printed, without its echo and the prompt.
struct Reply {
    output: String,
    /// The prompt the switch showed afterwards.
    prompt: String,
}

impl CliSession {
    /// Answers the login prompts until privileged mode: the username (some switches ask again
    /// inside SSH), the password, and `enable` with its password.
    async fn login(&mut self, username: &str, password: &str) -> Result<(), SwitchError> {
        let mut enable_sent = false;
        let (mut usernames_sent, mut passwords_sent) = (0, 0);
        loop {
            let patterns = [
                &*USERNAME_PROMPT,
                &*PASSWORD_PROMPT,
                &*USER_MODE,
                &*PRIVILEGED,
            ];
            let (which, _) = self.shell.read_until(&patterns, self.timeout).await?;
            match which {
                0 if usernames_sent > 0 => return Err(auth("the switch refused the login")),
                0 => {
                    usernames_sent += 1;
                    self.shell.send(&format!("{username}\n")).await?;
                }
                1 if passwords_sent > 0 => {
                    return Err(auth(if enable_sent {
                        "the switch refused the enable password"
                    } else {
                        "the switch refused the password"
                    }))
                }
                1 => {
                    passwords_sent += 1;
                    self.shell.send(&format!("{password}\n")).await?;
                }
                2 if enable_sent => {
                    return Err(auth("the switch refused to enter privileged mode (enable)"))
                }
                2 => {
                    enable_sent = true;
                    passwords_sent = 0;
                    self.shell.send("enable\n").await?;
                }
                _ => return Ok(()),
            }
        }
    }

    /// Learns the prompt, turns paging off and runs the dialect's per-session set-up.
    async fn prepare(&mut self) -> Result<(), SwitchError> {
        self.shell.send("\n").await?;
        let (_, text) = self.shell.read_until(&[&*PRIVILEGED], self.timeout).await?;
        let last = text.lines().last().unwrap_or("").trim();
        let base = last.trim_end_matches('#').trim();
        if base.is_empty() {
            return Err(rejected(format!(
                "cannot recognise the switch prompt {last:?}"
            )));
        }
        self.prompt = Some(regex(&format!(
            r"(?m)^{}(\([^)\n]*\))?#\s*$",
            regex::escape(base)
        )));
        let paging_off = self.dialect.paging_off;
        let _ = self.command(paging_off).await?; // unsupported on some models: ignore errors
        for template in self.dialect.session_setup {
            if let Some(line) = render(template, &self.values("", None, None)) {
                self.checked(&line).await?;
            }
        }
        Ok(())
    }

    fn values(&self, port: &str, vlan: Option<u16>, old: Option<u16>) -> Values {
        Values {
            port: port.to_string(),
            vlan,
            old,
            dummy: self.dummy,
            allowed: None,
        }
    }

    /// Sends one line and waits for the next prompt, paging through long output.
    async fn command(&mut self, line: &str) -> Result<Reply, SwitchError> {
        self.converse(line, &[(&PAGER, " ")]).await
    }

    /// Sends one line and waits for the next prompt, answering each question the switch asks
    /// on the way (`answers`: what it looks like, what to type) and leaving the question out of
    /// the output.
    async fn converse(
        &mut self,
        line: &str,
        answers: &[(&Regex, &str)],
    ) -> Result<Reply, SwitchError> {
        tracing::debug!(command = line, "switch command");
        self.shell.send(&format!("{line}\n")).await?;
        let prompt = self.prompt.clone().expect("prompt learnt at login");
        let mut patterns = vec![&prompt];
        patterns.extend(answers.iter().map(|(question, _)| *question));
        let mut output = String::new();
        loop {
            let (which, text) = self.shell.read_until(&patterns, self.timeout).await?;
            if let Some((question, answer)) = which.checked_sub(1).map(|i| answers[i]) {
                output.push_str(question.replace(&text, "").as_ref());
                self.shell.send(answer).await?;
                continue;
            }
            output.push_str(&text);
            // A prompt before the echo of our line is left over from earlier output (an extra
            // newline after a confirmation, say): keep reading for the real one.
            if !output.contains(line) {
                output.clear();
                continue;
            }
            let mut lines: Vec<&str> = output.lines().collect();
            let shown = lines.pop().unwrap_or("").trim().to_string();
            let body = lines.into_iter().skip(1).collect::<Vec<_>>().join("\n");
            return Ok(Reply {
                output: body.trim_matches('\n').to_string(),
                prompt: shown,
            });
        }
    }

    /// A command whose output must not contain an error message.
    async fn checked(&mut self, line: &str) -> Result<Reply, SwitchError> {
        let reply = self.command(line).await?;
        if let Some(bad) = reply
            .output
            .lines()
            .find(|l| self.outcomes.errors.is_match(l))
        {
            return Err(rejected(format!(
                "the switch refused `{line}`: {}",
                bad.trim()
            )));
        }
        Ok(reply)
    }

    async fn enter_config(&mut self) -> Result<(), SwitchError> {
        if !self.in_config {
            let configure = self.dialect.configure;
            let reply = self.checked(configure).await?;
            if !reply.prompt.contains("(config") {
                return Err(rejected(format!(
                    "`{configure}` did not enter configuration mode"
                )));
            }
            self.in_config = true;
        }
        Ok(())
    }

    async fn leave_config(&mut self) -> Result<(), SwitchError> {
        if self.in_config {
            self.command("exit").await?;
            self.in_config = false;
        }
        Ok(())
    }

    /// Runs the lines of one change inside the port's interface mode.
    async fn on_interface(&mut self, port: &str, lines: &[String]) -> Result<(), SwitchError> {
        self.enter_config().await?;
        let enter = self.dialect.interface.replace("{port}", port);
        let reply = self.checked(&enter).await?;
        if !reply.prompt.contains("(config-if") {
            return Err(rejected(format!("the switch has no interface {port:?}")));
        }
        let result = async {
            for line in lines {
                self.checked(line).await?;
            }
            Ok(())
        }
        .await;
        self.command("exit").await?; // back to global configuration mode, even after a refusal
        result
    }

    /// The interface's configuration lines as the switch prints them.
    async fn interface_config(&mut self, port: &str) -> Result<String, SwitchError> {
        self.leave_config().await?; // some CLIs print no prompt after `show` in config mode
        let show = self.dialect.show_interface.replace("{port}", port);
        Ok(self.checked(&show).await?.output)
    }
}

/// What a port's running configuration says it carries.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct InterfaceVlans {
    pub native: Option<u16>,
    /// Allowed VLANs; None when the configuration has no allowed list (on most switches: all).
    pub allowed: Option<BTreeSet<u16>>,
    /// `switchport mode <mode>`, when the configuration says.
    pub mode: Option<String>,
    /// `switchport access vlan <n>`: the port's VLAN when it is not a trunk.
    pub access: Option<u16>,
}

impl InterfaceVlans {
    /// An access port: said so, or no mode at all (the default) with an access VLAN set.
    fn is_access(&self) -> bool {
        match self.mode.as_deref() {
            Some(mode) => mode == "access",
            None => self.access.is_some(),
        }
    }
}

/// Parses `show running-config interface` output (Dell and Cisco styles).
pub fn parse_interface_config(text: &str) -> InterfaceVlans {
    let mut result = InterfaceVlans::default();
    for line in text.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("switchport trunk native vlan ") {
            result.native = v.trim().parse().ok();
        } else if let Some(mode) = line.strip_prefix("switchport mode ") {
            result.mode = Some(mode.trim().to_ascii_lowercase());
        } else if let Some(v) = line.strip_prefix("switchport access vlan ") {
            result.access = v.trim().parse().ok();
        } else if let Some(list) = line.strip_prefix("switchport trunk allowed vlan ") {
            let list = list.trim();
            let (adding, list) = match list.strip_prefix("add ") {
                Some(rest) => (true, rest.trim()),
                None => (false, list),
            };
            let vlans = if list == "none" {
                BTreeSet::new()
            } else {
                parse_vlan_list(list)
            };
            match (&mut result.allowed, adding) {
                (Some(existing), true) => existing.extend(vlans),
                (slot, _) => *slot = Some(vlans),
            }
        }
    }
    result
}

/// Expands `100,200-202` into its VLANs. Unparsable pieces are ignored.
pub fn parse_vlan_list(list: &str) -> BTreeSet<u16> {
    let mut vlans = BTreeSet::new();
    for piece in list.split(',').map(str::trim) {
        match piece.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.trim().parse::<u16>(), b.trim().parse::<u16>()) {
                    vlans.extend(a..=b.min(4096));
                }
            }
            None => vlans.extend(piece.parse::<u16>().ok()),
        }
    }
    vlans
}

/// `{100, 101, 102, 200}` → `100-102,200`.
fn format_vlan_list(vlans: &BTreeSet<u16>) -> String {
    let mut ranges: Vec<(u16, u16)> = Vec::new();
    for &v in vlans {
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == v => *end = v,
            _ => ranges.push((v, v)),
        }
    }
    ranges
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[async_trait]
impl SwitchSession for CliSession {
    async fn apply(&mut self, change: &PortChange) -> Result<(), SwitchError> {
        let port = change.port();
        let op = change.vlan_op()?;
        let (templates, mut values) = match op {
            VlanOp::SetNative { vlan, previous } => (
                self.dialect.set_native,
                self.values(port, Some(vlan), previous),
            ),
            VlanOp::RemoveNative { vlan } => {
                (self.dialect.remove_native, self.values(port, None, vlan))
            }
            VlanOp::AddTagged { vlan } => {
                (self.dialect.add_tagged, self.values(port, Some(vlan), None))
            }
            VlanOp::RemoveTagged { vlan } => (
                self.dialect.remove_tagged,
                self.values(port, Some(vlan), None),
            ),
            VlanOp::Revert => (self.dialect.revert, self.values(port, None, None)),
        };
        if templates.iter().any(|t| t.contains("{allowed}")) {
            let config = parse_interface_config(&self.interface_config(port).await?);
            values.allowed = config.allowed.as_ref().map(format_vlan_list);
        }
        let lines: Vec<String> = templates
            .iter()
            .filter_map(|t| render(t, &values))
            .collect();
        self.on_interface(port, &lines).await
    }

    async fn port_state(&mut self, port: &str) -> Result<PortState, SwitchError> {
        let config = parse_interface_config(&self.interface_config(port).await?);
        Ok(carried(&config, self.dummy, self.dialect.trunk_default_all))
    }

    async fn save(&mut self) -> Result<(), SwitchError> {
        if !self.save {
            return Ok(());
        }
        self.leave_config().await?;
        let answers = [(&*CONFIRM, "y\n"), (&*DESTINATION, "\n")]; // default file name
        let reply = self.converse(self.dialect.save, &answers).await?;
        if self.outcomes.save_ok.is_match(&reply.output) {
            Ok(())
        } else {
            let last = reply.output.lines().last().unwrap_or("").trim().to_string();
            Err(rejected(format!(
                "saving the configuration failed: {last:?}"
            )))
        }
    }

    async fn close(mut self: Box<Self>) -> Result<(), SwitchError> {
        let _ = self.leave_config().await;
        let _ = self.shell.send("exit\n").await;
        self.shell.disconnect().await;
        Ok(())
    }
}

/// What a port with this configuration carries, in HIL's terms. An access port carries its
/// access VLAN untagged (the native channel); a trunk its native and allowed VLANs, without
/// the dummy VLAN, and every VLAN when it has no allowed list where that is the default.
fn carried(config: &InterfaceVlans, dummy: Option<u16>, trunk_default_all: bool) -> PortState {
    let mut state = PortState::new();
    let real = |v: &u16| Some(*v) != dummy;
    if config.is_access() {
        if let Some(v) = config.access.filter(real) {
            state.insert("vlan/native".into(), v.to_string());
        }
        return state;
    }
    let native = config.native.filter(real);
    if let Some(n) = native {
        state.insert("vlan/native".into(), n.to_string());
    }
    match &config.allowed {
        Some(allowed) => {
            for v in allowed.iter().filter(|v| real(v) && Some(**v) != native) {
                state.insert(format!("vlan/{v}"), v.to_string());
            }
        }
        None if trunk_default_all && config.mode.as_deref() == Some("trunk") => {
            state.insert("vlan/*".into(), "*".into());
        }
        None => {}
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_config_in_dell_and_cisco_styles() {
        let dell = "switchport mode trunk\nswitchport trunk allowed vlan add 200,100\n";
        assert_eq!(
            parse_interface_config(dell),
            InterfaceVlans {
                native: None,
                allowed: Some([100, 200].into()),
                mode: Some("trunk".into()),
                access: None,
            }
        );
        let cisco = "interface Ethernet1/1\n switchport trunk native vlan 2222\n \
                     switchport trunk allowed vlan none\n switchport mode trunk\nend";
        assert_eq!(
            parse_interface_config(cisco),
            InterfaceVlans {
                native: Some(2222),
                allowed: Some(BTreeSet::new()),
                mode: Some("trunk".into()),
                access: None,
            }
        );
        assert_eq!(
            parse_interface_config("switchport mode trunk").allowed,
            None
        );
    }

    #[test]
    fn read_back_reports_what_the_port_lets_through() {
        let read = |text: &str, all: bool| {
            let state = carried(&parse_interface_config(text), Some(2222), all);
            state.into_iter().collect::<Vec<(String, String)>>()
        };
        let pair = |c: &str, v: &str| (c.to_string(), v.to_string());
        let trunk = "switchport mode trunk\nswitchport trunk native vlan 100\n\
                     switchport trunk allowed vlan 100,200,2222\n";
        assert_eq!(
            read(trunk, true),
            [pair("vlan/200", "200"), pair("vlan/native", "100")]
        );
        // HIL's idle port: nothing allowed, the dummy as native
        let idle = "switchport mode trunk\nswitchport trunk native vlan 2222\n\
                    switchport trunk allowed vlan none\n";
        assert_eq!(read(idle, true), []);
        // a trunk without an allowed list: every VLAN where that is the switch's default
        let open = "switchport mode trunk\n";
        assert_eq!(read(open, true), [pair("vlan/*", "*")]);
        assert_eq!(read(open, false), []);
        // an access port carries its access VLAN, whatever trunk lines linger
        let access = "switchport mode access\nswitchport access vlan 300\n\
                      switchport trunk allowed vlan 100\n";
        assert_eq!(read(access, true), [pair("vlan/native", "300")]);
        assert_eq!(
            read("switchport access vlan 300\n", true),
            [pair("vlan/native", "300")]
        );
        assert_eq!(read("", true), []);
    }

    #[test]
    fn vlan_lists_round_trip() {
        let v = parse_vlan_list("100,102-104, 200");
        assert_eq!(v, [100, 102, 103, 104, 200].into());
        assert_eq!(format_vlan_list(&v), "100,102-104,200");
    }

    #[test]
    fn validation_follows_hil_schemas() {
        let d = CliDriver::new(&dialect::NEXUS, DriverOptions::default(), "/tmp/kh".into());
        let ok = serde_json::json!({"hostname": "127.0.0.1:2203", "username": "u",
                                    "password": "p", "dummy_vlan": 2222});
        assert!(d.validate_config(ok.as_object().unwrap()));
        let text = serde_json::json!({"hostname": "h", "username": "u", "password": "p",
                                      "dummy_vlan": "2222"});
        assert!(d.validate_config(text.as_object().unwrap()));
        let missing = serde_json::json!({"hostname": "h", "username": "u", "password": "p"});
        assert!(!d.validate_config(missing.as_object().unwrap()));
        let big = serde_json::json!({"hostname": "h", "username": "u", "password": "p",
                                     "dummy_vlan": 5000});
        assert!(!d.validate_config(big.as_object().unwrap()));
        assert!(d.validate_port_name("Ethernet1/12"));
        assert!(!d.validate_port_name("gi1/0/1"));
        let pc = CliDriver::new(
            &dialect::POWERCONNECT,
            DriverOptions::default(),
            "/tmp/kh".into(),
        );
        assert!(pc.validate_config(missing.as_object().unwrap()));
        assert!(!pc.validate_config(ok.as_object().unwrap()));
    }
}
