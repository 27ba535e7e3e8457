//! `hil user ...`

use super::{print, Ctx, Result};
use crate::cli::{Role, UserCmd, UserProjectCmd};
use crate::error::CliError;
use crate::{output, secret};

pub async fn run(cmd: UserCmd, ctx: &Ctx) -> Result {
    let hil = &ctx.client;
    match cmd {
        UserCmd::Create {
            username,
            role,
            legacy_role: Some(legacy_role),
        } => {
            // HIL's form, `user create NAME PASSWORD ROLE`, which existing scripts use.
            let (password, role) = (role, legacy_role);
            let is_admin = parse_role(&role)? == Role::Admin;
            eprintln!(
                "Warning: a password given as an argument is visible to other users of this \
                 machine (ps, shell history); pipe it in instead: \
                 printf '%s\\n' \"$PASSWORD\" | hil user create {username} {role}"
            );
            hil.user_create(&username, &password, is_admin).await?;
        }
        UserCmd::Create {
            username,
            role,
            legacy_role: None,
        } => {
            let is_admin = parse_role(&role)? == Role::Admin;
            let password = secret::read_new_password(&username)?;
            hil.user_create(&username, &password, is_admin).await?;
        }
        UserCmd::Delete { username } => hil.user_delete(&username).await?,
        UserCmd::List => {
            let users = hil.list_users().await?;
            print(ctx, &users, |users| {
                let rows = users
                    .iter()
                    .map(|(name, info)| {
                        let role = if info.is_admin { "admin" } else { "regular" };
                        vec![name.clone(), role.into(), output::lines(&info.projects)]
                    })
                    .collect();
                output::columns(&["User", "Role", "Projects"], rows);
            });
        }
        UserCmd::Project(UserProjectCmd::Add { user, project }) => {
            hil.user_add_project(&user, &project).await?
        }
        UserCmd::Project(UserProjectCmd::Remove { user, project }) => {
            hil.user_remove_project(&user, &project).await?
        }
        UserCmd::SetAdmin { username, role } => {
            hil.user_set_admin(&username, role == Role::Admin).await?
        }
    }
    Ok(())
}

/// `admin` or `regular`.
fn parse_role(role: &str) -> Result<Role> {
    match role {
        "admin" => Ok(Role::Admin),
        "regular" => Ok(Role::Regular),
        other => Err(CliError::Usage(format!(
            "the role must be admin or regular, not {other:?}"
        ))),
    }
}
