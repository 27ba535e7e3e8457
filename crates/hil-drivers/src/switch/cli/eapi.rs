//! Arista's eAPI: the dialect's CLI commands sent as JSON-RPC `runCmds` over HTTP(S), for
//! switches registered with `"transport": "eapi"`.
//!
//! Each request is its own CLI session on the switch (it starts in exec mode and ends with
//! the request), so one change is one request: `enable`, `configure`, the interface and its
//! commands. Outputs are asked for as text and judged by the dialect's error patterns, as on
//! SSH; an error the switch reports through JSON-RPC fails the change with its words.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Value};

use super::dialect::Dialect;
use super::plan::{self, ReadPort};
use super::{carried, parse_read_back, rejected, InterfaceVlans, Outcomes};
use crate::switch::rest::Http;
use crate::switch::{DriverOptions, PortChange, PortState, SwitchError, SwitchSession, SwitchSpec};

/// Where eAPI listens on the switch.
const PATH: &str = "/command-api";

pub(super) struct EapiSession {
    dialect: &'static Dialect,
    http: Http,
    save: bool,
    outcomes: Arc<Outcomes>,
}

impl EapiSession {
    /// Checks the address and the credentials with a request of only `enable`, so that a
    /// wrong password fails the batch before any change.
    pub async fn open(
        dialect: &'static Dialect,
        switch: &SwitchSpec,
        options: &DriverOptions,
        outcomes: Arc<Outcomes>,
    ) -> Result<EapiSession, SwitchError> {
        let session = EapiSession {
            dialect,
            http: Http::open(switch, options)?,
            save: options.save,
            outcomes,
        };
        session.run(&[]).await?;
        Ok(session)
    }

    /// Runs commands after `enable` in one request and returns each one's text output.
    async fn run(&self, commands: &[String]) -> Result<Vec<String>, SwitchError> {
        let mut cmds = vec!["enable".to_string()];
        cmds.extend_from_slice(commands);
        let request = json!({
            "jsonrpc": "2.0",
            "method": "runCmds",
            "params": {"version": 1, "cmds": cmds, "format": "text"},
            "id": "hil",
        });
        let reply = self.http.post_json(PATH, request.to_string()).await?;
        let outputs = parse_reply(&reply.body)?;
        for (command, output) in commands.iter().zip(outputs.iter().skip(1)) {
            if let Some(bad) = output.lines().find(|l| self.outcomes.errors.is_match(l)) {
                return Err(rejected(format!(
                    "the switch refused `{command}`: {}",
                    bad.trim()
                )));
            }
        }
        Ok(outputs.into_iter().skip(1).collect())
    }
}

/// The text outputs of a `runCmds` reply, or the switch's error in its own words.
fn parse_reply(body: &str) -> Result<Vec<String>, SwitchError> {
    let reply: Value = serde_json::from_str(body)
        .map_err(|e| rejected(format!("the switch's eAPI answer is not JSON: {e}")))?;
    if let Some(error) = reply.get("error") {
        let message = error["message"].as_str().unwrap_or("unknown error");
        // Real EOS lists each command's errors in the data; the last entry is the failed one.
        let details: Vec<&str> = error["data"]
            .as_array()
            .and_then(|d| d.last())
            .and_then(|last| last["errors"].as_array())
            .map(|errors| errors.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut text = format!("the switch refused the commands: {message}");
        if !details.is_empty() {
            text.push_str(&format!(" ({})", details.join("; ")));
        }
        return Err(rejected(text));
    }
    let results = reply["result"]
        .as_array()
        .ok_or_else(|| rejected("the switch's eAPI answer has no result".into()))?;
    Ok(results
        .iter()
        .map(|r| r["output"].as_str().unwrap_or_default().to_string())
        .collect())
}

impl ReadPort for EapiSession {
    async fn read_port(&mut self, port: &str) -> Result<InterfaceVlans, SwitchError> {
        let show = self.dialect.show_interface.replace("{port}", port);
        let outputs = self.run(&[show]).await?;
        Ok(parse_read_back(
            self.dialect,
            outputs.first().map_or("", String::as_str),
        ))
    }
}

#[async_trait]
impl SwitchSession for EapiSession {
    async fn apply(&mut self, change: &PortChange) -> Result<(), SwitchError> {
        let dialect = self.dialect;
        let lines = plan::commands_for(self, dialect, None, change).await?;
        let mut commands = vec![dialect.configure.to_string()];
        if let Some(interface) = dialect.interface {
            commands.push(interface.replace("{port}", change.port()));
        }
        commands.extend(lines);
        self.run(&commands).await.map(drop)
    }

    async fn port_state(&mut self, port: &str) -> Result<PortState, SwitchError> {
        let now = self.read_port(port).await?;
        Ok(carried(&now, None, self.dialect.trunk_default_all))
    }

    async fn save(&mut self) -> Result<(), SwitchError> {
        if !self.save {
            return Ok(());
        }
        let outputs = self.run(&[self.dialect.save.to_string()]).await?;
        let output = outputs.first().map_or("", String::as_str);
        if self.outcomes.save_ok.is_match(output) {
            Ok(())
        } else {
            Err(rejected(format!(
                "saving the configuration failed: {:?}",
                output.trim()
            )))
        }
    }

    async fn close(self: Box<Self>) -> Result<(), SwitchError> {
        Ok(()) // nothing stays open between requests
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_give_outputs_or_the_switch_words() {
        let ok = r#"{"jsonrpc": "2.0", "id": "hil", "result": [{"output": ""},
                    {"output": "interface Ethernet1\n   switchport mode trunk\n"}]}"#;
        assert_eq!(
            parse_reply(ok).unwrap(),
            ["", "interface Ethernet1\n   switchport mode trunk\n"]
        );
        let refused = r#"{"jsonrpc": "2.0", "id": "hil", "error": {"code": 1002,
            "message": "CLI command 4 of 4 'switchport trunk native vlan 5' failed: invalid command",
            "data": [{}, {}, {}, {"errors": ["Incomplete command"]}]}}"#;
        let error = parse_reply(refused).unwrap_err();
        assert!(error.message.contains("failed: invalid command"), "{error}");
        assert!(error.message.contains("(Incomplete command)"), "{error}");
        assert!(parse_reply("<html>").is_err());
        assert!(parse_reply(r#"{"jsonrpc": "2.0"}"#).is_err());
    }
}
