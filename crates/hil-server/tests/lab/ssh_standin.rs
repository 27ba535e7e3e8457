//! A scripted SSH switch for what the emulators cannot do: count logins, record every line,
//! and hang in the middle of a command.
//!
//! Started plain, it speaks just enough of a Cisco-style CLI for the `nexus` dialect:
//! `configure terminal`, `interface X`, `exit`, a prompt for each mode, and NX-OS's
//! `Copy complete.` after a save. Started as a `Vendor` (see `standin_vendors`), it plays that
//! vendor's CLI with state: its prompts, its port commands, its `show` output and its error
//! strings, for the dialects no emulator covers.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

pub use super::standin_vendors::{PortVlans, Vendor};

use russh::keys::PrivateKey;
use russh::server::{Auth, Msg, Session};
use russh::{Channel, ChannelId};

const HOST_KEY: &str = include_str!("test_host_key");

#[derive(Default)]
struct State {
    logins: usize,
    lines: Vec<String>,
    /// Lines starting with this get no answer, ever.
    hang_on: Option<String>,
    /// The ports of a vendor stand-in and what they carry.
    ports: BTreeMap<String, PortVlans>,
}

#[derive(Clone)]
pub struct StandIn {
    pub port: u16,
    pub password: String,
    vendor: Option<&'static Vendor>,
    state: Arc<Mutex<State>>,
}

impl StandIn {
    pub async fn start(password: &str) -> StandIn {
        Self::launch(password, None, &[]).await
    }

    /// A stand-in that plays `vendor`'s CLI, with these ports (idle).
    pub async fn start_as(vendor: &'static Vendor, password: &str, ports: &[&str]) -> StandIn {
        Self::launch(password, Some(vendor), ports).await
    }

    async fn launch(password: &str, vendor: Option<&'static Vendor>, ports: &[&str]) -> StandIn {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            ports: ports
                .iter()
                .map(|p| (p.to_string(), PortVlans::default()))
                .collect(),
            ..State::default()
        }));
        let config = Arc::new(russh::server::Config {
            keys: vec![PrivateKey::from_openssh(HOST_KEY).expect("test host key")],
            auth_rejection_time: std::time::Duration::from_millis(10),
            ..Default::default()
        });
        let standin = StandIn {
            port,
            password: password.to_string(),
            vendor,
            state,
        };
        let accepting = standin.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let handler = Connection {
                    standin: accepting.clone(),
                    mode: Mode::Exec,
                    line: String::new(),
                };
                let config = config.clone();
                tokio::spawn(async move {
                    if let Ok(running) = russh::server::run_stream(config, stream, handler).await {
                        let _ = running.await;
                    }
                });
            }
        });
        standin
    }

    pub fn hostname(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn logins(&self) -> usize {
        self.state.lock().unwrap().logins
    }

    pub fn lines(&self) -> Vec<String> {
        self.state.lock().unwrap().lines.clone()
    }

    /// What a vendor stand-in's port carries now.
    pub fn port(&self, name: &str) -> PortVlans {
        self.state.lock().unwrap().ports[name].clone()
    }

    /// From now on, a line starting with `prefix` is swallowed without an answer.
    pub fn hang_on(&self, prefix: &str) {
        self.state.lock().unwrap().hang_on = Some(prefix.to_string());
    }
}

#[derive(Clone)]
enum Mode {
    Exec,
    Config,
    Interface(String),
}

struct Connection {
    standin: StandIn,
    mode: Mode,
    line: String,
}

impl Connection {
    fn prompt(&self) -> String {
        let Some(vendor) = self.standin.vendor else {
            return match self.mode {
                Mode::Exec => "standin#",
                Mode::Config => "standin(config)#",
                Mode::Interface(_) => "standin(config-if)#",
            }
            .into();
        };
        let host = vendor.hostname;
        match &self.mode {
            Mode::Exec => format!("{host}#"),
            Mode::Config => format!("{host}(config)#"),
            Mode::Interface(port) => format!("{host}({})#", (vendor.interface_mode)(port)),
        }
    }

    /// What a vendor stand-in prints for `line` (changing its state), in the current mode.
    fn vendor_answer(&mut self, vendor: &Vendor, line: &str) -> String {
        let mut state = self.standin.state.lock().unwrap();
        match self.mode.clone() {
            Mode::Exec if line == "configure terminal" => {
                self.mode = Mode::Config;
                String::new()
            }
            Mode::Exec if vendor.paging_off.contains(&line) || line == "exit" => String::new(),
            Mode::Exec if line == vendor.save.0 => vendor.save.1.to_string(),
            Mode::Exec => match line.strip_prefix(vendor.show) {
                Some(port) => match state.ports.get(port) {
                    Some(vlans) => (vendor.print)(port, vlans),
                    None => (vendor.no_such_port)(port),
                },
                None => vendor.unknown.to_string(),
            },
            Mode::Config if matches!(line, "exit" | "end") => {
                self.mode = Mode::Exec;
                String::new()
            }
            Mode::Config => match line.strip_prefix("interface ") {
                Some(port) if state.ports.contains_key(port) => {
                    self.mode = Mode::Interface(port.to_string());
                    String::new()
                }
                Some(port) => (vendor.no_such_port)(port),
                None => vendor.unknown.to_string(),
            },
            Mode::Interface(_) if line == "exit" => {
                self.mode = Mode::Config;
                String::new()
            }
            Mode::Interface(port) => {
                let vlans = state.ports.get_mut(&port).expect("entered a known port");
                match (vendor.port_line)(vlans, line) {
                    Ok(()) => String::new(),
                    Err(said) => said,
                }
            }
        }
    }

    /// The answer to one line, or None to hang.
    fn answer(&mut self, line: &str) -> Option<String> {
        {
            let mut state = self.standin.state.lock().unwrap();
            state.lines.push(line.to_string());
            if state
                .hang_on
                .as_deref()
                .is_some_and(|p| line.starts_with(p))
            {
                return None;
            }
        }
        if let Some(vendor) = self.standin.vendor {
            let said = self.vendor_answer(vendor, line);
            let said: String = said.lines().map(|l| format!("\r\n{l}")).collect();
            return Some(format!("{line}{said}\r\n{}", self.prompt()));
        }
        self.mode = match (self.mode.clone(), line.split_whitespace().next()) {
            (Mode::Exec, Some("configure")) => Mode::Config,
            (Mode::Config, Some("interface")) => Mode::Interface(String::new()),
            (Mode::Interface(_), Some("exit")) => Mode::Config,
            (Mode::Config, Some("exit")) => Mode::Exec,
            (mode, _) => mode,
        };
        let said = if line == "copy running-config startup-config" {
            "\r\nCopy complete."
        } else {
            ""
        };
        Some(format!("{line}{said}\r\n{}", self.prompt()))
    }
}

impl russh::server::Handler for Connection {
    type Error = russh::Error;

    async fn auth_password(&mut self, _user: &str, password: &str) -> Result<Auth, Self::Error> {
        if password == self.standin.password {
            self.standin.state.lock().unwrap().logins += 1;
            Ok(Auth::Accept)
        } else {
            Ok(Auth::reject())
        }
    }

    async fn channel_open_session(
        &mut self,
        _channel: Channel<Msg>,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.accept().await;
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.data(channel, format!("\r\n{}", self.prompt()).into_bytes())?;
        Ok(())
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        for &byte in data {
            if byte != b'\n' {
                if byte != b'\r' {
                    self.line.push(byte as char);
                }
                continue;
            }
            let line = std::mem::take(&mut self.line);
            if let Some(answer) = self.answer(line.trim()) {
                session.data(channel, answer.into_bytes())?;
            }
        }
        Ok(())
    }
}
