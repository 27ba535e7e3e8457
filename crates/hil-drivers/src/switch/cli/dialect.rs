//! Vendor CLI dialects: the commands and prompts of one switch family, as data.
//!
//! A dialect is everything the session engine (`super::CliSession`) needs to know about a
//! vendor, so adding a vendor means adding one more table here.
//!
//! Command templates may use these placeholders:
//! - `{port}`: the interface name;
//! - `{vlan}`: the VLAN being set, added or removed;
//! - `{old}`: the native VLAN being replaced or removed;
//! - `{dummy}`: the switch's `dummy_vlan`;
//! - `{allowed}`: the VLANs the port allows now, read from its running config first.
//!
//! A line whose placeholder has no value (no previous native VLAN, nothing allowed) is
//! skipped, which is how "remove the old native VLAN, if any" is written.

/// One switch family.
pub struct Dialect {
    /// The name used in `switches.enabled` and `save_by_type`.
    pub short_name: &'static str,
    pub type_uri: &'static str,
    pub extension_name: &'static str,
    /// Regex that registered port names must match.
    pub port_pattern: &'static str,
    /// `Some(max)` when the switch needs a `dummy_vlan` member in `1..=max`.
    pub dummy_vlan_max: Option<u16>,
    /// Turns paging off; an error here is ignored (some models lack the command).
    pub paging_off: &'static str,
    /// Sent once per session after login, before any change.
    pub session_setup: &'static [&'static str],
    /// Enters global configuration mode from privileged exec mode.
    pub configure: &'static str,
    /// Enters interface configuration mode from global configuration mode.
    pub interface: &'static str,
    pub set_native: &'static [&'static str],
    pub remove_native: &'static [&'static str],
    pub add_tagged: &'static [&'static str],
    pub remove_tagged: &'static [&'static str],
    pub revert: &'static [&'static str],
    /// Prints one interface's configuration (read back after changes, and for `{allowed}`).
    pub show_interface: &'static str,
    /// A trunk whose configuration has no `switchport trunk allowed vlan` line carries every
    /// VLAN (Cisco's default). Read-back then reports `vlan/*`.
    pub trunk_default_all: bool,
    /// Copies the running configuration to the startup configuration.
    pub save: &'static str,
    /// Output that proves the save worked.
    pub save_ok: &'static str,
    /// Regexes (case-insensitive, per output line) that mean the switch refused a command.
    pub errors: &'static [&'static str],
}

/// Error output shared by the Dell and Cisco CLIs (and their emulators).
const COMMON_ERRORS: &[&str] = &[
    r"^%",
    r"invalid input",
    r"invalid interface",
    r"\berror\b",
    r"not in trunk mode",
    r"incomplete command",
    r"unrecognized command",
    r"ambiguous command",
];

/// Dell PowerConnect 55xx (HIL's `hil.ext.switches.dell`).
pub const POWERCONNECT: Dialect = Dialect {
    short_name: "powerconnect55xx",
    type_uri: "http://schema.massopencloud.org/haas/v0/switches/powerconnect55xx",
    extension_name: "hil.ext.switches.dell",
    port_pattern: r"^(gi|te)\d+/\d+(/\d+)?$",
    dummy_vlan_max: None,
    paging_off: "terminal datadump",
    session_setup: &[],
    configure: "configure",
    interface: "interface {port}",
    set_native: &[
        "switchport trunk allowed vlan remove {old}",
        "switchport mode trunk",
        "switchport trunk allowed vlan add {vlan}",
        "switchport trunk native vlan {vlan}",
    ],
    remove_native: &[
        "switchport trunk allowed vlan remove {old}",
        "switchport trunk native vlan none",
    ],
    add_tagged: &[
        "switchport mode trunk",
        "switchport trunk allowed vlan add {vlan}",
    ],
    remove_tagged: &["switchport trunk allowed vlan remove {vlan}"],
    // HIL sent `switchport trunk allowed vlan none`; removing what the port allows works on
    // the real switch too and is the form every PowerConnect firmware accepts.
    revert: &[
        "switchport trunk allowed vlan remove {allowed}",
        "switchport trunk native vlan none",
    ],
    show_interface: "show running-config interface {port}",
    // HIL's revert leaves no allowed line on a PowerConnect or an N3000 (`remove`s, not
    // `none`), and HIL read that as carrying nothing.
    trunk_default_all: false,
    save: "copy running-config startup-config",
    save_ok: r"Copy succeeded|Configuration Saved",
    errors: COMMON_ERRORS,
};

/// Dell N3000 (HIL's `hil.ext.switches.n3000`). It cannot leave a trunk without a native
/// VLAN, so "no native" means the dummy VLAN, which is never allowed on the port.
pub const N3000: Dialect = Dialect {
    short_name: "delln3000",
    type_uri: "http://schema.massopencloud.org/haas/v0/switches/delln3000",
    extension_name: "hil.ext.switches.n3000",
    port_pattern: r"^(gi|te)\d+/\d+(/\d+)?$",
    dummy_vlan_max: Some(4093),
    paging_off: "terminal length 0",
    session_setup: &["configure", "vlan {dummy}", "exit", "exit"],
    configure: "configure",
    interface: "interface {port}",
    set_native: POWERCONNECT.set_native,
    remove_native: &[
        "switchport trunk allowed vlan remove {old}",
        "switchport trunk allowed vlan add {dummy}",
        "switchport trunk native vlan {dummy}",
        "switchport trunk allowed vlan remove {dummy}",
    ],
    add_tagged: POWERCONNECT.add_tagged,
    remove_tagged: POWERCONNECT.remove_tagged,
    revert: &[
        "switchport trunk allowed vlan add {dummy}",
        "switchport trunk native vlan {dummy}",
        "switchport trunk allowed vlan remove 1-4093",
    ],
    show_interface: "show running-config interface {port}",
    // HIL's revert leaves no allowed line on a PowerConnect or an N3000 (`remove`s, not
    // `none`), and HIL read that as carrying nothing.
    trunk_default_all: false,
    save: "copy running-config startup-config",
    save_ok: r"Copy succeeded|Configuration Saved",
    errors: COMMON_ERRORS,
};

/// Cisco Nexus (HIL's `hil.ext.switches.nexus`). The native VLAN is set before it is
/// allowed, and "no native" points it at the dummy VLAN, which must not exist on the switch.
pub const NEXUS: Dialect = Dialect {
    short_name: "nexus",
    type_uri: "http://schema.massopencloud.org/haas/v0/switches/nexus",
    extension_name: "hil.ext.switches.nexus",
    port_pattern: r"^(E|e)thernet\d+/\d+(/\d+)?$",
    dummy_vlan_max: Some(4096),
    paging_off: "terminal length 0",
    session_setup: &[],
    configure: "configure terminal",
    interface: "interface {port}",
    set_native: &[
        "switchport trunk allowed vlan remove {old}",
        "switchport trunk native vlan {vlan}",
        "switchport",
        "switchport mode trunk",
        "switchport trunk allowed vlan add {vlan}",
    ],
    remove_native: &[
        "switchport trunk allowed vlan remove {old}",
        "switchport trunk native vlan {dummy}",
    ],
    add_tagged: &[
        "switchport",
        "switchport mode trunk",
        "switchport trunk allowed vlan add {vlan}",
    ],
    remove_tagged: &["switchport trunk allowed vlan remove {vlan}"],
    revert: &[
        "switchport trunk allowed vlan none",
        "switchport trunk native vlan {dummy}",
    ],
    show_interface: "show running-config interface {port}",
    trunk_default_all: true,
    save: "copy running-config startup-config",
    save_ok: r"Copy complete",
    errors: COMMON_ERRORS,
};

/// Cisco Catalyst IOS (an addition; HIL had no IOS driver). No dummy VLAN: IOS drops the
/// native VLAN with `no switchport trunk native vlan` (back to VLAN 1, which HIL never allows
/// on a port). Saving is `write memory`, which every IOS release has.
pub const CISCO_IOS: Dialect = Dialect {
    short_name: "cisco_ios",
    type_uri: "http://schema.massopencloud.org/haas/v0/switches/cisco_ios",
    extension_name: "hil.ext.switches.cisco_ios",
    port_pattern: r"^(?i)(GigabitEthernet|TenGigabitEthernet|FastEthernet|TwentyFiveGigE|FortyGigabitEthernet|HundredGigE|Ethernet|Gi|Te|Fa)\d+(/\d+){0,3}$",
    dummy_vlan_max: None,
    paging_off: "terminal length 0",
    session_setup: &[],
    configure: "configure terminal",
    interface: "interface {port}",
    set_native: &[
        "switchport trunk allowed vlan remove {old}",
        "switchport mode trunk",
        "switchport trunk native vlan {vlan}",
        "switchport trunk allowed vlan add {vlan}",
    ],
    remove_native: &[
        "switchport trunk allowed vlan remove {old}",
        "no switchport trunk native vlan",
    ],
    add_tagged: &[
        "switchport mode trunk",
        "switchport trunk allowed vlan add {vlan}",
    ],
    remove_tagged: &["switchport trunk allowed vlan remove {vlan}"],
    revert: &[
        "switchport trunk allowed vlan none",
        "no switchport trunk native vlan",
    ],
    show_interface: "show running-config interface {port}",
    trunk_default_all: true,
    save: "write memory",
    save_ok: r"\[?OK\]?",
    errors: COMMON_ERRORS,
};

/// Every CLI dialect, for the server's driver registry.
pub const ALL: &[&Dialect] = &[&POWERCONNECT, &N3000, &NEXUS, &CISCO_IOS];

/// Values for the template placeholders of one change.
#[derive(Debug, Default, Clone)]
pub struct Values {
    pub port: String,
    pub vlan: Option<u16>,
    pub old: Option<u16>,
    pub dummy: Option<u16>,
    /// VLAN list as the switch prints it (`100,200-210`); None or empty skips the line.
    pub allowed: Option<String>,
}

/// Fills in a template; None when the line must be skipped for lack of a value.
pub fn render(template: &str, values: &Values) -> Option<String> {
    let mut line = template.replace("{port}", &values.port);
    let numbers = [
        ("{vlan}", values.vlan),
        ("{old}", values.old),
        ("{dummy}", values.dummy),
    ];
    for (placeholder, value) in numbers {
        if line.contains(placeholder) {
            line = line.replace(placeholder, &value?.to_string());
        }
    }
    if line.contains("{allowed}") {
        let allowed = values.allowed.as_deref().filter(|a| !a.is_empty())?;
        line = line.replace("{allowed}", allowed);
    }
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIX: &str = "http://schema.massopencloud.org/haas/v0/switches/";

    #[test]
    fn type_uris_carry_hil_names() {
        for d in ALL {
            assert!(d.type_uri.starts_with(PREFIX), "{}", d.type_uri);
            assert!(d.type_uri.ends_with(d.short_name), "{}", d.type_uri);
        }
    }

    #[test]
    fn lines_without_values_are_skipped() {
        let v = Values {
            port: "te1/0/1".into(),
            vlan: Some(100),
            ..Values::default()
        };
        assert_eq!(
            render("switchport trunk allowed vlan add {vlan}", &v).as_deref(),
            Some("switchport trunk allowed vlan add 100")
        );
        assert_eq!(
            render("switchport trunk allowed vlan remove {old}", &v),
            None
        );
        assert_eq!(render("remove {allowed}", &v), None);
        assert_eq!(
            render("interface {port}", &v).as_deref(),
            Some("interface te1/0/1")
        );
    }

    #[test]
    fn hil_sequences_are_kept_where_they_work() {
        // §3.8 (a) on Nexus: native before allowed
        let v = Values {
            port: "Ethernet1/1".into(),
            vlan: Some(7),
            ..Values::default()
        };
        let lines: Vec<String> = NEXUS
            .set_native
            .iter()
            .filter_map(|t| render(t, &v))
            .collect();
        assert_eq!(
            lines,
            [
                "switchport trunk native vlan 7",
                "switchport",
                "switchport mode trunk",
                "switchport trunk allowed vlan add 7"
            ]
        );
    }
}
