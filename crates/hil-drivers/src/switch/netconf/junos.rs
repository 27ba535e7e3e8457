//! Juniper Junos switches with ELS (Enhanced Layer 2 Software: EX2300 and later, QFX), over
//! NETCONF.
//!
//! A port HIL manages is, in Junos terms, `unit 0 family ethernet-switching` with
//! `interface-mode trunk` and `vlan members`, plus the interface-level `native-vlan-id`:
//!
//! ```text
//! interfaces { ge-0/0/1 { native-vlan-id 100;
//!     unit 0 { family ethernet-switching { interface-mode trunk; vlan { members [ 100 200 ]; } } } } }
//! ```
//!
//! VLANs are named by number in `vlan members` (Junos takes a VLAN's name or its vlan-id
//! there); the VLANs themselves must exist under `vlans` with those vlan-ids, as the admin
//! creates them for the pool. The native VLAN is also a member, because an ELS trunk only
//! forwards the VLANs it lists. A port that carries nothing has no `unit 0` switching family
//! at all: ELS refuses to commit a trunk without members.
//!
//! Each change is its own transaction on the shared candidate configuration: `lock`, read
//! the port, `edit-config`, `commit`, `unlock`; on any failure `discard-changes` first, so a
//! refused change never lingers in the candidate for a later commit to push. See
//! docs/drivers.md for why a change is committed at once rather than once per batch.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use regex::Regex;
use serde_json::Value;

use super::{parse, Netconf};
use crate::address::host_and_port;
use crate::switch::cli::ssh::Target;
use crate::switch::{
    DriverOptions, PortChange, PortState, SwitchDriver, SwitchError, SwitchErrorKind,
    SwitchSession, SwitchSpec, VlanOp,
};
use crate::xml::escape;

pub const TYPE_URI: &str = "http://schema.massopencloud.org/haas/v0/switches/juniper_junos";
pub const EXTENSION_NAME: &str = "hil.ext.switches.juniper_junos";
/// NETCONF over SSH's port (RFC 6242) when `hostname` names none.
pub const NETCONF_PORT: u16 = 830;

/// Junos interface names: `ge-0/0/1`, `xe-0/0/48:2` (a channelised port), `et-0/0/49`,
/// `mge-0/0/3`, and aggregated `ae1`.
const PORT_PATTERN: &str =
    r"^(?:(?:ge|xe|et|mge|fe)-\d{1,2}/\d{1,2}/\d{1,3}(?::\d{1,2})?|ae\d{1,4})$";

const LOCK: &str = "<lock><target><candidate/></target></lock>";
const UNLOCK: &str = "<unlock><target><candidate/></target></unlock>";
const COMMIT: &str = "<commit/>";
const DISCARD: &str = "<discard-changes/>";
const VLANS_FILTER: &str = "<configuration><vlans/></configuration>";
/// How often a denied lock is tried again (another session is committing).
const LOCK_RETRY: Duration = Duration::from_millis(500);

pub struct JunosDriver {
    port_name: Regex,
    options: DriverOptions,
    known_hosts: PathBuf,
}

impl JunosDriver {
    pub fn new(options: DriverOptions, known_hosts: PathBuf) -> Self {
        JunosDriver {
            port_name: Regex::new(PORT_PATTERN).expect("static regex"),
            options,
            known_hosts,
        }
    }
}

fn rejected(message: impl Into<String>) -> SwitchError {
    SwitchError::new(SwitchErrorKind::Rejected, message)
}

#[async_trait]
impl SwitchDriver for JunosDriver {
    fn type_uri(&self) -> &'static str {
        TYPE_URI
    }

    fn extension_name(&self) -> &'static str {
        EXTENSION_NAME
    }

    fn capabilities(&self) -> &'static [&'static str] {
        &["nativeless-trunk-mode"]
    }

    fn validate_config(&self, config: &serde_json::Map<String, Value>) -> bool {
        let strings_ok = ["hostname", "username", "password"]
            .iter()
            .all(|k| config.get(*k).is_some_and(Value::is_string));
        let hostname_ok = config
            .get("hostname")
            .and_then(Value::as_str)
            .and_then(|h| host_and_port(h, NETCONF_PORT))
            .is_some();
        config.len() == 3 && strings_ok && hostname_ok
    }

    fn validate_port_name(&self, name: &str) -> bool {
        self.port_name.is_match(name)
    }

    async fn open(&self, switch: &SwitchSpec) -> Result<Box<dyn SwitchSession>, SwitchError> {
        let known_hosts = self.known_hosts.clone();
        let target = Target::of_switch(
            switch,
            NETCONF_PORT,
            known_hosts,
            self.options.connect_timeout,
        )?;
        let nc = Netconf::open(&target, self.options.command_timeout).await?;
        if !nc.capabilities.iter().any(|c| c.contains(":candidate:1.0")) {
            nc.close().await;
            return Err(rejected(
                "the switch's NETCONF server offers no candidate configuration",
            ));
        }
        Ok(Box::new(JunosSession {
            nc,
            timeout: self.options.command_timeout,
        }))
    }
}

struct JunosSession {
    nc: Netconf,
    timeout: Duration,
}

/// A port as read: its configuration and the VLAN names it needs resolved.
struct Read {
    port: JunosPort,
    names: BTreeMap<String, u16>,
}

impl JunosSession {
    /// Locks the candidate. A denied lock (another session is changing the switch) is tried
    /// again until the command timeout; then the action fails as timed out, to be retried.
    async fn lock(&mut self) -> Result<(), SwitchError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            match self.nc.rpc("the lock of the candidate", LOCK).await {
                Ok(_) => return Ok(()),
                Err(e) if e.kind == SwitchErrorKind::Rejected && !self.nc.is_broken() => {
                    if tokio::time::Instant::now() + LOCK_RETRY > deadline {
                        return Err(SwitchError::new(
                            SwitchErrorKind::Timeout,
                            format!(
                                "{} (still after {} s)",
                                e.message,
                                self.timeout.as_secs_f64()
                            ),
                        ));
                    }
                    tokio::time::sleep(LOCK_RETRY).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads `port` from `source` (`running` or `candidate`), with the vlan-ids of the VLAN
    /// names its members use, if any.
    async fn read(&mut self, source: &str, port: &str) -> Result<Read, SwitchError> {
        let reply = self
            .nc
            .rpc(
                &format!("reading {port}"),
                &get_config(source, &interface_filter(port)),
            )
            .await?;
        let parsed = parse_port(&reply, port).map_err(rejected)?;
        let mut names = BTreeMap::new();
        if parsed.members.iter().any(|m| is_vlan_name(m)) {
            let reply = self
                .nc
                .rpc("reading the VLANs", &get_config(source, VLANS_FILTER))
                .await?;
            names = parse_vlan_ids(&reply).map_err(rejected)?;
        }
        Ok(Read {
            port: parsed,
            names,
        })
    }

    /// The change itself, with the candidate locked: read, edit, commit.
    async fn change(&mut self, port: &str, op: VlanOp) -> Result<(), SwitchError> {
        let now = self.read("candidate", port).await?;
        let wanted = wanted(&carried(&now.port, &now.names), op);
        let edits = edits(port, &now.port, &now.names, &wanted);
        if edits.is_empty() {
            tracing::debug!(%port, ?op, "the port already is as asked");
            return Ok(());
        }
        for configuration in &edits {
            self.nc
                .rpc(
                    &format!("the change of {port}"),
                    &edit_config(configuration),
                )
                .await?;
        }
        self.nc
            .rpc(&format!("the commit of {port}"), COMMIT)
            .await?;
        Ok(())
    }
}

#[async_trait]
impl SwitchSession for JunosSession {
    async fn apply(&mut self, change: &PortChange) -> Result<(), SwitchError> {
        let op = change.vlan_op()?;
        let port = change.port();
        self.lock().await?;
        let result = self.change(port, op).await;
        if self.nc.is_broken() {
            // The switch drops the lock and the uncommitted change with the session.
            return result;
        }
        if result.is_err() {
            if let Err(e) = self.nc.rpc("discard-changes", DISCARD).await {
                tracing::warn!(%port, error = %e.message, "discarding a refused change failed");
            }
        }
        if let Err(e) = self.nc.rpc("the unlock of the candidate", UNLOCK).await {
            tracing::warn!(%port, error = %e.message, "unlocking the candidate failed");
        }
        result
    }

    async fn port_state(&mut self, port: &str) -> Result<PortState, SwitchError> {
        let now = self.read("running", port).await?;
        Ok(state(&carried(&now.port, &now.names)))
    }

    /// Nothing to do: every change was committed when it was applied, and a commit is what
    /// makes a Junos change both live and lasting (there is no separate startup configuration).
    async fn save(&mut self) -> Result<(), SwitchError> {
        Ok(())
    }

    async fn close(self: Box<Self>) -> Result<(), SwitchError> {
        self.nc.close().await;
        Ok(())
    }
}

/// `<get-config>` of `source` with a subtree filter.
pub fn get_config(source: &str, filter: &str) -> String {
    format!(
        "<get-config><source><{source}/></source><filter type=\"subtree\">{filter}</filter>\
         </get-config>"
    )
}

/// A subtree filter for one interface's configuration.
pub fn interface_filter(port: &str) -> String {
    interface_config(port, "")
}

/// `<configuration>` holding `inner` inside interface `port`.
fn interface_config(port: &str, inner: &str) -> String {
    format!(
        "<configuration><interfaces><interface><name>{}</name>{inner}</interface></interfaces>\
         </configuration>",
        escape(port)
    )
}

/// `<edit-config>` merging `configuration` into the candidate.
pub fn edit_config(configuration: &str) -> String {
    format!(
        "<edit-config><target><candidate/></target><config>{configuration}</config></edit-config>"
    )
}

/// A port's VLAN configuration as Junos holds it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct JunosPort {
    /// `unit 0 family ethernet-switching` is configured.
    pub switching: bool,
    /// `interface-mode` (ELS) or `port-mode` (older Junos); Junos's default is access.
    pub mode: Option<String>,
    /// `vlan members` as written: vlan-ids, ranges (`100-110`), VLAN names or `all`.
    pub members: Vec<String>,
    /// `native-vlan-id`.
    pub native: Option<u16>,
}

/// Deactivated statements (`inactive:`) are in the configuration but not in effect.
fn active(n: &roxmltree::Node) -> bool {
    !n.attributes().any(|a| a.name() == "inactive")
}

fn children<'a, 'input: 'a>(
    n: roxmltree::Node<'a, 'input>,
    name: &'a str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'input>> + 'a {
    n.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name && active(c))
}

fn text_of(n: roxmltree::Node, name: &str) -> Option<String> {
    children(n, name)
        .next()
        .and_then(|c| c.text())
        .map(|t| t.trim().to_string())
}

/// Reads `port` out of a `<get-config>` reply. A port without configuration reads as default.
pub fn parse_port(reply: &str, port: &str) -> Result<JunosPort, String> {
    let doc = parse(reply).map_err(|e| format!("the switch's configuration is not XML: {e}"))?;
    let mut result = JunosPort::default();
    let interface = doc.descendants().find(|n| {
        n.tag_name().name() == "interface"
            && n.parent_element()
                .is_some_and(|p| p.tag_name().name() == "interfaces")
            && text_of(*n, "name").as_deref() == Some(port)
    });
    let Some(interface) = interface.filter(active) else {
        return Ok(result);
    };
    let vlan_id = |t: String| t.parse::<u16>().ok();
    result.native = text_of(interface, "native-vlan-id").and_then(vlan_id);
    let switching = children(interface, "unit")
        .filter(|u| text_of(*u, "name").as_deref() == Some("0"))
        .flat_map(|u| children(u, "family"))
        .flat_map(|f| children(f, "ethernet-switching"))
        .next();
    if let Some(es) = switching {
        result.switching = true;
        result.mode = text_of(es, "interface-mode").or_else(|| text_of(es, "port-mode"));
        result.members = children(es, "vlan")
            .flat_map(|v| children(v, "members"))
            .filter_map(|m| m.text().map(|t| t.trim().to_string()))
            .filter(|t| !t.is_empty())
            .collect();
        // older Junos keeps the native VLAN inside the family
        if result.native.is_none() {
            result.native = text_of(es, "native-vlan-id").and_then(vlan_id);
        }
    }
    Ok(result)
}

/// VLAN name → vlan-id, from a `<get-config>` reply of `vlans`.
pub fn parse_vlan_ids(reply: &str) -> Result<BTreeMap<String, u16>, String> {
    let doc = parse(reply).map_err(|e| format!("the switch's configuration is not XML: {e}"))?;
    Ok(doc
        .descendants()
        .filter(|n| {
            n.tag_name().name() == "vlan"
                && active(n)
                && n.parent_element()
                    .is_some_and(|p| p.tag_name().name() == "vlans")
        })
        .filter_map(|v| {
            let id = text_of(v, "vlan-id")?.parse().ok()?;
            Some((text_of(v, "name")?, id))
        })
        .collect())
}

/// What one `vlan members` entry stands for.
#[derive(Debug, PartialEq, Eq)]
enum Member {
    Vlans(BTreeSet<u16>),
    All,
    /// A name with no VLAN (or no vlan-id) behind it.
    Unknown,
}

/// A member that is neither a number, a range nor `all`: a VLAN name.
fn is_vlan_name(member: &str) -> bool {
    member != "all" && resolve(member, &BTreeMap::new()) == Member::Unknown
}

fn resolve(member: &str, names: &BTreeMap<String, u16>) -> Member {
    if member == "all" {
        return Member::All;
    }
    let id = |t: &str| {
        t.trim()
            .parse::<u16>()
            .ok()
            .filter(|v| (1..=4094).contains(v))
    };
    if let Some(v) = id(member) {
        return Member::Vlans([v].into());
    }
    if let Some((a, b)) = member.split_once('-') {
        if let (Some(a), Some(b)) = (id(a), id(b)) {
            return Member::Vlans((a..=b).collect());
        }
    }
    match names.get(member) {
        Some(v) => Member::Vlans([*v].into()),
        None => Member::Unknown,
    }
}

/// What a port carries, in 802.1q terms.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Carried {
    pub native: Option<u16>,
    /// Tagged VLANs, without the native one.
    pub tagged: BTreeSet<u16>,
    /// `vlan members all`.
    pub all: bool,
}

/// What a port with this configuration lets through. A trunk carries its native VLAN
/// untagged and its other members tagged; an access port (said so, or no mode: Junos's
/// default) carries its member untagged.
pub fn carried(port: &JunosPort, names: &BTreeMap<String, u16>) -> Carried {
    let mut result = Carried::default();
    if !port.switching {
        return result;
    }
    let mut vlans = BTreeSet::new();
    for m in &port.members {
        match resolve(m, names) {
            Member::Vlans(v) => vlans.extend(v),
            Member::All => result.all = true,
            Member::Unknown => {
                tracing::warn!(member = %m, "a VLAN member names no VLAN with a vlan-id")
            }
        }
    }
    if port.mode.as_deref() == Some("trunk") {
        result.native = port.native;
        result.tagged = vlans;
        if let Some(n) = port.native {
            result.tagged.remove(&n);
        }
    } else {
        result.native = vlans.first().copied();
    }
    result
}

/// HIL's reading: channel → network id.
pub fn state(carried: &Carried) -> PortState {
    let mut state = PortState::new();
    if let Some(n) = carried.native {
        state.insert("vlan/native".into(), n.to_string());
    }
    for v in &carried.tagged {
        state.insert(format!("vlan/{v}"), v.to_string());
    }
    if carried.all {
        state.insert("vlan/*".into(), "*".into());
    }
    state
}

/// What the port should carry after `op`. `all` never survives a change: a HIL port carries
/// only the VLANs HIL put there.
pub fn wanted(now: &Carried, op: VlanOp) -> Carried {
    let mut w = Carried {
        native: now.native,
        tagged: now.tagged.clone(),
        all: false,
    };
    match op {
        VlanOp::SetNative { vlan, .. } => {
            w.native = Some(vlan);
            w.tagged.remove(&vlan);
        }
        VlanOp::RemoveNative { .. } => w.native = None,
        VlanOp::AddTagged { vlan } => {
            w.tagged.insert(vlan);
        }
        VlanOp::RemoveTagged { vlan } => {
            w.tagged.remove(&vlan);
        }
        VlanOp::Revert => w = Carried::default(),
    }
    w
}

const DELETE_NATIVE: &str = "<native-vlan-id operation=\"delete\"/>";
const DELETE_UNIT: &str = "<unit operation=\"delete\"><name>0</name></unit>";

/// The `<configuration>`s to merge, in order, to take `port` from `now` to `wanted`. Only
/// statements that exist are deleted (Junos answers a delete of a missing one with "statement
/// not found"). Empty when the port already is as wanted.
pub fn edits(
    port: &str,
    now: &JunosPort,
    names: &BTreeMap<String, u16>,
    wanted: &Carried,
) -> Vec<String> {
    let mut members: BTreeSet<u16> = wanted.tagged.clone();
    members.extend(wanted.native);
    if members.is_empty() {
        // Nothing left: no switching family at all (an ELS trunk needs members).
        let mut parts = String::new();
        if now.native.is_some() {
            parts.push_str(DELETE_NATIVE);
        }
        if now.switching {
            parts.push_str(DELETE_UNIT);
        }
        return if parts.is_empty() {
            vec![]
        } else {
            vec![interface_config(port, &parts)]
        };
    }
    let mut out = Vec::new();
    let mut parts = String::new();
    let mut current: &[String] = &now.members;
    let restart = now.switching && now.mode.as_deref() != Some("trunk");
    if restart {
        // An access port becomes a trunk from a clean unit, so that its access VLAN does not
        // linger as a tagged member.
        let mut first = String::new();
        if now.native.is_some() && wanted.native.is_none() {
            first.push_str(DELETE_NATIVE);
        }
        first.push_str(DELETE_UNIT);
        out.push(interface_config(port, &first));
        current = &[];
    }
    match wanted.native {
        Some(n) if restart || now.native != Some(n) => {
            parts.push_str(&format!("<native-vlan-id>{n}</native-vlan-id>"));
        }
        None if !restart && now.native.is_some() => parts.push_str(DELETE_NATIVE),
        _ => {}
    }
    let mut kept = BTreeSet::new();
    let mut vlan_parts = String::new();
    for m in current {
        match resolve(m, names) {
            Member::Vlans(v) if v.is_subset(&members) => kept.extend(v),
            _ => vlan_parts.push_str(&format!(
                "<members operation=\"delete\">{}</members>",
                escape(m)
            )),
        }
    }
    for v in members.difference(&kept) {
        vlan_parts.push_str(&format!("<members>{v}</members>"));
    }
    let is_trunk = now.switching && now.mode.as_deref() == Some("trunk");
    if parts.is_empty() && vlan_parts.is_empty() && is_trunk {
        return out;
    }
    let vlan = if vlan_parts.is_empty() {
        String::new()
    } else {
        format!("<vlan>{vlan_parts}</vlan>")
    };
    parts.push_str(&format!(
        "<unit><name>0</name><family><ethernet-switching>\
         <interface-mode>trunk</interface-mode>{vlan}</ethernet-switching></family></unit>"
    ));
    out.push(interface_config(port, &parts));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(interface: &str) -> String {
        format!(
            "<rpc-reply xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\" message-id=\"2\"><data>\
             <configuration xmlns=\"http://xml.juniper.net/xnm/1.1/xnm\"><interfaces>\
             {interface}</interfaces></configuration></data></rpc-reply>"
        )
    }

    fn trunk(native: Option<u16>, members: &[&str]) -> JunosPort {
        JunosPort {
            switching: true,
            mode: Some("trunk".into()),
            members: members.iter().map(|m| m.to_string()).collect(),
            native,
        }
    }

    fn no_names() -> BTreeMap<String, u16> {
        BTreeMap::new()
    }

    #[test]
    fn requests_are_well_formed_and_escaped() {
        assert_eq!(
            get_config("running", &interface_filter("ge-0/0/1")),
            "<get-config><source><running/></source><filter type=\"subtree\"><configuration>\
             <interfaces><interface><name>ge-0/0/1</name></interface></interfaces>\
             </configuration></filter></get-config>"
        );
        assert!(interface_filter("a<b&").contains("<name>a&lt;b&amp;</name>"));
        let edit = edit_config("<configuration/>");
        assert!(edit.starts_with("<edit-config><target><candidate/></target><config>"));
        for text in [edit, get_config("candidate", VLANS_FILTER)] {
            assert!(roxmltree::Document::parse(&text).is_ok(), "{text}");
        }
    }

    #[test]
    fn an_els_trunk_is_read() {
        let text = reply(
            "<interface><name>ge-0/0/2</name><description>x</description></interface>\
             <interface><name>ge-0/0/1</name><unit><name>0</name><family><ethernet-switching>\
             <interface-mode>trunk</interface-mode><vlan><members>100</members>\
             <members>200</members></vlan></ethernet-switching></family></unit>\
             <native-vlan-id>100</native-vlan-id></interface>",
        );
        let port = parse_port(&text, "ge-0/0/1").unwrap();
        assert_eq!(port, trunk(Some(100), &["100", "200"]));
        let c = carried(&port, &no_names());
        assert_eq!(
            state(&c).into_iter().collect::<Vec<_>>(),
            [
                ("vlan/200".to_string(), "200".to_string()),
                ("vlan/native".to_string(), "100".to_string())
            ]
        );
        // another port, and a port without configuration
        assert_eq!(parse_port(&text, "ge-0/0/2").unwrap(), JunosPort::default());
        assert_eq!(
            parse_port(&reply(""), "ge-0/0/1").unwrap(),
            JunosPort::default()
        );
        assert!(parse_port("<oops", "ge-0/0/1").is_err());
    }

    #[test]
    fn read_back_follows_junos_semantics() {
        let read = |port: &JunosPort, names: &BTreeMap<String, u16>| {
            state(&carried(port, names))
                .into_iter()
                .collect::<Vec<(String, String)>>()
        };
        let pair = |c: &str, v: &str| (c.to_string(), v.to_string());
        // ranges, names and `all`
        let names: BTreeMap<String, u16> = [("web".to_string(), 300)].into();
        assert_eq!(
            read(&trunk(None, &["100-101", "web"]), &names),
            [
                pair("vlan/100", "100"),
                pair("vlan/101", "101"),
                pair("vlan/300", "300")
            ]
        );
        assert_eq!(read(&trunk(None, &["all"]), &names), [pair("vlan/*", "*")]);
        // an access port carries its member untagged, said so or by default
        let mut access = trunk(None, &["300"]);
        access.mode = Some("access".into());
        assert_eq!(read(&access, &names), [pair("vlan/native", "300")]);
        access.mode = None;
        assert_eq!(read(&access, &names), [pair("vlan/native", "300")]);
        // without the switching family nothing is carried, whatever native-vlan-id says
        let bare = JunosPort {
            native: Some(100),
            ..JunosPort::default()
        };
        assert_eq!(read(&bare, &names), []);
        // older Junos: port-mode, native inside the family
        let old = reply(
            "<interface><name>ge-0/0/1</name><unit><name>0</name><family><ethernet-switching>\
             <port-mode>trunk</port-mode><native-vlan-id>5</native-vlan-id><vlan>\
             <members>5</members><members inactive=\"inactive\">6</members></vlan>\
             </ethernet-switching></family></unit></interface>",
        );
        let port = parse_port(&old, "ge-0/0/1").unwrap();
        assert_eq!(port, trunk(Some(5), &["5"]));
        assert_eq!(read(&port, &names), [pair("vlan/native", "5")]);
    }

    #[test]
    fn vlan_names_map_to_their_ids() {
        let text = "<rpc-reply message-id=\"3\"><data><configuration><vlans>\
            <vlan><name>web</name><vlan-id>300</vlan-id></vlan>\
            <vlan><name>default</name></vlan></vlans></configuration></data></rpc-reply>";
        assert_eq!(
            parse_vlan_ids(text).unwrap(),
            [("web".to_string(), 300)].into()
        );
        assert!(is_vlan_name("web"));
        assert!(!is_vlan_name("100"));
        assert!(!is_vlan_name("100-200"));
        assert!(!is_vlan_name("all"));
    }

    #[test]
    fn operations_give_the_wanted_state() {
        let now = Carried {
            native: Some(100),
            tagged: [200].into(),
            all: true,
        };
        let w = wanted(
            &now,
            VlanOp::SetNative {
                vlan: 200,
                previous: Some(100),
            },
        );
        assert_eq!((w.native, w.tagged, w.all), (Some(200), [].into(), false));
        let w = wanted(&now, VlanOp::RemoveNative { vlan: None });
        assert_eq!((w.native, w.tagged), (None, [200].into()));
        let w = wanted(&now, VlanOp::AddTagged { vlan: 300 });
        assert_eq!(w.tagged, [200, 300].into());
        let w = wanted(&now, VlanOp::RemoveTagged { vlan: 200 });
        assert_eq!(w.tagged, [].into());
        assert_eq!(wanted(&now, VlanOp::Revert), Carried::default());
    }

    fn want(native: Option<u16>, tagged: &[u16]) -> Carried {
        Carried {
            native,
            tagged: tagged.iter().copied().collect(),
            all: false,
        }
    }

    const UNIT: &str = "<unit><name>0</name><family><ethernet-switching>\
                        <interface-mode>trunk</interface-mode>";

    fn wrap(inner: &str) -> String {
        interface_config("ge-0/0/1", inner)
    }

    #[test]
    fn a_native_vlan_on_a_fresh_port() {
        let e = edits(
            "ge-0/0/1",
            &JunosPort::default(),
            &no_names(),
            &want(Some(100), &[]),
        );
        assert_eq!(
            e,
            [wrap(&format!(
                "<native-vlan-id>100</native-vlan-id>{UNIT}<vlan><members>100</members></vlan>\
                 </ethernet-switching></family></unit>"
            ))]
        );
    }

    #[test]
    fn tagged_vlans_come_and_go_by_member() {
        let now = trunk(Some(100), &["100"]);
        let e = edits("ge-0/0/1", &now, &no_names(), &want(Some(100), &[200]));
        assert_eq!(
            e,
            [wrap(&format!(
                "{UNIT}<vlan><members>200</members></vlan></ethernet-switching></family></unit>"
            ))]
        );
        let now = trunk(Some(100), &["100", "200"]);
        let e = edits("ge-0/0/1", &now, &no_names(), &want(Some(100), &[]));
        assert_eq!(
            e,
            [wrap(&format!(
                "{UNIT}<vlan><members operation=\"delete\">200</members></vlan>\
                 </ethernet-switching></family></unit>"
            ))]
        );
        // already so: nothing to send, nothing to commit
        assert!(edits("ge-0/0/1", &now, &no_names(), &want(Some(100), &[200])).is_empty());
        assert!(edits(
            "ge-0/0/1",
            &JunosPort::default(),
            &no_names(),
            &want(None, &[])
        )
        .is_empty());
    }

    #[test]
    fn the_native_vlan_is_replaced_and_removed() {
        let now = trunk(Some(100), &["100", "200"]);
        let e = edits("ge-0/0/1", &now, &no_names(), &want(Some(101), &[200]));
        assert_eq!(
            e,
            [wrap(&format!(
                "<native-vlan-id>101</native-vlan-id>{UNIT}<vlan><members operation=\"delete\">\
                 100</members><members>101</members></vlan></ethernet-switching></family></unit>"
            ))]
        );
        let e = edits("ge-0/0/1", &now, &no_names(), &want(None, &[200]));
        assert_eq!(
            e,
            [wrap(&format!(
                "{DELETE_NATIVE}{UNIT}<vlan><members operation=\"delete\">100</members></vlan>\
                 </ethernet-switching></family></unit>"
            ))]
        );
    }

    #[test]
    fn nothing_left_means_no_switching_family() {
        let now = trunk(Some(100), &["100", "200"]);
        let e = edits("ge-0/0/1", &now, &no_names(), &want(None, &[]));
        assert_eq!(e, [wrap(&format!("{DELETE_NATIVE}{DELETE_UNIT}"))]);
        let now = trunk(None, &["200"]);
        let e = edits("ge-0/0/1", &now, &no_names(), &want(None, &[]));
        assert_eq!(e, [wrap(DELETE_UNIT)]);
    }

    #[test]
    fn ranges_names_and_all_are_rewritten_as_numbers() {
        let names: BTreeMap<String, u16> = [("web".to_string(), 300)].into();
        let now = trunk(None, &["web", "100-101", "all"]);
        let e = edits("ge-0/0/1", &now, &names, &want(None, &[300, 100]));
        assert_eq!(
            e,
            [wrap(&format!(
                "{UNIT}<vlan><members operation=\"delete\">100-101</members>\
                 <members operation=\"delete\">all</members><members>100</members></vlan>\
                 </ethernet-switching></family></unit>"
            ))]
        );
    }

    #[test]
    fn an_access_port_becomes_a_trunk_from_a_clean_unit() {
        let now = JunosPort {
            switching: true,
            mode: Some("access".into()),
            members: vec!["300".into()],
            native: None,
        };
        let e = edits("ge-0/0/1", &now, &no_names(), &want(Some(300), &[200]));
        assert_eq!(
            e,
            [
                wrap(DELETE_UNIT),
                wrap(&format!(
                    "<native-vlan-id>300</native-vlan-id>{UNIT}<vlan><members>200</members>\
                     <members>300</members></vlan></ethernet-switching></family></unit>"
                ))
            ]
        );
    }

    #[test]
    fn registrations_and_port_names() {
        let d = JunosDriver::new(DriverOptions::default(), "/tmp/kh".into());
        let ok = serde_json::json!({"hostname": "sw1:2830", "username": "u", "password": "p"});
        assert!(d.validate_config(ok.as_object().unwrap()));
        let plain = serde_json::json!({"hostname": "sw1", "username": "u", "password": "p"});
        assert!(d.validate_config(plain.as_object().unwrap()));
        for bad in [
            serde_json::json!({"hostname": "sw1", "username": "u"}),
            serde_json::json!({"hostname": "sw1", "username": "u", "password": 5}),
            serde_json::json!({"hostname": "sw1:x", "username": "u", "password": "p"}),
            serde_json::json!({"hostname": "sw1", "username": "u", "password": "p",
                               "dummy_vlan": 2}),
        ] {
            assert!(!d.validate_config(bad.as_object().unwrap()), "{bad}");
        }
        for good in [
            "ge-0/0/1",
            "xe-0/0/48:2",
            "et-1/0/49",
            "mge-0/0/3",
            "ae1",
            "ae12",
        ] {
            assert!(d.validate_port_name(good), "{good}");
        }
        for bad in [
            "ge-0/0/1.0",
            "Ethernet1/1",
            "gi1/0/1",
            "ae",
            "ge-0/0",
            "em0",
            "",
        ] {
            assert!(!d.validate_port_name(bad), "{bad}");
        }
        assert_eq!(d.type_uri(), TYPE_URI);
        assert_eq!(d.extension_name(), EXTENSION_NAME);
    }
}
