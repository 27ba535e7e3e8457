//! Driver registrations (`switch_register`'s and `node_register`'s driver members): their
//! closed schemas, and which members are secrets that no response or log may show.

use serde_json::{Map, Value};

/// Whether a registration member holds a secret (never shown, never logged).
pub fn is_secret_member(key: &str) -> bool {
    key.contains("password") || key.contains("token")
}

/// `text` with every secret member of `config` replaced by `********`.
pub fn redact_secrets(config: &Map<String, Value>, text: &str) -> String {
    config
        .iter()
        .filter(|(k, _)| is_secret_member(k))
        .filter_map(|(_, v)| v.as_str())
        .filter(|s| !s.is_empty())
        .fold(text.to_string(), |acc, s| acc.replace(s, "********"))
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
