//! The route table: every endpoint once, with its access rule and handler.

use crate::context::Ctx;
use crate::error::ApiResult;
use crate::handlers::{api_keys, authz, datasets, groups, misc, orgs, scoped_tokens, tools, users};
use crate::Reply;
use ryd_authz::Endpoint;

pub enum Access {
    Public,
    Token(Endpoint),
}

pub type Handler = fn(&Ctx) -> ApiResult<Reply>;

pub struct Route {
    pub method: &'static str,
    /// `{name}` segments are parameters.
    pub pattern: &'static str,
    pub access: Access,
    pub handler: Handler,
    /// The Spin component serving it (spin.toml routes it there).
    pub component: &'static str,
}

const fn r(
    method: &'static str,
    pattern: &'static str,
    access: Access,
    handler: Handler,
    component: &'static str,
) -> Route {
    Route { method, pattern, access, handler, component }
}

use Access::{Public, Token};
use Endpoint as E;

const ORGS: &str = "reporting-orgs";
const DATASETS: &str = "datasets";
const USERS: &str = "users";
const AUTHZ: &str = "authz";

pub const ROUTES: &[Route] = &[
    r("GET", "/health", Public, misc::health, ORGS),
    r("GET", "/api/v1/openapi.json", Public, misc::openapi, ORGS),
    r("GET", "/api/v1/licences", Public, misc::licences, ORGS),
    r("GET", "/api/v1/access-check", Token(E::AccessCheck), misc::access_check, ORGS),
    r("GET", "/api/v1/discoverable-reporting-orgs", Token(E::ListDiscoverableOrgs), orgs::discoverable, ORGS),
    r("GET", "/api/v1/reporting-orgs", Token(E::ListOrgs), orgs::list, ORGS),
    r("POST", "/api/v1/reporting-orgs", Token(E::CreateOrg), orgs::create, ORGS),
    r("GET", "/api/v1/reporting-orgs/{oid}", Token(E::ReadOrg), orgs::read, ORGS),
    r("PATCH", "/api/v1/reporting-orgs/{oid}", Token(E::UpdateOrg), orgs::update, ORGS),
    r("DELETE", "/api/v1/reporting-orgs/{oid}", Token(E::DeleteOrg), orgs::delete, ORGS),
    r("GET", "/api/v1/reporting-orgs/{oid}/datasets", Token(E::ListOrgDatasets), datasets::list, DATASETS),
    r("POST", "/api/v1/datasets", Token(E::CreateDataset), datasets::create, DATASETS),
    r("GET", "/api/v1/datasets/{did}", Token(E::ReadDataset), datasets::read, DATASETS),
    r("PATCH", "/api/v1/datasets/{did}", Token(E::UpdateDataset), datasets::update, DATASETS),
    r("DELETE", "/api/v1/datasets/{did}", Token(E::DeleteDataset), datasets::delete, DATASETS),
    r("GET", "/api/v1/reporting-orgs/{oid}/users", Token(E::ListOrgUsers), users::list_members, USERS),
    r("POST", "/api/v1/users/{uid}/reporting-org", Token(E::JoinOrg), users::join, USERS),
    r("PUT", "/api/v1/users/{uid}/reporting-org/{oid}", Token(E::SetUserRole), users::set_role, USERS),
    r("DELETE", "/api/v1/users/{uid}/reporting-org/{oid}", Token(E::RemoveUserRole), users::remove_role, USERS),
    r("GET", "/api/v1/users/{uid}/roles", Token(E::UserRoles), users::roles, USERS),
    r(
        "GET",
        "/api/v1/users/{uid}/roles/reporting-org-permissions/{oid}",
        Token(E::UserOrgPermissions),
        users::permissions,
        USERS,
    ),
    r("GET", "/api/v1/reporting-orgs/{oid}/tools", Token(E::ListOrgTools), tools::list_granted, USERS),
    r("POST", "/api/v1/reporting-orgs/{oid}/tools", Token(E::GrantOrgTool), tools::grant, USERS),
    r("DELETE", "/api/v1/reporting-orgs/{oid}/tools/{tid}", Token(E::RevokeOrgTool), tools::revoke, USERS),
    r("GET", "/api/v1/tools", Token(E::ListTools), tools::list, USERS),
    r("POST", "/api/v1/tools", Token(E::CreateTool), tools::create, USERS),
    r("PATCH", "/api/v1/tools/{tid}", Token(E::UpdateTool), tools::update, USERS),
    r("DELETE", "/api/v1/tools/{tid}", Token(E::DeleteTool), tools::delete, USERS),
    r("PUT", "/api/v1/tools/{tid}/admins/{uid}", Token(E::SetToolAdmin), tools::add_admin, USERS),
    r("DELETE", "/api/v1/tools/{tid}/admins/{uid}", Token(E::RemoveToolAdmin), tools::remove_admin, USERS),
    r("POST", "/api/v1/authz/check", Token(E::AuthzCheck), authz::check, AUTHZ),
    r("GET", "/api/3/action/is_authorized", Token(E::AuthzCheck), authz::is_authorized, AUTHZ),
    r("PUT", "/api/v1/admin/revocations/users/{uid}", Token(E::Revoke), authz::revoke_user, AUTHZ),
    r("DELETE", "/api/v1/admin/revocations/users/{uid}", Token(E::Revoke), authz::revoke_user, AUTHZ),
    r("PUT", "/api/v1/admin/revocations/clients/{client_id}", Token(E::Revoke), authz::revoke_client, AUTHZ),
    r("DELETE", "/api/v1/admin/revocations/clients/{client_id}", Token(E::Revoke), authz::revoke_client, AUTHZ),
    r("POST", "/api/v1/authz/token", Token(E::AuthzToken), scoped_tokens::authorize, AUTHZ),
    r("POST", "/api/3/action/authz_authorize", Token(E::AuthzToken), scoped_tokens::authorize, AUTHZ),
    r("POST", "/api/3/action/authz_verify", Public, scoped_tokens::verify, AUTHZ),
    r("GET", "/api/3/action/authz_verify", Public, scoped_tokens::verify, AUTHZ),
    r("GET", "/.well-known/jwks.json", Public, scoped_tokens::jwks, AUTHZ),
    r("GET", "/authz/public_key", Public, scoped_tokens::public_key, AUTHZ),
    r("GET", "/api/v1/api-keys", Token(E::ApiKeys), api_keys::list, AUTHZ),
    r("POST", "/api/v1/api-keys", Token(E::ApiKeys), api_keys::create, AUTHZ),
    r("DELETE", "/api/v1/api-keys/{key_id}", Token(E::ApiKeys), api_keys::revoke, AUTHZ),
    r("POST", "/api/v1/admin/api-keys", Token(E::ImportApiKey), api_keys::import, AUTHZ),
    r("POST", "/api/3/action/validate_api_key", Token(E::ValidateApiKey), api_keys::validate, AUTHZ),
    r("GET", "/api/v1/groups", Token(E::Groups), groups::list, AUTHZ),
    r("POST", "/api/v1/groups", Token(E::Groups), groups::create, AUTHZ),
    r("GET", "/api/v1/groups/{group}", Token(E::Groups), groups::read, AUTHZ),
    r("PATCH", "/api/v1/groups/{group}", Token(E::Groups), groups::update, AUTHZ),
    r("DELETE", "/api/v1/groups/{group}", Token(E::Groups), groups::delete, AUTHZ),
    r("PUT", "/api/v1/groups/{group}/members/{uid}", Token(E::Groups), groups::member, AUTHZ),
    r("DELETE", "/api/v1/groups/{group}/members/{uid}", Token(E::Groups), groups::member, AUTHZ),
    r("PUT", "/api/v1/groups/{group}/datasets/{dataset}", Token(E::Groups), groups::dataset, AUTHZ),
    r("DELETE", "/api/v1/groups/{group}/datasets/{dataset}", Token(E::Groups), groups::dataset, AUTHZ),
];

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

/// Finds the route; a trailing slash answers exactly as without it (never a redirect).
pub fn find(method: &str, path: &str) -> Match {
    let path = if path.len() > 1 { path.strip_suffix('/').unwrap_or(path) } else { path };
    let mut allow = Vec::new();
    for route in ROUTES {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing() {
        let Match::Found(r, p) = find("GET", "/api/v1/reporting-orgs/abc/datasets/") else { panic!() };
        assert_eq!((r.pattern, p), ("/api/v1/reporting-orgs/{oid}/datasets", vec![("oid", "abc".to_string())]));
        assert!(matches!(find("PUT", "/api/v1/reporting-orgs"), Match::WrongMethod(m) if m == vec!["GET", "POST"]));
        assert!(matches!(find("GET", "/api/v1/nothing"), Match::NotFound));
        assert!(matches!(find("GET", "/api/v1/reporting-orgs//datasets"), Match::NotFound));
    }

    #[test]
    fn every_token_route_has_a_scope_rule_and_patterns_are_unique() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(!(a.method == b.method && a.pattern == b.pattern), "{} {}", a.method, a.pattern);
            }
            if let Access::Token(e) = a.access {
                let _ = e.rule();
            }
        }
    }
}
