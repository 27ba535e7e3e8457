//! A scripted SSH switch for what the emulators cannot do: count logins, record every line,
//! and hang in the middle of a command. It speaks just enough of a Cisco-style CLI for the
//! `nexus` dialect: `configure terminal`, `interface X`, `exit`, a prompt for each mode, and
//! NX-OS's `Copy complete.` after a save.

use std::sync::{Arc, Mutex};

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
}

#[derive(Clone)]
pub struct StandIn {
    pub port: u16,
    pub password: String,
    state: Arc<Mutex<State>>,
}

impl StandIn {
    pub async fn start(password: &str) -> StandIn {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let config = Arc::new(russh::server::Config {
            keys: vec![PrivateKey::from_openssh(HOST_KEY).expect("test host key")],
            auth_rejection_time: std::time::Duration::from_millis(10),
            ..Default::default()
        });
        let standin = StandIn {
            port,
            password: password.to_string(),
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

    /// From now on, a line starting with `prefix` is swallowed without an answer.
    pub fn hang_on(&self, prefix: &str) {
        self.state.lock().unwrap().hang_on = Some(prefix.to_string());
    }
}

#[derive(Clone, Copy)]
enum Mode {
    Exec,
    Config,
    Interface,
}

struct Connection {
    standin: StandIn,
    mode: Mode,
    line: String,
}

impl Connection {
    fn prompt(&self) -> &'static str {
        match self.mode {
            Mode::Exec => "standin#",
            Mode::Config => "standin(config)#",
            Mode::Interface => "standin(config-if)#",
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
        self.mode = match (self.mode, line.split_whitespace().next()) {
            (Mode::Exec, Some("configure")) => Mode::Config,
            (Mode::Config, Some("interface")) => Mode::Interface,
            (Mode::Interface, Some("exit")) => Mode::Config,
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
