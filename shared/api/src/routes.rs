//! The route table: every endpoint once, with its access rule and handler.

use crate::context::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::handlers::{
    api_keys, authz, datasets, groups, misc, orgs, outbox, pipeline, scoped_tokens, tools, users, webhooks,
};
use crate::Reply;
use ryd_authz::Endpoint;

/// Who may call an API route.
#[derive(Debug, Clone, Copy)]
pub enum Access {
    /// Anyone: no credential is read.
    Public,
    /// A bearer token (or a console session, through [`crate::dispatch`]) for this endpoint
    /// of the scope and permission tables.
    Token(Endpoint),
}

/// What answers a route, once its access rule is met.
pub type Handler = fn(&Ctx) -> ApiResult<Reply>;

/// One row of a route table. `A` is the table's access rule: [`Access`] for the API's;
/// IATI Account (`ryd-iati-account`) keeps its pages in a table of its own with its own rule.
pub struct Route<A: 'static = Access> {
    /// The HTTP method, upper case.
    pub method: &'static str,
    /// `{name}` segments are parameters.
    pub pattern: &'static str,
    /// Who may call it.
    pub access: A,
    /// What answers it.
    pub handler: Handler,
}

/// A table row (`const`, so tables are data in the binary).
pub const fn route<A>(method: &'static str, pattern: &'static str, access: A, handler: Handler) -> Route<A> {
    Route { method, pattern, access, handler }
}

use route as r;

/// One Spin component: its name in spin.toml, the routes it serves, and the variables its
/// handlers read after the token check. Those are read when a token is verified and kept
/// with it in the verified-token cache, so a cached token's request reads no variable
/// (on Spin every variable read blocks a worker thread; infra/README.md, "What a request costs on Spin").
pub struct Component {
    /// Its name in spin.toml.
    pub name: &'static str,
    /// The routes it serves.
    pub routes: &'static [Route],
    /// The variables its handlers read (`Caller::setting`).
    pub settings: &'static [&'static str],
}

use Access::{Public, Token};
use Endpoint as E;

/// Organisations, the health check, the OpenAPI document and the licence list.
pub const REPORTING_ORGS: Component = Component {
    name: "reporting-orgs",
    settings: &[],
    routes: &[
        r("GET", "/health", Public, misc::health),
        r("GET", "/api/v1/openapi.json", Public, misc::openapi),
        r("GET", "/api/v1/licences", Public, misc::licences),
        r("GET", "/api/v1/access-check", Token(E::AccessCheck), misc::access_check),
        r("GET", "/api/v1/discoverable-reporting-orgs", Token(E::ListDiscoverableOrgs), orgs::discoverable),
        r("GET", "/api/v1/reporting-orgs", Token(E::ListOrgs), orgs::list),
        r("POST", "/api/v1/reporting-orgs", Token(E::CreateOrg), orgs::create),
        r("GET", "/api/v1/reporting-orgs/{oid}", Token(E::ReadOrg), orgs::read),
        r("PATCH", "/api/v1/reporting-orgs/{oid}", Token(E::UpdateOrg), orgs::update),
        r("DELETE", "/api/v1/reporting-orgs/{oid}", Token(E::DeleteOrg), orgs::delete),
    ],
};

/// Datasets and the pipeline's facts.
pub const DATASETS: Component = Component {
    name: "datasets",
    settings: &["pipeline_clients"],
    routes: &[
        r("GET", "/api/v1/reporting-orgs/{oid}/datasets", Token(E::ListOrgDatasets), datasets::list),
        r("POST", "/api/v1/datasets", Token(E::CreateDataset), datasets::create),
        r("GET", "/api/v1/datasets/{did}", Token(E::ReadDataset), datasets::read),
        r("PATCH", "/api/v1/datasets/{did}", Token(E::UpdateDataset), datasets::update),
        r("DELETE", "/api/v1/datasets/{did}", Token(E::DeleteDataset), datasets::delete),
        r("PUT", "/api/v1/datasets/{did}/pipeline", Token(E::SetPipelineFacts), pipeline::set_one),
        r("PUT", "/api/v1/datasets/pipeline", Token(E::SetPipelineFacts), pipeline::set_many),
    ],
};

/// Members, roles and tools.
pub const USERS: Component = Component {
    name: "users",
    settings: &[],
    routes: &[
        r("GET", "/api/v1/reporting-orgs/{oid}/users", Token(E::ListOrgUsers), users::list_members),
        r("POST", "/api/v1/users/{uid}/reporting-org", Token(E::JoinOrg), users::join),
        r("PUT", "/api/v1/users/{uid}/reporting-org/{oid}", Token(E::SetUserRole), users::set_role),
        r("DELETE", "/api/v1/users/{uid}/reporting-org/{oid}", Token(E::RemoveUserRole), users::remove_role),
        r("GET", "/api/v1/users/{uid}/roles", Token(E::UserRoles), users::roles),
        r(
            "GET",
            "/api/v1/users/{uid}/roles/reporting-org-permissions/{oid}",
            Token(E::UserOrgPermissions),
            users::permissions,
        ),
        r("GET", "/api/v1/reporting-orgs/{oid}/tools", Token(E::ListOrgTools), tools::list_granted),
        r("POST", "/api/v1/reporting-orgs/{oid}/tools", Token(E::GrantOrgTool), tools::grant),
        r("DELETE", "/api/v1/reporting-orgs/{oid}/tools/{tid}", Token(E::RevokeOrgTool), tools::revoke),
        r("GET", "/api/v1/tools", Token(E::ListTools), tools::list),
        r("POST", "/api/v1/tools", Token(E::CreateTool), tools::create),
        r("PATCH", "/api/v1/tools/{tid}", Token(E::UpdateTool), tools::update),
        r("DELETE", "/api/v1/tools/{tid}", Token(E::DeleteTool), tools::delete),
        r("PUT", "/api/v1/tools/{tid}/admins/{uid}", Token(E::SetToolAdmin), tools::add_admin),
        r("DELETE", "/api/v1/tools/{tid}/admins/{uid}", Token(E::RemoveToolAdmin), tools::remove_admin),
    ],
};

/// The outbox: its backlog for operators, organisations' webhooks, and sending what it
/// holds (email through Azure Communication Services, webhooks to their endpoints): the
/// one component with outbound hosts beyond the Identity Service.
pub const OUTBOX: Component = Component {
    name: "outbox",
    settings: &["outbox_clients"],
    routes: &[
        r("GET", "/api/v1/admin/outbox", Token(E::Outbox), outbox::read),
        r("POST", "/api/v1/admin/outbox/deliver", Token(E::DeliverOutbox), outbox::deliver),
        r("GET", "/api/v1/reporting-orgs/{oid}/webhooks", Token(E::Webhooks), webhooks::list),
        r("POST", "/api/v1/reporting-orgs/{oid}/webhooks", Token(E::Webhooks), webhooks::create),
        r("PATCH", "/api/v1/reporting-orgs/{oid}/webhooks/{wid}", Token(E::Webhooks), webhooks::update),
        r("DELETE", "/api/v1/reporting-orgs/{oid}/webhooks/{wid}", Token(E::Webhooks), webhooks::delete),
        r("POST", "/api/v1/reporting-orgs/{oid}/webhooks/{wid}/secret", Token(E::Webhooks), webhooks::rotate),
    ],
};

/// Authorisation as a service, revocations, scoped tokens, API keys, groups.
pub const AUTHZ: Component = Component {
    name: "authz",
    settings: &["authz_service_clients", "usage_plan_groups"],
    routes: &[
        r("POST", "/api/v1/authz/check", Token(E::AuthzCheck), authz::check),
        r("GET", "/api/3/action/is_authorized", Token(E::AuthzCheck), authz::is_authorized),
        r("PUT", "/api/v1/admin/revocations/users/{uid}", Token(E::Revoke), authz::revoke_user),
        r("DELETE", "/api/v1/admin/revocations/users/{uid}", Token(E::Revoke), authz::revoke_user),
        r("PUT", "/api/v1/admin/revocations/clients/{client_id}", Token(E::Revoke), authz::revoke_client),
        r("DELETE", "/api/v1/admin/revocations/clients/{client_id}", Token(E::Revoke), authz::revoke_client),
        r("POST", "/api/v1/authz/token", Token(E::AuthzToken), scoped_tokens::authorize),
        r("POST", "/api/3/action/authz_authorize", Token(E::AuthzToken), scoped_tokens::authorize),
        r("POST", "/api/3/action/authz_verify", Public, scoped_tokens::verify),
        r("GET", "/api/3/action/authz_verify", Public, scoped_tokens::verify),
        r("GET", "/.well-known/jwks.json", Public, scoped_tokens::jwks),
        r("GET", "/authz/public_key", Public, scoped_tokens::public_key),
        r("GET", "/api/v1/api-keys", Token(E::ApiKeys), api_keys::list),
        r("POST", "/api/v1/api-keys", Token(E::ApiKeys), api_keys::create),
        r("DELETE", "/api/v1/api-keys/{key_id}", Token(E::ApiKeys), api_keys::revoke),
        r("POST", "/api/v1/admin/api-keys", Token(E::ImportApiKey), api_keys::import),
        r("POST", "/api/3/action/validate_api_key", Token(E::ValidateApiKey), api_keys::validate),
        r("GET", "/api/v1/groups", Token(E::Groups), groups::list),
        r("POST", "/api/v1/groups", Token(E::Groups), groups::create),
        r("GET", "/api/v1/groups/{group}", Token(E::Groups), groups::read),
        r("PATCH", "/api/v1/groups/{group}", Token(E::Groups), groups::update),
        r("DELETE", "/api/v1/groups/{group}", Token(E::Groups), groups::delete),
        r("PUT", "/api/v1/groups/{group}/members/{uid}", Token(E::Groups), groups::member),
        r("DELETE", "/api/v1/groups/{group}/members/{uid}", Token(E::Groups), groups::member),
        r("PUT", "/api/v1/groups/{group}/datasets/{dataset}", Token(E::Groups), groups::dataset),
        r("DELETE", "/api/v1/groups/{group}/datasets/{dataset}", Token(E::Groups), groups::dataset),
    ],
};

/// Every component of the Register Your Data API (the CKAN API is `ryd-ckan`).
pub const COMPONENTS: &[&Component] = &[&REPORTING_ORGS, &DATASETS, &USERS, &AUTHZ, &OUTBOX];

/// Every route with its component, in table order.
pub fn all() -> impl Iterator<Item = (&'static Component, &'static Route)> {
    COMPONENTS.iter().flat_map(|c| c.routes.iter().map(move |r| (*c, r)))
}

/// A route's parameters from the path, in the pattern's order.
pub type Params = Vec<(&'static str, String)>;

/// What a table holds for a request's method and path.
pub enum Match<A: 'static = Access> {
    /// The route, and its parameters from the path (decoded).
    Found(&'static Route<A>, Params),
    /// The path is routed, under these methods only.
    WrongMethod(Vec<&'static str>),
    /// No route has this path.
    NotFound,
}

impl<A> Match<A> {
    /// The route found, else the refusal the request gets: `405` naming the methods the
    /// path has (and an `Allow` header), or `404`.
    pub fn or_refuse(self, req: &crate::Request) -> ApiResult<(&'static Route<A>, Params)> {
        match self {
            Match::Found(route, params) => Ok((route, params)),
            Match::WrongMethod(allow) => {
                Err(ApiError::new(405, format!("Method {} is not allowed here; use {}.", req.method, allow.join(", ")))
                    .header("allow", allow.join(", ")))
            }
            Match::NotFound => Err(ApiError::new(404, format!("No such endpoint: {}", req.path))),
        }
    }
}

fn matches(pattern: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
    let mut params = Vec::new();
    let mut pat = pattern.split('/');
    let mut segs = path.split('/');
    loop {
        match (pat.next(), segs.next()) {
            (None, None) => return Some(params),
            (Some(p), Some(s)) if p.starts_with('{') => {
                if s.is_empty() {
                    return None;
                }
                params.push((&p[1..p.len() - 1], crate::http::percent_decode(s)));
            }
            (Some(p), Some(s)) if p == s => {}
            _ => return None,
        }
    }
}

/// Finds the route among `routes`; a trailing slash answers exactly as without it (never
/// a redirect).
pub fn find<A>(routes: &'static [Route<A>], method: &str, path: &str) -> Match<A> {
    let path = if path.len() > 1 { path.strip_suffix('/').unwrap_or(path) } else { path };
    let mut allow = Vec::new();
    for route in routes {
        if let Some(params) = matches(route.pattern, path) {
            if route.method == method {
                return Match::Found(route, params);
            }
            allow.push(route.method);
        }
    }
    if allow.is_empty() {
        Match::NotFound
    } else {
        Match::WrongMethod(allow)
    }
}

/// The route `method pattern` of `routes`, found when the program is compiled: a typed
/// handle on an API route for callers inside the application (IATI Account's pages), so a
/// renamed or removed route fails the build, not a request.
pub const fn lookup(routes: &'static [Route], method: &str, pattern: &str) -> &'static Route {
    let mut i = 0;
    while i < routes.len() {
        if same(routes[i].method, method) && same(routes[i].pattern, pattern) {
            return &routes[i];
        }
        i += 1;
    }
    panic!("no such route in the table")
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The component serving a path, as spin.toml routes it (the first whose table has the
/// path under any method).
pub fn component_of(path: &str) -> Option<&'static Component> {
    COMPONENTS.iter().copied().find(|c| !matches!(find(c.routes, "", path), Match::NotFound))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing() {
        let path = "/api/v1/reporting-orgs/abc/datasets/";
        assert_eq!(component_of(path).map(|c| c.name), Some("datasets"));
        let Match::Found(r, p) = find(DATASETS.routes, "GET", path) else { panic!() };
        assert_eq!((r.pattern, p), ("/api/v1/reporting-orgs/{oid}/datasets", vec![("oid", "abc".to_string())]));
        let orgs = REPORTING_ORGS.routes;
        assert!(
            matches!(find(orgs, "PUT", "/api/v1/reporting-orgs"), Match::WrongMethod(m) if m == vec!["GET", "POST"])
        );
        assert!(matches!(find(orgs, "GET", "/api/v1/nothing"), Match::NotFound));
        assert!(component_of("/api/v1/reporting-orgs//datasets").is_none());
    }

    #[test]
    fn lookup_finds_the_row_by_method_and_pattern() {
        const READ: &Route = lookup(REPORTING_ORGS.routes, "GET", "/api/v1/reporting-orgs/{oid}");
        const UPDATE: &Route = lookup(REPORTING_ORGS.routes, "PATCH", "/api/v1/reporting-orgs/{oid}");
        assert_eq!((READ.method, READ.pattern), ("GET", "/api/v1/reporting-orgs/{oid}"));
        assert_eq!(UPDATE.method, "PATCH");
        assert!(matches!(UPDATE.access, Access::Token(E::UpdateOrg)));
    }

    #[test]
    fn every_token_route_has_a_scope_rule_and_patterns_are_unique() {
        let routes: Vec<&Route> = all().map(|(_, r)| r).collect();
        for (i, a) in routes.iter().enumerate() {
            for b in &routes[i + 1..] {
                assert!(!(a.method == b.method && a.pattern == b.pattern), "{} {}", a.method, a.pattern);
            }
            if let Access::Token(e) = a.access {
                let _ = e.rule();
            }
        }
    }
}
