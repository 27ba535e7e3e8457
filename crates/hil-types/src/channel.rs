//! Channels name how a network reaches a nic (hil-api.md §3.2, §7).

/// A channel as the vlan_pool allocator understands it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    /// `vlan/native`: the network is the port's untagged (native/access) VLAN.
    Native,
    /// `vlan/<id>`: the network's VLAN is trunked (tagged) on the port.
    Tagged(String),
    /// `null`: the only channel of the null allocator.
    Null,
}

pub const NATIVE: &str = "vlan/native";
pub const NULL: &str = "null";

impl Channel {
    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            NATIVE => Some(Channel::Native),
            NULL => Some(Channel::Null),
            _ => s
                .strip_prefix("vlan/")
                .filter(|id| !id.is_empty())
                .map(|id| Channel::Tagged(id.to_string())),
        }
    }

    pub fn as_string(&self) -> String {
        match self {
            Channel::Native => NATIVE.to_string(),
            Channel::Tagged(id) => format!("vlan/{id}"),
            Channel::Null => NULL.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hil_channels() {
        assert_eq!(Channel::parse("vlan/native"), Some(Channel::Native));
        assert_eq!(
            Channel::parse("vlan/42"),
            Some(Channel::Tagged("42".into()))
        );
        assert_eq!(Channel::parse("null"), Some(Channel::Null));
        assert_eq!(Channel::parse("vlan/"), None);
        assert_eq!(Channel::parse("eth0"), None);
        assert_eq!(Channel::Tagged("7".into()).as_string(), "vlan/7");
    }
}
