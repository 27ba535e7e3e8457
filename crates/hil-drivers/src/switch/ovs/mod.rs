//! The `ovs` switch (HIL's `hil.ext.switches.ovs`): ports of an Open vSwitch bridge.
//!
//! HIL ran `sudo ovs-vsctl` once per step. This driver speaks OVSDB's JSON-RPC itself: one
//! transaction reads the port and one writes its whole VLAN configuration, then it waits until
//! `ovs-vswitchd` has applied it (`cur_cfg` catches up with `next_cfg`), as `ovs-vsctl` does.
//!
//! Every write sets the port's complete state, computed from what it carries now plus the
//! change, so a port never passes through an intermediate state:
//!
//! | networks on the port      | vlan_mode        | tag   | trunks      | protected |
//! |---------------------------|------------------|-------|-------------|-----------|
//! | none                      | access           | 4095  | (empty)     | true      |
//! | native N only             | access           | N     | (empty)     | false     |
//! | native N, tagged T…       | native-untagged  | N     | N, T…       | false     |
//! | tagged T… only            | trunk            | —     | T…          | false     |
//!
//! In OVS an empty `trunks` means *every* VLAN, and a freshly added port is such a trunk. HIL's
//! revert (`del-port` + `add-port`) and a native-only port therefore carried all VLANs; here a
//! port without networks sits alone on the unused VLAN 4095, and `protected` stops protected
//! ports from reaching one another, so idle nodes cannot talk either.

mod ovsdb;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{json, Value};

use self::ovsdb::{int_set, ints, opt_string, uuids, Ovsdb};
use super::{
    has_exactly_string_members, DriverOptions, PortChange, PortState, SwitchDriver, SwitchError,
    SwitchErrorKind, SwitchSession, SwitchSpec, VlanOp,
};

pub const TYPE_URI: &str = "http://schema.massopencloud.org/haas/v0/switches/ovs";

/// The VLAN a port without networks is parked on. vlan_pool never hands it out (ids stop at
/// 4094), so no tenant network can share it.
pub const ISOLATION_VLAN: u16 = 4095;

pub struct OvsDriver {
    ovsdb: String,
    options: DriverOptions,
}

impl OvsDriver {
    /// `ovsdb` is `unix:<path>` or `tcp:<host>:<port>`.
    pub fn new(ovsdb: impl Into<String>, options: DriverOptions) -> Self {
        OvsDriver {
            ovsdb: ovsdb.into(),
            options,
        }
    }
}

#[async_trait]
impl SwitchDriver for OvsDriver {
    fn type_uri(&self) -> &'static str {
        TYPE_URI
    }

    fn extension_name(&self) -> &'static str {
        "hil.ext.switches.ovs"
    }

    fn capabilities(&self) -> &'static [&'static str] {
        &["nativeless-trunk-mode"]
    }

    fn validate_config(&self, config: &serde_json::Map<String, Value>) -> bool {
        has_exactly_string_members(config, &["ovs_bridge"])
            && config["ovs_bridge"].as_str().is_some_and(|b| !b.is_empty())
    }

    /// Any OVS port name; HIL accepted every label.
    fn validate_port_name(&self, name: &str) -> bool {
        !name.is_empty()
    }

    async fn open(&self, switch: &SwitchSpec) -> Result<Box<dyn SwitchSession>, SwitchError> {
        let bridge = switch.field("ovs_bridge").unwrap_or_default().to_string();
        let db = Ovsdb::connect(
            &self.ovsdb,
            self.options.connect_timeout,
            self.options.command_timeout,
        )
        .await?;
        let mut session = OvsSession {
            db,
            bridge,
            apply_timeout: self.options.command_timeout,
        };
        session.bridge_ports().await?; // fails early when the bridge does not exist
        Ok(Box::new(session))
    }
}

struct OvsSession {
    db: Ovsdb,
    bridge: String,
    apply_timeout: Duration,
}

/// What a port carries, in HIL's terms.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Vlans {
    native: Option<u16>,
    tagged: BTreeSet<u16>,
    /// The port trunks every VLAN (OVS's default for a port without a tag, and what an empty
    /// `trunks` means in a trunk mode). Only ever read: HIL never writes such a port.
    every_vlan: bool,
}

impl Vlans {
    /// Reads a Port row, in OVS's terms: without a mode, a port with a tag is an access port
    /// and one without is a trunk; a trunk mode with no `trunks` carries every VLAN; an access
    /// port without a tag carries untagged frames (VLAN 0, shown as a native "0"). Only HIL's
    /// own isolated state (protected, tag 4095) reads as carrying nothing, so that the audit
    /// sees every other state for what it lets through.
    fn from_row(row: &Value) -> Vlans {
        let tag = ints(row.get("tag")).first().copied();
        let trunks: BTreeSet<u16> = ints(row.get("trunks")).into_iter().collect();
        let protected = row.get("protected").and_then(Value::as_bool) == Some(true);
        let mode = opt_string(row.get("vlan_mode"));
        if protected && tag == Some(ISOLATION_VLAN) && matches!(mode, Some("access") | None) {
            return Vlans::default();
        }
        let every_vlan = trunks.is_empty();
        match (mode, tag) {
            (Some("trunk"), _) | (None, None) => Vlans {
                native: None,
                tagged: trunks,
                every_vlan,
            },
            (Some("native-untagged") | Some("native-tagged"), _) => Vlans {
                native: tag,
                tagged: trunks.into_iter().filter(|t| Some(*t) != tag).collect(),
                every_vlan,
            },
            // access: the tag is the only VLAN (untagged frames without one)
            _ => Vlans {
                native: Some(tag.unwrap_or(0)),
                tagged: BTreeSet::new(),
                every_vlan: false,
            },
        }
    }

    fn apply(&mut self, op: VlanOp) {
        self.every_vlan = false; // HIL writes exact VLAN sets
        match op {
            VlanOp::SetNative { vlan, .. } => self.native = Some(vlan),
            VlanOp::RemoveNative { .. } => self.native = None,
            VlanOp::AddTagged { vlan } => {
                self.tagged.insert(vlan);
            }
            VlanOp::RemoveTagged { vlan } => {
                self.tagged.remove(&vlan);
            }
            VlanOp::Revert => *self = Vlans::default(),
        }
    }

    /// The Port columns that express this state (see the module table).
    fn to_row(&self) -> Value {
        let empty = int_set([]);
        match (self.native, self.tagged.is_empty()) {
            (None, true) => json!({"vlan_mode": "access", "tag": ISOLATION_VLAN,
                                   "trunks": empty, "protected": true}),
            (Some(n), true) => json!({"vlan_mode": "access", "tag": n,
                                      "trunks": empty, "protected": false}),
            (Some(n), false) => {
                let trunks = self.tagged.iter().copied().chain([n]);
                json!({"vlan_mode": "native-untagged", "tag": n,
                       "trunks": int_set(trunks.collect::<BTreeSet<_>>()), "protected": false})
            }
            (None, false) => json!({"vlan_mode": "trunk", "tag": empty,
                                    "trunks": int_set(self.tagged.iter().copied()),
                                    "protected": false}),
        }
    }

    fn to_port_state(&self) -> PortState {
        let mut state = PortState::new();
        if let Some(n) = self.native {
            state.insert("vlan/native".into(), n.to_string());
        }
        for t in &self.tagged {
            state.insert(format!("vlan/{t}"), t.to_string());
        }
        if self.every_vlan {
            state.insert("vlan/*".into(), "*".into());
        }
        state
    }
}

fn rejected(message: String) -> SwitchError {
    SwitchError::new(SwitchErrorKind::Rejected, message)
}

impl OvsSession {
    /// The UUIDs of the bridge's ports.
    async fn bridge_ports(&mut self) -> Result<Vec<String>, SwitchError> {
        let results = self
            .db
            .transact(vec![json!({"op": "select", "table": "Bridge",
                "where": [["name", "==", self.bridge]], "columns": ["ports"]})])
            .await?;
        let rows = rows(&results[0]);
        let bridge = rows
            .first()
            .ok_or_else(|| rejected(format!("OVS bridge {:?} does not exist", self.bridge)))?;
        Ok(uuids(bridge.get("ports")))
    }

    /// Reads one port of our bridge: its UUID and what it carries.
    async fn read_port(&mut self, port: &str) -> Result<(String, Vlans), SwitchError> {
        let results = self
            .db
            .transact(vec![
                json!({"op": "select", "table": "Bridge", "where": [["name", "==", self.bridge]],
                       "columns": ["ports"]}),
                json!({"op": "select", "table": "Port", "where": [["name", "==", port]],
                       "columns": ["_uuid", "tag", "trunks", "vlan_mode", "protected"]}),
            ])
            .await?;
        let bridge_ports = rows(&results[0])
            .first()
            .map(|b| uuids(b.get("ports")))
            .ok_or_else(|| rejected(format!("OVS bridge {:?} does not exist", self.bridge)))?;
        let port_rows = rows(&results[1]);
        let row = port_rows
            .iter()
            .find(|r| {
                uuids(r.get("_uuid"))
                    .first()
                    .is_some_and(|u| bridge_ports.contains(u))
            })
            .ok_or_else(|| {
                rejected(format!(
                    "port {port:?} is not on OVS bridge {:?}",
                    self.bridge
                ))
            })?;
        let uuid = uuids(row.get("_uuid")).remove(0);
        Ok((uuid, Vlans::from_row(row)))
    }

    /// Writes a port's state and waits until ovs-vswitchd has applied it.
    async fn write_port(&mut self, uuid: &str, vlans: &Vlans) -> Result<(), SwitchError> {
        let results = self
            .db
            .transact(vec![
                json!({"op": "update", "table": "Port", "where": [["_uuid", "==", ["uuid", uuid]]],
                       "row": vlans.to_row()}),
                json!({"op": "mutate", "table": "Open_vSwitch", "where": [],
                       "mutations": [["next_cfg", "+=", 1]]}),
                json!({"op": "select", "table": "Open_vSwitch", "where": [],
                       "columns": ["next_cfg"]}),
            ])
            .await?;
        if results[0].get("count").and_then(Value::as_u64) != Some(1) {
            return Err(rejected("the port disappeared during the change".into()));
        }
        let target = rows(&results[2])
            .first()
            .and_then(|r| r.get("next_cfg"))
            .and_then(Value::as_i64)
            .unwrap_or(0);
        self.wait_applied(target).await
    }

    /// Polls `cur_cfg` until ovs-vswitchd reports it has caught up with `target`.
    async fn wait_applied(&mut self, target: i64) -> Result<(), SwitchError> {
        let deadline = Instant::now() + self.apply_timeout;
        let mut pause = Duration::from_millis(1);
        loop {
            let results = self
                .db
                .transact(vec![
                    json!({"op": "select", "table": "Open_vSwitch", "where": [],
                    "columns": ["cur_cfg"]}),
                ])
                .await?;
            let current = rows(&results[0])
                .first()
                .and_then(|r| r.get("cur_cfg"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if current >= target {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(SwitchError::new(
                    SwitchErrorKind::Timeout,
                    "ovs-vswitchd did not apply the change in time (is it running?)",
                ));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }
}

fn rows(result: &Value) -> Vec<Value> {
    result
        .get("rows")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

#[async_trait]
impl SwitchSession for OvsSession {
    async fn apply(&mut self, change: &PortChange) -> Result<(), SwitchError> {
        let op = change.vlan_op()?;
        let (uuid, mut vlans) = self.read_port(change.port()).await?;
        vlans.apply(op);
        self.write_port(&uuid, &vlans).await
    }

    async fn port_state(&mut self, port: &str) -> Result<PortState, SwitchError> {
        let (_, vlans) = self.read_port(port).await?;
        Ok(vlans.to_port_state())
    }

    async fn close(self: Box<Self>) -> Result<(), SwitchError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vlans(native: Option<u16>, tagged: &[u16]) -> Vlans {
        Vlans {
            native,
            tagged: tagged.iter().copied().collect(),
            every_vlan: false,
        }
    }

    #[test]
    fn rows_round_trip_every_shape() {
        for v in [
            vlans(None, &[]),
            vlans(Some(100), &[]),
            vlans(Some(100), &[200, 300]),
            vlans(None, &[200]),
        ] {
            let mut row = v.to_row();
            // OVSDB answers a single-element set as a bare value
            if let Some(t) = row["trunks"].get(1).and_then(Value::as_array) {
                if t.len() == 1 {
                    row["trunks"] = t[0].clone();
                }
            }
            assert_eq!(Vlans::from_row(&row), v, "{row}");
        }
    }

    #[test]
    fn an_idle_port_is_isolated_not_a_trunk_of_everything() {
        let row = vlans(None, &[]).to_row();
        assert_eq!(row["tag"], json!(ISOLATION_VLAN));
        assert_eq!(row["vlan_mode"], json!("access"));
        assert_eq!(row["protected"], json!(true));
    }

    #[test]
    fn read_back_shows_what_a_foreign_write_lets_through() {
        let read = |row: Value| Vlans::from_row(&row).to_port_state();
        let none = json!(["set", []]);
        // a fresh `add-port` (no tag, no trunks, no mode) trunks every VLAN
        let fresh = json!({"tag": none, "trunks": none, "vlan_mode": none, "protected": false});
        assert_eq!(read(fresh), port_state(&[("vlan/*", "*")]));
        let trunk_all = json!({"tag": none, "trunks": none, "vlan_mode": "trunk"});
        assert_eq!(read(trunk_all), port_state(&[("vlan/*", "*")]));
        let native_all = json!({"tag": 100, "trunks": none, "vlan_mode": "native-untagged"});
        assert_eq!(
            read(native_all),
            port_state(&[("vlan/native", "100"), ("vlan/*", "*")])
        );
        // isolation VLAN without `protected`: the isolated ports could reach each other
        let unprotected = json!({"tag": ISOLATION_VLAN, "trunks": none, "vlan_mode": "access",
                                 "protected": false});
        assert_eq!(read(unprotected), port_state(&[("vlan/native", "4095")]));
        let untagged = json!({"tag": none, "trunks": none, "vlan_mode": "access"});
        assert_eq!(read(untagged), port_state(&[("vlan/native", "0")]));
        let trunks_on_access = json!({"tag": 100, "trunks": ["set", [200]], "vlan_mode": none});
        assert_eq!(
            read(trunks_on_access),
            port_state(&[("vlan/native", "100")])
        );
    }

    fn port_state(pairs: &[(&str, &str)]) -> PortState {
        pairs
            .iter()
            .map(|(c, v)| (c.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn native_is_always_in_trunks_when_tagged_vlans_exist() {
        let row = vlans(Some(100), &[200]).to_row();
        assert_eq!(row["trunks"], json!(["set", [100, 200]]));
        assert_eq!(row["vlan_mode"], json!("native-untagged"));
    }

    #[test]
    fn ops_change_the_state() {
        let mut v = Vlans::default();
        v.apply(VlanOp::AddTagged { vlan: 200 });
        v.apply(VlanOp::SetNative {
            vlan: 100,
            previous: None,
        });
        assert_eq!(v, vlans(Some(100), &[200]));
        v.apply(VlanOp::RemoveNative { vlan: Some(100) });
        assert_eq!(v, vlans(None, &[200]));
        v.apply(VlanOp::Revert);
        assert_eq!(v, Vlans::default());
    }
}
