//! `hil switch ...`

use serde_json::{Map, Value};

use hil_types::SwitchInfo;

use super::{print, print_list, Ctx, Result};
use crate::cli::SwitchCmd;
use crate::error::CliError;
use crate::{output, secret};

/// Driver shortcuts become `<this prefix><subtype>`, as in HIL's CLI.
const TYPE_PREFIX: &str = "http://schema.massopencloud.org/haas/v0/switches/";

pub async fn run(cmd: SwitchCmd, ctx: &Ctx) -> Result {
    let hil = &ctx.client;
    match cmd {
        SwitchCmd::Register {
            switch,
            subtype,
            args,
        } => {
            let body = register_body(&subtype, args)?;
            hil.switch_register(&switch, &body).await?;
        }
        SwitchCmd::Delete { switch } => hil.switch_delete(&switch).await?,
        SwitchCmd::List => print_list(ctx, "Switches", &hil.list_switches().await?),
        SwitchCmd::Show { switch } => {
            let info = hil.show_switch(&switch).await?;
            print(ctx, &info, |info| output::fields(switch_rows(info)));
        }
    }
    Ok(())
}

fn switch_rows(info: &SwitchInfo) -> Vec<(&str, String)> {
    // HIL's CLI showed "Standard" for a switch without extra capabilities.
    let capabilities = if info.capabilities.is_empty() {
        "Standard".to_string()
    } else {
        info.capabilities.join(", ")
    };
    let ports: Vec<&str> = info.ports.iter().map(|p| p.label.as_str()).collect();
    vec![
        ("Name", info.name.clone()),
        ("Capabilities", capabilities),
        ("Ports", output::lines(&ports)),
    ]
}

/// The member names each shortcut's arguments fill, in order.
fn shortcut_members(subtype: &str) -> Option<&'static [&'static str]> {
    Some(match subtype {
        "nexus" | "delln3000" => &["hostname", "username", "password", "dummy_vlan"],
        "mock" | "powerconnect55xx" | "cisco_ios" | "arista_eos" | "brocade_icx" | "dell_os10"
        | "sonic" | "aruba_aoscx" | "juniper_junos" => &["hostname", "username", "password"],
        "brocade" | "dellnos9" => &["hostname", "username", "password", "interface_type"],
        "ovs" => &["ovs_bridge"],
        _ => return None,
    })
}

fn register_body(subtype: &str, args: Vec<String>) -> Result<Map<String, Value>> {
    let mut body = Map::new();
    match shortcut_members(subtype) {
        Some(members) => {
            if args.len() != members.len() {
                let expected: Vec<String> = members.iter().map(|m| m.to_uppercase()).collect();
                return Err(CliError::Usage(format!(
                    "switch type {subtype} takes {}",
                    expected.join(" ")
                )));
            }
            body.insert(
                "type".into(),
                Value::String(format!("{TYPE_PREFIX}{subtype}")),
            );
            for (member, arg) in members.iter().zip(args) {
                body.insert(member.to_string(), member_value(member, arg)?);
            }
        }
        None => {
            let [members] = <[String; 1]>::try_from(args).map_err(|_| {
                CliError::Usage(format!(
                    "switch type {subtype} takes one argument: a JSON object of the driver's members"
                ))
            })?;
            body = serde_json::from_str(&members).map_err(|e| {
                CliError::Usage(format!("the driver members are not a JSON object: {e}"))
            })?;
            body.insert("type".into(), Value::String(subtype.to_string()));
        }
    }
    Ok(body)
}

/// `-` as a password reads it without putting it on the command line; a numeric dummy VLAN
/// is sent as a number (HIL's CLI sent a string, which its drivers converted).
fn member_value(member: &str, arg: String) -> Result<Value> {
    Ok(match member {
        "password" if arg == "-" => Value::String(secret::read_secret("switch password")?),
        "dummy_vlan" => match arg.parse::<u32>() {
            Ok(vlan) => Value::from(vlan),
            Err(_) => Value::String(arg),
        },
        _ => Value::String(arg),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shortcuts_fill_the_driver_members() {
        let body = register_body(
            "nexus",
            vec![
                "sw.example".into(),
                "admin".into(),
                "pw".into(),
                "2222".into(),
            ],
        )
        .unwrap();
        assert_eq!(
            Value::Object(body),
            json!({"type": format!("{TYPE_PREFIX}nexus"), "hostname": "sw.example",
                   "username": "admin", "password": "pw", "dummy_vlan": 2222})
        );
        let body = register_body(
            "cisco_ios",
            vec!["ios.example".into(), "admin".into(), "pw".into()],
        )
        .unwrap();
        assert_eq!(
            Value::Object(body),
            json!({"type": format!("{TYPE_PREFIX}cisco_ios"), "hostname": "ios.example",
                   "username": "admin", "password": "pw"})
        );
        let body = register_body(
            "juniper_junos",
            vec!["qfx.example:830".into(), "admin".into(), "pw".into()],
        )
        .unwrap();
        assert_eq!(
            Value::Object(body),
            json!({"type": format!("{TYPE_PREFIX}juniper_junos"), "hostname": "qfx.example:830",
                   "username": "admin", "password": "pw"})
        );
        let body = register_body("ovs", vec!["br-hil".into()]).unwrap();
        assert_eq!(
            Value::Object(body),
            json!({"type": format!("{TYPE_PREFIX}ovs"), "ovs_bridge": "br-hil"})
        );
    }

    #[test]
    fn other_types_take_a_json_object() {
        let body = register_body("urn:x", vec![r#"{"ovs_bridge": "b"}"#.into()]).unwrap();
        assert_eq!(
            Value::Object(body),
            json!({"type": "urn:x", "ovs_bridge": "b"})
        );
        assert!(register_body("urn:x", vec!["[1]".into()]).is_err());
        assert!(register_body("urn:x", vec![]).is_err());
    }

    #[test]
    fn wrong_argument_counts_are_usage_errors() {
        let err = register_body("mock", vec!["h".into()]).unwrap_err();
        assert!(matches!(err, CliError::Usage(m) if m.contains("HOSTNAME USERNAME PASSWORD")));
    }
}
