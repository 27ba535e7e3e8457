//! The switch drivers this server loads, by type URI.

use std::collections::BTreeMap;
use std::sync::Arc;

use hil_drivers::switch::mock::MockDriver;
use hil_drivers::SwitchDriver;

use crate::config::Config;

/// Short names accepted in `switches.enabled`.
pub const KNOWN: &[&str] = &["mock"];

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
                _ => continue, // rejected when the config was validated
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
