//! The development Identity Service of `up --dev`: a small OpenID Provider served by the
//! host under [`PATH`], so that IATI Account's console can be signed in to on a machine
//! with no provider installed. It speaks the protocol the console speaks to a real
//! provider, and the console's code does not know the difference: discovery, the
//! authorization code flow with PKCE (S256) for one confidential client
//! (`client_secret_basic`), the JWKS, userinfo, RP-initiated logout, and a Back-Channel
//! Logout token to the console when a person signs out here.
//!
//! Instead of a password, a page lets you choose one of the sample people. Its tokens are
//! signed with the development key ([`DevIdentity`]) and carry the claims the tokens
//! `up --dev` prints carry. Never served without `--dev`. State (codes, provider sessions)
//! is in memory: a restart signs everyone out here.

use crate::dev::{DevIdentity, TokenRequest, DEV_SUPERADMIN};
use maud::html;
use ryd_authz::{KeySet, ID_TOKEN_TYPES};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Mutex;

pub use crate::dev::IDP_PATH as PATH;

/// How long an authorization code may wait for its exchange.
const CODE_LIFETIME_S: i64 = 60;
/// How long the tokens issued here last.
const TOKEN_LIFETIME_S: i64 = 3600;
/// The cookie naming a person's session at this provider.
const SESSION_COOKIE: &str = "dev_identity_session";
const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// Someone to sign in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: &'static str,
    pub name: &'static str,
    pub email: &'static str,
    pub roles: &'static [&'static str],
    /// What they are in the sample registry, shown on the choice page.
    pub about: &'static str,
}

const USER: &[&str] = &["iati_register_your_data"];

/// The development superadmin and the sample organisation's people (`sample::MEMBERS`).
pub fn people() -> Vec<Person> {
    let mut people = vec![Person {
        id: DEV_SUPERADMIN,
        name: "Development Superadmin",
        email: "superadmin@dev.localhost",
        roles: &["iati_register_your_data", "iati_superadmin"],
        about: "IATI Secretariat: approves organisations, sees everything",
    }];
    for (id, name, email, role) in crate::sample::MEMBERS {
        let about = match *role {
            "admin" => "admin of the sample organisation",
            "editor" => "editor in the sample organisation",
            _ => "has asked to join the sample organisation",
        };
        people.push(Person { id, name, email, roles: USER, about });
    }
    people
}

/// A request to the provider: the path below [`PATH`], the query, headers (lower-case
/// names) and body.
#[derive(Debug, Clone, Default)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn params(&self) -> HashMap<String, String> {
        let text = if self.method == "POST" { &self.body } else { &self.query };
        ryd_http::parse_form(text).into_iter().collect()
    }

    fn cookie(&self, name: &str) -> Option<&str> {
        self.header("cookie").and_then(|h| ryd_account::cookie_value(h, name))
    }
}

/// The provider's answer, and a back-channel logout to deliver before it is sent.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// `(URL, form body)`: a logout token to POST to the console.
    pub back_channel: Option<(String, String)>,
}

impl Answer {
    fn new(status: u16, content_type: &str, body: String) -> Self {
        let headers = vec![
            ("content-type".to_string(), content_type.to_string()),
            ("cache-control".to_string(), "no-store".to_string()),
        ];
        Answer { status, headers, body, back_channel: None }
    }

    fn json(status: u16, body: Value) -> Self {
        Answer::new(status, "application/json", body.to_string())
    }

    fn page(status: u16, title: &str, content: maud::Markup) -> Self {
        let doc = html! {
            (maud::DOCTYPE)
            html lang="en" {
                head { meta charset="utf-8"; title { (title) " · development Identity Service" } }
                body style="font-family: sans-serif; max-width: 40rem; margin: 2rem auto" {
                    p { small { "Development Identity Service (ryd-host up --dev): never used without --dev." } }
                    h1 { (title) }
                    (content)
                }
            }
        };
        let mut a = Answer::new(status, "text/html; charset=utf-8", doc.into_string());
        a.headers.push(("x-content-type-options".into(), "nosniff".into()));
        a.headers.push((
            "content-security-policy".into(),
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'".into(),
        ));
        a
    }

    fn redirect(location: &str) -> Self {
        let mut a = Answer::new(303, "text/plain", String::new());
        a.headers.push(("location".into(), location.into()));
        a
    }

    fn error(status: u16, error: &str, description: &str) -> Self {
        Answer::json(status, json!({"error": error, "error_description": description}))
    }

    fn with_header(mut self, name: &str, value: String) -> Self {
        self.headers.push((name.into(), value));
        self
    }
}

/// A code waiting for its exchange.
struct Grant {
    person: Person,
    redirect_uri: String,
    nonce: Option<String>,
    challenge: String,
    sid: String,
    expires_at: i64,
}

#[derive(Default)]
struct State {
    codes: HashMap<String, Grant>,
    /// The browser's cookie → (its provider session `sid`, who).
    sessions: HashMap<String, (String, Person)>,
}

/// The provider, for one host origin and one client (the console).
pub struct DevIdp {
    identity: DevIdentity,
    /// The host's origins a browser may use (`http://127.0.0.1:PORT`, `http://localhost:PORT`):
    /// the console's registered redirect and post-logout URIs are on these.
    origins: Vec<String>,
    audience: String,
    client_id: String,
    client_secret: String,
    people: Vec<Person>,
    state: Mutex<State>,
}

fn random() -> String {
    ryd_account::random_token().unwrap_or_else(|e| panic!("no randomness for the development provider: {e}"))
}

impl DevIdp {
    /// The provider of `identity` (whose issuer is `<origin>/dev-identity`), for the console
    /// registered as `client_id` / `client_secret`, issuing access tokens for `audience`.
    pub fn new(identity: DevIdentity, port: u16, audience: &str, client_id: &str, client_secret: &str) -> Self {
        DevIdp {
            identity,
            origins: vec![format!("http://127.0.0.1:{port}"), format!("http://localhost:{port}")],
            audience: audience.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            people: people(),
            state: Mutex::new(State::default()),
        }
    }

    fn issuer(&self) -> &str {
        &self.identity.issuer
    }

    fn endpoint(&self, name: &str) -> String {
        format!("{}/{name}", self.issuer())
    }

    /// Answers one request at `now` (seconds).
    pub fn answer(&self, req: &Req, now: i64) -> Answer {
        match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/.well-known/openid-configuration") => self.discovery(),
            ("GET", "/jwks") => Answer::new(200, "application/json", self.identity.jwks.clone()),
            ("GET", "/authorize") => self.authorize_page(req),
            ("POST", "/authorize") => self.authorize(req, now),
            ("POST", "/token") => self.token(req, now),
            ("GET" | "POST", "/userinfo") => self.userinfo(req),
            ("GET", "/end-session") => self.end_session_page(req),
            ("POST", "/end-session") => self.end_session(req, now),
            _ => Answer::error(404, "not_found", "no such endpoint at the development Identity Service"),
        }
    }

    fn discovery(&self) -> Answer {
        Answer::json(
            200,
            json!({
                "issuer": self.issuer(),
                "authorization_endpoint": self.endpoint("authorize"),
                "token_endpoint": self.endpoint("token"),
                "jwks_uri": self.endpoint("jwks"),
                "userinfo_endpoint": self.endpoint("userinfo"),
                "end_session_endpoint": self.endpoint("end-session"),
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "scopes_supported": ["openid", "profile", "email"],
                "claims_supported": ["sub", "name", "email", "roles", "sid"],
                "backchannel_logout_supported": true,
                "backchannel_logout_session_supported": true,
            }),
        )
    }

    /// The console's redirect URIs: its callback on each of the host's origins.
    fn redirect_uri_registered(&self, uri: &str) -> bool {
        self.origins.iter().any(|o| uri == format!("{o}/account/callback"))
    }

    fn post_logout_uri_registered(&self, uri: &str) -> bool {
        self.origins.iter().any(|o| uri == format!("{o}/account"))
    }

    /// The authorization request's parameters, checked (OAuth 2.1: an unknown client or
    /// redirect URI is never redirected to; the rest is answered at the redirect URI).
    fn checked_request(&self, p: &HashMap<String, String>) -> Result<(String, Option<String>), Answer> {
        let get = |k: &str| p.get(k).map(String::as_str).unwrap_or("");
        if get("client_id") != self.client_id {
            return Err(Answer::page(
                400,
                "Unknown client",
                html! { p { "This provider knows only IATI Account's console (" code { (self.client_id) } ")." } },
            ));
        }
        let redirect_uri = get("redirect_uri");
        if !self.redirect_uri_registered(redirect_uri) {
            return Err(Answer::page(
                400,
                "Unregistered redirect URI",
                html! { p { "The console's callback on this host is registered, not " code { (redirect_uri) } "." } },
            ));
        }
        let refuse = |why: &str| {
            let sep = if redirect_uri.contains('?') { '&' } else { '?' };
            let query = ryd_http::form_encode(&[
                ("error", "invalid_request"),
                ("error_description", why),
                ("state", get("state")),
            ]);
            Err(Answer::redirect(&format!("{redirect_uri}{sep}{query}")))
        };
        if get("response_type") != "code" {
            return refuse("response_type must be code");
        }
        if !get("scope").split(' ').any(|s| s == "openid") {
            return refuse("scope must include openid");
        }
        if get("code_challenge").is_empty() || get("code_challenge_method") != "S256" {
            return refuse("PKCE with S256 is required");
        }
        Ok((redirect_uri.to_string(), p.get("nonce").cloned()))
    }

    /// `GET /authorize`: the page to choose who signs in.
    fn authorize_page(&self, req: &Req) -> Answer {
        let p = req.params();
        if let Err(refused) = self.checked_request(&p) {
            return refused;
        }
        const CARRIED: &[&str] = &[
            "client_id",
            "redirect_uri",
            "response_type",
            "scope",
            "state",
            "nonce",
            "code_challenge",
            "code_challenge_method",
        ];
        let content = html! {
            p { "Choose who to sign in to IATI Account as. Their tokens carry the claims of the token " code { "cargo up" } " printed." }
            form method="post" action=(self.endpoint("authorize")) {
                @for name in CARRIED {
                    @if let Some(v) = p.get(*name) { input type="hidden" name=(name) value=(v); }
                }
                ul style="list-style: none; padding: 0" {
                    @for person in &self.people {
                        li style="margin: 0.5rem 0" {
                            button type="submit" name="person" value=(person.id) { (person.name) }
                            " " small { (person.about) " · " (person.email) }
                        }
                    }
                }
            }
        };
        Answer::page(200, "Sign in", content)
    }

    /// `POST /authorize`: a person chosen; a provider session and a code, back to the console.
    fn authorize(&self, req: &Req, now: i64) -> Answer {
        // The choice page is this provider's own: a form from elsewhere is refused.
        if req.header("origin").is_some_and(|o| !self.origins.iter().any(|mine| mine == o)) {
            return Answer::page(403, "Refused", html! { p { "This form was sent from another site." } });
        }
        let p = req.params();
        let (redirect_uri, nonce) = match self.checked_request(&p) {
            Ok(checked) => checked,
            Err(refused) => return refused,
        };
        let chosen = p.get("person").map(String::as_str).unwrap_or("");
        let Some(person) = self.people.iter().find(|x| x.id == chosen).cloned() else {
            return Answer::page(400, "Nobody chosen", html! { p { "Choose one of the people offered." } });
        };
        let (code, browser, sid) = (random(), random(), random());
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.codes.retain(|_, g| g.expires_at > now);
        state.sessions.insert(browser.clone(), (sid.clone(), person.clone()));
        let challenge = p.get("code_challenge").cloned().unwrap_or_default();
        state.codes.insert(
            code.clone(),
            Grant {
                person,
                redirect_uri: redirect_uri.clone(),
                nonce,
                challenge,
                sid,
                expires_at: now + CODE_LIFETIME_S,
            },
        );
        let sep = if redirect_uri.contains('?') { '&' } else { '?' };
        let state_param = p.get("state").map(String::as_str).unwrap_or("");
        let query = ryd_http::form_encode(&[("code", &code), ("state", state_param)]);
        Answer::redirect(&format!("{redirect_uri}{sep}{query}"))
            .with_header("set-cookie", format!("{SESSION_COOKIE}={browser}; Path={PATH}; HttpOnly; SameSite=Lax"))
    }

    /// Whether the request authenticates the console (`client_secret_basic`, RFC 6749 §2.3.1).
    fn client_authenticated(&self, req: &Req) -> bool {
        use base64ct::{Base64, Encoding};
        let Some(encoded) = req.header("authorization").and_then(|h| h.strip_prefix("Basic ")) else { return false };
        let Ok(decoded) = Base64::decode_vec(encoded.trim()) else { return false };
        let Ok(text) = String::from_utf8(decoded) else { return false };
        let Some((id, secret)) = text.split_once(':') else { return false };
        ryd_http::percent_decode(id) == self.client_id
            && ryd_account::constant_time_eq(&ryd_http::percent_decode(secret), &self.client_secret)
    }

    /// `POST /token`: the code (once, in time, for the same redirect URI, with the verifier
    /// of its challenge) for an ID token and an access token.
    fn token(&self, req: &Req, now: i64) -> Answer {
        if !self.client_authenticated(req) {
            return Answer::error(
                401,
                "invalid_client",
                "client_secret_basic with the console's credentials is required",
            )
            .with_header("www-authenticate", "Basic realm=\"dev-identity\"".into());
        }
        let p = req.params();
        if p.get("grant_type").map(String::as_str) != Some("authorization_code") {
            return Answer::error(400, "unsupported_grant_type", "only authorization_code");
        }
        let code = p.get("code").map(String::as_str).unwrap_or("");
        let grant = self.state.lock().unwrap_or_else(|e| e.into_inner()).codes.remove(code);
        let Some(grant) = grant.filter(|g| g.expires_at > now) else {
            return Answer::error(400, "invalid_grant", "the code is unknown, used or expired");
        };
        if p.get("redirect_uri") != Some(&grant.redirect_uri) {
            return Answer::error(400, "invalid_grant", "redirect_uri differs from the authorization request's");
        }
        let verifier = p.get("code_verifier").map(String::as_str).unwrap_or("");
        if verifier.is_empty() || !ryd_account::constant_time_eq(&ryd_account::s256(verifier), &grant.challenge) {
            return Answer::error(400, "invalid_grant", "code_verifier does not match the code_challenge");
        }
        match self.tokens(&grant, now) {
            Ok(body) => Answer::json(200, body),
            Err(e) => Answer::error(500, "server_error", &e.to_string()),
        }
    }

    fn tokens(&self, grant: &Grant, now: i64) -> anyhow::Result<Value> {
        let person = &grant.person;
        let access_token = self.identity.mint(&self.access_request(person))?;
        let mut id = json!({
            "iss": self.issuer(), "aud": self.client_id, "azp": self.client_id, "sub": person.id, "sid": grant.sid,
            "iat": now, "exp": now + TOKEN_LIFETIME_S, "auth_time": now,
            "name": person.name, "email": person.email, "roles": person.roles,
        });
        if let Some(n) = &grant.nonce {
            id["nonce"] = json!(n);
        }
        let id_token = self.identity.key.sign(Some(crate::dev::DEV_KID), Some("JWT"), &id)?;
        Ok(
            json!({"access_token": access_token, "id_token": id_token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_S}),
        )
    }

    /// What the printed curl's token says, for this person and the console.
    fn access_request(&self, person: &Person) -> TokenRequest {
        let mut t = TokenRequest::superadmin(&self.audience);
        t.sub = person.id.into();
        t.roles = person.roles.iter().map(|r| r.to_string()).collect();
        t.client_id = self.client_id.clone();
        t.lifetime_seconds = TOKEN_LIFETIME_S;
        t.name = Some(person.name.into());
        t.email = Some(person.email.into());
        t
    }

    /// `GET /userinfo` with an access token issued here.
    fn userinfo(&self, req: &Req) -> Answer {
        let token = req.header("authorization").and_then(|h| h.strip_prefix("Bearer ")).unwrap_or("");
        let verified = KeySet::parse(&self.identity.jwks).map_err(|e| e.to_string()).and_then(|keys| {
            ryd_authz::verify_payload(token, &keys, &["RS256".to_string()], &["at+jwt"]).map_err(|e| e.to_string())
        });
        let claims = match verified {
            Ok(c) if c.get("iss").and_then(Value::as_str) == Some(self.issuer()) => c,
            Ok(_) => return Answer::error(401, "invalid_token", "not issued here"),
            Err(why) => return Answer::error(401, "invalid_token", &why),
        };
        let sub = claims.get("sub").and_then(Value::as_str).unwrap_or("");
        match self.people.iter().find(|p| p.id == sub) {
            Some(p) => Answer::json(200, json!({"sub": p.id, "name": p.name, "email": p.email, "roles": p.roles})),
            None => Answer::error(401, "invalid_token", "no such person"),
        }
    }

    /// `GET /end-session` (RP-Initiated Logout 1.0): asks before signing out.
    fn end_session_page(&self, req: &Req) -> Answer {
        let p = req.params();
        let back = p.get("post_logout_redirect_uri").filter(|u| self.post_logout_uri_registered(u));
        if let Some(hint) = p.get("id_token_hint") {
            let keys = KeySet::parse(&self.identity.jwks);
            let ours =
                keys.is_ok_and(|k| ryd_authz::verify_payload(hint, &k, &["RS256".to_string()], ID_TOKEN_TYPES).is_ok());
            if !ours {
                return Answer::page(400, "Refused", html! { p { "The id_token_hint was not issued here." } });
            }
        }
        let who = req
            .cookie(SESSION_COOKIE)
            .and_then(|c| self.state.lock().unwrap_or_else(|e| e.into_inner()).sessions.get(c).map(|(_, p)| p.name));
        let content = html! {
            @match who {
                Some(name) => p { "Sign " strong { (name) } " out of the development Identity Service, and so of IATI Account everywhere?" },
                None => p { "Nobody is signed in here." },
            }
            form method="post" action=(self.endpoint("end-session")) {
                @if let Some(b) = back { input type="hidden" name="post_logout_redirect_uri" value=(b); }
                @if let Some(s) = p.get("state") { input type="hidden" name="state" value=(s); }
                button type="submit" name="confirm" value="yes" { "Sign out" }
            }
        };
        Answer::page(200, "Sign out", content)
    }

    /// `POST /end-session`: ends this browser's provider session, tells the console (a
    /// logout token for its `sid`, Back-Channel Logout 1.0), and sends the browser back.
    fn end_session(&self, req: &Req, now: i64) -> Answer {
        if req.header("origin").is_some_and(|o| !self.origins.iter().any(|mine| mine == o)) {
            return Answer::page(403, "Refused", html! { p { "This form was sent from another site." } });
        }
        let ended = req
            .cookie(SESSION_COOKIE)
            .and_then(|c| self.state.lock().unwrap_or_else(|e| e.into_inner()).sessions.remove(c));
        let p = req.params();
        let mut answer = match p.get("post_logout_redirect_uri").filter(|u| self.post_logout_uri_registered(u)) {
            Some(back) => {
                let to = match p.get("state") {
                    Some(s) => format!("{back}?{}", ryd_http::form_encode(&[("state", s)])),
                    None => back.clone(),
                };
                Answer::redirect(&to)
            }
            None => Answer::page(
                200,
                "Signed out",
                html! { p { "You are signed out of the development Identity Service." } },
            ),
        };
        answer = answer
            .with_header("set-cookie", format!("{SESSION_COOKIE}=; Path={PATH}; HttpOnly; SameSite=Lax; Max-Age=0"));
        if let Some((sid, person)) = ended {
            let claims = json!({
                "iss": self.issuer(), "aud": self.client_id, "iat": now, "exp": now + 120, "jti": random(),
                "sub": person.id, "sid": sid, "events": {LOGOUT_EVENT: {}},
            });
            match self.identity.key.sign(Some(crate::dev::DEV_KID), Some("logout+jwt"), &claims) {
                Ok(token) => {
                    let url = format!("{}/account/backchannel-logout", self.origins[0]);
                    answer.back_channel = Some((url, ryd_http::form_encode(&[("logout_token", &token)])));
                }
                Err(e) => eprintln!("[dev-identity] no logout token: {e}"),
            }
        }
        answer
    }
}

/// Whether the host answers `path` with the development Identity Service.
pub fn serves(path: &str) -> bool {
    path.strip_prefix(PATH).is_some_and(|rest| rest.starts_with('/'))
}

/// The HTTP edge: reads the request, answers it, delivers its back-channel logout first
/// (so that when the browser arrives back, the console's sessions of that `sid` are over).
pub async fn serve(
    idp: &DevIdp,
    req: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<wasmtime_wasi_http::p2::body::HyperOutgoingBody> {
    use http_body_util::{BodyExt, Full};
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => String::from_utf8_lossy(&b.to_bytes()).into_owned(),
        Err(_) => String::new(),
    };
    let request = Req {
        method: parts.method.to_string(),
        path: parts.uri.path().strip_prefix(PATH).unwrap_or("/").to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_ascii_lowercase(), v.to_str().ok()?.to_string())))
            .collect(),
        body,
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let answer = idp.answer(&request, now);
    if let Some((url, form)) = &answer.back_channel {
        match tokio::time::timeout(std::time::Duration::from_secs(5), post_form(url, form)).await {
            Ok(Ok(200)) => {}
            Ok(Ok(status)) => eprintln!("[dev-identity] back-channel logout at {url} answered {status}"),
            Ok(Err(e)) => eprintln!("[dev-identity] back-channel logout at {url} failed: {e}"),
            Err(_) => eprintln!("[dev-identity] back-channel logout at {url} took over 5 s"),
        }
    }
    let body = Full::new(bytes::Bytes::from(answer.body)).map_err(|never| match never {}).boxed_unsync();
    let mut response = hyper::Response::new(body);
    *response.status_mut() =
        http::StatusCode::from_u16(answer.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in answer.headers {
        if let (Ok(n), Ok(v)) = (http::HeaderName::from_bytes(name.as_bytes()), http::HeaderValue::from_str(&value)) {
            response.headers_mut().append(n, v);
        }
    }
    response
}

/// POSTs a form to an `http://` URL on this machine (the console, on this same host) and
/// returns the status: HTTP/1.1 by hand, one request per connection.
async fn post_form(url: &str, form: &str) -> std::io::Result<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let invalid = |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, why.to_string());
    let rest = url.strip_prefix("http://").ok_or_else(|| invalid("not an http:// URL"))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = tokio::net::TcpStream::connect(authority).await?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nhost: {authority}\r\ncontent-type: application/x-www-form-urlencoded\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{form}",
        form.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let head = String::from_utf8_lossy(&answer[..answer.len().min(64)]).into_owned();
    head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| invalid("no status line"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;
    const ORIGIN: &str = "http://127.0.0.1:3999";
    const CALLBACK: &str = "http://127.0.0.1:3999/account/callback";

    fn idp() -> DevIdp {
        let dir = std::env::temp_dir().join(format!("dev-idp-{}", std::process::id()));
        let identity = DevIdentity::serving_at(&dir, 3999).unwrap();
        DevIdp::new(identity, 3999, "https://aud.example", "console", "s3cret")
    }

    fn get(path: &str, query: &str) -> Req {
        Req { method: "GET".into(), path: path.into(), query: query.into(), ..Req::default() }
    }

    fn post(path: &str, body: &str, headers: &[(&str, &str)]) -> Req {
        let headers = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Req { method: "POST".into(), path: path.into(), body: body.into(), headers, ..Req::default() }
    }

    fn basic(id: &str, secret: &str) -> String {
        use base64ct::{Base64, Encoding};
        format!("Basic {}", Base64::encode_string(format!("{id}:{secret}").as_bytes()))
    }

    fn header<'a>(a: &'a Answer, name: &str) -> Option<&'a str> {
        a.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The authorization request's form, with `verifier`'s challenge.
    fn request(verifier: &str) -> String {
        ryd_http::form_encode(&[
            ("client_id", "console"),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("scope", "openid profile email"),
            ("state", "st"),
            ("nonce", "n-1"),
            ("code_challenge", &ryd_account::s256(verifier)),
            ("code_challenge_method", "S256"),
        ])
    }

    /// Signs `person` in: the code and the provider's session cookie.
    fn code_for(idp: &DevIdp, person: &str, verifier: &str) -> (String, String) {
        let a = idp
            .answer(&post("/authorize", &format!("{}&person={person}", request(verifier)), &[("origin", ORIGIN)]), NOW);
        assert_eq!(a.status, 303, "{}", a.body);
        let location = header(&a, "location").unwrap();
        assert!(location.starts_with(&format!("{CALLBACK}?code=")) && location.ends_with("&state=st"), "{location}");
        let code = location.split("code=").nth(1).unwrap().split('&').next().unwrap().to_string();
        let cookie = header(&a, "set-cookie").unwrap().split(';').next().unwrap().to_string();
        (code, cookie)
    }

    fn exchange(idp: &DevIdp, code: &str, verifier: &str, auth: &str) -> Answer {
        let body = ryd_http::form_encode(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", verifier),
        ]);
        idp.answer(&post("/token", &body, &[("authorization", auth)]), NOW + 1)
    }

    #[test]
    fn a_person_chosen_gets_an_id_token_the_console_accepts_and_the_code_works_once() {
        let idp = idp();
        let page = idp.answer(&get("/authorize", &request("v")), NOW);
        assert_eq!(page.status, 200);
        assert!(page.body.contains("Ada Admin") && page.body.contains("Jo Applicant"), "{}", page.body);
        let ada = crate::sample::MEMBERS[0].0;
        let (code, _) = code_for(&idp, ada, "v");
        let a = exchange(&idp, &code, "v", &basic("console", "s3cret"));
        assert_eq!(a.status, 200, "{}", a.body);
        let tokens = ryd_account::read_token_response(200, a.body.as_bytes()).unwrap();
        let keys = KeySet::parse(&idp.identity.jwks).unwrap();
        let claims = ryd_authz::verify_payload(&tokens.id_token, &keys, &["RS256".into()], ID_TOKEN_TYPES).unwrap();
        let rp = ryd_account::RelyingParty {
            issuer: idp.issuer().into(),
            client_id: "console".into(),
            leeway_s: 60,
            max_age_s: 600,
        };
        let id = ryd_account::check_id_token(&claims, &rp, "n-1", NOW + 1).unwrap();
        assert_eq!((id.sub.as_str(), id.name.as_deref()), (ada, Some("Ada Admin")));
        // The access token is the printed curl's kind: userinfo answers for it.
        let info = idp.answer(
            &Req {
                headers: vec![("authorization".into(), format!("Bearer {}", tokens.access_token.unwrap()))],
                ..get("/userinfo", "")
            },
            NOW,
        );
        assert_eq!(serde_json::from_str::<Value>(&info.body).unwrap()["name"], "Ada Admin");
        assert_eq!(exchange(&idp, &code, "v", &basic("console", "s3cret")).status, 400, "a code is used once");
    }

    #[test]
    fn the_exchange_is_refused_without_the_secret_the_verifier_or_in_time() {
        let idp = idp();
        let ada = crate::sample::MEMBERS[0].0;
        let (code, _) = code_for(&idp, ada, "v");
        assert_eq!(exchange(&idp, &code, "v", &basic("console", "wrong")).status, 401);
        assert_eq!(exchange(&idp, &code, "other-verifier", &basic("console", "s3cret")).status, 400);
        let (late, _) = code_for(&idp, ada, "v");
        let body = format!(
            "grant_type=authorization_code&code={late}&redirect_uri={}&code_verifier=v",
            ryd_http::percent_encode(CALLBACK)
        );
        let a = idp.answer(
            &post("/token", &body, &[("authorization", &basic("console", "s3cret"))]),
            NOW + CODE_LIFETIME_S + 1,
        );
        assert_eq!(a.status, 400, "an expired code");
    }

    #[test]
    fn unknown_clients_and_redirect_uris_are_never_redirected_to() {
        let idp = idp();
        let evil = request("v").replace(&ryd_http::percent_encode(CALLBACK), "https%3A%2F%2Fevil.example%2Fcb");
        let a = idp.answer(&get("/authorize", &evil), NOW);
        assert_eq!((a.status, header(&a, "location")), (400, None));
        let other = request("v").replace("client_id=console", "client_id=other");
        assert_eq!(idp.answer(&get("/authorize", &other), NOW).status, 400);
        let no_pkce = request("v").replace("code_challenge_method=S256", "code_challenge_method=plain");
        let a = idp.answer(&get("/authorize", &no_pkce), NOW);
        assert!(header(&a, "location").is_some_and(|l| l.starts_with(CALLBACK) && l.contains("error=invalid_request")));
        let forged = post("/authorize", &format!("{}&person=x", request("v")), &[("origin", "https://evil.example")]);
        assert_eq!(idp.answer(&forged, NOW).status, 403);
    }

    #[test]
    fn signing_out_here_sends_the_console_a_logout_token_for_that_session() {
        let idp = idp();
        let (_, cookie) = code_for(&idp, crate::sample::MEMBERS[0].0, "v");
        let back = ryd_http::form_encode(&[("post_logout_redirect_uri", &format!("{ORIGIN}/account"))]);
        let a = idp.answer(&post("/end-session", &back, &[("cookie", &cookie), ("origin", ORIGIN)]), NOW);
        assert_eq!((a.status, header(&a, "location")), (303, Some("http://127.0.0.1:3999/account")));
        let (url, form) = a.back_channel.expect("a logout token for the console");
        assert_eq!(url, format!("{ORIGIN}/account/backchannel-logout"));
        let token = ryd_http::parse_form(&form).into_iter().find(|(k, _)| k == "logout_token").unwrap().1;
        let keys = KeySet::parse(&idp.identity.jwks).unwrap();
        let claims =
            ryd_authz::verify_payload(&token, &keys, &["RS256".into()], ryd_authz::LOGOUT_TOKEN_TYPES).unwrap();
        let rp = ryd_account::RelyingParty {
            issuer: idp.issuer().into(),
            client_id: "console".into(),
            leeway_s: 60,
            max_age_s: 600,
        };
        assert!(ryd_account::check_logout_token(&claims, &rp, NOW).is_ok());
        // Signed out already: nothing more to tell; an unregistered return is not followed.
        let again = idp.answer(
            &post("/end-session", "post_logout_redirect_uri=https%3A%2F%2Fevil.example", &[("cookie", &cookie)]),
            NOW,
        );
        assert!(again.back_channel.is_none() && header(&again, "location").is_none());
    }
}
