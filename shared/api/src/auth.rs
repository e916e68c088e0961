//! From a bearer token to a caller, on every request (shared/authz/README.md §1): the verified-token
//! cache first (one SQLite statement), full verification only on a miss.
//!
//! Configuration (Spin variables) is read only on a miss: the cache row keeps what the
//! request needs afterwards (the claims, the role table in force, the component's
//! settings), because on Spin every variable read blocks a worker thread and can stall
//! a keep-alive client for tens of milliseconds (infra/README.md, "What a request costs on Spin"). So a configuration change
//! reaches a token already cached within `token_cache_seconds`.

use crate::error::{ApiError, ApiResult};
use crate::http::Request;
use crate::ports::Ports;
use ryd_authz::principal::{holds_role, SUPERADMIN_ROLE};
use ryd_authz::token::roles_of;
use ryd_authz::{check_claims, decode_verified, AuthConfig, KeySet, Principal, RoleTable, TokenError, VerifiedClaims};
use ryd_store::tokens::{self, Profile, SubjectFacts};
use ryd_store::{members, SCHEMA_VERSION};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who, from the verified token (or the session's stored facts).
    pub principal: Principal,
    /// Whether they are a superadmin now (the table, or the role in the token).
    pub superadmin: bool,
    /// The role table in force when the token was verified.
    pub role_table: RoleTable,
    /// The component's settings (`routes::Component::settings`) when the token was verified.
    settings: BTreeMap<String, String>,
    /// How the caller proved who they are.
    pub credential: Credential,
}

/// How a caller proved who they are (as crates.io models `Authentication`): what
/// [`crate::dispatch`] checks differs by it, and nothing else does.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A bearer token, with its scopes; `from_cache`: found in the verified-token cache
    /// (no signature checked on this request).
    Token {
        /// Found in the verified-token cache.
        from_cache: bool,
    },
    /// A signed-in console session: no scopes (the permission table alone decides), and
    /// no listed service client.
    Session(ConsoleSession),
}

/// A signed-in console session, as its pages act with it.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    /// The SHA-256 of the session id.
    pub id_hash: String,
    /// The session's CSRF token, which every form must carry.
    pub csrf_token: String,
    /// The signed-in user's name.
    pub user_name: String,
    /// The console's public origin (`scheme://host[:port]`), which forms must come from.
    pub origin: String,
    /// `SessionFacts::signout_origin`.
    pub signout_origin: Option<String>,
}

/// What a session acts with, fixed at sign-in as the verified-token cache fixes it for a
/// token (stored with the session as JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionFacts {
    /// The console's client id at the provider (recorded in audit events).
    pub client_id: String,
    /// The roles the ID token carried.
    pub roles: Vec<String>,
    /// The role table in force at sign-in.
    pub role_table: RoleTable,
    /// The console's public origin.
    pub origin: String,
    /// The user's name.
    pub name: String,
    /// The user's email.
    pub email: String,
    /// The origin of the provider's `end_session_endpoint`: the sign-out form's answer
    /// redirects there, and browsers hold such redirects to the page's CSP `form-action`.
    #[serde(default)]
    pub signout_origin: Option<String>,
}

impl Caller {
    /// The caller a console session acts as: the signed-in user, through the console's
    /// client, with no scopes ([`Credential::Session`] is scope-free: the permission table
    /// alone decides).
    pub fn for_session(session: &ryd_store::sessions::Session, facts: SessionFacts) -> Caller {
        let principal = Principal {
            sub: session.sub.clone(),
            user_id: Some(session.user_id.clone()),
            client_id: facts.client_id,
            scopes: Vec::new(),
            roles: facts.roles,
            is_machine: false,
            token_id: None,
            expires_at: 0,
            issued_at: session.created_at,
            name: (!facts.name.is_empty()).then_some(facts.name),
            email: (!facts.email.is_empty()).then_some(facts.email),
        };
        // From the store, not the roles frozen at sign-in: the users table follows the user's
        // newest sign-in or token, and the superadmins table is changed through the API.
        let superadmin = session.superadmin;
        Caller {
            principal,
            superadmin,
            role_table: facts.role_table,
            settings: BTreeMap::new(),
            credential: Credential::Session(ConsoleSession {
                id_hash: session.id_hash.clone(),
                csrf_token: session.csrf_token.clone(),
                user_name: session.user_name.clone(),
                origin: facts.origin,
                signout_origin: facts.signout_origin,
            }),
        }
    }

    /// The console session the caller acts through (`None`: a bearer token).
    pub fn session(&self) -> Option<&ConsoleSession> {
        match &self.credential {
            Credential::Session(s) => Some(s),
            Credential::Token { .. } => None,
        }
    }

    /// The user id, or `""` for machine tokens (matches no row).
    pub fn user_id(&self) -> &str {
        self.principal.user_id.as_deref().unwrap_or("")
    }

    /// One of the component's settings (`None` when unset).
    pub fn setting(&self, name: &str) -> Option<&str> {
        self.settings.get(name).map(String::as_str)
    }
}

/// What the verified-token cache keeps for one token in one component.
#[derive(Serialize, Deserialize)]
struct Cached {
    claims: VerifiedClaims,
    role_table: RoleTable,
    settings: BTreeMap<String, String>,
}

/// The cache key of a token in a component: each component keeps its own row, since
/// each has its own settings (and Spin gives each only the variables it declares).
fn cache_key(component: &str, token: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(component.as_bytes());
    h.update([0]);
    h.update(token.as_bytes());
    h.finalize().to_vec()
}

/// At most one JWKS refetch per this many seconds, however many unknown `kid`s arrive.
pub const REFETCH_INTERVAL_MS: i64 = 30_000;

/// The token of an `Authorization: Bearer …` header, if the request has one.
pub fn bearer_token(req: &Request) -> Option<&str> {
    let h = req.header("authorization")?.trim();
    let (scheme, token) = h.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn int_var(ports: &dyn Ports, name: &str, default: i64) -> i64 {
    ports.variable(name).and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

/// How secrets are kept and looked up: the SHA-256 of the whole string (tokens in the
/// verified-token cache, API keys).
pub fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// The caller a request's bearer token names, for `component` (spin.toml's name: each
/// component caches its own verification), with the variables `settings` it reads later.
pub fn authenticate(req: &Request, ports: &dyn Ports, component: &str, settings: &[&str]) -> ApiResult<Caller> {
    let token = bearer_token(req).ok_or_else(ApiError::no_token)?;
    let now_ms = ports.now_millis();
    let now = now_ms / 1000;
    let sql = ports.sql();
    let hash = cache_key(component, token);
    let mut found = tokens::lookup(sql, &hash, now)?;
    if found.schema_version < SCHEMA_VERSION {
        ryd_store::migrate(sql)?;
        found = tokens::lookup(sql, &hash, now)?;
    }
    let invalid = |e: TokenError| ApiError::invalid_token(&e);
    // A row is found only before its `expires_at`, which is never past the token's `exp`;
    // issuer, audience, lifetime and algorithm were checked when it was verified.
    let cached = found.claims.as_deref().and_then(|c| serde_json::from_str::<Cached>(c).ok());
    let from_cache = cached.is_some();
    let (cached, facts) = match cached {
        Some(cached) => {
            ports.count("token_cache_hit");
            (cached, found.facts)
        }
        None => {
            ports.count("token_cache_miss");
            let config = config(ports)?;
            let mut claims = verify_in_full(token, ports, &config)?;
            check_claims(&claims, &config, now).map_err(invalid)?;
            // Machine tokens have no user, so no userinfo (providers refuse it for them).
            if claims.roles.is_none() && claims.sub != claims.client_id {
                fill_from_userinfo(&mut claims, token, ports, &config)?;
            }
            let settings = settings.iter().filter_map(|n| Some((n.to_string(), ports.variable(n)?))).collect();
            let cached = Cached { claims, role_table: config.role_table, settings };
            let c = &cached.claims;
            let profile = (c.sub != c.client_id).then(|| Profile {
                user_id: c.user_id.as_deref().unwrap_or(""),
                sub: &c.sub,
                name: c.name.as_deref().unwrap_or(""),
                email: c.email.as_deref().unwrap_or(""),
                superadmin_role: c.roles.as_deref().is_some_and(|r| holds_role(r, SUPERADMIN_ROLE)),
            });
            let mut facts = tokens::subject_facts(sql, &c.sub, &c.client_id, profile.as_ref())?;
            if !facts.revokes(c.iat) {
                remember(ports, &hash, &cached, profile.as_ref(), &mut facts, now);
            }
            (cached, facts)
        }
    };
    let claims = &cached.claims;
    if facts.revokes(claims.iat) {
        return Err(invalid(TokenError::Revoked));
    }
    let principal = Principal::from_claims(claims).map_err(invalid)?;
    let superadmin = !principal.is_machine && (principal.has_superadmin_role() || facts.superadmin_row);
    Ok(Caller {
        principal,
        superadmin,
        role_table: cached.role_table,
        settings: cached.settings,
        credential: Credential::Token { from_cache },
    })
}

/// After a full verification: cache the claims, seed a bootstrap superadmin, refresh
/// the user's profile when it changed. None of these may fail the request: they are
/// logged.
///
/// Most new tokens are a known user's next token: then this is one `INSERT`, holding the
/// write lock for one statement (under 16 concurrent new tokens, a transaction of five
/// statements made writers queue: p99 286 ms on real Spin). No fsync for it: this
/// connection lives for one request, and what it writes is a cache and a profile refresh
/// that the next token rewrites (WAL with synchronous=NORMAL stays consistent; only the
/// newest such commits could be lost in a power cut). The request's own writes stay fully
/// durable: the setting is restored after.
fn remember(
    ports: &dyn Ports,
    hash: &[u8],
    cached: &Cached,
    profile: Option<&Profile>,
    facts: &mut SubjectFacts,
    now: i64,
) {
    let sql = ports.sql();
    let claims = &cached.claims;
    let ttl = int_var(ports, "token_cache_seconds", 300);
    let expires_at = claims.exp.min(now + ttl);
    let user_id = profile.map(|p| p.user_id).unwrap_or("");
    let bootstrap = match profile {
        Some(p) if !facts.superadmin_row => ports
            .variable("bootstrap_superadmins")
            .is_some_and(|list| list.split([',', ' ']).any(|u| !u.is_empty() && u.eq_ignore_ascii_case(p.user_id))),
        _ => false,
    };
    let profile_changed = profile.filter(|_| !facts.profile_current);
    let json = serde_json::to_string(cached).unwrap_or_default();
    let store = || tokens::store(sql, hash, &json, &claims.sub, &claims.client_id, user_id, claims.iat, expires_at);
    let at = crate::time::rfc3339(now * 1000);
    let tuned = ryd_store::sql::tune(sql, "synchronous = NORMAL");
    let result = tuned.clone().and_then(|_| {
        if !bootstrap && profile_changed.is_none() {
            return store();
        }
        ryd_store::transaction(sql, || -> Result<(), ryd_store::SqlError> {
            if bootstrap {
                members::add_superadmin(sql, user_id, &at)?;
                facts.superadmin_row = true;
            }
            if let Some(p) = profile_changed {
                members::upsert_user(sql, p.user_id, p.sub, p.name, p.email, p.superadmin_role, &at)?;
            }
            store()
        })
    });
    // A few expired rows go after one insert in SWEEP_EVERY.
    let result = match hash.first() {
        Some(b) if b % tokens::SWEEP_EVERY == 0 => result.and_then(|_| tokens::sweep(sql, now)),
        _ => result,
    };
    // Durable again for what follows, where the setting was ours to make.
    let restored = if tuned == Ok(true) { ryd_store::sql::tune(sql, "synchronous = FULL") } else { Ok(false) };
    let result = result.and(restored.map(|_| ()));
    if let Err(e) = result {
        ports.log(&format!("token cache write failed (request continues): {e}"));
    }
}

fn verify_in_full(token: &str, ports: &dyn Ports, config: &AuthConfig) -> ApiResult<VerifiedClaims> {
    let invalid = |e: TokenError| ApiError::invalid_token(&e);
    let keys = key_set(ports, config, false)?;
    ports.count("signature_verified");
    match decode_verified(token, &keys, config) {
        Err(TokenError::UnknownKey(kid)) => {
            // The issuer may have rotated its keys: refetch once (rate-limited), retry.
            let keys = key_set(ports, config, true)?;
            decode_verified(token, &keys, config).map_err(|e| match e {
                TokenError::UnknownKey(_) => invalid(TokenError::UnknownKey(kid)),
                other => invalid(other),
            })
        }
        other => other.map_err(invalid),
    }
}

/// The token configuration from the variables (read only off the cached path).
pub fn config(ports: &dyn Ports) -> ApiResult<AuthConfig> {
    AuthConfig::from_lookup(|name| ports.variable(name)).map_err(|e| ApiError::internal(format!("configuration: {e}")))
}

/// The Identity Service did not answer (or not usefully): `503`, try again shortly.
pub fn identity_unavailable() -> ApiError {
    ApiError::new(503, "The Identity Service did not answer; please retry shortly.").header("retry-after", "5")
}

/// A JWT of another kind from the issuer (`types`: a logout token's), its signature
/// verified with the issuer's keys (refetched once for an unknown `kid`, as for access
/// tokens): the whole payload, for that kind's own claim checks. The outer error is ours
/// (no keys to be had), the inner the token's.
pub fn verify_issuer_jwt(
    token: &str,
    ports: &dyn Ports,
    config: &AuthConfig,
    types: &[&str],
) -> ApiResult<Result<serde_json::Map<String, Value>, TokenError>> {
    let keys = key_set(ports, config, false)?;
    ports.count("signature_verified");
    match ryd_authz::verify_payload(token, &keys, &config.allowed_algs, types) {
        Err(TokenError::UnknownKey(_)) => {
            let keys = key_set(ports, config, true)?;
            Ok(ryd_authz::verify_payload(token, &keys, &config.allowed_algs, types))
        }
        other => Ok(other),
    }
}

/// The issuer's keys: pinned (`oidc_jwks`), or fetched from `oidc_jwks_uri` (or
/// discovery) and cached in the key-value store for `jwks_cache_seconds`.
fn key_set(ports: &dyn Ports, config: &AuthConfig, refetch: bool) -> ApiResult<KeySet> {
    if let Some(inline) = ports.variable("oidc_jwks") {
        return KeySet::parse(&inline).map_err(|e| ApiError::internal(format!("variable oidc_jwks: {e}")));
    }
    let uri = match ports.variable("oidc_jwks_uri") {
        Some(uri) => uri,
        None => discovered(ports, config, "jwks_uri")?.ok_or_else(|| {
            ApiError::internal("no signing keys: set oidc_jwks, oidc_jwks_uri, or an issuer with discovery")
        })?,
    };
    let doc = cached_fetch(ports, &format!("jwks:{uri}"), &uri, int_var(ports, "jwks_cache_seconds", 300), refetch)?;
    match doc {
        Some(doc) => KeySet::parse(&doc).map_err(|e| {
            ports.log(&format!("JWKS at {uri} unusable: {e}"));
            ApiError::invalid_token(&TokenError::UnknownKey("(signing keys unavailable)".into()))
        }),
        None => Err(ApiError::invalid_token(&TokenError::UnknownKey("(signing keys unavailable)".into()))),
    }
}

/// A value from the issuer's OpenID Connect discovery document (cached like the JWKS).
pub fn discovered(ports: &dyn Ports, config: &AuthConfig, field: &str) -> ApiResult<Option<String>> {
    let url = format!("{}/.well-known/openid-configuration", config.issuer.trim_end_matches('/'));
    let doc = cached_fetch(ports, &format!("discovery:{url}"), &url, int_var(ports, "jwks_cache_seconds", 300), false)?;
    Ok(doc
        .and_then(|d| serde_json::from_str::<Value>(&d).ok())
        .and_then(|d| d.get(field).and_then(Value::as_str).map(str::to_string)))
}

/// A document fetched over HTTP and kept in the key-value store: fresh for `ttl_s`; on
/// `refetch`, fetched again only if the copy is older than [`REFETCH_INTERVAL_MS`]; when
/// the fetch fails, any copy (even stale) is used.
fn cached_fetch(ports: &dyn Ports, key: &str, url: &str, ttl_s: i64, refetch: bool) -> ApiResult<Option<String>> {
    let now = ports.now_millis();
    let cached: Option<(i64, String)> = ports
        .kv_get(key)
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| Some((v.get("fetched_at")?.as_i64()?, v.get("doc")?.as_str()?.to_string())));
    if let Some((at, doc)) = &cached {
        let age = now - at;
        let fresh = age < ttl_s * 1000;
        if (!refetch && fresh) || (refetch && age < REFETCH_INTERVAL_MS) {
            return Ok(Some(doc.clone()));
        }
    }
    ports.count("identity_fetch");
    match ports.http_get(url, None) {
        Ok(r) if r.status == 200 => {
            let doc = String::from_utf8_lossy(&r.body).into_owned();
            ports.kv_set(key, json!({"fetched_at": now, "doc": doc}).to_string().as_bytes());
            Ok(Some(doc))
        }
        outcome => {
            let why = match outcome {
                Ok(r) => format!("status {}", r.status),
                Err(e) => e,
            };
            ports.log(&format!("fetching {url} failed: {why}"));
            // Remember the failure too, so a dead Identity Service is asked at most once
            // per interval (no amplification).
            if let Some((_, doc)) = &cached {
                ports.kv_set(key, json!({"fetched_at": now, "doc": doc}).to_string().as_bytes());
            }
            Ok(cached.map(|(_, d)| d))
        }
    }
}

/// Roles (and name, email when missing) from the userinfo endpoint, when the token has
/// no roles claim. Cached with the verified claims.
fn fill_from_userinfo(
    claims: &mut VerifiedClaims,
    token: &str,
    ports: &dyn Ports,
    config: &AuthConfig,
) -> ApiResult<()> {
    let url = match ports.variable("oidc_userinfo_uri") {
        Some(u) => Some(u),
        None if ports.variable("oidc_jwks").is_none() => discovered(ports, config, "userinfo_endpoint")?,
        None => None,
    };
    let Some(url) = url else {
        claims.roles = Some(Vec::new());
        return Ok(());
    };
    ports.count("userinfo_fetch");
    let info = match ports.http_get(&url, Some(token)) {
        Ok(r) if r.status == 200 => serde_json::from_slice::<Value>(&r.body).unwrap_or(Value::Null),
        Ok(r) if r.status == 401 => return Err(ApiError::invalid_token(&TokenError::Revoked)),
        outcome => {
            ports.log(&format!("userinfo at {url} failed: {:?}", outcome.map(|r| r.status)));
            return Err(identity_unavailable());
        }
    };
    let mut node = Some(&info);
    for part in config.roles_claim.split('.') {
        node = node.and_then(|n| n.get(part));
    }
    claims.roles = Some(info.get(&config.roles_claim).or(node).map(roles_of).unwrap_or_default());
    let text = |k: &str| info.get(k).and_then(Value::as_str).map(str::to_string);
    claims.name = claims.name.take().or_else(|| text("name"));
    claims.email = claims.email.take().or_else(|| text("email"));
    Ok(())
}
