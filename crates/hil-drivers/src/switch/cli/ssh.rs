//! The SSH transport of CLI switches: an interactive shell with a PTY, read as text. The
//! connection and login (`connect`) are shared with the NETCONF driver.
//!
//! Switch CLIs (and the fake-switches emulators) offer no exec channel, so everything goes
//! through one shell. Old switches only speak legacy algorithms, so on top of russh's safe
//! defaults we also offer aes-cbc, diffie-hellman-group14/1-sha1, hmac-sha1 and ssh-rsa.
//!
//! Host keys are checked against an OpenSSH known_hosts file. A host seen for the first time is
//! learnt into that file (trust on first use, like HIL's "ssh once by hand" instruction, but
//! without the manual step); a changed key is refused.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use russh::client::{self, Handle};
use russh::keys::{self, Algorithm, PublicKeyOrCertificate};
use russh::{cipher, kex, mac, ChannelMsg, Preferred};

use crate::address::host_and_port;
use crate::switch::{SwitchError, SwitchErrorKind, SwitchSpec};

/// Output kept in memory while waiting for a prompt; a switch that prints more without ever
/// showing a prompt is broken.
const MAX_BUFFER: usize = 1 << 20;

/// Where to connect and how long to wait.
pub struct Target {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: String,
    pub known_hosts: PathBuf,
    pub connect_timeout: Duration,
}

impl Target {
    /// The SSH endpoint and credentials of a registered switch; `hostname` may name a port,
    /// else `default_port`.
    pub fn of_switch(
        switch: &SwitchSpec,
        default_port: u16,
        known_hosts: PathBuf,
        connect_timeout: Duration,
    ) -> Result<Target, SwitchError> {
        let (host, port) = switch
            .field("hostname")
            .and_then(|h| host_and_port(h, default_port))
            .ok_or_else(|| {
                SwitchError::new(
                    SwitchErrorKind::Rejected,
                    "the switch's hostname is not host or host:port",
                )
            })?;
        Ok(Target {
            host,
            port,
            username: switch.field("username").unwrap_or_default().to_string(),
            password: switch.field("password").unwrap_or_default().to_string(),
            known_hosts,
            connect_timeout,
        })
    }
}

pub(crate) struct HostKeyCheck {
    host: String,
    port: u16,
    known_hosts: PathBuf,
    /// Set when the key was refused, so the caller can say why.
    refusal: Arc<std::sync::Mutex<Option<String>>>,
}

impl client::Handler for HostKeyCheck {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = server_key else {
            *self.refusal.lock().unwrap() = Some("host certificates are not supported".into());
            return Ok(false);
        };
        match keys::check_known_hosts_path(&self.host, self.port, key, &self.known_hosts) {
            Ok(true) => Ok(true),
            Ok(false) => {
                if let Err(e) = keys::known_hosts::learn_known_hosts_path(
                    &self.host,
                    self.port,
                    key,
                    &self.known_hosts,
                ) {
                    tracing::warn!(host = %self.host, error = %e, "cannot record switch host key");
                }
                tracing::info!(host = %self.host, port = self.port, "pinned new switch host key");
                Ok(true)
            }
            Err(e) => {
                *self.refusal.lock().unwrap() = Some(format!(
                    "host key of {}:{} does not match {}: {e}",
                    self.host,
                    self.port,
                    self.known_hosts.display()
                ));
                Ok(false)
            }
        }
    }
}

/// Algorithms: russh's defaults first, then what old switch firmware needs.
fn preferred() -> Preferred {
    let base = Preferred::DEFAULT;
    let mut kex_names: Vec<kex::Name> = base.kex.to_vec();
    kex_names.extend([kex::DH_G14_SHA1, kex::DH_G1_SHA1]);
    let mut ciphers: Vec<cipher::Name> = base.cipher.to_vec();
    ciphers.extend([
        cipher::AES_256_CBC,
        cipher::AES_192_CBC,
        cipher::AES_128_CBC,
    ]);
    let mut macs: Vec<mac::Name> = base.mac.to_vec();
    macs.push(mac::HMAC_SHA1);
    let mut host_keys: Vec<Algorithm> = base.key.to_vec();
    let sha1_rsa = Algorithm::Rsa { hash: None };
    if !host_keys.contains(&sha1_rsa) {
        host_keys.push(sha1_rsa);
    }
    Preferred {
        kex: Cow::Owned(kex_names),
        cipher: Cow::Owned(ciphers),
        mac: Cow::Owned(macs),
        key: Cow::Owned(host_keys),
        ..base
    }
}

pub struct Shell {
    handle: Handle<HostKeyCheck>,
    channel: russh::Channel<client::Msg>,
    /// Received text not yet consumed by `read_until`.
    pending: String,
    closed: bool,
}

fn error(kind: SwitchErrorKind, message: String) -> SwitchError {
    SwitchError::new(kind, message)
}

/// Connects and logs in with the password: the part of an SSH session every switch transport
/// shares (the CLI shell here, NETCONF in `switch::netconf`).
pub(crate) async fn connect(target: &Target) -> Result<Handle<HostKeyCheck>, SwitchError> {
    let address = format!("{}:{}", target.host, target.port);
    let config = Arc::new(client::Config {
        preferred: preferred(),
        inactivity_timeout: None,
        ..Default::default()
    });
    let refusal = Arc::new(std::sync::Mutex::new(None));
    let check = HostKeyCheck {
        host: target.host.clone(),
        port: target.port,
        known_hosts: target.known_hosts.clone(),
        refusal: refusal.clone(),
    };
    let connected = tokio::time::timeout(
        target.connect_timeout,
        client::connect(config, address.as_str(), check),
    )
    .await
    .map_err(|_| {
        error(
            SwitchErrorKind::Timeout,
            format!("SSH connection to {address} timed out"),
        )
    })?;
    let mut handle = connected.map_err(|e| {
        if let Some(why) = refusal.lock().unwrap().take() {
            return error(SwitchErrorKind::Auth, why);
        }
        error(
            SwitchErrorKind::Unreachable,
            format!("cannot connect to {address}: {}", describe(&e)),
        )
    })?;
    let auth = tokio::time::timeout(
        target.connect_timeout,
        handle.authenticate_password(&target.username, &target.password),
    )
    .await
    .map_err(|_| {
        error(
            SwitchErrorKind::Timeout,
            format!("SSH login to {address} timed out"),
        )
    })?
    .map_err(|e| {
        error(
            SwitchErrorKind::Unreachable,
            format!("SSH login to {address}: {}", describe(&e)),
        )
    })?;
    if !auth.success() {
        return Err(error(
            SwitchErrorKind::Auth,
            format!(
                "{address} refused the login of user {:?} (wrong username or password)",
                target.username
            ),
        ));
    }
    Ok(handle)
}

impl Shell {
    /// Connects, logs in with the password and opens a shell with a wide PTY (so that long
    /// lines do not wrap into the prompt).
    pub async fn open(target: &Target) -> Result<Shell, SwitchError> {
        let address = format!("{}:{}", target.host, target.port);
        let handle = connect(target).await?;
        let channel = tokio::time::timeout(target.connect_timeout, async {
            let channel = handle.channel_open_session().await?;
            channel
                .request_pty(false, "vt100", 511, 1000, 0, 0, &[])
                .await?;
            channel.request_shell(false).await?;
            Ok::<_, russh::Error>(channel)
        })
        .await
        .map_err(|_| {
            error(
                SwitchErrorKind::Timeout,
                format!("opening a shell on {address} timed out"),
            )
        })?
        .map_err(|e| {
            error(
                SwitchErrorKind::Unreachable,
                format!("opening a shell on {address}: {}", describe(&e)),
            )
        })?;
        Ok(Shell {
            handle,
            channel,
            pending: String::new(),
            closed: false,
        })
    }

    /// Sends raw text (a line needs its own `\n`).
    pub async fn send(&mut self, text: &str) -> Result<(), SwitchError> {
        self.channel
            .data_bytes(text.as_bytes().to_vec())
            .await
            .map_err(|e| {
                error(
                    SwitchErrorKind::Unreachable,
                    format!("sending to the switch: {}", describe(&e)),
                )
            })
    }

    /// Reads until one of `patterns` matches the received text. Returns the pattern's index
    /// and everything received up to the end of the match; the rest stays pending.
    pub async fn read_until(
        &mut self,
        patterns: &[&Regex],
        timeout: Duration,
    ) -> Result<(usize, String), SwitchError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(found) = first_match(&self.pending, patterns) {
                let (index, end) = found;
                let text: String = self.pending.drain(..end).collect();
                return Ok((index, text));
            }
            if self.closed {
                return Err(error(
                    SwitchErrorKind::Unreachable,
                    format!("the switch closed the session{}", tail(&self.pending)),
                ));
            }
            if self.pending.len() > MAX_BUFFER {
                return Err(error(
                    SwitchErrorKind::Rejected,
                    "the switch printed too much output without a prompt".into(),
                ));
            }
            match tokio::time::timeout_at(deadline, self.channel.wait()).await {
                Err(_) => {
                    return Err(error(
                        SwitchErrorKind::Timeout,
                        format!("the switch did not answer in time{}", tail(&self.pending)),
                    ))
                }
                Ok(Some(ChannelMsg::Data { data }))
                | Ok(Some(ChannelMsg::ExtendedData { data, .. })) => {
                    self.pending.push_str(&clean(&data));
                }
                Ok(Some(ChannelMsg::Eof | ChannelMsg::Close)) | Ok(None) => self.closed = true,
                Ok(Some(ChannelMsg::ExitStatus { .. })) => self.closed = true,
                Ok(Some(_)) => {}
            }
        }
    }

    /// Ends the session without waiting for the switch to agree.
    pub async fn disconnect(self) {
        let _ = self.channel.close().await;
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

/// The earliest match among `patterns`: (pattern index, end offset).
fn first_match(text: &str, patterns: &[&Regex]) -> Option<(usize, usize)> {
    patterns
        .iter()
        .enumerate()
        .filter_map(|(i, re)| re.find(text).map(|m| (m.start(), i, m.end())))
        .min()
        .map(|(_, i, end)| (i, end))
}

/// Received bytes as text, without carriage returns and terminal escape sequences (some
/// switches draw the prompt with `ESC[K`, which broke HIL's prompt matching).
fn clean(data: &[u8]) -> String {
    static ESCAPES: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r"\x1b\[[0-9;?]*[A-Za-z]|\r|\x08").expect("static regex")
    });
    ESCAPES
        .replace_all(&String::from_utf8_lossy(data), "")
        .into_owned()
}

/// The last line the switch printed, to explain a failure.
fn tail(pending: &str) -> String {
    match pending.trim_end().lines().last() {
        Some(line) if !line.trim().is_empty() => format!(" (last output: {:?})", line.trim()),
        _ => String::new(),
    }
}

/// A russh error as an operator reads it: the underlying I/O reason when there is one.
pub(crate) fn describe(e: &russh::Error) -> String {
    match e {
        russh::Error::IO(io) => io.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning_drops_escapes_and_carriage_returns() {
        assert_eq!(clean(b"\x1b[Kconsole#\r\n"), "console#\n");
    }

    #[test]
    fn the_earliest_match_wins() {
        let a = Regex::new("#").unwrap();
        let b = Regex::new("Password:").unwrap();
        assert_eq!(first_match("Password: x#", &[&a, &b]), Some((1, 9)));
        assert_eq!(first_match("nothing", &[&a, &b]), None);
    }

    #[test]
    fn legacy_algorithms_are_offered_after_the_safe_ones() {
        let p = preferred();
        assert_eq!(p.cipher.first(), Preferred::DEFAULT.cipher.first());
        assert!(p.cipher.contains(&cipher::AES_128_CBC));
        assert!(p.cipher.contains(&cipher::AES_128_CTR));
        assert!(p.kex.contains(&kex::DH_G14_SHA1));
    }
}
