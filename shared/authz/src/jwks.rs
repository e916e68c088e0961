//! The issuer's JSON Web Key Set: parsed once per document, looked up by `kid` and `alg`.

use jwt_compact::alg::{Ed25519, Es256, RsaPublicKey, StrongKey};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::Algorithm;
use serde_json::Value;

pub type EcPublicKey = <Es256 as Algorithm>::VerifyingKey;
pub type EdPublicKey = <Ed25519 as Algorithm>::VerifyingKey;

/// A public key usable for exactly one family of algorithms.
#[derive(Debug, Clone)]
pub enum PublicKey {
    /// RS256 and PS256 (at least 2048 bits: weaker keys are skipped when parsing).
    Rsa(RsaPublicKey),
    /// ES256 (P-256 only).
    P256(EcPublicKey),
    /// EdDSA (Ed25519 only).
    Ed25519(EdPublicKey),
}

impl PublicKey {
    /// Whether this key may verify `alg` (no algorithm confusion: RFC 8725 §3.1).
    pub fn fits(&self, alg: &str) -> bool {
        matches!(
            (self, alg),
            (PublicKey::Rsa(_), "RS256" | "PS256") | (PublicKey::P256(_), "ES256") | (PublicKey::Ed25519(_), "EdDSA")
        )
    }
}

#[derive(Debug, Clone)]
pub struct Jwk {
    pub kid: Option<String>,
    /// The key's own `alg`, when the JWKS names one: it must equal the token's.
    pub alg: Option<String>,
    pub key: PublicKey,
}

/// The usable signing keys of one JWKS document.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<Jwk>,
    /// Entries that were not usable signing keys (encryption keys, unknown types, weak RSA).
    pub skipped: usize,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeySetError {
    #[error("the JWKS is not a JSON object with a `keys` array: {0}")]
    NotAKeySet(String),
}

impl KeySet {
    pub fn parse(json: &str) -> Result<Self, KeySetError> {
        let doc: Value = serde_json::from_str(json).map_err(|e| KeySetError::NotAKeySet(e.to_string()))?;
        let entries = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| KeySetError::NotAKeySet("no `keys` array".into()))?;
        let mut set = KeySet::default();
        for entry in entries {
            match parse_entry(entry) {
                Some(jwk) => set.keys.push(jwk),
                None => set.skipped += 1,
            }
        }
        Ok(set)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key for a token's `kid` and `alg`. Without a `kid`, only an unambiguous key is
    /// used (exactly one that fits the algorithm).
    pub fn find(&self, kid: Option<&str>, alg: &str) -> Option<&Jwk> {
        let fits = |k: &&Jwk| k.key.fits(alg) && k.alg.as_deref().is_none_or(|a| a == alg);
        match kid {
            Some(kid) => self.keys.iter().filter(|k| k.kid.as_deref() == Some(kid)).find(fits),
            None => {
                let mut candidates = self.keys.iter().filter(fits);
                let first = candidates.next()?;
                candidates.next().is_none().then_some(first)
            }
        }
    }

    /// Whether any key carries this `kid` (whatever its algorithm).
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }
}

fn parse_entry(entry: &Value) -> Option<Jwk> {
    if entry.get("use").and_then(Value::as_str).is_some_and(|u| u != "sig") {
        return None;
    }
    let kid = entry.get("kid").and_then(Value::as_str).map(str::to_string);
    let alg = entry.get("alg").and_then(Value::as_str).map(str::to_string);
    let kty = entry.get("kty").and_then(Value::as_str)?;
    let crv = entry.get("crv").and_then(Value::as_str);
    let jwk: JsonWebKey<'_> = serde_json::from_value(entry.clone()).ok()?;
    let key = match (kty, crv) {
        ("RSA", _) => {
            let key = RsaPublicKey::try_from(&jwk).ok()?;
            PublicKey::Rsa(StrongKey::try_from(key).ok()?.into_inner())
        }
        ("EC", Some("P-256")) => PublicKey::P256(EcPublicKey::try_from(&jwk).ok()?),
        ("OKP", Some("Ed25519")) => PublicKey::Ed25519(EdPublicKey::try_from(&jwk).ok()?),
        _ => return None,
    };
    Some(Jwk { kid, alg, key })
}
