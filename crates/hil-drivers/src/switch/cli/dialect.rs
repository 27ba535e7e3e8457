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
//! - `{allowed}`: the VLANs the port allows now, read from the switch first;
//! - `{native}`: the port's native VLAN now, read from the switch first.
//!
//! A template whose placeholder has no value (no previous native VLAN, nothing allowed) is
//! skipped, which is how "remove the old native VLAN, if any" is written. A template may hold
//! several commands separated by `\n`; they are sent, or skipped, together (VLAN-centric
//! switches enter a VLAN, change a port and leave in one template).

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
    /// Enters interface configuration mode from global configuration mode. None for
    /// VLAN-centric switches, whose templates run in global configuration mode and enter the
    /// VLANs they change themselves.
    pub interface: Option<&'static str>,
    pub set_native: &'static [&'static str],
    pub remove_native: &'static [&'static str],
    pub add_tagged: &'static [&'static str],
    pub remove_tagged: &'static [&'static str],
    /// None: undo what the port carries, as read back first (`remove_native` for its native
    /// VLAN, `remove_tagged` for each tagged one).
    pub revert: Option<&'static [&'static str]>,
    /// Prints what one port carries (read back by the audit, and for `{allowed}`).
    pub show_interface: &'static str,
    /// How to read what `show_interface` prints.
    pub read_back: ReadBack,
    /// A trunk whose configuration has no `switchport trunk allowed vlan` line carries every
    /// VLAN (Cisco's default). Read-back then reports `vlan/*`.
    pub trunk_default_all: bool,
    /// Copies the running configuration to the startup configuration.
    pub save: &'static str,
    /// Output that proves the save worked.
    pub save_ok: &'static str,
    /// Regexes (case-insensitive, per output line) that mean the switch refused a command.
    pub errors: &'static [&'static str],
    /// The switch also takes these commands over Arista's eAPI (JSON-RPC over HTTPS), chosen
    /// per switch with `"transport": "eapi"`.
    pub eapi: bool,
}

/// The form of a dialect's `show_interface` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadBack {
    /// `switchport ...` lines of the interface's running configuration (Dell, Cisco, Arista).
    /// An access port carries only its access VLAN.
    Switchport,
    /// `switchport ...` lines where `switchport access vlan` is the port's untagged VLAN,
    /// next to the tagged VLANs of `switchport trunk allowed vlan` (Dell OS10, SONiC).
    SwitchportAccessUntagged,
    /// AOS-CX's `vlan trunk native`, `vlan trunk allowed` and `vlan access` lines.
    VlanTrunk,
    /// One VLAN per line with its tagging, as `show vlan ethernet` prints it on FastIron.
    VlanMembership,
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
    interface: Some("interface {port}"),
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
    revert: Some(&[
        "switchport trunk allowed vlan remove {allowed}",
        "switchport trunk native vlan none",
    ]),
    show_interface: "show running-config interface {port}",
    read_back: ReadBack::Switchport,
    // HIL's revert leaves no allowed line on a PowerConnect or an N3000 (`remove`s, not
    // `none`), and HIL read that as carrying nothing.
    trunk_default_all: false,
    save: "copy running-config startup-config",
    save_ok: r"Copy succeeded|Configuration Saved",
    errors: COMMON_ERRORS,
    eapi: false,
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
    interface: Some("interface {port}"),
    set_native: POWERCONNECT.set_native,
    remove_native: &[
        "switchport trunk allowed vlan remove {old}",
        "switchport trunk allowed vlan add {dummy}",
        "switchport trunk native vlan {dummy}",
        "switchport trunk allowed vlan remove {dummy}",
    ],
    add_tagged: POWERCONNECT.add_tagged,
    remove_tagged: POWERCONNECT.remove_tagged,
    revert: Some(&[
        "switchport trunk allowed vlan add {dummy}",
        "switchport trunk native vlan {dummy}",
        "switchport trunk allowed vlan remove 1-4093",
    ]),
    show_interface: "show running-config interface {port}",
    read_back: ReadBack::Switchport,
    // HIL's revert leaves no allowed line on a PowerConnect or an N3000 (`remove`s, not
    // `none`), and HIL read that as carrying nothing.
    trunk_default_all: false,
    save: "copy running-config startup-config",
    save_ok: r"Copy succeeded|Configuration Saved",
    errors: COMMON_ERRORS,
    eapi: false,
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
    interface: Some("interface {port}"),
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
    revert: Some(&[
        "switchport trunk allowed vlan none",
        "switchport trunk native vlan {dummy}",
    ]),
    show_interface: "show running-config interface {port}",
    read_back: ReadBack::Switchport,
    trunk_default_all: true,
    save: "copy running-config startup-config",
    save_ok: r"Copy complete",
    errors: COMMON_ERRORS,
    eapi: false,
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
    interface: Some("interface {port}"),
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
    revert: Some(&[
        "switchport trunk allowed vlan none",
        "no switchport trunk native vlan",
    ]),
    show_interface: "show running-config interface {port}",
    read_back: ReadBack::Switchport,
    trunk_default_all: true,
    save: "write memory",
    save_ok: r"\[?OK\]?",
    errors: COMMON_ERRORS,
    eapi: false,
};

/// Arista EOS (an addition). Its trunk commands are Cisco's; it saves with `write memory`.
/// Paging is left on: EOS pages only long output, which the engine pages through, and the
/// emulator answers `terminal length 0` without a line break before its prompt.
pub const ARISTA_EOS: Dialect = Dialect {
    short_name: "arista_eos",
    type_uri: "http://schema.massopencloud.org/haas/v0/switches/arista_eos",
    extension_name: "hil.ext.switches.arista_eos",
    port_pattern: r"^(?i)(Ethernet|Et)\d+(/\d+){0,2}$",
    paging_off: "",
    // The emulator drops the session on `no switchport trunk native vlan`, so that line is
    // sent only to a port that has a native VLAN (EOS takes the VLAN after `no` too).
    revert: Some(&[
        "switchport trunk allowed vlan none",
        "no switchport trunk native vlan {native}",
    ]),
    show_interface: "show running-config interfaces {port}",
    save: "write memory",
    save_ok: r"Copy completed successfully",
    eapi: true,
    ..CISCO_IOS
};

/// Ruckus (Brocade) ICX / FastIron (an addition; HIL's `brocade` type is the REST-driven VDX).
/// VLAN-centric: a port joins a VLAN from inside `vlan N`, untagged (the native VLAN, at most
/// one) or tagged. A port that belongs nowhere else is untagged in the default VLAN 1, which
/// read-back counts as idle. Mixing untagged and tagged VLANs on one port needs FastIron
/// 08.0.90 or later (earlier releases want `dual-mode` on the interface).
pub const BROCADE_ICX: Dialect = Dialect {
    short_name: "brocade_icx",
    type_uri: "http://schema.massopencloud.org/haas/v0/switches/brocade_icx",
    extension_name: "hil.ext.switches.brocade_icx",
    port_pattern: r"^\d+/\d+(/\d+)?$",
    dummy_vlan_max: None,
    paging_off: "skip-page-display",
    session_setup: &[],
    configure: "configure terminal",
    interface: None,
    set_native: &[
        "vlan {old}\nno untagged ethernet {port}\nexit",
        "vlan {vlan}\nuntagged ethernet {port}\nexit",
    ],
    remove_native: &["vlan {old}\nno untagged ethernet {port}\nexit"],
    add_tagged: &["vlan {vlan}\ntagged ethernet {port}\nexit"],
    remove_tagged: &["vlan {vlan}\nno tagged ethernet {port}\nexit"],
    revert: None,
    show_interface: "show vlan ethernet {port}",
    read_back: ReadBack::VlanMembership,
    trunk_default_all: false,
    save: "write memory",
    // FastIron prints "Write startup-config done." or, on some releases, nothing at all.
    save_ok: r"(?s)\A\s*\z|(?i)done",
    errors: COMMON_ERRORS,
    eapi: false,
};

/// Dell EMC SmartFabric OS10 (an addition). A trunk's untagged VLAN is its access VLAN;
/// `switchport trunk allowed vlan` adds tagged VLANs and its `no` form removes them. Interface
/// mode shows as `(conf-if-eth1/1/1)`.
pub const DELL_OS10: Dialect = Dialect {
    short_name: "dell_os10",
    type_uri: "http://schema.massopencloud.org/haas/v0/switches/dell_os10",
    extension_name: "hil.ext.switches.dell_os10",
    port_pattern: r"^ethernet\d+/\d+/\d+(:\d+)?$",
    dummy_vlan_max: None,
    paging_off: "terminal length 0",
    session_setup: &[],
    configure: "configure terminal",
    interface: Some("interface {port}"),
    set_native: &["switchport mode trunk", "switchport access vlan {vlan}"],
    remove_native: &["no switchport access vlan"],
    add_tagged: &[
        "switchport mode trunk",
        "switchport trunk allowed vlan {vlan}",
    ],
    remove_tagged: &["no switchport trunk allowed vlan {vlan}"],
    revert: Some(&[
        "no switchport access vlan",
        "no switchport trunk allowed vlan {allowed}",
    ]),
    show_interface: "show running-configuration interface {port}",
    read_back: ReadBack::SwitchportAccessUntagged,
    trunk_default_all: false,
    save: "write memory",
    save_ok: r"(?s)\A\s*\z|(?i)copy completed|success",
    errors: COMMON_ERRORS,
    eapi: false,
};

/// Enterprise SONiC's management CLI (sonic-cli, 4.x syntax; an addition). Like OS10, the
/// untagged VLAN is the access VLAN; tagged VLANs are added and removed by name (`Vlan`).
pub const SONIC: Dialect = Dialect {
    short_name: "sonic",
    type_uri: "http://schema.massopencloud.org/haas/v0/switches/sonic",
    extension_name: "hil.ext.switches.sonic",
    port_pattern: r"^(Ethernet\d+|Eth\d+/\d+(/\d+)?)$",
    dummy_vlan_max: None,
    paging_off: "terminal length 0",
    session_setup: &[],
    configure: "configure terminal",
    interface: Some("interface {port}"),
    set_native: &["switchport access Vlan {vlan}"],
    remove_native: &["no switchport access Vlan"],
    add_tagged: &["switchport trunk allowed Vlan add {vlan}"],
    remove_tagged: &["switchport trunk allowed Vlan remove {vlan}"],
    revert: Some(&[
        "no switchport access Vlan",
        "switchport trunk allowed Vlan remove {allowed}",
    ]),
    show_interface: "show running-configuration interface {port}",
    read_back: ReadBack::SwitchportAccessUntagged,
    trunk_default_all: false,
    save: "write memory",
    save_ok: r"(?s)\A\s*\z|(?i)saved|success",
    errors: COMMON_ERRORS,
    eapi: false,
};

/// HPE Aruba AOS-CX (an addition). The native VLAN must also be allowed to pass untagged
/// traffic, so it is allowed with it; without `vlan trunk native` a trunk's native VLAN is 1,
/// which HIL never allows.
pub const ARUBA_AOSCX: Dialect = Dialect {
    short_name: "aruba_aoscx",
    type_uri: "http://schema.massopencloud.org/haas/v0/switches/aruba_aoscx",
    extension_name: "hil.ext.switches.aruba_aoscx",
    port_pattern: r"^\d+/\d+/\d+(:\d+)?$",
    dummy_vlan_max: None,
    paging_off: "no page",
    session_setup: &[],
    configure: "configure terminal",
    interface: Some("interface {port}"),
    set_native: &[
        "no vlan trunk allowed {old}",
        "vlan trunk native {vlan}",
        "vlan trunk allowed {vlan}",
    ],
    remove_native: &["no vlan trunk allowed {old}", "no vlan trunk native"],
    add_tagged: &["vlan trunk allowed {vlan}"],
    remove_tagged: &["no vlan trunk allowed {vlan}"],
    revert: Some(&["no vlan trunk native", "no vlan trunk allowed {allowed}"]),
    show_interface: "show running-config interface {port}",
    read_back: ReadBack::VlanTrunk,
    trunk_default_all: true,
    save: "write memory",
    save_ok: r"(?i)success",
    errors: COMMON_ERRORS,
    eapi: false,
};

/// Every CLI dialect, for the server's driver registry.
pub const ALL: &[&Dialect] = &[
    &POWERCONNECT,
    &N3000,
    &NEXUS,
    &CISCO_IOS,
    &ARISTA_EOS,
    &BROCADE_ICX,
    &DELL_OS10,
    &SONIC,
    &ARUBA_AOSCX,
];

/// Values for the template placeholders of one change.
#[derive(Debug, Default, Clone)]
pub struct Values {
    pub port: String,
    pub vlan: Option<u16>,
    pub old: Option<u16>,
    pub dummy: Option<u16>,
    /// VLAN list as the switch prints it (`100,200-210`); None or empty skips the line.
    pub allowed: Option<String>,
    /// The native VLAN the switch shows on the port now.
    pub native: Option<u16>,
}

/// Fills in a template; None when the line must be skipped for lack of a value.
pub fn render(template: &str, values: &Values) -> Option<String> {
    let mut line = template.replace("{port}", &values.port);
    let numbers = [
        ("{vlan}", values.vlan),
        ("{old}", values.old),
        ("{dummy}", values.dummy),
        ("{native}", values.native),
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
    fn vlan_centric_templates_stand_or_fall_together() {
        let v = Values {
            port: "1/1/3".into(),
            vlan: Some(200),
            ..Values::default()
        };
        let sent: Vec<String> = BROCADE_ICX
            .set_native
            .iter()
            .filter_map(|t| render(t, &v))
            .collect();
        // no previous native VLAN: the whole "leave the old VLAN" template is skipped
        assert_eq!(sent, ["vlan 200\nuntagged ethernet 1/1/3\nexit"]);
    }

    #[test]
    fn every_dialect_is_complete() {
        let mut names = std::collections::BTreeSet::new();
        for d in ALL {
            assert!(names.insert(d.short_name), "{} twice", d.short_name);
            assert!(
                d.extension_name.starts_with("hil.ext.switches."),
                "{}",
                d.extension_name
            );
            assert!(
                regex::Regex::new(d.port_pattern).is_ok(),
                "{}",
                d.short_name
            );
            assert!(regex::Regex::new(d.save_ok).is_ok(), "{}", d.short_name);
            for t in [d.set_native, d.add_tagged, d.remove_tagged] {
                assert!(!t.is_empty(), "{}", d.short_name);
            }
            assert!(d.show_interface.contains("{port}"), "{}", d.short_name);
        }
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
