//! Dell Networking OS9 (tested by HIL on the S3048-ON): HIL's `hil.ext.switches.dellnos9`.
//!
//! Ports are switched on and off through the REST interface resource
//! (`/api/running/dell/interfaces/interface/gige-1-3`), and VLAN membership is changed with CLI
//! lines sent through the CLI-over-REST operation (`/api/running/dell/_operations/cli`). A port
//! is shut down (and out of hybrid mode) whenever it has no native VLAN, as in HIL.
//!
//! Differences from HIL, on purpose:
//! * an `interface_type` outside the table below is refused at `switch_register` (HIL raised a
//!   `KeyError` on the first change);
//! * the `?with-defaults` read has no stray backslash (HIL sent `gige-1-3%5C?with-defaults`);
//! * `save()` sends the CLI `write` when saving is enabled (HIL had switched saving off for
//!   this driver although it accepted the option);
//! * everything put into XML is escaped; one HTTP client is kept per session.

use std::sync::LazyLock;

use async_trait::async_trait;
use regex::Regex;

use super::{
    check_port, child_text, parse_vlan_list, parse_xml, port_state, valid_port_name,
    validate_common, Http,
};
use crate::switch::{
    parse_vlan, DriverOptions, PortChange, PortState, SwitchDriver, SwitchError, SwitchErrorKind,
    SwitchSession, SwitchSpec, VlanOp,
};
use crate::xml::escape;

pub const TYPE_URI: &str = "http://schema.massopencloud.org/haas/v0/switches/dellnos9";

/// CLI interface types and the prefix of their REST resource names.
const INTERFACE_PREFIXES: &[(&str, &str)] = &[
    ("GigabitEthernet", "gige-"),
    ("TenGigabitEthernet", "tengig-"),
    ("TwentyfiveGigabitEthernet", "twentyfivegig-"),
    ("fortyGigE", "fortygig-"),
    ("peGigabitEthernet", "pegig-"),
    ("FiftyGigabitEthernet", "fiftygig-"),
    ("HundredGigabitEthernet", "hundredgig-"),
];

const CLI_PATH: &str = "/api/running/dell/_operations/cli";
const INTERFACE_PATH: &str = "/api/running/dell/interfaces/interface/";

/// `Native VlanId: 100.` once spaces are removed from `show interfaces switchport`.
static NATIVE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"NativeVlanId:(\d+)\.").expect("static regex"));
/// A tagged-membership line (`T 200,300-302`) once spaces are removed.
static TAGGED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^T(\d+(-\d+)?(,\d+(-\d+)?)*)$").expect("static regex"));

/// The REST name prefix of a CLI interface type, e.g. `gige-` for `GigabitEthernet`.
fn rest_prefix(interface_type: &str) -> Option<&'static str> {
    INTERFACE_PREFIXES
        .iter()
        .find(|(cli, _)| *cli == interface_type)
        .map(|(_, prefix)| *prefix)
}

/// The REST resource name of a port: `gige-` and `1/3` give `gige-1-3`.
fn interface_name(prefix: &str, port: &str) -> String {
    format!("{prefix}{}", port.replace('/', "-"))
}

/// The path of a port's interface resource.
fn interface_path(prefix: &str, port: &str) -> String {
    format!("{INTERFACE_PATH}{}", interface_name(prefix, port))
}

/// What a CLI-over-REST request asks the switch to do.
#[derive(Debug, Clone, Copy)]
enum CliKind {
    Config,
    Show,
    Exec,
}

impl CliKind {
    fn element(self) -> &'static str {
        match self {
            CliKind::Config => "config-commands",
            CliKind::Show => "show-command",
            CliKind::Exec => "exec-command",
        }
    }
}

/// The body of a CLI-over-REST request. Lines are joined with `\r\n ` as HIL did (the switch
/// runs them in order, keeping the `interface vlan` context); the text is XML-escaped.
fn cli_body(kind: CliKind, lines: &[String]) -> String {
    let element = kind.element();
    let text = escape(&lines.join("\r\n "));
    format!("<input><{element}>{text}</{element}></input>")
}

/// The two CLI lines that change one VLAN's membership of a port, e.g.
/// `interface vlan 100` + `untagged GigabitEthernet 1/3`.
fn vlan_lines(vlan: u16, verb: &str, interface_type: &str, port: &str) -> [String; 2] {
    [
        format!("interface vlan {vlan}"),
        format!("{verb} {interface_type} {port}"),
    ]
}

/// PUT body switching a port on, in hybrid mode so it can be untagged in one VLAN and tagged
/// in others.
fn port_on_body(name: &str) -> String {
    format!(
        "<interface><name>{}</name><portmode><hybrid>true</hybrid></portmode>\
         <switchport></switchport><shutdown>false</shutdown></interface>",
        escape(name)
    )
}

/// PUT body shutting a port down and taking it out of hybrid mode.
fn port_shutdown_body(name: &str) -> String {
    format!(
        "<interface><name>{}</name><portmode><hybrid>false</hybrid></portmode>\
         <shutdown>true</shutdown></interface>",
        escape(name)
    )
}

/// Whether the interface resource says the port is on (`<shutdown>false</shutdown>`).
fn parse_is_on(body: &str) -> Result<bool, SwitchError> {
    let doc = parse_xml(body)?;
    match child_text(doc.root_element(), "shutdown").map(str::trim) {
        Some("false") => Ok(true),
        Some("true") => Ok(false),
        other => Err(SwitchError::new(
            SwitchErrorKind::Rejected,
            format!("unexpected shutdown state {other:?} in the interface resource"),
        )),
    }
}

/// The text a CLI-over-REST answer carries: the text inside the XML reply, or the raw body when
/// it is not XML.
fn cli_output(body: &str) -> String {
    match roxmltree::Document::parse(body) {
        Ok(doc) => doc
            .descendants()
            .filter(|n| n.is_text())
            .filter_map(|n| n.text())
            .collect::<Vec<_>>()
            .join("\n"),
        Err(_) => body.to_string(),
    }
}

/// A port's VLAN membership from `show interfaces switchport`.
#[derive(Debug, Default, PartialEq, Eq)]
struct Membership {
    native: Option<u16>,
    tagged: Vec<u16>,
}

/// Reads `show interfaces switchport` output. Spaces are removed first, as HIL did, so
/// `Native VlanId:  100.` and `T   200,300` are found however the switch aligns them. Unlike
/// HIL, which took the first `T<digits>` anywhere in the text, tagged VLANs are collected from
/// every line that is a membership line.
fn parse_switchport(output: &str) -> Result<Membership, SwitchError> {
    let compact: String = output.chars().filter(|c| *c != ' ' && *c != '\t').collect();
    let native = NATIVE
        .captures(&compact)
        .map(|c| parse_vlan(&c[1]))
        .transpose()?;
    let mut tagged = Vec::new();
    for line in compact.lines().map(str::trim) {
        if let Some(c) = TAGGED.captures(line) {
            tagged.extend(parse_vlan_list(&c[1])?);
        }
    }
    tagged.sort_unstable();
    tagged.dedup();
    Ok(Membership { native, tagged })
}

/// The Dell OS9 switch type.
pub struct DellNos9Driver {
    options: DriverOptions,
}

impl DellNos9Driver {
    pub fn new(options: DriverOptions) -> Self {
        DellNos9Driver { options }
    }
}

#[async_trait]
impl SwitchDriver for DellNos9Driver {
    fn type_uri(&self) -> &'static str {
        TYPE_URI
    }

    fn extension_name(&self) -> &'static str {
        "hil.ext.switches.dellnos9"
    }

    /// No `nativeless-trunk-mode`: the port is only on while it has a native VLAN.
    fn capabilities(&self) -> &'static [&'static str] {
        &[]
    }

    fn validate_config(&self, config: &serde_json::Map<String, serde_json::Value>) -> bool {
        validate_common(config)
            && config
                .get("interface_type")
                .and_then(|v| v.as_str())
                .and_then(rest_prefix)
                .is_some()
    }

    fn validate_port_name(&self, name: &str) -> bool {
        valid_port_name(name)
    }

    async fn open(&self, switch: &SwitchSpec) -> Result<Box<dyn SwitchSession>, SwitchError> {
        let interface_type = switch.field("interface_type").unwrap_or_default();
        let prefix = rest_prefix(interface_type).ok_or_else(|| {
            SwitchError::new(
                SwitchErrorKind::Rejected,
                format!("unknown Dell OS9 interface type {interface_type:?}"),
            )
        })?;
        Ok(Box::new(DellNos9Session {
            http: Http::open(switch, &self.options)?,
            interface_type: interface_type.to_string(),
            prefix,
            save: self.options.save,
        }))
    }
}

struct DellNos9Session {
    http: Http,
    interface_type: String,
    prefix: &'static str,
    save: bool,
}

impl DellNos9Session {
    /// `GET <interface>?with-defaults`: whether the port is on.
    async fn is_on(&self, port: &str) -> Result<bool, SwitchError> {
        let path = format!("{}?with-defaults", interface_path(self.prefix, port));
        parse_is_on(&self.http.get(&path).await?.body)
    }

    async fn port_on(&self, port: &str) -> Result<(), SwitchError> {
        let body = port_on_body(&interface_name(self.prefix, port));
        self.http
            .put(&interface_path(self.prefix, port), body)
            .await?;
        Ok(())
    }

    async fn port_shutdown(&self, port: &str) -> Result<(), SwitchError> {
        let body = port_shutdown_body(&interface_name(self.prefix, port));
        self.http
            .put(&interface_path(self.prefix, port), body)
            .await?;
        Ok(())
    }

    async fn cli(&self, kind: CliKind, lines: &[String]) -> Result<String, SwitchError> {
        Ok(self.http.post(CLI_PATH, cli_body(kind, lines)).await?.body)
    }

    /// The port's memberships; a port that is off carries nothing (HIL's invariant, and the
    /// switch may not describe a port that is not in layer-2 mode).
    async fn membership(&self, port: &str) -> Result<Membership, SwitchError> {
        if !self.is_on(port).await? {
            return Ok(Membership::default());
        }
        let command = format!("interfaces switchport {} {port}", self.interface_type);
        parse_switchport(&cli_output(&self.cli(CliKind::Show, &[command]).await?))
    }

    /// Turns the port on if it is off; returns whether it was already on.
    async fn ensure_on(&self, port: &str) -> Result<bool, SwitchError> {
        let on = self.is_on(port).await?;
        if !on {
            self.port_on(port).await?;
        }
        Ok(on)
    }

    fn lines(&self, vlan: u16, verb: &str, port: &str) -> [String; 2] {
        vlan_lines(vlan, verb, &self.interface_type, port)
    }

    /// (a) GET is-on [PUT on] → POST `untagged`. A port untagged in another VLAN is first taken
    /// out of it (the switch allows only one untagged VLAN per port).
    async fn set_native(
        &self,
        port: &str,
        vlan: u16,
        previous: Option<u16>,
    ) -> Result<(), SwitchError> {
        let was_on = self.ensure_on(port).await?;
        let mut lines = Vec::new();
        if let Some(old) = previous.filter(|old| was_on && *old != vlan) {
            lines.extend(self.lines(old, "no untagged", port));
        }
        lines.extend(self.lines(vlan, "untagged", port));
        self.cli(CliKind::Config, &lines).await?;
        Ok(())
    }

    /// (a') read the native VLAN → POST `no untagged` → PUT shutdown.
    async fn remove_native(&self, port: &str) -> Result<(), SwitchError> {
        if let Some(native) = self.membership(port).await?.native {
            let lines = self.lines(native, "no untagged", port);
            self.cli(CliKind::Config, &lines).await?;
        }
        self.port_shutdown(port).await
    }

    /// (b) GET is-on [PUT on] → POST `tagged`.
    async fn add_tagged(&self, port: &str, vlan: u16) -> Result<(), SwitchError> {
        self.ensure_on(port).await?;
        self.cli(CliKind::Config, &self.lines(vlan, "tagged", port))
            .await?;
        Ok(())
    }

    /// (c) POST `no tagged`.
    async fn remove_tagged(&self, port: &str, vlan: u16) -> Result<(), SwitchError> {
        self.cli(CliKind::Config, &self.lines(vlan, "no tagged", port))
            .await?;
        Ok(())
    }

    /// (d) read the port → one POST taking every VLAN off (nothing is sent when there is none:
    /// the switch rejects an empty command) → PUT shutdown.
    async fn revert(&self, port: &str) -> Result<(), SwitchError> {
        let membership = self.membership(port).await?;
        let mut lines = Vec::new();
        for vlan in &membership.tagged {
            lines.extend(self.lines(*vlan, "no tagged", port));
        }
        if let Some(native) = membership.native {
            lines.extend(self.lines(native, "no untagged", port));
        }
        if !lines.is_empty() {
            self.cli(CliKind::Config, &lines).await?;
        }
        self.port_shutdown(port).await
    }
}

#[async_trait]
impl SwitchSession for DellNos9Session {
    async fn apply(&mut self, change: &PortChange) -> Result<(), SwitchError> {
        let port = change.port();
        check_port(port)?;
        match change.vlan_op()? {
            VlanOp::SetNative { vlan, previous } => self.set_native(port, vlan, previous).await,
            VlanOp::RemoveNative { .. } => self.remove_native(port).await,
            VlanOp::AddTagged { vlan } => self.add_tagged(port, vlan).await,
            VlanOp::RemoveTagged { vlan } => self.remove_tagged(port, vlan).await,
            VlanOp::Revert => self.revert(port).await,
        }
    }

    /// (e) GET is-on, then POST `show interfaces switchport` when the port is on.
    async fn port_state(&mut self, port: &str) -> Result<PortState, SwitchError> {
        check_port(port)?;
        let m = self.membership(port).await?;
        Ok(port_state(m.native, &m.tagged))
    }

    /// CLI `write` (copy running-config to startup-config) when saving is enabled. HIL kept
    /// this command but never called it after 2018; we honour the `save` option instead.
    async fn save(&mut self) -> Result<(), SwitchError> {
        if self.save {
            self.cli(CliKind::Exec, &["write".to_string()]).await?;
        }
        Ok(())
    }

    async fn close(self: Box<Self>) -> Result<(), SwitchError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_config as config;
    use super::*;

    #[test]
    fn rest_dellnos9_validation() {
        let d = DellNos9Driver::new(DriverOptions::default());
        assert!(d.validate_config(&config("http://sw:8008", "GigabitEthernet")));
        assert!(d.validate_config(&config("https://sw:8888", "fortyGigE")));
        assert!(d.validate_config(&config("sw:8008", "GigabitEthernet")));
        assert!(!d.validate_config(&config("u:p@sw:8008", "GigabitEthernet")));
        assert!(!d.validate_config(&config("http://sw:8008", "gigabitethernet")));
        assert!(!d.validate_config(&config("http://sw:8008", "Ethernet")));
        assert!(d.validate_port_name("1/3"));
        assert!(d.validate_port_name("1/0/1"));
        assert!(!d.validate_port_name("gi1/0/1"));
        assert!(d.capabilities().is_empty());
        assert_eq!(d.type_uri(), TYPE_URI);
        assert_eq!(d.extension_name(), "hil.ext.switches.dellnos9");
    }

    #[test]
    fn rest_dellnos9_urls() {
        assert_eq!(rest_prefix("GigabitEthernet"), Some("gige-"));
        assert_eq!(rest_prefix("HundredGigabitEthernet"), Some("hundredgig-"));
        assert_eq!(rest_prefix("Nope"), None);
        assert_eq!(interface_name("gige-", "1/3"), "gige-1-3");
        assert_eq!(
            interface_path("tengig-", "1/0/1"),
            "/api/running/dell/interfaces/interface/tengig-1-0-1"
        );
    }

    #[test]
    fn rest_dellnos9_bodies() {
        let lines = vlan_lines(100, "untagged", "GigabitEthernet", "1/3");
        assert_eq!(
            cli_body(CliKind::Config, &lines),
            "<input><config-commands>interface vlan 100\r\n untagged GigabitEthernet 1/3\
             </config-commands></input>"
        );
        assert_eq!(
            cli_body(CliKind::Exec, &["write".into()]),
            "<input><exec-command>write</exec-command></input>"
        );
        assert_eq!(
            cli_body(CliKind::Show, &["a<b & c".into()]),
            "<input><show-command>a&lt;b &amp; c</show-command></input>"
        );
        assert_eq!(
            port_on_body("gige-1-3"),
            "<interface><name>gige-1-3</name><portmode><hybrid>true</hybrid></portmode>\
             <switchport></switchport><shutdown>false</shutdown></interface>"
        );
        assert_eq!(
            port_shutdown_body("gige-1-3"),
            "<interface><name>gige-1-3</name><portmode><hybrid>false</hybrid></portmode>\
             <shutdown>true</shutdown></interface>"
        );
        for body in [port_on_body("x"), port_shutdown_body("x")] {
            assert!(roxmltree::Document::parse(&body).is_ok(), "{body}");
        }
    }

    #[test]
    fn rest_dellnos9_interface_state() {
        let ns = "http://www.dell.com/ns/dell:0.1/root";
        let on = format!(
            "<interface xmlns=\"{ns}\"><name>gige-1-3</name><shutdown>false</shutdown></interface>"
        );
        let off = format!("<interface xmlns=\"{ns}\"><shutdown>true</shutdown></interface>");
        assert!(parse_is_on(&on).unwrap());
        assert!(!parse_is_on(&off).unwrap());
        assert!(parse_is_on("<interface/>").is_err());
        assert!(parse_is_on("not xml").is_err());
    }

    #[test]
    fn rest_dellnos9_switchport_output() {
        let text = "Codes:  U - Untagged, T - Tagged\n        x - Dot1x untagged, X - Dot1x tagged\n\
                    \nName: TenGigabitEthernet 1/3\n802.1QTagged: Hybrid\nVlan membership:\n\
                    Q       Vlans\nU       1512\nT       1511,1612-1614\n\nNative VlanId:     1512.\n";
        assert_eq!(
            parse_switchport(text).unwrap(),
            Membership {
                native: Some(1512),
                tagged: vec![1511, 1612, 1613, 1614]
            }
        );
        let wrapped = format!(
            "<output xmlns=\"http://www.dell.com/ns/dell:0.1/root\"><command>{}</command></output>",
            escape(text)
        );
        assert_eq!(
            parse_switchport(&cli_output(&wrapped)).unwrap().native,
            Some(1512)
        );
        let empty = "Name: GigabitEthernet 1/3\n802.1QTagged: Hybrid\nVlan membership:\nQ Vlans\n";
        assert_eq!(parse_switchport(empty).unwrap(), Membership::default());
        let two_lines = "T 100\nT 200-201\nNative VlanId: 10.";
        assert_eq!(
            parse_switchport(two_lines).unwrap().tagged,
            vec![100, 200, 201]
        );
    }

    #[test]
    fn rest_dellnos9_open_refuses_unknown_interface_type() {
        let d = DellNos9Driver::new(DriverOptions::default());
        let spec = SwitchSpec {
            label: "sw".into(),
            config: config("http://sw", "Bogus"),
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let err = rt.block_on(d.open(&spec)).err().unwrap();
        assert_eq!(err.kind, SwitchErrorKind::Rejected);
    }
}
