//! Keystone v3 password authentication, for HIL servers that use the Keystone backend: the
//! settings OpenStack's own tools take (`OS_AUTH_URL`, `OS_USERNAME`, ...) give a token that
//! [`crate::Client::with_token`] sends.
//!
//! ```no_run
//! # async fn demo() -> Result<(), hil_client::Error> {
//! use hil_client::keystone::{Credentials, Domain};
//! let creds = Credentials {
//!     auth_url: "https://keystone.example:5000/v3".into(),
//!     username: "alice".into(),
//!     password: "secret".into(),
//!     project_name: "physics".into(),
//!     user_domain: Domain::Name("Default".into()),
//!     project_domain: Domain::Name("Default".into()),
//! };
//! let token = creds.issue_token().await?;
//! let hil = hil_client::Client::new("http://hil.example:5000")?.with_token(&token);
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

use serde_json::{json, Value};

use crate::error::{root_cause, Error};

/// A Keystone domain, by name or by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Domain {
    Name(String),
    Id(String),
}

impl Domain {
    fn json(&self) -> Value {
        match self {
            Domain::Name(name) => json!({"name": name}),
            Domain::Id(id) => json!({"id": id}),
        }
    }
}

impl Default for Domain {
    fn default() -> Self {
        Domain::Name("Default".into())
    }
}

/// A Keystone user and the project its token is for. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Keystone's v3 endpoint; a URL without `/v3` gets it appended.
    pub auth_url: String,
    pub username: String,
    pub password: String,
    pub project_name: String,
    pub user_domain: Domain,
    pub project_domain: Domain,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("auth_url", &self.auth_url)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("project_name", &self.project_name)
            .finish_non_exhaustive()
    }
}

/// How long Keystone may take to issue a token.
const TIMEOUT: Duration = Duration::from_secs(30);

impl Credentials {
    /// `.../v3/auth/tokens` for this `auth_url`.
    fn tokens_url(&self) -> String {
        let base = self.auth_url.trim_end_matches('/');
        if base.ends_with("/v3") {
            format!("{base}/auth/tokens?nocatalog")
        } else {
            format!("{base}/v3/auth/tokens?nocatalog")
        }
    }

    /// A project-scoped token (Keystone's `X-Subject-Token`).
    pub async fn issue_token(&self) -> Result<String, Error> {
        let request = json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": self.username, "password": self.password,
                "domain": self.user_domain.json()}}},
            "scope": {"project": {"name": self.project_name,
                                  "domain": self.project_domain.json()}}}});
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| self.unreachable(&e))?;
        let response = http
            .post(self.tokens_url())
            .json(&request)
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        let status = response.status();
        if status.as_u16() != 201 {
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let why = body["error"]["message"]
                .as_str()
                .unwrap_or("no reason given")
                .to_string();
            return Err(Error::Keystone(format!(
                "Keystone at {} refused {} (HTTP {}): {why}",
                self.auth_url,
                self.username,
                status.as_u16()
            )));
        }
        response
            .headers()
            .get("X-Subject-Token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| Error::Keystone("Keystone issued no X-Subject-Token".into()))
    }

    fn unreachable(&self, e: &reqwest::Error) -> Error {
        Error::Keystone(format!(
            "cannot reach Keystone at {}: {}",
            self.auth_url,
            root_cause(e)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_url_has_one_v3() {
        let mut c = Credentials {
            auth_url: "http://k:5000/v3/".into(),
            username: "u".into(),
            password: "secret".into(),
            project_name: "p".into(),
            user_domain: Domain::default(),
            project_domain: Domain::Id("default".into()),
        };
        assert_eq!(c.tokens_url(), "http://k:5000/v3/auth/tokens?nocatalog");
        c.auth_url = "http://k:5000".into();
        assert_eq!(c.tokens_url(), "http://k:5000/v3/auth/tokens?nocatalog");
        assert!(!format!("{c:?}").contains("secret"));
        assert_eq!(c.project_domain.json(), json!({"id": "default"}));
    }
}
