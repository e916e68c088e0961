//! Access-token verification (shared/authz/README.md §1 steps 1–3).
//!
//! [`decode_verified`] checks the header, finds the key, checks the signature and reads the
//! claims into [`VerifiedClaims`]; [`check_claims`] checks time, issuer, audience and
//! lifetime. The second is separate because it must run on every request, also when the
//! verified claims come from the cache.

use crate::config::AuthConfig;
use crate::jwks::{KeySet, PublicKey};
use jwt_compact::{Claims, UntrustedToken, ValidationError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Why a token was refused. [`TokenError::description`] goes into
/// `WWW-Authenticate: Bearer error="invalid_token", error_description="…"`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a JWT, or its parts do not decode.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// The header's `alg` is not configured.
    #[error("algorithm `{0}` is not allowed")]
    AlgorithmNotAllowed(String),
    /// The header's `typ` is not an access token's.
    #[error("token type `{0}` is not accepted")]
    WrongType(String),
    /// A `crit` header parameter we do not understand.
    #[error("critical header parameter `{0}` is not supported")]
    UnsupportedCritical(String),
    /// No key with this `kid` (or no unambiguous key without one): worth one JWKS refetch.
    #[error("unknown signing key `{0}`")]
    UnknownKey(String),
    /// The signature does not verify.
    #[error("invalid signature")]
    BadSignature,
    /// `exp` has passed.
    #[error("token expired")]
    Expired,
    /// `nbf` is still to come.
    #[error("token not yet valid")]
    NotYetValid,
    /// `iat` is in the future.
    #[error("token issued in the future")]
    IssuedInFuture,
    /// `iss` is not the configured issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` does not name the configured audience.
    #[error("wrong audience")]
    WrongAudience,
    /// `exp - iat` is longer than the configured maximum.
    #[error("token lifetime exceeds the maximum")]
    LifetimeTooLong,
    /// A claim the API needs is absent.
    #[error("token is missing the `{0}` claim")]
    MissingClaim(&'static str),
    /// Revoked by a mark on its subject or client.
    #[error("token revoked")]
    Revoked,
}

impl TokenError {
    /// The message for `WWW-Authenticate`'s `error_description`.
    pub fn description(&self) -> String {
        self.to_string()
    }
}

/// The claims the API uses, after the signature has been checked. Serialisable: this is
/// what the verified-token cache stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedClaims {
    /// Issuer.
    pub iss: String,
    /// Audiences.
    pub aud: Vec<String>,
    /// Subject.
    pub sub: String,
    /// The client that obtained the token.
    pub client_id: String,
    /// Scopes (`scope`, space-separated in the token).
    pub scopes: Vec<String>,
    /// Expiry (Unix seconds).
    pub exp: i64,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Not before (Unix seconds).
    pub nbf: Option<i64>,
    /// Token id.
    pub jti: Option<String>,
    /// The user's Register Your Data id (the configured claim), `None` for machine tokens.
    pub user_id: Option<String>,
    /// From the roles claim; `None` when the token has none (then the userinfo endpoint's
    /// answer is put here before the claims are cached).
    pub roles: Option<Vec<String>>,
    /// The user's name.
    pub name: Option<String>,
    /// The user's email.
    pub email: Option<String>,
}

/// Header fields jwt-compact does not model.
#[derive(Debug, Clone, Default, Deserialize)]
struct ExtraHeader {
    #[serde(default)]
    crit: Option<Vec<String>>,
}

/// Checks everything that needs the key: header rules, key lookup, signature. Then reads
/// the claims (but checks no times: see [`check_claims`]).
pub fn decode_verified(token: &str, keys: &KeySet, config: &AuthConfig) -> Result<VerifiedClaims, TokenError> {
    read_claims(verify_signature(token, keys, &config.allowed_algs)?, config)
}

/// Header rules (shared/authz/README.md §1 step 1), key lookup and signature, for any JWT signed by a
/// key in `keys` with an algorithm in `allowed_algs`: the claims, unchecked otherwise.
/// The authorisation service verifies its own scoped tokens with this too.
pub fn verify_signature(
    token: &str,
    keys: &KeySet,
    allowed_algs: &[String],
) -> Result<Claims<Map<String, Value>>, TokenError> {
    verify_typed(token, keys, allowed_algs, ACCESS_TOKEN_TYPES)
}

/// The `typ` headers an access token may carry (RFC 9068's, and plain `JWT`); none at all
/// is accepted too, as most providers send none.
pub const ACCESS_TOKEN_TYPES: &[&str] = &["at+jwt", "application/at+jwt", "jwt"];

/// An ID token's: `JWT` or none (OIDC Core); never an access token's `at+jwt`.
pub const ID_TOKEN_TYPES: &[&str] = &["jwt"];

/// A Back-Channel Logout token's (`logout+jwt`): never an access token's, so neither kind
/// passes for the other.
pub const LOGOUT_TOKEN_TYPES: &[&str] = &["logout+jwt", "application/logout+jwt"];

/// [`verify_signature`] for a token of another kind (`types`, lower case); the whole
/// payload, `exp` and `iat` included, for that kind's own claim checks.
pub fn verify_payload(
    token: &str,
    keys: &KeySet,
    allowed_algs: &[String],
    types: &[&str],
) -> Result<Map<String, Value>, TokenError> {
    let claims = verify_typed(token, keys, allowed_algs, types)?;
    match serde_json::to_value(&claims) {
        Ok(Value::Object(payload)) => Ok(payload),
        _ => Err(TokenError::Malformed("claims are not an object".into())),
    }
}

fn verify_typed(
    token: &str,
    keys: &KeySet,
    allowed_algs: &[String],
    types: &[&str],
) -> Result<Claims<Map<String, Value>>, TokenError> {
    let untrusted = UntrustedToken::<ExtraHeader>::try_from(token).map_err(|e| TokenError::Malformed(e.to_string()))?;
    let alg = untrusted.algorithm();
    if alg.eq_ignore_ascii_case("none") || alg.starts_with("HS") || !allowed_algs.iter().any(|a| a == alg) {
        return Err(TokenError::AlgorithmNotAllowed(alg.to_string()));
    }
    let header = untrusted.header();
    if let Some(typ) = &header.token_type {
        let t = typ.to_ascii_lowercase();
        if !types.contains(&t.as_str()) {
            return Err(TokenError::WrongType(typ.clone()));
        }
    }
    // RFC 7515 §4.1.11: we implement no extension, so any critical one is refused.
    if let Some(crit) = header.other_fields.crit.as_ref().and_then(|c| c.first()) {
        return Err(TokenError::UnsupportedCritical(crit.clone()));
    }
    // `jku`, `x5u`, `jwk` and `x5c` are never used: the key comes only from our JWKS.
    let kid = header.key_id.as_deref();
    let jwk = keys.find(kid, alg).ok_or_else(|| TokenError::UnknownKey(kid.unwrap_or("(none)").to_string()))?;
    // The signed data is everything before the last dot.
    let signed = token.rsplit_once('.').map(|(s, _)| s).unwrap_or("").as_bytes();
    let signature = untrusted.signature_bytes();
    let verified = match (&jwk.key, alg) {
        (PublicKey::Rsa { n, e }, "RS256" | "PS256") => verify_rsa(n, e, alg == "PS256", signed, signature),
        (PublicKey::P256(point), "ES256") => verify_es256(point, signed, signature),
        (PublicKey::Ed25519(x), "EdDSA") => verify_ed25519(x, signed, signature),
        _ => return Err(TokenError::UnknownKey(kid.unwrap_or("(none)").to_string())),
    };
    verified.map_err(|_| TokenError::BadSignature)?;
    untrusted.deserialize_claims_unchecked::<Map<String, Value>>().map_err(|e| match e {
        ValidationError::MalformedClaims(e) => TokenError::Malformed(format!("claims: {e}")),
        other => TokenError::Malformed(other.to_string()),
    })
}

/// A signature that does not verify, or key or signature bytes that cannot be one (the
/// caller answers both as a bad signature).
struct Unverified;

/// RS256 (PKCS #1 v1.5) or PS256 (PSS, salt as long as the hash: RFC 7518 §3.5) with SHA-256.
/// The key is built from its raw parts per token: as cheap as ring's was (infra/README.md, "What a request costs").
fn verify_rsa(n: &[u8], e: &[u8], pss: bool, signed: &[u8], signature: &[u8]) -> Result<(), Unverified> {
    use rsa::signature::Verifier;
    use rsa::{sha2::Sha256, BoxedUint};
    let key = rsa::PublicKey::new(BoxedUint::from_be_slice_vartime(n), BoxedUint::from_be_slice_vartime(e))
        .map_err(|_| Unverified)?;
    let ok = if pss {
        let s = rsa::pss::Signature::try_from(signature).map_err(|_| Unverified)?;
        rsa::pss::VerifyingKey::<Sha256>::new(key).verify(signed, &s)
    } else {
        let s = rsa::pkcs1v15::Signature::try_from(signature).map_err(|_| Unverified)?;
        rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key).verify(signed, &s)
    };
    ok.map_err(|_| Unverified)
}

/// ES256: P-256 with SHA-256, the signature as JWS has it (`r ‖ s`, 64 bytes).
fn verify_es256(point: &[u8], signed: &[u8], signature: &[u8]) -> Result<(), Unverified> {
    use p256::ecdsa::{signature::Verifier, Signature, VerifyingKey};
    let key = VerifyingKey::from_sec1_bytes(point).map_err(|_| Unverified)?;
    let s = Signature::from_slice(signature).map_err(|_| Unverified)?;
    key.verify(signed, &s).map_err(|_| Unverified)
}

/// EdDSA (Ed25519), strictly: also refusing small-order keys and `R` points (RFC 8032
/// leaves this to the verifier; no honest issuer's token is affected).
fn verify_ed25519(x: &[u8], signed: &[u8], signature: &[u8]) -> Result<(), Unverified> {
    let x: &[u8; 32] = x.try_into().map_err(|_| Unverified)?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(x).map_err(|_| Unverified)?;
    let s = ed25519_dalek::Signature::from_slice(signature).map_err(|_| Unverified)?;
    key.verify_strict(signed, &s).map_err(|_| Unverified)
}

fn read_claims(claims: Claims<Map<String, Value>>, config: &AuthConfig) -> Result<VerifiedClaims, TokenError> {
    let c = &claims.custom;
    let string = |name: &str| c.get(name).and_then(Value::as_str).map(str::to_string);
    let exp = claims.expiration.ok_or(TokenError::MissingClaim("exp"))?.timestamp();
    let iat = claims.issued_at.ok_or(TokenError::MissingClaim("iat"))?.timestamp();
    let nbf = claims.not_before.map(|t| t.timestamp());
    let iss = string("iss").ok_or(TokenError::MissingClaim("iss"))?;
    let sub = string("sub").ok_or(TokenError::MissingClaim("sub"))?;
    let aud = match c.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => return Err(TokenError::MissingClaim("aud")),
    };
    let scopes = match (c.get("scope"), c.get("scp")) {
        (Some(Value::String(s)), _) => s.split_whitespace().map(str::to_string).collect(),
        (_, Some(Value::Array(list))) => list.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        (_, Some(Value::String(s))) => s.split_whitespace().map(str::to_string).collect(),
        _ => return Err(TokenError::MissingClaim("scope")),
    };
    let client_id = string("client_id").or_else(|| string("azp")).ok_or(TokenError::MissingClaim("client_id"))?;
    let user_id = if config.user_id_claim == "sub" { Some(sub.clone()) } else { string(&config.user_id_claim) };
    let roles = lookup_path(c, &config.roles_claim).map(roles_of);
    Ok(VerifiedClaims {
        iss,
        aud,
        sub,
        client_id,
        scopes,
        exp,
        iat,
        nbf,
        jti: string("jti"),
        user_id,
        roles,
        name: string("name"),
        email: string("email"),
    })
}

/// A dotted path into the claims (`realm_access.roles`); a literal key with dots wins.
/// A claim by name, or by dotted path into nested objects (`realm_access.roles`).
pub fn lookup_path<'a>(claims: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(path) {
        return Some(v);
    }
    let mut parts = path.split('.');
    let mut current = claims.get(parts.next()?)?;
    for part in parts {
        current = current.get(part)?;
    }
    Some(current)
}

/// Roles as an array, a space- or comma-separated string, or one string.
pub fn roles_of(value: &Value) -> Vec<String> {
    match value {
        Value::Array(list) => list.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        Value::String(s) => s.split([' ', ',']).filter(|r| !r.is_empty()).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// Time, issuer, audience and lifetime (shared/authz/README.md §1 step 3), against `now` in seconds.
/// Runs on every request, including cache hits.
pub fn check_claims(claims: &VerifiedClaims, config: &AuthConfig, now: i64) -> Result<(), TokenError> {
    let leeway = config.leeway_seconds;
    if claims.iss != config.issuer {
        return Err(TokenError::WrongIssuer);
    }
    if !claims.aud.contains(&config.audience) {
        return Err(TokenError::WrongAudience);
    }
    if claims.exp + leeway <= now {
        return Err(TokenError::Expired);
    }
    if claims.nbf.is_some_and(|nbf| nbf - leeway > now) {
        return Err(TokenError::NotYetValid);
    }
    if claims.iat - leeway > now {
        return Err(TokenError::IssuedInFuture);
    }
    if claims.exp - claims.iat > config.max_lifetime_seconds {
        return Err(TokenError::LifetimeTooLong);
    }
    Ok(())
}
