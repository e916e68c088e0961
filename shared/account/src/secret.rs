//! Random values and what is derived from them. Every secret is 32 random bytes from the
//! operating system, written as unpadded base64url (43 characters): long enough for OWASP's
//! session-id entropy (≥ 64 bits) many times over, and a valid PKCE verifier (RFC 7636 §4.1).

use base64ct::{Base64UrlUnpadded, Encoding};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

/// A fresh 256-bit random value, base64url. `Err` only if the system has no randomness.
pub fn random_token() -> Result<String, rand_core::Error> {
    let mut bytes = [0u8; 32];
    OsRng.try_fill_bytes(&mut bytes)?;
    Ok(Base64UrlUnpadded::encode_string(&bytes))
}

/// RFC 7636 §4.2's `S256` code challenge of a verifier (also OIDC's `at_hash` shape).
pub fn s256(verifier: &str) -> String {
    Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes()))
}

/// What a session id is stored under: its SHA-256, hex. The id itself is only ever in the
/// browser's cookie, so a copy of the database signs nobody in.
pub fn session_hash(session_id: &str) -> String {
    Sha256::digest(session_id.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Equality that takes as long for every mismatch (CSRF tokens, `state`).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_url_safe_characters_and_never_repeat() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_eq!(a.len(), 43);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn s256_is_rfc_7636s_appendix_b_example() {
        assert_eq!(s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn a_session_is_stored_under_a_hash_that_is_not_its_id() {
        let id = random_token().unwrap();
        let h = session_hash(&id);
        assert_eq!(h.len(), 64);
        assert!(!h.contains(&id));
        assert_eq!(h, session_hash(&id));
    }

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
        assert!(!constant_time_eq("", "a"));
    }
}
