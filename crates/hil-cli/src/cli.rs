//! The command line: every command, argument and help text. Completions and `docs/cli.md`
//! are generated from these same definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ROOT_HELP: &str = "\
Example:
  HIL_ENDPOINT=http://127.0.0.1:5000 HIL_USERNAME=alice HIL_PASSWORD=... hil node list free

Environment:
  HIL_ENDPOINT   HIL's URL, e.g. http://127.0.0.1:5000 (or --endpoint)
  HIL_USERNAME   user to authenticate as (or --user)
  HIL_PASSWORD   that user's password (or --password-stdin)
  HIL_TIMEOUT    default for --timeout, in seconds

Flags win over the environment, which wins over the config file
(~/.config/hil/config.toml: endpoint, username, password).

Servers that use Keystone: without a HIL user, the usual OpenStack
variables get a token (OS_AUTH_URL, OS_USERNAME, OS_PASSWORD,
OS_PROJECT_NAME, OS_USER_DOMAIN_NAME or _ID, OS_PROJECT_DOMAIN_NAME or _ID),
or OS_CLOUD picks an entry of clouds.yaml (./, ~/.config/openstack/,
/etc/openstack/; OS_CLIENT_CONFIG_FILE names another file).

Exit status: 0 on success, 1 when HIL refuses a call or cannot be reached,
2 on a usage error.";

#[derive(Debug, Parser)]
#[command(
    name = "hil",
    version,
    about = "Command-line client for HIL, the Hardware Isolation Layer",
    after_help = ROOT_HELP,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// HIL's URL, e.g. http://127.0.0.1:5000 [env: HIL_ENDPOINT]
    #[arg(long, id = "auth_endpoint", global = true, value_name = "URL")]
    pub endpoint: Option<String>,
    /// User to authenticate as [env: HIL_USERNAME]
    #[arg(long = "user", id = "auth_user", global = true, value_name = "NAME")]
    pub user: Option<String>,
    /// Read the password from the first line of standard input
    #[arg(long, global = true)]
    pub password_stdin: bool,
    /// Config file [default: ~/.config/hil/config.toml]
    #[arg(long, id = "cli_config", global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Print the API's JSON answer instead of a table
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Nodes: inventory, NICs, networking, power and console
    #[command(subcommand, after_help = "Example:\n  hil node show node-07")]
    Node(NodeCmd),
    /// Projects and their nodes
    #[command(subcommand, after_help = "Example:\n  hil project node list physics")]
    Project(ProjectCmd),
    /// Networks and who may use them
    #[command(subcommand, after_help = "Example:\n  hil network list")]
    Network(NetworkCmd),
    /// Switches (administrators)
    #[command(subcommand, after_help = "Example:\n  hil switch show sw0")]
    Switch(SwitchCmd),
    /// Switch ports and their cabling (administrators)
    #[command(subcommand, after_help = "Example:\n  hil port show sw0 gi1/0/7")]
    Port(PortCmd),
    /// Drift audits, and the log of every change made through the API (administrators)
    #[command(
        subcommand,
        after_help = "Examples:\n  hil audit drift\n  hil audit log --object node/n1"
    )]
    Audit(AuditCmd),
    /// Users of HIL's own authentication (administrators)
    #[command(subcommand, after_help = "Example:\n  hil user list")]
    User(UserCmd),
    /// Queued switch changes
    #[command(
        subcommand,
        name = "networking-action",
        after_help = "Example:\n  hil networking-action show 0f4c2a9e-6d2b-4a55-9d0e-2f1f8e0c9b11"
    )]
    NetworkingAction(NetworkingActionCmd),
    /// Headnodes: small provisioning VMs of a project
    #[command(subcommand, after_help = "Example:\n  hil headnode list physics")]
    Headnode(HeadnodeCmd),
    /// Server extensions
    #[command(subcommand, after_help = "Example:\n  hil extensions list")]
    Extensions(ExtensionsCmd),
    /// Who the credentials belong to, and the projects they may act for
    #[command(after_help = "Example:\n  hil whoami")]
    Whoami,
    /// Print a shell completion script
    #[command(
        after_help = "Example:\n  hil completions bash > ~/.local/share/bash-completion/completions/hil"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// `--wait` and `--timeout`, for calls that queue a networking action.
#[derive(Debug, Args, Clone, Copy)]
pub struct WaitArgs {
    /// Wait until the switch has applied the change (or failed to)
    #[arg(long)]
    pub wait: bool,
    /// Give up waiting after this many seconds
    #[arg(
        long,
        value_name = "SECS",
        env = "HIL_TIMEOUT",
        default_value_t = 60,
        hide_env = true
    )]
    pub timeout: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NodePool {
    Free,
    All,
}

#[derive(Debug, Subcommand)]
pub enum NodeCmd {
    /// List free nodes or all nodes
    #[command(after_help = "Example:\n  hil node list free")]
    List {
        #[arg(value_enum)]
        pool: NodePool,
    },
    /// Show a node: project, NICs and their networks, metadata
    #[command(after_help = "Example:\n  hil node show node-07")]
    Show { node: String },
    /// Register a node with its BMC (--obm) or its obmd service (administrators)
    #[command(after_help = OBM_HELP)]
    Register {
        node: String,
        #[command(flatten)]
        obm: ObmArgs,
    },
    /// Delete a node; it must be free and have no NICs (administrators)
    #[command(after_help = "Example:\n  hil node delete node-07")]
    Delete { node: String },
    /// Set the device the node boots from (e.g. pxe, disk)
    #[command(after_help = "Example:\n  hil node bootdev node-07 pxe")]
    Bootdev { node: String, bootdev: String },
    /// NICs of a node (administrators)
    #[command(
        subcommand,
        after_help = "Example:\n  hil node nic register node-07 eth0 de:ad:be:ef:00:07"
    )]
    Nic(NodeNicCmd),
    /// Connect and detach a node's NICs
    #[command(
        subcommand,
        after_help = "Example:\n  hil node network connect node-07 eth0 physics-net --wait"
    )]
    Network(NodeNetworkCmd),
    /// Enable or disable out-of-band management
    #[command(subcommand, after_help = "Example:\n  hil node obm enable node-07")]
    Obm(NodeObmCmd),
    /// Power control through the node's OBM
    #[command(subcommand, after_help = "Example:\n  hil node power cycle node-07")]
    Power(NodePowerCmd),
    /// Node metadata
    #[command(
        subcommand,
        after_help = "Example:\n  hil node metadata add node-07 rack B12"
    )]
    Metadata(NodeMetadataCmd),
    /// The node's serial console
    #[command(subcommand, after_help = "Example:\n  hil node console show node-07")]
    Console(NodeConsoleCmd),
}

#[derive(Debug, Subcommand)]
pub enum NodeNicCmd {
    /// Register a NIC with its MAC address
    #[command(after_help = "Example:\n  hil node nic register node-07 eth0 de:ad:be:ef:00:07")]
    Register {
        node: String,
        nic: String,
        macaddress: String,
    },
    /// Delete a NIC; it must not be cabled to a port
    #[command(after_help = "Example:\n  hil node nic delete node-07 eth0")]
    Delete { node: String, nic: String },
}

#[derive(Debug, Subcommand)]
pub enum NodeNetworkCmd {
    /// Connect a NIC to a network (queued; see --wait)
    #[command(
        after_help = "CHANNEL defaults to the network's untagged channel (vlan/native).\n\n\
                      Example:\n  hil node network connect node-07 eth0 physics-net --wait\n  \
                      hil node network connect node-07 eth0 physics-net vlan/1005"
    )]
    Connect {
        node: String,
        nic: String,
        network: String,
        /// e.g. vlan/native, or vlan/<id> for a tagged channel
        channel: Option<String>,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Detach a NIC from a network (queued; see --wait)
    #[command(after_help = "Example:\n  hil node network detach node-07 eth0 physics-net --wait")]
    Detach {
        node: String,
        nic: String,
        network: String,
        #[command(flatten)]
        wait: WaitArgs,
    },
}

const OBM_HELP: &str = "With --obm, the BMC password is read from standard input (or a prompt). \
Without it, OBMD_URI names the node on an obmd server and the admin token is read from \
standard input when omitted.\n\n\
Examples:\n  \
hil node register node-07 --obm ipmi --bmc-host 10.0.0.7 --bmc-user root < bmc-password.txt\n  \
hil node register node-08 --obm redfish --bmc-host https://10.0.0.8 --bmc-user root \\\n    --set verify_tls=false\n  \
hil node register node-09 https://obmd.example/node/node-09 < token.txt";

/// How HIL reaches a node's BMC: one of our OBM drivers, or an obmd server.
#[derive(Debug, Args)]
pub struct ObmArgs {
    /// The node's URL on its obmd server (HIL v0.4's form)
    #[arg(required_unless_present = "obm_type", conflicts_with = "obm_type")]
    pub obmd_uri: Option<String>,
    /// obmd's admin token for the node ("-" or omitted: read from standard input)
    #[arg(requires = "obmd_uri")]
    pub obmd_admin_token: Option<String>,
    /// OBM type: ipmi, redfish, mock, or a full type URI
    #[arg(long = "obm", value_name = "TYPE")]
    pub obm_type: Option<String>,
    /// The BMC: host or host:port (ipmi), or a URL (redfish)
    #[arg(long = "bmc-host", value_name = "HOST", requires = "obm_type")]
    pub host: Option<String>,
    /// BMC user name
    #[arg(long = "bmc-user", value_name = "USER", requires = "obm_type")]
    pub user: Option<String>,
    /// Further members, e.g. cipher_suite=17, system=<id>, verify_tls=false (JSON values
    /// are sent as such, anything else as a string)
    #[arg(long = "set", value_name = "KEY=VALUE", requires = "obm_type")]
    pub extra: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum NodeObmCmd {
    /// Show the node's OBM type and details, without secrets (administrators)
    #[command(after_help = "Example:\n  hil node obm show node-07")]
    Show { node: String },
    /// Change how HIL reaches the node's BMC; disable the OBM first (administrators)
    #[command(after_help = OBM_HELP)]
    Set {
        node: String,
        #[command(flatten)]
        obm: ObmArgs,
    },
    /// Enable the node's OBM
    #[command(after_help = "Example:\n  hil node obm enable node-07")]
    Enable { node: String },
    /// Disable the node's OBM (required before removing it from a project)
    #[command(after_help = "Example:\n  hil node obm disable node-07")]
    Disable { node: String },
}

#[derive(Debug, Subcommand)]
pub enum NodePowerCmd {
    /// Power the node on
    #[command(after_help = "Example:\n  hil node power on node-07")]
    On { node: String },
    /// Power the node off
    #[command(after_help = "Example:\n  hil node power off node-07")]
    Off { node: String },
    /// Power-cycle the node
    #[command(after_help = "Example:\n  hil node power cycle node-07 --force")]
    Cycle {
        node: String,
        /// Hard reset instead of a soft one
        #[arg(long)]
        force: bool,
    },
    /// Show the node's power status
    #[command(after_help = "Example:\n  hil node power status node-07")]
    Status { node: String },
}

#[derive(Debug, Subcommand)]
pub enum NodeMetadataCmd {
    /// Set a metadata label (the value is stored as a JSON string unless --json-value)
    #[command(
        after_help = "Example:\n  hil node metadata add node-07 rack '\"B12\"' --json-value\n  \
                            hil node metadata add node-07 owner physics"
    )]
    Add {
        node: String,
        label: String,
        value: String,
        /// Parse VALUE as JSON (number, object, ...) instead of sending it as a string
        #[arg(long)]
        json_value: bool,
    },
    /// Delete a metadata label
    #[command(after_help = "Example:\n  hil node metadata delete node-07 rack")]
    Delete { node: String, label: String },
}

#[derive(Debug, Subcommand)]
pub enum NodeConsoleCmd {
    /// Stream the serial console to standard output until Ctrl-C
    #[command(after_help = "Example:\n  hil node console show node-07")]
    Show { node: String },
}

#[derive(Debug, Subcommand)]
pub enum ProjectCmd {
    /// Create a project (administrators)
    #[command(after_help = "Example:\n  hil project create physics")]
    Create { project: String },
    /// Delete a project; it must hold no nodes, networks or headnodes (administrators)
    #[command(after_help = "Example:\n  hil project delete physics")]
    Delete { project: String },
    /// List all projects (administrators)
    #[command(after_help = "Example:\n  hil project list --json")]
    List,
    /// List the networks a project may use
    #[command(after_help = "Example:\n  hil project list-networks physics")]
    ListNetworks { project: String },
    /// A project's nodes
    #[command(
        subcommand,
        after_help = "Example:\n  hil project node add physics node-07"
    )]
    Node(ProjectNodeCmd),
}

#[derive(Debug, Subcommand)]
pub enum ProjectNodeCmd {
    /// List a project's nodes
    #[command(after_help = "Example:\n  hil project node list physics")]
    List { project: String },
    /// Reserve a free node for a project
    #[command(after_help = "Example:\n  hil project node add physics node-07")]
    Add { project: String, node: String },
    /// Return a node to the free pool
    #[command(
        after_help = "With --force, first disables the node's OBM, detaches every NIC from every\n\
                      network and waits for the switch, then removes the node.\n\n\
                      Example:\n  hil project node remove physics node-07 --force"
    )]
    Remove {
        project: String,
        node: String,
        /// Disable OBM and detach all networks first
        #[arg(long)]
        force: bool,
        /// With --force: give up waiting for the switch after this many seconds
        #[arg(
            long,
            value_name = "SECS",
            env = "HIL_TIMEOUT",
            default_value_t = 60,
            hide_env = true
        )]
        timeout: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum NetworkCmd {
    /// Create a network
    #[command(
        after_help = "OWNER is a project, or \"admin\". ACCESS defaults to OWNER; pass --access \"\"\n\
                      for a public network. NET_ID is allocated from the VLAN pool unless given\n\
                      (administrators only).\n\n\
                      Examples:\n  hil network create physics-net physics\n  \
                      hil network create uplink admin --access \"\" --net-id 100"
    )]
    Create {
        network: String,
        owner: String,
        /// Project allowed to use the network ("" for public)
        #[arg(long)]
        access: Option<String>,
        /// Use this network id (VLAN) instead of allocating one
        #[arg(long, alias = "net_id", value_name = "ID")]
        net_id: Option<String>,
    },
    /// Delete a network; no NIC may be attached to it
    #[command(after_help = "Example:\n  hil network delete physics-net")]
    Delete { network: String },
    /// Show a network: owner, channels, access and connected nodes
    #[command(after_help = "Example:\n  hil network show physics-net")]
    Show { network: String },
    /// List networks (all for administrators, public ones for others)
    #[command(after_help = "Example:\n  hil network list")]
    List,
    /// List the NICs attached to a network
    #[command(
        after_help = "Example:\n  hil network list-attachments physics-net --project physics"
    )]
    ListAttachments {
        network: String,
        /// Only nodes of this project ("all", as in HIL's CLI, means no filter)
        #[arg(long)]
        project: Option<String>,
    },
    /// Let a project use a network
    #[command(after_help = "Example:\n  hil network grant-access physics-net chemistry")]
    GrantAccess { network: String, project: String },
    /// Stop a project from using a network
    #[command(after_help = "Example:\n  hil network revoke-access physics-net chemistry")]
    RevokeAccess { network: String, project: String },
}

#[derive(Debug, Subcommand)]
pub enum SwitchCmd {
    /// Register a switch
    #[command(after_help = SWITCH_REGISTER_HELP)]
    Register {
        switch: String,
        /// A driver shortcut (see below) or a full driver type URI
        subtype: String,
        /// The driver's settings, in the order listed below
        args: Vec<String>,
    },
    /// Delete a switch; it must have no ports
    #[command(after_help = "Example:\n  hil switch delete sw0")]
    Delete { switch: String },
    /// List switches
    #[command(after_help = "Example:\n  hil switch list")]
    List,
    /// Show a switch: capabilities and ports
    #[command(after_help = "Example:\n  hil switch show sw0")]
    Show { switch: String },
}

const SWITCH_REGISTER_HELP: &str = "\
Shortcuts and their arguments:
  nexus, delln3000              HOST USER PASSWORD DUMMY_VLAN
  mock, powerconnect55xx,       HOST USER PASSWORD
  cisco_ios, arista_eos,
  brocade_icx, dell_os10,
  sonic, aruba_aoscx,
  juniper_junos
  brocade, dellnos9             HOST USER PASSWORD INTERFACE_TYPE
  ovs                           BRIDGE
A PASSWORD of \"-\" is read from standard input (or a prompt). Any other SUBTYPE is
sent as the type URI, with a JSON object of the driver's members as the only argument.

Examples:
  hil switch register sw0 mock sw0.example admin -
  hil switch register br0 ovs br-hil
  hil switch register sw1 http://schema.massopencloud.org/haas/v0/switches/ovs '{\"ovs_bridge\": \"br1\"}'";

#[derive(Debug, Subcommand)]
pub enum PortCmd {
    /// Register a port on a switch
    #[command(after_help = "Example:\n  hil port register sw0 gi1/0/7")]
    Register { switch: String, port: String },
    /// Delete a port; no NIC may be cabled to it
    #[command(after_help = "Example:\n  hil port delete sw0 gi1/0/7")]
    Delete { switch: String, port: String },
    /// Show the NIC cabled to a port and its networks
    #[command(after_help = "Example:\n  hil port show sw0 gi1/0/7")]
    Show { switch: String, port: String },
    /// Remove every network from a port (queued; see --wait)
    #[command(after_help = "Example:\n  hil port revert sw0 gi1/0/7 --wait")]
    Revert {
        switch: String,
        port: String,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Record which NIC a port is cabled to
    #[command(
        subcommand,
        after_help = "Example:\n  hil port nic add sw0 gi1/0/7 node-07 eth0"
    )]
    Nic(PortNicCmd),
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Audit a switch now: read every port back and compare it with HIL's records
    #[command(after_help = "Example:\n  hil audit run sw0 --wait")]
    Run {
        switch: String,
        /// Wait for the audit to finish and print its result; fail if it could not run
        #[arg(long)]
        wait: bool,
        /// Give up waiting after this many seconds
        #[arg(long, value_name = "SECS", default_value_t = 300)]
        timeout: u64,
    },
    /// Show a switch's last audit, the pending one, and its totals
    #[command(after_help = "Example:\n  hil audit show sw0")]
    Show { switch: String },
    /// List every switch's last audit
    #[command(after_help = "Example:\n  hil audit list")]
    List,
    /// List ports that differ from HIL's records (newest first)
    #[command(after_help = "Examples:\n  hil audit drift\n  hil audit drift --switch sw0 --all")]
    Drift {
        /// Only this switch's ports
        #[arg(long)]
        switch: Option<String>,
        /// Include drift that has been repaired
        #[arg(long)]
        all: bool,
    },
    /// The audit log: who changed what through the API, from where, and how it ended
    /// (newest first)
    #[command(
        after_help = "Examples:\n  hil audit log --object node/n1\n  hil audit log --by alice --since 7d\n  \
                      hil audit log --since 2026-12-01T00:00:00Z --until 2026-12-02T00:00:00Z --json"
    )]
    Log {
        /// Only calls made by this user (Keystone users are `keystone:<name>`)
        #[arg(long, value_name = "USER")]
        by: Option<String>,
        /// Only calls about this object, as TYPE/NAME: node/n1, network/net-a, project/p
        #[arg(long, value_name = "TYPE/NAME")]
        object: Option<String>,
        /// From this time: RFC 3339, or a duration before now (2h, 7d)
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Up to this time: RFC 3339, or a duration before now
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
        /// At most this many entries (the server allows up to 1000)
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum PortNicCmd {
    /// Record that a node's NIC is cabled to the port
    #[command(after_help = "Example:\n  hil port nic add sw0 gi1/0/7 node-07 eth0")]
    Add {
        switch: String,
        port: String,
        node: String,
        nic: String,
    },
    /// Forget the port's cabling; the node must be free
    #[command(after_help = "Example:\n  hil port nic remove sw0 gi1/0/7")]
    Remove { switch: String, port: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Role {
    Admin,
    Regular,
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Create a user; the password is read from standard input or a prompt
    #[command(
        after_help = "The password never goes on the command line, where other users could see it.\n\
                      On a terminal you are asked for it twice; otherwise it is the next line of\n\
                      standard input (after your own password when --password-stdin is used).\n\
                      HIL's form `hil user create NAME PASSWORD ROLE` still works, with a warning.\n\n\
                      Example:\n  printf '%s\\n' \"$NEW_PASSWORD\" | hil user create alice regular"
    )]
    Create {
        username: String,
        #[arg(value_name = "admin|regular")]
        role: String,
        /// HIL's form `NAME PASSWORD ROLE`: the second argument is then the password
        #[arg(hide = true)]
        legacy_role: Option<String>,
    },
    /// Delete a user
    #[command(after_help = "Example:\n  hil user delete alice")]
    Delete { username: String },
    /// List users, their role and projects
    #[command(after_help = "Example:\n  hil user list")]
    List,
    /// A user's project memberships
    #[command(
        subcommand,
        after_help = "Example:\n  hil user project add alice physics"
    )]
    Project(UserProjectCmd),
    /// Make a user an administrator, or not
    #[command(after_help = "Example:\n  hil user set-admin alice admin")]
    SetAdmin {
        username: String,
        #[arg(value_enum)]
        role: Role,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserProjectCmd {
    /// Add a user to a project
    #[command(after_help = "Example:\n  hil user project add alice physics")]
    Add { user: String, project: String },
    /// Remove a user from a project
    #[command(after_help = "Example:\n  hil user project remove alice physics")]
    Remove { user: String, project: String },
}

#[derive(Debug, Subcommand)]
pub enum NetworkingActionCmd {
    /// Show a queued switch change by the status id connect, detach or revert printed
    #[command(
        after_help = "Example:\n  hil networking-action show 0f4c2a9e-6d2b-4a55-9d0e-2f1f8e0c9b11 --wait"
    )]
    Show {
        status_id: String,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// List the queue, newest first: each NIC's latest change, and drift repairs
    /// (administrators; with --project, that project's members too)
    #[command(
        after_help = "Examples:\n  hil networking-action list\n  hil networking-action list --project physics"
    )]
    List {
        /// Only the changes on this project's nodes
        #[arg(long)]
        project: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum HeadnodeCmd {
    /// Create a headnode for a project from a base image
    #[command(after_help = "Example:\n  hil headnode create hn0 physics centos-7")]
    Create {
        headnode: String,
        project: String,
        base_img: String,
    },
    /// Delete a headnode and its VM
    #[command(after_help = "Example:\n  hil headnode delete hn0")]
    Delete { headnode: String },
    /// Start a headnode (its NICs and networks are frozen from then on)
    #[command(after_help = "Example:\n  hil headnode start hn0")]
    Start { headnode: String },
    /// Stop a headnode
    #[command(after_help = "Example:\n  hil headnode stop hn0")]
    Stop { headnode: String },
    /// List a project's headnodes
    #[command(after_help = "Example:\n  hil headnode list physics")]
    List { project: String },
    /// Show a headnode
    #[command(after_help = "Example:\n  hil headnode show hn0")]
    Show { headnode: String },
    /// List the base images headnodes can be created from
    #[command(after_help = "Example:\n  hil headnode list-images")]
    ListImages,
    /// A headnode's NICs
    #[command(
        subcommand,
        after_help = "Example:\n  hil headnode nic create hn0 eth0"
    )]
    Nic(HeadnodeNicCmd),
    /// Connect and detach a headnode's NICs
    #[command(
        subcommand,
        after_help = "Example:\n  hil headnode network connect hn0 eth0 physics-net"
    )]
    Network(HeadnodeNetworkCmd),
}

#[derive(Debug, Subcommand)]
pub enum HeadnodeNicCmd {
    /// Add a NIC to a headnode that was never started
    #[command(after_help = "Example:\n  hil headnode nic create hn0 eth0")]
    Create { headnode: String, nic: String },
    /// Remove a NIC from a headnode that was never started
    #[command(after_help = "Example:\n  hil headnode nic delete hn0 eth0")]
    Delete { headnode: String, nic: String },
}

#[derive(Debug, Subcommand)]
pub enum HeadnodeNetworkCmd {
    /// Connect a headnode NIC to a network of its project
    #[command(after_help = "Example:\n  hil headnode network connect hn0 eth0 physics-net")]
    Connect {
        headnode: String,
        nic: String,
        network: String,
    },
    /// Detach a headnode NIC from its network
    #[command(after_help = "Example:\n  hil headnode network detach hn0 eth0")]
    Detach { headnode: String, nic: String },
}

#[derive(Debug, Subcommand)]
pub enum ExtensionsCmd {
    /// List the server's active extensions (administrators)
    #[command(after_help = "Example:\n  hil extensions list")]
    List,
}
