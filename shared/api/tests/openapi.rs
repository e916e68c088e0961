//! The OpenAPI document: it covers the reference specification completely, describes
//! every route we serve, and real answers validate against it.

use ryd_test_support::*;
use serde_json::{json, Value};

fn ours() -> &'static Value {
    ryd_api::openapi::document()
}

/// IATI's reference, vendored; when `../shared/ref` sits beside the repository (the
/// project's documents), the vendored copy must be identical to it.
fn reference() -> Value {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let vendored = std::fs::read_to_string(here.join("reference/iati-register-your-data-api.yaml")).unwrap();
    let upstream = here.join("../../../shared/ref/iati-register-your-data-api.yaml");
    if let Ok(text) = std::fs::read_to_string(&upstream) {
        assert_eq!(
            text, vendored,
            "shared/api/reference is out of date with ../shared/ref: copy it and rerun infra/tools/openapi.py"
        );
    }
    serde_yaml::from_str(&vendored).unwrap()
}

fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let mut node = doc;
            for part in r.trim_start_matches("#/").split('/') {
                node = &node[part];
            }
            // The reference sometimes points a schema at a response object.
            let node = node.get("content").map(|c| &c["application/json"]["schema"]).unwrap_or(node);
            resolve(doc, node)
        }
        None => v,
    }
}

/// Every property name a schema declares, through allOf/oneOf/anyOf and nesting.
fn property_paths(doc: &Value, schema: &Value, prefix: &str, out: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    for key in ["allOf", "oneOf", "anyOf"] {
        for s in schema.get(key).and_then(Value::as_array).into_iter().flatten() {
            property_paths(doc, s, prefix, out);
        }
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, s) in props {
            let p = format!("{prefix}.{name}");
            out.push(p.clone());
            property_paths(doc, s, &p, out);
        }
    }
    if let Some(items) = schema.get("items") {
        property_paths(doc, items, &format!("{prefix}[]"), out);
    }
}

fn params(doc: &Value, op: &Value) -> Vec<(String, String)> {
    op.get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| resolve(doc, p))
        .map(|p| (p["name"].as_str().unwrap_or("").to_string(), p["in"].as_str().unwrap_or("").to_string()))
        .collect()
}

#[test]
fn covers_every_path_method_parameter_and_schema_property_of_the_reference() {
    let r = reference();
    let o = ours();
    for (path, ops) in r["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let mine = &o["paths"][path][method];
            assert!(mine.is_object(), "{method} {path} missing");
            for p in params(&r, op) {
                assert!(params(o, mine).contains(&p), "{method} {path}: parameter {p:?} missing");
            }
            for (status, resp) in op["responses"].as_object().unwrap() {
                assert!(mine["responses"].get(status).is_some(), "{method} {path}: response {status} missing");
                let mut want = Vec::new();
                property_paths(&r, &resolve(&r, resp)["content"]["application/json"]["schema"], "", &mut want);
                let mut have = Vec::new();
                property_paths(
                    o,
                    &resolve(o, &mine["responses"][status])["content"]["application/json"]["schema"],
                    "",
                    &mut have,
                );
                for w in want {
                    assert!(have.contains(&w), "{method} {path} {status}: property {w} missing");
                }
            }
            if let Some(body) = op.get("requestBody") {
                let mut want = Vec::new();
                property_paths(&r, &body["content"]["application/json"]["schema"], "", &mut want);
                let mut have = Vec::new();
                property_paths(o, &mine["requestBody"]["content"]["application/json"]["schema"], "", &mut have);
                for w in want {
                    assert!(have.contains(&w), "{method} {path} request body: property {w} missing");
                }
            }
        }
    }
    for (name, schema) in r["components"]["schemas"].as_object().unwrap() {
        let mut want = Vec::new();
        property_paths(&r, schema, "", &mut want);
        let mut have = Vec::new();
        property_paths(o, &o["components"]["schemas"][name], "", &mut have);
        for w in want {
            assert!(have.contains(&w), "schema {name}: property {w} missing");
        }
    }
}

/// The document's path for one of our route patterns (parameter names may differ, as the
/// reference calls the organisation `uid` in one path).
fn doc_path(pattern: &str) -> Option<String> {
    let rel = pattern.strip_prefix("/api/v1").unwrap_or(pattern);
    let shape = |p: &str| p.split('/').map(|s| if s.starts_with('{') { "{}" } else { s }).collect::<Vec<_>>().join("/");
    ours()["paths"].as_object().unwrap().keys().find(|k| shape(k) == shape(rel)).cloned()
}

/// Every route the document describes: the API's, and IATI Account's public endpoints (its
/// pages and their stylesheet are HTML for browsers, not the API: ryd-iati-account's tests).
fn documented() -> Vec<(&'static str, &'static str)> {
    let api = ryd_api::routes::all().map(|(_, r)| (r.method, r.pattern));
    let account = ryd_iati_account::PAGES.iter().filter(|p| matches!(p.access, ryd_iati_account::Page::Public));
    api.chain(account.map(|p| (p.method, p.pattern))).collect()
}

#[test]
fn describes_every_route_we_serve() {
    for (method, pattern) in documented() {
        let path = doc_path(pattern).unwrap_or_else(|| panic!("{pattern} is not in the document"));
        let op = &ours()["paths"][&path][method.to_lowercase()];
        assert!(op.is_object(), "{method} {pattern} is not in the document");
    }
}

/// A small validator for the subset of OpenAPI 3.0 schema the document uses.
fn validate(doc: &Value, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if v.is_null() {
        if schema.get("nullable") == Some(&json!(true)) || schema.get("type").is_none() {
            return;
        }
        errors.push(format!("{at}: null where {schema} is not nullable"));
        return;
    }
    for s in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        validate(doc, s, v, at, errors);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let ok = options.iter().any(|s| {
                let mut e = Vec::new();
                validate(doc, s, v, at, &mut e);
                e.is_empty()
            });
            if !ok {
                errors.push(format!("{at}: matches none of {key}"));
            }
        }
    }
    let type_ok = match schema.get("type").and_then(Value::as_str) {
        Some("string") => v.is_string(),
        Some("integer") => v.is_i64() || v.is_u64(),
        Some("number") => v.is_number(),
        Some("boolean") => v.is_boolean(),
        Some("array") => v.is_array(),
        Some("object") => v.is_object(),
        _ => true,
    };
    if !type_ok {
        errors.push(format!("{at}: {v} is not of type {}", schema["type"]));
        return;
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(v) {
            errors.push(format!("{at}: {v} not in {options:?}"));
        }
    }
    if let Some(obj) = v.as_object() {
        for r in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            if !obj.contains_key(r.as_str().unwrap_or("")) {
                errors.push(format!("{at}: required property {r} missing"));
            }
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, s) in props {
                if let Some(x) = obj.get(k) {
                    validate(doc, s, x, &format!("{at}.{k}"), errors);
                }
            }
        }
    }
    if let (Some(items), Some(list)) = (schema.get("items"), v.as_array()) {
        for (i, x) in list.iter().enumerate() {
            validate(doc, items, x, &format!("{at}[{i}]"), errors);
        }
    }
}

#[test]
fn every_happy_path_answer_validates_against_the_document() {
    let c = Cast::new();
    let w = &c.world;
    let (o, d, t) = (&c.oid, &c.did, &c.tool_id);
    // Email through Azure Communication Services, answered as ACS answers.
    w.set_var("acs_endpoint", "https://acs.example.org");
    w.set_var("acs_access_key", "a2V5");
    w.set_var("mail_from", "DoNotReply@registry.test");
    w.ports.posts.borrow_mut().insert(
        "https://acs.example.org/emails:send?api-version=2025-09-01".into(),
        (202, r#"{"id":"x","status":"Running"}"#.into()),
    );
    let hooks = format!("/api/v1/reporting-orgs/{o}/webhooks");
    let hook_body = json!({"url": "https://tools.example.org/ryd", "events": ["dataset.*"]});
    let hook = expect(&w.call(Some(&c.admin), "POST", &hooks, Some(hook_body.clone())), 201)["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let key = ryd_authz::SigningKey::generate("EdDSA").unwrap();
    let mut jwk = key.private_jwk();
    jwk["kid"] = json!("a1");
    w.set_var("authz_signing_keys", &jwk.to_string());
    let scoped =
        expect(&w.call(Some(&c.editor), "POST", "/api/v1/authz/token", Some(json!({"scopes": "org:aidorg"}))), 200)
            ["data"]["token"]
            .as_str()
            .unwrap()
            .to_string();
    let api_key =
        expect(&w.call(Some(&c.editor), "POST", "/api/v1/api-keys", Some(json!({"name": "k"}))), 201)["data"].clone();
    let (key_id, secret) = (api_key["id"].as_str().unwrap(), api_key["api_key"].as_str().unwrap());
    let calls: Vec<(&Who, &str, String, Option<Value>)> = vec![
        (
            &c.superadmin,
            "POST",
            "/api/v1/groups".into(),
            Some(json!({"name": "api-gold-users", "metadata": {"api-usage-plan-rate": 5}})),
        ),
        (&c.superadmin, "GET", "/api/v1/groups".into(), None),
        (&c.superadmin, "PATCH", "/api/v1/groups/api-gold-users".into(), Some(json!({"title": "Gold"}))),
        (&c.superadmin, "PUT", format!("/api/v1/groups/api-gold-users/members/{}", c.editor.uid), None),
        (&c.superadmin, "PUT", format!("/api/v1/groups/api-gold-users/datasets/{d}"), None),
        (&c.superadmin, "GET", "/api/v1/groups/api-gold-users".into(), None),
        (
            &c.superadmin,
            "POST",
            "/api/3/action/validate_api_key".into(),
            Some(json!({"api_key": secret, "api_id": "aid-activities"})),
        ),
        (&c.superadmin, "DELETE", format!("/api/v1/groups/api-gold-users/members/{}", c.editor.uid), None),
        (&c.superadmin, "DELETE", format!("/api/v1/groups/api-gold-users/datasets/{d}"), None),
        (&c.superadmin, "DELETE", "/api/v1/groups/api-gold-users".into(), None),
        (
            &c.superadmin,
            "PUT",
            format!("/api/v1/datasets/{d}/pipeline"),
            Some(json!({"filetype": "activity", "activity_count": 3, "country": null})),
        ),
        (
            &c.superadmin,
            "PUT",
            "/api/v1/datasets/pipeline".into(),
            Some(json!({"datasets": [{"id": d, "language": "en"}]})),
        ),
        (&c.editor, "POST", "/api/v1/authz/token".into(), Some(json!({"scopes": ["org:aidorg:read"], "lifetime": 60}))),
        (&c.editor, "POST", "/api/3/action/authz_authorize".into(), Some(json!({"scopes": "ds:aidorg/*:read"}))),
        (&c.editor, "POST", "/api/3/action/authz_verify".into(), Some(json!({"token": scoped}))),
        (&c.editor, "GET", format!("/api/3/action/authz_verify?token={scoped}&strict=false"), None),
        (&c.editor, "GET", "/.well-known/jwks.json".into(), None),
        (&c.editor, "GET", "/api/v1/api-keys".into(), None),
        (
            &c.editor,
            "POST",
            "/api/v1/api-keys".into(),
            Some(json!({"name": "another", "expires_at": "2099-01-01T00:00:00Z"})),
        ),
        (&c.editor, "DELETE", format!("/api/v1/api-keys/{key_id}"), None),
        (
            &c.superadmin,
            "POST",
            "/api/v1/admin/api-keys".into(),
            Some(json!({"user_id": c.admin.uid, "api_key": "legacy-key-0123456789", "name": "dkan"})),
        ),
        (&c.admin, "GET", "/api/v1/access-check".into(), None),
        (&c.admin, "GET", "/api/v1/tools".into(), None),
        (&c.admin, "GET", format!("/api/v1/users/{}/roles", c.admin.uid), None),
        (&c.admin, "GET", format!("/api/v1/users/{}/roles/reporting-org-permissions/{o}", c.admin.uid), None),
        (&c.admin, "GET", "/api/v1/discoverable-reporting-orgs".into(), None),
        (&c.pending, "GET", "/api/v1/reporting-orgs?include_actions=yes".into(), None),
        (&c.admin, "GET", "/api/v1/reporting-orgs?include_actions=yes".into(), None),
        (&c.admin, "GET", format!("/api/v1/reporting-orgs/{o}?include_actions=yes"), None),
        (&c.admin, "PATCH", format!("/api/v1/reporting-orgs/{o}"), Some(json!({"description": "d"}))),
        (&c.admin, "GET", format!("/api/v1/reporting-orgs/{o}/users"), None),
        (&c.admin, "GET", format!("/api/v1/reporting-orgs/{o}/tools"), None),
        (&c.admin, "GET", format!("/api/v1/reporting-orgs/{o}/datasets?include_actions=yes"), None),
        (&c.admin, "GET", format!("/api/v1/datasets/{d}"), None),
        (&c.admin, "PATCH", format!("/api/v1/datasets/{d}"), Some(json!({"url": "https://x.org/a.xml"}))),
        (&c.admin, "POST", "/api/v1/datasets".into(), Some(dataset_body(o, "another", "private"))),
        (&c.outsider, "POST", "/api/v1/reporting-orgs".into(), Some(org_body("fresh"))),
        (&c.superadmin, "PATCH", format!("/api/v1/tools/{t}"), Some(json!({"name": "Renamed"}))),
        (
            &c.admin,
            "PUT",
            format!("/api/v1/users/{}/reporting-org/{o}", c.pending.uid),
            Some(json!({"role": "contributor"})),
        ),
        (&c.admin, "DELETE", format!("/api/v1/users/{}/reporting-org/{o}", c.pending.uid), None),
        (&c.outsider, "POST", format!("/api/v1/users/{}/reporting-org", c.outsider.uid), Some(json!({"oid": o}))),
        (&c.admin, "DELETE", format!("/api/v1/reporting-orgs/{o}/tools/{t}"), None),
        (&c.admin, "POST", format!("/api/v1/reporting-orgs/{o}/tools"), Some(json!({"tid": t}))),
        (
            &c.superadmin,
            "POST",
            "/api/v1/tools".into(),
            Some(json!({"name": "N", "provider": "P", "client_id": "new-client"})),
        ),
        (&c.superadmin, "DELETE", format!("/api/v1/tools/{t}/admins/{}", c.tool_admin.uid), None),
        (&c.superadmin, "PUT", format!("/api/v1/tools/{t}/admins/{}", c.tool_admin.uid), None),
        (&c.admin, "DELETE", format!("/api/v1/datasets/{d}"), None),
        (&c.superadmin, "DELETE", format!("/api/v1/tools/{t}"), None),
        (&c.editor, "GET", format!("/api/3/action/is_authorized?object=dataset/{d}&action=update"), None),
        (
            &c.editor,
            "POST",
            "/api/v1/authz/check".into(),
            Some(json!({"checks": [{"authorisation": "update-dataset", "object": format!("dataset/{d}")}]})),
        ),
        (&c.superadmin, "GET", "/api/v1/admin/outbox".into(), None),
        (&c.superadmin, "POST", "/api/v1/admin/outbox/deliver".into(), None),
        (&c.admin, "GET", hooks.clone(), None),
        (&c.admin, "POST", hooks.clone(), Some(hook_body.clone())),
        (&c.admin, "PATCH", format!("{hooks}/{hook}"), Some(json!({"events": ["*"]}))),
        (&c.admin, "POST", format!("{hooks}/{hook}/secret"), None),
        (&c.admin, "DELETE", format!("{hooks}/{hook}"), None),
        (&c.superadmin, "PUT", "/api/v1/admin/revocations/clients/some-app".into(), None),
        (&c.superadmin, "DELETE", "/api/v1/admin/revocations/clients/some-app".into(), None),
        (&c.superadmin, "PUT", format!("/api/v1/admin/revocations/users/{}", c.outsider.uid), None),
        (&c.superadmin, "DELETE", format!("/api/v1/admin/revocations/users/{}", c.outsider.uid), None),
        (&c.admin, "DELETE", format!("/api/v1/reporting-orgs/{o}"), None),
    ];
    let doc = ours();
    let mut seen = std::collections::BTreeSet::new();
    for (who, method, path, body) in calls {
        let r = w.call(Some(who), method, &path, body);
        assert!(r.status < 300, "{method} {path}: {}", r.json_body());
        let path_only = path.split('?').next().unwrap();
        let component = ryd_api::routes::component_of(path_only).unwrap_or_else(|| panic!("{path} is not routed"));
        let pattern = match ryd_api::routes::find(component.routes, method, path_only) {
            ryd_api::routes::Match::Found(route, _) => route.pattern,
            _ => panic!("{path} is not routed"),
        };
        let dp = doc_path(pattern).unwrap();
        let schema = &resolve(doc, &doc["paths"][&dp][method.to_lowercase()]["responses"][r.status.to_string()])
            ["content"]["application/json"]["schema"];
        assert!(schema.is_object(), "{method} {dp} {}: no schema", r.status);
        let mut errors = Vec::new();
        validate(doc, schema, &r.json_body(), "$", &mut errors);
        assert!(errors.is_empty(), "{method} {path}: {errors:#?}\n{}", r.json_body());
        seen.insert((method, pattern));
    }
    for (method, path) in [("GET", "/api/v1/licences"), ("GET", "/health"), ("GET", "/api/v1/openapi.json")] {
        let r = w.raw(ryd_api::Request::new(method, path));
        let dp = doc_path(path).unwrap();
        let schema =
            &resolve(doc, &doc["paths"][&dp]["get"]["responses"]["200"])["content"]["application/json"]["schema"];
        let mut errors = Vec::new();
        validate(doc, schema, &r.json_body(), "$", &mut errors);
        assert!(errors.is_empty(), "{path}: {errors:#?}");
        seen.insert((method, ryd_api::routes::all().find(|(_, r)| r.pattern == path).unwrap().1.pattern));
    }
    // The PEM key is text, not JSON.
    let r = w.raw(ryd_api::Request::new("GET", "/authz/public_key"));
    assert_eq!(r.status, 200);
    let dp = doc_path("/authz/public_key").unwrap();
    assert!(doc["paths"][&dp]["get"]["responses"]["200"]["content"]["application/x-pem-file"].is_object());
    seen.insert(("GET", "/authz/public_key"));
    // The Identity Service's logout call: a form in, an empty text body out.
    w.set_var("account_client_id", "iati-account");
    let now = w.ports.now_ms.get() / 1000;
    let claims = json!({"iss": ISS, "aud": "iati-account", "sub": "nobody", "jti": "openapi-1", "iat": now, "exp": now + 60,
                        "events": {"http://schemas.openid.net/event/backchannel-logout": {}}});
    let token = signing_key().sign(Some("k1"), Some("logout+jwt"), &claims).unwrap();
    let r = w.raw(
        ryd_api::Request::new("POST", "/account/backchannel-logout")
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_body(format!("logout_token={token}")),
    );
    assert_eq!(r.status, 200, "{}", r.json_body());
    let dp = doc_path("/account/backchannel-logout").unwrap();
    assert!(doc["paths"][&dp]["post"]["responses"]["200"]["content"]["text/plain"].is_object());
    seen.insert(("POST", "/account/backchannel-logout"));
    // Sign-in: to the provider, and back (refused here: no sign-in was started; the whole
    // flow is in tests/account.rs): a redirect, and a page saying why.
    w.set_var("account_client_secret", "s");
    w.ports.http.borrow_mut().insert(
        format!("{ISS}/.well-known/openid-configuration"),
        (200, json!({"authorization_endpoint": "https://id.example.org/authorize"}).to_string()),
    );
    for (path, status, kind) in [("/account/login", 302, "text/plain"), ("/account/callback", 400, "text/html")] {
        let r = w.raw(ryd_api::Request::new("GET", path));
        assert_eq!(r.status, status, "{path}: {}", String::from_utf8_lossy(&r.body));
        assert!(r.header("content-type").is_some_and(|c| c.starts_with(kind)), "{path}");
        let dp = doc_path(path).unwrap();
        assert!(doc["paths"][&dp]["get"]["responses"][status.to_string()]["content"][kind].is_object());
        seen.insert(("GET", path));
    }
    let unvisited: Vec<_> = documented().into_iter().filter(|r| !seen.contains(r)).collect();
    assert!(unvisited.is_empty(), "no happy path checked for {unvisited:?}");
}
