//! Signing tokens with a key of our own: the local host's development Identity Service,
//! the tests, and the authorisation service's scoped tokens all use this.

use jwt_compact::alg::{Ed25519, Es256, Rsa, RsaPrivateKey};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{Algorithm, AlgorithmExt, Claims, Header};
use rand_core::OsRng;
use serde_json::{Map, Value};

type EcSigningKey = <Es256 as Algorithm>::SigningKey;
type EdSigningKey = <Ed25519 as Algorithm>::SigningKey;

/// A private key for one algorithm.
#[derive(Clone)]
pub enum SigningKey {
    /// RS256 (`pss == false`) or PS256.
    Rsa {
        /// PS256's padding rather than RS256's.
        pss: bool,
        /// The key (boxed: an RSA key is several times the size of the others).
        key: Box<RsaPrivateKey>,
    },
    /// ES256.
    P256(EcSigningKey),
    /// EdDSA (Ed25519).
    Ed25519(EdSigningKey),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.alg())
    }
}

/// Why a key cannot be made, read or used.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// Not RS256, PS256, ES256 or EdDSA.
    #[error("algorithm `{0}` cannot sign here (RS256, PS256, ES256, EdDSA)")]
    UnsupportedAlg(String),
    /// The random key could not be made.
    #[error("key generation failed: {0}")]
    Generate(String),
    /// The JWK is not a private key for its algorithm.
    #[error("not a private JWK for {alg}: {reason}")]
    BadJwk {
        /// The algorithm it names (`""`: none).
        alg: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(String),
}

impl SigningKey {
    /// A new random key for `alg`.
    pub fn generate(alg: &str) -> Result<Self, SigningError> {
        Ok(match alg {
            "RS256" | "PS256" => {
                let (key, _) = Rsa::generate(&mut OsRng, jwt_compact::alg::ModulusBits::TwoKibibytes)
                    .map_err(|e| SigningError::Generate(e.to_string()))?;
                SigningKey::Rsa { pss: alg == "PS256", key: Box::new(key.into_inner()) }
            }
            "ES256" => SigningKey::P256(EcSigningKey::random(&mut OsRng)),
            "EdDSA" => SigningKey::Ed25519(Ed25519::generate(&mut OsRng).0),
            other => return Err(SigningError::UnsupportedAlg(other.to_string())),
        })
    }

    /// The algorithm it signs with.
    pub fn alg(&self) -> &'static str {
        match self {
            SigningKey::Rsa { pss: false, .. } => "RS256",
            SigningKey::Rsa { pss: true, .. } => "PS256",
            SigningKey::P256(_) => "ES256",
            SigningKey::Ed25519(_) => "EdDSA",
        }
    }

    /// The private key as a JWK (with `alg`), the form it is stored and configured in.
    pub fn private_jwk(&self) -> Value {
        let jwk = match self {
            SigningKey::Rsa { key, .. } => JsonWebKey::from(&**key),
            SigningKey::P256(key) => JsonWebKey::from(key),
            SigningKey::Ed25519(key) => JsonWebKey::from(key),
        };
        let mut v = serde_json::to_value(&jwk).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.insert("alg".into(), self.alg().into());
        }
        v
    }

    /// Reads a private JWK (its `alg`, else its type and curve, decides the algorithm).
    pub fn from_private_jwk(jwk: &Value) -> Result<Self, SigningError> {
        let alg = jwk.get("alg").and_then(Value::as_str).unwrap_or("").to_string();
        let bad = |reason: String| SigningError::BadJwk { alg: alg.clone(), reason };
        let parsed: JsonWebKey<'_> = serde_json::from_value(jwk.clone()).map_err(|e| bad(e.to_string()))?;
        Ok(match alg.as_str() {
            "RS256" | "PS256" => SigningKey::Rsa {
                pss: alg == "PS256",
                key: Box::new(RsaPrivateKey::try_from(&parsed).map_err(|e| bad(e.to_string()))?),
            },
            "ES256" => SigningKey::P256(EcSigningKey::try_from(&parsed).map_err(|e| bad(e.to_string()))?),
            "EdDSA" => SigningKey::Ed25519(EdSigningKey::try_from(&parsed).map_err(|e| bad(e.to_string()))?),
            other => return Err(SigningError::UnsupportedAlg(other.to_string())),
        })
    }

    /// The public half as a JWKS entry.
    pub fn public_jwk(&self, kid: &str) -> Value {
        let jwk = match self {
            SigningKey::Rsa { key, .. } => JsonWebKey::from(&key.to_public_key()).to_owned_value(),
            SigningKey::P256(key) => JsonWebKey::from(key.verifying_key()).to_owned_value(),
            SigningKey::Ed25519(key) => JsonWebKey::from(&key.public_key()).to_owned_value(),
        };
        let mut v = jwk;
        if let Value::Object(m) = &mut v {
            m.insert("kid".into(), kid.into());
            m.insert("alg".into(), self.alg().into());
            m.insert("use".into(), "sig".into());
        }
        v
    }

    /// Signs `claims` (a JSON object: `exp`, `iat` etc. as numbers) with `kid` and `typ`.
    pub fn sign(&self, kid: Option<&str>, typ: Option<&str>, claims: &Value) -> Result<String, SigningError> {
        let custom: Map<String, Value> = match claims {
            Value::Object(m) => m.clone(),
            _ => return Err(SigningError::Sign("claims must be a JSON object".into())),
        };
        let mut header = Header::empty();
        if let Some(kid) = kid {
            header = header.with_key_id(kid);
        }
        if let Some(typ) = typ {
            header = header.with_token_type(typ);
        }
        let claims = Claims::new(custom);
        let token = match self {
            SigningKey::Rsa { pss: false, key } => Rsa::rs256().token(&header, &claims, key),
            SigningKey::Rsa { pss: true, key } => Rsa::ps256().token(&header, &claims, key),
            SigningKey::P256(key) => Es256.token(&header, &claims, key),
            SigningKey::Ed25519(key) => Ed25519.token(&header, &claims, key),
        };
        token.map_err(|e| SigningError::Sign(e.to_string()))
    }
}

trait ToOwnedValue {
    fn to_owned_value(&self) -> Value;
}

impl ToOwnedValue for JsonWebKey<'_> {
    fn to_owned_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// A JWKS document holding these public keys.
pub fn jwks_document(keys: &[(&str, &SigningKey)]) -> Value {
    serde_json::json!({ "keys": keys.iter().map(|(kid, k)| k.public_jwk(kid)).collect::<Vec<_>>() })
}
