//! Brocade VDX through the NOS REST API (tested by HIL on the VDX 6740): HIL's
//! `hil.ext.switches.brocade`.
//!
//! A port's configuration lives under
//! `/rest/config/running/interface/<type>/%22<port>%22` (the `%22` quotes wrap a port name
//! that contains `/`). Ports carrying VLANs are switchports in trunk mode with an untagged
//! native VLAN; a port with no native VLAN is shut down, as in HIL since its last change.
//!
//! Differences from HIL, on purpose:
//! * the add-VLAN body is well-formed XML, `<vlan><add>V</add></vlan>` (HIL sent
//!   `<vlan><add>V</vlan></vlan>` for years; the switch tolerated it);
//! * reverting a port checks the status of "remove every tagged VLAN" (HIL ignored it); to keep
//!   revert working on ports that carry no trunk configuration, the port is read first and the
//!   removal is only sent when there are tagged VLANs;
//! * `interface_type` must be a plain name (letters, digits, `-`) because it becomes a URL path
//!   segment;
//! * removing a native VLAN the switch no longer has (404) counts as done, so a retried action
//!   does not fail on its own earlier success.

use std::sync::LazyLock;

use async_trait::async_trait;
use regex::Regex;
use reqwest::{Method, StatusCode};

use super::{
    check_port, child_path, child_text, parse_vlan_list, parse_xml, port_state, valid_port_name,
    validate_common, Http,
};
use crate::switch::{
    parse_vlan, DriverOptions, PortChange, PortState, SwitchDriver, SwitchError, SwitchErrorKind,
    SwitchSession, SwitchSpec, VlanOp,
};

pub const TYPE_URI: &str = "http://schema.massopencloud.org/haas/v0/switches/brocade";

/// Interface types such as `TenGigabitEthernet` or `Port-channel`: safe as a URL segment.
static INTERFACE_TYPE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z][A-Za-z0-9-]*$").expect("static regex"));

/// The path of a port's configuration: `/rest/config/running/interface/<type>/%22<port>%22`.
fn base_path(interface_type: &str, port: &str) -> String {
    format!("/rest/config/running/interface/{interface_type}/%22{port}%22")
}

/// Body of "allow VLAN `vlan` on the trunk" (well-formed, unlike HIL's).
fn add_vlan_body(vlan: u16) -> String {
    format!("<vlan><add>{vlan}</add></vlan>")
}

fn remove_vlan_body(vlan: u16) -> String {
    format!("<vlan><remove>{vlan}</remove></vlan>")
}

const NO_VLANS_BODY: &str = "<vlan><none>true</none></vlan>";
const SHUTDOWN_BODY: &str = "<shutdown>true</shutdown>";
const SWITCHPORT_BODY: &str = "<switchport></switchport>";
const TRUNK_MODE_BODY: &str = "<mode><vlan-mode>trunk</vlan-mode></mode>";

fn native_vlan_body(vlan: u16) -> String {
    format!("<trunk><native-vlan>{vlan}</native-vlan></trunk>")
}

/// Whether the interface resource says the port is shut down: no `shutdown` child means on.
fn parse_is_off(body: &str) -> Result<bool, SwitchError> {
    let doc = parse_xml(body)?;
    match child_text(doc.root_element(), "shutdown").map(str::trim) {
        None => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(SwitchError::new(
            SwitchErrorKind::Rejected,
            format!("unexpected shutdown state {other:?} in the interface resource"),
        )),
    }
}

/// A port's trunk configuration: the native VLAN (direct child `native-vlan`) and the tagged
/// VLANs (`allowed/vlan/add`, a list such as `4001,4025` or `10-12`).
#[derive(Debug, Default, PartialEq, Eq)]
struct Trunk {
    native: Option<u16>,
    tagged: Vec<u16>,
}

fn parse_trunk(body: &str) -> Result<Trunk, SwitchError> {
    let doc = parse_xml(body)?;
    let root = doc.root_element();
    let native = child_text(root, "native-vlan")
        .map(|t| parse_vlan(t.trim()))
        .transpose()?;
    let tagged = match child_path(root, &["allowed", "vlan", "add"]).and_then(|n| n.text()) {
        Some(list) => parse_vlan_list(list.trim())?,
        None => Vec::new(),
    };
    Ok(Trunk { native, tagged })
}

/// The Brocade VDX switch type.
pub struct BrocadeDriver {
    options: DriverOptions,
}

impl BrocadeDriver {
    pub fn new(options: DriverOptions) -> Self {
        BrocadeDriver { options }
    }
}

#[async_trait]
impl SwitchDriver for BrocadeDriver {
    fn type_uri(&self) -> &'static str {
        TYPE_URI
    }

    fn extension_name(&self) -> &'static str {
        "hil.ext.switches.brocade"
    }

    /// No `nativeless-trunk-mode`: HIL never used NOS 7's `trunk-no-default-native`.
    fn capabilities(&self) -> &'static [&'static str] {
        &[]
    }

    fn validate_config(&self, config: &serde_json::Map<String, serde_json::Value>) -> bool {
        validate_common(config)
            && config
                .get("interface_type")
                .and_then(|v| v.as_str())
                .is_some_and(|t| INTERFACE_TYPE.is_match(t))
    }

    fn validate_port_name(&self, name: &str) -> bool {
        valid_port_name(name)
    }

    async fn open(&self, switch: &SwitchSpec) -> Result<Box<dyn SwitchSession>, SwitchError> {
        let interface_type = switch.field("interface_type").unwrap_or_default();
        if !INTERFACE_TYPE.is_match(interface_type) {
            return Err(SwitchError::new(
                SwitchErrorKind::Rejected,
                format!("invalid Brocade interface type {interface_type:?}"),
            ));
        }
        Ok(Box::new(BrocadeSession {
            http: Http::open(switch, &self.options)?,
            interface_type: interface_type.to_string(),
        }))
    }
}

struct BrocadeSession {
    http: Http,
    interface_type: String,
}

impl BrocadeSession {
    fn base(&self, port: &str) -> String {
        base_path(&self.interface_type, port)
    }

    fn sub(&self, port: &str, suffix: &str) -> String {
        format!("{}/switchport/{suffix}", self.base(port))
    }

    async fn is_off(&self, port: &str) -> Result<bool, SwitchError> {
        parse_is_off(&self.http.get(&self.base(port)).await?.body)
    }

    /// POST `<shutdown>true</shutdown>`; 409 means it already is.
    async fn shutdown(&self, port: &str) -> Result<(), SwitchError> {
        let body = Some(SHUTDOWN_BODY.to_string());
        self.http
            .send(
                Method::POST,
                &self.base(port),
                body,
                &[StatusCode::CONFLICT],
            )
            .await?;
        Ok(())
    }

    /// GET base → [DELETE shutdown] → POST switchport (409: already one) → PUT mode trunk.
    async fn enable_trunk(&self, port: &str) -> Result<(), SwitchError> {
        let base = self.base(port);
        if self.is_off(port).await? {
            let path = format!("{base}/shutdown");
            self.http.send(Method::DELETE, &path, None, &[]).await?;
        }
        let body = Some(SWITCHPORT_BODY.to_string());
        self.http
            .send(Method::POST, &base, body, &[StatusCode::CONFLICT])
            .await?;
        self.http
            .put(&self.sub(port, "mode"), TRUNK_MODE_BODY.to_string())
            .await?;
        Ok(())
    }

    /// GET `switchport/trunk`. A port without trunk configuration (404) carries nothing.
    async fn trunk(&self, port: &str) -> Result<Trunk, SwitchError> {
        let path = self.sub(port, "trunk");
        let reply = self
            .http
            .send(Method::GET, &path, None, &[StatusCode::NOT_FOUND])
            .await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(Trunk::default());
        }
        parse_trunk(&reply.body)
    }

    async fn put_allowed(&self, port: &str, body: String) -> Result<(), SwitchError> {
        let path = self.sub(port, "trunk/allowed/vlan");
        self.http.put(&path, body).await?;
        Ok(())
    }

    /// (a) enable trunk → DELETE `trunk/tag/native-vlan` (404: not tagged) so the native VLAN
    /// stays untagged → PUT the native VLAN.
    async fn set_native(&self, port: &str, vlan: u16) -> Result<(), SwitchError> {
        self.enable_trunk(port).await?;
        let path = self.sub(port, "trunk/tag/native-vlan");
        self.http
            .send(Method::DELETE, &path, None, &[StatusCode::NOT_FOUND])
            .await?;
        self.http
            .put(&self.sub(port, "trunk"), native_vlan_body(vlan))
            .await?;
        Ok(())
    }

    /// (a') DELETE `trunk/native-vlan` (404: already gone) → shut the port down.
    async fn remove_native(&self, port: &str) -> Result<(), SwitchError> {
        let path = self.sub(port, "trunk/native-vlan");
        self.http
            .send(Method::DELETE, &path, None, &[StatusCode::NOT_FOUND])
            .await?;
        self.shutdown(port).await
    }

    /// (b) enable trunk → allow the VLAN.
    async fn add_tagged(&self, port: &str, vlan: u16) -> Result<(), SwitchError> {
        self.enable_trunk(port).await?;
        self.put_allowed(port, add_vlan_body(vlan)).await
    }

    /// (c) disallow the VLAN.
    async fn remove_tagged(&self, port: &str, vlan: u16) -> Result<(), SwitchError> {
        self.put_allowed(port, remove_vlan_body(vlan)).await
    }

    /// (d) read the trunk → [allow no VLANs] → [DELETE native] → shut down.
    async fn revert(&self, port: &str) -> Result<(), SwitchError> {
        let trunk = self.trunk(port).await?;
        if !trunk.tagged.is_empty() {
            self.put_allowed(port, NO_VLANS_BODY.to_string()).await?;
        }
        if trunk.native.is_some() {
            self.remove_native(port).await
        } else {
            self.shutdown(port).await
        }
    }
}

#[async_trait]
impl SwitchSession for BrocadeSession {
    async fn apply(&mut self, change: &PortChange) -> Result<(), SwitchError> {
        let port = change.port();
        check_port(port)?;
        match change.vlan_op()? {
            VlanOp::SetNative { vlan, .. } => self.set_native(port, vlan).await,
            VlanOp::RemoveNative { .. } => self.remove_native(port).await,
            VlanOp::AddTagged { vlan } => self.add_tagged(port, vlan).await,
            VlanOp::RemoveTagged { vlan } => self.remove_tagged(port, vlan).await,
            VlanOp::Revert => self.revert(port).await,
        }
    }

    /// (e) GET `switchport/trunk` once for both the native and the tagged VLANs.
    async fn port_state(&mut self, port: &str) -> Result<PortState, SwitchError> {
        check_port(port)?;
        let trunk = self.trunk(port).await?;
        Ok(port_state(trunk.native, &trunk.tagged))
    }

    /// Nothing is sent: HIL had no save for this switch, and copying running-config to
    /// startup-config through NOS REST was never tested against a VDX. Operators who need it
    /// run `copy running-config startup-config` on the switch.
    async fn save(&mut self) -> Result<(), SwitchError> {
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
    fn rest_brocade_validation() {
        let d = BrocadeDriver::new(DriverOptions::default());
        assert!(d.validate_config(&config("http://vdx", "TenGigabitEthernet")));
        assert!(d.validate_config(&config("https://vdx", "Port-channel")));
        assert!(d.validate_config(&config("vdx.example.com", "TenGigabitEthernet")));
        assert!(!d.validate_config(&config("ftp://vdx", "TenGigabitEthernet")));
        assert!(!d.validate_config(&config("http://vdx", "Ten/../x")));
        assert!(!d.validate_config(&config("http://vdx", "")));
        assert!(d.validate_port_name("101/0/10"));
        assert!(!d.validate_port_name("Te 1/0/1"));
        assert!(d.capabilities().is_empty());
        assert_eq!(d.type_uri(), TYPE_URI);
        assert_eq!(d.extension_name(), "hil.ext.switches.brocade");
    }

    #[test]
    fn rest_brocade_urls_and_bodies() {
        assert_eq!(
            base_path("TenGigabitEthernet", "101/0/10"),
            "/rest/config/running/interface/TenGigabitEthernet/%22101/0/10%22"
        );
        assert_eq!(add_vlan_body(300), "<vlan><add>300</add></vlan>");
        assert_eq!(remove_vlan_body(300), "<vlan><remove>300</remove></vlan>");
        assert_eq!(
            native_vlan_body(10),
            "<trunk><native-vlan>10</native-vlan></trunk>"
        );
        for body in [
            add_vlan_body(1),
            remove_vlan_body(1),
            native_vlan_body(1),
            NO_VLANS_BODY.into(),
            SHUTDOWN_BODY.into(),
            SWITCHPORT_BODY.into(),
            TRUNK_MODE_BODY.into(),
        ] {
            assert!(roxmltree::Document::parse(&body).is_ok(), "{body}");
        }
    }

    #[test]
    fn rest_brocade_trunk_sample() {
        // The shape of HIL's unit-test fixture for GET .../switchport/trunk.
        let body = r#"<trunk xmlns="urn:brocade.com:mgmt:brocade-interface">
              <allowed><vlan><add>4001,4025</add></vlan></allowed>
              <tag><native-vlan>true</native-vlan></tag>
              <native-vlan>10</native-vlan>
            </trunk>"#;
        assert_eq!(
            parse_trunk(body).unwrap(),
            Trunk {
                native: Some(10),
                tagged: vec![4001, 4025]
            }
        );
        let ranged = r#"<trunk xmlns="urn:brocade.com:mgmt:brocade-interface">
              <allowed><vlan><add>20-22</add></vlan></allowed></trunk>"#;
        assert_eq!(
            parse_trunk(ranged).unwrap(),
            Trunk {
                native: None,
                tagged: vec![20, 21, 22]
            }
        );
        assert_eq!(parse_trunk("<trunk/>").unwrap(), Trunk::default());
        assert!(parse_trunk("<trunk><native-vlan>x</native-vlan></trunk>").is_err());
    }

    #[test]
    fn rest_brocade_interface_state() {
        let ns = "urn:brocade.com:mgmt:brocade-interface";
        let off = format!("<TenGigabitEthernet xmlns=\"{ns}\"><name>1/0/4</name><shutdown>true</shutdown></TenGigabitEthernet>");
        let on =
            format!("<TenGigabitEthernet xmlns=\"{ns}\"><name>1/0/4</name></TenGigabitEthernet>");
        assert!(parse_is_off(&off).unwrap());
        assert!(!parse_is_off(&on).unwrap());
        assert!(parse_is_off("<x><shutdown>maybe</shutdown></x>").is_err());
    }
}
