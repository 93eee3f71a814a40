//! Passwords: argon2id for every password Signpost sets, and the hash formats real mail servers
//! store, for users imported with their existing hashes or read from a directory.
//!
//! Verified without a shortcut on the first differing byte: argon2id/argon2i, bcrypt
//! (`$2a$`/`$2b$`/`$2y$`), SHA512-CRYPT and SHA256-CRYPT (`$6$`/`$5$`, with `rounds=`), and
//! Dovecot's `{SCHEME}` prefixes of those and of `{SSHA512}`/`{SSHA256}`. Weak schemes (unsalted
//! digests, salted SHA-1, plain text) are verified only when the caller allows them.

use argon2::password_hash::PasswordVerifier;
use argon2::{Argon2, PasswordHasher};
use base64::Engine;
use sha2::Digest;

use crate::validate::{self, ValidationError};

/// Longest password checked at all (a longer one cannot be anyone's, and hashing it costs).
const MAX_PASSWORD_BYTES: usize = 1024;

/// Hashes `password` with argon2id and a random salt into a PHC string.
pub fn hash_password(password: &str) -> Result<String, ValidationError> {
    validate::password(password)?;
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| ValidationError::new("password", format!("could not be hashed: {e}")))
}

/// A password hash format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Argon2,
    Bcrypt,
    Sha512Crypt,
    Sha256Crypt,
    /// Salted SHA-512 (`{SSHA512}`): base64 of digest then salt.
    Ssha512,
    /// Salted SHA-256 (`{SSHA256}`).
    Ssha256,
    /// Salted SHA-1 (`{SSHA}`): weak.
    Ssha1,
    /// Unsalted digests (`{SHA}`, `{SHA256}`, `{SHA512}`): weak.
    Sha1,
    Sha256,
    Sha512,
    /// The password itself (`{PLAIN}`, `{CLEAR}`, `{CLEARTEXT}`): weak.
    Plain,
}

impl Scheme {
    /// Whether the scheme is verified only when weak schemes are allowed.
    pub fn is_weak(self) -> bool {
        matches!(
            self,
            Self::Ssha1 | Self::Sha1 | Self::Sha256 | Self::Sha512 | Self::Plain
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Argon2 => "ARGON2",
            Self::Bcrypt => "BLF-CRYPT",
            Self::Sha512Crypt => "SHA512-CRYPT",
            Self::Sha256Crypt => "SHA256-CRYPT",
            Self::Ssha512 => "SSHA512",
            Self::Ssha256 => "SSHA256",
            Self::Ssha1 => "SSHA",
            Self::Sha1 => "SHA",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
            Self::Plain => "PLAIN",
        }
    }
}

/// Why a hash cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemeError {
    #[error("unknown password hash format{0}")]
    Unknown(String),
    #[error("{} is a weak password scheme; allow weak schemes to use it", .0.name())]
    Weak(Scheme),
}

/// The scheme of a stored hash, and the hash without its `{SCHEME}` prefix.
pub fn identify(hash: &str) -> Result<(Scheme, &str), SchemeError> {
    if let Some(rest) = hash.strip_prefix('{') {
        let Some((prefix, inner)) = rest.split_once('}') else {
            return Err(SchemeError::Unknown(": a '{' without '}'".into()));
        };
        let scheme = match prefix.to_ascii_uppercase().as_str() {
            "ARGON2ID" | "ARGON2I" => Scheme::Argon2,
            "BLF-CRYPT" => Scheme::Bcrypt,
            "SHA512-CRYPT" => Scheme::Sha512Crypt,
            "SHA256-CRYPT" => Scheme::Sha256Crypt,
            // Dovecot's {CRYPT} holds whatever crypt(3) wrote: look at the inner prefix.
            "CRYPT" => return identify_modular(inner).map(|s| (s, inner)),
            "SSHA512" => Scheme::Ssha512,
            "SSHA256" => Scheme::Ssha256,
            "SSHA" => Scheme::Ssha1,
            "SHA" | "SHA1" => Scheme::Sha1,
            "SHA256" => Scheme::Sha256,
            "SHA512" => Scheme::Sha512,
            "PLAIN" | "CLEAR" | "CLEARTEXT" => Scheme::Plain,
            other => {
                return Err(SchemeError::Unknown(format!(
                    " {{{}}}",
                    other.chars().take(24).collect::<String>()
                )));
            }
        };
        return Ok((scheme, inner));
    }
    identify_modular(hash).map(|s| (s, hash))
}

/// Modular crypt format: `$argon2id$`, `$2b$`, `$6$`, ...
fn identify_modular(hash: &str) -> Result<Scheme, SchemeError> {
    let id = hash.split('$').nth(1).unwrap_or_default();
    match id {
        "argon2id" | "argon2i" => Ok(Scheme::Argon2),
        "2a" | "2b" | "2y" => Ok(Scheme::Bcrypt),
        "6" => Ok(Scheme::Sha512Crypt),
        "5" => Ok(Scheme::Sha256Crypt),
        _ => Err(SchemeError::Unknown(String::new())),
    }
}

/// Whether the stored hash is usable under the policy (known, and not weak unless allowed).
pub fn check_usable(hash: &str, allow_weak: bool) -> Result<Scheme, SchemeError> {
    let (scheme, _) = identify(hash)?;
    if scheme.is_weak() && !allow_weak {
        return Err(SchemeError::Weak(scheme));
    }
    Ok(scheme)
}

/// Whether `password` matches `hash` (strong schemes only). A malformed hash never matches.
///
/// This is slow on purpose for the slow schemes (tens of milliseconds); callers on an async
/// executor run it on a blocking thread.
pub fn verify_password(hash: &str, password: &str) -> bool {
    verify_password_allowing(hash, password, false)
}

/// [`verify_password`], verifying weak schemes too when `allow_weak`.
pub fn verify_password_allowing(hash: &str, password: &str, allow_weak: bool) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    let Ok((scheme, inner)) = identify(hash) else {
        return false;
    };
    if scheme.is_weak() && !allow_weak {
        return false;
    }
    let password = password.as_bytes();
    match scheme {
        Scheme::Argon2 => Argon2::default().verify_password(password, inner).is_ok(),
        Scheme::Bcrypt => bcrypt::verify(password, inner).unwrap_or(false),
        Scheme::Sha512Crypt | Scheme::Sha256Crypt => PasswordVerifier::<str>::verify_password(
            &sha_crypt::ShaCrypt::default(),
            password,
            inner,
        )
        .is_ok(),
        Scheme::Ssha512 => salted_digest::<sha2::Sha512>(inner, password, 64),
        Scheme::Ssha256 => salted_digest::<sha2::Sha256>(inner, password, 32),
        Scheme::Ssha1 => salted_digest::<sha1::Sha1>(inner, password, 20),
        Scheme::Sha1 => plain_digest::<sha1::Sha1>(inner, password),
        Scheme::Sha256 => plain_digest::<sha2::Sha256>(inner, password),
        Scheme::Sha512 => plain_digest::<sha2::Sha512>(inner, password),
        // Compared as digests, so neither the length nor the first difference shows.
        Scheme::Plain => same_bytes(
            &sha2::Sha256::digest(inner.as_bytes()),
            &sha2::Sha256::digest(password),
        ),
    }
}

/// `{SSHA*}`: base64 of the digest of password+salt, followed by the salt.
fn salted_digest<D: Digest>(encoded: &str, password: &[u8], digest_len: usize) -> bool {
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    if decoded.len() <= digest_len {
        return false;
    }
    let (expected, salt) = decoded.split_at(digest_len);
    let mut hasher = D::new();
    hasher.update(password);
    hasher.update(salt);
    same_bytes(&hasher.finalize(), expected)
}

/// `{SHA*}`: base64 (or hex) of the digest of the password.
fn plain_digest<D: Digest>(encoded: &str, password: &[u8]) -> bool {
    let computed = D::digest(password);
    let encoded = encoded.trim();
    let expected = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .filter(|d| d.len() == computed.len())
        .or_else(|| hex(encoded));
    expected.is_some_and(|e| same_bytes(&computed, &e))
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Equal, compared in time independent of where they differ.
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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

    /// Every hash in testdata/password-hashes/vectors.tsv, made by doveadm, htpasswd and
    /// mkpasswd, verifies with its password and not with a wrong one.
    #[test]
    fn real_tools_hashes_verify() {
        let vectors = include_str!("../../../testdata/password-hashes/vectors.tsv");
        let mut checked = 0;
        for line in vectors
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let mut fields = line.splitn(3, '\t');
            let (tool, password, hash) = (
                fields.next().unwrap(),
                fields.next().unwrap(),
                fields.next().unwrap(),
            );
            let (scheme, _) = identify(hash).unwrap_or_else(|e| panic!("{tool}: {e}"));
            assert!(
                verify_password_allowing(hash, password, true),
                "{tool} {hash} with {password:?}"
            );
            assert!(
                !verify_password_allowing(hash, &format!("{password}x"), true),
                "{tool}: a wrong password matched"
            );
            assert!(
                !verify_password_allowing(hash, "", true),
                "{tool}: the empty password matched"
            );
            assert_eq!(
                verify_password(hash, password),
                !scheme.is_weak(),
                "{tool}: weak schemes only when allowed"
            );
            checked += 1;
        }
        assert!(checked >= 30, "{checked} vectors");
    }

    #[test]
    fn weak_and_unknown_schemes_are_named() {
        assert_eq!(
            check_usable("{PLAIN}secret", false),
            Err(SchemeError::Weak(Scheme::Plain))
        );
        assert_eq!(check_usable("{PLAIN}secret", true), Ok(Scheme::Plain));
        assert!(matches!(
            check_usable("{MD5-CRYPT}$1$x$y", true),
            Err(SchemeError::Unknown(_))
        ));
        assert!(matches!(
            check_usable("$1$salt$hash", true),
            Err(SchemeError::Unknown(_))
        ));
        assert_eq!(
            check_usable("{CRYPT}$6$salt$hash", false),
            Ok(Scheme::Sha512Crypt)
        );
        assert!(!verify_password_allowing("{SSHA512}!!!", "x", true));
        assert!(!verify_password_allowing("{SSHA256}", "x", true));
    }
}
