//! Scoped tokens signed by this application (shared/api/README.md, "Authorisation as a service"), as datopian's
//! `ckanext-authz-service` issues them: the requested scopes intersected with what the
//! permission table grants the caller right now, in a short-lived JWT any service can
//! verify offline with the published keys.

use super::authz::{standing, Subject};
use crate::context::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use ryd_authz::keyring::{public_pem, KeyRing};
use ryd_authz::scoped::{grant, Scope, Target};
use ryd_authz::{decide, verify_signature, Authorisation, OrgStanding};
use ryd_store::objects::{self, DatasetRef};
use serde_json::{json, Map, Value};

/// The longest lifetime a scoped token gets unless `authz_token_max_lifetime_seconds` says
/// otherwise (ckanext-authz-service's default).
pub(crate) const DEFAULT_MAX_LIFETIME: i64 = 900;
/// At most this many scopes per request.
pub(crate) const MAX_SCOPES: usize = 100;
/// Algorithms our own keys may use.
const OWN_ALGS: [&str; 4] = ["EdDSA", "ES256", "RS256", "PS256"];

fn key_ring(ctx: &Ctx) -> ApiResult<KeyRing> {
    let text = ctx.ports.variable("authz_signing_keys").ok_or_else(|| {
        ApiError::new(503, "This registry has no signing key for scoped tokens yet (variable authz_signing_keys).")
    })?;
    KeyRing::parse(&text).map_err(|e| ApiError::internal(format!("variable authz_signing_keys: {e}")))
}

/// `iss` of our tokens: `authz_issuer`, else this application's own URL.
fn issuer(ctx: &Ctx) -> String {
    ctx.ports.variable("authz_issuer").unwrap_or_else(|| ctx.req.base_url.clone())
}

fn max_lifetime(ctx: &Ctx) -> i64 {
    ctx.ports
        .variable("authz_token_max_lifetime_seconds")
        .and_then(|v| v.trim().parse().ok())
        .filter(|n: &i64| *n > 0)
        .unwrap_or(DEFAULT_MAX_LIFETIME)
}

/// POST /api/3/action/authz_authorize and POST /api/v1/authz/token.
pub(crate) fn authorize(ctx: &Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let body = ctx.body()?;
    crate::validate::known_fields(&body, &["scopes", "lifetime"])?;
    let texts: Vec<String> = match body.get("scopes") {
        Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
        Some(Value::Array(list)) if list.iter().all(Value::is_string) => {
            list.iter().filter_map(Value::as_str).map(str::to_string).collect()
        }
        _ => {
            return Err(ApiError::invalid_field(
                "scopes",
                "is required: a list of scopes, or one space-separated string",
            ))
        }
    };
    if texts.len() > MAX_SCOPES {
        return Err(ApiError::invalid_field("scopes", format!("at most {MAX_SCOPES} per request")));
    }
    let requested = texts
        .iter()
        .map(|t| Scope::parse(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::invalid_field("scopes", e.to_string()))?;
    let max = max_lifetime(ctx);
    let lifetime = match body.get("lifetime") {
        None | Some(Value::Null) => max,
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .filter(|n| *n > 0)
            .ok_or_else(|| ApiError::invalid_field("lifetime", "must be a whole number of seconds, at least 1"))?
            .min(max),
    };
    let mut granted = Vec::new();
    for scope in &requested {
        if let Some(g) = grant_for(ctx, scope)? {
            granted.push(g.to_string());
        }
    }
    let ring = key_ring(ctx)?;
    let now = ctx.now_millis / 1000;
    let user_id = caller.user_id().to_string();
    let name = match &caller.principal.name {
        Some(n) => n.clone(),
        None => ryd_store::members::user_name(ctx.sql(), &user_id)?,
    };
    let mut claims = json!({
        "iss": issuer(ctx),
        "sub": user_id,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": crate::ids::new_id(),
        "name": name,
        "scopes": granted.join(" "),
    });
    if let Some(aud) = ctx.ports.variable("authz_audience") {
        claims["aud"] = aud.into();
    }
    let (kid, key) = &ring.signing;
    let token = key.sign(Some(kid), Some("JWT"), &claims).map_err(|e| ApiError::internal(format!("signing: {e}")))?;
    Ok(ctx.answer(json!({
        "user_id": user_id,
        "token": token,
        "expires_at": crate::time::rfc3339((now + lifetime) * 1000),
        "requested_scopes": requested.iter().map(Scope::to_string).collect::<Vec<_>>(),
        "granted_scopes": granted,
    })))
}

/// Whether `key` (an id or a short name) names this organisation.
fn names_org(key: &Option<String>, d: &DatasetRef) -> bool {
    key.as_deref().is_none_or(|k| k == d.organisation_id || k == d.organisation_name)
}

/// The part of one requested scope the caller holds now.
fn grant_for(ctx: &Ctx, scope: &Scope) -> ApiResult<Option<Scope>> {
    let caller = ctx.caller()?;
    let sql = ctx.sql();
    let org_id = match scope.target() {
        // `org:*`, `ds:*`…: nobody but a superadmin.
        Target::Everything if caller.superadmin => None,
        Target::Everything | Target::Unknown => return Ok(None),
        Target::Org(key) | Target::DatasetsOf(key) => match objects::organisation(sql, &key)? {
            Some((id, _)) => Some(id),
            None => return Ok(None),
        },
        Target::Dataset { org, dataset } => match objects::dataset(sql, &dataset)? {
            Some(d) if names_org(&org, &d) => Some(d.organisation_id),
            _ => return Ok(None),
        },
        Target::Resource { org, dataset, resource } => match objects::dataset_of_resource(sql, &resource)? {
            Some(d) if names_org(&org, &d) && dataset.as_deref().is_none_or(|k| k == d.id || k == d.short_name) => {
                Some(d.organisation_id)
            }
            _ => return Ok(None),
        },
    };
    let standing = match org_id {
        None => OrgStanding { superadmin: true, ..OrgStanding::default() },
        Some(id) => match standing(ctx, &Subject::Caller, &id)? {
            Some(s) => s,
            None => return Ok(None),
        },
    };
    let table = ctx.role_table();
    // An organisation the caller cannot read grants nothing (and its existence shows nowhere).
    if !decide(table, &standing, Authorisation::ReadOrg).allowed {
        return Ok(None);
    }
    Ok(grant(scope, |auth| decide(table, &standing, auth).allowed))
}

/// POST (or GET) /api/3/action/authz_verify `{"token", "strict"}`: `verified` true with the
/// payload, or false with the reason. With `strict: false`, a token whose signature is
/// ours but fails a later check (expired, wrong issuer…) still shows its payload, and
/// `verified` stays false.
pub(crate) fn verify(ctx: &Ctx) -> ApiResult<Reply> {
    let body = if ctx.req.method == "GET" { Map::new() } else { ctx.body()? };
    let field = |name: &str| body.get(name).cloned().or_else(|| ctx.req.query_param(name).map(Value::String));
    let token = match field("token") {
        Some(Value::String(t)) if !t.trim().is_empty() => t.trim().to_string(),
        _ => return Err(ApiError::invalid_field("token", "Missing value")),
    };
    let strict = match field("strict") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => b,
        Some(Value::String(s)) if matches!(s.to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on") => true,
        Some(Value::String(s)) if matches!(s.to_ascii_lowercase().as_str(), "false" | "0" | "no" | "off") => false,
        Some(_) => return Err(ApiError::invalid_field("strict", "must be true or false")),
    };
    let ring = key_ring(ctx)?;
    let algs: Vec<String> = OWN_ALGS.iter().map(|a| a.to_string()).collect();
    let claims = match verify_signature(&token, &ring.key_set(), &algs) {
        Ok(c) => c,
        Err(e) => {
            let refused = ctx.ckan_ok(json!({"verified": false, "message": e.to_string()}));
            return Ok(refused.header("cache-control", crate::PRIVATE));
        }
    };
    let payload = serde_json::to_value(&claims).unwrap_or(Value::Null);
    let result = match check_own_claims(ctx, &payload)? {
        None => json!({"verified": true, "payload": payload}),
        Some(message) if strict => json!({"verified": false, "message": message}),
        Some(message) => json!({"verified": false, "message": message, "payload": payload}),
    };
    // About the token the caller sent: theirs alone.
    Ok(ctx.ckan_ok(result).header("cache-control", crate::PRIVATE))
}

/// What is wrong with the claims of a token signed by one of our keys, if anything.
fn check_own_claims(ctx: &Ctx, payload: &Value) -> ApiResult<Option<String>> {
    let now = ctx.now_millis / 1000;
    let int = |k: &str| payload.get(k).and_then(Value::as_i64);
    let text = |k: &str| payload.get(k).and_then(Value::as_str);
    let Some(exp) = int("exp") else { return Ok(Some("token is missing the `exp` claim".into())) };
    if exp <= now {
        return Ok(Some("token expired".into()));
    }
    if int("nbf").is_some_and(|nbf| nbf > now) {
        return Ok(Some("token not yet valid".into()));
    }
    if text("iss") != Some(issuer(ctx).as_str()) {
        return Ok(Some("wrong issuer".into()));
    }
    if let Some(aud) = ctx.ports.variable("authz_audience") {
        let ok = match payload.get("aud") {
            Some(Value::String(a)) => *a == aud,
            Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(aud.as_str())),
            _ => false,
        };
        if !ok {
            return Ok(Some("wrong audience".into()));
        }
    }
    // A user revoked since the token was issued: their scoped tokens end too.
    let revoked = ryd_store::tokens::user_revoked_after(ctx.sql(), text("sub").unwrap_or(""), int("iat").unwrap_or(0))?;
    Ok(revoked.then(|| "token revoked".into()))
}

/// GET /.well-known/jwks.json: every key still valid, the signing key first.
pub(crate) fn jwks(ctx: &Ctx) -> ApiResult<Reply> {
    Ok(Reply::bare(200, key_ring(ctx)?.jwks()).header("cache-control", ctx.freshness().header()))
}

/// GET /authz/public_key: the signing key as PEM (what ckanext-authz-service's clients
/// read); during a rotation the JWKS also lists the previous keys.
pub(crate) fn public_key(ctx: &Ctx) -> ApiResult<Reply> {
    let ring = key_ring(ctx)?;
    let pem = ring
        .public
        .first()
        .and_then(public_pem)
        .ok_or_else(|| ApiError::internal("the signing key has no PEM form"))?;
    Ok(Reply::text(200, pem, "application/x-pem-file").header("cache-control", ctx.freshness().header()))
}
