#![warn(missing_docs)]
//! IATI Account: where people (not publishing tools) manage their organisations in the
//! browser (README.md here says what it offers and how it is kept safe).
//!
//! - [`PAGES`] is its route table, in the shape of the API's ([`ryd_api::routes::Route`]) with
//!   its own access rule ([`Page`]); [`serve`] answers a request from it.
//! - `signin`: sign-in with the Identity Service (authorization code with PKCE), sign-out,
//!   and its Back-Channel Logout.
//! - `pages`: the console, whose every action is a typed call ([`ryd_api::Call`], handles in
//!   `calls`) of the API's own route through [`ryd_api::dispatch`] as the session's user: the
//!   same checks a token's request passes, written once.
//!
//! It depends on `ryd-api` in one direction only: the API knows nothing of it, and no API
//! component links it.

mod calls;
mod pages;
mod signin;

pub use pages::Page;

use ryd_api::routes::{find, route as r, Route};
use ryd_api::{Ctx, Ports, Request, Response};

use Page::{Asset, Public, Session};

/// Every route of IATI Account (spin.toml sends `/account/...` to the `account` component).
pub static PAGES: &[Route<Page>] = &[
    r("GET", "/account/login", Public, signin::login),
    r("GET", "/account/callback", Public, signin::callback),
    r("POST", "/account/backchannel-logout", Public, signin::backchannel_logout),
    r("GET", "/account/console.css", Asset, pages::stylesheet),
    r("POST", "/account/logout", Session, signin::logout),
    r("GET", "/account", Session, pages::home),
    r("GET", "/account/users/{uid}", Session, pages::user),
    r("GET", "/account/orgs/new", Session, pages::new_org),
    r("POST", "/account/orgs", Session, pages::create_org),
    r("GET", "/account/orgs/{oid}", Session, pages::org),
    r("POST", "/account/orgs/{oid}", Session, pages::update_org),
    r("POST", "/account/orgs/{oid}/approve", Session, pages::approve_org),
    r("POST", "/account/orgs/{oid}/delete", Session, pages::delete_org),
    r("POST", "/account/orgs/{oid}/join", Session, pages::join_org),
    r("POST", "/account/orgs/{oid}/people/{uid}", Session, pages::set_role),
    r("POST", "/account/orgs/{oid}/people/{uid}/remove", Session, pages::remove_person),
    r("GET", "/account/orgs/{oid}/webhooks", Session, pages::webhooks),
    r("POST", "/account/orgs/{oid}/webhooks", Session, pages::create_webhook),
    r("POST", "/account/orgs/{oid}/webhooks/{wid}/enable", Session, pages::enable_webhook),
    r("POST", "/account/orgs/{oid}/webhooks/{wid}/secret", Session, pages::rotate_webhook_secret),
    r("POST", "/account/orgs/{oid}/webhooks/{wid}/delete", Session, pages::delete_webhook),
    r("GET", "/account/orgs/{oid}/datasets/new", Session, pages::new_dataset),
    r("POST", "/account/orgs/{oid}/datasets", Session, pages::create_dataset),
    r("GET", "/account/datasets/{did}", Session, pages::dataset),
    r("POST", "/account/datasets/{did}", Session, pages::update_dataset),
    r("POST", "/account/datasets/{did}/delete", Session, pages::delete_dataset),
    r("GET", "/account/find", Session, pages::find),
    r("GET", "/account/api-keys", Session, pages::api_keys),
    r("POST", "/account/api-keys", Session, pages::create_api_key),
    r("POST", "/account/api-keys/{key_id}/revoke", Session, pages::revoke_api_key),
    r("GET", "/account/queue", Session, pages::queue),
    r("GET", "/account/outbox", Session, pages::outbox),
];

/// Whether `path` is IATI Account's (under any method), as spin.toml routes it.
pub fn serves(path: &str) -> bool {
    !matches!(find(PAGES, "", path), ryd_api::routes::Match::NotFound)
}

/// Answers one request with IATI Account's routes, in the application's envelope
/// ([`ryd_api::respond`]: request id, errors, `private, no-store` for a session's answers).
pub fn serve(req: &Request, ports: &dyn Ports) -> Response {
    let found = find(PAGES, &req.method, &req.path);
    let signed_in = matches!(&found, ryd_api::routes::Match::Found(p, _) if p.access == Session);
    ryd_api::respond(req, ports, signed_in, || {
        let (page, params) = found.or_refuse(req)?;
        match page.access {
            Public | Asset => {
                let ctx = Ctx { ports, req, caller: None, params, now_millis: ports.now_millis() };
                (page.handler)(&ctx)
            }
            Session => Ok(pages::enter(page, params, req, ports)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_unique_and_none_is_the_apis() {
        for (i, a) in PAGES.iter().enumerate() {
            assert!(a.pattern.starts_with("/account"), "{}", a.pattern);
            for b in &PAGES[i + 1..] {
                assert!(!(a.method == b.method && a.pattern == b.pattern), "{} {}", a.method, a.pattern);
            }
            assert!(ryd_api::routes::component_of(a.pattern).is_none(), "{} is the API's too", a.pattern);
        }
        assert!(serves("/account/orgs/x/people/y/remove") && !serves("/api/v1/reporting-orgs"));
    }
}
