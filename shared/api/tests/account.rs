//! IATI Account's Back-Channel Logout endpoint, natively: every rule of §2.6 refused on its
//! own, the sessions it ends and those it leaves, and a refused token changing nothing.

mod support;

use ryd_api::Request;
use ryd_store::members;
use ryd_store::sessions::{self, Lifetimes, NewSession};
use serde_json::{json, Value};
use support::*;

const CLIENT: &str = "iati-account";
const LIFE: Lifetimes = Lifetimes { idle_s: 1800, absolute_s: 8 * 3600 };
const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

fn world() -> World {
    let w = World::new();
    w.set_var("account_client_id", CLIENT);
    let sql = &w.ports.sql;
    ryd_store::migrate(sql).unwrap();
    for (uid, sub) in [("u-alice", "alice"), ("u-bob", "bob")] {
        members::upsert_user(sql, uid, sub, sub, "", false, "2027-01-01T00:00:00Z").unwrap();
    }
    for (hash, uid, sub, sid) in
        [("a1", "u-alice", "alice", "sid-a"), ("a2", "u-alice", "alice", "sid-a2"), ("b1", "u-bob", "bob", "sid-b")]
    {
        let s = NewSession {
            id_hash: hash.into(),
            user_id: uid.into(),
            sub: sub.into(),
            sid: Some(sid.into()),
            id_token: "id".into(),
            access_token: None,
            refresh_token: None,
            csrf_token: "c".into(),
        };
        sessions::start(sql, &s, LIFE, T0 - 60).unwrap();
    }
    w
}

fn claims() -> Value {
    json!({"iss": ISS, "aud": CLIENT, "sub": "alice", "sid": "sid-a", "jti": "j-1",
           "iat": T0 - 1, "exp": T0 + 120, "events": {EVENT: {}}})
}

fn logout_token(claims: &Value, typ: Option<&str>) -> String {
    signing_key().sign(Some("k1"), typ, claims).unwrap()
}

fn post(w: &World, body: &str) -> ryd_api::Response {
    w.raw(
        Request::new("POST", "/account/backchannel-logout")
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_body(body.to_string()),
    )
}

fn on(w: &World, hash: &str) -> bool {
    sessions::find(&w.ports.sql, hash, T0).unwrap().is_some()
}

#[test]
fn a_valid_logout_token_ends_that_provider_session_once() {
    let w = world();
    let r = post(&w, &format!("logout_token={}", logout_token(&claims(), Some("logout+jwt"))));
    assert_eq!(r.status, 200, "{}", r.json_body());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert!(!on(&w, "a1"), "its session ended");
    assert!(on(&w, "a2") && on(&w, "b1"), "other sessions stay");
    // The same jti again is a replay, even though there is nothing left to end.
    let again = post(&w, &format!("logout_token={}", logout_token(&claims(), Some("logout+jwt"))));
    assert_eq!(again.status, 400);
    assert!(again.json_body()["error_description"].as_str().unwrap().contains("already used"));

    // `sub` alone ends every session of that subject; an untyped token is accepted.
    let mut by_sub = claims();
    by_sub.as_object_mut().unwrap().remove("sid");
    by_sub["jti"] = json!("j-2");
    assert_eq!(post(&w, &format!("logout_token={}", logout_token(&by_sub, None))).status, 200);
    assert!(!on(&w, "a2") && on(&w, "b1"));
}

#[test]
fn every_rule_is_refused_on_its_own_and_a_refusal_ends_nothing() {
    let w = world();
    let mut cases: Vec<(String, String)> = Vec::new();
    let mut case = |name: &str, f: &dyn Fn(&mut Value)| {
        let mut c = claims();
        f(&mut c);
        cases.push((name.to_string(), format!("logout_token={}", logout_token(&c, Some("logout+jwt")))));
    };
    case("another issuer", &|c| c["iss"] = json!("https://evil.example"));
    case("another client", &|c| c["aud"] = json!("someone-else"));
    case("expired", &|c| c["exp"] = json!(T0 - 600));
    case("no iat", &|c| {
        c.as_object_mut().unwrap().remove("iat");
    });
    case("issued long ago", &|c| c["iat"] = json!(T0 - 3600));
    case("no event", &|c| {
        c.as_object_mut().unwrap().remove("events");
    });
    case("another event", &|c| c["events"] = json!({"http://schemas.openid.net/event/other": {}}));
    case("a nonce", &|c| c["nonce"] = json!("n"));
    case("no jti", &|c| {
        c.as_object_mut().unwrap().remove("jti");
    });
    case("neither sid nor sub", &|c| {
        let o = c.as_object_mut().unwrap();
        o.remove("sid");
        o.remove("sub");
    });
    cases.push(("an access token".into(), format!("logout_token={}", logout_token(&claims(), Some("at+jwt")))));
    let stranger = ryd_authz::SigningKey::generate("EdDSA").unwrap();
    cases.push((
        "a forged signature".into(),
        format!("logout_token={}", stranger.sign(Some("k1"), Some("logout+jwt"), &claims()).unwrap()),
    ));
    cases.push(("no token".into(), "other=1".into()));
    cases.push(("garbage".into(), "logout_token=not.a.jwt".into()));
    for (name, body) in &cases {
        let r = post(&w, body);
        assert_eq!(r.status, 400, "{name}: {}", r.json_body());
        assert_eq!(r.json_body()["error"], "invalid_request", "{name}");
        assert_eq!(r.header("cache-control"), Some("no-store"), "{name}");
        assert!(on(&w, "a1") && on(&w, "a2") && on(&w, "b1"), "{name} ended a session");
    }
    // Not a form: refused even with a good token.
    let good = format!("logout_token={}", logout_token(&claims(), Some("logout+jwt")));
    let r = w.raw(
        Request::new("POST", "/account/backchannel-logout")
            .with_header("content-type", "application/json")
            .with_body(good.clone()),
    );
    assert_eq!(r.status, 400);
    // Without the console configured, nothing is accepted.
    w.set_var("account_client_id", "");
    assert_eq!(post(&w, &good).status, 400);
    assert!(on(&w, "a1"));
    // Only the refusals above were logged as such; a later valid call still works (its jti
    // was never consumed by a refusal).
    w.set_var("account_client_id", CLIENT);
    assert_eq!(post(&w, &good).status, 200);
    assert!(!on(&w, "a1"));
}
