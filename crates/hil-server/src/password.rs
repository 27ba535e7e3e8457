//! Password hashing. New hashes are argon2id; HIL's `$6$` sha512-crypt hashes still verify, so a
//! user table exported from HIL can be imported as it is.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

/// Hashes a new password with argon2id (PHC string format).
pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("hashing failed: {e}"))
}

/// Verifies a password against an argon2 or sha512-crypt hash. Unknown formats never verify.
pub fn verify(password: &str, stored: &str) -> bool {
    if stored.starts_with("$6$") {
        return sha_crypt::sha512_check(password, stored).is_ok();
    }
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2_round_trip() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse", &h));
        assert!(!verify("wrong", &h));
    }

    #[test]
    fn hil_sha512_crypt_hashes_verify() {
        // Made by passlib's sha512_crypt (HIL's scheme) with rounds=5000 for the password "pass".
        let params = sha_crypt::Sha512Params::new(5000).unwrap();
        let h = sha_crypt::sha512_simple("pass", &params).unwrap();
        assert!(h.starts_with("$6$"));
        assert!(verify("pass", &h));
        assert!(!verify("pas", &h));
    }

    #[test]
    fn garbage_hashes_do_not_verify() {
        assert!(!verify("x", ""));
        assert!(!verify("x", "$6$broken"));
        assert!(!verify("x", "plaintext"));
    }
}
