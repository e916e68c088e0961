//! Authorisation as a service, the rest of shared/api/README.md, "Authorisation as a service": scoped tokens signed by this
//! application (grants from the permission table, verification, published keys, rotation),
//! API keys and `validate_api_key` with groups and usage plans, and revocation reaching them.

use ryd_authz::{verify_signature, KeyRing, SigningKey};
use ryd_store::Sql;
use ryd_test_support::*;
use serde_json::{json, Value};

/// A key ring variable holding these keys (private, or public-only with `public`).
fn authz_world() -> (Cast, SigningKey) {
    let c = Cast::new();
    let key = SigningKey::generate("EdDSA").unwrap();
    c.world.set_var("authz_signing_keys", &KeyRing::document(&[("a1", &key)], &[]));
    (c, key)
}

fn authorize(w: &World, who: &Who, scopes: Value) -> Value {
    expect(&w.call(Some(who), "POST", "/api/3/action/authz_authorize", Some(json!({"scopes": scopes}))), 200)["result"]
        .clone()
}

fn granted(r: &Value) -> Vec<String> {
    r["granted_scopes"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

fn verify(w: &World, token: &str, strict: bool) -> Value {
    let body = json!({"token": token, "strict": strict});
    expect(&w.call(None, "POST", "/api/3/action/authz_verify", Some(body)), 200)["result"].clone()
}

#[test]
fn granted_scopes_are_the_requested_ones_the_caller_holds_now() {
    let (c, _) = authz_world();
    let w = &c.world;
    let asked = json!([
        "ds:aidorg/aid-activities:read,update,delete",
        "ds:aidorg/*:create",
        "org:aidorg",
        "org:*:read",
        "ds:*:metadata:read,update",
        "ds:otherorg/*:read",
        "ds:aidorg/aid-activities:fly",
        format!("res:aidorg/aid-activities/{}:read", c.did),
        "org:no-such-org:read",
    ]);
    let editor = authorize(w, &c.editor, asked.clone());
    assert_eq!(editor["user_id"], c.editor.uid);
    assert_eq!(editor["requested_scopes"].as_array().unwrap().len(), 9);
    assert_eq!(
        granted(&editor),
        vec![
            "ds:aidorg/aid-activities:delete,read,update".to_string(),
            "ds:aidorg/*:create".into(),
            "org:aidorg:patch,read,update".into(),
            format!("res:aidorg/aid-activities/{}:read", c.did),
        ],
        "editors hold no delete-org; nobody but a superadmin gets org:* or ds:*; unknown actions and organisations grant nothing"
    );
    let contributor = authorize(w, &c.contributor, json!("ds:aidorg/aid-activities:read,update org:aidorg:update"));
    assert_eq!(granted(&contributor), vec!["ds:aidorg/aid-activities:read".to_string()]);
    assert!(granted(&authorize(w, &c.pending, asked.clone())).is_empty(), "a pending contributor holds nothing");
    assert_eq!(
        granted(&authorize(w, &c.outsider, asked.clone())),
        vec!["ds:otherorg/*:read"],
        "their own organisation only"
    );
    let superadmin = authorize(w, &c.superadmin, json!(["org:*:read", "ds:*:metadata:read,update", "org:aidorg"]));
    assert_eq!(granted(&superadmin), vec!["org:*:read", "ds:*:metadata:read,update", "org:aidorg"]);
    // The reference table lets contributors update datasets: the grant follows the table.
    w.set_var("role_table", "reference");
    let contributor = authorize(w, &c.contributor, json!(["ds:aid-activities:update"]));
    assert_eq!(granted(&contributor), vec!["ds:aid-activities:update".to_string()]);
}

#[test]
fn the_token_is_signed_with_our_key_and_carries_the_granted_scopes() {
    let (c, key) = authz_world();
    let w = &c.world;
    w.set_var("authz_audience", "storage.example.org");
    let r = expect(
        &w.call(
            Some(&c.editor),
            "POST",
            "/api/v1/authz/token",
            Some(json!({"scopes": "ds:aidorg/aid-activities:read org:*:read", "lifetime": 100000})),
        ),
        200,
    );
    let r = &r["data"];
    let keys = KeyRing::parse(&KeyRing::document(&[("a1", &key)], &[])).unwrap().key_set();
    let claims = verify_signature(r["token"].as_str().unwrap(), &keys, &["EdDSA".to_string()]).unwrap();
    let v = serde_json::to_value(&claims).unwrap();
    assert_eq!(v["iss"], "https://registry.example.org", "the issuer defaults to this application's URL");
    assert_eq!(v["sub"], c.editor.uid);
    assert_eq!(v["aud"], "storage.example.org");
    assert_eq!(v["name"], "Editor");
    assert_eq!(v["scopes"], "ds:aidorg/aid-activities:read");
    assert_eq!(v["exp"].as_i64().unwrap() - v["iat"].as_i64().unwrap(), 900, "lifetime capped at 900 s");
    assert!(v["jti"].as_str().is_some_and(|j| !j.is_empty()));
    assert_eq!(r["expires_at"], ryd_api::time::rfc3339((T0 + 900) * 1000));
    // Refusals: machine tokens, unknown types, bad lifetimes, no key configured.
    let before = w.snapshot();
    let machine = Who::machine(&c.tool_client);
    expect(&w.call(Some(&machine), "POST", "/api/v1/authz/token", Some(json!({"scopes": ["org:aidorg"]}))), 403);
    let e = expect(&w.call(Some(&c.editor), "POST", "/api/v1/authz/token", Some(json!({"scopes": ["file:x"]}))), 400);
    assert!(e["error"]["error_msg"].as_str().unwrap().contains("scopes"), "{e}");
    let e = expect(
        &w.call(Some(&c.editor), "POST", "/api/3/action/authz_authorize", Some(json!({"scopes": "file:x"}))),
        400,
    );
    assert_eq!(e["error"]["__type"], "Validation Error");
    assert!(e["error"]["scopes"][0].as_str().unwrap().contains("unknown entity type"), "{e}");
    expect(&w.call(Some(&c.editor), "POST", "/api/v1/authz/token", Some(json!({"scopes": [], "lifetime": -5}))), 400);
    expect(&w.call(Some(&c.editor), "POST", "/api/v1/authz/token", Some(json!({"lifetime": 60}))), 400);
    w.set_var("authz_signing_keys", "");
    expect(&w.call(Some(&c.editor), "POST", "/api/v1/authz/token", Some(json!({"scopes": ["org:aidorg"]}))), 503);
    assert_eq!(before, w.snapshot(), "issuing tokens writes nothing");
}

#[test]
fn authz_verify_answers_verified_or_why_not() {
    let (c, _) = authz_world();
    let w = &c.world;
    let token = authorize(w, &c.editor, json!(["org:aidorg:read"]))["token"].as_str().unwrap().to_string();
    let ok = verify(w, &token, true);
    assert_eq!(ok["verified"], true);
    assert_eq!(ok["payload"]["scopes"], "org:aidorg:read");
    // Tampered payload: the signature no longer matches.
    let parts: Vec<&str> = token.split('.').collect();
    let forged_claims = {
        use base64ct::{Base64UrlUnpadded, Encoding};
        let mut v: Value = serde_json::from_slice(&Base64UrlUnpadded::decode_vec(parts[1]).unwrap()).unwrap();
        v["scopes"] = json!("org:*");
        Base64UrlUnpadded::encode_string(v.to_string().as_bytes())
    };
    let forged = format!("{}.{}.{}", parts[0], forged_claims, parts[2]);
    assert_eq!(verify(w, &forged, true), json!({"verified": false, "message": "invalid signature"}));
    // A token from another key (a stranger's EdDSA key with our kid).
    let stranger = SigningKey::generate("EdDSA").unwrap();
    let alien = stranger.sign(Some("a1"), None, &ok["payload"]).unwrap();
    assert_eq!(verify(w, &alien, true)["verified"], false);
    // `alg: none` never verifies.
    let none = format!(
        "{}.{}.",
        {
            use base64ct::{Base64UrlUnpadded, Encoding};
            Base64UrlUnpadded::encode_string(br#"{"alg":"none","kid":"a1"}"#)
        },
        parts[1]
    );
    assert_eq!(verify(w, &none, false), json!({"verified": false, "message": "algorithm `none` is not allowed"}));
    // Expired: refused; with strict false, the payload is shown but not verified.
    w.ports.now_ms.set(w.ports.now_ms.get() + 901_000);
    assert_eq!(verify(w, &token, true), json!({"verified": false, "message": "token expired"}));
    let lax = verify(w, &token, false);
    assert_eq!(lax["verified"], false);
    assert_eq!(lax["payload"]["sub"], c.editor.uid);
    // Missing token: CKAN's validation error.
    let e = expect(&w.call(None, "POST", "/api/3/action/authz_verify", Some(json!({}))), 400);
    assert_eq!(e["error"]["token"], json!(["Missing value"]));
}

#[test]
fn after_a_rotation_old_tokens_verify_until_they_expire() {
    let (c, old) = authz_world();
    let w = &c.world;
    let before = authorize(w, &c.editor, json!(["org:aidorg:read"]))["token"].as_str().unwrap().to_string();
    let new = SigningKey::generate("EdDSA").unwrap();
    // The new key signs; the old one stays published (its public half is enough).
    w.set_var("authz_signing_keys", &KeyRing::document(&[("a2", &new)], &[("a1", &old)]));
    let jwks = expect(&w.call(None, "GET", "/.well-known/jwks.json", None), 200);
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids, vec!["a2", "a1"]);
    assert!(jwks["keys"].as_array().unwrap().iter().all(|k| k.get("d").is_none()), "no private parts published");
    let after = authorize(w, &c.editor, json!(["org:aidorg:read"]))["token"].as_str().unwrap().to_string();
    assert!(after.split('.').next() != before.split('.').next(), "a different kid in the header");
    assert_eq!(verify(w, &before, true)["verified"], true, "the old key's token still verifies");
    assert_eq!(verify(w, &after, true)["verified"], true);
    // Once the old key is retired, its tokens stop verifying.
    w.set_var("authz_signing_keys", &KeyRing::document(&[("a2", &new)], &[]));
    assert_eq!(verify(w, &before, true), json!({"verified": false, "message": "unknown signing key `a1`"}));
    // The PEM form of the signing key.
    let r = w.call(None, "GET", "/authz/public_key", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/x-pem-file"));
    let pem = String::from_utf8(r.body.clone()).unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA"), "Ed25519 SubjectPublicKeyInfo: {pem}");
}

#[test]
fn scoped_tokens_of_a_revoked_user_stop_verifying() {
    let (c, _) = authz_world();
    let w = &c.world;
    let token = authorize(w, &c.editor, json!(["org:aidorg:read"]))["token"].as_str().unwrap().to_string();
    expect(
        &w.call(Some(&c.superadmin), "PUT", &format!("/api/v1/admin/revocations/users/{}", c.editor.uid), None),
        200,
    );
    assert_eq!(verify(w, &token, true), json!({"verified": false, "message": "token revoked"}));
}

fn create_key(w: &World, who: &Who, body: Value) -> Value {
    expect(&w.call(Some(who), "POST", "/api/v1/api-keys", Some(body)), 201)["data"].clone()
}

fn validate(w: &World, caller: &Who, key: &str, api: &str) -> Value {
    let body = json!({"api_key": key, "api_id": api});
    expect(&w.call(Some(caller), "POST", "/api/3/action/validate_api_key", Some(body)), 200)["result"].clone()
}

#[test]
fn api_keys_are_shown_once_stored_as_hashes_and_revocable() {
    let c = Cast::new();
    let w = &c.world;
    let k = create_key(w, &c.editor, json!({"name": "My gateway app"}));
    let secret = k["api_key"].as_str().unwrap().to_string();
    assert!(secret.starts_with("ryd_") && secret.len() == 68, "{secret}");
    assert_eq!(k["prefix"], &secret[..8]);
    assert!(!w.snapshot().contains(&secret[8..]), "only the hash is stored");
    let list = expect(&w.call(Some(&c.editor), "GET", "/api/v1/api-keys", None), 200);
    assert_eq!(list["data"]["api_keys"][0]["name"], "My gateway app");
    assert_eq!(list["data"]["api_keys"][0]["status"], "active");
    assert!(list["data"]["api_keys"][0].get("api_key").is_none());
    assert_eq!(expect(&w.call(Some(&c.admin), "GET", "/api/v1/api-keys", None), 200)["data"]["api_keys"], json!([]));
    // Validation errors change nothing.
    let before = w.snapshot();
    for bad in [
        json!({}),
        json!({"name": ""}),
        json!({"name": "x", "expires_at": "tomorrow"}),
        json!({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}),
        json!({"name": "x", "scope": "all"}),
    ] {
        expect(&w.call(Some(&c.editor), "POST", "/api/v1/api-keys", Some(bad)), 400);
    }
    expect(&w.call(Some(&Who::machine(&c.tool_client)), "POST", "/api/v1/api-keys", Some(json!({"name": "m"}))), 403);
    // Someone else's key is not found; the owner revokes it.
    let path = format!("/api/v1/api-keys/{}", k["id"].as_str().unwrap());
    expect(&w.call(Some(&c.admin), "DELETE", &path, None), 404);
    assert_eq!(before, w.snapshot());
    let r = expect(&w.call(Some(&c.editor), "DELETE", &path, None), 200);
    assert_eq!(r["data"]["status"], "revoked");
    // A superadmin imports a legacy key; importing it twice is a conflict.
    let legacy = json!({"user_id": c.contributor.uid, "api_key": "0123456789abcdef-legacy-dkan", "name": "old portal"});
    expect(&w.call(Some(&c.editor), "POST", "/api/v1/admin/api-keys", Some(legacy.clone())), 403);
    let r = expect(&w.call(Some(&c.superadmin), "POST", "/api/v1/admin/api-keys", Some(legacy.clone())), 201);
    assert_eq!(r["data"]["name"], "legacy:old portal");
    assert!(r["data"].get("api_key").is_none(), "a legacy secret is never echoed");
    expect(&w.call(Some(&c.superadmin), "POST", "/api/v1/admin/api-keys", Some(legacy)), 409);
    let list = expect(&w.call(Some(&c.contributor), "GET", "/api/v1/api-keys", None), 200);
    assert_eq!(list["data"]["api_keys"][0]["name"], "legacy:old portal");
}

#[test]
fn validate_api_key_answers_each_of_its_five_messages() {
    let c = Cast::new();
    let w = &c.world;
    let sa = &c.superadmin;
    let editor_key = create_key(w, &c.editor, json!({"name": "Editor's app"}))["api_key"].as_str().unwrap().to_string();
    // Who may ask: a superadmin, or a configured service client; nobody else.
    let gateway = Who::machine("api-gateway");
    expect(
        &w.call(
            Some(&c.editor),
            "POST",
            "/api/3/action/validate_api_key",
            Some(json!({"api_key": editor_key, "api_id": "aid-activities"})),
        ),
        403,
    );
    let e = expect(
        &w.call(
            Some(&gateway),
            "POST",
            "/api/3/action/validate_api_key",
            Some(json!({"api_key": editor_key, "api_id": "aid-activities"})),
        ),
        403,
    );
    assert_eq!(e["error"]["__type"], "Authorization Error");
    w.set_var("authz_service_clients", "api-gateway");
    let e = expect(
        &w.call(Some(&gateway), "POST", "/api/3/action/validate_api_key", Some(json!({"api_id": "aid-activities"}))),
        400,
    );
    assert_eq!(e["error"]["api_key"], json!(["Missing value"]));

    // 1. Invalid token: unknown, expired, revoked.
    assert_eq!(
        validate(w, &gateway, "ryd_not-a-key", "aid-activities"),
        json!({"authorized": false, "message": "Invalid token"})
    );
    let short =
        create_key(w, &c.editor, json!({"name": "short", "expires_at": ryd_api::time::rfc3339((T0 + 60) * 1000)}));
    // 2. Invalid api_id.
    assert_eq!(
        validate(w, &gateway, &editor_key, "no-such-api"),
        json!({"authorized": false, "message": "Invalid api_id"})
    );
    // No usage-plan group exists yet.
    assert_eq!(validate(w, &gateway, &editor_key, "aid-activities")["message"], "No usage plan available");
    // Usage plans: gold by metadata priority, bronze the default, silver with bad metadata.
    let plan = |name: &str, md: Value| {
        expect(&w.call(Some(sa), "POST", "/api/v1/groups", Some(json!({"name": name, "metadata": md}))), 201);
    };
    plan(
        "api-gold-users",
        json!({"api-usage-plan-name": "gold", "api-usage-plan-rate": "100", "api-usage-plan-quota": 1000000, "api-usage-plan-priority": "3"}),
    );
    plan(
        "api-bronze-users",
        json!({"api-usage-plan-name": "bronze", "api-usage-plan-rate": "5", "api-usage-plan-quota": "1000", "api-usage-plan-priority": "5"}),
    );
    plan("api-silver-users", json!({"api-usage-plan-rate": "fast", "api-usage-plan-priority": ""}));
    let ok = validate(w, &gateway, &editor_key, "aid-activities");
    assert_eq!(
        ok,
        json!({"authorized": true, "message": "Authorized", "app_name": "Editor's app",
               "usage_plan": {"name": "bronze", "plan": "bronze", "rate": 5, "quota": 1000, "priority": 5}}),
        "a user in no plan group gets the plan with the largest priority number"
    );
    let join = |group: &str, who: &Who| {
        expect(&w.call(Some(sa), "PUT", &format!("/api/v1/groups/{group}/members/{}", who.uid), None), 200);
    };
    join("api-silver-users", &c.editor);
    let silver = validate(w, &gateway, &editor_key, "aid-activities");
    assert_eq!(
        silver["usage_plan"],
        json!({"name": "api-silver-users", "plan": "api-silver-users", "rate": 10, "quota": 10000, "priority": 4}),
        "bad values fall back to the name, 10, 10000 and the position"
    );
    join("api-gold-users", &c.editor);
    assert_eq!(
        validate(w, &gateway, &editor_key, "aid-activities")["usage_plan"]["plan"],
        "gold",
        "the lowest priority number wins"
    );

    // 3. Not allowed: an outsider cannot view a dataset of an organisation not yet approved.
    let outsider_key = create_key(w, &c.outsider, json!({"name": "o"}))["api_key"].as_str().unwrap().to_string();
    assert_eq!(
        validate(w, &gateway, &outsider_key, "aid-activities"),
        json!({"authorized": false, "message": "User Outsider not allowed to access aid-activities"})
    );
    expect(
        &w.call(
            Some(sa),
            "PATCH",
            &format!("/api/v1/reporting-orgs/{}", c.oid),
            Some(json!({"registry_approved": true})),
        ),
        200,
    );
    assert_eq!(
        validate(w, &gateway, &outsider_key, "aid-activities")["authorized"],
        true,
        "listed: everyone may view it"
    );

    // 4. A private API: its users and the dataset must share a group.
    expect(&w.call(Some(&c.admin), "POST", "/api/v1/datasets", Some(dataset_body(&c.oid, "beta-api", "private"))), 201);
    assert_eq!(
        validate(w, &gateway, &outsider_key, "beta-api")["message"],
        "User Outsider not allowed to access beta-api"
    );
    assert_eq!(
        validate(w, &gateway, &editor_key, "beta-api")["authorized"],
        true,
        "organisation membership counts as a shared group"
    );
    let sa_key = create_key(w, sa, json!({"name": "ops"}))["api_key"].as_str().unwrap().to_string();
    assert_eq!(
        validate(w, &gateway, &sa_key, "beta-api"),
        json!({"authorized": false, "message": "No usage plan available"})
    );
    expect(&w.call(Some(sa), "POST", "/api/v1/groups", Some(json!({"name": "beta-testers"}))), 201);
    expect(&w.call(Some(sa), "PUT", "/api/v1/groups/beta-testers/datasets/beta-api", None), 200);
    join("beta-testers", sa);
    assert_eq!(validate(w, &gateway, &sa_key, "beta-api")["authorized"], true);

    // 1 again: expired and revoked keys.
    w.ports.now_ms.set(w.ports.now_ms.get() + 61_000);
    assert_eq!(validate(w, &gateway, short["api_key"].as_str().unwrap(), "aid-activities")["message"], "Invalid token");
    expect(&w.call(Some(sa), "PUT", &format!("/api/v1/admin/revocations/users/{}", c.editor.uid), None), 200);
    assert_eq!(
        validate(w, &gateway, &editor_key, "aid-activities"),
        json!({"authorized": false, "message": "Invalid token"}),
        "a revoked user's keys stop at once"
    );
    let listed = expect(&w.call(Some(sa), "GET", "/api/v1/groups/beta-testers", None), 200);
    assert_eq!(listed["data"]["datasets"][0]["short_name"], "beta-api");
}

#[test]
fn groups_are_managed_by_superadmins_only() {
    let c = Cast::new();
    let w = &c.world;
    let sa = &c.superadmin;
    let before = w.snapshot();
    expect(&w.call(Some(&c.admin), "POST", "/api/v1/groups", Some(json!({"name": "api-gold-users"}))), 403);
    expect(&w.call(Some(&c.admin), "GET", "/api/v1/groups", None), 403);
    for bad in [
        json!({}),
        json!({"name": "Has Spaces"}),
        json!({"name": "ok", "metadata": [1]}),
        json!({"name": "ok", "colour": "red"}),
    ] {
        expect(&w.call(Some(sa), "POST", "/api/v1/groups", Some(bad)), 400);
    }
    assert_eq!(before, w.snapshot());
    let g = expect(
        &w.call(
            Some(sa),
            "POST",
            "/api/v1/groups",
            Some(json!({"name": "api-gold-users", "title": "Gold", "metadata": {"api-usage-plan-rate": 100}})),
        ),
        201,
    );
    assert_eq!(g["data"]["metadata"], json!({"api-usage-plan-rate": "100"}));
    expect(&w.call(Some(sa), "POST", "/api/v1/groups", Some(json!({"name": "api-gold-users"}))), 409);
    let r = expect(
        &w.call(
            Some(sa),
            "PATCH",
            "/api/v1/groups/api-gold-users",
            Some(json!({"metadata": {"api-usage-plan-rate": null, "api-usage-plan-name": "gold"}})),
        ),
        200,
    );
    assert_eq!(r["data"]["metadata"], json!({"api-usage-plan-name": "gold"}));
    expect(&w.call(Some(sa), "PUT", &format!("/api/v1/groups/api-gold-users/members/{}", c.editor.uid), None), 200);
    expect(&w.call(Some(sa), "PUT", "/api/v1/groups/api-gold-users/datasets/no-such-dataset", None), 404);
    let r = expect(
        &w.call(
            Some(sa),
            "PUT",
            &format!("/api/v1/groups/{}/datasets/{}", g["data"]["id"].as_str().unwrap(), c.did),
            None,
        ),
        200,
    );
    assert_eq!(r["data"]["members"][0]["user_id"], c.editor.uid);
    assert_eq!(r["data"]["datasets"][0]["id"], c.did);
    expect(&w.call(Some(sa), "DELETE", "/api/v1/groups/api-gold-users", None), 200);
    expect(&w.call(Some(sa), "GET", "/api/v1/groups/api-gold-users", None), 404);
    let left = w.ports.sql.execute("SELECT (SELECT count(*) FROM group_members) + (SELECT count(*) FROM group_datasets) + (SELECT count(*) FROM group_metadata)", &[]).unwrap();
    assert_eq!(left.first().unwrap().int(0), 0, "a deleted group leaves nothing behind");
    // CKAN's group_list is not these groups (that is the CKAN API's organisations).
}
