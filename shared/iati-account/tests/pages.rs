//! IATI Account's console, natively: pages need a session, every POST passes the CSRF
//! checks, actions are the API's own (same refusals, nothing changed by a refusal), names
//! are escaped, and keys bound to a session end with it.

use ryd_api::{Request, Response};
use ryd_store::sessions::{self, Lifetimes, NewSession};
use ryd_store::Sql;
use ryd_test_support::*;
use serde_json::{json, Value};

const ORIGIN: &str = "https://registry.example.org";
const CLIENT: &str = "iati-account";
const LIFE: Lifetimes = Lifetimes { idle_s: 1800, absolute_s: 8 * 3600 };

/// A browser signed in as `who`: its cookie header and its session's CSRF token, as the
/// sign-in (`/account/callback`) records them.
struct Tab {
    cookie: String,
    csrf: String,
    hash: String,
}

fn sign_in(w: &World, who: &Who) -> Tab {
    let id = ryd_account::random_token().unwrap();
    let csrf = ryd_account::random_token().unwrap();
    let facts = json!({"client_id": CLIENT, "roles": who.roles, "role_table": "documented", "origin": ORIGIN,
                       "name": who.name, "email": ""});
    let hash = ryd_account::session_hash(&id);
    let s = NewSession {
        id_hash: hash.clone(),
        user_id: who.uid.clone(),
        sub: who.sub.clone(),
        sid: Some(format!("sid-{}", who.uid)),
        id_token: format!("id-token-of-{}", who.uid),
        access_token: None,
        refresh_token: None,
        csrf_token: csrf.clone(),
        caller: facts.to_string(),
    };
    let now = w.ports.now_ms.get() / 1000;
    sessions::start(&w.ports.sql, &s, LIFE, now).unwrap();
    Tab { cookie: format!("{}={id}", ryd_account::SESSION_COOKIE.name), csrf, hash }
}

fn get(w: &World, tab: Option<&Tab>, path: &str) -> Response {
    let mut req = Request::new("GET", path);
    if let Some(t) = tab {
        req = req.with_header("cookie", &t.cookie);
    }
    w.raw(req)
}

/// A form POST as a browser sends it from the console's own page.
fn post(w: &World, tab: &Tab, path: &str, fields: &[(&str, &str)]) -> Response {
    let mut all = vec![("csrf", tab.csrf.as_str())];
    all.extend_from_slice(fields);
    post_as(w, Some(tab), path, &all, &[("origin", ORIGIN), ("sec-fetch-site", "same-origin")])
}

fn post_as(w: &World, tab: Option<&Tab>, path: &str, fields: &[(&str, &str)], headers: &[(&str, &str)]) -> Response {
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={}", ryd_api::http::percent_encode(v))).collect();
    let mut req = Request::new("POST", path)
        .with_header("content-type", "application/x-www-form-urlencoded")
        .with_body(body.join("&"));
    if let Some(t) = tab {
        req = req.with_header("cookie", &t.cookie);
    }
    for (k, v) in headers {
        req = req.with_header(k, v);
    }
    w.raw(req)
}

fn page(r: &Response) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

#[track_caller]
fn see_other(r: &Response) -> String {
    assert_eq!(r.status, 303, "{}", page(r));
    r.header("location").unwrap().to_string()
}

fn api(w: &World, who: &Who, method: &str, path: &str, body: Option<Value>) -> Value {
    w.call(Some(who), method, path, body).json_body()
}

#[test]
fn pages_need_a_session_that_is_on() {
    let c = Cast::new();
    let w = &c.world;
    let r = get(w, None, &format!("/account/orgs/{}", c.oid));
    assert_eq!(r.status, 200);
    let html = page(&r);
    assert!(html.contains("Sign in"), "{html}");
    assert!(html.contains(&format!("/account/login?return_to=%2Faccount%2Forgs%2F{}", c.oid)), "{html}");
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("form-action 'self';"), "signed out: {csp}");

    // A POST without a session changes nothing.
    let before = w.snapshot();
    let r = post_as(w, None, "/account/orgs", &[("short_name", "x1")], &[("origin", ORIGIN)]);
    assert_eq!(r.status, 401, "{}", page(&r));
    assert_eq!(w.snapshot(), before);

    // A session id nobody signed in with (fixation: one set before sign-in) is no session.
    let forged =
        Tab { cookie: format!("{}=made-up", ryd_account::SESSION_COOKIE.name), csrf: "x".into(), hash: "".into() };
    assert!(page(&get(w, Some(&forged), "/account")).contains("/account/login"));

    // Idle past its timeout: signed out.
    let tab = sign_in(w, &c.admin);
    assert!(page(&get(w, Some(&tab), "/account")).contains("Org aidorg"));
    w.ports.now_ms.set(w.ports.now_ms.get() + (LIFE.idle_s + 1) * 1000);
    assert!(page(&get(w, Some(&tab), "/account")).contains("/account/login"));
}

#[test]
fn an_admin_manages_an_organisation_through_the_apis_handlers() {
    let c = Cast::new();
    let w = &c.world;
    let tab = sign_in(w, &c.admin);
    let home = page(&get(w, Some(&tab), "/account"));
    assert!(home.contains("Org aidorg") && home.contains("admin"), "{home}");

    // Create an organisation: the API's POST, the creator its admin, audited as the console.
    let to = see_other(&post(
        w,
        &tab,
        "/account/orgs",
        &[
            ("short_name", "consoleorg"),
            ("human_readable_name", "Console Org"),
            ("contact_email", "c@example.org"),
            ("description", ""),
        ],
    ));
    let new_oid = to.strip_prefix("/account/orgs/").unwrap().split('?').next().unwrap().to_string();
    let shown = page(&get(w, Some(&tab), &to));
    assert!(shown.contains("The organisation was created"), "{shown}");
    let org = api(w, &c.admin, "GET", &format!("/api/v1/reporting-orgs/{new_oid}"), None);
    assert_eq!(org["data"]["user_role"], "admin");
    let audit = w
        .ports
        .sql
        .execute("SELECT client_id, user_id FROM audit_events WHERE target_id = ?", &[new_oid.as_str().into()])
        .unwrap();
    let row = audit.first().unwrap();
    assert_eq!((row.text(0), row.text(1)), (CLIENT.to_string(), c.admin.uid.clone()));

    // Edit it, add a dataset.
    see_other(&post(
        w,
        &tab,
        &format!("/account/orgs/{new_oid}"),
        &[("human_readable_name", "Console Org Renamed"), ("contact_email", "c@example.org")],
    ));
    let org = api(w, &c.admin, "GET", &format!("/api/v1/reporting-orgs/{new_oid}"), None);
    assert_eq!(org["data"]["metadata"]["human_readable_name"], "Console Org Renamed");
    let to = see_other(&post(
        w,
        &tab,
        &format!("/account/orgs/{new_oid}/datasets"),
        &[
            ("short_name", "console-acts"),
            ("human_readable_name", "Console activities"),
            ("url", "https://data.example.org/console.xml"),
            ("source_type", "primary_source"),
            ("visibility", "public"),
        ],
    ));
    assert!(to.starts_with("/account/datasets/"), "{to}");
    assert!(page(&get(w, Some(&tab), &format!("/account/orgs/{new_oid}"))).contains("Console activities"));

    // The pending user's request: shown to the admin, approved, then the role changed.
    let org_page = page(&get(w, Some(&tab), &format!("/account/orgs/{}", c.oid)));
    assert!(org_page.contains("Requests to join") && org_page.contains("Approve as contributor"), "{org_page}");
    let people = format!("/account/orgs/{}/people/{}", c.oid, c.pending.uid);
    see_other(&post(w, &tab, &people, &[("role", "contributor")]));
    see_other(&post(w, &tab, &people, &[("role", "editor")]));
    let roles = api(w, &c.pending, "GET", &format!("/api/v1/users/{}/roles", c.pending.uid), None);
    assert_eq!(roles["data"]["reporting_orgs"][0]["role"], "editor", "{roles}");
}

#[test]
fn refusals_are_the_apis_shown_on_the_page_and_change_nothing() {
    let c = Cast::new();
    let w = &c.world;
    // A contributor sees no admin's buttons, and approving anyway is the API's 403.
    let tab = sign_in(w, &c.contributor);
    let org_page = page(&get(w, Some(&tab), &format!("/account/orgs/{}", c.oid)));
    for absent in ["Save details", "Change role", "Approve as contributor", "Delete this organisation"] {
        assert!(!org_page.contains(absent), "{absent} shown to a contributor");
    }
    let before = w.snapshot();
    let r = post(w, &tab, &format!("/account/orgs/{}/people/{}", c.oid, c.pending.uid), &[("role", "contributor")]);
    assert_eq!(r.status, 403);
    assert!(page(&r).contains("set-org-user-authz"), "the API's reason: {}", page(&r));
    assert!(page(&r).contains(&format!("name=\"csrf\" value=\"{}\"", tab.csrf)), "sign-out still works from it");
    // Only a superadmin approves an organisation.
    let r = post(w, &tab, &format!("/account/orgs/{}/approve", c.oid), &[]);
    assert!(r.status == 403 || r.status == 400, "{}", page(&r));
    assert_eq!(w.snapshot(), before);
    assert_eq!(get(w, Some(&tab), "/account/queue").status, 403, "the approval queue is for superadmins");

    // A validation error names the field on the form, which keeps what was typed.
    let admin = sign_in(w, &c.admin);
    let r =
        post(w, &admin, "/account/orgs", &[("short_name", "Bad Name!"), ("human_readable_name", "Typed <b>here</b>")]);
    assert_eq!(r.status, 400);
    let html = page(&r);
    assert!(html.contains("short_name") && html.contains("contact_email"), "{html}");
    assert!(html.contains("Typed &lt;b&gt;here&lt;/b&gt;"), "{html}");
    assert_eq!(w.snapshot(), before);
}

#[test]
fn the_console_is_refused_with_the_apis_own_words_through_the_one_dispatch() {
    // A person whose account lacks the role that opens the API: the console's action is
    // refused by the same check, in the same words, as their token's request would be.
    let c = Cast::new();
    let w = &c.world;
    let mut outsider = Who::user(77, "Outsider");
    outsider.roles.clear();
    let by_token = w.call(Some(&outsider), "POST", "/api/v1/reporting-orgs", Some(org_body("outside")));
    assert_eq!(by_token.status, 403);
    let words = by_token.json_body()["error"]["error_msg"].as_str().unwrap().to_string();
    let before = w.snapshot();
    let tab = sign_in(w, &outsider);
    let fields = [("short_name", "outside"), ("human_readable_name", "Outside"), ("contact_email", "o@example.org")];
    let r = post(w, &tab, "/account/orgs", &fields);
    assert_eq!(r.status, 403, "{}", page(&r));
    assert!(page(&r).contains(&words), "{words} on {}", page(&r));
    assert_eq!(w.snapshot(), before);
}

#[test]
fn every_post_must_come_from_the_console_with_the_sessions_token() {
    let c = Cast::new();
    let w = &c.world;
    let tab = sign_in(w, &c.admin);
    let other = sign_in(w, &c.editor);
    let path = format!("/account/orgs/{}", c.oid);
    let fields = |token: &'static str| {
        vec![("csrf", token), ("human_readable_name", "Hijacked"), ("contact_email", "x@example.org")]
    };
    let own = [("origin", ORIGIN), ("sec-fetch-site", "same-origin")];
    let before = w.snapshot();
    let other_token: &'static str = Box::leak(other.csrf.clone().into_boxed_str());
    let own_token: &'static str = Box::leak(tab.csrf.clone().into_boxed_str());
    for (what, token, headers) in [
        ("no token", "", own.to_vec()),
        ("a wrong token", "not-the-token", own.to_vec()),
        ("another session's token", other_token, own.to_vec()),
        ("a cross-site Origin", own_token, vec![("origin", "https://evil.example"), ("sec-fetch-site", "same-origin")]),
        ("a cross-site fetch", own_token, vec![("origin", ORIGIN), ("sec-fetch-site", "cross-site")]),
        ("a same-site fetch", own_token, vec![("sec-fetch-site", "same-site")]),
        ("an opaque Origin", own_token, vec![("origin", "null")]),
    ] {
        let r = post_as(w, Some(&tab), &path, &fields(token), &headers);
        assert_eq!(r.status, 403, "{what}: {}", page(&r));
        assert!(page(&r).contains("refused"), "{what}");
    }
    assert_eq!(w.snapshot(), before, "nothing changed");
    // Without either header (an old browser) the token alone decides.
    see_other(&post_as(w, Some(&tab), &path, &fields(own_token), &[]));
}

#[test]
fn names_are_shown_as_text() {
    let c = Cast::new();
    let w = &c.world;
    let mut body = org_body("scriptorg");
    body["human_readable_name"] = json!("<script>alert(1)</script>");
    let oid =
        api(w, &c.admin, "POST", "/api/v1/reporting-orgs", Some(body))["data"]["id"].as_str().unwrap().to_string();
    let tab = sign_in(w, &c.admin);
    for path in ["/account".to_string(), format!("/account/orgs/{oid}")] {
        let html = page(&get(w, Some(&tab), &path));
        assert!(!html.contains("<script>alert"), "{path}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{path}: {html}");
    }
}

/// The secret shown once on the API-key page.
/// A usage plan for everyone (the default plan), so that a live key validates.
fn default_plan(c: &Cast) {
    let body = json!({"name": "api-bronze-users"});
    assert_eq!(c.world.call(Some(&c.superadmin), "POST", "/api/v1/groups", Some(body)).status, 201);
}

fn secret_on(html: &str) -> String {
    let start = html.find("ryd_").expect("a secret on the page");
    html[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

#[test]
fn a_session_bound_key_stops_with_the_session_and_sign_out_goes_to_the_provider() {
    let c = Cast::new();
    let w = &c.world;
    w.set_var("account_client_id", CLIENT);
    w.ports.http.borrow_mut().insert(
        format!("{ISS}/.well-known/openid-configuration"),
        (200, json!({"issuer": ISS, "end_session_endpoint": "https://id.example.org/oidc/logout"}).to_string()),
    );
    default_plan(&c);
    let tab = sign_in(w, &c.admin);
    let r = post(w, &tab, "/account/api-keys", &[("name", "gateway"), ("session_bound", "yes")]);
    assert_eq!(r.status, 200, "{}", page(&r));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let bound = secret_on(&page(&r));
    let r = post(w, &tab, "/account/api-keys", &[("name", "lasting"), ("expires_on", "2099-01-31")]);
    let lasting = secret_on(&page(&r));
    let keys = page(&get(w, Some(&tab), "/account/api-keys"));
    assert!(keys.contains("ends with this sign-in") && !keys.contains(&bound), "secrets are shown once only");

    let validate = |secret: &str| {
        let body = json!({"api_key": secret, "api_id": "aid-activities"});
        api(w, &c.superadmin, "POST", "/api/3/action/validate_api_key", Some(body))["result"]["authorized"].clone()
    };
    assert_eq!((validate(&bound), validate(&lasting)), (json!(true), json!(true)));

    // A bearer token cannot bind a key to a session it does not have.
    let r = w.call(Some(&c.admin), "POST", "/api/v1/api-keys", Some(json!({"name": "x", "session_bound": true})));
    assert_eq!(r.status, 400, "{}", r.json_body());

    // Sign out: the session ends here, its cookie is cleared, the browser goes to the
    // provider with the ID token as hint and the way back.
    let to = see_other(&post(w, &tab, "/account/logout", &[]));
    assert!(to.starts_with("https://id.example.org/oidc/logout?client_id=iati-account&post_logout_redirect_uri=https%3A%2F%2Fregistry.example.org%2Faccount&id_token_hint=id-token-of-"), "{to}");
    assert!(sessions::find(&w.ports.sql, &tab.hash, w.ports.now_ms.get() / 1000).unwrap().is_none());
    assert_eq!((validate(&bound), validate(&lasting)), (json!(false), json!(true)), "the bound key ended with it");
    assert!(page(&get(w, Some(&tab), "/account")).contains("/account/login"));
}

#[test]
fn a_revocation_ends_the_session_and_its_keys() {
    let c = Cast::new();
    let w = &c.world;
    default_plan(&c);
    let tab = sign_in(w, &c.editor);
    let bound = secret_on(&page(&post(w, &tab, "/account/api-keys", &[("name", "gw"), ("session_bound", "yes")])));
    let body = json!({"api_key": bound, "api_id": "aid-activities"});
    let v = api(w, &c.superadmin, "POST", "/api/3/action/validate_api_key", Some(body));
    assert_eq!(v["result"]["authorized"], true, "{v}");
    w.ports.now_ms.set(w.ports.now_ms.get() + 5_000);
    let r = w.call(Some(&c.superadmin), "PUT", &format!("/api/v1/admin/revocations/users/{}", c.editor.uid), None);
    assert!(r.status < 300, "{}", r.json_body());
    assert!(page(&get(w, Some(&tab), "/account")).contains("/account/login"));
    let body = json!({"api_key": bound, "api_id": "aid-activities"});
    let v = api(w, &c.superadmin, "POST", "/api/3/action/validate_api_key", Some(body));
    assert_eq!(v["result"]["authorized"], false, "{v}");
}

#[test]
fn a_superadmin_approves_from_the_queue_and_opens_any_organisation() {
    let c = Cast::new();
    let w = &c.world;
    let tab = sign_in(w, &c.superadmin);
    let home = page(&get(w, Some(&tab), "/account"));
    assert!(home.contains("/account/queue") && !home.contains("Org aidorg"), "no list of every organisation: {home}");
    let queue = page(&get(w, Some(&tab), "/account/queue"));
    assert!(queue.contains("Org aidorg") && queue.contains("Org otherorg"), "{queue}");
    let to = see_other(&post(w, &tab, &format!("/account/orgs/{}/approve", c.oid), &[]));
    assert!(page(&get(w, Some(&tab), &to)).contains("The organisation is approved"));
    let org = api(w, &c.admin, "GET", &format!("/api/v1/reporting-orgs/{}", c.oid), None);
    assert_eq!(org["data"]["metadata"]["registry_approved"], true);
    assert!(!page(&get(w, Some(&tab), "/account/queue")).contains("Org aidorg"), "approved ones leave the queue");
    // Found by name, linked (no "Ask to join": superadmins hold every organisation).
    let found = page(&get(w, Some(&tab), "/account/find?q=otherorg"));
    assert!(
        found.contains(&format!("href=\"/account/orgs/{}\"", c.other_oid)) && !found.contains("Ask to join"),
        "{found}"
    );
}

#[test]
fn a_superadmin_sees_the_email_outbox_and_why_a_message_failed() {
    let c = Cast::new();
    let w = &c.world;
    let held = ryd_store::outbox::claim(&w.ports.sql, "email", "w1", T0 * 1000, T0 * 1000 + 60_000, 1).unwrap();
    ryd_store::outbox::mark_failed(&w.ports.sql, held[0].seq, "w1", T0 * 1000, "550 <no such user>", None).unwrap();
    let tab = sign_in(w, &c.superadmin);
    assert!(page(&get(w, Some(&tab), "/account")).contains("href=\"/account/outbox\""));
    let outbox = page(&get(w, Some(&tab), "/account/outbox"));
    assert!(outbox.contains("1 given up"), "{outbox}");
    assert!(outbox.contains("550 &lt;no such user&gt;") && !outbox.contains("<no such user>"), "escaped: {outbox}");
    assert!(outbox.contains("Approve a new user for your organisation"), "{outbox}");
    let admin = sign_in(w, &c.admin);
    let r = get(w, Some(&admin), "/account/outbox");
    assert_eq!(r.status, 403, "for superadmins only");
    assert!(page(&r).contains("superadmin"), "{}", page(&r));
}

#[test]
fn an_admin_adds_a_webhook_sees_its_secret_once_and_deletes_it() {
    let c = Cast::new();
    let w = &c.world;
    let tab = sign_in(w, &c.admin);
    let base = format!("/account/orgs/{}/webhooks", c.oid);
    assert!(page(&get(w, Some(&tab), &format!("/account/orgs/{}", c.oid))).contains(&format!("href=\"{base}\"")));
    let r = post(
        w,
        &tab,
        &base,
        &[("url", "https://tools.example.org/ryd?a=1&b=<2>"), ("events", "dataset.*"), ("events", "membership.*")],
    );
    let shown = page(&r);
    assert_eq!(r.status, 200, "{shown}");
    assert!(shown.contains("whsec_") && shown.contains("not shown again"), "{shown}");
    assert!(shown.contains("https://tools.example.org/ryd?a=1&amp;b=&lt;2&gt;"), "escaped: {shown}");
    let again = page(&get(w, Some(&tab), &base));
    assert!(!again.contains("whsec_"), "the secret is shown once: {again}");
    assert!(again.contains("dataset.* membership.*"), "{again}");
    // A refusal is the API's, on the page, with the field at fault; nothing made.
    let before = w.snapshot();
    let r = post(w, &tab, &base, &[("url", "http://10.0.0.1/x"), ("events", "dataset.*")]);
    assert_eq!(r.status, 400);
    assert!(page(&r).contains("url"), "{}", page(&r));
    assert_eq!(w.snapshot(), before);
    // Editors may not.
    let editor = sign_in(w, &c.editor);
    assert!(!page(&get(w, Some(&editor), &format!("/account/orgs/{}", c.oid))).contains(&format!("href=\"{base}\"")));
    assert_eq!(get(w, Some(&editor), &base).status, 403);
    // Deleted.
    let listed = api(w, &c.admin, "GET", &format!("/api/v1/reporting-orgs/{}/webhooks", c.oid), None);
    let wid = listed["data"][0]["id"].as_str().unwrap().to_string();
    let to = see_other(&post(w, &tab, &format!("{base}/{wid}/delete"), &[]));
    assert!(page(&get(w, Some(&tab), &to)).contains("The webhook was deleted"));
    assert!(!page(&get(w, Some(&tab), &base)).contains("tools.example.org"));
}
