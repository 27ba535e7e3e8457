//! Authentication backends. They answer two questions about a caller: is it an administrator,
//! and may it act for project P.

mod cache;
pub mod keystone;
mod throttle;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use base64::Engine;

use crate::config::{AuthBackend, AuthConfig, ProjectMatch};
use crate::error::{ApiError, ApiResult};
use crate::metrics::Metrics;
use crate::password;
use crate::store::{self, Conn, Store};
use cache::CredentialCache;
use keystone::Keystone;
use throttle::FailedLogins;

/// How long a login waits for a password-checking thread before it is answered 503.
const CHECK_PATIENCE: Duration = Duration::from_secs(10);

/// Checked in place of the hash of a user that does not exist, so that an unknown name takes
/// as long to refuse as a wrong password and timing does not tell which names exist. Its
/// password was random and thrown away, and a match against it grants nothing anyway.
const NO_SUCH_USER_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$unw+OYMIEe/r3h8B3OLYdw$4IbBcZAIgxtgcpuaDBaw3yp6CdPjFWG7U/WJ8OiLsmU";

/// A login held back by the failed-login limits is answered 429 only after this pause: a
/// guessing client that ignores `Retry-After` then costs the server a few requests per
/// second per connection instead of thousands.
const HELD_BACK_PAUSE: Duration = Duration::from_millis(500);

/// Who is calling.
#[derive(Debug, Clone)]
pub struct Caller {
    pub is_admin: bool,
    /// The database user, when the database backend authenticated one.
    pub user_id: Option<i64>,
    /// The one project a Keystone token is scoped to (HIL's project id), for a non-admin.
    pub project_id: Option<i64>,
    /// Who it is, for the audit log: the user name (Keystone's prefixed `keystone:`).
    pub name: Option<String>,
}

impl Caller {
    pub fn anonymous() -> Caller {
        Caller {
            is_admin: false,
            user_id: None,
            project_id: None,
            name: None,
        }
    }

    pub fn admin() -> Caller {
        Caller {
            is_admin: true,
            user_id: None,
            project_id: None,
            name: None,
        }
    }

    /// HIL's `access(caller, P)`: admins always; "no project" means admins only; otherwise
    /// membership of P.
    pub async fn can_access(&self, c: &mut Conn, project_id: Option<i64>) -> ApiResult<bool> {
        if self.is_admin {
            return Ok(true);
        }
        match (self.user_id, project_id) {
            (Some(user), Some(project)) => Ok(store::users::is_member(c, user, project).await?),
            (None, Some(project)) => Ok(self.project_id == Some(project)),
            _ => Ok(false),
        }
    }
}

pub struct Authenticator {
    backend: AuthBackend,
    require_authentication: bool,
    verified: CredentialCache,
    rejected: CredentialCache,
    failures: FailedLogins,
    checker: password::Checker,
    /// Set with the Keystone backend.
    keystone: Option<Keystone>,
    project_match: ProjectMatch,
    metrics: Arc<Metrics>,
}

impl Authenticator {
    pub fn new(config: &AuthConfig, metrics: Arc<Metrics>) -> Authenticator {
        Authenticator {
            backend: config.backend,
            require_authentication: config.require_authentication,
            verified: CredentialCache::new(Duration::from_secs(config.cache_ttl_secs)),
            rejected: CredentialCache::new(Duration::from_secs(config.rejected_cache_secs)),
            failures: FailedLogins::new(config),
            checker: password::Checker::new(config.password_checks),
            keystone: (config.backend == AuthBackend::Keystone)
                .then(|| Keystone::new(&config.keystone)),
            project_match: config.keystone.project_match,
            metrics,
        }
    }

    /// HIL's extension name for the backend.
    pub fn extension_name(&self) -> &'static str {
        match self.backend {
            AuthBackend::Database => "hil.ext.auth.database",
            AuthBackend::Null => "hil.ext.auth.null",
            AuthBackend::Keystone => "hil.ext.auth.keystone",
        }
    }

    /// Counts a failed authentication in `hil_auth_failures_total`. `reason` is one of a
    /// fixed set of words; never a user name or a token.
    fn failed(&self, reason: &'static str) {
        let backend = match self.backend {
            AuthBackend::Database => "database",
            AuthBackend::Null => "null",
            AuthBackend::Keystone => "keystone",
        };
        self.metrics.auth_failures.inc(&[backend, reason]);
    }

    pub fn is_database(&self) -> bool {
        self.backend == AuthBackend::Database
    }

    /// Authenticates a request from `client`. Failure is 401 when authentication is required,
    /// otherwise the caller proceeds anonymously. Unknown users and wrong passwords look the
    /// same, in the answer and in its timing (HIL answered 404 for unknown users, which let
    /// anyone enumerate them).
    pub async fn authenticate(
        &self,
        store: &Store,
        headers: &HeaderMap,
        client: Option<IpAddr>,
    ) -> ApiResult<Caller> {
        let outcome = match self.backend {
            AuthBackend::Null => Some(Caller::admin()),
            AuthBackend::Database => self.check_basic(store, headers, client).await?,
            AuthBackend::Keystone => self.check_token(store, headers).await?,
        };
        match outcome {
            Some(caller) => Ok(caller),
            None if self.require_authentication => Err(ApiError::auth_required()),
            None => Ok(Caller::anonymous()),
        }
    }

    /// A Keystone token: an admin role makes an administrator; otherwise the token's project
    /// must be a HIL project (HIL's rule: named after the Keystone project's id), and the caller
    /// acts for it alone.
    async fn check_token(&self, store: &Store, headers: &HeaderMap) -> ApiResult<Option<Caller>> {
        let (Some(keystone), Some(token)) = (&self.keystone, auth_token(headers)) else {
            return Ok(None);
        };
        let identity = keystone.identify(token).await.inspect_err(|_| {
            self.failed("backend_unavailable");
        })?;
        let Some(identity) = identity else {
            tracing::info!("Keystone does not know the caller's token");
            self.failed("invalid_token");
            return Ok(None);
        };
        let principal = Some(format!("keystone:{}", identity.user));
        if identity.is_admin {
            return Ok(Some(Caller {
                name: principal,
                ..Caller::admin()
            }));
        }
        let Some((id, name)) = identity.project else {
            self.failed("unscoped_token");
            return Ok(None); // an unscoped token names no project to act for
        };
        let label = match self.project_match {
            ProjectMatch::Id => id,
            ProjectMatch::Name => name,
        };
        let project =
            store::projects::id_by_label(&mut *store.single_read().await?, &label).await?;
        if project.is_none() {
            self.failed("unknown_project");
            tracing::info!(project = %label, "a Keystone token for a project HIL does not have");
        }
        Ok(project.map(|project| Caller {
            is_admin: false,
            user_id: None,
            project_id: Some(project),
            name: principal,
        }))
    }

    async fn check_basic(
        &self,
        store: &Store,
        headers: &HeaderMap,
        client: Option<IpAddr>,
    ) -> ApiResult<Option<Caller>> {
        let Some((name, password)) = basic_credentials(headers) else {
            return Ok(None);
        };
        // A guessing flood is turned away here, before it costs even a database read.
        if !self.verified.remembers(&name, &password) {
            self.refuse_if_held_back(&name, client).await?;
        }
        let user = store::users::get(&mut *store.single_read().await?, &name).await?;
        let stored = user.as_ref().map(|u| u.hashed_password.as_str());
        let verified = self
            .check_password(&name, &password, stored, client)
            .await?;
        Ok(user.filter(|_| verified).map(|user| Caller {
            is_admin: user.is_admin,
            user_id: Some(user.id),
            project_id: None,
            name: Some(name),
        }))
    }

    /// Whether `password` is `name`'s (`stored`: the user's hash; None: no such user, which
    /// costs the same hash as a wrong password). A password verified recently passes at once,
    /// even while the user or the address is held back; otherwise a caller over a
    /// failed-login limit gets 429 before any hashing.
    async fn check_password(
        &self,
        name: &str,
        password: &str,
        stored: Option<&str>,
        client: Option<IpAddr>,
    ) -> ApiResult<bool> {
        let hash = stored.unwrap_or(NO_SUCH_USER_HASH);
        if stored.is_some() && self.verified.hit(name, password, hash) {
            return Ok(true);
        }
        self.refuse_if_held_back(name, client).await?;
        let ok = if self.rejected.hit(name, password, hash) {
            false
        } else {
            let matched = self
                .checker
                .verify(password, hash, CHECK_PATIENCE)
                .await
                .map_err(checker_busy)?
                && stored.is_some();
            let cache = if matched {
                &self.verified
            } else {
                &self.rejected
            };
            cache.remember(name, password, hash);
            matched
        };
        if ok {
            self.failures.succeeded(name);
        } else {
            self.failed(if stored.is_some() {
                "wrong_password"
            } else {
                "unknown_user"
            });
            tracing::info!(user = %name, client = ?client, "failed login");
            if self.failures.failed(name, client) {
                tracing::warn!(user = %name, client = ?client,
                    "too many failed logins: further attempts are refused for a while");
            }
        }
        Ok(ok)
    }

    /// A new password's argon2id hash, made on the password threads. An empty password is
    /// refused (HIL took it, and such an account opens to anyone who knows its name).
    pub async fn hash_new_password(&self, password: &str) -> ApiResult<String> {
        if password.is_empty() {
            return Err(ApiError::Validation(
                "The password may not be empty.".into(),
            ));
        }
        self.checker
            .hash(password, CHECK_PATIENCE)
            .await
            .map_err(checker_busy)?
            .map_err(ApiError::Internal)
    }

    /// 429 (after a pause) if the user name or the client address is over its failed-login
    /// limit.
    async fn refuse_if_held_back(&self, name: &str, client: Option<IpAddr>) -> ApiResult<()> {
        match self.failures.wait(name, client) {
            Some(wait) => {
                self.failed("throttled");
                tokio::time::sleep(HELD_BACK_PAUSE).await;
                Err(ApiError::too_many_logins(wait))
            }
            None => Ok(()),
        }
    }

    /// Forgets a user's cached credentials (user deleted or password changed).
    pub fn forget(&self, name: &str) {
        self.verified.forget(name);
        self.rejected.forget(name);
    }
}

/// The password threads stayed saturated for longer than a caller waits.
fn checker_busy(_: password::Busy) -> ApiError {
    ApiError::Unavailable("Too many passwords are being checked; try again.".into())
}

/// `X-Auth-Token`, when present and not empty.
fn auth_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("x-auth-token")?
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Decodes `Authorization: Basic base64(user:password)`.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stand_in_hash_for_missing_users_is_a_real_argon2_hash() {
        let parsed = argon2::password_hash::PasswordHash::new(NO_SUCH_USER_HASH).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert!(!password::verify("", NO_SUCH_USER_HASH));
    }

    #[test]
    fn parses_basic_header() {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            "Basic YWxpY2U6c2VjcmV0OjE=".parse().unwrap(),
        );
        assert_eq!(
            basic_credentials(&h),
            Some(("alice".into(), "secret:1".into()))
        );
        h.insert("authorization", "Bearer x".parse().unwrap());
        assert_eq!(basic_credentials(&h), None);
    }
}
