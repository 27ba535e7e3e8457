//! The vendors the scripted SSH stand-in can play, for the CLI dialects that no emulator
//! covers: Dell OS10, Enterprise SONiC's sonic-cli and HPE Aruba AOS-CX.
//!
//! Each one keeps what its ports carry and follows the vendor's documented commands, prompts and
//! `show` layout; the error strings are the ones these CLIs print for an unknown command or
//! interface. A command the vendor would refuse is refused, so a wrong table fails its test.

use std::collections::BTreeSet;

/// What one port carries.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PortVlans {
    pub untagged: Option<u16>,
    pub tagged: BTreeSet<u16>,
    /// Switched to trunk mode (OS10 only allows tagged VLANs on a trunk).
    pub trunk: bool,
}

impl PortVlans {
    pub fn of(untagged: Option<u16>, tagged: &[u16]) -> (Option<u16>, BTreeSet<u16>) {
        (untagged, tagged.iter().copied().collect())
    }

    /// The untagged VLAN and the tagged ones, for comparison with `PortVlans::of`. (AOS-CX
    /// lists its native VLAN among the allowed ones; it is not a tagged VLAN.)
    pub fn vlans(&self) -> (Option<u16>, BTreeSet<u16>) {
        let mut tagged = self.tagged.clone();
        if let Some(u) = self.untagged {
            tagged.remove(&u);
        }
        (self.untagged, tagged)
    }
}

/// One vendor's CLI behaviour.
pub struct Vendor {
    /// The HIL switch type this vendor backs.
    pub short_name: &'static str,
    pub hostname: &'static str,
    /// The mode shown in the interface prompt, e.g. `conf-if-eth1/1/1`.
    pub interface_mode: fn(&str) -> String,
    /// Commands that turn paging off (accepted, no output).
    pub paging_off: &'static [&'static str],
    /// Runs one interface-mode line; Err is what the switch prints instead.
    pub port_line: fn(&mut PortVlans, &str) -> Result<(), String>,
    /// The exec-mode command that prints one port, followed by the port name.
    pub show: &'static str,
    pub print: fn(&str, &PortVlans) -> String,
    /// The save command and what the switch answers to it.
    pub save: (&'static str, &'static str),
    pub no_such_port: fn(&str) -> String,
    pub unknown: &'static str,
}

/// `100,200-202` → its VLANs; None when a piece is not a VLAN number.
fn vlan_list(text: &str) -> Option<BTreeSet<u16>> {
    let mut vlans = BTreeSet::new();
    for piece in text.split(',') {
        let (first, last) = piece.split_once('-').unwrap_or((piece, piece));
        let (first, last) = (first.trim().parse::<u16>().ok()?, last.trim().parse().ok()?);
        if !(1..=4094).contains(&first) || last < first || last > 4094 {
            return None;
        }
        vlans.extend(first..=last);
    }
    Some(vlans)
}

fn one_vlan(text: &str) -> Option<u16> {
    text.trim().parse().ok().filter(|v| (1..=4094).contains(v))
}

fn list_text(vlans: &BTreeSet<u16>) -> String {
    vlans
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

pub const DELL_OS10: Vendor = Vendor {
    short_name: "dell_os10",
    hostname: "OS10",
    interface_mode: |port| format!("conf-if-{}", port.replace("ethernet", "eth")),
    paging_off: &["terminal length 0"],
    port_line: os10_line,
    show: "show running-configuration interface ",
    print: |port, v| {
        let mut text = format!("!\ninterface {port}\n no shutdown\n");
        if v.trunk {
            text.push_str(" switchport mode trunk\n");
        }
        if let Some(u) = v.untagged {
            text.push_str(&format!(" switchport access vlan {u}\n"));
        }
        if !v.tagged.is_empty() {
            text.push_str(&format!(
                " switchport trunk allowed vlan {}\n",
                list_text(&v.tagged)
            ));
        }
        text + " flowcontrol receive on"
    },
    save: ("write memory", ""),
    no_such_port: |_| "% Error: Illegal parameter.".into(),
    unknown: "% Error: Unrecognized command.",
};

fn os10_line(v: &mut PortVlans, line: &str) -> Result<(), String> {
    let unknown = || Err(DELL_OS10.unknown.to_string());
    if line == "switchport mode trunk" {
        v.trunk = true;
    } else if line == "no switchport access vlan" {
        v.untagged = None;
    } else if let Some(n) = line.strip_prefix("switchport access vlan ") {
        v.untagged = Some(one_vlan(n).ok_or("% Error: Illegal parameter.")?);
    } else if let Some(list) = line.strip_prefix("no switchport trunk allowed vlan ") {
        let list = vlan_list(list).ok_or("% Error: Illegal parameter.")?;
        v.tagged.retain(|t| !list.contains(t));
    } else if let Some(list) = line.strip_prefix("switchport trunk allowed vlan ") {
        if !v.trunk {
            return Err("% Error: Interface is not in trunk mode.".into());
        }
        v.tagged
            .extend(vlan_list(list).ok_or("% Error: Illegal parameter.")?);
    } else {
        return unknown();
    }
    Ok(())
}

pub const SONIC: Vendor = Vendor {
    short_name: "sonic",
    hostname: "sonic",
    interface_mode: |port| format!("conf-if-{port}"),
    paging_off: &["terminal length 0"],
    port_line: sonic_line,
    show: "show running-configuration interface ",
    print: |port, v| {
        let mut text = format!("!\ninterface {port}\n mtu 9100\n speed 25000\n no shutdown\n");
        if let Some(u) = v.untagged {
            text.push_str(&format!(" switchport access Vlan {u}\n"));
        }
        if !v.tagged.is_empty() {
            text.push_str(&format!(
                " switchport trunk allowed Vlan {}\n",
                list_text(&v.tagged)
            ));
        }
        text
    },
    save: ("write memory", ""),
    no_such_port: |port| format!("%Error: Invalid interface name {port}"),
    unknown: "% Error: Invalid input detected at \"^\" marker.",
};

fn sonic_line(v: &mut PortVlans, line: &str) -> Result<(), String> {
    let bad = || SONIC.unknown.to_string();
    if line == "no switchport access Vlan" {
        v.untagged = None;
    } else if let Some(n) = line.strip_prefix("switchport access Vlan ") {
        v.untagged = Some(one_vlan(n).ok_or_else(bad)?);
    } else if let Some(list) = line.strip_prefix("switchport trunk allowed Vlan add ") {
        v.tagged.extend(vlan_list(list).ok_or_else(bad)?);
    } else if let Some(list) = line.strip_prefix("switchport trunk allowed Vlan remove ") {
        let list = vlan_list(list).ok_or_else(bad)?;
        v.tagged.retain(|t| !list.contains(t));
    } else {
        return Err(bad());
    }
    Ok(())
}

pub const ARUBA_AOSCX: Vendor = Vendor {
    short_name: "aruba_aoscx",
    hostname: "switch",
    interface_mode: |_| "config-if".into(),
    paging_off: &["no page"],
    port_line: aoscx_line,
    show: "show running-config interface ",
    print: |port, v| {
        let mut text = format!("interface {port}\n    no shutdown\n    no routing\n");
        if let Some(u) = v.untagged {
            text.push_str(&format!("    vlan trunk native {u}\n"));
        }
        if !v.tagged.is_empty() {
            text.push_str(&format!(
                "    vlan trunk allowed {}\n",
                list_text(&v.tagged)
            ));
        }
        text + "    exit"
    },
    save: ("write memory", "Copying configuration: [Success]"),
    no_such_port: |port| format!("Invalid input: {port}"),
    unknown: "Invalid input: ",
};

/// AOS-CX keeps the native VLAN in the allowed list like any other: `untagged` is the native
/// VLAN and `tagged` everything allowed (the native one included), as `show` prints it.
fn aoscx_line(v: &mut PortVlans, line: &str) -> Result<(), String> {
    let bad = || format!("Invalid input: {line}");
    if line == "no vlan trunk native" {
        v.untagged = None;
    } else if let Some(n) = line.strip_prefix("vlan trunk native ") {
        v.untagged = Some(one_vlan(n).ok_or_else(bad)?);
    } else if let Some(list) = line.strip_prefix("no vlan trunk allowed ") {
        let list = vlan_list(list).ok_or_else(bad)?;
        v.tagged.retain(|t| !list.contains(t));
    } else if let Some(list) = line.strip_prefix("vlan trunk allowed ") {
        v.tagged.extend(vlan_list(list).ok_or_else(bad)?);
    } else {
        return Err(bad());
    }
    Ok(())
}
