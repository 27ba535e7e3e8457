//! The switch drivers this server loads, by type URI.

use std::collections::BTreeMap;
use std::sync::Arc;

use hil_drivers::switch::cli::{dialect, CliDriver};
use hil_drivers::switch::mock::MockDriver;
use hil_drivers::switch::netconf::junos::JunosDriver;
use hil_drivers::switch::ovs::OvsDriver;
use hil_drivers::switch::rest::{BrocadeDriver, DellNos9Driver};
use hil_drivers::SwitchDriver;

use crate::config::Config;

/// Short names accepted in `switches.enabled`.
pub const KNOWN: &[&str] = &[
    "mock",
    "ovs",
    "powerconnect55xx",
    "delln3000",
    "nexus",
    "cisco_ios",
    "arista_eos",
    "brocade_icx",
    "dell_os10",
    "sonic",
    "aruba_aoscx",
    "juniper_junos",
    "dellnos9",
    "brocade",
];

#[derive(Clone, Default)]
pub struct SwitchRegistry {
    by_type: BTreeMap<&'static str, Arc<dyn SwitchDriver>>,
}

impl SwitchRegistry {
    pub fn from_config(config: &Config) -> SwitchRegistry {
        let mut registry = SwitchRegistry::default();
        for name in &config.switches.enabled {
            let driver: Arc<dyn SwitchDriver> = match name.as_str() {
                "mock" => Arc::new(MockDriver::new(config.mock_state_dir())),
                "ovs" => Arc::new(OvsDriver::new(
                    config.switches.ovsdb.clone(),
                    config.switches.driver_options("ovs"),
                )),
                "dellnos9" => Arc::new(DellNos9Driver::new(
                    config.switches.driver_options("dellnos9"),
                )),
                "brocade" => Arc::new(BrocadeDriver::new(
                    config.switches.driver_options("brocade"),
                )),
                "juniper_junos" => Arc::new(JunosDriver::new(
                    config.switches.driver_options("juniper_junos"),
                    config.ssh_known_hosts(),
                )),
                cli => match dialect::ALL.iter().find(|d| d.short_name == cli) {
                    Some(d) => Arc::new(CliDriver::new(
                        d,
                        config.switches.driver_options(cli),
                        config.ssh_known_hosts(),
                    )),
                    None => continue, // rejected when the config was validated
                },
            };
            registry.by_type.insert(driver.type_uri(), driver);
        }
        registry
    }

    pub fn get(&self, type_uri: &str) -> Option<&Arc<dyn SwitchDriver>> {
        self.by_type.get(type_uri)
    }

    pub fn extension_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.by_type.values().map(|d| d.extension_name())
    }
}
