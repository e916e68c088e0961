//! The route table: every endpoint once, with its access rule and handler.

use crate::context::Ctx;
use crate::error::ApiResult;
use crate::handlers::{
    account, api_keys, authz, console, datasets, groups, misc, orgs, pipeline, scoped_tokens, tools, users,
};
use crate::Reply;
use ryd_authz::Endpoint;

pub enum Access {
    Public,
    Token(Endpoint),
    /// A page of IATI Account's console: a signed-in session (its cookie), and on every
    /// state-changing request the CSRF checks (`handlers::console::enter`). Its actions
    /// call `Token` routes as the session's user.
    Session,
}

pub type Handler = fn(&Ctx) -> ApiResult<Reply>;

pub struct Route {
    pub method: &'static str,
    /// `{name}` segments are parameters.
    pub pattern: &'static str,
    pub access: Access,
    pub handler: Handler,
}

impl Route {
    /// A console page (HTML for a browser), not an endpoint of the API.
    pub fn is_page(&self) -> bool {
        matches!(self.access, Access::Session) || self.pattern == "/account/console.css"
    }
}

const fn r(method: &'static str, pattern: &'static str, access: Access, handler: Handler) -> Route {
    Route { method, pattern, access, handler }
}

/// One Spin component: its name in spin.toml, the routes it serves, and the variables its
/// handlers read after the token check. Those are read when a token is verified and kept
/// with it in the verified-token cache, so a cached token's request reads no variable
/// (on Spin every variable read blocks a worker thread; infra/README.md, "What a request costs on Spin").
pub struct Component {
    pub name: &'static str,
    pub routes: &'static [Route],
    pub settings: &'static [&'static str],
    /// What answers this component's `Session` routes (IATI Account's console: the
    /// session, the CSRF checks, then the page). A field, not a call in `answer`, so that
    /// only the component with pages links the console's code.
    pub pages: Option<Pages>,
}

/// The entry to a component's console pages.
pub type Pages = fn(&Route, Vec<(&'static str, String)>, &crate::Request, &dyn crate::Ports) -> Reply;

use Access::{Public, Session, Token};
use Endpoint as E;

/// IATI Account (issue 18): sign-in and sign-out, the endpoint the Identity Service calls
/// when a user's session there ends, and the console's pages (`Session`), whose actions
/// are the API's own routes below, called as the signed-in user.
pub const ACCOUNT: Component = Component {
    name: "account",
    settings: &[],
    pages: Some(console::enter),
    routes: &[
        r("GET", "/account/login", Public, account::login),
        r("GET", "/account/callback", Public, account::callback),
        r("POST", "/account/backchannel-logout", Public, account::backchannel_logout),
        r("GET", "/account/console.css", Public, console::stylesheet),
        r("POST", "/account/logout", Session, account::logout),
        r("GET", "/account", Session, console::home),
        r("GET", "/account/users/{uid}", Session, console::user),
        r("GET", "/account/orgs/new", Session, console::new_org),
        r("POST", "/account/orgs", Session, console::create_org),
        r("GET", "/account/orgs/{oid}", Session, console::org),
        r("POST", "/account/orgs/{oid}", Session, console::update_org),
        r("POST", "/account/orgs/{oid}/approve", Session, console::approve_org),
        r("POST", "/account/orgs/{oid}/delete", Session, console::delete_org),
        r("POST", "/account/orgs/{oid}/join", Session, console::join_org),
        r("POST", "/account/orgs/{oid}/people/{uid}", Session, console::set_role),
        r("POST", "/account/orgs/{oid}/people/{uid}/remove", Session, console::remove_person),
        r("GET", "/account/orgs/{oid}/datasets/new", Session, console::new_dataset),
        r("POST", "/account/orgs/{oid}/datasets", Session, console::create_dataset),
        r("GET", "/account/datasets/{did}", Session, console::dataset),
        r("POST", "/account/datasets/{did}", Session, console::update_dataset),
        r("POST", "/account/datasets/{did}/delete", Session, console::delete_dataset),
        r("GET", "/account/find", Session, console::find),
        r("GET", "/account/api-keys", Session, console::api_keys),
        r("POST", "/account/api-keys", Session, console::create_api_key),
        r("POST", "/account/api-keys/{key_id}/revoke", Session, console::revoke_api_key),
        r("GET", "/account/queue", Session, console::queue),
    ],
};

pub const REPORTING_ORGS: Component = Component {
    name: "reporting-orgs",
    settings: &[],
    pages: None,
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

pub const DATASETS: Component = Component {
    name: "datasets",
    settings: &["pipeline_clients"],
    pages: None,
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

pub const USERS: Component = Component {
    name: "users",
    settings: &[],
    pages: None,
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

pub const AUTHZ: Component = Component {
    name: "authz",
    settings: &["authz_service_clients", "usage_plan_groups"],
    pages: None,
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
pub const COMPONENTS: &[&Component] = &[&REPORTING_ORGS, &DATASETS, &USERS, &AUTHZ, &ACCOUNT];

/// Every route with its component, in table order.
pub fn all() -> impl Iterator<Item = (&'static Component, &'static Route)> {
    COMPONENTS.iter().flat_map(|c| c.routes.iter().map(move |r| (*c, r)))
}

pub enum Match {
    Found(&'static Route, Vec<(&'static str, String)>),
    WrongMethod(Vec<&'static str>),
    NotFound,
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
pub fn find(routes: &'static [Route], method: &str, path: &str) -> Match {
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
