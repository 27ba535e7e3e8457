//! NETCONF 1.0 (RFC 6241) over the SSH `netconf` subsystem (RFC 6242), for switches managed
//! through configuration datastores rather than a CLI (`junos`).
//!
//! Messages use the 1.0 end-of-message framing: each message is followed by `]]>]]>`. HIL's
//! hello offers only base:1.0, so a server that also speaks 1.1 keeps to that framing. Every
//! request is an `<rpc>` with its own message-id; a reply with an `<rpc-error>` of severity
//! `error` fails the request (Rejected) with the switch's own `error-message`. Warnings are
//! logged and the request counts as done.
//!
//! The SSH part (algorithms, host-key pinning, password login) is the CLI drivers'.

pub mod junos;

use std::time::Duration;

use russh::client::{self, Handle};
use russh::ChannelMsg;

use crate::switch::cli::ssh::{connect, describe, HostKeyCheck, Target};
use crate::switch::{SwitchError, SwitchErrorKind};

/// The namespace of NETCONF's own elements.
pub const BASE_NS: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";
/// The end-of-message marker of NETCONF 1.0 framing.
const DELIMITER: &[u8] = b"]]>]]>";
/// A reply larger than this is refused (a whole configuration of a big switch is a few MiB).
const MAX_MESSAGE: usize = 16 << 20;

/// One NETCONF session on one switch.
pub struct Netconf {
    handle: Handle<HostKeyCheck>,
    channel: russh::Channel<client::Msg>,
    /// Received bytes not yet taken as a message.
    pending: Vec<u8>,
    next_id: u64,
    timeout: Duration,
    /// The switch closed the channel.
    closed: bool,
    /// A request went unanswered or the stream lost its framing: a late reply could be taken
    /// for the answer to the next request, so nothing more is sent.
    broken: bool,
    /// What the switch's hello offered.
    pub capabilities: Vec<String>,
}

fn error(kind: SwitchErrorKind, message: impl Into<String>) -> SwitchError {
    SwitchError::new(kind, message)
}

impl Netconf {
    /// Connects, logs in, starts the `netconf` subsystem and exchanges hellos. `timeout` limits
    /// every later wait for a reply.
    pub async fn open(target: &Target, timeout: Duration) -> Result<Netconf, SwitchError> {
        let address = format!("{}:{}", target.host, target.port);
        let handle = connect(target).await?;
        let channel = tokio::time::timeout(target.connect_timeout, async {
            let channel = handle.channel_open_session().await?;
            channel.request_subsystem(true, "netconf").await?;
            Ok::<_, russh::Error>(channel)
        })
        .await
        .map_err(|_| {
            error(
                SwitchErrorKind::Timeout,
                format!("opening a NETCONF channel on {address} timed out"),
            )
        })?
        .map_err(|e| {
            error(
                SwitchErrorKind::Unreachable,
                format!("opening a NETCONF channel on {address}: {}", describe(&e)),
            )
        })?;
        let mut session = Netconf {
            handle,
            channel,
            pending: Vec::new(),
            next_id: 1,
            timeout,
            closed: false,
            broken: false,
            capabilities: Vec::new(),
        };
        session.await_subsystem(&address).await?;
        let hello = session.read_message("its hello").await?;
        session.capabilities = parse_hello(&hello)?;
        let hello = format!(
            "<hello xmlns=\"{BASE_NS}\"><capabilities>\
             <capability>urn:ietf:params:netconf:base:1.0</capability>\
             </capabilities></hello>"
        );
        session.send(&hello).await?;
        Ok(session)
    }

    /// Waits for the switch to accept the subsystem request. The server may start with its
    /// hello before it confirms, so data received meanwhile is kept.
    async fn await_subsystem(&mut self, address: &str) -> Result<(), SwitchError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.channel.wait()).await {
                Err(_) => {
                    return Err(error(
                        SwitchErrorKind::Timeout,
                        format!("{address} did not answer the NETCONF subsystem request in time"),
                    ))
                }
                Ok(Some(ChannelMsg::Success)) => return Ok(()),
                Ok(Some(ChannelMsg::Failure)) => {
                    return Err(error(
                        SwitchErrorKind::Rejected,
                        format!(
                            "{address} refused the SSH subsystem \"netconf\" \
                             (is NETCONF over SSH enabled on the switch?)"
                        ),
                    ))
                }
                Ok(Some(ChannelMsg::Data { data })) => self.pending.extend_from_slice(&data),
                Ok(Some(ChannelMsg::Eof | ChannelMsg::Close)) | Ok(None) => {
                    return Err(error(
                        SwitchErrorKind::Unreachable,
                        format!("{address} closed the channel instead of starting NETCONF"),
                    ))
                }
                Ok(Some(_)) => {}
            }
        }
    }

    /// Sends one message with its end-of-message marker.
    async fn send(&mut self, message: &str) -> Result<(), SwitchError> {
        let mut bytes = Vec::with_capacity(message.len() + DELIMITER.len());
        bytes.extend_from_slice(message.as_bytes());
        bytes.extend_from_slice(DELIMITER);
        self.channel.data_bytes(bytes).await.map_err(|e| {
            self.broken = true;
            error(
                SwitchErrorKind::Unreachable,
                format!("sending to the switch: {}", describe(&e)),
            )
        })
    }

    /// Reads the next whole message. `what` names what is awaited, for errors.
    async fn read_message(&mut self, what: &str) -> Result<String, SwitchError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            if let Some(message) = take_message(&mut self.pending) {
                return String::from_utf8(message).map_err(|_| {
                    self.broken = true;
                    error(
                        SwitchErrorKind::Rejected,
                        format!("the switch answered {what} with text that is not UTF-8"),
                    )
                });
            }
            if self.closed {
                self.broken = true;
                return Err(error(
                    SwitchErrorKind::Unreachable,
                    format!("the switch closed the NETCONF session before sending {what}"),
                ));
            }
            if self.pending.len() > MAX_MESSAGE {
                self.broken = true;
                return Err(error(
                    SwitchErrorKind::Rejected,
                    format!("the switch's answer to {what} is larger than {MAX_MESSAGE} bytes"),
                ));
            }
            match tokio::time::timeout_at(deadline, self.channel.wait()).await {
                Err(_) => {
                    self.broken = true;
                    return Err(error(
                        SwitchErrorKind::Timeout,
                        format!(
                            "the switch did not send {what} within {} s",
                            self.timeout.as_secs_f64()
                        ),
                    ));
                }
                Ok(Some(ChannelMsg::Data { data })) => self.pending.extend_from_slice(&data),
                Ok(Some(ChannelMsg::Eof | ChannelMsg::Close)) | Ok(None) => self.closed = true,
                Ok(Some(_)) => {}
            }
        }
    }

    /// Sends `<rpc>` around `body` and returns the reply. `what` names the operation for
    /// errors (e.g. "the commit"). An `<rpc-error>` of severity error fails it (Rejected).
    pub async fn rpc(&mut self, what: &str, body: &str) -> Result<String, SwitchError> {
        if self.broken {
            return Err(error(
                SwitchErrorKind::Unreachable,
                "the NETCONF session is no longer usable after an earlier failure",
            ));
        }
        let id = self.next_id;
        self.next_id += 1;
        tracing::debug!(%id, what, "NETCONF request");
        self.send(&format!(
            "<rpc message-id=\"{id}\" xmlns=\"{BASE_NS}\">{body}</rpc>"
        ))
        .await?;
        let reply = self.read_message(&format!("its answer to {what}")).await?;
        match check_reply(&reply, &id.to_string(), what) {
            Ok(warnings) => {
                for w in warnings {
                    tracing::warn!(what, warning = %w, "the switch warned");
                }
                Ok(reply)
            }
            Err(Refusal::Refused(message)) => Err(error(SwitchErrorKind::Rejected, message)),
            Err(Refusal::Garbled(message)) => {
                self.broken = true;
                Err(error(SwitchErrorKind::Rejected, message))
            }
        }
    }

    /// True when no more requests can be sent (see `broken`).
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Ends the session politely (`close-session`) when it is still in order, then
    /// disconnects.
    pub async fn close(mut self) {
        if !self.broken && !self.closed {
            let _ = self.rpc("close-session", "<close-session/>").await;
        }
        let _ = self.channel.close().await;
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

/// Takes the first complete message (without its marker) off the front of `pending`.
fn take_message(pending: &mut Vec<u8>) -> Option<Vec<u8>> {
    let at = pending
        .windows(DELIMITER.len())
        .position(|w| w == DELIMITER)?;
    let message = pending[..at].to_vec();
    pending.drain(..at + DELIMITER.len());
    Some(message)
}

/// Parses a message as XML. Leading whitespace (left over after the previous marker) is
/// dropped so that an XML declaration may open the message.
pub fn parse(text: &str) -> Result<roxmltree::Document<'_>, String> {
    roxmltree::Document::parse(text.trim()).map_err(|e| e.to_string())
}

/// The capabilities of the switch's hello. Fails unless it speaks base:1.0.
pub fn parse_hello(text: &str) -> Result<Vec<String>, SwitchError> {
    let doc = parse(text).map_err(|e| {
        error(
            SwitchErrorKind::Rejected,
            format!("the switch's NETCONF hello is not XML: {e}"),
        )
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "hello" {
        return Err(error(
            SwitchErrorKind::Rejected,
            format!(
                "the switch opened NETCONF with <{}>, not <hello>",
                root.tag_name().name()
            ),
        ));
    }
    let capabilities: Vec<String> = root
        .descendants()
        .filter(|n| n.tag_name().name() == "capability")
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_string())
        .collect();
    let base = capabilities.iter().any(|c| {
        c == "urn:ietf:params:netconf:base:1.0" || c == "urn:ietf:params:xml:ns:netconf:base:1.0"
    });
    if !base {
        return Err(error(
            SwitchErrorKind::Rejected,
            format!(
                "the switch's NETCONF server does not offer base:1.0 (it offers {capabilities:?})"
            ),
        ));
    }
    Ok(capabilities)
}

/// Why a reply does not count as done.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The switch said no: its `<rpc-error>` messages.
    Refused(String),
    /// Not a reply to this request at all.
    Garbled(String),
}

/// Checks a reply to request `message_id`: returns its warnings, or why it failed.
pub fn check_reply(text: &str, message_id: &str, what: &str) -> Result<Vec<String>, Refusal> {
    let doc = parse(text)
        .map_err(|e| Refusal::Garbled(format!("the switch's answer to {what} is not XML: {e}")))?;
    let root = doc.root_element();
    if root.tag_name().name() != "rpc-reply" {
        return Err(Refusal::Garbled(format!(
            "the switch answered {what} with <{}>, not <rpc-reply>",
            root.tag_name().name()
        )));
    }
    if let Some(id) = root.attribute("message-id") {
        if id != message_id {
            return Err(Refusal::Garbled(format!(
                "the switch answered message {id} while HIL waited for message {message_id} ({what})"
            )));
        }
    }
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    for e in root
        .descendants()
        .filter(|n| n.tag_name().name() == "rpc-error")
    {
        let child = |name: &str| {
            e.descendants()
                .find(|n| n.tag_name().name() == name)
                .and_then(|n| n.text())
                .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|t| !t.is_empty())
        };
        let mut message = child("error-message")
            .or_else(|| child("error-tag"))
            .unwrap_or_else(|| "an error without a message".into());
        let mut context = Vec::new();
        if let Some(path) = child("error-path") {
            context.push(format!("at {path}"));
        }
        if let Some(bad) = child("bad-element") {
            context.push(format!("bad element {bad}"));
        }
        if !context.is_empty() {
            message = format!("{message} ({})", context.join(", "));
        }
        match child("error-severity").as_deref() {
            Some("warning") => warnings.push(message),
            _ => errors.push(message),
        }
    }
    if errors.is_empty() {
        Ok(warnings)
    } else {
        Err(Refusal::Refused(format!(
            "the switch refused {what}: {}",
            errors.join("; ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_cut_at_the_marker() {
        let mut pending = b"<a/>]]>]]>\n<b/>]]>]]><c".to_vec();
        assert_eq!(take_message(&mut pending).unwrap(), b"<a/>");
        assert_eq!(take_message(&mut pending).unwrap(), b"\n<b/>");
        assert_eq!(take_message(&mut pending), None);
        assert_eq!(pending, b"<c");
    }

    #[test]
    fn hellos_must_offer_base_1_0() {
        let junos = "\n<!-- No zombies were killed -->\n<hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\">\
            <capabilities><capability>urn:ietf:params:netconf:base:1.0</capability>\
            <capability>urn:ietf:params:netconf:capability:candidate:1.0</capability>\
            </capabilities><session-id>7</session-id></hello>";
        let caps = parse_hello(junos).unwrap();
        assert_eq!(caps.len(), 2);
        // fake-switches writes the namespace as the capability, and no namespace at all
        let fake = "<hello><capabilities><capability>urn:ietf:params:xml:ns:netconf:base:1.0\
                    </capability></capabilities></hello>";
        assert!(parse_hello(fake).is_ok());
        let only_1_1 = "<hello><capabilities><capability>urn:ietf:params:netconf:base:1.1\
                        </capability></capabilities></hello>";
        assert_eq!(
            parse_hello(only_1_1).unwrap_err().kind,
            SwitchErrorKind::Rejected
        );
        assert!(parse_hello("<rpc-reply/>").is_err());
        assert!(parse_hello("not xml").is_err());
    }

    #[test]
    fn replies_are_ok_or_carry_the_switch_words() {
        let ok = "<rpc-reply xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\" \
                  message-id=\"3\"><ok/></rpc-reply>";
        assert_eq!(check_reply(ok, "3", "the commit"), Ok(vec![]));
        assert!(matches!(
            check_reply(ok, "4", "the commit"),
            Err(Refusal::Garbled(_))
        ));
        assert!(matches!(
            check_reply("<hello/>", "3", "x"),
            Err(Refusal::Garbled(_))
        ));
        // Junos wraps commit errors in <commit-results>, with multi-line messages
        let refused = "<rpc-reply message-id=\"5\"><commit-results><rpc-error>\
            <error-message>\nFor trunk interface, please ensure either vlan members is configured\n\
            </error-message><error-path>\n[edit interfaces ge-0/0/1 unit 0 family]\n</error-path>\
            <error-severity>error</error-severity><error-info><bad-element>ethernet-switching\
            </bad-element></error-info></rpc-error><rpc-error><error-message>configuration \
            check-out failed</error-message></rpc-error></commit-results></rpc-reply>";
        assert_eq!(
            check_reply(refused, "5", "the commit"),
            Err(Refusal::Refused(
                "the switch refused the commit: For trunk interface, please ensure either vlan \
                 members is configured (at [edit interfaces ge-0/0/1 unit 0 family], bad element \
                 ethernet-switching); configuration check-out failed"
                    .into()
            ))
        );
        let warned = "<rpc-reply message-id=\"6\"><rpc-error><error-severity>warning\
            </error-severity><error-message>statement not found</error-message></rpc-error>\
            <ok/></rpc-reply>";
        assert_eq!(
            check_reply(warned, "6", "x"),
            Ok(vec!["statement not found".to_string()])
        );
    }
}
