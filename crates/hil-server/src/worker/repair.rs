//! The switch changes that bring a port to the VLANs it should carry: for drift repairs, and
//! for telling whether an interrupted action already reached the switch.

use hil_drivers::{parse_vlan, PortChange};
use hil_types::PortVlans;

const NATIVE: &str = "vlan/native";

/// What a port carries after `change`, given what it carried before.
pub fn state_after(mut vlans: PortVlans, change: &PortChange) -> PortVlans {
    match change {
        PortChange::Modify {
            channel,
            network_id: Some(id),
            ..
        } => {
            vlans.insert(channel.clone(), id.clone());
        }
        PortChange::Modify {
            channel,
            network_id: None,
            ..
        } => {
            vlans.remove(channel);
        }
        PortChange::Revert { .. } => vlans.clear(),
    }
    vlans
}

/// The fewest changes from `actual` to `expected`: tagged VLANs that should not be there come
/// off, the native VLAN is set or removed, missing tagged VLANs are added. `None` when the
/// port carries something no change can name (every VLAN, or a VLAN id out of range), or
/// should carry nothing (a revert is the change for that).
pub fn smallest_changes(
    port: &str,
    actual: &PortVlans,
    expected: &PortVlans,
) -> Option<Vec<PortChange>> {
    let nameable = |(channel, vlan): (&String, &String)| {
        parse_vlan(vlan).is_ok() && (channel == NATIVE || channel == &format!("vlan/{vlan}"))
    };
    if expected.is_empty() || !actual.iter().all(nameable) {
        return None;
    }
    let modify = |channel: &str, network_id: Option<&String>, previous: Option<&String>| {
        PortChange::Modify {
            port: port.to_string(),
            channel: channel.to_string(),
            network_id: network_id.cloned(),
            previous: previous.cloned(),
        }
    };
    let tagged = |v: &PortVlans| -> Vec<(String, String)> {
        v.iter()
            .filter(|(c, _)| c.as_str() != NATIVE)
            .map(|(c, n)| (c.clone(), n.clone()))
            .collect()
    };
    let mut changes = Vec::new();
    for (channel, _) in tagged(actual) {
        if !expected.contains_key(&channel) {
            changes.push(modify(&channel, None, None));
        }
    }
    match (actual.get(NATIVE), expected.get(NATIVE)) {
        (was, Some(want)) if was != Some(want) => changes.push(modify(NATIVE, Some(want), was)),
        (Some(was), None) => changes.push(modify(NATIVE, None, Some(was))),
        _ => {}
    }
    for (channel, vlan) in tagged(expected) {
        if actual.get(&channel) != Some(&vlan) {
            changes.push(modify(&channel, Some(&vlan), None));
        }
    }
    Some(changes)
}

/// Changes that take a port, whatever it carries, to exactly `expected`: everything off, then
/// the native network, then the tagged ones.
pub fn rebuild(port: &str, expected: &PortVlans) -> Vec<PortChange> {
    let mut changes = vec![PortChange::Revert {
        port: port.to_string(),
    }];
    let native = expected.get_key_value(NATIVE);
    let tagged = expected.iter().filter(|(c, _)| c.as_str() != NATIVE);
    for (channel, vlan) in native.into_iter().chain(tagged) {
        changes.push(PortChange::Modify {
            port: port.to_string(),
            channel: channel.clone(),
            network_id: Some(vlan.clone()),
            previous: None,
        });
    }
    changes
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A port's VLANs from `(channel, vlan)` pairs (also used by the audit's tests).
    pub(in crate::worker) fn vlans(pairs: &[(&str, &str)]) -> PortVlans {
        pairs
            .iter()
            .map(|(c, v)| (c.to_string(), v.to_string()))
            .collect()
    }

    /// Applies changes the way a well-behaved switch would.
    fn applied(mut port: PortVlans, changes: &[PortChange]) -> PortVlans {
        for change in changes {
            port = state_after(port, change);
        }
        port
    }

    #[test]
    fn smallest_changes_reach_the_expected_state_and_leave_the_rest_alone() {
        let expected = vlans(&[("vlan/native", "100"), ("vlan/200", "200")]);
        let cases = [
            vlans(&[
                ("vlan/native", "100"),
                ("vlan/200", "200"),
                ("vlan/300", "300"),
            ]),
            vlans(&[("vlan/native", "999"), ("vlan/200", "200")]),
            vlans(&[("vlan/200", "200")]),
            vlans(&[("vlan/100", "100")]),
            vlans(&[]),
        ];
        for actual in cases {
            let changes = smallest_changes("p", &actual, &expected).unwrap();
            assert_eq!(applied(actual.clone(), &changes), expected, "{actual:?}");
            assert!(
                !changes
                    .iter()
                    .any(|c| matches!(c, PortChange::Revert { .. })),
                "{changes:?}"
            );
        }
        // An extra tagged VLAN costs exactly one change.
        let extra = vlans(&[
            ("vlan/native", "100"),
            ("vlan/200", "200"),
            ("vlan/300", "300"),
        ]);
        assert_eq!(smallest_changes("p", &extra, &expected).unwrap().len(), 1);
    }

    #[test]
    fn the_native_change_names_the_vlan_it_replaces() {
        let actual = vlans(&[("vlan/native", "999")]);
        let expected = vlans(&[("vlan/native", "100")]);
        let changes = smallest_changes("p", &actual, &expected).unwrap();
        assert_eq!(
            changes,
            [PortChange::Modify {
                port: "p".into(),
                channel: "vlan/native".into(),
                network_id: Some("100".into()),
                previous: Some("999".into()),
            }]
        );
    }

    #[test]
    fn what_no_change_can_name_is_rebuilt() {
        let expected = vlans(&[("vlan/native", "100")]);
        for actual in [
            vlans(&[("vlan/*", "*")]),
            vlans(&[("vlan/native", "4095")]),
            vlans(&[("vlan/native", "0")]),
        ] {
            assert_eq!(
                smallest_changes("p", &actual, &expected),
                None,
                "{actual:?}"
            );
        }
        assert_eq!(smallest_changes("p", &expected, &vlans(&[])), None);
        let rebuilt = rebuild("p", &vlans(&[("vlan/200", "200"), ("vlan/native", "100")]));
        assert!(matches!(rebuilt[0], PortChange::Revert { .. }));
        assert!(
            matches!(&rebuilt[1], PortChange::Modify { channel, .. } if channel == "vlan/native")
        );
        assert_eq!(
            applied(vlans(&[("vlan/*", "*")]), &rebuilt),
            vlans(&[("vlan/native", "100"), ("vlan/200", "200")])
        );
    }
}
