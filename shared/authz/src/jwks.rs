//! The issuer's JSON Web Key Set: parsed once per document, looked up by `kid` and `alg`.

use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::Value;

/// A public key usable for exactly one family of algorithms, as the raw material verification
/// starts from (parsing a key set is then byte copying: no big-number work).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// RS256 and PS256: modulus and exponent, big-endian (at least 2048 bits: weaker keys
    /// are skipped when parsing).
    Rsa {
        /// The modulus.
        n: Vec<u8>,
        /// The public exponent.
        e: Vec<u8>,
    },
    /// ES256 (P-256 only): the uncompressed point `04 ‖ x ‖ y`.
    P256(Vec<u8>),
    /// EdDSA (Ed25519 only): the 32-byte key.
    Ed25519(Vec<u8>),
}

impl PublicKey {
    /// Whether this key may verify `alg` (no algorithm confusion: RFC 8725 §3.1).
    pub fn fits(&self, alg: &str) -> bool {
        matches!(
            (self, alg),
            (PublicKey::Rsa { .. }, "RS256" | "PS256")
                | (PublicKey::P256(_), "ES256")
                | (PublicKey::Ed25519(_), "EdDSA")
        )
    }
}

/// One usable signing key of a JWKS.
#[derive(Debug, Clone)]
pub struct Jwk {
    /// Its `kid`, when it has one.
    pub kid: Option<String>,
    /// The key's own `alg`, when the JWKS names one: it must equal the token's.
    pub alg: Option<String>,
    /// The key itself.
    pub key: PublicKey,
}

/// The usable signing keys of one JWKS document.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<Jwk>,
    /// Entries that were not usable signing keys (encryption keys, unknown types, weak RSA).
    pub skipped: usize,
}

/// A JWKS document that cannot be read at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeySetError {
    /// Not JSON, or no `keys` array.
    #[error("the JWKS is not a JSON object with a `keys` array: {0}")]
    NotAKeySet(String),
}

impl KeySet {
    /// Reads a JWKS document, keeping the usable signing keys and counting the rest.
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

    /// How many usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there is none.
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
    let bytes =
        |name: &str| entry.get(name).and_then(Value::as_str).and_then(|v| Base64UrlUnpadded::decode_vec(v).ok());
    let key = match (kty, crv) {
        ("RSA", _) => {
            let n: Vec<u8> = bytes("n")?.into_iter().skip_while(|b| *b == 0).collect();
            let e: Vec<u8> = bytes("e")?.into_iter().skip_while(|b| *b == 0).collect();
            // RFC 7518 §3.3: at least 2048 bits.
            if n.len() < 256 || (n.len() == 256 && n[0] < 0x80) || e.is_empty() {
                return None;
            }
            PublicKey::Rsa { n, e }
        }
        ("EC", Some("P-256")) => {
            let (x, y) = (bytes("x")?, bytes("y")?);
            if x.len() != 32 || y.len() != 32 {
                return None;
            }
            PublicKey::P256([&[0x04][..], &x, &y].concat())
        }
        ("OKP", Some("Ed25519")) => PublicKey::Ed25519(bytes("x").filter(|x| x.len() == 32)?),
        _ => return None,
    };
    Some(Jwk { kid, alg, key })
}
