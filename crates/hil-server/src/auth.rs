//! Authentication backends. They answer two questions about a caller: is it an administrator,
//! and may it act for project P.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::config::{AuthBackend, AuthConfig};
use crate::error::{ApiError, ApiResult};
use crate::store::{self, Conn, Store};

/// Who is calling.
#[derive(Debug, Clone)]
pub struct Caller {
    pub is_admin: bool,
    /// The database user, when the database backend authenticated one.
    pub user_id: Option<i64>,
}

impl Caller {
    pub fn anonymous() -> Caller {
        Caller {
            is_admin: false,
            user_id: None,
        }
    }

    pub fn admin() -> Caller {
        Caller {
            is_admin: true,
            user_id: None,
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
            _ => Ok(false),
        }
    }
}

pub struct Authenticator {
    backend: AuthBackend,
    require_authentication: bool,
    cache: CredentialCache,
}

impl Authenticator {
    pub fn new(config: &AuthConfig) -> Authenticator {
        Authenticator {
            backend: config.backend,
            require_authentication: config.require_authentication,
            cache: CredentialCache::new(Duration::from_secs(config.cache_ttl_secs)),
        }
    }

    /// HIL's extension name for the backend.
    pub fn extension_name(&self) -> &'static str {
        match self.backend {
            AuthBackend::Database => "hil.ext.auth.database",
            AuthBackend::Null => "hil.ext.auth.null",
        }
    }

    pub fn is_database(&self) -> bool {
        self.backend == AuthBackend::Database
    }

    /// Authenticates a request. Failure is 401 when authentication is required, otherwise the
    /// caller proceeds anonymously. Unknown users and wrong passwords look the same (HIL
    /// answered 404 for unknown users, which let anyone enumerate them).
    pub async fn authenticate(&self, store: &Store, headers: &HeaderMap) -> ApiResult<Caller> {
        let outcome = match self.backend {
            AuthBackend::Null => Some(Caller::admin()),
            AuthBackend::Database => self.check_basic(store, headers).await?,
        };
        match outcome {
            Some(caller) => Ok(caller),
            None if self.require_authentication => Err(ApiError::auth_required()),
            None => Ok(Caller::anonymous()),
        }
    }

    async fn check_basic(&self, store: &Store, headers: &HeaderMap) -> ApiResult<Option<Caller>> {
        let Some((name, password)) = basic_credentials(headers) else {
            return Ok(None);
        };
        let user = store::users::get(&mut *store.single_read().await?, &name).await?;
        let Some(user) = user else {
            return Ok(None);
        };
        let verified = if self.cache.hit(&name, &password, &user.hashed_password) {
            true
        } else {
            let stored = user.hashed_password.clone();
            let pw = password.clone();
            // Hashing costs tens to hundreds of milliseconds; keep it off the async threads.
            let ok = tokio::task::spawn_blocking(move || crate::password::verify(&pw, &stored))
                .await
                .map_err(|e| ApiError::Internal(format!("password check panicked: {e}")))?;
            if ok {
                self.cache.remember(&name, &password, &user.hashed_password);
            }
            ok
        };
        Ok(verified.then_some(Caller {
            is_admin: user.is_admin,
            user_id: Some(user.id),
        }))
    }

    /// Forgets a user's cached credentials (user deleted or password changed).
    pub fn forget(&self, name: &str) {
        self.cache.forget(name);
    }
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

/// Remembers recently verified credentials so that a request does not pay a full password
/// hash. An entry holds a keyed MAC of (user, password), never the password, and the stored
/// hash it was verified against: a password change or a deleted user makes it miss, in every
/// process sharing the database, because the caller always reads the current user row.
struct CredentialCache {
    ttl: Duration,
    key: [u8; 32],
    entries: Mutex<HashMap<String, CacheEntry>>,
}

struct CacheEntry {
    mac: [u8; 32],
    stored_hash: String,
    expires: Instant,
}

const CACHE_CAPACITY: usize = 10_000;

impl CredentialCache {
    fn new(ttl: Duration) -> CredentialCache {
        CredentialCache {
            ttl,
            key: rand::random(),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn mac(&self, name: &str, password: &str) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length works");
        mac.update(name.as_bytes());
        mac.update(&[0]);
        mac.update(password.as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn hit(&self, name: &str, password: &str, stored_hash: &str) -> bool {
        if self.ttl.is_zero() {
            return false;
        }
        let mac = self.mac(name, password);
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(name).is_some_and(|e| {
            e.expires > Instant::now()
                && e.stored_hash == stored_hash
                && bool::from(e.mac.ct_eq(&mac))
        })
    }

    fn remember(&self, name: &str, password: &str, stored_hash: &str) {
        if self.ttl.is_zero() {
            return;
        }
        let entry = CacheEntry {
            mac: self.mac(name, password),
            stored_hash: stored_hash.to_string(),
            expires: Instant::now() + self.ttl,
        };
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CACHE_CAPACITY {
            let now = Instant::now();
            entries.retain(|_, e| e.expires > now);
            if entries.len() >= CACHE_CAPACITY {
                entries.clear();
            }
        }
        entries.insert(name.to_string(), entry);
    }

    fn forget(&self, name: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_hits_only_the_same_password_and_hash() {
        let cache = CredentialCache::new(Duration::from_secs(60));
        cache.remember("alice", "pw", "$h1");
        assert!(cache.hit("alice", "pw", "$h1"));
        assert!(!cache.hit("alice", "other", "$h1"));
        assert!(!cache.hit("alice", "pw", "$h2"), "a changed hash must miss");
        assert!(!cache.hit("bob", "pw", "$h1"));
        cache.forget("alice");
        assert!(!cache.hit("alice", "pw", "$h1"));
    }

    #[test]
    fn cache_entries_expire() {
        let cache = CredentialCache::new(Duration::from_millis(1));
        cache.remember("alice", "pw", "$h1");
        std::thread::sleep(Duration::from_millis(5));
        assert!(!cache.hit("alice", "pw", "$h1"));
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
