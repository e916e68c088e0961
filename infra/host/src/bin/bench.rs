//! The benchmark: the application and a hello-world component on the same host, in the
//! same run, loaded over loopback at concurrency 1, 16 and 64. Prints requests per second,
//! p50/p99 latency and each scenario's ratio to hello-world (these machines are noisy:
//! ratios carry over, absolute numbers do not), plus the token check's cost measured inside
//! the component (its `Server-Timing: auth` header).
//!
//! The authorisation service's two hot calls are here too: a gateway's `validate_api_key`
//! and a front end's 100-item `authz/check` (target: p99 under 5 ms at concurrency 1).
//!
//! `cargo run --release -p ryd-host --bin bench [-- --requests N] [--journal wal|delete] [--sqlite-memstatus on|off] [--only TEXT]`
//!
//! Per scenario it also prints, from the host's own counters, what one request cost on
//! average: instantiation, time inside SQLite host calls (opening the connection and
//! closing it included) and how many statements, and the whole handler (`guest µs`).
//! `--only a,b` keeps the scenarios whose name contains a or b, and hello-world.

use anyhow::{Context, Result};
use ryd_authz::{jwks_document, SigningKey};
use ryd_host::load::{run, Conn, Scenario};
use ryd_host::{build, manifest::Manifest, start, HostOptions, RunningHost};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const ISS: &str = "https://bench-identity.localhost";
const AUD: &str = "https://registry.iatistandard.org/api/v1";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let total: usize = arg("--requests").and_then(|n| n.parse().ok()).unwrap_or(2000);
    // The journal mode to measure under (the migration sets WAL): `wal` or `delete`.
    let journal = arg("--journal").unwrap_or_else(|| "wal".into());
    // SQLite's memory statistics (on by default, as in Spin's build) take one process-wide
    // mutex on every allocation; `--sqlite-memstatus off` shows what that costs.
    let memstatus = arg("--sqlite-memstatus").unwrap_or_else(|| "on".into());
    if memstatus == "off" {
        ryd_host::disable_sqlite_memstatus()?;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize()?;
    let app_manifest = root.join("spin.toml");
    let hello_manifest = root.join("tests/fixtures/hello.toml");
    build::build(&Manifest::load(&app_manifest)?)?;
    build::build(&Manifest::load(&hello_manifest)?)?;

    let key = SigningKey::generate("RS256")?;
    let jwks = jwks_document(&[("bench", &key)]).to_string();
    let data = root.join("target/bench-data");
    let _ = std::fs::remove_dir_all(&data);
    let start_host = |manifest: &Path, dir: &str| -> Result<RunningHost> {
        let mut o = HostOptions::new(manifest);
        o.listen = "127.0.0.1:0".parse()?;
        o.data_dir = Some(data.join(dir));
        o.env = Some(
            [
                ("SPIN_VARIABLE_OIDC_ISSUER", ISS),
                ("SPIN_VARIABLE_OIDC_AUDIENCE", AUD),
                ("SPIN_VARIABLE_OIDC_JWKS", jwks.as_str()),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        );
        start(&o)
    };
    let app = start_host(&app_manifest, "app")?;
    let hello = start_host(&hello_manifest, "hello")?;

    let key = Arc::new(key);
    let mint = {
        let key = key.clone();
        move |sub: &str, roles: &[&str], jti: u64| -> String {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
            let claims = json!({"iss": ISS, "aud": AUD, "sub": sub, "client_id": "bench", "scope": ryd_authz::every_scope().join(" "),
                                "roles": roles, "iat": now, "exp": now + 3600, "jti": format!("j{jti}"), "name": "Bench"});
            key.sign(Some("bench"), None, &claims).expect("signing")
        }
    };
    // Setup: an admin with an organisation and a dataset; a superadmin; 1,000 organisations.
    let admin_id = "00000000-0000-4000-8000-00000000000a";
    let admin_token = mint(admin_id, &["iati_register_your_data"], 0);
    let super_token = mint("00000000-0000-4000-8000-00000000000b", &["iati_register_your_data", "iati_superadmin"], 0);
    let mut c = Conn::open(app.addr)?;
    let org: Value = serde_json::from_slice(
        &c.send(
            "POST",
            "/api/v1/reporting-orgs",
            Some(&admin_token),
            Some(r#"{"short_name":"bench","human_readable_name":"Bench","contact_email":"b@example.org"}"#),
        )?
        .body,
    )?;
    let oid = org["data"]["id"].as_str().context("an organisation")?.to_string();
    let ds: Value = serde_json::from_slice(
        &c.send("POST", "/api/v1/datasets", Some(&admin_token), Some(&json!({"owner_organisation_id": oid, "short_name": "bench-ds",
            "human_readable_name": "B", "url": "https://x.org/a.xml", "source_type": "primary_source", "visibility": "private"}).to_string()))?.body,
    )?;
    let did = ds["data"]["id"].as_str().context("a dataset")?.to_string();
    // The authorisation service: an API key for the admin, a usage-plan group, a batch.
    let key: Value = serde_json::from_slice(
        &c.send("POST", "/api/v1/api-keys", Some(&admin_token), Some(r#"{"name":"bench gateway app"}"#))?.body,
    )?;
    let api_key = key["data"]["api_key"].as_str().context("an API key")?.to_string();
    c.send("POST", "/api/v1/groups", Some(&super_token), Some(r#"{"name":"api-bronze-users"}"#))?;
    let validate_body = json!({"api_key": api_key, "api_id": "bench-ds"}).to_string();
    // A front end's page: 96 distinct datasets in 4 organisations, and those organisations.
    let mut orgs = vec![oid.clone()];
    for i in 1..4 {
        let body = json!({"short_name": format!("bench-{i}"), "human_readable_name": format!("Bench {i}"), "contact_email": "b@example.org"});
        let org: Value = serde_json::from_slice(
            &c.send("POST", "/api/v1/reporting-orgs", Some(&admin_token), Some(&body.to_string()))?.body,
        )?;
        orgs.push(org["data"]["id"].as_str().context("an organisation")?.to_string());
    }
    for i in 0..96 {
        let body = json!({"owner_organisation_id": orgs[i % 4], "short_name": format!("page-{i}"), "human_readable_name": "P",
            "url": "https://x.org/p.xml", "source_type": "primary_source", "visibility": "public"});
        c.send("POST", "/api/v1/datasets", Some(&admin_token), Some(&body.to_string()))?;
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
    let checks_body = json!({ "checks": checks }).to_string();
    {
        let conn = rusqlite::Connection::open(data.join("app/sqlite_db.db"))?;
        conn.execute_batch("BEGIN")?;
        for i in 0..999 {
            conn.execute(
                "INSERT INTO organisations (id, short_name, human_readable_name, created_date) VALUES (?1, ?2, ?3, '2026-01-01T00:00:00+00:00')",
                (format!("10000000-0000-4000-8000-{i:012}"), format!("org-{i}"), format!("Organisation {i:04}")),
            )?;
        }
        conn.execute_batch("COMMIT")?;
        let mode: String = conn.query_row(&format!("PRAGMA journal_mode = {journal}"), [], |r| r.get(0))?;
        println!("journal mode: {mode}");
    }

    let fixed = |t: String| -> Arc<dyn Fn(u64) -> Option<String> + Send + Sync> { Arc::new(move |_| Some(t.clone())) };
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(1_000_000));
    // `every`: one request in `every` carries a token never seen before; the rest reuse one.
    let fresh = |every: u64| -> Arc<dyn Fn(u64) -> Option<String> + Send + Sync> {
        let (mint, counter, reused) = (mint.clone(), counter.clone(), admin_token.clone());
        Arc::new(move |i| {
            if i % every == 0 {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Some(mint(admin_id, &["iati_register_your_data"], n))
            } else {
                Some(reused.clone())
            }
        })
    };

    let only = arg("--only");
    let scenarios = vec![
        (
            hello.addr,
            Scenario {
                name: "hello-world",
                method: "GET",
                path: "/hello".into(),
                body: None,
                token: Arc::new(|_| None),
            },
        ),
        (
            app.addr,
            Scenario {
                name: "GET /health",
                method: "GET",
                path: "/health".into(),
                body: None,
                token: Arc::new(|_| None),
            },
        ),
        (
            app.addr,
            Scenario {
                name: "GET org, token reused",
                method: "GET",
                path: format!("/api/v1/reporting-orgs/{oid}"),
                body: None,
                token: fixed(admin_token.clone()),
            },
        ),
        (
            app.addr,
            Scenario {
                name: "GET org, 1 in 10 new token",
                method: "GET",
                path: format!("/api/v1/reporting-orgs/{oid}"),
                body: None,
                token: fresh(10),
            },
        ),
        (
            app.addr,
            Scenario {
                name: "GET org, new token each",
                method: "GET",
                path: format!("/api/v1/reporting-orgs/{oid}"),
                body: None,
                token: fresh(1),
            },
        ),
        (
            app.addr,
            Scenario {
                name: "PATCH dataset",
                method: "PATCH",
                path: format!("/api/v1/datasets/{did}"),
                body: Some(r#"{"human_readable_name":"Renamed"}"#.into()),
                token: fixed(admin_token.clone()),
            },
        ),
        (
            app.addr,
            Scenario {
                name: "GET 500 of 1,000 orgs (superadmin)",
                method: "GET",
                path: "/api/v1/reporting-orgs?page_size=500".into(),
                body: None,
                token: fixed(super_token.clone()),
            },
        ),
        (
            app.addr,
            Scenario {
                name: "validate_api_key (gateway)",
                method: "POST",
                path: "/api/3/action/validate_api_key".into(),
                body: Some(validate_body),
                token: fixed(super_token.clone()),
            },
        ),
        (
            app.addr,
            Scenario {
                name: "authz/check, 100 items",
                method: "POST",
                path: "/api/v1/authz/check".into(),
                body: Some(checks_body),
                token: fixed(admin_token.clone()),
            },
        ),
    ];
    let scenarios: Vec<_> = scenarios
        .into_iter()
        .filter(|(_, s)| {
            s.name == "hello-world" || only.as_deref().is_none_or(|o| o.split(',').any(|x| s.name.contains(x)))
        })
        .collect();
    println!(
        "ryd-host benchmark: {total} requests per cell, keep-alive connections over loopback, {} cores, SQLite memstatus {memstatus}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    println!(
        "{:<36} {:>5} {:>9} {:>8} {:>8} {:>9} {:>8} {:>11} {:>8} {:>8} {:>6} {:>8}",
        "scenario",
        "conc",
        "req/s",
        "p50 ms",
        "p99 ms",
        "÷ hello",
        "auth ms",
        "hit/miss",
        "inst µs",
        "sql µs",
        "stmts",
        "guest µs"
    );
    for concurrency in [1, 16, 64] {
        let mut hello_rps = None;
        for (addr, s) in &scenarios {
            // Big pages are slow by nature: fewer requests keep the run short.
            let n = if s.name.starts_with("GET 500") { total / 10 } else { total };
            let stats = if *addr == app.addr { &app.stats } else { &hello.stats };
            let before = stats.snapshot();
            let r = run(*addr, s, concurrency, n)?;
            let cost = stats.snapshot().per_request_since(&before);
            let base = *hello_rps.get_or_insert(r.rps);
            println!(
                "{:<36} {:>5} {:>9.0} {:>8.2} {:>8.2} {:>8.0}% {:>8} {:>11} {:>8.0} {:>8.0} {:>6.1} {:>8.0}",
                s.name,
                concurrency,
                r.rps,
                r.p50,
                r.p99,
                100.0 * r.rps / base,
                r.auth_ms.map(|a| format!("{a:.3}")).unwrap_or_else(|| "-".into()),
                if r.cache_hits + r.cache_misses > 0 {
                    format!("{}/{}", r.cache_hits, r.cache_misses)
                } else {
                    "-".into()
                },
                cost.instantiate_us,
                cost.sqlite_us,
                cost.statements,
                cost.guest_us
            );
        }
    }
    let st = &app.stats;
    let requests = st.get(&st.requests).max(1);
    println!(
        "\nhost: {} requests, mean instantiation {:.1} µs, key-value opens {}, traps {}",
        requests,
        st.get(&st.instantiate_nanos) as f64 / requests as f64 / 1000.0,
        st.get(&st.kv_opens),
        st.get(&st.traps)
    );
    println!("auth ms: median of the component's own Server-Timing for the token check (cache hit, or full RS256 verification on a miss).");
    println!(
        "hit/miss: answers whose token came from the verified-token cache / was verified in full (the same header)."
    );
    Ok(())
}
