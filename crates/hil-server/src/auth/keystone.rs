//! Keystone tokens (`hil.ext.auth.keystone`): who a caller's `X-Auth-Token` belongs to,
//! asked of Keystone's v3 API with HIL's own service token, and remembered for a while.
//!
//! - **Validation.** `GET /v3/auth/tokens?nocatalog` with the service token in `X-Auth-Token`
//!   and the caller's in `X-Subject-Token`: 200 gives the token's project, roles and expiry;
//!   404 (or 401 for the subject) means it is unknown, expired or revoked.
//! - **The service token** is issued with HIL's password credentials, kept until shortly
//!   before it expires, and issued again when Keystone stops taking it.
//! - **The cache** is keyed by a keyed MAC of the token, never the token. A validated token is
//!   trusted until it expires or `revalidate_secs` pass, whichever is first, so a revocation
//!   takes effect within that interval. Refused tokens are remembered for the same interval
//!   (a refused token never becomes good). The cache is bounded.
//! - **Failures.** Keystone unreachable, slow or answering nonsense gives 503 with a clear
//!   message; the request never waits longer than `timeout_secs` per call to Keystone.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::config::KeystoneConfig;
use crate::error::{ApiError, ApiResult};

/// A service token this close to its expiry is replaced before use.
const SERVICE_TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// The pause before repeating a request Keystone failed with a server error.
const SERVER_ERROR_PAUSE: Duration = Duration::from_millis(250);

/// What a valid token says about its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The token's user name.
    pub user: String,
    /// The token carries the admin role.
    pub is_admin: bool,
    /// The project the token is scoped to: its id and name.
    pub project: Option<(String, String)>,
}

pub struct Keystone {
    config: KeystoneConfig,
    /// Keystone's v3 URL without a trailing `/`.
    base: String,
    http: reqwest::Client,
    service: tokio::sync::Mutex<Option<ServiceToken>>,
    cache: TokenCache,
}

struct ServiceToken {
    token: String,
    expires: SystemTime,
}

impl Keystone {
    pub fn new(config: &KeystoneConfig) -> Keystone {
        let timeout = Duration::from_secs_f64(config.timeout_secs.max(0.001));
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .expect("an HTTP client with timeouts");
        Keystone {
            base: config.auth_url.trim_end_matches('/').to_string(),
            http,
            service: tokio::sync::Mutex::new(None),
            cache: TokenCache::new(
                Duration::from_secs(config.revalidate_secs),
                config.cache_capacity,
            ),
            config: config.clone(),
        }
    }

    /// Who holds `token`: Some(identity) when Keystone vouches for it, None when it is unknown,
    /// expired or revoked; 503 when Keystone cannot be asked.
    pub async fn identify(&self, token: &str) -> ApiResult<Option<Identity>> {
        if let Some(known) = self.cache.get(token) {
            return Ok(known);
        }
        let mut outcome = self.validate(token, false).await?;
        if matches!(outcome, Validation::ServiceTokenRefused) {
            outcome = self.validate(token, true).await?; // with a freshly issued service token
        }
        let (identity, expires) = match outcome {
            Validation::Valid(identity, expires) => (Some(identity), Some(expires)),
            Validation::Invalid => (None, None),
            Validation::ServiceTokenRefused => {
                return Err(unavailable(
                    "Keystone refused HIL's own service credentials".into(),
                ))
            }
        };
        self.cache.put(token, identity.clone(), expires);
        Ok(identity)
    }

    async fn validate(&self, token: &str, fresh_service_token: bool) -> ApiResult<Validation> {
        let service = self.service_token(fresh_service_token).await?;
        let request = || {
            self.http
                .get(format!("{}/auth/tokens?nocatalog", self.base))
                .header("X-Auth-Token", &service)
                .header("X-Subject-Token", token)
        };
        let response = send_retrying_server_errors(request).await?;
        match response.status() {
            StatusCode::OK => {
                let body: Value = response.json().await.map_err(|e| unreachable(&e))?;
                let (identity, expires) = self.identity_of(&body)?;
                Ok(Validation::Valid(identity, expires))
            }
            StatusCode::NOT_FOUND => Ok(Validation::Invalid),
            // Keystone answers 401 for a bad service token, and for some malformed subject
            // tokens; a fresh service token tells the two apart.
            StatusCode::UNAUTHORIZED if fresh_service_token => Ok(Validation::Invalid),
            StatusCode::UNAUTHORIZED => Ok(Validation::ServiceTokenRefused),
            StatusCode::FORBIDDEN => Err(unavailable(
                "HIL's Keystone service user may not validate tokens (it needs the admin or \
                 service role)"
                    .into(),
            )),
            other => Err(unavailable(format!(
                "Keystone answered a token validation with HTTP {other}"
            ))),
        }
    }

    /// The admin role and the project of a validated token, and when it expires.
    fn identity_of(&self, body: &Value) -> ApiResult<(Identity, SystemTime)> {
        let token = &body["token"];
        let expires = token["expires_at"]
            .as_str()
            .and_then(|t| humantime::parse_rfc3339_weak(t.trim_end_matches('Z')).ok())
            .ok_or_else(|| unavailable("Keystone's token has no readable expires_at".into()))?;
        let is_admin = token["roles"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["name"].as_str() == Some(self.config.admin_role.as_str()));
        let project = match (
            token["project"]["id"].as_str(),
            token["project"]["name"].as_str(),
        ) {
            (Some(id), Some(name)) => Some((id.to_string(), name.to_string())),
            _ => None,
        };
        let user = token["user"]["name"].as_str().unwrap_or("?").to_string();
        Ok((
            Identity {
                user,
                is_admin,
                project,
            },
            expires,
        ))
    }

    /// HIL's own token, issued when there is none, when it is about to expire, or when asked.
    async fn service_token(&self, fresh: bool) -> ApiResult<String> {
        let mut slot = self.service.lock().await;
        let usable = slot.as_ref().filter(|s| {
            !fresh
                && s.expires
                    .duration_since(SystemTime::now())
                    .is_ok_and(|left| left > SERVICE_TOKEN_MARGIN)
        });
        if let Some(service) = usable {
            return Ok(service.token.clone());
        }
        let issued = self.issue_service_token().await?;
        let token = issued.token.clone();
        *slot = Some(issued);
        Ok(token)
    }

    async fn issue_service_token(&self) -> ApiResult<ServiceToken> {
        let k = &self.config;
        let request = json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": k.username, "password": k.password,
                "domain": {"name": k.user_domain_name}}}},
            "scope": {"project": {"name": k.project_name,
                                  "domain": {"name": k.project_domain_name}}}}});
        let post = || {
            self.http
                .post(format!("{}/auth/tokens?nocatalog", self.base))
                .json(&request)
        };
        let response = send_retrying_server_errors(post).await?;
        if response.status() != StatusCode::CREATED {
            tracing::error!(status = %response.status(), user = %k.username,
                "Keystone refused HIL's service credentials");
            return Err(unavailable(format!(
                "Keystone refused HIL's service credentials (HTTP {})",
                response.status()
            )));
        }
        let token = response
            .headers()
            .get("X-Subject-Token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| unavailable("Keystone issued no X-Subject-Token".into()))?;
        let body: Value = response.json().await.map_err(|e| unreachable(&e))?;
        let (_, expires) = self.identity_of(&body)?;
        Ok(ServiceToken { token, expires })
    }
}

enum Validation {
    Valid(Identity, SystemTime),
    Invalid,
    ServiceTokenRefused,
}

/// Sends a request; an answer of 500 or more is tried once more after a moment, since a
/// loaded Keystone (on SQLite, say) sometimes fails a request that succeeds when repeated.
async fn send_retrying_server_errors(
    request: impl Fn() -> reqwest::RequestBuilder,
) -> ApiResult<reqwest::Response> {
    let response = request().send().await.map_err(|e| unreachable(&e))?;
    if !response.status().is_server_error() {
        return Ok(response);
    }
    tracing::warn!(status = %response.status(), "Keystone failed a request; trying once more");
    tokio::time::sleep(SERVER_ERROR_PAUSE).await;
    request().send().await.map_err(|e| unreachable(&e))
}

fn unavailable(message: String) -> ApiError {
    ApiError::Unavailable(message)
}

/// Keystone could not be reached or did not answer in time. reqwest's text names the URL,
/// which holds no secret (tokens travel in headers).
fn unreachable(error: &reqwest::Error) -> ApiError {
    let why = hil_drivers::http_error::error_chain(error);
    tracing::warn!(error = %why, "Keystone is unavailable");
    let what = if error.is_timeout() {
        "did not answer in time"
    } else {
        "cannot be reached"
    };
    unavailable(format!("The identity service (Keystone) {what}: {why}"))
}

/// Validated and refused tokens, keyed by a keyed MAC of the token.
struct TokenCache {
    revalidate: Duration,
    capacity: usize,
    key: [u8; 32],
    entries: Mutex<HashMap<[u8; 32], CachedToken>>,
}

struct CachedToken {
    identity: Option<Identity>,
    /// When Keystone must be asked again.
    until: Instant,
}

impl TokenCache {
    fn new(revalidate: Duration, capacity: usize) -> TokenCache {
        TokenCache {
            revalidate,
            capacity,
            key: rand::random(),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn mac(&self, token: &str) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length works");
        mac.update(token.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Some(answer) while the remembered answer is still good.
    fn get(&self, token: &str) -> Option<Option<Identity>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.get(&self.mac(token))?;
        (entry.until > Instant::now()).then(|| entry.identity.clone())
    }

    /// Remembers an answer until `revalidate` passes, or the token expires if that is sooner.
    fn put(&self, token: &str, identity: Option<Identity>, expires: Option<SystemTime>) {
        if self.revalidate.is_zero() || self.capacity == 0 {
            return;
        }
        let mut lifetime = self.revalidate;
        if let Some(expires) = expires {
            let left = expires
                .duration_since(SystemTime::now())
                .unwrap_or_default();
            lifetime = lifetime.min(left);
        }
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity {
            entries.retain(|_, e| e.until > now);
            if entries.len() >= self.capacity {
                entries.clear(); // forgetting is always safe: it only costs a validation
            }
        }
        entries.insert(
            self.mac(token),
            CachedToken {
                identity,
                until: now + lifetime,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin() -> Option<Identity> {
        Some(Identity {
            user: "root".into(),
            is_admin: true,
            project: None,
        })
    }

    #[test]
    fn answers_are_remembered_until_revalidation_or_expiry() {
        let cache = TokenCache::new(Duration::from_secs(60), 10);
        assert_eq!(cache.get("t1"), None);
        cache.put("t1", admin(), None);
        assert_eq!(cache.get("t1"), Some(admin()));
        cache.put("refused", None, None);
        assert_eq!(cache.get("refused"), Some(None));
        // a token that expires in the past is not remembered as valid
        cache.put(
            "t2",
            admin(),
            Some(SystemTime::now() - Duration::from_secs(1)),
        );
        assert_eq!(cache.get("t2"), None);
        let off = TokenCache::new(Duration::ZERO, 10);
        off.put("t1", admin(), None);
        assert_eq!(off.get("t1"), None);
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = TokenCache::new(Duration::from_secs(60), 3);
        for i in 0..10 {
            cache.put(&format!("t{i}"), admin(), None);
        }
        assert!(cache.entries.lock().unwrap().len() <= 3);
        assert_eq!(cache.get("t9"), Some(admin()));
    }

    #[test]
    fn tokens_are_read_as_keystone_writes_them() {
        let k = Keystone::new(&KeystoneConfig {
            auth_url: "http://127.0.0.1:1/v3/".into(),
            ..KeystoneConfig::default()
        });
        assert_eq!(k.base, "http://127.0.0.1:1/v3");
        let body = json!({"token": {"expires_at": "2030-01-02T03:04:05.000000Z",
            "user": {"id": "u1", "name": "alice"},
            "project": {"id": "abc123", "name": "physics", "domain": {"id": "default"}},
            "roles": [{"id": "r1", "name": "member"}, {"id": "r2", "name": "reader"}]}});
        let (identity, expires) = k.identity_of(&body).unwrap();
        assert_eq!(
            identity,
            Identity {
                user: "alice".into(),
                is_admin: false,
                project: Some(("abc123".into(), "physics".into()))
            }
        );
        assert!(expires > SystemTime::now());
        let admin = json!({"token": {"expires_at": "2030-01-02T03:04:05Z",
            "roles": [{"name": "admin"}]}});
        assert!(k.identity_of(&admin).unwrap().0.is_admin);
        assert!(k.identity_of(&json!({"token": {}})).is_err());
    }
}
