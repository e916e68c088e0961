//! The Register Your Data API, independent of Spin.
//!
//! [`serve`] takes a component's route table ([`routes::Component`]), a [`Request`] and the
//! host's [`Ports`] and answers a [`Response`]: route → token ([`auth`]) → scope
//! (`ryd_authz`'s scope table) → the handler, which asks the permission table about the
//! object. Components are thin shells around it, each naming only its own table, so each
//! `.wasm` holds only its own handlers. [`handle`] serves every route, as the application
//! does (tests).

pub mod auth;
pub mod context;
pub mod error;
mod handlers;
pub mod ids;
pub mod openapi;
pub mod ports;
pub mod routes;
pub mod time;
pub mod validate;
mod views;

pub use context::{Ctx, Reply};
pub use error::{ApiError, ApiResult};
pub use ports::{Fetched, Ports};
pub use ryd_codelists as codelists;
pub use ryd_http as http;
pub use ryd_http::{Request, Response};

pub use auth::Credential;
use routes::{Access, Component, Match, Route};
use ryd_authz::{check_caller, check_scopes, ScopeVerdict};

/// Bodies over this size are refused with 413.
pub const MAX_BODY: usize = 64 * 1024;

/// The application's version, reported by `/health`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

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
    let request_id = req
        .header("x-request-id")
        .filter(|v| !v.is_empty() && v.len() <= 200 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(ids::new_id);
    let found = routes::find(component.routes, &req.method, &req.path);
    let credentialed = matches!(&found, Match::Found(r, _) if !matches!(r.access, Access::Public));
    let mut response = match answer(found, component, req, ports) {
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

/// `Cache-Control` of every answer to a credential: never stored by a shared cache, nor
/// kept by the browser.
pub const PRIVATE: &str = "private, no-store";

/// Answers the route `found` in `component`'s table.
fn answer(found: Match, component: &Component, req: &Request, ports: &dyn Ports) -> ApiResult<Reply> {
    let (route, params) = match found {
        Match::Found(route, params) => (route, params),
        Match::WrongMethod(allow) => {
            return Err(ApiError::new(
                405,
                format!("Method {} is not allowed here; use {}.", req.method, allow.join(", ")),
            )
            .header("allow", allow.join(", ")))
        }
        Match::NotFound => return Err(ApiError::new(404, format!("No such endpoint: {}", req.path))),
    };
    let now_millis = ports.now_millis();
    match route.access {
        Access::Public => {
            let ctx = Ctx { ports, req, caller: None, params, now_millis };
            return (route.handler)(&ctx);
        }
        Access::Session => {
            let Some(pages) = component.pages else {
                return Err(ApiError::internal(format!("{} has no pages for {}", component.name, route.pattern)));
            };
            return Ok(pages(route, params, req, ports));
        }
        Access::Token(_) => {}
    }
    // Configuration is read only when a token is verified in full; a cached token brings
    // what the request needs with it (auth::Caller::settings).
    let started = std::time::Instant::now();
    let caller = auth::authenticate(req, ports, component);
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
