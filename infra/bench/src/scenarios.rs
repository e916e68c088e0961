//! The scenarios: what each kind of request is ([`Case`]), the application's objects they
//! use ([`fixture`]), and a case on one server ([`scenario`]).

use crate::backend::Backend;
use crate::load::{Conn, Scenario};
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;

/// What one kind of request is, before it knows its server.
pub struct Case {
    pub name: &'static str,
    pub on_base: bool,
    pub method: &'static str,
    pub path: String,
    pub body: Option<String>,
    pub token: Arc<dyn Fn(u64) -> Option<String> + Send + Sync>,
    pub headers: Vec<(String, String)>,
    pub status: u16,
    /// Share of `--requests` (slow pages are slow by nature).
    pub share: f64,
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
    pub oid: String,
    pub did: String,
    pub validate_body: String,
    pub checks_body: String,
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
