//! Driver registrations (`switch_register`'s and `node_register`'s driver members): their
//! closed schemas, and which members are secrets that no response or log may show.

use serde_json::{Map, Value};

/// Whether a registration member holds a secret (never shown, never logged).
pub fn is_secret_member(key: &str) -> bool {
    key.contains("password") || key.contains("token")
}

/// `text` with every secret member of `config` replaced by `********`, longest secret first.
pub fn redact_secrets(config: &Map<String, Value>, text: &str) -> String {
    let mut secrets: Vec<&str> = config
        .iter()
        .filter(|(k, _)| is_secret_member(k))
        .filter_map(|(_, v)| v.as_str())
        .filter(|s| !s.is_empty())
        .collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets
        .into_iter()
        .fold(text.to_string(), |acc, secret| redact_one(&acc, secret))
}

/// A secret this long is redacted wherever it occurs; a shorter one only where it stands as
/// a word of its own, so that the password `p` does not turn `port` into `********ort`.
const REDACT_ANYWHERE_CHARS: usize = 8;

fn redact_one(text: &str, secret: &str) -> String {
    let anywhere = secret.chars().count() >= REDACT_ANYWHERE_CHARS;
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (start, _) in text.match_indices(secret) {
        if start < copied {
            continue;
        }
        let end = start + secret.len();
        let alone = !text[..start].chars().next_back().is_some_and(is_word)
            && !text[end..].chars().next().is_some_and(is_word);
        if anywhere || alone {
            out.push_str(&text[copied..start]);
            out.push_str("********");
            copied = end;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// `config` without its secret members: what an API call may show.
pub fn public_members(config: &Map<String, Value>) -> Map<String, Value> {
    config
        .iter()
        .filter(|(k, _)| !is_secret_member(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// An optional registration member: its name and a check of its value's type.
pub type OptionalMember = (&'static str, fn(&Value) -> bool);

/// Checks that `config` has the members `required` (strings) and only those plus `optional`
/// ones, whose types their checks accept. Errors name the member, never its value.
pub fn check_members(
    config: &Map<String, Value>,
    required: &[&str],
    optional: &[OptionalMember],
) -> Result<(), String> {
    for key in required {
        match config.get(*key) {
            Some(Value::String(_)) => {}
            Some(_) => return Err(format!("OBM member {key:?} must be a string")),
            None => return Err(format!("OBM member {key:?} is missing")),
        }
    }
    for (key, value) in config {
        if required.contains(&key.as_str()) {
            continue;
        }
        match optional.iter().find(|(name, _)| name == key) {
            Some((_, ok)) if ok(value) => {}
            Some(_) => return Err(format!("OBM member {key:?} has the wrong type")),
            None => return Err(format!("OBM member {key:?} is not allowed")),
        }
    }
    Ok(())
}

/// Checks that `config` has exactly the string members `keys` (HIL's closed driver schemas).
pub fn has_exactly_string_members(config: &Map<String, Value>, keys: &[&str]) -> bool {
    check_members(config, keys, &[]).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn secrets_are_hidden_and_redacted() {
        let config = map(json!({"host": "bmc", "user": "root", "password": "calvin"}));
        assert_eq!(
            public_members(&config),
            map(json!({"host": "bmc", "user": "root"}))
        );
        assert_eq!(
            redact_secrets(&config, "login root/calvin refused"),
            "login root/******** refused"
        );
    }

    #[test]
    fn short_secrets_are_redacted_as_whole_words_only() {
        let config = map(json!({"password": "p", "token": "tok"}));
        assert_eq!(
            redact_secrets(&config, "Port gi1/0/3 is down; login p/tok refused (p)"),
            "Port gi1/0/3 is down; login ********/******** refused (********)"
        );
        assert_eq!(redact_secrets(&config, "stop: tokens"), "stop: tokens");
        let long = map(json!({"password": "longsecret99"}));
        assert_eq!(
            redact_secrets(&long, "user=admin,pw=longsecret99x"),
            "user=admin,pw=********x"
        );
    }

    #[test]
    fn member_checks_name_the_member() {
        let opt: &[OptionalMember] = &[("verify_tls", Value::is_boolean)];
        let ok = map(json!({"host": "h", "verify_tls": false}));
        assert_eq!(check_members(&ok, &["host"], opt), Ok(()));
        let missing = map(json!({}));
        assert!(check_members(&missing, &["host"], opt)
            .unwrap_err()
            .contains("\"host\" is missing"));
        let extra = map(json!({"host": "h", "port": 1}));
        assert!(check_members(&extra, &["host"], opt)
            .unwrap_err()
            .contains("\"port\" is not allowed"));
        let wrong = map(json!({"host": "h", "verify_tls": "no"}));
        assert!(check_members(&wrong, &["host"], opt)
            .unwrap_err()
            .contains("wrong type"));
    }
}
