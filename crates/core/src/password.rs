//! Password hashing: argon2id for every password Signpost sets.

use argon2::password_hash::PasswordVerifier;
use argon2::{Argon2, PasswordHasher};

use crate::validate::{self, ValidationError};

/// Hashes `password` with argon2id and a random salt into a PHC string.
pub fn hash_password(password: &str) -> Result<String, ValidationError> {
    validate::password(password)?;
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| ValidationError::new("password", format!("could not be hashed: {e}")))
}

/// Whether `password` matches the PHC string `hash`. A malformed hash never matches.
///
/// This is slow on purpose (tens of milliseconds); callers on an async executor run it on a
/// blocking thread.
pub fn verify_password(hash: &str, password: &str) -> bool {
    if password.len() > 1024 {
        return false;
    }
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "wrong"));
        assert!(!verify_password("not a hash", "correct horse"));
        assert_ne!(
            hash,
            hash_password("correct horse").unwrap(),
            "salts differ"
        );
    }
}
