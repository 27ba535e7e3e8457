//! OpenStack credentials for HIL servers that use Keystone: the `OS_*` variables OpenStack's
//! tools read, or an entry of `clouds.yaml` chosen with `OS_CLOUD` (the variables then fill in or
//! override single fields, e.g. `OS_PASSWORD` for a file without one).

use std::path::{Path, PathBuf};

use hil_client::keystone::{Credentials, Domain};
use yaml_rust2::{Yaml, YamlLoader};

use crate::error::CliError;

/// The OpenStack settings of one source, all optional.
#[derive(Debug, Default, Clone, PartialEq)]
struct Fields {
    auth_url: Option<String>,
    username: Option<String>,
    password: Option<String>,
    project_name: Option<String>,
    user_domain: Option<Domain>,
    project_domain: Option<Domain>,
}

impl Fields {
    /// `other`'s fields where it has them, ours elsewhere.
    fn overridden_by(self, other: Fields) -> Fields {
        Fields {
            auth_url: other.auth_url.or(self.auth_url),
            username: other.username.or(self.username),
            password: other.password.or(self.password),
            project_name: other.project_name.or(self.project_name),
            user_domain: other.user_domain.or(self.user_domain),
            project_domain: other.project_domain.or(self.project_domain),
        }
    }

    fn is_empty(&self) -> bool {
        *self == Fields::default()
    }
}

/// Keystone credentials from the environment (and `clouds.yaml`), or None when neither
/// `OS_AUTH_URL` nor `OS_CLOUD` is set.
pub fn from_environment() -> Result<Option<Credentials>, CliError> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let from_env = Fields {
        auth_url: env("OS_AUTH_URL"),
        username: env("OS_USERNAME"),
        password: env("OS_PASSWORD"),
        project_name: env("OS_PROJECT_NAME"),
        user_domain: domain(env("OS_USER_DOMAIN_ID"), env("OS_USER_DOMAIN_NAME")),
        project_domain: domain(env("OS_PROJECT_DOMAIN_ID"), env("OS_PROJECT_DOMAIN_NAME")),
    };
    let fields = match env("OS_CLOUD") {
        Some(cloud) => {
            let path = clouds_file(env("OS_CLIENT_CONFIG_FILE")).ok_or_else(|| {
                CliError::Usage(format!(
                    "OS_CLOUD={cloud} but no clouds.yaml was found (./clouds.yaml, \
                     ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml)"
                ))
            })?;
            cloud_entry(&path, &cloud)?.overridden_by(from_env)
        }
        None if from_env.auth_url.is_none() => return Ok(None),
        None => from_env,
    };
    credentials(fields).map(Some)
}

/// A domain given by id (preferred, as HIL's client did) or by name.
fn domain(id: Option<String>, name: Option<String>) -> Option<Domain> {
    id.map(Domain::Id).or(name.map(Domain::Name))
}

/// The complete credentials, or a usage error naming every missing setting.
fn credentials(fields: Fields) -> Result<Credentials, CliError> {
    let missing: Vec<&str> = [
        ("OS_AUTH_URL", fields.auth_url.is_none()),
        ("OS_USERNAME", fields.username.is_none()),
        ("OS_PASSWORD", fields.password.is_none()),
        ("OS_PROJECT_NAME", fields.project_name.is_none()),
    ]
    .into_iter()
    .filter_map(|(name, absent)| absent.then_some(name))
    .collect();
    if !missing.is_empty() {
        return Err(CliError::Usage(format!(
            "Keystone credentials are incomplete: set {}",
            missing.join(", ")
        )));
    }
    Ok(Credentials {
        auth_url: fields.auth_url.unwrap_or_default(),
        username: fields.username.unwrap_or_default(),
        password: fields.password.unwrap_or_default(),
        project_name: fields.project_name.unwrap_or_default(),
        user_domain: fields.user_domain.unwrap_or_default(),
        project_domain: fields.project_domain.unwrap_or_default(),
    })
}

/// The first `clouds.yaml` that exists, where OpenStack's tools look for it.
fn clouds_file(explicit: Option<String>) -> Option<PathBuf> {
    if let Some(path) = explicit {
        return Some(PathBuf::from(path));
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| home.map(|h| h.join(".config")));
    [
        Some(PathBuf::from("clouds.yaml")),
        config.map(|c| c.join("openstack/clouds.yaml")),
        Some(PathBuf::from("/etc/openstack/clouds.yaml")),
    ]
    .into_iter()
    .flatten()
    .find(|p| p.is_file())
}

/// `clouds.<cloud>.auth` of a clouds.yaml file.
fn cloud_entry(path: &Path, cloud: &str) -> Result<Fields, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display())))?;
    let fields = parse_cloud(&text, cloud)
        .map_err(|why| CliError::Usage(format!("{}: {why}", path.display())))?;
    if fields.is_empty() {
        return Err(CliError::Usage(format!(
            "{}: cloud {cloud:?} has no auth settings",
            path.display()
        )));
    }
    Ok(fields)
}

fn parse_cloud(text: &str, cloud: &str) -> Result<Fields, String> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| format!("invalid YAML: {e}"))?;
    let root = docs.first().ok_or("the file is empty")?;
    let entry = &root["clouds"][cloud];
    if entry.is_badvalue() {
        return Err(format!("no cloud named {cloud:?}"));
    }
    let auth = &entry["auth"];
    let text = |key: &str| match &auth[key] {
        Yaml::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    Ok(Fields {
        auth_url: text("auth_url"),
        username: text("username"),
        password: text("password"),
        project_name: text("project_name"),
        user_domain: domain(text("user_domain_id"), text("user_domain_name")),
        project_domain: domain(text("project_domain_id"), text("project_domain_name")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLOUDS: &str = "
clouds:
  moc:
    region_name: RegionOne
    auth:
      auth_url: https://keystone.example:5000/v3
      username: alice
      project_name: physics
      user_domain_name: Default
      project_domain_id: default
  other:
    auth: {}
";

    #[test]
    fn a_cloud_entry_is_read_and_the_environment_completes_it() {
        let entry = parse_cloud(CLOUDS, "moc").unwrap();
        assert_eq!(entry.username.as_deref(), Some("alice"));
        assert_eq!(entry.password, None);
        assert_eq!(entry.project_domain, Some(Domain::Id("default".into())));
        let env = Fields {
            password: Some("secret".into()),
            ..Fields::default()
        };
        let creds = credentials(entry.overridden_by(env)).unwrap();
        assert_eq!(creds.password, "secret");
        assert_eq!(creds.auth_url, "https://keystone.example:5000/v3");
        assert_eq!(creds.user_domain, Domain::Name("Default".into()));
        assert!(parse_cloud(CLOUDS, "nope").is_err());
        assert!(parse_cloud(CLOUDS, "other").unwrap().is_empty());
        assert!(parse_cloud("clouds: [", "moc").is_err());
    }

    #[test]
    fn missing_settings_are_named() {
        let fields = Fields {
            auth_url: Some("http://k/v3".into()),
            username: Some("u".into()),
            ..Fields::default()
        };
        let err = credentials(fields).unwrap_err();
        assert!(
            matches!(&err, CliError::Usage(m) if m.contains("OS_PASSWORD, OS_PROJECT_NAME")),
            "{err:?}"
        );
    }
}
