//! A typed async client for HIL's REST API "v0".
//!
//! Every API call is one method, named as the call is named in HIL's API reference
//! (`show_node`, `node_connect_network`, `port_revert`, ...). Requests and answers use the
//! wire types of [`hil_types`], the same definitions the server compiles against.
//!
//! ```no_run
//! use hil_client::{Client, NodeFilter};
//!
//! # async fn demo() -> Result<(), hil_client::Error> {
//! let hil = Client::new("http://127.0.0.1:5000")?.with_basic_auth("alice", "secret");
//! for node in hil.list_nodes(NodeFilter::Free).await? {
//!     println!("{node} is free");
//! }
//! hil.project_connect_node("physics", "node-07").await?;
//! let queued = hil
//!     .node_connect_network("node-07", "eth0", "physics-net", None)
//!     .await?;
//! let action = hil
//!     .wait_networking_action(&queued.status_id, std::time::Duration::from_secs(60))
//!     .await?;
//! println!("connect finished: {}", action.status.as_str());
//! # Ok(())
//! # }
//! ```
//!
//! Errors are [`Error`]; a refusal by the server is [`Error::Api`] and carries HIL's error
//! `type`, its `msg` and the HTTP status.

mod error;
pub mod keystone;
mod wait;

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

pub use error::{ApiError, Error};
pub use hil_types as types;
use hil_types::{
    AttachmentInfo, AuditLogEntry, BootDevice, DriftRecord, ErrorBody, HeadnodeCreate,
    HeadnodeInfo, NetworkCreate, NetworkInfo, NetworkListEntry, NetworkRef, NetworkingAction,
    NicRegister, NodeInfo, NodeRef, NodeRegister, ObmDetails, ObmEnable, ObmInfo, PortConnectNic,
    PortInfo, PowerCycle, ProjectRef, QueuedAction, StatusId, SwitchAuditInfo, SwitchInfo,
    UserCreate, UserInfo, UserSetAdmin, WhoAmI,
};

/// Which nodes `list_nodes` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeFilter {
    /// Nodes that belong to no project.
    Free,
    All,
}

impl NodeFilter {
    fn segment(self) -> &'static str {
        match self {
            NodeFilter::Free => "free",
            NodeFilter::All => "all",
        }
    }
}

/// What a request is authenticated with. `Debug` never shows the password or the token.
#[derive(Clone)]
enum Credentials {
    /// HTTP basic (HIL's database backend).
    Basic { username: String, password: String },
    /// A Keystone token in `X-Auth-Token`.
    Token(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Credentials::Token(_) => f.write_str("Token(<redacted>)"),
        }
    }
}

/// A connection to one HIL server. Cheap to clone; clones share the connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    /// The endpoint with `/v0` appended; every call's path goes below it.
    api_root: Url,
    credentials: Option<Credentials>,
}

/// One piece of a request path: a single label, or a port name whose `/`s separate segments
/// (HIL's port routes take the rest of the path as the port name).
enum Seg<'a> {
    One(&'a str),
    Port(&'a str),
}

/// What [`Client::audit_log`] looks for; every field narrows the search.
#[derive(Debug, Default, Clone)]
pub struct AuditLogQuery {
    /// Calls made by this user.
    pub user: Option<String>,
    /// Calls about one object, as `type/name`: `node/n1`, `network/net-a`, `project/p`.
    pub object: Option<String>,
    /// RFC 3339 times, or durations before now (`2h`, `7d`).
    pub since: Option<String>,
    pub until: Option<String>,
    /// At most this many entries (the server's default is 100, its maximum 1000).
    pub limit: Option<u32>,
}

/// Requests time out after this long unless [`Client::with_timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

impl Client {
    /// A client for the server at `endpoint` (`http://host:port`, optionally with a path
    /// prefix; a trailing `/v0` is accepted and not doubled).
    pub fn new(endpoint: &str) -> Result<Client, Error> {
        let invalid = |reason: &str| Error::InvalidEndpoint {
            endpoint: endpoint.to_string(),
            reason: reason.to_string(),
        };
        let mut url = Url::parse(endpoint).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if url.host().is_none() {
            return Err(invalid("there is no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                "credentials do not belong in the URL; use a username and password",
            ));
        }
        url.set_query(None);
        url.set_fragment(None);
        let path = url.path().trim_end_matches('/');
        let path = path.strip_suffix("/v0").unwrap_or(path).to_string();
        url.set_path(&format!("{path}/v0"));
        let http = http_client(DEFAULT_TIMEOUT).map_err(|e| invalid(&error::root_cause(&e)))?;
        Ok(Client {
            http,
            api_root: url,
            credentials: None,
        })
    }

    /// Sends HTTP basic credentials with every request.
    pub fn with_basic_auth(mut self, username: &str, password: &str) -> Client {
        self.credentials = Some(Credentials::Basic {
            username: username.to_string(),
            password: password.to_string(),
        });
        self
    }

    /// Sends a Keystone token (`X-Auth-Token`) with every request, for servers using the
    /// Keystone backend. [`keystone::Credentials::issue_token`] gets one.
    pub fn with_token(mut self, token: &str) -> Client {
        self.credentials = Some(Credentials::Token(token.to_string()));
        self
    }

    /// Per-request timeout (the default is [`DEFAULT_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Client {
        self.http = http_client(timeout).unwrap_or(self.http);
        self
    }

    /// The endpoint as given, without the `/v0` this client appends.
    pub fn endpoint(&self) -> String {
        let s = self.api_root.as_str();
        s.strip_suffix("/v0").unwrap_or(s).to_string()
    }

    fn url(&self, path: &[Seg<'_>]) -> Result<Url, Error> {
        let parts: Vec<&str> = path
            .iter()
            .flat_map(|seg| match seg {
                Seg::One(s) => vec![*s],
                Seg::Port(p) => p.split('/').collect(),
            })
            .collect();
        // URLs resolve "." and ".." (even percent-encoded), so such a label cannot be sent.
        if let Some(dots) = parts.iter().find(|p| matches!(**p, "." | "..")) {
            return Err(Error::InvalidArgument(format!(
                "{dots:?} cannot be used as a name in a URL"
            )));
        }
        let mut url = self.api_root.clone();
        url.path_segments_mut()
            .expect("http URLs always have a path")
            .extend(parts);
        Ok(url)
    }

    /// A request with this client's credentials.
    fn request(&self, method: Method, url: Url) -> reqwest::RequestBuilder {
        let req = self.http.request(method, url);
        match &self.credentials {
            Some(Credentials::Basic { username, password }) => {
                req.basic_auth(username, Some(password))
            }
            Some(Credentials::Token(token)) => req.header("X-Auth-Token", token),
            None => req,
        }
    }

    /// Sends a request; a non-success answer becomes [`Error::Api`].
    async fn execute(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, Error> {
        let resp = req.send().await.map_err(|e| Error::Unreachable {
            endpoint: self.endpoint(),
            reason: error::root_cause(&e),
        })?;
        if resp.status().is_success() {
            Ok(resp)
        } else {
            Err(Error::Api(api_error(resp).await))
        }
    }

    /// Sends a call and returns the raw body of a successful answer.
    async fn call_raw<B: Serialize>(
        &self,
        method: Method,
        url: Url,
        body: Option<&B>,
    ) -> Result<(StatusCode, bytes::Bytes), Error> {
        let mut req = self.request(method, url);
        if let Some(b) = body {
            let json = serde_json::to_vec(b).expect("wire types always serialize");
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(json);
        }
        let resp = self.execute(req).await?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| Error::Unreachable {
            endpoint: self.endpoint(),
            reason: error::root_cause(&e),
        })?;
        Ok((status, bytes))
    }

    /// A call whose success answer is JSON of type `T`.
    async fn call<T: DeserializeOwned, B: Serialize>(
        &self,
        method: Method,
        path: &[Seg<'_>],
        body: Option<&B>,
    ) -> Result<T, Error> {
        let (status, bytes) = self.call_raw(method, self.url(path)?, body).await?;
        decode(status, &bytes)
    }

    /// A call whose success answer carries nothing of interest.
    async fn call_empty<B: Serialize>(
        &self,
        method: Method,
        path: &[Seg<'_>],
        body: Option<&B>,
    ) -> Result<(), Error> {
        self.call_raw(method, self.url(path)?, body)
            .await
            .map(|_| ())
    }

    async fn get<T: DeserializeOwned>(&self, path: &[Seg<'_>]) -> Result<T, Error> {
        self.call(Method::GET, path, None::<&()>).await
    }

    /// A call without a body. HIL's own client sends none at all (not `{}`).
    async fn bare(&self, method: Method, path: &[Seg<'_>]) -> Result<(), Error> {
        self.call_empty(method, path, None::<&()>).await
    }
}

fn http_client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("hil-client/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// The JSON of a successful answer as `T`.
fn decode<T: DeserializeOwned>(status: StatusCode, bytes: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::InvalidResponse {
        status: status.as_u16(),
        reason: e.to_string(),
    })
}

/// Builds the error for a non-success answer: HIL's `{type, msg}` when the body is that,
/// else `unknown` with the body's first line (or the status text when the body is empty).
async fn api_error(resp: reqwest::Response) -> ApiError {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => ApiError {
            status: status.as_u16(),
            error_type: body.error_type,
            msg: body.msg,
        },
        Err(_) => {
            let first_line = text.lines().map(str::trim).find(|l| !l.is_empty());
            let msg = match first_line {
                Some(line) => line.chars().take(200).collect(),
                None => format!("HTTP {status}"),
            };
            ApiError {
                status: status.as_u16(),
                error_type: "unknown".into(),
                msg,
            }
        }
    }
}

use Seg::{One, Port};

/// Projects.
impl Client {
    pub async fn list_projects(&self) -> Result<Vec<String>, Error> {
        self.get(&[One("projects")]).await
    }

    pub async fn project_create(&self, project: &str) -> Result<(), Error> {
        self.bare(Method::PUT, &[One("project"), One(project)])
            .await
    }

    pub async fn project_delete(&self, project: &str) -> Result<(), Error> {
        self.bare(Method::DELETE, &[One("project"), One(project)])
            .await
    }

    pub async fn project_connect_node(&self, project: &str, node: &str) -> Result<(), Error> {
        let body = NodeRef { node: node.into() };
        let path = [One("project"), One(project), One("connect_node")];
        self.call_empty(Method::POST, &path, Some(&body)).await
    }

    pub async fn project_detach_node(&self, project: &str, node: &str) -> Result<(), Error> {
        let body = NodeRef { node: node.into() };
        let path = [One("project"), One(project), One("detach_node")];
        self.call_empty(Method::POST, &path, Some(&body)).await
    }

    /// The project's nodes, in the order they joined it.
    pub async fn list_project_nodes(&self, project: &str) -> Result<Vec<String>, Error> {
        self.get(&[One("project"), One(project), One("nodes")])
            .await
    }

    pub async fn list_project_networks(&self, project: &str) -> Result<Vec<String>, Error> {
        self.get(&[One("project"), One(project), One("networks")])
            .await
    }

    pub async fn list_project_headnodes(&self, project: &str) -> Result<Vec<String>, Error> {
        self.get(&[One("project"), One(project), One("headnodes")])
            .await
    }
}

/// Nodes, NICs and metadata.
impl Client {
    pub async fn node_register(&self, node: &str, body: &NodeRegister) -> Result<(), Error> {
        self.call_empty(Method::PUT, &[One("node"), One(node)], Some(body))
            .await
    }

    pub async fn node_delete(&self, node: &str) -> Result<(), Error> {
        self.bare(Method::DELETE, &[One("node"), One(node)]).await
    }

    pub async fn list_nodes(&self, filter: NodeFilter) -> Result<Vec<String>, Error> {
        self.get(&[One("nodes"), One(filter.segment())]).await
    }

    pub async fn show_node(&self, node: &str) -> Result<NodeInfo, Error> {
        self.get(&[One("node"), One(node)]).await
    }

    pub async fn node_register_nic(
        &self,
        node: &str,
        nic: &str,
        macaddr: &str,
    ) -> Result<(), Error> {
        let body = NicRegister {
            macaddr: macaddr.into(),
        };
        let path = [One("node"), One(node), One("nic"), One(nic)];
        self.call_empty(Method::PUT, &path, Some(&body)).await
    }

    pub async fn node_delete_nic(&self, node: &str, nic: &str) -> Result<(), Error> {
        self.bare(
            Method::DELETE,
            &[One("node"), One(node), One("nic"), One(nic)],
        )
        .await
    }

    /// Sets metadata `label` to any JSON value.
    pub async fn node_set_metadata(
        &self,
        node: &str,
        label: &str,
        value: serde_json::Value,
    ) -> Result<(), Error> {
        let body = hil_types::MetadataSet { value };
        let path = [One("node"), One(node), One("metadata"), One(label)];
        self.call_empty(Method::PUT, &path, Some(&body)).await
    }

    pub async fn node_delete_metadata(&self, node: &str, label: &str) -> Result<(), Error> {
        let path = [One("node"), One(node), One("metadata"), One(label)];
        self.bare(Method::DELETE, &path).await
    }
}

/// Out-of-band management. HIL answers the power, boot-device and console calls with a
/// redirect to the node's OBM service, which this client follows.
impl Client {
    pub async fn node_enable_disable_obm(&self, node: &str, enabled: bool) -> Result<(), Error> {
        let body = ObmEnable { enabled };
        let path = [One("node"), One(node), One("obm")];
        self.call_empty(Method::PUT, &path, Some(&body)).await
    }

    pub async fn node_power_cycle(&self, node: &str, force: bool) -> Result<(), Error> {
        let body = PowerCycle { force: Some(force) };
        let path = [One("node"), One(node), One("power_cycle")];
        self.call_empty(Method::POST, &path, Some(&body)).await
    }

    pub async fn node_power_on(&self, node: &str) -> Result<(), Error> {
        self.bare(Method::POST, &[One("node"), One(node), One("power_on")])
            .await
    }

    pub async fn node_power_off(&self, node: &str) -> Result<(), Error> {
        self.bare(Method::POST, &[One("node"), One(node), One("power_off")])
            .await
    }

    pub async fn node_set_bootdev(&self, node: &str, bootdev: &str) -> Result<(), Error> {
        let body = BootDevice {
            bootdev: bootdev.into(),
        };
        let path = [One("node"), One(node), One("boot_device")];
        self.call_empty(Method::PUT, &path, Some(&body)).await
    }

    /// Replaces how HIL reaches the node's BMC (administrators; the OBM must be disabled).
    pub async fn node_set_obm(&self, node: &str, details: &ObmDetails) -> Result<(), Error> {
        let path = [One("node"), One(node), One("obm_details")];
        self.call_empty(Method::PUT, &path, Some(details)).await
    }

    /// The node's OBM type, whether it is enabled, and its details without secrets
    /// (administrators).
    pub async fn show_obm(&self, node: &str) -> Result<ObmInfo, Error> {
        self.get(&[One("node"), One(node), One("obm_details")])
            .await
    }

    /// The BMC's answer: `{"power_status": "on"}` or `"off"` (obmd may say more).
    pub async fn node_power_status(&self, node: &str) -> Result<serde_json::Value, Error> {
        self.get(&[One("node"), One(node), One("power_status")])
            .await
    }

    /// Opens the node's serial console; read it with [`Console::chunk`].
    pub async fn show_console(&self, node: &str) -> Result<Console, Error> {
        let url = self.url(&[One("node"), One(node), One("console")])?;
        // The console streams for as long as the reader wants: no overall request timeout.
        let forever = Duration::from_secs(60 * 60 * 24 * 365);
        let resp = self
            .execute(self.request(Method::GET, url).timeout(forever))
            .await?;
        Ok(Console {
            resp,
            endpoint: self.endpoint(),
        })
    }
}

/// A streaming serial console.
pub struct Console {
    resp: reqwest::Response,
    endpoint: String,
}

impl Console {
    /// The next piece of console output; `None` when the stream ends.
    pub async fn chunk(&mut self) -> Result<Option<bytes::Bytes>, Error> {
        self.resp.chunk().await.map_err(|e| Error::Unreachable {
            endpoint: self.endpoint.clone(),
            reason: error::root_cause(&e),
        })
    }
}

/// Node networking and the networking-action queue.
impl Client {
    /// Queues attaching `nic` to `network`. `channel: None` lets the server pick the
    /// network's default channel (`vlan/native`).
    pub async fn node_connect_network(
        &self,
        node: &str,
        nic: &str,
        network: &str,
        channel: Option<&str>,
    ) -> Result<StatusId, Error> {
        let body = hil_types::ConnectNetwork {
            network: network.into(),
            channel: channel.map(str::to_string),
        };
        let path = [
            One("node"),
            One(node),
            One("nic"),
            One(nic),
            One("connect_network"),
        ];
        self.call(Method::POST, &path, Some(&body)).await
    }

    pub async fn node_detach_network(
        &self,
        node: &str,
        nic: &str,
        network: &str,
    ) -> Result<StatusId, Error> {
        let body = NetworkRef {
            network: network.into(),
        };
        let path = [
            One("node"),
            One(node),
            One("nic"),
            One(nic),
            One("detach_network"),
        ];
        self.call(Method::POST, &path, Some(&body)).await
    }

    pub async fn show_networking_action(&self, status_id: &str) -> Result<NetworkingAction, Error> {
        self.get(&[One("networking_action"), One(status_id)]).await
    }

    /// The networking queue, newest first (each nic's latest action): all of it
    /// (administrators), or the actions on one project's nodes (its members too).
    pub async fn list_networking_actions(
        &self,
        project: Option<&str>,
    ) -> Result<Vec<QueuedAction>, Error> {
        let mut url = self.url(&[One("networking_actions")])?;
        if let Some(p) = project {
            url.query_pairs_mut().append_pair("project", p);
        }
        let (status, bytes) = self.call_raw(Method::GET, url, None::<&()>).await?;
        decode(status, &bytes)
    }

    /// Who the credentials belong to, and the projects they may act for.
    pub async fn whoami(&self) -> Result<WhoAmI, Error> {
        self.get(&[One("whoami")]).await
    }
}

/// Networks.
impl Client {
    pub async fn network_create(&self, network: &str, body: &NetworkCreate) -> Result<(), Error> {
        self.call_empty(Method::PUT, &[One("network"), One(network)], Some(body))
            .await
    }

    pub async fn network_delete(&self, network: &str) -> Result<(), Error> {
        self.bare(Method::DELETE, &[One("network"), One(network)])
            .await
    }

    pub async fn show_network(&self, network: &str) -> Result<NetworkInfo, Error> {
        self.get(&[One("network"), One(network)]).await
    }

    /// Every network for an administrator; public networks for everyone else.
    pub async fn list_networks(&self) -> Result<BTreeMap<String, NetworkListEntry>, Error> {
        self.get(&[One("networks")]).await
    }

    /// Attachments by node label, optionally only those of `project`'s nodes.
    pub async fn list_network_attachments(
        &self,
        network: &str,
        project: Option<&str>,
    ) -> Result<BTreeMap<String, AttachmentInfo>, Error> {
        let mut url = self.url(&[One("network"), One(network), One("attachments")])?;
        if let Some(p) = project {
            url.query_pairs_mut().append_pair("project", p);
        }
        let (status, bytes) = self.call_raw(Method::GET, url, None::<&()>).await?;
        decode(status, &bytes)
    }

    pub async fn network_grant_project_access(
        &self,
        network: &str,
        project: &str,
    ) -> Result<(), Error> {
        let path = [One("network"), One(network), One("access"), One(project)];
        self.bare(Method::PUT, &path).await
    }

    pub async fn network_revoke_project_access(
        &self,
        network: &str,
        project: &str,
    ) -> Result<(), Error> {
        let path = [One("network"), One(network), One("access"), One(project)];
        self.bare(Method::DELETE, &path).await
    }
}

/// Switches and ports.
impl Client {
    /// Registers a switch. `body` holds `type` (the driver's URI) and the driver's members.
    pub async fn switch_register(
        &self,
        switch: &str,
        body: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), Error> {
        self.call_empty(Method::PUT, &[One("switch"), One(switch)], Some(body))
            .await
    }

    pub async fn switch_delete(&self, switch: &str) -> Result<(), Error> {
        self.bare(Method::DELETE, &[One("switch"), One(switch)])
            .await
    }

    pub async fn list_switches(&self) -> Result<Vec<String>, Error> {
        self.get(&[One("switches")]).await
    }

    pub async fn show_switch(&self, switch: &str) -> Result<SwitchInfo, Error> {
        self.get(&[One("switch"), One(switch)]).await
    }

    pub async fn switch_register_port(&self, switch: &str, port: &str) -> Result<(), Error> {
        self.bare(
            Method::PUT,
            &[One("switch"), One(switch), One("port"), Port(port)],
        )
        .await
    }

    pub async fn switch_delete_port(&self, switch: &str, port: &str) -> Result<(), Error> {
        let path = [One("switch"), One(switch), One("port"), Port(port)];
        self.bare(Method::DELETE, &path).await
    }

    /// The NIC cabled to the port and its networks; `None` when no NIC is cabled.
    pub async fn show_port(&self, switch: &str, port: &str) -> Result<Option<PortInfo>, Error> {
        let path = [One("switch"), One(switch), One("port"), Port(port)];
        let value: serde_json::Value = self.get(&path).await?;
        if value.as_object().is_some_and(|o| o.is_empty()) {
            return Ok(None);
        }
        serde_json::from_value(value)
            .map(Some)
            .map_err(|e| Error::InvalidResponse {
                status: 200,
                reason: e.to_string(),
            })
    }

    pub async fn port_connect_nic(
        &self,
        switch: &str,
        port: &str,
        node: &str,
        nic: &str,
    ) -> Result<(), Error> {
        let body = PortConnectNic {
            node: node.into(),
            nic: nic.into(),
        };
        let path = [
            One("switch"),
            One(switch),
            One("port"),
            Port(port),
            One("connect_nic"),
        ];
        self.call_empty(Method::POST, &path, Some(&body)).await
    }

    pub async fn port_detach_nic(&self, switch: &str, port: &str) -> Result<(), Error> {
        let path = [
            One("switch"),
            One(switch),
            One("port"),
            Port(port),
            One("detach_nic"),
        ];
        self.bare(Method::POST, &path).await
    }

    /// Queues removing every network from the port.
    pub async fn port_revert(&self, switch: &str, port: &str) -> Result<StatusId, Error> {
        let path = [
            One("switch"),
            One(switch),
            One("port"),
            Port(port),
            One("revert"),
        ];
        self.call(Method::POST, &path, None::<&()>).await
    }
}

/// Drift audits (extensions; administrators).
impl Client {
    /// Asks for an audit of a switch now; poll [`Client::show_audit`] for its end.
    pub async fn request_audit(&self, switch: &str) -> Result<SwitchAuditInfo, Error> {
        let path = [One("switch"), One(switch), One("audit")];
        self.call(Method::POST, &path, None::<&()>).await
    }

    pub async fn show_audit(&self, switch: &str) -> Result<SwitchAuditInfo, Error> {
        self.get(&[One("switch"), One(switch), One("audit")]).await
    }

    /// Every switch's audit state.
    pub async fn list_audits(&self) -> Result<Vec<SwitchAuditInfo>, Error> {
        self.get(&[One("audits")]).await
    }

    /// The audit log (administrators): state-changing calls, newest first.
    pub async fn audit_log(&self, query: &AuditLogQuery) -> Result<Vec<AuditLogEntry>, Error> {
        let mut url = self.url(&[One("audit_log")])?;
        {
            let mut pairs = url.query_pairs_mut();
            let limit = query.limit.map(|n| n.to_string());
            for (key, value) in [
                ("user", query.user.as_deref()),
                ("object", query.object.as_deref()),
                ("since", query.since.as_deref()),
                ("until", query.until.as_deref()),
                ("limit", limit.as_deref()),
            ] {
                if let Some(value) = value {
                    pairs.append_pair(key, value);
                }
            }
        }
        let (status, bytes) = self.call_raw(Method::GET, url, None::<&()>).await?;
        decode(status, &bytes)
    }

    /// Drift, newest first: what lasts, or with `include_repaired` also what was repaired;
    /// of one switch or of all.
    pub async fn list_drift(
        &self,
        switch: Option<&str>,
        include_repaired: bool,
    ) -> Result<Vec<DriftRecord>, Error> {
        let mut path = match switch {
            Some(s) => vec![One("switch"), One(s), One("drift")],
            None => vec![One("drift")],
        };
        if include_repaired {
            path.push(One("all"));
        }
        self.get(&path).await
    }
}

/// Headnodes.
impl Client {
    pub async fn headnode_create(
        &self,
        headnode: &str,
        project: &str,
        base_img: &str,
    ) -> Result<(), Error> {
        let body = HeadnodeCreate {
            project: project.into(),
            base_img: base_img.into(),
        };
        self.call_empty(Method::PUT, &[One("headnode"), One(headnode)], Some(&body))
            .await
    }

    pub async fn headnode_delete(&self, headnode: &str) -> Result<(), Error> {
        self.bare(Method::DELETE, &[One("headnode"), One(headnode)])
            .await
    }

    pub async fn headnode_start(&self, headnode: &str) -> Result<(), Error> {
        self.bare(
            Method::POST,
            &[One("headnode"), One(headnode), One("start")],
        )
        .await
    }

    pub async fn headnode_stop(&self, headnode: &str) -> Result<(), Error> {
        self.bare(Method::POST, &[One("headnode"), One(headnode), One("stop")])
            .await
    }

    pub async fn headnode_create_hnic(&self, headnode: &str, hnic: &str) -> Result<(), Error> {
        let path = [One("headnode"), One(headnode), One("hnic"), One(hnic)];
        self.bare(Method::PUT, &path).await
    }

    pub async fn headnode_delete_hnic(&self, headnode: &str, hnic: &str) -> Result<(), Error> {
        let path = [One("headnode"), One(headnode), One("hnic"), One(hnic)];
        self.bare(Method::DELETE, &path).await
    }

    pub async fn headnode_connect_network(
        &self,
        headnode: &str,
        hnic: &str,
        network: &str,
    ) -> Result<(), Error> {
        let body = NetworkRef {
            network: network.into(),
        };
        let path = [
            One("headnode"),
            One(headnode),
            One("hnic"),
            One(hnic),
            One("connect_network"),
        ];
        self.call_empty(Method::POST, &path, Some(&body)).await
    }

    pub async fn headnode_detach_network(&self, headnode: &str, hnic: &str) -> Result<(), Error> {
        let path = [
            One("headnode"),
            One(headnode),
            One("hnic"),
            One(hnic),
            One("detach_network"),
        ];
        self.bare(Method::POST, &path).await
    }

    pub async fn show_headnode(&self, headnode: &str) -> Result<HeadnodeInfo, Error> {
        self.get(&[One("headnode"), One(headnode)]).await
    }

    pub async fn list_headnode_images(&self) -> Result<Vec<String>, Error> {
        self.get(&[One("headnode_images"), One("")]).await
    }
}

/// Extensions and users (users exist only with the database auth backend).
impl Client {
    pub async fn list_active_extensions(&self) -> Result<Vec<String>, Error> {
        self.get(&[One("active_extensions")]).await
    }

    pub async fn list_users(&self) -> Result<BTreeMap<String, UserInfo>, Error> {
        self.get(&[One("auth"), One("basic"), One("users")]).await
    }

    pub async fn user_create(
        &self,
        user: &str,
        password: &str,
        is_admin: bool,
    ) -> Result<(), Error> {
        let body = UserCreate {
            password: password.into(),
            is_admin: Some(is_admin),
        };
        let path = [One("auth"), One("basic"), One("user"), One(user)];
        self.call_empty(Method::PUT, &path, Some(&body)).await
    }

    pub async fn user_delete(&self, user: &str) -> Result<(), Error> {
        let path = [One("auth"), One("basic"), One("user"), One(user)];
        self.bare(Method::DELETE, &path).await
    }

    pub async fn user_add_project(&self, user: &str, project: &str) -> Result<(), Error> {
        self.user_project(user, project, "add_project").await
    }

    pub async fn user_remove_project(&self, user: &str, project: &str) -> Result<(), Error> {
        self.user_project(user, project, "remove_project").await
    }

    async fn user_project(&self, user: &str, project: &str, action: &str) -> Result<(), Error> {
        let body = ProjectRef {
            project: project.into(),
        };
        let path = [
            One("auth"),
            One("basic"),
            One("user"),
            One(user),
            One(action),
        ];
        self.call_empty(Method::POST, &path, Some(&body)).await
    }

    pub async fn user_set_admin(&self, user: &str, is_admin: bool) -> Result<(), Error> {
        let body = UserSetAdmin { is_admin };
        let path = [One("auth"), One("basic"), One("user"), One(user)];
        self.call_empty(Method::PATCH, &path, Some(&body)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url_of(endpoint: &str, path: &[Seg<'_>]) -> String {
        Client::new(endpoint)
            .unwrap()
            .url(path)
            .unwrap()
            .to_string()
    }

    #[test]
    fn endpoints_gain_exactly_one_v0() {
        for e in [
            "http://h:5000",
            "http://h:5000/",
            "http://h:5000/v0",
            "http://h:5000/v0/",
        ] {
            assert_eq!(
                url_of(e, &[One("nodes"), One("free")]),
                "http://h:5000/v0/nodes/free"
            );
        }
        assert_eq!(
            url_of("https://h/hil/", &[One("projects")]),
            "https://h/hil/v0/projects"
        );
    }

    #[test]
    fn labels_are_one_segment_and_ports_keep_their_slashes() {
        assert_eq!(
            url_of("http://h", &[One("node"), One("a b/c?d#e%")]),
            "http://h/v0/node/a%20b%2Fc%3Fd%23e%25"
        );
        assert_eq!(
            url_of(
                "http://h",
                &[One("switch"), One("s"), One("port"), Port("gi1/0/4")]
            ),
            "http://h/v0/switch/s/port/gi1/0/4"
        );
    }

    #[test]
    fn dot_segments_are_refused_not_resolved() {
        let c = Client::new("http://h").unwrap();
        for label in [".", ".."] {
            assert!(matches!(
                c.url(&[One("node"), One(label)]),
                Err(Error::InvalidArgument(_))
            ));
            let port = format!("gi1/{label}/2");
            assert!(c.url(&[One("port"), Port(&port)]).is_err());
        }
        assert!(c.url(&[One("node"), One("...")]).is_ok());
    }

    #[test]
    fn bad_endpoints_are_refused() {
        for e in ["", "h:5000", "ftp://h", "http://u:p@h", "not a url"] {
            assert!(
                matches!(Client::new(e), Err(Error::InvalidEndpoint { .. })),
                "{e}"
            );
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let c = Client::new("http://h")
            .unwrap()
            .with_basic_auth("u", "hunter2");
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
