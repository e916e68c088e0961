//! The real `.wasm` components in the local host, over real HTTP, with real RS256 tokens.

use ryd_e2e::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

#[test]
fn components_import_only_wasi_0_2_and_spin_sqlite_key_value_variables() {
    let m = built(&app_manifest());
    let engine = ryd_host::runtime::engine().unwrap();
    for c in m.components.values() {
        let imports = ryd_host::App::imports_of(&engine, &c.source).unwrap();
        assert!(!imports.is_empty());
        for i in &imports {
            let ok = (i.starts_with("wasi:") && i.contains("@0.2."))
                || ["fermyon:spin/sqlite@2.0.0", "fermyon:spin/key-value@2.0.0", "fermyon:spin/variables@2.0.0"]
                    .contains(&i.as_str());
            assert!(ok, "{} imports {i}", c.id);
        }
        assert!(imports.iter().any(|i| i == "fermyon:spin/sqlite@2.0.0"), "{}: {imports:?}", c.id);
    }
}

#[test]
fn public_endpoints_answer_without_a_token() {
    let data = data_dir("public-endpoints");
    let host = serve!(&data, test_env(&[]));
    let c = Client::new(&host);
    c.send("GET", "/health", None, &[], None).expect(200);
    // A probe is one statement: the outbox's count carries the schema's version.
    let before = host.stats().map(|s| s.snapshot().sqlite_statements);
    c.send("GET", "/health", None, &[], None).expect(200);
    if let (Some(s), Some(before)) = (host.stats(), before) {
        assert_eq!(s.snapshot().sqlite_statements - before, 1, "/health's statements");
    }
    assert!(c.send("GET", "/api/v1/licences", None, &[], None).expect(200).is_array());
    assert!(c.send("GET", "/api/v1/openapi.json", None, &[], None).expect(200).is_object());
}

#[test]
fn tokens_are_refused_with_rfc_6750_challenges() {
    let data = data_dir("token-refusals");
    let host = serve!(&data, test_env(&[]));
    let c = Client::new(&host);
    let admin = Who::user(1, "Admin");
    let r = c.send("GET", "/api/v1/access-check", None, &[], None);
    r.expect(401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"register-your-data\""));
    let mut expired = admin.claims();
    expired["iat"] = json!(now() - 4000);
    expired["exp"] = json!(now() - 3000);
    let r = c.send("GET", "/api/v1/access-check", Some(&sign(&expired)), &[], None);
    r.expect(401);
    assert!(r.header("www-authenticate").unwrap().contains("error_description=\"token expired\""));
    let mut wrong_aud = admin.claims();
    wrong_aud["aud"] = json!("https://elsewhere");
    c.send("GET", "/api/v1/access-check", Some(&sign(&wrong_aud)), &[], None).expect(401);
    let none = format!("{}.{}.", "eyJhbGciOiJub25lIn0", admin.token().split('.').nth(1).unwrap());
    c.send("GET", "/api/v1/access-check", Some(&none), &[], None).expect(401);
    c.send("GET", &format!("/api/v1/access-check?access_token={}", admin.token()), None, &[], None).expect(401);
    let r = c.call(&admin.clone().scopes("ryd"), "GET", "/api/v1/reporting-orgs", None);
    r.expect(403);
    assert!(r.header("www-authenticate").unwrap().contains("insufficient_scope"));
    let norole = Who { roles: vec![], ..Who::user(9, "NoRole") };
    c.call(&norole, "GET", "/api/v1/access-check", None).expect(403);
}

#[test]
fn http_conventions_allow_request_ids_and_unrouted_paths() {
    let data = data_dir("conventions");
    let host = serve!(&data, test_env(&[]));
    let c = Client::new(&host);
    let admin = Who::user(1, "Admin");
    let r = c.send("PUT", "/api/v1/access-check", Some(&admin.token()), &[], None);
    r.expect(405);
    assert_eq!(r.header("allow"), Some("GET"));
    let r = c.send("GET", "/health", None, &[("x-request-id", "trace-42")], None);
    assert_eq!(r.header("x-request-id"), Some("trace-42"));
    c.send("GET", "/not/routed", None, &[], None).expect(404);
}

#[test]
fn every_endpoint_over_http_with_its_refusals() {
    let data = data_dir("every-endpoint");
    let host = serve!(&data, test_env(&[]));
    let c = Client::new(&host);
    let admin = Who::user(1, "Admin");
    let editor = Who::user(2, "Editor");
    let outsider = Who::user(3, "Outsider");
    let superadmin = Who::superadmin(4);
    let tool_admin = Who::user(5, "Staff").via("aid-tool");
    let machine = Who::machine("aid-tool");

    // reporting-orgs component.
    assert_eq!(
        c.call(&admin, "GET", "/api/v1/access-check", None).expect(200)["data"]["message"],
        "Access token is valid"
    );
    let oid = c.call(&admin, "POST", "/api/v1/reporting-orgs", Some(org_body("e2eorg"))).expect(201)["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    c.call(&admin, "POST", "/api/v1/reporting-orgs", Some(org_body("e2eorg"))).expect(409);
    c.call(&admin, "POST", "/api/v1/reporting-orgs", Some(json!({"short_name": "x"}))).expect(400);
    c.call(&machine, "POST", "/api/v1/reporting-orgs", Some(org_body("m"))).expect(403);
    let r = c.call(&admin, "GET", &format!("/api/v1/reporting-orgs/{oid}/"), None);
    assert_eq!(r.expect(200)["data"]["user_role"], "admin");
    let etag = r.header("etag").unwrap().to_string();
    c.call(&outsider, "GET", &format!("/api/v1/reporting-orgs/{oid}"), None).expect(404);
    c.call(&admin, "GET", "/api/v1/reporting-orgs/not-an-id", None).expect(400);
    assert_eq!(
        c.call(&admin, "GET", "/api/v1/reporting-orgs?include_meta=yes", None).expect(200)["pagination"]
            ["total_records"],
        1
    );
    assert_eq!(
        c.call(&outsider, "GET", "/api/v1/discoverable-reporting-orgs?q=e2eorg", None).expect(200)["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let patched = c.send(
        "PATCH",
        &format!("/api/v1/reporting-orgs/{oid}"),
        Some(&admin.token()),
        &[("if-match", &etag)],
        Some(r#"{"description":"new"}"#),
    );
    assert_eq!(patched.expect(200)["data"]["metadata"]["description"], "new");
    c.send(
        "PATCH",
        &format!("/api/v1/reporting-orgs/{oid}"),
        Some(&admin.token()),
        &[("if-match", &etag)],
        Some(r#"{"description":"lost"}"#),
    )
    .expect(412);
    c.call(&superadmin, "PATCH", &format!("/api/v1/reporting-orgs/{oid}"), Some(json!({"registry_approved": true})))
        .expect(200);

    // users component.
    for w in [&editor, &tool_admin, &superadmin] {
        c.call(w, "GET", "/api/v1/access-check", None).expect(200);
    }
    c.call(&editor, "POST", &format!("/api/v1/users/{}/reporting-org", editor.uid), Some(json!({"oid": oid})))
        .expect(200);
    c.call(&outsider, "POST", &format!("/api/v1/users/{}/reporting-org", editor.uid), Some(json!({"oid": oid})))
        .expect(403);
    let r = c.call(
        &editor,
        "PUT",
        &format!("/api/v1/users/{}/reporting-org/{oid}", editor.uid),
        Some(json!({"role": "admin"})),
    );
    assert_eq!(r.expect(404)["status"], "failed", "a pending user cannot read the organisation");
    c.call(
        &admin,
        "PUT",
        &format!("/api/v1/users/{}/reporting-org/{oid}", editor.uid),
        Some(json!({"role": "editor"})),
    )
    .expect(200);
    let users = c.call(&editor, "GET", &format!("/api/v1/reporting-orgs/{oid}/users"), None).expect(200);
    assert_eq!(users["data"].as_array().unwrap().len(), 2);
    c.call(&admin, "DELETE", &format!("/api/v1/users/{}/reporting-org/{oid}", admin.uid), None).expect(400);
    let tool = c
        .call(
            &superadmin,
            "POST",
            "/api/v1/tools",
            Some(json!({"name": "Aid Tool", "provider": "Aid Co", "client_id": "aid-tool"})),
        )
        .expect(201);
    let tid = tool["data"]["id"].as_str().unwrap().to_string();
    c.call(&admin, "POST", "/api/v1/tools", Some(json!({"name": "x", "provider": "y", "client_id": "z"}))).expect(403);
    c.call(&superadmin, "PUT", &format!("/api/v1/tools/{tid}/admins/{}", tool_admin.uid), None).expect(200);
    c.call(&superadmin, "PATCH", &format!("/api/v1/tools/{tid}"), Some(json!({"provider": "Aid Company"}))).expect(200);
    assert_eq!(c.call(&machine, "GET", "/api/v1/tools", None).expect(200)["data"][0]["provider"], "Aid Company");
    let r = c.call(
        &Who::user(6, "Contrib"),
        "POST",
        &format!("/api/v1/reporting-orgs/{oid}/tools"),
        Some(json!({"tid": tid})),
    );
    r.expect(404);
    c.call(&editor, "POST", &format!("/api/v1/reporting-orgs/{oid}/tools"), Some(json!({"tid": tid}))).expect(201);
    assert_eq!(
        c.call(&editor, "GET", &format!("/api/v1/reporting-orgs/{oid}/tools"), None).expect(200)["data"][0]["id"],
        tid.as_str()
    );
    let roles = c.call(&tool_admin, "GET", &format!("/api/v1/users/{}/roles", tool_admin.uid), None).expect(200);
    assert_eq!(roles["data"]["reporting_orgs"], json!([{"id": oid, "role": "provider_admin"}]));
    let perms = c
        .call(&editor, "GET", &format!("/api/v1/users/{}/roles/reporting-org-permissions/{oid}", editor.uid), None)
        .expect(200);
    assert!(perms["data"].as_array().unwrap().contains(&json!("update-dataset")));
    c.call(&outsider, "GET", &format!("/api/v1/users/{}/roles", editor.uid), None).expect(403);

    // datasets component.
    let r = c.call(&editor, "POST", "/api/v1/datasets", Some(dataset_body(&oid, "e2e-public", "public")));
    assert_eq!(r.expect(403)["error"]["missing_authorisation"], "update-dataset-visibility");
    let did = c.call(&editor, "POST", "/api/v1/datasets", Some(dataset_body(&oid, "e2e-ds", "private"))).expect(201)
        ["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    c.call(&outsider, "POST", "/api/v1/datasets", Some(dataset_body(&oid, "e2e-x", "private"))).expect(404);
    c.call(&editor, "GET", &format!("/api/v1/datasets/{did}"), None).expect(200);
    c.call(&outsider, "GET", &format!("/api/v1/datasets/{did}"), None).expect(404);
    // The tool: its staff through its own client, and its machine token.
    c.call(&tool_admin, "PATCH", &format!("/api/v1/datasets/{did}"), Some(json!({"visibility": "public"}))).expect(200);
    c.call(&tool_admin.clone().via(APP), "GET", &format!("/api/v1/datasets/{did}"), None).expect(404);
    c.call(
        &machine,
        "PATCH",
        &format!("/api/v1/datasets/{did}"),
        Some(json!({"url": "https://data.example.org/v2.xml"})),
    )
    .expect(200);
    c.call(&machine, "DELETE", &format!("/api/v1/reporting-orgs/{oid}"), None).expect(403);
    c.call(&machine, "GET", &format!("/api/v1/reporting-orgs/{oid}/users"), None).expect(403);
    let list = c
        .call(&machine, "GET", &format!("/api/v1/reporting-orgs/{oid}/datasets?include_actions=yes"), None)
        .expect(200);
    let kinds: Vec<&str> = list["data"][0]["dataset_actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["create", "change_visibility", "update_url"]);
    c.call(&editor, "DELETE", &format!("/api/v1/datasets/{did}"), None).expect(200);
    c.call(&editor, "DELETE", &format!("/api/v1/reporting-orgs/{oid}/tools/{tid}"), None).expect(200);
    c.call(&machine, "GET", &format!("/api/v1/reporting-orgs/{oid}"), None).expect(404);
    c.call(&superadmin, "DELETE", &format!("/api/v1/tools/{tid}/admins/{}", tool_admin.uid), None).expect(200);
    c.call(&superadmin, "DELETE", &format!("/api/v1/tools/{tid}"), None).expect(200);
    c.call(&editor, "DELETE", &format!("/api/v1/users/{}/reporting-org/{oid}", editor.uid), None).expect(200);
    c.call(&editor, "DELETE", &format!("/api/v1/reporting-orgs/{oid}"), None).expect(404);
    c.call(&admin, "DELETE", &format!("/api/v1/reporting-orgs/{oid}"), None).expect(200);

    // The per-request path never opened the key-value store (the JWKS is pinned).
    if let Some(stats) = host.stats() {
        assert_eq!(stats.get(&stats.kv_opens), 0);
        assert_eq!(stats.get(&stats.traps), 0);
    }
}

#[test]
fn the_token_cache_serves_repeat_tokens_and_revocation_marks_apply_at_once() {
    let data = data_dir("cache");
    let host = serve!(&data, test_env(&[]));
    let c = Client::new(&host);
    let ann = Who::user(11, "Ann");
    let token = ann.token();
    for _ in 0..3 {
        c.send("GET", "/api/v1/access-check", Some(&token), &[], None).expect(200);
    }
    let db = host.sql_int("SELECT count(*) FROM token_cache");
    assert_eq!(db, 1, "one verified token, cached once");
    // A token one character different is a different key, verified in full and refused.
    let mut other: Vec<char> = token.chars().collect();
    let i = other.len() - 10;
    other[i] = if other[i] == 'A' { 'B' } else { 'A' };
    let other: String = other.into_iter().collect();
    c.send("GET", "/api/v1/access-check", Some(&other), &[], None).expect(401);
    // A revocation after caching refuses the cached token on the next request.
    host.sql_exec(&format!(
        "INSERT INTO revocations (kind, subject, revoked_before) VALUES ('sub', '{}', {})",
        ann.sub,
        now() + 1
    ));
    let r = c.send("GET", "/api/v1/access-check", Some(&token), &[], None);
    r.expect(401);
    assert!(r.header("www-authenticate").unwrap().contains("token revoked"));
}

#[test]
fn a_restart_keeps_the_data() {
    let data = data_dir("restart");
    let ann = Who::user(21, "Ann");
    let oid = {
        let host = serve!(&data, test_env(&[]));
        let c = Client::new(&host);
        let oid = c.call(&ann, "POST", "/api/v1/reporting-orgs", Some(org_body("persisted"))).expect(201)["data"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        host.stop();
        oid
    };
    let host = serve!(&data, test_env(&[]));
    let c = Client::new(&host);
    assert_eq!(
        c.call(&ann, "GET", &format!("/api/v1/reporting-orgs/{oid}"), None).expect(200)["data"]["metadata"]
            ["short_name"],
        "persisted"
    );
    // Without --dev there is no development Identity Service.
    c.send("GET", "/dev-identity/.well-known/openid-configuration", None, &[], None).expect(404);
}

/// A one-route HTTP server on loopback that serves the JWKS and counts requests.
fn jwks_server() -> (String, Arc<AtomicU32>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicU32::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                if line == "\r\n" {
                    break;
                }
                line.clear();
            }
            let body = idp_jwks();
            let mut s = stream;
            let _ = write!(s, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
        }
    });
    (format!("http://{addr}"), hits)
}

#[test]
fn each_component_is_refused_outbound_calls_to_hosts_it_does_not_allow() {
    let (jwks_base, hits) = jwks_server();
    let data = data_dir("outbound-denied");
    // Keys must be fetched, but the allowed host is elsewhere.
    let env = test_env(&[
        ("SPIN_VARIABLE_OIDC_JWKS", ""),
        ("SPIN_VARIABLE_OIDC_JWKS_URI", &format!("{jwks_base}/jwks")),
        ("SPIN_VARIABLE_OIDC_HOST", "https://identity.invalid"),
    ]);
    let host = serve!(&data, env);
    let c = Client::new(&host);
    let ann = Who::user(31, "Ann");
    // One route of each component.
    for path in ["/api/v1/access-check", "/api/v1/datasets/00000000-0000-4000-8000-000000000999", "/api/v1/tools"] {
        let denied = || host.stats().map(|s| s.get(&s.outbound_denied));
        let before = denied();
        let r = c.call(&ann, "GET", path, None);
        r.expect(401);
        // (Real Spin has no counter to read; the JWKS server's own count below holds there too.)
        assert!(denied() > before || before.is_none(), "{path}: the outbound call was not refused by the host");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the JWKS server must never be reached");
    host.stop();

    // Allowed: the same configuration with the host allowed works, and fetches once.
    let data = data_dir("outbound-allowed");
    let env = test_env(&[
        ("SPIN_VARIABLE_OIDC_JWKS", ""),
        ("SPIN_VARIABLE_OIDC_JWKS_URI", &format!("{jwks_base}/jwks")),
        ("SPIN_VARIABLE_OIDC_HOST", &jwks_base),
    ]);
    let host = serve!(&data, env);
    let c = Client::new(&host);
    c.call(&ann, "GET", "/api/v1/access-check", None).expect(200);
    c.call(&Who::user(32, "Bob"), "GET", "/api/v1/access-check", None).expect(200);
    assert_eq!(hits.load(Ordering::SeqCst), 1, "the JWKS is cached in the key-value store");
}

#[test]
fn a_trap_answers_500_and_the_host_keeps_serving() {
    let manifest = root().join("tests/fixtures/hello.toml");
    built(&manifest);
    let mut opts = ryd_host::HostOptions::new(&manifest);
    opts.listen = "127.0.0.1:0".parse().unwrap();
    opts.data_dir = Some(data_dir("trap"));
    opts.env = Some(Default::default());
    let host = Server::host(ryd_host::start(&opts).unwrap());
    let c = Client::new(&host);
    assert_eq!(c.send("GET", "/hello", None, &[], None).text, "hello");
    c.send("GET", "/trap", None, &[], None).expect(500);
    assert_eq!(c.send("GET", "/hello", None, &[], None).text, "hello");
    let stats = host.stats().expect("the host's counters");
    assert_eq!(stats.get(&stats.traps), 1);
}

#[test]
fn two_writers_with_the_same_if_match_one_wins_the_other_gets_412() {
    let data = data_dir("two-writers");
    let host = serve!(&data, test_env(&[]));
    let c = Client::new(&host);
    let ann = Who::user(41, "Ann");
    let oid = c.call(&ann, "POST", "/api/v1/reporting-orgs", Some(org_body("writers"))).expect(201)["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let did = c.call(&ann, "POST", "/api/v1/datasets", Some(dataset_body(&oid, "contested", "private"))).expect(201)
        ["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/datasets/{did}");
    for round in 0..5 {
        let etag = c.call(&ann, "GET", &path, None).header("etag").unwrap().to_string();
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let handles: Vec<_> = (0..2)
            .map(|i| {
                let (base, path, etag, token, barrier) =
                    (c.base.clone(), path.clone(), etag.clone(), ann.token(), barrier.clone());
                std::thread::spawn(move || {
                    let client = Client::at(&base);
                    let body = json!({"human_readable_name": format!("round {round} writer {i}")}).to_string();
                    barrier.wait();
                    let r = client.send("PATCH", &path, Some(&token), &[("if-match", &etag)], Some(&body));
                    (r.status, body)
                })
            })
            .collect();
        let results: Vec<(u16, String)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let mut statuses: Vec<u16> = results.iter().map(|r| r.0).collect();
        statuses.sort();
        assert_eq!(statuses, vec![200, 412], "round {round}");
        let winner = &results.iter().find(|r| r.0 == 200).unwrap().1;
        let now = c.call(&ann, "GET", &path, None).expect(200);
        assert_eq!(
            now["data"]["metadata"]["human_readable_name"],
            serde_json::from_str::<Value>(winner).unwrap()["human_readable_name"],
            "no update lost"
        );
    }
}

#[test]
fn a_revoked_user_is_refused_by_every_component_within_the_same_second() {
    let data = data_dir("revocation");
    let host = serve!(&data, test_env(&[]));
    let c = Client::new(&host);
    let ann = Who::user(51, "Ann");
    let boss = Who::superadmin(52);
    let oid = c.call(&ann, "POST", "/api/v1/reporting-orgs", Some(org_body("revoked"))).expect(201)["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let token = ann.token();
    // One route of each component, warm in the token cache.
    let routes = [
        format!("/api/v1/reporting-orgs/{oid}"),
        format!("/api/v1/reporting-orgs/{oid}/datasets"),
        format!("/api/v1/reporting-orgs/{oid}/users"),
    ];
    for r in &routes {
        c.send("GET", r, Some(&token), &[], None).expect(200);
    }
    let checked = c.send(
        "POST",
        "/api/v1/authz/check",
        Some(&token),
        &[],
        Some(&json!({"checks": [{"authorisation": "delete-org", "object": format!("org/{oid}")}]}).to_string()),
    );
    assert_eq!(checked.expect(200)["results"][0]["allowed"], true);
    let started = std::time::Instant::now();
    c.call(&boss, "PUT", &format!("/api/v1/admin/revocations/users/{}", ann.uid), None).expect(200);
    for r in &routes {
        let a = c.send("GET", r, Some(&token), &[], None);
        a.expect(401);
        assert!(a.header("www-authenticate").unwrap().contains("token revoked"), "{r}");
    }
    c.send("POST", "/api/v1/authz/check", Some(&token), &[], Some(r#"{"checks": []}"#)).expect(401);
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "refused everywhere within the same second");
}

/// The README's commands resolve: `cargo up`'s alias and `cargo run -p ryd-host -- …`
/// reach the CLI (a second binary in the package once broke them).
#[test]
fn the_readme_cli_commands_resolve() {
    let out =
        cargo().args(["run", "--release", "--quiet", "-p", "ryd-host", "--", "help"]).output().expect("cargo runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("Usage: ryd-host <COMMAND>"), "cargo run -p ryd-host did not reach the CLI:\n{text}");
    for command in ["up", "build", "token", "imports", "import", "generate", "deliver"] {
        assert!(text.lines().any(|l| l.trim_start().starts_with(command)), "no `{command}` in:\n{text}");
    }
    // `cargo up` is ryd-up, which checks the prerequisites, then runs the host's
    // `up --build --dev` (infra/up): its checks pass here, through the alias.
    let up = cargo().args(["up", "--check"]).output().expect("cargo runs");
    assert!(up.status.success(), "cargo up --check: {}", String::from_utf8_lossy(&up.stderr));
    let launcher = std::fs::read_to_string(root().join("infra/up/src/main.rs")).unwrap();
    assert!(launcher.contains(r#""run", "--release", "-p", "ryd-host", "--", "up", "--build", "--dev""#));
}

#[test]
fn spin_toml_routes_every_api_route_to_the_component_whose_table_holds_it() {
    // Each component's .wasm holds only its own table (`ryd_api::routes::Component`): a
    // route spin.toml sends elsewhere would answer 404 on Spin.
    let m = ryd_host::manifest::Manifest::load(&app_manifest()).unwrap();
    let router = ryd_host::router::Router::new(m.routes.iter().map(|r| r.route.as_str()));
    let api = ryd_api::routes::all().map(|(component, route)| (component.name, route.method, route.pattern));
    let account = ryd_iati_account::PAGES.iter().map(|page| ("account", page.method, page.pattern));
    for (component, method, pattern) in api.chain(account) {
        let path: String =
            pattern.split('/').map(|s| if s.starts_with('{') { "x" } else { s }).collect::<Vec<_>>().join("/");
        let found = router.route(&path).map(|hit| m.routes[hit.index].component.as_str());
        assert_eq!(found, Some(component), "{method} {pattern}");
    }
}

#[test]
fn the_public_read_components_link_no_signature_code_none_links_ring_nor_the_console() {
    // Each .wasm keeps function names (release strips debug info only): the API components
    // show the RustCrypto verifiers', the CKAN and Dashboard ones must not (shared/spin-adapter's
    // `ckan` and `dashboard` features), and no component compiles C any more (ring is gone: no clang needed).
    let m = built(&app_manifest());
    let has = |id: &str, needle: &str| {
        let bytes = std::fs::read(&m.components[id].source).unwrap();
        bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
    };
    for needle in ["crypto_bigint", "ed25519_dalek", "ryd_authz", "jwt_compact"] {
        assert!(has("reporting-orgs", needle), "the check must see {needle} in a component that verifies tokens");
        for public in ["ckan-compat", "dashboard"] {
            assert!(!has(public, needle), "{public} links {needle}");
        }
    }
    for id in m.components.keys() {
        assert!(!has(id, "ring_core_"), "{id} links ring");
    }
    // IATI Account (its sign-in, its pages and their HTML, the browser side's rules) is linked
    // only by the account component: the API's crate does not depend on it. The CKAN API's
    // validate_cookie reads the session cookie with the browser side's rules, nothing more.
    let api = ["reporting-orgs", "datasets", "users", "authz", "dashboard"];
    let everywhere_else: Vec<&str> = api.iter().copied().chain(["ckan-compat"]).collect();
    for (needle, not_in) in
        [("ryd_iati_account", &everywhere_else[..]), ("ryd_console", &everywhere_else[..]), ("ryd_account", &api[..])]
    {
        assert!(has("account", needle), "the check must see {needle} in the account component");
        for id in not_in {
            assert!(!has(id, needle), "{id} links IATI Account ({needle})");
        }
    }
}
