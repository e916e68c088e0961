//! The pipeline every request of the API passes: route → credential → [`dispatch`] (the
//! caller checks and the scope table) → the handler; and [`respond`], the answer's envelope.

use crate::auth::{self, Credential};
use crate::context::{Ctx, Reply, PRIVATE};
use crate::error::{ApiError, ApiResult};
use crate::http::{Request, Response};
use crate::ids;
use crate::ports::Ports;
use crate::routes::{self, Access, Component, Match, Route};
use ryd_authz::{check_caller, check_scopes, ScopeVerdict};

/// Answers one request as the whole application would: the component spin.toml routes the
/// path to answers it.
pub fn handle(req: &Request, ports: &dyn Ports) -> Response {
    match routes::component_of(&req.path) {
        Some(component) => serve(component, req, ports),
        None => serve(&routes::REPORTING_ORGS, req, ports),
    }
}

/// Answers one request with one component's routes.
pub fn serve(component: &Component, req: &Request, ports: &dyn Ports) -> Response {
    let found = routes::find(component.routes, &req.method, &req.path);
    let credentialed = matches!(&found, Match::Found(r, _) if !matches!(r.access, Access::Public));
    respond(req, ports, credentialed, || {
        let (route, params) = found.or_refuse(req)?;
        answer(route, params, component, req, ports)
    })
}

/// Turns `answer` into the response every endpoint of the application gives: its
/// `x-request-id` (the caller's, if sane, else a new one), an error in the envelope its
/// path calls for (CKAN's on `/api/3/action/`, else Register Your Data's) with its log line,
/// and `Cache-Control: private, no-store` on what answers a `credentialed` request unless
/// the answer says otherwise. IATI Account's crate answers its pages through it too.
pub fn respond(
    req: &Request,
    ports: &dyn Ports,
    credentialed: bool,
    answer: impl FnOnce() -> ApiResult<Reply>,
) -> Response {
    let request_id = req
        .header("x-request-id")
        .filter(|v| !v.is_empty() && v.len() <= 200 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(ids::new_id);
    let mut response = match answer() {
        Ok(reply) => reply.into_response(),
        Err(e) => {
            if let Some(log) = &e.log {
                ports.log(&format!("request {request_id} {} {}: {log}", req.method, req.path));
            }
            // CKAN-style actions answer their errors in CKAN's envelope too.
            if req.path.starts_with("/api/3/action/") {
                e.into_ckan_response(&req.base_url, req.path.rsplit('/').next().unwrap_or(""))
            } else {
                e.into_response()
            }
        }
    };
    // What answers a token or a session is that caller's alone: no shared cache may keep
    // it, whatever the handler said (a public route says its own freshness, or nothing).
    if credentialed && response.header("cache-control").is_none() {
        response.set_header("cache-control", PRIVATE);
    }
    response.set_header("x-request-id", request_id);
    response
}

/// Answers `route` of `component`'s table: a public one at once, a token one after the
/// token check, through [`dispatch`].
fn answer(
    route: &'static Route,
    params: Vec<(&'static str, String)>,
    component: &Component,
    req: &Request,
    ports: &dyn Ports,
) -> ApiResult<Reply> {
    let now_millis = ports.now_millis();
    if let Access::Public = route.access {
        let ctx = Ctx { ports, req, caller: None, params, now_millis };
        return (route.handler)(&ctx);
    }
    // Configuration is read only when a token is verified in full; a cached token brings
    // what the request needs with it (auth::Caller::settings).
    let started = std::time::Instant::now();
    let caller = auth::authenticate(req, ports, component.name, component.settings);
    let auth_micros = started.elapsed().as_micros();
    let caller = caller?;
    let token_check = match caller.credential {
        Credential::Token { from_cache: true } => "token cache hit",
        _ => "token verified",
    };
    let mut reply = dispatch(route, params, req, ports, caller, now_millis)?;
    // Server-Timing (W3C): what the token check cost inside the component, and how.
    let timing = format!("auth;desc=\"{token_check}\";dur={:.3}", auth_micros as f64 / 1000.0);
    reply.headers.push(("server-timing".into(), timing));
    Ok(reply)
}

/// Everything after authentication, for every [`Credential`]: the route must be a token
/// route; the caller must hold the role that opens the API; a token must hold the route's
/// scopes (a session holds none: the permission table alone decides); the route's caller
/// rule (`check_caller`: superadmins, listed service clients, which a session never is);
/// then the handler, which asks the permission table about the object. The token path and
/// IATI Account's console both come through here, so no check exists twice.
pub fn dispatch(
    route: &Route,
    params: Vec<(&'static str, String)>,
    req: &Request,
    ports: &dyn Ports,
    caller: auth::Caller,
    now_millis: i64,
) -> ApiResult<Reply> {
    let Access::Token(endpoint) = route.access else {
        return Err(ApiError::internal(format!("{} {} is not a token route", route.method, route.pattern)));
    };
    let p = &caller.principal;
    if !p.may_use_api() {
        return Err(ApiError::forbidden(format!(
            "This user account lacks the role {} needed to use the Register Your Data API.",
            ryd_authz::principal::REQUIRED_ROLE
        )));
    }
    if let Credential::Token { .. } = caller.credential {
        match check_scopes(endpoint, &p.scopes, p.is_machine) {
            ScopeVerdict::Allowed => {}
            ScopeVerdict::MissingScope { required, missing } => {
                return Err(ApiError::insufficient_scope(&required, &missing))
            }
            ScopeVerdict::UserTokenRequired => return Err(ApiError::forbidden(
                "This operation needs a user's token (OpenID Connect); machine-to-machine tokens cannot perform it.",
            )),
        }
    }
    let listed_in = |setting: &str| match caller.credential {
        Credential::Token { .. } => p.is_listed_client(caller.setting(setting).unwrap_or_default()),
        Credential::Session(_) => false,
    };
    check_caller(endpoint, caller.superadmin, listed_in).map_err(ApiError::forbidden)?;
    let ctx = Ctx { ports, req, caller: Some(caller), params, now_millis };
    (route.handler)(&ctx)
}
