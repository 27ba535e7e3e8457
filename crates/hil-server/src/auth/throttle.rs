//! Failed-login throttling. Failures are counted per user name and per client address in a
//! fixed window; once either count reaches its limit, further attempts are refused (429 with
//! Retry-After) until that window ends. Refusing costs no password hash, so a guessing flood
//! costs the server almost nothing.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::AuthConfig;

/// Keys tracked at most per kind; when full, finished windows go, and if none had finished,
/// all of them (an attacker who fills the table only resets the counts).
const CAPACITY: usize = 100_000;

pub struct FailedLogins {
    users: Counter<String>,
    addresses: Counter<IpAddr>,
}

impl FailedLogins {
    pub fn new(config: &AuthConfig) -> FailedLogins {
        let window = Duration::from_secs(config.failed_login_window_secs.max(1));
        FailedLogins {
            users: Counter::new(config.max_failed_logins_per_user, window),
            addresses: Counter::new(config.max_failed_logins_per_address, window),
        }
    }

    /// How long the caller must wait before its next attempt, if its user name or its address
    /// has reached the limit.
    pub fn wait(&self, user: &str, address: Option<IpAddr>) -> Option<Duration> {
        let by_user = self.users.wait(user);
        let by_address = address.and_then(|a| self.addresses.wait(&client_key(a)));
        by_user.max(by_address)
    }

    /// Counts a failure; true when it brought the user or the address to its limit.
    pub fn failed(&self, user: &str, address: Option<IpAddr>) -> bool {
        let user_limited = self.users.fail(user);
        let address_limited = address.is_some_and(|a| self.addresses.fail(&client_key(a)));
        user_limited || address_limited
    }

    /// A correct password ends the user's count (not the address's: an attacker could
    /// otherwise interleave logins of their own).
    pub fn succeeded(&self, user: &str) {
        self.users.clear(user);
    }
}

/// The unit an address is counted in: an IPv4 address, or an IPv6 /64 (one host usually has
/// a whole /64 to pick addresses from).
fn client_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(prefix.into())
            }
        },
    }
}

struct Counter<K> {
    /// 0: unlimited.
    limit: u32,
    window: Duration,
    entries: Mutex<HashMap<K, Window>>,
}

struct Window {
    started: Instant,
    failures: u32,
}

impl<K: Hash + Eq> Counter<K> {
    fn new(limit: u32, window: Duration) -> Counter<K> {
        Counter {
            limit,
            window,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn wait<Q>(&self, key: &Q) -> Option<Duration>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.limit == 0 {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let w = entries.get(key)?;
        let ends = w.started + self.window;
        let now = Instant::now();
        (w.failures >= self.limit && ends > now).then(|| ends - now)
    }

    /// Counts a failure; true when this one reached the limit.
    fn fail<Q>(&self, key: &Q) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if self.limit == 0 {
            return false;
        }
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CAPACITY && !entries.contains_key(key) {
            entries.retain(|_, w| w.started + self.window > now);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        let window = self.window;
        let w = entries.entry(key.to_owned()).or_insert(Window {
            started: now,
            failures: 0,
        });
        if w.started + window <= now {
            *w = Window {
                started: now,
                failures: 0,
            };
        }
        w.failures = w.failures.saturating_add(1);
        w.failures == self.limit
    }

    fn clear<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(user: u32, address: u32, window_secs: u64) -> FailedLogins {
        FailedLogins::new(&AuthConfig {
            max_failed_logins_per_user: user,
            max_failed_logins_per_address: address,
            failed_login_window_secs: window_secs,
            ..AuthConfig::default()
        })
    }

    #[test]
    fn a_user_is_held_back_at_the_limit_until_a_success() {
        let t = limits(3, 0, 60);
        for _ in 0..2 {
            assert!(!t.failed("alice", None));
        }
        assert_eq!(t.wait("alice", None), None);
        assert!(
            t.failed("alice", None),
            "the third failure reaches the limit"
        );
        let wait = t.wait("alice", None).expect("at the limit");
        assert!(wait > Duration::from_secs(59) && wait <= Duration::from_secs(60));
        assert_eq!(t.wait("bob", None), None, "other users are not affected");
        t.succeeded("alice");
        assert_eq!(t.wait("alice", None), None);
    }

    #[test]
    fn an_address_is_held_back_for_any_user_name() {
        let t = limits(0, 2, 60);
        let a: IpAddr = "192.0.2.7".parse().unwrap();
        t.failed("u1", Some(a));
        t.failed("u2", Some(a));
        assert!(t.wait("u3", Some(a)).is_some());
        assert!(t.wait("u3", Some("192.0.2.8".parse().unwrap())).is_none());
        assert!(t.wait("u3", None).is_none());
    }

    #[test]
    fn ipv6_hosts_count_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let b: IpAddr = "2001:db8::ffff:1234".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn windows_end() {
        let t = FailedLogins {
            users: Counter::new(1, Duration::from_millis(20)),
            addresses: Counter::new(0, Duration::from_millis(20)),
        };
        t.failed("alice", None);
        assert!(t.wait("alice", None).is_some());
        std::thread::sleep(Duration::from_millis(30));
        assert!(t.wait("alice", None).is_none());
    }
}
