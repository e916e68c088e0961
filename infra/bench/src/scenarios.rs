//! The scenarios: what each kind of request is ([`Case`]), the list of them ([`cases`]),
//! the application's objects they use ([`fixture`]), and a case on one server
//! ([`scenario`]).

use crate::backend::Backend;
use crate::load::{Conn, Scenario};
use crate::registry::Registry;
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The token a case presents on its `i`th request (`None`: no token).
pub type TokenFor = Arc<dyn Fn(u64) -> Option<String> + Send + Sync>;

/// Mints a token for (subject, roles, a number making its `jti` unique).
pub type Mint = Arc<dyn Fn(&str, &[&str], u64) -> String + Send + Sync>;

/// What one kind of request is, before it knows its server.
pub struct Case {
    /// What the report calls it.
    pub name: &'static str,
    /// Sent to the baselines' server (hello-world, the floor), not the application's.
    pub on_base: bool,
    /// The request's method.
    pub method: &'static str,
    /// The request's path (`{n}` is replaced by the request's number).
    pub path: String,
    /// The request's body, if any.
    pub body: Option<String>,
    /// The token of each request.
    pub token: TokenFor,
    /// More request headers.
    pub headers: Vec<(String, String)>,
    /// The status every answer must have.
    pub status: u16,
    /// Share of `--requests` (slow pages are slow by nature).
    pub share: f64,
    /// A public read a shared cache may keep: measured through Varnish too.
    pub cacheable: bool,
}

/// A case on one server.
pub fn scenario(case: &Case, b: &Backend) -> Scenario {
    Scenario {
        name: case.name,
        method: case.method,
        path: case.path.clone(),
        body: case.body.clone(),
        token: case.token.clone(),
        headers: case.headers.clone(),
        expect: case.status,
        count_unavailable: b.label == "sqld",
    }
}

/// The application's objects the scenarios use.
pub struct Fixture {
    /// The admin's organisation.
    pub oid: String,
    /// Its private dataset.
    pub did: String,
    /// A gateway's validate_api_key body for the admin's API key.
    pub validate_body: String,
    /// An authz/check body of 100 items.
    pub checks_body: String,
}

/// The tokens the cases present: one reused per caller, and new ones minted on demand.
pub struct Tokens {
    /// The admin's user id.
    pub admin_id: &'static str,
    /// The admin's token, reused.
    pub admin: String,
    /// A superadmin's token, reused.
    pub superadmin: String,
    /// Mints new tokens.
    pub mint: Mint,
}

/// Every scenario, in the report's order, for one server's fixture. `first_jti` starts the
/// numbers of the tokens minted fresh (each server its own range).
pub fn cases(fx: &Fixture, registry: &Registry, tokens: &Tokens, first_jti: u64) -> Vec<Case> {
    let fixed = |t: &str| -> TokenFor {
        let t = t.to_string();
        Arc::new(move |_| Some(t.clone()))
    };
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(first_jti));
    // One request in `every` carries a token never seen before; the rest reuse one.
    let fresh = |every: u64| -> TokenFor {
        let (mint, counter, reused, admin_id) =
            (tokens.mint.clone(), counter.clone(), tokens.admin.clone(), tokens.admin_id);
        Arc::new(move |i| {
            if i % every == 0 {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Some(mint(admin_id, &["iati_register_your_data"], n))
            } else {
                Some(reused.clone())
            }
        })
    };
    let none: TokenFor = Arc::new(|_| None);
    let c = |name, on_base, method, path: String, token: &TokenFor| Case {
        name,
        on_base,
        method,
        path,
        body: None,
        token: token.clone(),
        headers: Vec::new(),
        status: 200,
        share: 1.0,
        cacheable: false,
    };
    // A public read, measured through the cache as well.
    let public = |case: Case| Case { cacheable: true, ..case };
    let (admin, superadmin) = (fixed(&tokens.admin), fixed(&tokens.superadmin));
    let cookie = vec![("cookie".to_string(), registry.session_cookie.clone())];
    let org_path = format!("/api/v1/reporting-orgs/{}", fx.oid);
    let (dataset_name, org_name) = (&registry.dataset_name, &registry.org_name);
    vec![
        c("hello-world", true, "GET", "/hello".into(), &none),
        c("floor: one SELECT", true, "GET", "/select".into(), &none),
        c("GET /health", false, "GET", "/health".into(), &none),
        Case { status: 401, ..c("GET org, no token (401)", false, "GET", org_path.clone(), &none) },
        c("GET org, token reused", false, "GET", org_path.clone(), &admin),
        c("GET org, 1 in 10 new token", false, "GET", org_path.clone(), &fresh(10)),
        Case { share: 0.5, ..c("GET org, new token each", false, "GET", org_path.clone(), &fresh(1)) },
        Case {
            body: Some(r#"{"human_readable_name":"Renamed"}"#.into()),
            ..c("PATCH dataset", false, "PATCH", format!("/api/v1/datasets/{}", fx.did), &admin)
        },
        Case {
            share: 0.1,
            ..c("GET 500 orgs (superadmin)", false, "GET", "/api/v1/reporting-orgs?page_size=500".into(), &superadmin)
        },
        Case {
            body: Some(fx.validate_body.clone()),
            ..c("validate_api_key (gateway)", false, "POST", "/api/3/action/validate_api_key".into(), &superadmin)
        },
        Case {
            body: Some(fx.checks_body.clone()),
            ..c("authz/check, 100 items", false, "POST", "/api/v1/authz/check".into(), &admin)
        },
        Case {
            headers: cookie.clone(),
            ..c("validate_cookie (gateway)", false, "GET", "/api/3/action/validate_cookie".into(), &none)
        },
        Case { headers: cookie, ..c("IATI Account page (my organisations)", false, "GET", "/account".into(), &none) },
        public(c("CKAN package_show", false, "GET", format!("/api/3/action/package_show?id={dataset_name}"), &none)),
        public(Case {
            share: 0.25,
            ..c("CKAN package_list limit 1000", false, "GET", "/api/3/action/package_list?limit=1000".into(), &none)
        }),
        public(c(
            "CKAN organization_show",
            false,
            "GET",
            format!("/api/3/action/organization_show?id={org_name}"),
            &none,
        )),
        public(c("Dashboard org list, page of 50", false, "GET", "/api/reporting-orgs/".into(), &none)),
        // Each request a page not rendered yet, as the first read of a page after a
        // change: rendering it and keeping it (another `format` is another page).
        c("Dashboard org list, first read", false, "GET", "/api/reporting-orgs/?format={n}".into(), &none),
        public(c("Dashboard org by short name", false, "GET", format!("/api/reporting-orgs/{org_name}/"), &none)),
        public(c("Dashboard dataset list, page 50", false, "GET", "/api/datasets/?page=50".into(), &none)),
        public(c(
            "CKAN organization_list all, 25",
            false,
            "GET",
            "/api/3/action/organization_list?all_fields=true&limit=25".into(),
            &none,
        )),
        public(Case {
            share: 0.25,
            ..c("CKAN package_search q=water", false, "GET", "/api/3/action/package_search?q=water".into(), &none)
        }),
    ]
}

/// An admin with an organisation and a dataset, an API key and a usage-plan group, and a
/// front end's page: 96 datasets in 4 organisations.
pub fn fixture(addr: SocketAddr, admin_token: &str, super_token: &str, cookie: &str) -> Result<Fixture> {
    let mut c = Conn::open(addr)?;
    // validate_cookie is measured signed in, not on the shorter signed-out path.
    let a = c.send_with("GET", "/api/3/action/validate_cookie", None, &[("cookie", cookie)], None)?;
    let answer: Value = serde_json::from_slice(&a.body)?;
    anyhow::ensure!(answer["result"]["logged_in"] == true, "validate_cookie is not signed in: {answer}");
    // So is the console's page, which lists the user's organisation.
    let page = c.send_with("GET", "/account", None, &[("cookie", cookie)], None)?;
    let html = String::from_utf8_lossy(&page.body);
    anyhow::ensure!(
        page.status == 200 && html.contains("Signed in as") && html.contains("<td>admin</td>"),
        "the console page is not signed in: {html}"
    );
    let mut post = |path: &str, token: &str, body: Value| -> Result<Value> {
        let a = c.send("POST", path, Some(token), Some(&body.to_string()))?;
        anyhow::ensure!(a.status < 300, "setup POST {path}: {} {}", a.status, String::from_utf8_lossy(&a.body));
        Ok(serde_json::from_slice(&a.body)?)
    };
    let org = post(
        "/api/v1/reporting-orgs",
        admin_token,
        json!({"short_name": "bench", "human_readable_name": "Bench", "contact_email": "b@example.org"}),
    )?;
    let oid = org["data"]["id"].as_str().context("an organisation")?.to_string();
    let ds = post(
        "/api/v1/datasets",
        admin_token,
        json!({"owner_organisation_id": oid, "short_name": "bench-ds",
        "human_readable_name": "B", "url": "https://x.org/a.xml", "source_type": "primary_source", "visibility": "private"}),
    )?;
    let did = ds["data"]["id"].as_str().context("a dataset")?.to_string();
    let key = post("/api/v1/api-keys", admin_token, json!({"name": "bench gateway app"}))?;
    let api_key = key["data"]["api_key"].as_str().context("an API key")?.to_string();
    post("/api/v1/groups", super_token, json!({"name": "api-bronze-users"}))?;
    let mut orgs = vec![oid.clone()];
    for i in 1..4 {
        let body = json!({"short_name": format!("bench-{i}"), "human_readable_name": format!("Bench {i}"), "contact_email": "b@example.org"});
        let org = post("/api/v1/reporting-orgs", admin_token, body)?;
        orgs.push(org["data"]["id"].as_str().context("an organisation")?.to_string());
    }
    for i in 0..96 {
        let body = json!({"owner_organisation_id": orgs[i % 4], "short_name": format!("page-{i}"), "human_readable_name": "P",
            "url": "https://x.org/p.xml", "source_type": "primary_source", "visibility": "public"});
        post("/api/v1/datasets", admin_token, body)?;
    }
    let checks: Vec<Value> = (0..100)
        .map(|i| {
            let auth = ["read-dataset", "update-dataset", "delete-dataset", "update-dataset-visibility"][i % 4];
            match i {
                0..96 => json!({"authorisation": auth, "object": format!("dataset/page-{i}")}),
                _ => json!({"authorisation": "update-org", "object": format!("org/{}", orgs[i - 96])}),
            }
        })
        .collect();
    Ok(Fixture {
        oid,
        did,
        validate_body: json!({"api_key": api_key, "api_id": "bench-ds"}).to_string(),
        checks_body: json!({ "checks": checks }).to_string(),
    })
}

/// How long after a write's answer a public read through the cache shows it, at worst: the
/// write lands just after the cache fetched the read (its `Age` 0), then `package_show` is
/// asked through `cache` every 20 ms until it shows the change (a public dataset's URL,
/// changed through the API; `token`: a superadmin's).
pub fn staleness(app: SocketAddr, cache: SocketAddr, dataset: &str, token: &str, within: Duration) -> Result<Duration> {
    let show = format!("/api/3/action/package_show?id={dataset}");
    let url_of = |a: &crate::load::Answer| -> Result<(String, String)> {
        let v: Value = serde_json::from_slice(&a.body)?;
        let id = v["result"]["id"].as_str().context("package_show's id")?.to_string();
        let url = v["result"]["resources"][0]["url"].as_str().context("package_show's resource url")?.to_string();
        Ok((id, url))
    };
    let mut direct = Conn::open(app)?;
    let (id, before) = url_of(&direct.send("GET", &show, None, None)?)?;
    let mut via = Conn::open(cache)?;
    // Wait for the cache to fetch the answer afresh, so the write comes at the start of its
    // freshness.
    let fetched = Instant::now();
    loop {
        let a = via.send("GET", &show, None, None)?;
        anyhow::ensure!(url_of(&a)?.1 == before, "the cache answers another URL");
        if a.age == Some(0) {
            break;
        }
        anyhow::ensure!(fetched.elapsed() < within, "the cache never fetched {show} afresh");
        std::thread::sleep(Duration::from_millis(5));
    }
    let after = format!("{before}?changed={}", std::process::id());
    let body = json!({ "url": after }).to_string();
    let patched = direct.send("PATCH", &format!("/api/v1/datasets/{id}"), Some(token), Some(&body))?;
    anyhow::ensure!(patched.status == 200, "PATCH: {} {}", patched.status, String::from_utf8_lossy(&patched.body));
    let written = Instant::now();
    while written.elapsed() < within {
        if url_of(&via.send("GET", &show, None, None)?)?.1 == after {
            return Ok(written.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    anyhow::bail!("the change did not show through the cache within {within:?}")
}
