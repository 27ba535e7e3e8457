//! One typed configuration. Every field has a default, so `hil-admin serve` runs a working
//! development instance with no file at all. A TOML file (`--config`, `HIL_CONFIG`, or
//! `./hil.toml`) overrides the defaults, and `HIL_<SECTION>__<KEY>` environment variables
//! override the file (e.g. `HIL_DATABASE__URL`, `HIL_ALLOCATOR__VLANS`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use hil_drivers::obm::ObmOptions;
use hil_drivers::DriverOptions;
use serde::{Deserialize, Serialize};

/// The sample configuration printed by `hil-admin default-config`.
pub const SAMPLE: &str = include_str!("../hil.sample.toml");

#[derive(Clone, Serialize, Deserialize, Debug)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the API listens on.
    pub listen: String,
    /// Where the embedded SQLite database and the mock switches' state live.
    pub data_dir: PathBuf,
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub allocator: AllocatorConfig,
    pub worker: WorkerConfig,
    pub audit: AuditConfig,
    pub switches: SwitchesConfig,
    pub obm: ObmConfig,
    pub release: ReleaseConfig,
    pub headnode: HeadnodeConfig,
    pub maintenance: MaintenanceConfig,
    pub limits: LimitsConfig,
    pub audit_log: AuditLogConfig,
    pub metrics: MetricsConfig,
    /// Log filter, in `tracing` env-filter syntax (`info`, `hil_server=debug`, ...).
    pub log: String,
    /// `text` (human-readable lines) or `json` (one JSON object per line, for log shippers).
    pub log_format: LogFormat,
}

/// The record of state-changing calls.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditLogConfig {
    /// Entries older than this many days are deleted (hourly); 0 keeps them for ever.
    pub retention_days: u32,
}

impl Default for AuditLogConfig {
    fn default() -> Self {
        AuditLogConfig {
            retention_days: 365,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:5000".into(),
            data_dir: PathBuf::from("hil-data"),
            database: DatabaseConfig::default(),
            auth: AuthConfig::default(),
            allocator: AllocatorConfig::default(),
            worker: WorkerConfig::default(),
            audit: AuditConfig::default(),
            switches: SwitchesConfig::default(),
            obm: ObmConfig::default(),
            release: ReleaseConfig::default(),
            headnode: HeadnodeConfig::default(),
            maintenance: MaintenanceConfig::default(),
            limits: LimitsConfig::default(),
            audit_log: AuditLogConfig::default(),
            metrics: MetricsConfig::default(),
            log: "info".into(),
            log_format: LogFormat::Text,
        }
    }
}

#[derive(Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path` or `postgresql://user:pw@host/db`. Empty: `<data_dir>/hil.db`.
    pub url: Option<String>,
    /// Largest number of pooled connections (0: a default per backend).
    pub max_connections: u32,
    /// Apply pending migrations when `serve` starts.
    pub auto_migrate: Option<bool>,
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &self.url.as_deref().map(redact_url_password))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// `postgresql://u:secret@h/db` → `postgresql://u:***@h/db`, for logs.
pub fn redact_url_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AuthBackend {
    /// Users in HIL's database, HTTP Basic (`hil.ext.auth.database`).
    Database,
    /// Everyone is an administrator. Development only (`hil.ext.auth.null`).
    Null,
    /// OpenStack Keystone tokens in `X-Auth-Token` (`hil.ext.auth.keystone`).
    Keystone,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    pub backend: AuthBackend,
    /// When false, a failed authentication proceeds as an anonymous caller (HIL's option).
    pub require_authentication: bool,
    /// How long a verified password stays cached, in seconds (0 disables the cache).
    pub cache_ttl_secs: u64,
    /// How long a rejected password is remembered, so that repeating it costs no hash.
    pub rejected_cache_secs: u64,
    /// Password hashes computed at once (each takes ~19 MiB and a CPU for tens of ms); further
    /// logins wait. 0: one per CPU, at most 4.
    pub password_checks: usize,
    /// Failed logins allowed per user name within the window before further attempts get 429
    /// (0: no limit). A password already verified keeps working.
    pub max_failed_logins_per_user: u32,
    /// The same per client address (0: no limit).
    pub max_failed_logins_per_address: u32,
    pub failed_login_window_secs: u64,
    /// Reverse proxies in front of the server (exact addresses). For a request from one of
    /// them, the client is the last address in `X-Forwarded-For` that is not a proxy;
    /// from anyone else the header is ignored, so clients cannot pick their own address.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Name of the administrator created when the user table is empty.
    pub bootstrap_admin: String,
    /// Password of that administrator. Empty: `HIL_ADMIN_PASSWORD`, else generated and printed.
    pub bootstrap_password: Option<String>,
    /// The Keystone backend's settings (`[auth.keystone]`).
    pub keystone: KeystoneConfig,
}

/// Which HIL project a Keystone project is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectMatch {
    /// HIL's rule: the HIL project's name is the Keystone project's id.
    Id,
    /// The HIL project's name is the Keystone project's name (unique within its domain).
    Name,
}

/// Keystone: where it is, HIL's service account there (which validates callers' tokens), and
/// how validated tokens are cached.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeystoneConfig {
    /// Keystone's v3 endpoint, e.g. `https://keystone.example:5000/v3`.
    pub auth_url: String,
    pub username: String,
    pub password: String,
    pub project_name: String,
    pub user_domain_name: String,
    pub project_domain_name: String,
    /// The role that makes a caller a HIL administrator (in whatever project the token is for).
    pub admin_role: String,
    pub project_match: ProjectMatch,
    /// A validated token is asked about again after this long, so a revoked token stops
    /// working within it (seconds; 0: every request asks Keystone).
    pub revalidate_secs: u64,
    /// Tokens remembered at most.
    pub cache_capacity: usize,
    /// Limit for one request to Keystone (seconds).
    pub timeout_secs: f64,
}

impl Default for KeystoneConfig {
    fn default() -> Self {
        KeystoneConfig {
            auth_url: String::new(),
            username: String::new(),
            password: String::new(),
            project_name: "service".into(),
            user_domain_name: "Default".into(),
            project_domain_name: "Default".into(),
            admin_role: "admin".into(),
            project_match: ProjectMatch::Id,
            revalidate_secs: 60,
            cache_capacity: 10_000,
            timeout_secs: 5.0,
        }
    }
}

impl fmt::Debug for KeystoneConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeystoneConfig")
            .field("auth_url", &self.auth_url)
            .field("username", &self.username)
            .field("project_name", &self.project_name)
            .finish_non_exhaustive()
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            backend: AuthBackend::Database,
            require_authentication: true,
            cache_ttl_secs: 300,
            rejected_cache_secs: 60,
            password_checks: 0,
            max_failed_logins_per_user: 10,
            max_failed_logins_per_address: 100,
            failed_login_window_secs: 60,
            trusted_proxies: Vec::new(),
            bootstrap_admin: "admin".into(),
            bootstrap_password: None,
            keystone: KeystoneConfig::default(),
        }
    }
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("backend", &self.backend)
            .field("require_authentication", &self.require_authentication)
            .field("cache_ttl_secs", &self.cache_ttl_secs)
            .field("bootstrap_admin", &self.bootstrap_admin)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AllocatorBackend {
    /// 802.1q VLANs from configured ranges (`hil.ext.network_allocators.vlan_pool`).
    VlanPool,
    /// UUIDs, channel `null`. Development only (`hil.ext.network_allocators.null`).
    Null,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AllocatorConfig {
    pub backend: AllocatorBackend,
    /// VLAN ranges of the pool, HIL syntax: `"100-200, 300"`.
    pub vlans: String,
}

impl Default for AllocatorConfig {
    fn default() -> Self {
        AllocatorConfig {
            backend: AllocatorBackend::VlanPool,
            vlans: "1001-2000".into(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerConfig {
    /// Whether `hil-admin serve` runs the networking worker in the same process.
    pub enabled: bool,
    /// Seconds between queue polls when nothing wakes the worker (HIL's `sleep_time`).
    pub poll_interval_secs: f64,
    /// Seconds a claim lasts without a heartbeat before another worker may take the action.
    pub claim_lease_secs: u64,
    /// Most actions claimed at once.
    pub batch_size: u32,
    /// Attempts for transient switch errors (unreachable, timeout) before an action is ERROR.
    pub max_attempts: u32,
    /// First retry delay in seconds; doubles per attempt.
    pub retry_backoff_secs: f64,
    /// Seconds a switch session stays open after its last batch, so that work arriving soon
    /// after reuses the login. 0 closes sessions at once.
    pub session_idle_secs: f64,
    /// Most switches worked on at the same time; a slow switch does not hold up the others.
    pub max_parallel_switches: u32,
    /// Most sessions open at once to one switch (many switches allow only a few logins).
    pub sessions_per_switch: u32,
    /// Seconds one action may take at the switch (logging in included) before it ends ERROR
    /// "timed out" and its session is dropped: a backstop for a driver that hangs despite its
    /// own connect and command timeouts.
    pub action_timeout_secs: f64,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            enabled: true,
            poll_interval_secs: 2.0,
            claim_lease_secs: 60,
            batch_size: 64,
            max_attempts: 3,
            retry_backoff_secs: 1.0,
            session_idle_secs: 5.0,
            max_parallel_switches: 8,
            sessions_per_switch: 1,
            action_timeout_secs: 120.0,
        }
    }
}

/// The drift audit, run by the networking worker: every registered port is read back from its
/// switch and compared with what HIL recorded.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Seconds between audits of one switch. 0 runs only the audits an admin asks for.
    pub interval_secs: f64,
    /// What to do about drift: `off` records it, `report` also logs each episode at WARN,
    /// `auto` also queues the change that brings the port back.
    pub repair: RepairMode,
    /// Repair a port that carries a VLAN its node's project may not use even when `repair`
    /// is `report`. Such a port is always logged at ERROR.
    pub quarantine: bool,
    /// Seconds an audit's claim on a switch lasts without renewal (a worker that died
    /// mid-audit gives the switch up after this long).
    pub lease_secs: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RepairMode {
    Off,
    Report,
    Auto,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            interval_secs: 600.0,
            repair: RepairMode::Report,
            quarantine: true,
            lease_secs: 120,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SwitchesConfig {
    /// Switch drivers to load, by short name (`mock`, `ovs`, `nexus`, ...).
    pub enabled: Vec<String>,
    /// Where the mock switch keeps its port state. Empty: `<data_dir>/mock-switches`.
    pub mock_state_dir: Option<PathBuf>,
    /// Seconds allowed to open a connection to a switch (TCP plus SSH/TLS handshake).
    pub connect_timeout_secs: f64,
    /// Seconds allowed for each login step, command or HTTP request.
    pub command_timeout_secs: f64,
    /// Copy the running configuration to the startup configuration after each batch.
    pub save: bool,
    /// Per-driver exceptions to `save`, e.g. `{ nexus = false }`.
    pub save_by_type: BTreeMap<String, bool>,
    /// OVSDB server the `ovs` driver talks to: `unix:/path/db.sock` or `tcp:host:port`.
    pub ovsdb: String,
    /// OpenSSH known_hosts file for SSH switches. Empty: `<data_dir>/switch_known_hosts`, where
    /// a switch's key is pinned the first time HIL connects (trust on first use).
    pub ssh_known_hosts: Option<PathBuf>,
}

impl Default for SwitchesConfig {
    fn default() -> Self {
        SwitchesConfig {
            enabled: vec!["mock".into()],
            mock_state_dir: None,
            connect_timeout_secs: 10.0,
            command_timeout_secs: 30.0,
            save: true,
            save_by_type: BTreeMap::new(),
            ovsdb: "unix:/var/run/openvswitch/db.sock".into(),
            ssh_known_hosts: None,
        }
    }
}

impl SwitchesConfig {
    /// The options one driver runs with.
    pub fn driver_options(&self, short_name: &str) -> DriverOptions {
        DriverOptions {
            connect_timeout: Duration::from_secs_f64(self.connect_timeout_secs),
            command_timeout: Duration::from_secs_f64(self.command_timeout_secs),
            save: self
                .save_by_type
                .get(short_name)
                .copied()
                .unwrap_or(self.save),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ObmConfig {
    /// OBM types accepted at `node_register`, by short name: `mock`, `ipmi`, `redfish`.
    pub enabled: Vec<String>,
    /// Seconds allowed for one BMC call; an API call waits at most this long for its BMC.
    pub command_timeout_secs: f64,
    /// The `ipmitool` program.
    pub ipmitool: String,
    /// IPMI cipher suite (`ipmitool -C`) for nodes that do not name one.
    pub ipmi_cipher_suite: u8,
    /// Keep a serial-over-LAN session per node while its OBM is enabled, buffering output.
    pub console: bool,
    /// Bytes of console output kept per node (the tail a new viewer sees first).
    pub console_buffer_bytes: usize,
    /// When set, console output is also appended to `<dir>/<node>.log` (removed with the
    /// buffer when the OBM is disabled or the node released).
    pub console_log_dir: Option<PathBuf>,
}

impl Default for ObmConfig {
    fn default() -> Self {
        ObmConfig {
            enabled: vec!["mock".into(), "ipmi".into(), "redfish".into()],
            command_timeout_secs: 20.0,
            ipmitool: "ipmitool".into(),
            ipmi_cipher_suite: 3,
            console: true,
            console_buffer_bytes: 256 * 1024,
            console_log_dir: None,
        }
    }
}

impl ObmConfig {
    pub fn command_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.command_timeout_secs)
    }

    pub fn driver_options(&self) -> ObmOptions {
        ObmOptions {
            command_timeout: self.command_timeout(),
            ipmitool: self.ipmitool.clone(),
            ipmi_cipher_suite: self.ipmi_cipher_suite,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ReleaseConfig {
    /// Power a node off (through its OBM) as `project_detach_node` releases it.
    pub power_off: bool,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum HeadnodeBackend {
    /// VMs kept in memory: development and fast tests.
    Mock,
    /// libvirt through `virsh` (docs/drivers.md).
    Libvirt,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum HeadnodeNetwork {
    /// A tap per headnode NIC on the Open vSwitch bridge `ovs_bridge`, access VLAN = the
    /// network's VLAN (`switches.ovsdb` names the OVSDB server).
    Ovs,
    /// HIL's Linux bridges `br-vlan<N>`, made by the operator for every pool VLAN.
    LinuxBridge,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeadnodeConfig {
    pub backend: HeadnodeBackend,
    /// Images headnodes may be cloned from (HIL's `base_imgs`).
    pub base_imgs: Vec<String>,
    /// Seconds allowed for one VM operation (a clone copies a disk).
    pub command_timeout_secs: f64,
    /// Let headnodes join networks an administrator created with an explicit VLAN. HIL allowed
    /// only networks allocated from the pool.
    pub allow_unallocated_networks: bool,
    /// libvirt connection URI.
    pub libvirt_uri: String,
    /// The `virsh` command, with any prefix it needs (e.g. `["runuser", "-u", "qemu", "--",
    /// "virsh"]`).
    pub virsh: Vec<String>,
    /// Where headnode disks (copy-on-write overlays), definitions and console logs live.
    /// Empty: `<data_dir>/headnodes`.
    pub disk_dir: Option<PathBuf>,
    /// Address VNC listens on (loopback by default: reach it through an SSH tunnel).
    pub vnc_listen: String,
    pub network: HeadnodeNetwork,
    /// The Open vSwitch bridge headnode taps join (network = "ovs").
    pub ovs_bridge: String,
    /// The user QEMU runs as, when HIL must hand it taps and disks (`qemu:///session`).
    pub vm_user: Option<String>,
    /// For base images given as disk-image paths (not template domains): the libvirt domain
    /// type (`kvm`, or `qemu` without KVM), memory and vCPUs of the headnode.
    pub image_domain_type: String,
    pub image_memory_mib: u64,
    pub image_vcpus: u32,
}

impl Default for HeadnodeConfig {
    fn default() -> Self {
        HeadnodeConfig {
            backend: HeadnodeBackend::Mock,
            base_imgs: Vec::new(),
            command_timeout_secs: 120.0,
            allow_unallocated_networks: false,
            libvirt_uri: "qemu:///system".into(),
            virsh: vec!["virsh".into()],
            disk_dir: None,
            vnc_listen: "127.0.0.1".into(),
            network: HeadnodeNetwork::Ovs,
            ovs_bridge: "br-hil".into(),
            vm_user: None,
            image_domain_type: "kvm".into(),
            image_memory_mib: 1024,
            image_vcpus: 1,
        }
    }
}

impl HeadnodeConfig {
    pub fn command_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.command_timeout_secs)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct MaintenanceConfig {
    /// Project that nodes move into when detached from a tenant (hil-api.md §10).
    pub project: Option<String>,
    /// URL notified with `{"node": <label>}` when a node moves into maintenance.
    pub url: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Longest label (in characters) accepted for any object.
    pub max_label_chars: usize,
    /// Seconds a client has to send a request's headers (and an idle connection stays open).
    pub header_timeout_secs: f64,
    /// Seconds a client has to send a request's body once its headers are in.
    pub body_timeout_secs: f64,
    /// Connections open at once; more clients wait until one closes.
    pub max_connections: usize,
    /// Connections open at once from one client address (trusted proxies excepted); more
    /// are closed at once, so that one client cannot take every slot.
    pub max_connections_per_address: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_body_bytes: 64 * 1024,
            max_label_chars: 255,
            header_timeout_secs: 10.0,
            body_timeout_secs: 10.0,
            max_connections: 1024,
            max_connections_per_address: 256,
        }
    }
}

/// Prometheus metrics (`/metrics`, text exposition format).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve `GET /metrics` on the API address, to administrators only.
    pub on_api: bool,
    /// A separate address (`ip:port`) serving `GET /metrics` without authentication, for a
    /// Prometheus scraper; keep it private. Both `serve` and `serve-networks` bind it (give
    /// each process its own address). Unset: none.
    pub listen: Option<String>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            on_api: true,
            listen: None,
        }
    }
}

impl LimitsConfig {
    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.body_timeout_secs)
    }

    /// The connection limits; connections from `exempt` (trusted proxies) count only
    /// towards the total.
    pub fn connections(
        &self,
        exempt: &[std::net::IpAddr],
    ) -> crate::http::server::ConnectionLimits {
        crate::http::server::ConnectionLimits {
            header_timeout: Duration::from_secs_f64(self.header_timeout_secs),
            max_connections: self.max_connections,
            max_per_address: self.max_connections_per_address,
            exempt: exempt.to_vec(),
            drain_timeout: Duration::from_secs(30),
        }
    }
}

impl Config {
    /// Loads defaults, then the file (if any), then `HIL_*` environment overrides.
    pub fn load(file: Option<&Path>) -> Result<Config, String> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        let file = file.map(Path::to_path_buf).or_else(|| {
            let local = PathBuf::from("hil.toml");
            local.exists().then_some(local)
        });
        if let Some(path) = &file {
            if !path.exists() {
                return Err(format!("config file {} does not exist", path.display()));
            }
            fig = fig.merge(Toml::file(path));
        }
        // Only our own keys: HIL_ENDPOINT, HIL_USERNAME... belong to the client.
        fig = fig.merge(env_overrides());
        let mut config: Config = fig.extract().map_err(|e| e.to_string())?;
        if config.auth.bootstrap_password.is_none() {
            config.auth.bootstrap_password = std::env::var("HIL_ADMIN_PASSWORD").ok();
        }
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        crate::allocator::parse_vlan_ranges(&self.allocator.vlans)
            .map_err(|e| format!("allocator.vlans: {e}"))?;
        let w = &self.worker;
        if !(w.poll_interval_secs > 0.0 && w.poll_interval_secs < 3600.0) {
            return Err("worker.poll_interval_secs must be in (0, 3600)".into());
        }
        if w.batch_size == 0 || w.max_attempts == 0 || w.claim_lease_secs == 0 {
            return Err("worker.batch_size, max_attempts and claim_lease_secs must be > 0".into());
        }
        if w.max_parallel_switches == 0 || w.sessions_per_switch == 0 {
            return Err("worker.max_parallel_switches and sessions_per_switch must be > 0".into());
        }
        if !(w.session_idle_secs >= 0.0 && w.session_idle_secs < 3600.0) {
            return Err("worker.session_idle_secs must be in [0, 3600)".into());
        }
        if !(w.action_timeout_secs > 0.0 && w.action_timeout_secs <= 86400.0) {
            return Err("worker.action_timeout_secs must be in (0, 86400]".into());
        }
        let sw = &self.switches;
        for (name, secs) in [
            ("connect_timeout_secs", sw.connect_timeout_secs),
            ("command_timeout_secs", sw.command_timeout_secs),
        ] {
            if !(secs > 0.0 && secs <= 3600.0) {
                return Err(format!("switches.{name} must be in (0, 3600]"));
            }
        }
        for name in &self.switches.enabled {
            if !crate::switches::KNOWN.contains(&name.as_str()) {
                return Err(format!("switches.enabled: unknown driver {name:?}"));
            }
        }
        self.validate_obm()?;
        self.validate_limits()?;
        self.validate_metrics()?;
        if self.auth.backend == AuthBackend::Keystone {
            self.validate_keystone()?;
        }
        let hn = &self.headnode;
        if !(hn.command_timeout_secs > 0.0 && hn.command_timeout_secs <= 3600.0) {
            return Err("headnode.command_timeout_secs must be in (0, 3600]".into());
        }
        if hn.virsh.is_empty() {
            return Err("headnode.virsh must name a command".into());
        }
        if self.maintenance.project.is_some() != self.maintenance.url.is_some() {
            // Logging is not set up yet while the config loads.
            eprintln!("Warning: maintenance: only one of project and url is set; detaching nodes will fail as in HIL");
        }
        Ok(())
    }

    fn validate_keystone(&self) -> Result<(), String> {
        let k = &self.auth.keystone;
        let url =
            reqwest::Url::parse(&k.auth_url).map_err(|e| format!("auth.keystone.auth_url: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("auth.keystone.auth_url must be an http(s) URL".into());
        }
        for (name, value) in [
            ("username", &k.username),
            ("password", &k.password),
            ("project_name", &k.project_name),
            ("admin_role", &k.admin_role),
        ] {
            if value.is_empty() {
                return Err(format!("auth.keystone.{name} must be set"));
            }
        }
        if !(k.timeout_secs > 0.0 && k.timeout_secs <= 600.0) {
            return Err("auth.keystone.timeout_secs must be in (0, 600]".into());
        }
        Ok(())
    }

    fn validate_metrics(&self) -> Result<(), String> {
        let Some(listen) = &self.metrics.listen else {
            return Ok(());
        };
        let addr: std::net::SocketAddr = listen
            .parse()
            .map_err(|_| format!("metrics.listen: {listen:?} is not an ip:port address"))?;
        if self.listen.parse::<std::net::SocketAddr>().ok() == Some(addr) && addr.port() != 0 {
            return Err("metrics.listen must differ from listen".into());
        }
        Ok(())
    }

    fn validate_limits(&self) -> Result<(), String> {
        let l = &self.limits;
        for (name, secs) in [
            ("header_timeout_secs", l.header_timeout_secs),
            ("body_timeout_secs", l.body_timeout_secs),
        ] {
            if !(secs > 0.0 && secs <= 3600.0) {
                return Err(format!("limits.{name} must be in (0, 3600]"));
            }
        }
        if l.max_connections == 0 || l.max_connections_per_address == 0 {
            return Err(
                "limits.max_connections and max_connections_per_address must be > 0".into(),
            );
        }
        if self.auth.failed_login_window_secs == 0 {
            return Err("auth.failed_login_window_secs must be > 0".into());
        }
        Ok(())
    }

    fn validate_obm(&self) -> Result<(), String> {
        let obm = &self.obm;
        if !(obm.command_timeout_secs > 0.0 && obm.command_timeout_secs <= 600.0) {
            return Err("obm.command_timeout_secs must be in (0, 600]".into());
        }
        if obm.ipmi_cipher_suite > 17 {
            return Err("obm.ipmi_cipher_suite must be in 0..=17".into());
        }
        if obm.console_buffer_bytes < 1024 {
            return Err("obm.console_buffer_bytes must be at least 1024".into());
        }
        let known: Vec<_> = hil_drivers::obm::all_drivers()
            .iter()
            .map(|d| d.name())
            .collect();
        for name in &obm.enabled {
            if !known.contains(&name.as_str()) {
                return Err(format!("obm.enabled: unknown OBM type {name:?}"));
            }
        }
        Ok(())
    }

    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(url) if !url.is_empty() => url.clone(),
            _ => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("hil.db").display()
            ),
        }
    }

    /// The known_hosts file SSH switch keys are checked against (and pinned into).
    pub fn ssh_known_hosts(&self) -> PathBuf {
        self.switches
            .ssh_known_hosts
            .clone()
            .unwrap_or_else(|| self.data_dir.join("switch_known_hosts"))
    }

    pub fn headnode_disk_dir(&self) -> PathBuf {
        self.headnode
            .disk_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("headnodes"))
    }

    pub fn mock_state_dir(&self) -> PathBuf {
        self.switches
            .mock_state_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("mock-switches"))
    }
}

/// `HIL_<SECTION>__<KEY>` variables. Only our own sections: HIL_ENDPOINT, HIL_USERNAME and
/// friends belong to the client.
fn env_overrides() -> Env {
    // `split` has already turned `__` into `.` when the filter sees the key.
    Env::prefixed("HIL_").split("__").filter(|key| {
        let key = key.as_str().to_ascii_lowercase();
        let section = key.split('.').next().unwrap_or_default();
        OWN_KEYS.contains(&section)
    })
}

const OWN_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database",
    "auth",
    "allocator",
    "worker",
    "audit",
    "switches",
    "obm",
    "release",
    "headnode",
    "maintenance",
    "limits",
    "audit_log",
    "metrics",
    "log",
    "log_format",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_section_can_be_set_from_the_environment() {
        let config = serde_json::to_value(Config::default()).unwrap();
        for section in config.as_object().unwrap().keys() {
            assert!(
                OWN_KEYS.contains(&section.as_str()),
                "HIL_{section}__* is ignored"
            );
        }
    }

    #[test]
    fn sample_config_parses_and_matches_defaults() {
        let parsed: Config = toml_from(SAMPLE);
        assert_eq!(parsed.listen, Config::default().listen);
        assert_eq!(parsed.allocator.vlans, Config::default().allocator.vlans);
    }

    fn toml_from(s: &str) -> Config {
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(s))
            .extract()
            .expect("sample parses")
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API fixes the closure's error type
    fn nested_environment_overrides_apply_and_client_variables_are_ignored() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("HIL_WORKER__POLL_INTERVAL_SECS", "0.05");
            jail.set_env("HIL_DATABASE__URL", "postgresql://h/db");
            jail.set_env("HIL_ENDPOINT", "http://127.0.0.1:5000");
            let c: Config = Figment::from(Serialized::defaults(Config::default()))
                .merge(env_overrides())
                .extract()?;
            assert_eq!(c.worker.poll_interval_secs, 0.05);
            assert_eq!(c.database.url.as_deref(), Some("postgresql://h/db"));
            Ok(())
        });
    }

    #[test]
    fn metrics_listen_must_be_an_address_of_its_own() {
        let mut c = Config::default();
        assert!(c.validate().is_ok());
        c.metrics.listen = Some("127.0.0.1:9101".into());
        assert!(c.validate().is_ok());
        c.metrics.listen = Some("localhost".into());
        assert!(c.validate().unwrap_err().contains("metrics.listen"));
        c.metrics.listen = Some(c.listen.clone());
        assert!(c.validate().unwrap_err().contains("metrics.listen"));
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let r: Result<Config, _> = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string("[auth]\nbackend = \"database\"\nbogus = 1\n"))
            .extract();
        assert!(r.is_err());
    }

    #[test]
    fn database_password_is_redacted_in_debug() {
        let mut c = Config::default();
        c.database.url = Some("postgresql://hil:s3cret@db/hil".into());
        c.auth.bootstrap_password = Some("hunter2".into());
        let text = format!("{c:?}");
        assert!(
            !text.contains("s3cret") && !text.contains("hunter2"),
            "{text}"
        );
    }
}
