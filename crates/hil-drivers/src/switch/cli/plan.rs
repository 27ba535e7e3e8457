//! What one port change sends to a CLI switch, whichever way the commands travel (an SSH
//! shell, or Arista's eAPI).

use super::dialect::{render, Dialect, Values};
use super::{format_vlan_list, InterfaceVlans};
use crate::switch::{PortChange, SwitchError, VlanOp};

/// A session that can show what a port carries now.
pub(crate) trait ReadPort {
    async fn read_port(&mut self, port: &str) -> Result<InterfaceVlans, SwitchError>;
}

/// The commands of one change, in order. The port is read first when a template needs its
/// current state (`{allowed}`, `{native}`) or the dialect reverts by undoing what it shows.
pub(crate) async fn commands_for(
    switch: &mut impl ReadPort,
    dialect: &Dialect,
    dummy: Option<u16>,
    change: &PortChange,
) -> Result<Vec<String>, SwitchError> {
    let port = change.port();
    let values = |vlan, old| values_for(port, dummy, vlan, old);
    let (templates, mut values) = match change.vlan_op()? {
        VlanOp::SetNative { vlan, previous } => (dialect.set_native, values(Some(vlan), previous)),
        VlanOp::RemoveNative { vlan } => (dialect.remove_native, values(None, vlan)),
        VlanOp::AddTagged { vlan } => (dialect.add_tagged, values(Some(vlan), None)),
        VlanOp::RemoveTagged { vlan } => (dialect.remove_tagged, values(Some(vlan), None)),
        VlanOp::Revert => match dialect.revert {
            Some(revert) => (revert, values(None, None)),
            None => {
                let now = switch.read_port(port).await?;
                return Ok(undo(dialect, port, dummy, &now));
            }
        },
    };
    let reads_port = templates
        .iter()
        .any(|t| t.contains("{allowed}") || t.contains("{native}"));
    if reads_port {
        let now = switch.read_port(port).await?;
        values.allowed = now.allowed.as_ref().map(format_vlan_list);
        values.native = now.native;
    }
    Ok(lines(templates, &values))
}

/// The commands that take off everything the port carries (`now`), for dialects without a
/// revert sequence: its native VLAN, then each tagged one.
fn undo(dialect: &Dialect, port: &str, dummy: Option<u16>, now: &InterfaceVlans) -> Vec<String> {
    let values = |vlan, old| values_for(port, dummy, vlan, old);
    let mut commands = Vec::new();
    if now.native.is_some() {
        commands.extend(lines(dialect.remove_native, &values(None, now.native)));
    }
    let tagged = now
        .allowed
        .iter()
        .flatten()
        .filter(|&&v| Some(v) != now.native);
    for &vlan in tagged {
        commands.extend(lines(dialect.remove_tagged, &values(Some(vlan), None)));
    }
    commands
}

fn values_for(port: &str, dummy: Option<u16>, vlan: Option<u16>, old: Option<u16>) -> Values {
    Values {
        port: port.to_string(),
        vlan,
        old,
        dummy,
        ..Values::default()
    }
}

/// Renders templates into commands, one per line (a template may hold several).
fn lines(templates: &[&str], values: &Values) -> Vec<String> {
    templates
        .iter()
        .filter_map(|t| render(t, values))
        .flat_map(|text| text.lines().map(String::from).collect::<Vec<_>>())
        .collect()
}
