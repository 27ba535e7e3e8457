//! Where the endpoint and credentials come from: flags, then the environment (HIL's
//! `HIL_ENDPOINT`, `HIL_USERNAME`, `HIL_PASSWORD`), then `~/.config/hil/config.toml`. Without
//! a HIL user, OpenStack's `OS_*` variables (or `OS_CLOUD`) give Keystone credentials, as in
//! HIL's client.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cli::GlobalArgs;
use crate::error::CliError;
use crate::secret;

/// One source of settings. A password counts only together with the username of the same
/// source, so `--user bob` never sends the password the environment holds for alice.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub endpoint: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// What the command runs with.
#[derive(Debug, PartialEq)]
pub struct Settings {
    pub endpoint: String,
    pub credentials: Option<(String, String)>,
    /// Keystone credentials, used when there is no HIL user.
    pub keystone: Option<hil_client::keystone::Credentials>,
}

/// A user was chosen but no source holds their password.
#[derive(Debug, PartialEq)]
pub enum Resolved {
    Ready(Settings),
    NeedPassword { endpoint: String, username: String },
}

/// Merges the layers, highest priority first.
pub fn merge(flags: Layer, env: Layer, file: Layer) -> Result<Resolved, CliError> {
    let endpoint = flags
        .endpoint
        .clone()
        .or_else(|| env.endpoint.clone())
        .or_else(|| file.endpoint.clone())
        .ok_or_else(|| {
            CliError::Usage(
                "no HIL endpoint: set HIL_ENDPOINT, pass --endpoint, or put `endpoint` in \
                 ~/.config/hil/config.toml"
                    .into(),
            )
        })?;
    let layers = [&flags, &env, &file];
    let Some(username) = layers.iter().find_map(|l| l.username.clone()) else {
        if flags.password.is_some() {
            return Err(CliError::Usage(
                "--password-stdin needs a user: pass --user or set HIL_USERNAME".into(),
            ));
        }
        return Ok(Resolved::Ready(Settings {
            endpoint,
            credentials: None,
            keystone: None,
        }));
    };
    let password = flags.password.clone().or_else(|| {
        [&env, &file]
            .iter()
            .find(|l| l.username.as_deref() == Some(username.as_str()))
            .and_then(|l| l.password.clone())
    });
    Ok(match password {
        Some(password) => Resolved::Ready(Settings {
            endpoint,
            credentials: Some((username, password)),
            keystone: None,
        }),
        None => Resolved::NeedPassword { endpoint, username },
    })
}

/// The settings for this run, asking for a missing password on a terminal.
pub fn resolve(global: &GlobalArgs) -> Result<Settings, CliError> {
    let flags = Layer {
        endpoint: global.endpoint.clone(),
        username: global.user.clone(),
        password: if global.password_stdin {
            Some(secret::read_stdin_line("the password")?)
        } else {
            None
        },
    };
    let env = Layer {
        endpoint: env_var("HIL_ENDPOINT"),
        username: env_var("HIL_USERNAME"),
        password: env_var("HIL_PASSWORD"),
    };
    let file = load_file(global.config.as_deref())?;
    match merge(flags, env, file)? {
        Resolved::Ready(s) if s.credentials.is_none() => Ok(Settings {
            keystone: crate::openstack::from_environment()?,
            ..s
        }),
        Resolved::Ready(s) => Ok(s),
        Resolved::NeedPassword { endpoint, username } if secret::stdin_is_terminal() => {
            let password = secret::prompt(&format!("Password for {username}: "))?;
            Ok(Settings {
                endpoint,
                credentials: Some((username, password)),
                keystone: None,
            })
        }
        Resolved::NeedPassword { username, .. } => Err(CliError::Usage(format!(
            "no password for {username}: pass --password-stdin or set HIL_PASSWORD"
        ))),
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `$XDG_CONFIG_HOME/hil/config.toml`, else `~/.config/hil/config.toml`.
pub fn default_config_path() -> Option<PathBuf> {
    let base = env_var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| env_var("HOME").map(|h| Path::new(&h).join(".config")))?;
    Some(base.join("hil").join("config.toml"))
}

/// Reads the config file. A missing default file is fine; a missing `--config` file is not.
fn load_file(explicit: Option<&Path>) -> Result<Layer, CliError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match default_config_path() {
            Some(p) if p.exists() => p,
            _ => return Ok(Layer::default()),
        },
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display())))?;
    let layer: Layer = toml::from_str(&text).map_err(|e| {
        let first = e
            .message()
            .lines()
            .next()
            .unwrap_or("invalid TOML")
            .to_string();
        CliError::Usage(format!("{}: {first}", path.display()))
    })?;
    if layer.password.is_some() {
        warn_if_readable_by_others(&path);
    }
    Ok(layer)
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            eprintln!(
                "warning: {} holds a password but other users may read it; run `chmod 600 {}`",
                path.display(),
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(endpoint: Option<&str>, user: Option<&str>, password: Option<&str>) -> Layer {
        Layer {
            endpoint: endpoint.map(Into::into),
            username: user.map(Into::into),
            password: password.map(Into::into),
        }
    }

    fn ready(r: Resolved) -> Settings {
        match r {
            Resolved::Ready(s) => s,
            other => panic!("expected settings, got {other:?}"),
        }
    }

    #[test]
    fn flags_beat_environment_beats_file() {
        let s = ready(
            merge(
                layer(Some("http://flag"), None, None),
                layer(Some("http://env"), Some("alice"), Some("a-pw")),
                layer(Some("http://file"), Some("bob"), Some("b-pw")),
            )
            .unwrap(),
        );
        assert_eq!(s.endpoint, "http://flag");
        assert_eq!(s.credentials, Some(("alice".into(), "a-pw".into())));

        let s = ready(
            merge(
                Layer::default(),
                Layer::default(),
                layer(Some("http://file"), Some("bob"), Some("b-pw")),
            )
            .unwrap(),
        );
        assert_eq!(s.endpoint, "http://file");
        assert_eq!(s.credentials, Some(("bob".into(), "b-pw".into())));
    }

    #[test]
    fn a_password_only_goes_with_its_own_user() {
        let r = merge(
            layer(None, Some("bob"), None),
            layer(Some("http://env"), Some("alice"), Some("a-pw")),
            Layer::default(),
        )
        .unwrap();
        assert_eq!(
            r,
            Resolved::NeedPassword {
                endpoint: "http://env".into(),
                username: "bob".into()
            }
        );
        // The file's password is used when the file names the same user.
        let s = ready(
            merge(
                layer(None, Some("bob"), None),
                layer(Some("http://env"), Some("alice"), Some("a-pw")),
                layer(None, Some("bob"), Some("b-pw")),
            )
            .unwrap(),
        );
        assert_eq!(s.credentials, Some(("bob".into(), "b-pw".into())));
    }

    #[test]
    fn a_password_without_a_user_is_not_sent() {
        let s = ready(
            merge(
                Layer::default(),
                layer(Some("http://env"), None, Some("pw")),
                Layer::default(),
            )
            .unwrap(),
        );
        assert_eq!(s.credentials, None);
        assert!(matches!(
            merge(
                layer(None, None, Some("pw")),
                layer(Some("http://env"), None, None),
                Layer::default()
            ),
            Err(CliError::Usage(_))
        ));
    }

    #[test]
    fn no_endpoint_is_a_usage_error() {
        let err = merge(Layer::default(), Layer::default(), Layer::default()).unwrap_err();
        assert!(matches!(err, CliError::Usage(m) if m.contains("HIL_ENDPOINT")));
    }
}
