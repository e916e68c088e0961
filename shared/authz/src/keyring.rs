//! The application's own signing keys (shared/api/README.md, "Authorisation as a service"): the first private key
//! signs; every key listed is published, so tokens signed before a rotation still verify
//! until they expire.
//!
//! Configured as one secret variable holding a private JWK, or a JWKS-shaped
//! `{"keys": [...]}` list. Rotating: put the new private key first and keep the old one
//! (or only its public half) after it for at least the longest token lifetime.

use crate::jwks::KeySet;
use crate::signing::{SigningError, SigningKey};
use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use jwt_compact::jwk::JsonWebKey;
use serde_json::{json, Value};
use sha2::Sha256;

/// The authorisation service's own keys: one to sign with, all of them to publish.
#[derive(Debug, Clone)]
pub struct KeyRing {
    /// The key new tokens are signed with, and its `kid`.
    pub signing: (String, SigningKey),
    /// Every published public key (the signing key's first), with `kid`, `alg`, `use`.
    pub public: Vec<Value>,
}

/// A key ring that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    /// Not JSON.
    #[error("not JSON: {0}")]
    NotJson(String),
    /// Key `index` is not a usable JWK.
    #[error("key {index}: {reason}")]
    BadKey {
        /// The key's position in the document (from 0).
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// No key can sign.
    #[error("no private key to sign with (a JWK with `d`)")]
    NoPrivateKey,
}

/// The algorithm a JWK is for, from `alg` or else its type and curve.
fn alg_of(jwk: &Value) -> Option<&'static str> {
    let s = |k: &str| jwk.get(k).and_then(Value::as_str);
    match (s("alg"), s("kty"), s("crv")) {
        (Some("RS256"), ..) => Some("RS256"),
        (Some("PS256"), ..) => Some("PS256"),
        (Some("ES256"), ..) => Some("ES256"),
        (Some("EdDSA"), ..) => Some("EdDSA"),
        (Some(_), ..) => None,
        (None, Some("RSA"), _) => Some("RS256"),
        (None, Some("EC"), Some("P-256")) => Some("ES256"),
        (None, Some("OKP"), Some("Ed25519")) => Some("EdDSA"),
        _ => None,
    }
}

/// RFC 7638 thumbprint: the default `kid`.
fn thumbprint(jwk: &Value) -> Result<String, String> {
    let parsed: JsonWebKey<'_> = serde_json::from_value(jwk.clone()).map_err(|e| e.to_string())?;
    Ok(Base64UrlUnpadded::encode_string(&parsed.thumbprint::<Sha256>()))
}

impl KeyRing {
    /// Reads a JWKS of private keys (or one private JWK); the first private key signs.
    pub fn parse(text: &str) -> Result<Self, KeyRingError> {
        let doc: Value = serde_json::from_str(text).map_err(|e| KeyRingError::NotJson(e.to_string()))?;
        let entries = match doc.get("keys").and_then(Value::as_array) {
            Some(list) => list.clone(),
            None => vec![doc],
        };
        let mut signing = None;
        let mut public = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let bad = |reason: String| KeyRingError::BadKey { index, reason };
            let alg = alg_of(entry).ok_or_else(|| bad("unknown or unsupported `alg`/`kty`".into()))?;
            let kid = match entry.get("kid").and_then(Value::as_str) {
                Some(k) => k.to_string(),
                None => thumbprint(entry).map_err(bad)?,
            };
            if entry.get("d").is_some() {
                let mut with_alg = entry.clone();
                with_alg["alg"] = alg.into();
                let key = SigningKey::from_private_jwk(&with_alg).map_err(|e: SigningError| bad(e.to_string()))?;
                public.push(key.public_jwk(&kid));
                if signing.is_none() {
                    signing = Some((kid, key));
                }
            } else {
                let mut p = entry.clone();
                p["kid"] = kid.into();
                p["alg"] = alg.into();
                p["use"] = "sig".into();
                public.push(p);
            }
        }
        let signing = signing.ok_or(KeyRingError::NoPrivateKey)?;
        // The signing key first: libraries that take "the first key" take the current one.
        if let Some(pos) = public.iter().position(|k| k.get("kid").and_then(Value::as_str) == Some(&signing.0)) {
            let current = public.remove(pos);
            public.insert(0, current);
        }
        Ok(Self { signing, public })
    }

    /// The variable's text for these keys: `current` private (the first signs), then the
    /// public halves of `retired` ones (still published during a rotation).
    pub fn document(current: &[(&str, &SigningKey)], retired: &[(&str, &SigningKey)]) -> String {
        let private = current.iter().map(|(kid, key)| {
            let mut jwk = key.private_jwk();
            jwk["kid"] = json!(kid);
            jwk
        });
        let public = retired.iter().map(|(kid, key)| key.public_jwk(kid));
        json!({ "keys": private.chain(public).collect::<Vec<_>>() }).to_string()
    }

    /// The public JWKS document (`/.well-known/jwks.json`).
    pub fn jwks(&self) -> Value {
        json!({ "keys": self.public })
    }

    /// The published keys, for verifying tokens signed with any of them.
    pub fn key_set(&self) -> KeySet {
        KeySet::parse(&self.jwks().to_string()).unwrap_or_default()
    }

    /// The signing key's public half as PEM (SubjectPublicKeyInfo).
    pub fn public_pem(&self) -> Option<String> {
        self.public.first().and_then(public_pem)
    }
}

/// A public JWK as a PEM `PUBLIC KEY` (SubjectPublicKeyInfo, RFC 5280), for libraries and
/// tools that want PEM rather than JWK.
pub fn public_pem(jwk: &Value) -> Option<String> {
    let field = |k: &str| jwk.get(k).and_then(Value::as_str).and_then(|v| Base64UrlUnpadded::decode_vec(v).ok());
    let (algorithm, key) = match (jwk.get("kty").and_then(Value::as_str), jwk.get("crv").and_then(Value::as_str)) {
        (Some("RSA"), _) => {
            // rsaEncryption, NULL parameters; the key is SEQUENCE { n, e }.
            let alg = der(
                0x30,
                &[der(0x06, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]), vec![0x05, 0x00]].concat(),
            );
            (alg, der(0x30, &[der_uint(&field("n")?), der_uint(&field("e")?)].concat()))
        }
        (Some("EC"), Some("P-256")) => {
            // id-ecPublicKey with prime256v1; the key is the uncompressed point.
            let oid_ec = der(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]);
            let oid_p256 = der(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]);
            (der(0x30, &[oid_ec, oid_p256].concat()), [vec![0x04], field("x")?, field("y")?].concat())
        }
        (Some("OKP"), Some("Ed25519")) => (der(0x30, &der(0x06, &[0x2b, 0x65, 0x70])), field("x")?),
        _ => return None,
    };
    let spki = der(0x30, &[algorithm, der(0x03, &[vec![0x00], key].concat())].concat());
    let b64 = Base64::encode_string(&spki);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or("")).collect();
    Some(format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n")))
}

/// One DER element: tag, definite length, contents.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// A non-negative INTEGER from big-endian bytes.
fn der_uint(bytes: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    let mut content = if trimmed.first().is_some_and(|b| b & 0x80 != 0) { vec![0] } else { Vec::new() };
    content.extend(if trimmed.is_empty() { vec![0] } else { trimmed });
    der(0x02, &content)
}
