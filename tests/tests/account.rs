//! IATI Account over HTTP, on the real `.wasm`: signing in through a real OpenID Provider
//! (`oidc-provider`'s login and consent pages, followed as a browser without JavaScript
//! would), `validate_cookie` (the CKAN component) and the Identity Service's Back-Channel
//! Logout (the `account` component). The first test writes its sessions to the store as a
//! sign-in writes them (a real random id whose hash alone is stored), to set up several
//! users and provider sessions at once.

use ryd_e2e::*;
use serde_json::{json, Value};

const CLIENT: &str = "iati-account";
const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// A signed-in session of `who` under the provider session `sid`: its cookie header.
fn session(host: &Server, who: &Who, sid: &str) -> String {
    let id = ryd_account::random_token().expect("randomness");
    let now = now();
    host.sql_exec(&format!(
        "INSERT INTO account_sessions (id_hash, user_id, sub, sid, id_token, csrf_token, created_at, last_active_at, \
         idle_timeout_s, expires_at) VALUES ('{}', '{}', '{}', '{sid}', 'id-token', 'csrf', {now}, {now}, 1800, {})",
        ryd_account::session_hash(&id),
        who.uid,
        who.sub,
        now + 8 * 3600
    ));
    format!("theme=dark; {}={id}", ryd_account::SESSION_COOKIE.name)
}

fn validate(c: &Client, cookie: Option<&str>) -> Value {
    let headers: Vec<(&str, &str)> = cookie.map(|k| vec![("cookie", k)]).unwrap_or_default();
    let a = c.send("GET", "/api/3/action/validate_cookie", None, &headers, None);
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.header("cache-control"), Some("no-store"));
    let body = a.json();
    assert_eq!(body["success"], true);
    body["result"].clone()
}

fn logout_token(claims: &Value, typ: &str) -> String {
    idp_key().sign(Some("idp-1"), Some(typ), claims).expect("signing")
}

fn logout_claims(sub: &str, sid: Option<&str>, jti: &str) -> Value {
    let now = now();
    let mut c =
        json!({"iss": ISS, "aud": CLIENT, "sub": sub, "jti": jti, "iat": now, "exp": now + 120, "events": {EVENT: {}}});
    if let Some(sid) = sid {
        c["sid"] = json!(sid);
    }
    c
}

fn backchannel(c: &Client, token: &str) -> Answer {
    c.send(
        "POST",
        "/account/backchannel-logout",
        None,
        &[("content-type", "application/x-www-form-urlencoded")],
        Some(&format!("logout_token={token}")),
    )
}

#[test]
fn validate_cookie_answers_for_a_session_until_the_provider_or_a_revocation_ends_it() {
    let host = serve!(&data_dir("account"), test_env(&[("SPIN_VARIABLE_ACCOUNT_CLIENT_ID", CLIENT)]));
    let c = Client::new(&host);
    let alice = Who::user(1, "Alice");
    let bob = Who::user(2, "Bob");
    // Their first calls record them as users.
    for who in [&alice, &bob] {
        c.call(who, "GET", "/api/v1/access-check", None).expect(200);
    }

    assert_eq!(validate(&c, None), json!({"logged_in": false}));
    let a1 = session(&host, &alice, "sid-a");
    let a2 = session(&host, &alice, "sid-a2");
    let b1 = session(&host, &bob, "sid-b");
    let r = validate(&c, Some(&a1));
    assert_eq!(r["logged_in"], true, "{r}");
    assert_eq!(r["user"]["id"], alice.uid);
    assert_eq!(r["user"]["name"], alice.sub);
    assert_eq!(r["user"]["fullname"], "Alice");
    assert!(r["user"]["last_active"].as_str().is_some_and(|t| t.ends_with("+00:00")), "{r}");
    assert!(r["user"]["href"].as_str().is_some_and(|h| h.ends_with(&format!("/account/users/{}", alice.uid))), "{r}");
    // A made-up id, a tossed duplicate, an empty value: not signed in, never an error.
    let name = ryd_account::SESSION_COOKIE.name;
    for cookie in [format!("{name}=made-up"), format!("{a1}; {name}=other"), format!("{name}=")] {
        assert_eq!(validate(&c, Some(&cookie)), json!({"logged_in": false}), "{cookie}");
    }

    // The provider ends Alice's session `sid-a`: that one ends, the rest stay.
    let token = logout_token(&logout_claims(&alice.sub, Some("sid-a"), "j-1"), "logout+jwt");
    let r = backchannel(&c, &token);
    assert_eq!((r.status, r.header("cache-control")), (200, Some("no-store")), "{}", r.text);
    assert_eq!(validate(&c, Some(&a1)), json!({"logged_in": false}));
    assert_eq!(validate(&c, Some(&a2))["logged_in"], true);
    // Replayed, forged, typed as an access token, or for another client: refused, nothing ends.
    let stranger = ryd_authz::SigningKey::generate("RS256").expect("a key");
    let forged = stranger.sign(Some("idp-1"), Some("logout+jwt"), &logout_claims(&alice.sub, None, "j-2")).unwrap();
    let mut other_client = logout_claims(&alice.sub, None, "j-3");
    other_client["aud"] = json!("someone-else");
    for (what, token) in [
        ("replayed", token.clone()),
        ("forged", forged),
        ("an access token", logout_token(&logout_claims(&alice.sub, None, "j-4"), "at+jwt")),
        ("another client's", logout_token(&other_client, "logout+jwt")),
    ] {
        let r = backchannel(&c, &token);
        assert_eq!(r.status, 400, "{what}: {}", r.text);
        assert_eq!(r.json()["error"], "invalid_request", "{what}");
        assert_eq!(validate(&c, Some(&a2))["logged_in"], true, "{what} ended a session");
    }
    // `sub` alone: every session of Alice's ends, Bob's stays.
    let r = backchannel(&c, &logout_token(&logout_claims(&alice.sub, None, "j-5"), "logout+jwt"));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(validate(&c, Some(&a2)), json!({"logged_in": false}));
    assert_eq!(validate(&c, Some(&b1))["logged_in"], true);

    // A revocation mark on Bob (the API's own) ends his session too.
    let superadmin = Who::superadmin(9);
    c.call(&superadmin, "PUT", &format!("/api/v1/admin/revocations/users/{}", bob.uid), None).expect(200);
    assert_eq!(validate(&c, Some(&b1)), json!({"logged_in": false}));

    // The limited CKAN layer does not offer it.
    let limited = c.send("GET", "/api/limited-ckan-compatible/validate_cookie", None, &[("cookie", &b1)], None);
    assert_eq!(limited.status, 400, "{}", limited.text);
}

/// A browser without JavaScript: follows redirects by hand and keeps each origin's cookies.
struct Browser {
    cookies: Vec<(String, String, String)>,
}

impl Browser {
    fn origin(url: &str) -> (String, String) {
        let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        (format!("http://{host}"), if path.is_empty() { "/".into() } else { path.into() })
    }

    fn request(&mut self, method: &str, url: &str, form: Option<&str>) -> Answer {
        let (origin, path) = Self::origin(url);
        let jar: Vec<String> =
            self.cookies.iter().filter(|(o, _, _)| *o == origin).map(|(_, n, v)| format!("{n}={v}")).collect();
        let cookie = jar.join("; ");
        let mut headers = vec![("cookie", cookie.as_str())];
        if form.is_some() {
            // A form on a page of the same origin, as a browser sends it.
            headers.push(("content-type", "application/x-www-form-urlencoded"));
            headers.push(("origin", origin.as_str()));
            headers.push(("sec-fetch-site", "same-origin"));
        }
        let a = Client::at_without_redirects(&origin).send(method, &path, None, &headers, form);
        for (name, value) in &a.headers {
            if name.eq_ignore_ascii_case("set-cookie") {
                let pair = value.split(';').next().unwrap_or("");
                if let Some((n, v)) = pair.split_once('=') {
                    self.cookies.retain(|(o, k, _)| !(*o == origin && k == n));
                    self.cookies.push((origin.clone(), n.to_string(), v.to_string()));
                }
            }
        }
        a
    }

    /// Follows redirects from `answer` (at `at`) with GETs; the last answer and its URL.
    fn follow(&mut self, mut a: Answer, mut at: String) -> (Answer, String) {
        for _ in 0..20 {
            let Some(location) = a.header("location").map(str::to_string) else { return (a, at) };
            at = if location.starts_with("http") { location } else { format!("{}{location}", Self::origin(&at).0) };
            a = self.request("GET", &at, None);
        }
        panic!("more than 20 redirects, at {at}");
    }

    /// Posts a form of the page at `page_url` (its CSRF token added) and follows the answer.
    fn submit(&mut self, page: &Answer, url: &str, fields: &[(&str, &str)]) -> (Answer, String) {
        let mut body = vec![format!("csrf={}", hidden(&page.text, "csrf"))];
        body.extend(fields.iter().map(|(k, v)| format!("{k}={}", ryd_api::http::percent_encode(v))));
        let a = self.request("POST", url, Some(&body.join("&")));
        self.follow(a, url.to_string())
    }

    fn cookie(&self, origin: &str, name: &str) -> Option<String> {
        self.cookies.iter().find(|(o, n, _)| o == origin && n == name).map(|(_, n, v)| format!("{n}={v}"))
    }

    /// Follows redirects from `url`, signing in as `login` at the provider's development
    /// login and consent pages on the way, until a page on `stop_origin` answers without
    /// redirecting (or redirects off the provider to a path there). The last answer, and
    /// where it was.
    fn sign_in(&mut self, url: &str, login: &str, provider: &str) -> (Answer, String) {
        let mut at = url.to_string();
        let mut a = self.request("GET", &at, None);
        for _ in 0..20 {
            let Some(location) = a.header("location").map(str::to_string) else {
                // A page: the provider's login or consent form, posted back where it is.
                if at.starts_with(provider) && at.contains("/interaction/") {
                    let form = if a.text.contains("name=\"login\"") {
                        format!("prompt=login&login={login}&password=any")
                    } else {
                        "prompt=consent".to_string()
                    };
                    a = self.request("POST", &at, Some(&form));
                    continue;
                }
                return (a, at);
            };
            at = if location.starts_with("http") { location } else { format!("{}{location}", Self::origin(&at).0) };
            a = self.request("GET", &at, None);
        }
        panic!("more than 20 steps signing in, at {at}");
    }
}

/// The value of the hidden input `name` on a page.
fn hidden(html: &str, name: &str) -> String {
    let at = html.find(&format!("name=\"{name}\" value=\"")).unwrap_or_else(|| panic!("no {name} on {html}"));
    let rest = &html[at + name.len() + 15..];
    rest[..rest.find('"').expect("a closed value")].to_string()
}

/// The provider's sign-out confirmation (RP-Initiated Logout's page): "Yes, sign me out".
fn confirm_sign_out(browser: &mut Browser, page: &Answer, issuer: &str) -> (Answer, String) {
    assert!(page.text.contains("sign-out"), "the provider's sign-out page: {}", page.text);
    let form = format!("xsrf={}&logout=yes", hidden(&page.text, "xsrf"));
    let a = browser.request("POST", &format!("{issuer}/session/end/confirm"), Some(&form));
    browser.follow(a, format!("{issuer}/session/end/confirm"))
}

#[test]
fn a_person_signs_in_through_a_real_provider_works_in_the_console_and_signs_out_everywhere() {
    let (host, idp) = serve_console(module_path!(), "account-signin", &[]);
    let (site, issuer) = (host.url(), idp.issuer.clone());
    let c = Client::new(&host);

    // Signed out, the console asks to sign in, and comes back to the page asked for.
    let mut browser = Browser { cookies: Vec::new() };
    let first = browser.request("GET", &format!("{site}/account/api-keys"), None);
    assert!(first.text.contains("/account/login?return_to=%2Faccount%2Fapi-keys"), "{}", first.text);
    let (keys_page, at) =
        browser.sign_in(&format!("{site}/account/login?return_to=/account/api-keys"), "alice", &issuer);
    assert_eq!(at, format!("{site}/account/api-keys"), "landed at the page asked for: {}", keys_page.text);
    assert!(keys_page.text.contains("Alice Admin") && keys_page.text.contains("My API keys"), "{}", keys_page.text);
    let session = browser.cookie(&site, ryd_account::SESSION_COOKIE.name).expect("a session cookie");
    let who = validate(&c, Some(&session));
    assert_eq!(who["logged_in"], true, "{who}");
    assert_eq!(who["user"]["id"], "00000000-0000-4000-8000-0000000a11ce", "alice's id, from userinfo: {who}");
    assert_eq!(who["user"]["fullname"], "Alice Admin");

    // The console works through the API's handlers: an organisation, a dataset.
    let new_org = browser.request("GET", &format!("{site}/account/orgs/new"), None);
    let (org_page, org_url) = browser.submit(
        &new_org,
        &format!("{site}/account/orgs"),
        &[("short_name", "alice-org"), ("human_readable_name", "Alice's <Org>"), ("contact_email", "a@example.org")],
    );
    assert!(org_page.text.contains("The organisation was created"), "{}", org_page.text);
    assert!(
        org_page.text.contains("Alice&#39;s &lt;Org&gt;") || org_page.text.contains("Alice's &lt;Org&gt;"),
        "{}",
        org_page.text
    );
    let new_dataset = browser.request("GET", &format!("{}/datasets/new", org_url.split('?').next().unwrap()), None);
    let oid = org_url.trim_start_matches(&format!("{site}/account/orgs/")).split('?').next().unwrap().to_string();
    let (dataset_page, _) = browser.submit(
        &new_dataset,
        &format!("{site}/account/orgs/{oid}/datasets"),
        &[
            ("short_name", "alice-acts"),
            ("human_readable_name", "Alice activities"),
            ("url", "https://data.example.org/a.xml"),
            ("source_type", "primary_source"),
            ("visibility", "public"),
        ],
    );
    assert!(dataset_page.text.contains("The dataset was added"), "{}", dataset_page.text);

    // A form from another site is refused, whatever cookie the browser adds.
    let forged = Client::at_without_redirects(&site).send(
        "POST",
        "/account/orgs",
        None,
        &[
            ("cookie", &session),
            ("content-type", "application/x-www-form-urlencoded"),
            ("origin", "http://evil.example"),
        ],
        Some(&format!(
            "csrf={}&short_name=evil-org&human_readable_name=Evil&contact_email=e%40example.org",
            hidden(&new_org.text, "csrf")
        )),
    );
    assert_eq!(forged.status, 403, "{}", forged.text);

    // A session-bound key works while the sign-in lasts.
    let (made, _) = browser.submit(
        &keys_page,
        &format!("{site}/account/api-keys"),
        &[("name", "gateway"), ("session_bound", "yes")],
    );
    assert!(made.text.contains("not shown again"), "{}", made.text);

    // Already signed in at the provider: signing in again asks nothing, and gives a new id.
    let (again, _) = browser.sign_in(&format!("{site}/account/login"), "no-password-asked", &issuer);
    assert!(again.text.contains("My organisations"), "{}", again.text);
    let renewed = browser.cookie(&site, ryd_account::SESSION_COOKIE.name).expect("a session cookie");
    assert_ne!(renewed, session, "a new session id at every sign-in");

    // Sign out here: the provider is asked to end its session too, confirms, calls our
    // back-channel endpoint (for the other session of the same provider session), and
    // sends the browser back to the console, which asks to sign in.
    let home = browser.request("GET", &format!("{site}/account"), None);
    let out = browser.request(
        "POST",
        &format!("{site}/account/logout"),
        Some(&format!("csrf={}", hidden(&home.text, "csrf"))),
    );
    let to = out.header("location").expect("to the provider").to_string();
    assert!(to.starts_with(&format!("{issuer}/session/end?")) && to.contains("id_token_hint="), "{to}");
    let (confirm, _) = browser.follow(out, format!("{site}/account/logout"));
    let (back, at) = confirm_sign_out(&mut browser, &confirm, &issuer);
    assert_eq!(at, format!("{site}/account"), "{}", back.text);
    assert!(back.text.contains("/account/login"), "{}", back.text);
    assert_eq!(validate(&c, Some(&renewed))["logged_in"], false);
    assert_eq!(validate(&c, Some(&session))["logged_in"], false, "the provider's back-channel call ended it");
}
