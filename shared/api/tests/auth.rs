//! The token path: the verified-token cache, revocation, JWKS fetching and refetching,
//! userinfo, and the per-request path's use of the stores.

use ryd_authz::{jwks_document, SigningKey};
use ryd_store::Sql;
use ryd_test_support::*;
use serde_json::json;

fn access(w: &World, token: &str) -> ryd_api::Response {
    w.raw(ryd_api::Request::new("GET", "/api/v1/access-check").with_header("authorization", &format!("Bearer {token}")))
}

#[test]
fn a_cache_hit_skips_the_signature_and_never_opens_the_key_value_store() {
    let w = World::new();
    let ann = Who::user(1, "Ann");
    let token = w.token(&ann);
    let timing = |r: &ryd_api::Response| r.header("server-timing").unwrap_or_default().to_string();
    let first = access(&w, &token);
    expect(&first, 200);
    assert!(timing(&first).starts_with("auth;desc=\"token verified\";dur="), "{}", timing(&first));
    assert_eq!((w.count("signature_verified"), w.count("token_cache_miss")), (1, 1));
    for _ in 0..5 {
        let r = access(&w, &token);
        expect(&r, 200);
        assert!(timing(&r).starts_with("auth;desc=\"token cache hit\";dur="), "{}", timing(&r));
    }
    assert_eq!(w.count("signature_verified"), 1, "hits skip the signature");
    assert_eq!(w.count("token_cache_hit"), 5);
    assert_eq!(w.count("kv_open"), 0, "pinned JWKS: the key-value store is never touched");
}

#[test]
fn a_token_one_character_different_is_verified_in_full_and_refused() {
    let w = World::new();
    let token = w.token(&Who::user(1, "Ann"));
    expect(&access(&w, &token), 200);
    // A character inside the signature: all its bits are data (the last one's are partly padding).
    let mut forged: Vec<char> = token.chars().collect();
    let i = forged.len() - 10;
    forged[i] = if forged[i] == 'A' { 'B' } else { 'A' };
    let forged: String = forged.into_iter().collect();
    let r = access(&w, &forged);
    expect(&r, 401);
    assert!(r.header("www-authenticate").unwrap().contains("invalid signature"), "{:?}", r.header("www-authenticate"));
    assert_eq!(w.count("signature_verified"), 2);
}

#[test]
fn an_expired_cached_token_is_refused() {
    let w = World::new();
    let token = w.token(&Who::user(1, "Ann"));
    expect(&access(&w, &token), 200);
    w.ports.now_ms.set((T0 + 600 + 61) * 1000);
    let r = access(&w, &token);
    expect(&r, 401);
    assert!(r.header("www-authenticate").unwrap().contains("token expired"));
}

#[test]
fn a_revocation_after_caching_refuses_the_token_on_the_next_request() {
    let w = World::new();
    let ann = Who::user(1, "Ann");
    let token = w.token(&ann);
    expect(&access(&w, &token), 200);
    ryd_store::tokens::revoke(&w.ports.sql, "sub", &ann.sub, T0).unwrap();
    let r = access(&w, &token);
    expect(&r, 401);
    assert!(r.header("www-authenticate").unwrap().contains("token revoked"));
    // Revoking the client works the same way, and a new token issued afterwards works.
    ryd_store::tokens::lift(&w.ports.sql, "sub", &ann.sub).unwrap();
    ryd_store::tokens::revoke(&w.ports.sql, "client", APP, T0).unwrap();
    expect(&access(&w, &token), 401);
    w.ports.now_ms.set((T0 + 10) * 1000);
    expect(&access(&w, &w.token(&ann)), 200);
}

#[test]
fn a_cached_token_with_insufficient_scopes_is_still_refused() {
    let w = World::new();
    let narrow = Who::user(1, "Ann").scopes("ryd");
    let token = w.token(&narrow);
    expect(&access(&w, &token), 200);
    let r = w.raw(
        ryd_api::Request::new("GET", "/api/v1/reporting-orgs").with_header("authorization", &format!("Bearer {token}")),
    );
    expect(&r, 403);
    assert_eq!(w.count("token_cache_hit"), 1);
}

#[test]
fn unknown_kid_refetches_the_jwks_at_most_once_per_30_seconds() {
    let w = World::new();
    let uri = "https://id.example.org/jwks";
    w.set_var("oidc_jwks", "");
    w.set_var("oidc_jwks_uri", uri);
    w.ports.http.borrow_mut().insert(uri.into(), (200, jwks_document(&[("k1", signing_key())]).to_string()));
    expect(&access(&w, &w.token(&Who::user(1, "Ann"))), 200);
    assert_eq!(w.count("http_get"), 1);
    // Within 30 s of that fetch an unknown kid causes no refetch at all (cooldown).
    let rogue = SigningKey::generate("EdDSA").unwrap();
    let token_at = |secs: i64, n: u32| {
        let mut c = w.claims(&Who::user(n, "X"));
        c["iat"] = json!(secs);
        c["exp"] = json!(secs + 300);
        rogue.sign(Some("rotated"), None, &c).unwrap()
    };
    expect(&access(&w, &token_at(T0, 9)), 401);
    assert_eq!(w.count("http_get"), 1);
    // After 30 s: five unknown kids cause exactly one refetch.
    w.ports.now_ms.set((T0 + 31) * 1000);
    for i in 0..5 {
        let r = access(&w, &token_at(T0 + 31, 10 + i));
        expect(&r, 401);
        assert!(r.header("www-authenticate").unwrap().contains("unknown signing key"));
    }
    assert_eq!(w.count("http_get"), 2, "one refetch for five unknown kids");
    // Rotation at the issuer: the next refetch (30 s later) brings the new key, which works.
    let doc = jwks_document(&[("k1", signing_key()), ("rotated", &rogue)]).to_string();
    w.ports.http.borrow_mut().insert(uri.into(), (200, doc));
    w.ports.now_ms.set((T0 + 62) * 1000);
    expect(&access(&w, &token_at(T0 + 62, 20)), 200);
    assert_eq!(w.count("http_get"), 3);
}

#[test]
fn provider_down_with_a_warm_cache_keeps_valid_tokens_working() {
    let w = World::new();
    let uri = "https://id.example.org/jwks";
    w.set_var("oidc_jwks", "");
    w.set_var("oidc_jwks_uri", uri);
    w.ports.http.borrow_mut().insert(uri.into(), (200, jwks_document(&[("k1", signing_key())]).to_string()));
    expect(&access(&w, &w.token(&Who::user(1, "Ann"))), 200);
    w.ports.http.borrow_mut().clear();
    // Past the JWKS cache lifetime: the refetch fails, the stale copy serves.
    w.ports.now_ms.set((T0 + 400) * 1000);
    let mut c = w.claims(&Who::user(2, "Bob"));
    c["iat"] = json!(T0 + 399);
    c["exp"] = json!(T0 + 900);
    expect(&access(&w, &signing_key().sign(Some("k1"), None, &c).unwrap()), 200);
    let unknown = SigningKey::generate("EdDSA").unwrap().sign(Some("nope"), None, &c).unwrap();
    expect(&access(&w, &unknown), 401);
}

#[test]
fn roles_from_userinfo_are_fetched_once_and_cached_with_the_claims() {
    let w = World::new();
    let info = "https://id.example.org/userinfo";
    w.set_var("oidc_userinfo_uri", info);
    w.ports
        .http
        .borrow_mut()
        .insert(info.into(), (200, json!({"roles": ["iati_register_your_data"], "name": "Ann"}).to_string()));
    let ann = Who::user(1, "Ann");
    let mut claims = w.claims(&ann);
    claims.as_object_mut().unwrap().remove("roles");
    let token = signing_key().sign(Some("k1"), None, &claims).unwrap();
    expect(&access(&w, &token), 200);
    expect(&access(&w, &token), 200);
    assert_eq!(w.count("userinfo_fetch"), 1);
    // Without the role at userinfo, the user may not use the API.
    w.ports.http.borrow_mut().insert(info.into(), (200, json!({"roles": []}).to_string()));
    let mut c2 = claims.clone();
    c2["jti"] = json!("other");
    let r = access(&w, &signing_key().sign(Some("k1"), None, &c2).unwrap());
    expect(&r, 403);
    // Machine tokens carry no roles and have no user: userinfo is never asked (real
    // providers refuse it for client-credentials tokens, which must not read as revoked).
    w.ports.http.borrow_mut().insert(info.into(), (401, "{}".into()));
    expect(&access(&w, &w.token(&Who::machine("some-client"))), 200);
    assert_eq!(w.count("userinfo_fetch"), 2);
}

#[test]
fn a_missing_required_variable_is_a_500_with_a_generic_body_and_a_logged_reason() {
    let w = World::new();
    w.set_var("oidc_issuer", "");
    let r = access(&w, &w.token(&Who::user(1, "Ann")));
    let body = expect(&r, 500);
    assert!(!body.to_string().contains("oidc_issuer"));
    assert!(w.ports.logs.borrow().iter().any(|l| l.contains("oidc_issuer")));
}

#[test]
fn bootstrap_superadmins_become_superadmins_on_their_first_request() {
    let w = World::new();
    let boss = Who::user(42, "Boss");
    w.set_var("bootstrap_superadmins", &boss.uid);
    let r = w.call(Some(&boss), "GET", &format!("/api/v1/users/{}/roles", boss.uid), None);
    assert_eq!(expect(&r, 200)["data"]["superadmin"], true);
}

fn as_bearer(w: &World, token: &str, method: &str, path: &str, body: Option<serde_json::Value>) -> ryd_api::Response {
    let mut req = ryd_api::Request::new(method, path)
        .with_header("authorization", &format!("Bearer {token}"))
        .with_header("content-type", "application/json");
    if let Some(b) = body {
        req = req.with_body(b.to_string());
    }
    w.raw(req)
}

#[test]
fn a_cached_token_and_a_missing_one_read_no_variable() {
    // On Spin each variable read blocks a worker thread (infra/README.md, "What a request costs on Spin"): the hot path reads none.
    let w = World::new();
    let r = w.raw(ryd_api::Request::new("GET", "/api/v1/access-check"));
    expect(&r, 401);
    assert_eq!(w.count("variable_read"), 0, "a request without a token reads no configuration");
    // (Tokens are signed with noise: each one is signed once and reused.)
    let token = w.token(&Who::user(1, "Ann"));
    expect(&access(&w, &token), 200);
    assert!(w.count("variable_read") > 0, "a miss reads the configuration");
    let sa = w.token(&Who::superadmin(9));
    expect(&as_bearer(&w, &sa, "GET", "/api/v1/reporting-orgs", None), 200);
    expect(&as_bearer(&w, &sa, "POST", "/api/v1/authz/check", Some(json!({"checks": []}))), 200);
    let after_misses = w.count("variable_read");
    assert_eq!(w.count("token_cache_miss"), 3, "one miss per token and component");
    expect(&as_bearer(&w, &sa, "GET", "/api/v1/reporting-orgs", None), 200);
    expect(&as_bearer(&w, &sa, "POST", "/api/v1/authz/check", Some(json!({"checks": []}))), 200);
    expect(&access(&w, &token), 200);
    assert_eq!(w.count("token_cache_hit"), 3);
    assert_eq!(w.count("variable_read"), after_misses, "cache hits read no variable");
    expect(&w.raw(ryd_api::Request::new("GET", "/health")), 200);
    expect(&w.raw(ryd_api::Request::new("GET", "/api/v1/licences")), 200);
    assert_eq!(w.count("variable_read"), after_misses, "public routes read no variable");
}

#[test]
fn a_configuration_change_reaches_a_cached_token_within_token_cache_seconds() {
    let w = World::new();
    let token = w.token(&Who::machine("gateway"));
    let validate = |w: &World| {
        let body = json!({"api_key": "ryd_nothing", "api_id": "nothing"});
        as_bearer(w, &token, "POST", "/api/3/action/validate_api_key", Some(body)).status
    };
    assert_eq!(validate(&w), 403, "not a listed service client");
    w.set_var("authz_service_clients", "gateway");
    assert_eq!(validate(&w), 403, "the cached token keeps the settings it was verified with");
    // The token lives 600 s; its cache row 300 s (token_cache_seconds): then it is
    // verified again, with the configuration in force.
    w.ports.now_ms.set((T0 + 301) * 1000);
    assert_eq!(validate(&w), 200);
    w.set_var("authz_service_clients", "");
    assert_eq!(validate(&w), 200, "cached again, with the new settings");
}

#[test]
fn a_new_token_refreshes_the_profile_only_when_it_changed() {
    let w = World::new();
    let name_of = |w: &World| {
        let rows = w.ports.sql.execute("SELECT name, updated_at FROM users WHERE id = ?", &[uid(1).as_str().into()]);
        rows.unwrap().first().map(|r| (r.text(0), r.text(1))).unwrap()
    };
    expect(&access(&w, &w.token(&Who::user(1, "Ann"))), 200);
    let (name, first_update) = name_of(&w);
    assert_eq!(name, "Ann");
    w.ports.now_ms.set((T0 + 10) * 1000);
    expect(&access(&w, &w.token(&Who::user(1, "Ann"))), 200);
    assert_eq!(name_of(&w), ("Ann".to_string(), first_update.clone()), "the same profile is not rewritten");
    w.ports.now_ms.set((T0 + 20) * 1000);
    expect(&access(&w, &w.token(&Who::user(1, "Ann Smith"))), 200);
    let (name, updated) = name_of(&w);
    assert_eq!(name, "Ann Smith");
    assert_ne!(updated, first_update);
    assert_eq!(w.count("token_cache_miss"), 3);
}
