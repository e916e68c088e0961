//! The authorisation service end to end: the real `.wasm` components in the local host,
//! real signed tokens, a standard JWT library in another language, a key rotation across
//! a restart, and a revocation that reaches every component at once.

use ryd_authz::{KeyRing, SigningKey};
use ryd_e2e::*;
use serde_json::{json, Value};
use std::time::Instant;

const ISSUER: &str = "https://registry.test";

fn authorize(c: &Client, who: &Who, scopes: Value, lifetime: i64) -> Value {
    let body = json!({"scopes": scopes, "lifetime": lifetime});
    c.call(who, "POST", "/api/3/action/authz_authorize", Some(body)).expect(200)["result"].clone()
}

#[test]
fn scoped_tokens_verify_with_pyjwt_and_survive_a_key_rotation() {
    let data = data_dir("scoped-tokens");
    let old = SigningKey::generate("EdDSA").unwrap();
    let env =
        |keys: String| test_env(&[("SPIN_VARIABLE_AUTHZ_SIGNING_KEYS", &keys), ("SPIN_VARIABLE_AUTHZ_ISSUER", ISSUER)]);
    let host = serve!(&data, env(KeyRing::document(&[("old", &old)], &[])));
    let c = Client::new(&host);
    let editor = Who::user(11, "Editor");
    c.call(&editor, "POST", "/api/v1/reporting-orgs", Some(org_body("pyorg"))).expect(201);
    let before = authorize(&c, &editor, json!(["org:pyorg:read", "org:*:read"]), 600);
    assert_eq!(before["granted_scopes"], json!(["org:pyorg:read"]), "org:* is for superadmins only");
    let short = authorize(&c, &editor, json!("org:pyorg"), 1);
    drop(host);

    // Rotate: the new key signs; the old one stays published (public half only).
    let new = SigningKey::generate("EdDSA").unwrap();
    let host = serve!(&data, env(KeyRing::document(&[("new", &new)], &[("old", &old)])));
    let c = Client::new(&host);
    let after = authorize(&c, &editor, json!("org:pyorg:read,update"), 600);
    let jwks = c.send("GET", "/.well-known/jwks.json", None, &[], None).expect(200);
    assert_eq!(
        jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].clone()).collect::<Vec<_>>(),
        vec![json!("new"), json!("old")]
    );
    let verify = |t: &Value| {
        let body = json!({"token": t}).to_string();
        c.send("POST", "/api/3/action/authz_verify", None, &[], Some(&body)).expect(200)["result"].clone()
    };
    assert_eq!(verify(&before["token"])["verified"], true, "a token of the old key verifies until it expires");
    assert_eq!(verify(&after["token"])["payload"]["scopes"], "org:pyorg:read,update");

    let tok = |v: &Value| v["token"].as_str().unwrap().to_string();
    let out = std::process::Command::new(python())
        .arg(root().join("tests/pyjwt_check.py"))
        .args([c.base.as_str(), ISSUER, editor.uid.as_str()])
        .args([
            "--valid",
            &tok(&before),
            "--valid",
            &tok(&after),
            "--pem-valid",
            &tok(&after),
            "--expired",
            &tok(&short),
        ])
        .output()
        .expect("the tests' Python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "PyJWT check failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.matches("verified with").count(), 3, "{stdout}");
    assert!(stdout.contains("refused after expiry") && stdout.contains("refused a forged signature"), "{stdout}");
}

#[test]
fn a_revoked_user_is_refused_by_every_component_within_the_second_and_their_keys_stop() {
    let data = data_dir("revocation");
    let host = serve!(&data, test_env(&[("SPIN_VARIABLE_AUTHZ_SERVICE_CLIENTS", "api-gateway")]));
    let c = Client::new(&host);
    let user = Who::user(21, "Publisher");
    let superadmin = Who::superadmin(22);
    let gateway = Who::machine("api-gateway");
    let oid = c.call(&user, "POST", "/api/v1/reporting-orgs", Some(org_body("revorg"))).expect(201)["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ds = json!({"owner_organisation_id": oid, "short_name": "rev-api", "human_readable_name": "Rev API",
                    "url": "https://data.example.org/rev.xml", "source_type": "primary_source", "visibility": "private"});
    c.call(&user, "POST", "/api/v1/datasets", Some(ds)).expect(201);
    c.call(&superadmin, "POST", "/api/v1/groups", Some(json!({"name": "api-bronze-users"}))).expect(201);
    let key = c.call(&user, "POST", "/api/v1/api-keys", Some(json!({"name": "my app"}))).expect(201)["data"]["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    let validate = || {
        let body = json!({"api_key": key, "api_id": "rev-api"});
        c.call(&gateway, "POST", "/api/3/action/validate_api_key", Some(body)).expect(200)["result"].clone()
    };
    assert_eq!(validate()["usage_plan"]["plan"], "api-bronze-users");
    // One token, used on every component (it is cached after the first use).
    let token = user.token();
    let calls: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/api/v1/access-check".into(), None), // reporting-orgs
        ("GET", format!("/api/v1/reporting-orgs/{oid}/datasets"), None), // datasets
        ("GET", format!("/api/v1/users/{}/roles", user.uid), None), // users
        (
            "POST",
            "/api/v1/authz/check".into(),
            Some(json!({"checks": [{"authorisation": "read-org", "object": format!("org/{oid}")}]})),
        ), // authz
        ("GET", "/api/v1/api-keys".into(), None),     // authz
    ];
    let send = |(m, p, b): &(&str, String, Option<Value>)| {
        c.send(m, p, Some(&token), &[], b.as_ref().map(|b| b.to_string()).as_deref()).status
    };
    for call in &calls {
        assert_eq!(send(call), 200, "{} {}", call.0, call.1);
    }
    let at = Instant::now();
    c.call(&superadmin, "PUT", &format!("/api/v1/admin/revocations/users/{}", user.uid), None).expect(200);
    for call in &calls {
        assert_eq!(send(call), 401, "{} {} after the revocation", call.0, call.1);
    }
    assert_eq!(validate(), json!({"authorized": false, "message": "Invalid token"}));
    let took = at.elapsed();
    assert!(took.as_millis() < 1000, "revocation took effect everywhere in {took:?}");
}
