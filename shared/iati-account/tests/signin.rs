//! IATI Account's Back-Channel Logout endpoint, natively: every rule of §2.6 refused on its
//! own, the sessions it ends and those it leaves, and a refused token changing nothing.

use ryd_api::Request;
use ryd_store::sessions::{self, Lifetimes, NewSession};
use ryd_store::{members, Sql};
use ryd_test_support::*;
use serde_json::{json, Value};

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
            caller: "{}".into(),
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

    // Past its `exp` but within the leeway the token would still pass its checks: its
    // `jti` is remembered that long, so the replay is still refused and ends nobody's
    // next session of that provider session.
    let next = NewSession {
        id_hash: "a3".into(),
        user_id: "u-alice".into(),
        sub: "alice".into(),
        sid: Some("sid-a".into()),
        id_token: "id".into(),
        access_token: None,
        refresh_token: None,
        csrf_token: "c".into(),
        caller: "{}".into(),
    };
    sessions::start(&w.ports.sql, &next, LIFE, T0).unwrap();
    w.ports.now_ms.set((T0 + 120 + 5) * 1000);
    let late = post(&w, &format!("logout_token={}", logout_token(&claims(), Some("logout+jwt"))));
    assert_eq!(late.status, 400, "{}", late.json_body());
    assert!(late.json_body()["error_description"].as_str().unwrap().contains("already used"));
    assert!(sessions::find(&w.ports.sql, "a3", T0 + 125).unwrap().is_some(), "the next session stays");
    w.ports.now_ms.set(T0 * 1000);

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

// Sign-in: the authorization code flow against a provider played by the test ports.

const SECRET: &str = "s3cret";

/// A world whose provider publishes discovery and answers the token endpoint.
fn provider_world() -> World {
    let w = world();
    w.set_var("account_client_secret", SECRET);
    let discovery = json!({"issuer": ISS, "authorization_endpoint": "https://id.example.org/authorize",
                           "token_endpoint": "https://id.example.org/token", "userinfo_endpoint": "https://id.example.org/userinfo",
                           "end_session_endpoint": "https://logout.example.org/end"});
    w.ports.http.borrow_mut().insert(format!("{ISS}/.well-known/openid-configuration"), (200, discovery.to_string()));
    w
}

type Params = std::collections::HashMap<String, String>;

/// `GET /account/login`: the provider URL's parameters and the sign-in cookie.
fn start(w: &World, query: &str) -> (Params, String) {
    let r = w.raw(Request::new("GET", &format!("/account/login{query}")));
    assert_eq!(r.status, 302, "{}", String::from_utf8_lossy(&r.body));
    let location = r.header("location").unwrap().to_string();
    assert!(location.starts_with("https://id.example.org/authorize?"), "{location}");
    let params = ryd_http::parse_form(location.split_once('?').unwrap().1).into_iter().collect();
    let cookie = r.header("set-cookie").unwrap().to_string();
    assert!(
        cookie.starts_with("__Host-ryd-login=") && cookie.contains("HttpOnly") && cookie.contains("Secure"),
        "{cookie}"
    );
    (params, cookie.split(';').next().unwrap().to_string())
}

fn id_token(nonce: &str, extra: Value) -> String {
    let mut c = json!({"iss": ISS, "aud": CLIENT, "sub": "alice", "sid": "sid-new", "nonce": nonce,
                       "iat": T0, "exp": T0 + 300, "iatiRegistryId": "u-alice", "name": "Alice A"});
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    signing_key().sign(Some("k1"), Some("JWT"), &c).unwrap()
}

fn provider_answers(w: &World, body: Value) {
    w.ports.posts.borrow_mut().insert("https://id.example.org/token".into(), (200, body.to_string()));
}

fn back(w: &World, cookie: &str, query: &str) -> ryd_api::Response {
    w.raw(Request::new("GET", &format!("/account/callback?{query}")).with_header("cookie", cookie))
}

#[test]
fn signing_in_exchanges_the_code_with_pkce_checks_the_id_token_and_begins_a_new_session() {
    let w = provider_world();
    let (p, login) = start(&w, "?return_to=/account/orgs");
    assert_eq!((p["response_type"].as_str(), p["client_id"].as_str()), ("code", CLIENT));
    assert_eq!(p["redirect_uri"], "https://registry.example.org/account/callback");
    assert_eq!((p["code_challenge_method"].as_str(), p["scope"].as_str()), ("S256", "openid profile email"));
    let with_role = json!({"roles": ["iati_register_your_data"]});
    provider_answers(
        &w,
        json!({"id_token": id_token(&p["nonce"], with_role), "access_token": "at", "token_type": "Bearer"}),
    );
    let r = back(&w, &login, &format!("code=the-code&state={}", p["state"]));
    assert_eq!(r.status, 302, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("location"), Some("/account/orgs"));
    // The code went with the verifier whose challenge the browser carried, and the client
    // authenticated itself.
    let posted = w.ports.posted.borrow().last().cloned().unwrap();
    let form: std::collections::HashMap<String, String> = ryd_http::parse_form(&posted.1).into_iter().collect();
    assert_eq!(form["code"], "the-code");
    assert_eq!(ryd_account::s256(&form["code_verifier"]), p["code_challenge"]);
    assert!(posted.2.as_deref().is_some_and(|a| a.starts_with("Basic ")));
    // A session under the cookie's id, with the provider's sid; the user recorded.
    let cookie = r.header("set-cookie").unwrap();
    assert!(cookie.starts_with("__Host-ryd-session=") && cookie.contains("Max-Age=28800"), "{cookie}");
    let id = cookie.split(';').next().unwrap().split_once('=').unwrap().1;
    let s = sessions::find(&w.ports.sql, &ryd_account::session_hash(id), T0).unwrap().expect("signed in");
    assert_eq!((s.user_id.as_str(), s.sid.as_deref(), s.user_name.as_str()), ("u-alice", Some("sid-new"), "Alice A"));
    // The session opens the console, whose forms may lead to the provider's sign-out only.
    let page = w.raw(Request::new("GET", "/account").with_header("cookie", &format!("__Host-ryd-session={id}")));
    assert_eq!(page.status, 200, "{}", String::from_utf8_lossy(&page.body));
    assert!(String::from_utf8_lossy(&page.body).contains("Signed in as"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("form-action 'self' https://logout.example.org;") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    // The sign-in is used up: the same answer again is refused.
    assert_eq!(back(&w, &login, &format!("code=the-code&state={}", p["state"])).status, 400);
}

#[test]
fn a_sign_in_is_refused_for_a_wrong_state_nonce_audience_or_provider_error_and_begins_no_session() {
    let w = provider_world();
    let sessions_now =
        |w: &World| w.ports.sql.execute("SELECT count(*) FROM account_sessions", &[]).unwrap().first().unwrap().int(0);
    let before = sessions_now(&w);
    // Each case: what the provider answers and the query it sends back, from the sign-in's
    // parameters.
    type Case = Box<dyn Fn(&Params) -> (Value, String)>;
    let cases: Vec<(&str, Case)> = vec![
        (
            "wrong state",
            Box::new(|p| (json!({"id_token": id_token(&p["nonce"], json!({}))}), "code=c&state=other".to_string())),
        ),
        (
            "wrong nonce",
            Box::new(|p| (json!({"id_token": id_token("another", json!({}))}), format!("code=c&state={}", p["state"]))),
        ),
        (
            "another audience",
            Box::new(|p| {
                (
                    json!({"id_token": id_token(&p["nonce"], json!({"aud": "x"}))}),
                    format!("code=c&state={}", p["state"]),
                )
            }),
        ),
        (
            "an access token",
            Box::new(|p| {
                let mut c =
                    json!({"iss": ISS, "aud": CLIENT, "sub": "alice", "nonce": p["nonce"], "iat": T0, "exp": T0 + 300});
                c["iatiRegistryId"] = json!("u-alice");
                (
                    json!({"id_token": signing_key().sign(Some("k1"), Some("at+jwt"), &c).unwrap()}),
                    format!("code=c&state={}", p["state"]),
                )
            }),
        ),
        ("the provider's error", Box::new(|p| (json!({}), format!("error=access_denied&state={}", p["state"])))),
        ("no code", Box::new(|p| (json!({}), format!("state={}", p["state"])))),
    ];
    for (what, case) in cases {
        let (p, login) = start(&w, "");
        let (answer, query) = case(&p);
        provider_answers(&w, answer);
        let r = back(&w, &login, &query);
        assert_eq!(r.status, 400, "{what}: {}", String::from_utf8_lossy(&r.body));
        assert!(r.header("set-cookie").is_none(), "{what}");
    }
    // The token endpoint refusing the code.
    let (p, login) = start(&w, "");
    w.ports
        .posts
        .borrow_mut()
        .insert("https://id.example.org/token".into(), (400, json!({"error": "invalid_grant"}).to_string()));
    let r = back(&w, &login, &format!("code=c&state={}", p["state"]));
    assert_eq!(r.status, 400);
    assert!(String::from_utf8_lossy(&r.body).contains("invalid_grant"));
    // No sign-in cookie, or one never issued.
    assert_eq!(back(&w, "", "code=c&state=s").status, 400);
    assert_eq!(back(&w, "__Host-ryd-login=made-up", "code=c&state=s").status, 400);
    assert_eq!(sessions_now(&w), before, "no session begun");
}

#[test]
fn the_return_path_is_local_or_the_console_home() {
    let w = provider_world();
    for (asked, landed) in [
        ("?return_to=//evil.example/x", "/account"),
        ("?return_to=https://evil.example", "/account"),
        ("", "/account"),
        ("?return_to=/account/keys", "/account/keys"),
    ] {
        let (p, login) = start(&w, asked);
        provider_answers(&w, json!({"id_token": id_token(&p["nonce"], json!({}))}));
        let r = back(&w, &login, &format!("code=c&state={}", p["state"]));
        assert_eq!(r.header("location"), Some(landed), "{asked}");
    }
}

#[test]
fn the_user_id_comes_from_userinfo_when_the_id_token_lacks_it_and_only_for_the_same_subject() {
    let w = provider_world();
    let (p, login) = start(&w, "");
    let mut c = json!({"iss": ISS, "aud": CLIENT, "sub": "alice", "nonce": p["nonce"], "iat": T0, "exp": T0 + 300});
    let token = signing_key().sign(Some("k1"), Some("JWT"), &c).unwrap();
    provider_answers(&w, json!({"id_token": token, "access_token": "at"}));
    w.ports.http.borrow_mut().insert(
        "https://id.example.org/userinfo".into(),
        (200, json!({"sub": "alice", "iatiRegistryId": "u-alice", "name": "Alice"}).to_string()),
    );
    assert_eq!(back(&w, &login, &format!("code=c&state={}", p["state"])).status, 302);
    // Userinfo about someone else: refused.
    let (p, login) = start(&w, "");
    c["nonce"] = json!(p["nonce"]);
    provider_answers(
        &w,
        json!({"id_token": signing_key().sign(Some("k1"), Some("JWT"), &c).unwrap(), "access_token": "at"}),
    );
    w.ports.http.borrow_mut().insert(
        "https://id.example.org/userinfo".into(),
        (200, json!({"sub": "mallory", "iatiRegistryId": "u-bob"}).to_string()),
    );
    let r = back(&w, &login, &format!("code=c&state={}", p["state"]));
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
}

#[test]
fn without_a_client_secret_there_is_no_sign_in_and_the_page_says_what_to_set() {
    let w = world();
    for path in ["/account/login", "/account/callback"] {
        let r = w.raw(Request::new("GET", path));
        assert_eq!(r.status, 503, "{path}");
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        let page = String::from_utf8_lossy(&r.body);
        assert!(page.contains("<code>account_client_secret</code>"), "{page}");
        assert!(!page.contains("<code>account_client_id</code>"), "only what is missing: {page}");
        assert!(!page.contains("Sign in again"), "no circle back to the sign-in: {page}");
    }
}

#[test]
fn a_refused_sign_in_is_an_html_page_with_the_providers_words_escaped_and_never_sniffed() {
    let w = provider_world();
    let (_, login) = start(&w, "");
    let r = back(&w, &login, "error=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
    assert_eq!(r.status, 400);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert!(r.header("content-security-policy").is_some_and(|c| c.contains("default-src 'none'")));
    let page = String::from_utf8_lossy(&r.body);
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.contains("<script>"), "{page}");
    assert!(page.contains(r#"href="/account/login""#), "the way to start again: {page}");
}

/// Signs in through the world's provider; `had`: the session cookie the browser already
/// holds. The new session's id.
fn sign_in(w: &World, had: Option<&str>) -> String {
    let (p, login) = start(w, "");
    let with_role = json!({"roles": ["iati_register_your_data"]});
    provider_answers(w, json!({"id_token": id_token(&p["nonce"], with_role), "access_token": "at"}));
    let cookies = match had {
        Some(id) => format!("{login}; __Host-ryd-session={id}"),
        None => login,
    };
    let r = back(w, &cookies, &format!("code=c&state={}", p["state"]));
    assert_eq!(r.status, 302, "{}", String::from_utf8_lossy(&r.body));
    let cookie = r.header("set-cookie").unwrap();
    cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_string()
}

#[test]
fn signing_in_again_in_the_same_browser_ends_the_session_it_replaces() {
    let w = provider_world();
    let live = |id: &str| sessions::find(&w.ports.sql, &ryd_account::session_hash(id), T0).unwrap().is_some();
    let first = sign_in(&w, None);
    let elsewhere = sign_in(&w, None);
    let second = sign_in(&w, Some(&first));
    assert_ne!(first, second);
    assert!(!live(&first), "the replaced session's id no longer works");
    assert!(live(&second), "the new one does");
    assert!(live(&elsewhere), "a session this browser did not present stays");
}
