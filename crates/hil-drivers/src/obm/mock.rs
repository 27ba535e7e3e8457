//! The mock OBM (HIL's `obm/mock` type), for development and fast tests. Each BMC is a
//! power state and a boot device in this process, keyed by `host`. Two hosts misbehave on
//! purpose: `unreachable` fails every call and `hang` never answers (until the timeout).
//! The console prints a banner and then one numbered line every 200 ms.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::{
    check_members, Bmc, BootDevice, ConsoleSession, ObmDriver, ObmError, ObmErrorKind, ObmOptions,
    ObmSpec, PowerState,
};

pub const TYPE_URI: &str = "http://schema.massopencloud.org/haas/v0/obm/mock";

#[derive(Debug, Clone, Copy)]
struct MockState {
    on: bool,
    bootdev: BootDevice,
}

static BMCS: LazyLock<Mutex<HashMap<String, MockState>>> = LazyLock::new(Default::default);

pub struct MockObm;

impl ObmDriver for MockObm {
    fn type_uri(&self) -> &'static str {
        TYPE_URI
    }

    fn name(&self) -> &'static str {
        "mock"
    }

    fn validate(&self, config: &Map<String, Value>) -> Result<(), String> {
        check_members(config, &["host", "user", "password"], &[])
    }

    fn bmc(&self, spec: &ObmSpec, options: &ObmOptions) -> Result<Arc<dyn Bmc>, ObmError> {
        Ok(Arc::new(MockBmc {
            host: spec.field("host").unwrap_or_default().to_string(),
            timeout: options.command_timeout,
        }))
    }
}

struct MockBmc {
    host: String,
    timeout: Duration,
}

impl MockBmc {
    /// Runs `f` on this BMC's state, failing the way the special hosts do.
    async fn with_state<T>(&self, f: impl FnOnce(&mut MockState) -> T) -> Result<T, ObmError> {
        match self.host.as_str() {
            "unreachable" => Err(ObmError::new(
                ObmErrorKind::Unreachable,
                "mock BMC \"unreachable\" does not answer",
            )),
            "hang" => {
                tokio::time::sleep(self.timeout).await;
                Err(ObmError::timeout("mock BMC \"hang\"", self.timeout))
            }
            _ => {
                let mut bmcs = BMCS.lock().unwrap_or_else(|e| e.into_inner());
                let state = bmcs.entry(self.host.clone()).or_insert(MockState {
                    on: false,
                    bootdev: BootDevice::None,
                });
                Ok(f(state))
            }
        }
    }
}

#[async_trait]
impl Bmc for MockBmc {
    async fn power_on(&self) -> Result<(), ObmError> {
        self.with_state(|s| s.on = true).await
    }

    async fn power_off(&self) -> Result<(), ObmError> {
        self.with_state(|s| s.on = false).await
    }

    async fn power_cycle(&self, _force: bool) -> Result<(), ObmError> {
        self.with_state(|s| s.on = true).await
    }

    async fn power_status(&self) -> Result<PowerState, ObmError> {
        self.with_state(|s| {
            if s.on {
                PowerState::On
            } else {
                PowerState::Off
            }
        })
        .await
    }

    async fn set_bootdev(&self, device: BootDevice) -> Result<(), ObmError> {
        self.with_state(|s| s.bootdev = device).await
    }

    fn has_console(&self) -> bool {
        true
    }

    async fn open_console(&self) -> Result<Box<dyn ConsoleSession>, ObmError> {
        let bootdev = self.with_state(|s| s.bootdev).await?;
        Ok(Box::new(MockConsole {
            banner: Some(format!(
                "mock console of {} (boot device: {})\r\n",
                self.host,
                bootdev.as_str()
            )),
            line: 0,
        }))
    }
}

struct MockConsole {
    banner: Option<String>,
    line: u64,
}

#[async_trait]
impl ConsoleSession for MockConsole {
    async fn next_output(&mut self) -> Result<Option<Vec<u8>>, ObmError> {
        if let Some(banner) = self.banner.take() {
            return Ok(Some(banner.into_bytes()));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.line += 1;
        Ok(Some(format!("line {}\r\n", self.line).into_bytes()))
    }

    async fn close(self: Box<Self>) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bmc(host: &str) -> Arc<dyn Bmc> {
        let spec = ObmSpec {
            node: "n".into(),
            config: json!({"host": host, "user": "u", "password": "p"})
                .as_object()
                .unwrap()
                .clone(),
        };
        let options = ObmOptions {
            command_timeout: Duration::from_millis(50),
            ..ObmOptions::default()
        };
        MockObm.bmc(&spec, &options).unwrap()
    }

    #[tokio::test]
    async fn power_state_is_kept_per_host() {
        let a = bmc("mock-a");
        a.power_on().await.unwrap();
        assert_eq!(a.power_status().await.unwrap(), PowerState::On);
        assert_eq!(bmc("mock-a").power_status().await.unwrap(), PowerState::On);
        assert_eq!(bmc("mock-b").power_status().await.unwrap(), PowerState::Off);
        a.power_off().await.unwrap();
        assert_eq!(a.power_status().await.unwrap(), PowerState::Off);
    }

    #[tokio::test]
    async fn special_hosts_fail() {
        let e = bmc("unreachable").power_on().await.unwrap_err();
        assert_eq!(e.kind, ObmErrorKind::Unreachable);
        let e = bmc("hang").power_status().await.unwrap_err();
        assert_eq!(e.kind, ObmErrorKind::Timeout);
    }
}
