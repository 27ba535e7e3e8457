//! Network id allocators: `vlan_pool` (802.1q VLANs from configured ranges) and `null`
//! (UUIDs, development only). Channels follow hil-api.md §7.

use hil_types::channel::{NATIVE, NULL};

use crate::config::{AllocatorBackend, AllocatorConfig};
use crate::error::{ApiError, ApiResult};
use crate::store::{vlans, Conn};

/// Highest usable 802.1q VLAN id (4095 is reserved by the standard).
const MAX_VLAN: u16 = 4094;

pub enum Allocator {
    VlanPool { vlans: Vec<u16> },
    Null,
}

/// Parses HIL's VLAN list syntax: `"14,35-40, 100-900"`. A reversed range adds nothing.
pub fn parse_vlan_ranges(spec: &str) -> Result<Vec<u16>, String> {
    let mut out = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (lo, hi) = match item.split_once('-') {
            Some((a, b)) => (parse_vlan(a)?, parse_vlan(b)?),
            None => {
                let v = parse_vlan(item)?;
                (v, v)
            }
        };
        out.extend(lo..=hi);
    }
    Ok(out)
}

fn parse_vlan(s: &str) -> Result<u16, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{s:?} is not a VLAN number"));
    }
    match s.parse::<u16>() {
        Ok(v) if (1..=MAX_VLAN).contains(&v) => Ok(v),
        _ => Err(format!("VLAN {s} is outside 1-{MAX_VLAN}")),
    }
}

/// An explicit `net_id` as HIL's vlan_pool accepts it (Python `int()` syntax), normalised.
fn explicit_vlan(s: &str) -> Option<u16> {
    let t = s.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<u16>().ok().filter(|v| (1..=MAX_VLAN).contains(v))
}

impl Allocator {
    pub fn from_config(config: &AllocatorConfig) -> Result<Allocator, String> {
        Ok(match config.backend {
            AllocatorBackend::VlanPool => Allocator::VlanPool {
                vlans: parse_vlan_ranges(&config.vlans)?,
            },
            AllocatorBackend::Null => Allocator::Null,
        })
    }

    pub fn extension_name(&self) -> &'static str {
        match self {
            Allocator::VlanPool { .. } => "hil.ext.network_allocators.vlan_pool",
            Allocator::Null => "hil.ext.network_allocators.null",
        }
    }

    /// Adds configured VLANs to the pool table (idempotent; `hil-admin db create`).
    pub async fn populate(&self, c: &mut Conn) -> ApiResult<()> {
        if let Allocator::VlanPool { vlans } = self {
            vlans::populate(c, vlans).await?;
        }
        Ok(())
    }

    /// A fresh network id from the pool.
    pub async fn allocate(&self, c: &mut Conn) -> ApiResult<String> {
        match self {
            Allocator::VlanPool { .. } => match vlans::take_first_available(c).await? {
                Some(v) => Ok(v.to_string()),
                None => Err(ApiError::Allocation("No more networks".into())),
            },
            Allocator::Null => Ok(uuid::Uuid::now_v1(&rand::random()).to_string()),
        }
    }

    /// Returns an allocated id to the pool.
    pub async fn free(&self, c: &mut Conn, net_id: &str) -> ApiResult<()> {
        if let (Allocator::VlanPool { .. }, Some(v)) = (self, explicit_vlan(net_id)) {
            vlans::set_available(c, i64::from(v), true).await?;
        }
        Ok(())
    }

    /// Checks and normalises an admin-given id: `None` when the allocator rejects it.
    pub fn validate(&self, net_id: &str) -> Option<String> {
        match self {
            Allocator::VlanPool { .. } => explicit_vlan(net_id).map(|v| v.to_string()),
            Allocator::Null => Some(net_id.to_string()),
        }
    }

    /// Claims an admin-given (validated) id. Returns whether the id belongs to the pool.
    pub async fn claim(&self, c: &mut Conn, net_id: &str) -> ApiResult<bool> {
        let Allocator::VlanPool { .. } = self else {
            return Ok(true);
        };
        let Some(v) = explicit_vlan(net_id) else {
            return Ok(false);
        };
        match vlans::availability(c, i64::from(v)).await? {
            None => Ok(false),
            Some(false) => Err(ApiError::Blocked(
                "Network ID is not available. Please choose a different ID.".into(),
            )),
            Some(true) => {
                vlans::set_available(c, i64::from(v), false).await?;
                Ok(true)
            }
        }
    }

    pub fn legal_channels(&self, net_id: &str) -> Vec<String> {
        match self {
            Allocator::VlanPool { .. } => vec![NATIVE.to_string(), format!("vlan/{net_id}")],
            Allocator::Null => vec![NULL.to_string()],
        }
    }

    pub fn is_legal_channel(&self, channel: &str, net_id: &str) -> bool {
        self.legal_channels(net_id).iter().any(|c| c == channel)
    }

    pub fn default_channel(&self) -> &'static str {
        match self {
            Allocator::VlanPool { .. } => NATIVE,
            Allocator::Null => NULL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hil_vlan_lists() {
        assert_eq!(
            parse_vlan_ranges("14,35-37, 100").unwrap(),
            vec![14, 35, 36, 37, 100]
        );
        assert_eq!(parse_vlan_ranges("500-300").unwrap(), Vec::<u16>::new());
        assert!(parse_vlan_ranges("12-").is_err());
        assert!(parse_vlan_ranges("abc").is_err());
        assert!(parse_vlan_ranges("5000").is_err());
        assert!(parse_vlan_ranges("0").is_err());
    }

    #[test]
    fn explicit_ids_follow_python_int_and_normalise() {
        let a = Allocator::VlanPool { vlans: vec![] };
        assert_eq!(a.validate("42").as_deref(), Some("42"));
        assert_eq!(a.validate(" +42 ").as_deref(), Some("42"));
        assert_eq!(a.validate("0"), None);
        assert_eq!(a.validate("4095"), None);
        assert_eq!(a.validate("vlan"), None);
        assert_eq!(a.validate(""), None);
    }

    #[test]
    fn channels() {
        let a = Allocator::VlanPool { vlans: vec![] };
        assert!(a.is_legal_channel("vlan/native", "7"));
        assert!(a.is_legal_channel("vlan/7", "7"));
        assert!(!a.is_legal_channel("vlan/8", "7"));
        assert!(!a.is_legal_channel("null", "7"));
        assert_eq!(Allocator::Null.legal_channels("x"), vec!["null"]);
    }
}
