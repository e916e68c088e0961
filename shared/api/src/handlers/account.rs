//! IATI Account's endpoint for the Identity Service: Back-Channel Logout 1.0. When a user
//! signs out at the provider (or the provider ends their session), it POSTs a logout token
//! here and their sessions here end: `validate_cookie` then says `logged_in: false`, and
//! keys bound to those sessions stop working.

use crate::context::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use ryd_account::{check_logout_token, LogoutTarget, RelyingParty};
use ryd_authz::{AuthConfig, LOGOUT_TOKEN_TYPES};
use ryd_store::sessions;
use serde_json::json;

/// How old a logout token's `iat` may be: providers send it at once, and retry for minutes.
const LOGOUT_TOKEN_MAX_AGE_S: i64 = 600;

/// `POST /account/backchannel-logout` (§2.5–2.8): `200` once the sessions are ended, `400`
/// with the reason otherwise; never cached.
pub fn backchannel_logout(ctx: &Ctx) -> ApiResult<Reply> {
    let refuse = |why: &str| {
        let mut r = Reply::bare(400, json!({"error": "invalid_request", "error_description": why}));
        r.headers.push(("cache-control".into(), "no-store".into()));
        Ok(r)
    };
    let form = ctx.req.header("content-type").is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let body = String::from_utf8_lossy(&ctx.req.body);
    let token = ryd_http::parse_form(&body).into_iter().find(|(k, _)| k == "logout_token").map(|(_, v)| v);
    let Some(token) = token.filter(|t| form && !t.is_empty()) else {
        return refuse("a form-encoded `logout_token` is required");
    };
    let config = AuthConfig::from_lookup(|name| ctx.ports.variable(name))
        .map_err(|e| ApiError::internal(format!("configuration: {e}")))?;
    let Some(client_id) = ctx.ports.variable("account_client_id") else {
        ctx.ports.log("back-channel logout refused: account_client_id is not set");
        return refuse("IATI Account is not configured here (account_client_id)");
    };
    let claims = match crate::auth::verify_issuer_jwt(&token, ctx.ports, &config, LOGOUT_TOKEN_TYPES)? {
        Ok(claims) => claims,
        Err(e) => return refuse(&format!("logout_token: {e}")),
    };
    let rp = RelyingParty {
        issuer: config.issuer.clone(),
        client_id,
        leeway_s: config.leeway_seconds,
        max_age_s: LOGOUT_TOKEN_MAX_AGE_S,
    };
    let now = ctx.now_millis.div_euclid(1000);
    let logout = match check_logout_token(&claims, &rp, now) {
        Ok(l) => l,
        Err(e) => return refuse(&format!("logout_token: {e}")),
    };
    // The replay mark and the ending commit together: a failure in between ends nothing
    // and leaves the token usable for the provider's retry.
    let sql = ctx.sql();
    ryd_store::ensure_schema(sql)?;
    let ended = ryd_store::transaction(sql, || -> ApiResult<Option<usize>> {
        if !sessions::first_use_of_logout_token(sql, &logout.jti, logout.exp, now)? {
            return Ok(None);
        }
        Ok(Some(match &logout.target {
            LogoutTarget::Session(sid) => sessions::end_provider_session(sql, sid, logout.sub.as_deref())?,
            LogoutTarget::User(sub) => sessions::end_subject(sql, sub)?,
        }))
    })?;
    match ended {
        None => refuse("logout_token: already used (jti)"),
        Some(_) => {
            let mut r = Reply::text(200, String::new(), "text/plain");
            r.headers.push(("cache-control".into(), "no-store".into()));
            Ok(r)
        }
    }
}
