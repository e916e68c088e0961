//! IATI Account: sign-in with the Identity Service (authorization code flow with PKCE, as a
//! confidential client) and its Back-Channel Logout 1.0. When a user
//! signs out at the provider (or the provider ends their session), it POSTs a logout token
//! here and their sessions here end: `validate_cookie` then says `logged_in: false`, and
//! keys bound to those sessions stop working.

use ryd_account::{check_logout_token, LogoutTarget, RelyingParty};
use ryd_api::auth::{self, identity_unavailable, SessionFacts};
use ryd_api::{ApiError, ApiResult, Ctx, Reply};
use ryd_authz::{AuthConfig, ID_TOKEN_TYPES, LOGOUT_TOKEN_TYPES};
use ryd_console::{Frame, Notice};
use ryd_store::sessions;
use serde_json::{json, Value};

/// How old a logout token's `iat` may be: providers send it at once, and retry for minutes.
const LOGOUT_TOKEN_MAX_AGE_S: i64 = 600;

/// `POST /account/backchannel-logout` (§2.5–2.8): `200` once the sessions are ended, `400`
/// with the reason otherwise; never cached.
pub(crate) fn backchannel_logout(ctx: &Ctx) -> ApiResult<Reply> {
    let refuse = |why: &str| {
        Ok(Reply::bare(400, json!({"error": "invalid_request", "error_description": why}))
            .header("cache-control", "no-store"))
    };
    let form = ctx.req.header("content-type").is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let body = String::from_utf8_lossy(&ctx.req.body);
    let token = ryd_http::parse_form(&body).into_iter().find(|(k, _)| k == "logout_token").map(|(_, v)| v);
    let Some(token) = token.filter(|t| form && !t.is_empty()) else {
        return refuse("a form-encoded `logout_token` is required");
    };
    let config = auth::config(ctx.ports)?;
    let Some(client_id) = ctx.ports.variable("account_client_id") else {
        ctx.ports.log("back-channel logout refused: account_client_id is not set");
        return refuse("IATI Account is not configured here (account_client_id)");
    };
    let claims = match auth::verify_issuer_jwt(&token, ctx.ports, &config, LOGOUT_TOKEN_TYPES)? {
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
        if !sessions::first_use_of_logout_token(sql, &logout.jti, logout.accepted_until, now)? {
            return Ok(None);
        }
        Ok(Some(match &logout.target {
            LogoutTarget::Session(sid) => sessions::end_provider_session(sql, sid, logout.sub.as_deref())?,
            LogoutTarget::User(sub) => sessions::end_subject(sql, sub)?,
        }))
    })?;
    match ended {
        None => refuse("logout_token: already used (jti)"),
        Some(_) => Ok(Reply::text(200, String::new(), "text/plain").header("cache-control", "no-store")),
    }
}

/// How long a sign-in may take at the provider (the pending sign-in and its cookie).
const SIGN_IN_MAX_AGE_S: i64 = 600;

/// Where the console's home is: the browser goes there after sign-in unless it asked for
/// another local page.
const HOME: &str = "/account";

/// Where a sign-in starts.
const LOGIN: &str = "/account/login";

/// The console's client at the provider, from its variables; `None` when not configured.
struct Client {
    id: String,
    secret: String,
    redirect_uri: String,
    scopes: String,
    life: sessions::Lifetimes,
}

fn client(ctx: &Ctx) -> ApiResult<Option<Client>> {
    let var = |n: &str| ctx.ports.variable(n);
    let (Some(id), Some(secret)) = (var("account_client_id"), var("account_client_secret")) else {
        return Ok(None);
    };
    let seconds =
        |n: &str, default: i64| -> ApiResult<i64> {
            match var(n) {
                None => Ok(default),
                Some(v) => v.trim().parse::<i64>().ok().filter(|s| *s > 0).ok_or_else(|| {
                    ApiError::internal(format!("variable {n}: `{v}` is not a positive number of seconds"))
                }),
            }
        };
    let defaults = sessions::Lifetimes::default();
    Ok(Some(Client {
        id,
        secret,
        redirect_uri: var("account_redirect_uri").unwrap_or_else(|| format!("{}/account/callback", ctx.req.base_url)),
        scopes: var("account_scopes").unwrap_or_else(|| "openid profile email".into()),
        life: sessions::Lifetimes {
            idle_s: seconds("account_idle_timeout_seconds", defaults.idle_s)?,
            absolute_s: seconds("account_absolute_timeout_seconds", defaults.absolute_s)?,
        },
    }))
}

/// A sign-in refused: a page saying why (escaped, never cached, not sniffed), with the way
/// to start again.
fn sign_in_refused(why: &str) -> ApiResult<Reply> {
    let message = format!("Sign-in failed: {why}.");
    let notice = Some(Notice::Refused { message: &message, fields: &[] });
    let frame = Frame { title: "Sign-in failed", user: None, csrf: "", notice };
    Ok(page(400, ryd_console::sign_in_failed(&frame, LOGIN)))
}

/// No sign-in is possible until the console's client is configured: `503` with a page
/// naming the variables to set (starting again could not help).
fn not_configured(ctx: &Ctx) -> ApiResult<Reply> {
    let missing: Vec<&str> =
        CLIENT_VARIABLES.iter().copied().filter(|name| ctx.ports.variable(name).is_none()).collect();
    ctx.ports.log(&format!("sign-in refused: IATI Account is not configured ({} not set)", missing.join(", ")));
    let frame = Frame { title: "Signing in is not set up here", user: None, csrf: "", notice: None };
    Ok(page(503, ryd_console::sign_in_not_configured(&frame, &missing)))
}

/// The variables without which the console has no client at the provider.
const CLIENT_VARIABLES: &[&str] = &["account_client_id", "account_client_secret"];

/// A console document with its headers and Content-Security-Policy.
fn page(status: u16, document: String) -> Reply {
    crate::pages::html(status, document).header("content-security-policy", crate::pages::csp(None))
}

fn redirect(location: &str, cookie: String) -> Reply {
    Reply::text(302, String::new(), "text/plain")
        .header("location", location)
        .header("cache-control", "no-store")
        .header("set-cookie", cookie)
}

fn secret() -> ApiResult<String> {
    ryd_account::random_token().map_err(|e| ApiError::internal(format!("no randomness: {e}")))
}

/// `GET /account/login[?return_to=/local/path]`: starts the authorization code flow with
/// PKCE, `state` and `nonce`, kept on the server under a fresh id in the `__Host-` sign-in
/// cookie; the browser goes to the provider.
pub(crate) fn login(ctx: &Ctx) -> ApiResult<Reply> {
    let Some(client) = client(ctx)? else { return not_configured(ctx) };
    let config = auth::config(ctx.ports)?;
    let Some(endpoint) = auth::discovered(ctx.ports, &config, "authorization_endpoint")? else {
        return Err(identity_unavailable());
    };
    let asked = ctx.req.query_pairs().into_iter().find(|(k, _)| k == "return_to").map(|(_, v)| v);
    let return_to = asked.as_deref().and_then(ryd_account::local_return_path).unwrap_or(HOME).to_string();
    let (login_id, state, nonce, verifier) = (secret()?, secret()?, secret()?, secret()?);
    let sql = ctx.sql();
    ryd_store::ensure_schema(sql)?;
    let pending = sessions::PendingLogin { state, verifier, nonce, return_to };
    let now = ctx.now_millis.div_euclid(1000);
    sessions::begin_login(sql, &ryd_account::session_hash(&login_id), &pending, SIGN_IN_MAX_AGE_S, now)?;
    let url = ryd_account::Authorize {
        authorization_endpoint: &endpoint,
        client_id: &client.id,
        redirect_uri: &client.redirect_uri,
        scope: &client.scopes,
        state: &pending.state,
        nonce: &pending.nonce,
        verifier: &pending.verifier,
    }
    .url();
    Ok(redirect(&url, ryd_account::LOGIN_COOKIE.set(&login_id, Some(SIGN_IN_MAX_AGE_S))))
}

/// `GET /account/callback?code&state`: the provider sends the browser back. The pending
/// sign-in is taken (once), `state` compared, the code exchanged with the PKCE verifier,
/// the ID token verified and checked (nonce included), the user recorded, and a new
/// session begun under a new id (no fixation), ending the one the browser had. The sign-in cookie is not cleared: Spin's
/// response type keeps one `Set-Cookie`, and the row it named is gone.
pub(crate) fn callback(ctx: &Ctx) -> ApiResult<Reply> {
    let Some(client) = client(ctx)? else { return not_configured(ctx) };
    let query: std::collections::HashMap<String, String> = ctx.req.query_pairs().into_iter().collect();
    let Some(login_id) = ctx.req.header("cookie").and_then(|h| ryd_account::LOGIN_COOKIE.read(h)) else {
        return sign_in_refused("this browser started no sign-in here (or took longer than 10 minutes)");
    };
    let sql = ctx.sql();
    ryd_store::ensure_schema(sql)?;
    let now = ctx.now_millis.div_euclid(1000);
    let hash = ryd_account::session_hash(login_id);
    let Some(pending) = sessions::take_login(sql, &hash, SIGN_IN_MAX_AGE_S, now)? else {
        return sign_in_refused("this sign-in was used already or took longer than 10 minutes");
    };
    if let Some(error) = query.get("error") {
        return sign_in_refused(&format!("the Identity Service answered {error}"));
    }
    if !query.get("state").is_some_and(|s| ryd_account::constant_time_eq(s, &pending.state)) {
        return sign_in_refused("the answer does not belong to this sign-in (state)");
    }
    let Some(code) = query.get("code").filter(|c| !c.is_empty()) else {
        return sign_in_refused("the Identity Service sent no code");
    };
    let config = auth::config(ctx.ports)?;
    let token_endpoint = auth::discovered(ctx.ports, &config, "token_endpoint")?.ok_or_else(identity_unavailable)?;
    let (body, authorization) =
        ryd_account::token_request(&client.id, &client.secret, code, &client.redirect_uri, &pending.verifier);
    let answer = ctx.ports.http_post_form(&token_endpoint, &body, Some(&authorization)).map_err(|e| {
        ctx.ports.log(&format!("token endpoint: {e}"));
        identity_unavailable()
    })?;
    let tokens = match ryd_account::read_token_response(answer.status, &answer.body) {
        Ok(t) => t,
        Err(why) => return sign_in_refused(&format!("the Identity Service refused the code ({why})")),
    };
    let mut claims = match auth::verify_issuer_jwt(&tokens.id_token, ctx.ports, &config, ID_TOKEN_TYPES)? {
        Ok(c) => c,
        Err(e) => return sign_in_refused(&format!("id_token: {e}")),
    };
    let rp = RelyingParty {
        issuer: config.issuer.clone(),
        client_id: client.id.clone(),
        leeway_s: config.leeway_seconds,
        max_age_s: SIGN_IN_MAX_AGE_S,
    };
    let id = match ryd_account::check_id_token(&claims, &rp, &pending.nonce, now) {
        Ok(id) => id,
        Err(e) => return sign_in_refused(&format!("id_token: {e}")),
    };
    // The user's id and roles: from the ID token, else from userinfo (providers keep
    // scope claims out of code-flow ID tokens), whose `sub` must be the ID token's.
    if ryd_authz::lookup_path(&claims, &config.user_id_claim).is_none() {
        if let Some(info) = userinfo(ctx, &config, tokens.access_token.as_deref())? {
            if info.get("sub").and_then(Value::as_str) != Some(id.sub.as_str()) {
                return sign_in_refused("userinfo is about another user (sub)");
            }
            for (k, v) in info {
                claims.entry(k).or_insert(v);
            }
        }
    }
    let Some(user_id) = ryd_authz::lookup_path(&claims, &config.user_id_claim).and_then(Value::as_str) else {
        return sign_in_refused(&format!("the Identity Service sent no {}", config.user_id_claim));
    };
    let user_id = user_id.to_string();
    let roles =
        ryd_authz::lookup_path(&claims, &config.roles_claim).map(ryd_authz::token::roles_of).unwrap_or_default();
    let text = |k: &str| claims.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let superadmin = ryd_authz::principal::holds_role(&roles, ryd_authz::principal::SUPERADMIN_ROLE);
    let facts = SessionFacts {
        client_id: client.id.clone(),
        roles,
        role_table: config.role_table,
        origin: console_origin(ctx, &client),
        name: text("name"),
        email: text("email"),
        // From the discovery document the sign-in just used (kept in the key-value store).
        signout_origin: auth::discovered(ctx.ports, &config, "end_session_endpoint")?
            .as_deref()
            .and_then(ryd_account::origin_of),
    };
    let caller = serde_json::to_string(&facts).map_err(|e| ApiError::internal(format!("session facts: {e}")))?;
    let session_id = secret()?;
    let session = sessions::NewSession {
        id_hash: ryd_account::session_hash(&session_id),
        user_id: user_id.clone(),
        sub: id.sub.clone(),
        sid: id.sid.clone(),
        id_token: tokens.id_token.clone(),
        access_token: tokens.access_token.clone(),
        refresh_token: tokens.refresh_token.clone(),
        csrf_token: secret()?,
        caller,
    };
    let at = ctx.now();
    // A new authentication ends the session this browser had (OWASP's session management:
    // renew the id at sign-in, and the old id must stop working).
    let replaced = ctx.req.header("cookie").and_then(|h| ryd_account::SESSION_COOKIE.read(h));
    ryd_store::transaction(sql, || -> ApiResult<()> {
        if let Some(old) = replaced {
            sessions::end(sql, &ryd_account::session_hash(old))?;
        }
        ryd_store::members::upsert_user(sql, &user_id, &id.sub, &text("name"), &text("email"), superadmin, &at)?;
        // Sessions over by time go as new ones begin: the table holds live sessions only.
        sessions::sweep(sql, now)?;
        sessions::start(sql, &session, client.life, now)?;
        Ok(())
    })?;
    let cookie = ryd_account::SESSION_COOKIE.set(&session_id, Some(client.life.absolute_s));
    let to = ryd_account::local_return_path(&pending.return_to).unwrap_or(HOME).to_string();
    Ok(redirect(&to, cookie))
}

/// The console's public origin: the registered redirect URI's (right behind a proxy that
/// ends TLS), else the one the request came to.
fn console_origin(ctx: &Ctx, client: &Client) -> String {
    ryd_account::origin_of(&client.redirect_uri).unwrap_or_else(|| ctx.req.base_url.clone())
}

/// `POST /account/logout` (a console form: the session and the CSRF checks passed):
/// ends the session here (keys bound to it stop working), clears the cookie, and sends the
/// browser to the provider's `end_session_endpoint` (RP-Initiated Logout, with
/// `id_token_hint`), which sends it back to `account_post_logout_redirect_uri` (default:
/// the console's home). Without that endpoint, home at once.
pub(crate) fn logout(ctx: &Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let session = caller.session().ok_or_else(|| ApiError::internal("sign-out without a session"))?;
    let sql = ctx.sql();
    let id_token = sessions::id_token(sql, &session.id_hash)?;
    sessions::end(sql, &session.id_hash)?;
    // Signed out here whatever happens next: the provider's part is best effort.
    let endpoint = auth::config(ctx.ports)
        .and_then(|config| auth::discovered(ctx.ports, &config, "end_session_endpoint"))
        .unwrap_or_else(|e| {
            ctx.ports.log(&format!("sign-out: no end_session_endpoint ({})", e.message));
            None
        });
    let back =
        ctx.ports.variable("account_post_logout_redirect_uri").unwrap_or_else(|| format!("{}{HOME}", session.origin));
    let to = match endpoint {
        Some(endpoint) => {
            ryd_account::end_session_url(&endpoint, id_token.as_deref(), &back, &caller.principal.client_id)
        }
        None => HOME.to_string(),
    };
    Ok(crate::pages::see_other(&to).header("set-cookie", ryd_account::SESSION_COOKIE.clear()))
}

/// The provider's userinfo for the access token the sign-in received.
fn userinfo(
    ctx: &Ctx,
    config: &AuthConfig,
    access_token: Option<&str>,
) -> ApiResult<Option<serde_json::Map<String, Value>>> {
    let Some(token) = access_token else { return Ok(None) };
    let url = match ctx.ports.variable("oidc_userinfo_uri") {
        Some(u) => Some(u),
        None => auth::discovered(ctx.ports, config, "userinfo_endpoint")?,
    };
    let Some(url) = url else { return Ok(None) };
    match ctx.ports.http_get(&url, Some(token)) {
        Ok(r) if r.status == 200 => {
            Ok(serde_json::from_slice::<Value>(&r.body).ok().and_then(|v| v.as_object().cloned()))
        }
        outcome => {
            ctx.ports.log(&format!("userinfo at {url} failed: {:?}", outcome.map(|r| r.status)));
            Err(identity_unavailable())
        }
    }
}
