//! Against a real OpenID Provider (`oidc-provider`, certified; `tests/oidc/provider.mjs`):
//! discovery, client credentials, authorization code with PKCE through its login and
//! consent pages, roles only at userinfo, key rotation, and the provider going down.
//! The real `.wasm` components in the local host, configured with nothing but the issuer.

use ryd_e2e::*;
use serde_json::{json, Value};

/// The application configured for the provider by its issuer alone (discovery finds the
/// JWKS and userinfo), as one would for Asgardeo, Keycloak or Auth0.
fn serve_for(idp: &Idp, name: &str) -> Server {
    let env = [
        ("SPIN_VARIABLE_OIDC_ISSUER", idp.issuer.clone()),
        ("SPIN_VARIABLE_OIDC_AUDIENCE", AUD.to_string()),
        ("SPIN_VARIABLE_OIDC_HOST", idp.issuer.clone()),
        ("SPIN_VARIABLE_USER_ID_CLAIM", "iatiRegistryId".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    serve!(&data_dir(name), env)
}

fn call(c: &Client, token: &str, method: &str, path: &str, body: Option<Value>) -> Answer {
    c.send(method, path, Some(token), &[], body.map(|b| b.to_string()).as_deref())
}

const ALICE: &str = "00000000-0000-4000-8000-0000000a11ce";
const DAVE: &str = "00000000-0000-4000-8000-00000000da7e";

#[test]
fn client_credentials_and_authorization_code_tokens_from_a_real_provider() {
    let idp = Idp::start();
    let host = serve_for(&idp, "oidc-flows");
    let c = Client::new(&host);
    let alice = idp.user_token("publisher-tool", "alice");
    let root_token = idp.user_token("publisher-tool", "root");
    let org = json!({"short_name": "oidc-org", "human_readable_name": "OIDC Org", "contact_email": "a@example.org"});
    let oid = call(&c, &alice, "POST", "/api/v1/reporting-orgs", Some(org)).expect(201)["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let roles = call(&c, &alice, "GET", &format!("/api/v1/users/{ALICE}/roles"), None).expect(200);
    assert!(roles.to_string().contains(&oid), "the user id came from the iatiRegistryId claim: {roles}");

    // A machine client with no tool grant sees no organisation.
    let untrusted = idp.machine_token("untrusted-machine");
    call(&c, &untrusted, "GET", &format!("/api/v1/reporting-orgs/{oid}"), None).expect(404);
    let listed = call(&c, &untrusted, "GET", "/api/v1/reporting-orgs", None).expect(200);
    assert_eq!(listed["data"], json!([]), "{listed}");

    // Register the machine client as a tool; the organisation grants it.
    let tool = json!({"name": "Machine Tool", "provider": "Tool Co", "client_id": "tool-machine"});
    let tid = call(&c, &root_token, "POST", "/api/v1/tools", Some(tool)).expect(201)["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    call(&c, &alice, "POST", &format!("/api/v1/reporting-orgs/{oid}/tools"), Some(json!({"tid": tid}))).expect(201);
    let machine = idp.machine_token("tool-machine");
    call(&c, &machine, "GET", &format!("/api/v1/reporting-orgs/{oid}"), None).expect(200);
    let ds = json!({"owner_organisation_id": oid, "short_name": "oidc-ds", "human_readable_name": "D",
                    "url": "https://data.example.org/d.xml", "source_type": "primary_source", "visibility": "public"});
    call(&c, &machine, "POST", "/api/v1/datasets", Some(ds)).expect(201);
    // …and nothing more: no organisation delete, no user or tool changes.
    call(&c, &machine, "DELETE", &format!("/api/v1/reporting-orgs/{oid}"), None).expect(403);
    call(&c, &machine, "PUT", &format!("/api/v1/users/{DAVE}/reporting-org/{oid}"), Some(json!({"role": "editor"})))
        .expect(403);
    call(&c, &machine, "POST", &format!("/api/v1/reporting-orgs/{oid}/tools"), Some(json!({"tid": tid}))).expect(403);
    call(&c, &machine, "POST", "/api/v1/tools", Some(json!({"name": "x", "provider": "y", "client_id": "z"})))
        .expect(403);
    call(&c, &untrusted, "GET", &format!("/api/v1/reporting-orgs/{oid}"), None).expect(404);

    // A user-facing tool: Dave administers it; through its client he is provider admin of
    // the organisation, through another client he is nobody there.
    let tool = json!({"name": "Publisher Tool", "provider": "Tool Co", "client_id": "publisher-tool"});
    let tid = call(&c, &root_token, "POST", "/api/v1/tools", Some(tool)).expect(201)["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    call(&c, &alice, "POST", &format!("/api/v1/reporting-orgs/{oid}/tools"), Some(json!({"tid": tid}))).expect(201);
    let dave_here = idp.user_token("publisher-tool", "dave");
    call(&c, &dave_here, "GET", "/api/v1/access-check", None).expect(200);
    call(&c, &root_token, "PUT", &format!("/api/v1/tools/{tid}/admins/{DAVE}"), None).expect(200);
    let r = call(&c, &dave_here, "GET", &format!("/api/v1/reporting-orgs/{oid}"), None).expect(200);
    assert_eq!(r["data"]["user_role"], "provider_admin", "{r}");
    let dave_elsewhere = idp.user_token("other-app", "dave");
    call(&c, &dave_elsewhere, "GET", &format!("/api/v1/reporting-orgs/{oid}"), None).expect(404);
    no_call_out_with_a_transaction_open(&host);
}

/// Every call the components made to the provider (discovery, JWKS, userinfo) went out with
/// no database transaction open: on libSQL one would hold every writer of every host back
/// for the length of the call. The host checks each outbound request.
fn no_call_out_with_a_transaction_open(host: &Server) {
    let stats = host.stats().expect("the project's host counts outbound calls");
    assert!(stats.get(&stats.outbound_requests) > 0, "the components called the provider");
    assert_eq!(stats.get(&stats.outbound_in_transaction), 0, "calls out with a transaction open");
}

#[test]
fn roles_only_at_userinfo_are_fetched_once_and_cached() {
    let idp = Idp::start();
    let host = serve_for(&idp, "oidc-userinfo");
    let c = Client::new(&host);
    let carol = idp.user_token("publisher-tool", "carol");
    assert_eq!(idp.count("userinfo"), 0);
    for _ in 0..3 {
        call(&c, &carol, "GET", "/api/v1/access-check", None).expect(200);
    }
    assert_eq!(idp.count("userinfo"), 1, "one userinfo request, then the verified-token cache");
    assert_eq!(idp.count("discovery"), 1, "discovery once, cached like the JWKS");
    // Without the role, a user is refused even with a valid token.
    let alice = idp.user_token("publisher-tool", "alice");
    call(&c, &alice, "GET", "/api/v1/access-check", None).expect(200);
    assert_eq!(idp.count("userinfo"), 1, "roles in the token: no userinfo request");
    no_call_out_with_a_transaction_open(&host);
}

#[test]
fn key_rotation_at_the_provider_and_the_provider_going_down() {
    let idp = Idp::start();
    let host = serve_for(&idp, "oidc-rotation");
    let c = Client::new(&host);
    let warm = idp.user_token("publisher-tool", "alice");
    call(&c, &warm, "GET", "/api/v1/access-check", None).expect(200);
    let old_unused = idp.user_token("publisher-tool", "alice");
    let jwks_before = idp.count("jwks");
    assert_eq!(jwks_before, 1);

    // The provider rotates and drops the old key: a token with the new kid works after one
    // JWKS refetch; a token signed with the removed key (never seen before) is refused.
    // (Refetches are at most one per 30 s since the last fetch, as JOSE libraries do: a
    // rotation is never within 30 s of the first fetch in life, so wait that out here.)
    std::thread::sleep(std::time::Duration::from_millis(ryd_api::auth::REFETCH_INTERVAL_MS as u64 + 1000));
    idp.control("/__rotate").expect(200);
    let fresh = idp.user_token("publisher-tool", "dave");
    call(&c, &fresh, "GET", "/api/v1/access-check", None).expect(200);
    assert_eq!(idp.count("jwks"), jwks_before + 1, "one refetch for the new kid");
    let refused = call(&c, &old_unused, "GET", "/api/v1/access-check", None);
    assert_eq!(refused.status, 401, "{}", refused.text);
    assert!(refused.header("www-authenticate").is_some_and(|h| h.contains("invalid_token")));

    // Down: valid tokens keep working from the caches; unknown kids answer 401, not 500,
    // and at most one JWKS request reaches the provider in 30 s however many arrive.
    let dave_unused = idp.user_token("publisher-tool", "dave");
    idp.control("/__down");
    call(&c, &warm, "GET", "/api/v1/access-check", None).expect(200);
    call(&c, &fresh, "GET", "/api/v1/access-check", None).expect(200);
    call(&c, &dave_unused, "GET", "/api/v1/access-check", None).expect(200);
    let jwks_down = idp.count("jwks");
    let stranger = ryd_authz::SigningKey::generate("RS256").unwrap();
    let now = now();
    for i in 0..20 {
        let claims = json!({"iss": idp.issuer, "aud": AUD, "sub": "alice", "client_id": "publisher-tool", "scope": api_scopes(),
                            "iatiRegistryId": ALICE, "roles": ["iati_register_your_data"], "iat": now, "exp": now + 300, "jti": format!("x{i}")});
        let token = stranger.sign(Some(&format!("unknown-{i}")), Some("at+jwt"), &claims).unwrap();
        let r = call(&c, &token, "GET", "/api/v1/access-check", None);
        assert_eq!(r.status, 401, "{}", r.text);
    }
    assert!(idp.count("jwks") - jwks_down <= 1, "at most one JWKS request per 30 s: {}", idp.count("jwks") - jwks_down);
}

/// `up --dev` beside a real Identity Service (`SPIN_VARIABLE_OIDC_ISSUER`, as the README's
/// "try IATI Account locally" does): the development identity steps aside whole, so that
/// issuer's own keys verify its tokens (its pinned development keys refused them all).
#[test]
fn up_dev_with_a_real_issuer_verifies_that_issuers_tokens() {
    let idp = Idp::start();
    let mut opts = ryd_host::HostOptions::new(app_manifest());
    opts.listen = "127.0.0.1:0".parse().expect("an address");
    opts.data_dir = Some(data_dir("oidc-up-dev"));
    opts.dev = true;
    opts.env = Some(
        [
            ("SPIN_VARIABLE_OIDC_ISSUER", idp.issuer.as_str()),
            ("SPIN_VARIABLE_OIDC_AUDIENCE", AUD),
            ("SPIN_VARIABLE_OIDC_HOST", idp.issuer.as_str()),
            ("SPIN_VARIABLE_USER_ID_CLAIM", "iatiRegistryId"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    );
    let host = ryd_host::start(&opts).expect("the host starts");
    assert!(host.dev.is_none(), "no development identity beside a real issuer");
    let token = idp.user_token("publisher-tool", "alice");
    let c = Client::at(&format!("http://{}", host.addr));
    c.send("GET", "/api/v1/access-check", Some(&token), &[], None).expect(200);
    // Nor its Identity Service.
    c.send("GET", "/dev-identity/.well-known/openid-configuration", None, &[], None).expect(404);
}
