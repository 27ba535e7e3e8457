//! Drivers: the code that knows switches and BMCs. Nothing here touches the database; the worker hands
//! drivers plain values (a port name, a channel, a VLAN id) and records what they report.

pub mod address;
pub mod headnode;
pub mod http_error;
pub mod obm;
pub mod registration;
pub mod switch;
pub mod xml;

pub use switch::{
    parse_vlan, DriverOptions, PortChange, PortState, SwitchDriver, SwitchError, SwitchErrorKind,
    SwitchSession, SwitchSpec,
};
