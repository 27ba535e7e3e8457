//! SSH CLI switches: one prompt-driven session engine, and per-vendor tables (`dialect`).
//!
//! Unlike HIL, which typed commands ahead and only looked for a few prompts, the engine waits
//! for the prompt after every line and reads what the switch printed in between, so a refused
//! command fails its action with the switch's own words instead of passing silently.
//!
//! A session logs in once and then applies any number of changes. Between changes it stays in
//! global configuration mode, so a change costs `interface`, its commands and `exit`.

pub mod dialect;
mod eapi;
mod plan;
pub(crate) mod ssh;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use async_trait::async_trait;
use regex::{Regex, RegexSet, RegexSetBuilder};
use serde_json::Value;

use self::dialect::{render, Dialect, ReadBack, Values};
use self::plan::ReadPort;
use self::ssh::{Shell, Target};
use crate::address::host_and_port;

use super::{
    DriverOptions, PortChange, PortState, SwitchDriver, SwitchError, SwitchErrorKind,
    SwitchSession, SwitchSpec,
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
        let eapi = match config.get("transport") {
            None => false,
            Some(transport) if self.dialect.eapi => {
                keys.push("transport");
                match transport.as_str() {
                    Some("ssh") => false,
                    Some("eapi") => true,
                    _ => return false,
                }
            }
            Some(_) => return false, // HIL's closed schemas have no such member
        };
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
            .is_some_and(|h| {
                if eapi {
                    crate::switch::rest::valid_base_url(h)
                } else {
                    host_and_port(h, SSH_PORT).is_some()
                }
            });
        config.len() == keys.len() && strings_ok && dummy_ok && hostname_ok
    }

    fn validate_port_name(&self, name: &str) -> bool {
        self.port_name.is_match(name)
    }

    async fn open(&self, switch: &SwitchSpec) -> Result<Box<dyn SwitchSession>, SwitchError> {
        if switch.field("transport") == Some("eapi") {
            let outcomes = self.outcomes.clone();
            let session = eapi::EapiSession::open(self.dialect, switch, &self.options, outcomes);
            return Ok(Box::new(session.await?));
        }
        let known_hosts = self.known_hosts.clone();
        let target =
            Target::of_switch(switch, SSH_PORT, known_hosts, self.options.connect_timeout)?;
        let shell = Shell::open(&target).await?;
        let mut session = CliSession {
            dialect: self.dialect,
            shell,
            timeout: self.options.command_timeout,
            prompt: None,
            last_prompt: String::new(),
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
    /// The prompt the switch showed last, which says which mode the session is in.
    last_prompt: String,
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
        if !paging_off.is_empty() {
            let _ = self.command(paging_off).await?; // unsupported on some models: ignore errors
        }
        for template in self.dialect.session_setup {
            let values = Values {
                dummy: self.dummy,
                ..Values::default()
            };
            if let Some(line) = render(template, &values) {
                self.checked(&line).await?;
            }
        }
        Ok(())
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
            self.last_prompt.clone_from(&shown);
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

    /// Runs the lines of one change on a port: inside its interface mode, or from global
    /// configuration mode on VLAN-centric switches.
    async fn on_port(&mut self, port: &str, lines: &[String]) -> Result<(), SwitchError> {
        match self.dialect.interface {
            Some(interface) => {
                let enter = interface.replace("{port}", port);
                self.on_interface(port, &enter, lines).await
            }
            None => self.in_global_config(lines).await,
        }
    }

    /// Runs lines that enter and leave sub-modes themselves, and returns to global configuration
    /// mode whatever happened, so that a refused line does not strand the next change in a VLAN.
    async fn in_global_config(&mut self, lines: &[String]) -> Result<(), SwitchError> {
        self.enter_config().await?;
        let result = async {
            for line in lines {
                self.checked(line).await?;
            }
            Ok(())
        }
        .await;
        for _ in 0..3 {
            let in_sub_mode =
                self.last_prompt.contains('(') && !self.last_prompt.contains("(config)");
            if !in_sub_mode {
                break;
            }
            self.command("exit").await?;
        }
        result
    }

    /// Runs lines inside the port's interface mode, which `enter` enters.
    async fn on_interface(
        &mut self,
        port: &str,
        enter: &str,
        lines: &[String],
    ) -> Result<(), SwitchError> {
        self.enter_config().await?;
        let reply = self.checked(enter).await?;
        // `(config-if)`, `(config-if-Et1)`, `(conf-if-eth1/1/1)`: every dialect's interface mode
        if !reply.prompt.contains("-if") {
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
}

impl ReadPort for CliSession {
    async fn read_port(&mut self, port: &str) -> Result<InterfaceVlans, SwitchError> {
        self.leave_config().await?; // some CLIs print no prompt after `show` in config mode
        let show = self.dialect.show_interface.replace("{port}", port);
        let text = self.checked(&show).await?.output;
        Ok(parse_read_back(self.dialect, &text))
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

/// Parses `show running-config interface` output (Dell and Cisco styles; SONiC's `Vlan` too).
pub fn parse_interface_config(text: &str) -> InterfaceVlans {
    let mut result = InterfaceVlans::default();
    for line in text.lines().map(|l| l.trim().to_ascii_lowercase()) {
        let line = line.as_str();
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

/// Reads a dialect's `show_interface` output.
fn parse_read_back(dialect: &Dialect, text: &str) -> InterfaceVlans {
    match dialect.read_back {
        ReadBack::Switchport => parse_interface_config(text),
        ReadBack::SwitchportAccessUntagged => access_untagged(parse_interface_config(text)),
        ReadBack::VlanTrunk => parse_vlan_trunk(text),
        ReadBack::VlanMembership => parse_vlan_membership(text),
    }
}

/// Where the access VLAN is the untagged VLAN beside the tagged ones (OS10, SONiC), the port is
/// read as a trunk whose native VLAN is the access VLAN. VLAN 1 is the default such a port
/// falls back to, which HIL never hands out, so it counts as none.
fn access_untagged(config: InterfaceVlans) -> InterfaceVlans {
    InterfaceVlans {
        native: config.access.filter(|&v| v != 1),
        allowed: Some(config.allowed.unwrap_or_default()),
        mode: Some("trunk".into()),
        access: None,
    }
}

/// Parses AOS-CX's interface configuration: `vlan trunk native 100`, `vlan trunk allowed
/// 100,200` (repeated lines add up; `all` is every VLAN) and, on an access port, `vlan access 300`. A trunk's
/// native VLAN defaults to 1, so 1 counts as none.
pub fn parse_vlan_trunk(text: &str) -> InterfaceVlans {
    let mut result = InterfaceVlans {
        mode: Some("trunk".into()),
        allowed: Some(BTreeSet::new()),
        ..InterfaceVlans::default()
    };
    for line in text.lines().map(|l| l.trim().to_ascii_lowercase()) {
        if let Some(v) = line.strip_prefix("vlan trunk native ") {
            result.native = v.trim().parse().ok().filter(|&v| v != 1);
        } else if let Some(list) = line.strip_prefix("vlan trunk allowed ") {
            match (list.trim(), &mut result.allowed) {
                ("all", slot) => *slot = None, // every VLAN: read back as `vlan/*`
                (list, Some(allowed)) => allowed.extend(parse_vlan_list(list)),
                (_, None) => {}
            }
        } else if let Some(v) = line.strip_prefix("vlan access ") {
            result.mode = Some("access".into());
            result.access = v.trim().parse().ok();
        }
    }
    result
}

/// Parses FastIron's `show vlan ethernet` output: `VLAN: 100  Untagged` / `VLAN: 200  Tagged`
/// lines, or the `Untagged VLAN : 100` / `Tagged VLANs : 200 300` summary some releases print.
/// Untagged in the default VLAN 1 is where an idle port sits, so it is not a native VLAN.
pub fn parse_vlan_membership(text: &str) -> InterfaceVlans {
    let mut native = None;
    let mut tagged = BTreeSet::new();
    for line in text.lines().map(str::trim) {
        let lower = line.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("vlan:") {
            let mut words = rest.split_whitespace();
            let vlan = words.next().and_then(|v| v.parse::<u16>().ok());
            match (vlan, words.next()) {
                (Some(v), Some("untagged")) => native = Some(v),
                (Some(v), Some("tagged")) => drop(tagged.insert(v)),
                _ => {}
            }
        } else if let Some((label, list)) = lower.split_once(':') {
            let mut numbers = list
                .split_whitespace()
                .filter_map(|v| v.parse::<u16>().ok());
            match label.trim() {
                "untagged vlan" | "untagged vlans" => native = numbers.next_back(),
                "tagged vlans" | "tagged vlan" => tagged.extend(numbers),
                _ => {}
            }
        }
    }
    InterfaceVlans {
        native: native.filter(|&v| v != 1),
        allowed: Some(tagged),
        mode: None,
        access: None,
    }
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
        let (dialect, dummy) = (self.dialect, self.dummy);
        let lines = plan::commands_for(self, dialect, dummy, change).await?;
        self.on_port(change.port(), &lines).await
    }

    async fn port_state(&mut self, port: &str) -> Result<PortState, SwitchError> {
        let now = self.read_port(port).await?;
        Ok(carried(&now, self.dummy, self.dialect.trunk_default_all))
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
    fn read_back_of_the_other_syntaxes() {
        let read = |config: InterfaceVlans| {
            let state = carried(&config, None, true);
            state.into_iter().collect::<Vec<(String, String)>>()
        };
        let pair = |c: &str, v: &str| (c.to_string(), v.to_string());
        // FastIron, both layouts; the default VLAN 1 is idle
        let icx = "VLAN: 100  Untagged\nVLAN: 200  Tagged\nVLAN: 300  Tagged\n";
        let both = [pair("vlan/200", "200"), pair("vlan/300", "300")];
        let mut with_native = both.to_vec();
        with_native.push(pair("vlan/native", "100"));
        assert_eq!(read(parse_vlan_membership(icx)), with_native);
        let summary =
            "Port 1/1/1 is a member of 3 VLANs\nUntagged VLAN : 1\nTagged VLANs : 200 300\n";
        assert_eq!(read(parse_vlan_membership(summary)), both);
        assert_eq!(read(parse_vlan_membership("VLAN: 1  Untagged")), []);
        // OS10 and SONiC: the access VLAN is the untagged one, beside the tagged ones
        let os10 =
            "interface ethernet1/1/1\n switchport mode trunk\n switchport access vlan 100\n \
                    switchport trunk allowed vlan 200,300\n";
        assert_eq!(
            read(access_untagged(parse_interface_config(os10))),
            with_native
        );
        let sonic = " switchport access Vlan 100\n switchport trunk allowed Vlan add 200-201\n";
        assert_eq!(
            read(access_untagged(parse_interface_config(sonic))),
            [
                pair("vlan/200", "200"),
                pair("vlan/201", "201"),
                pair("vlan/native", "100")
            ]
        );
        let idle = " switchport mode trunk\n switchport access vlan 1\n";
        assert_eq!(read(access_untagged(parse_interface_config(idle))), []);
        // AOS-CX
        let cx = "interface 1/1/1\n    vlan trunk native 100\n    vlan trunk allowed 100,200\n    \
                  vlan trunk allowed 300\n";
        assert_eq!(read(parse_vlan_trunk(cx)), with_native);
        assert_eq!(read(parse_vlan_trunk("vlan trunk native 1\n")), []);
        assert_eq!(
            read(parse_vlan_trunk("vlan trunk allowed all\n")),
            [pair("vlan/*", "*")]
        );
        assert_eq!(
            read(parse_vlan_trunk("vlan access 300\n")),
            [pair("vlan/native", "300")]
        );
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

    #[test]
    fn only_arista_takes_a_transport() {
        let options = DriverOptions::default;
        let eos = CliDriver::new(&dialect::ARISTA_EOS, options(), "/tmp/kh".into());
        let ios = CliDriver::new(&dialect::CISCO_IOS, options(), "/tmp/kh".into());
        let with = |hostname: &str, transport: Value| {
            let body = serde_json::json!({"hostname": hostname, "username": "u", "password": "p",
                                          "transport": transport});
            body.as_object().unwrap().clone()
        };
        assert!(eos.validate_config(&with("https://eos1.example", "eapi".into())));
        assert!(eos.validate_config(&with("eos1.example:443", "eapi".into())));
        assert!(eos.validate_config(&with("eos1.example:22", "ssh".into())));
        assert!(!eos.validate_config(&with("https://eos1.example", "ssh".into())));
        assert!(!eos.validate_config(&with("eos1.example", "telnet".into())));
        assert!(!eos.validate_config(&with("eos1.example", Value::Null)));
        assert!(!ios.validate_config(&with("ios1.example", "ssh".into())));
    }
}
