// What it prints is what it is for.
#![allow(clippy::print_stdout)]
//! One mirror cycle over the CKAN API's registry (1,600 organisations, 13,000 datasets)
//! with 1% of the datasets changed, two ways: a full re-list (`package_search` pages of
//! 1,000 and `organization_list`, what the bulk data service does today) against the
//! change feed (`/api/v1/changes` and a `package_show` per changed dataset), and an idle
//! cycle (nothing changed: the re-list again against one conditional read of the feed).
//! Bytes transferred (bodies) and server time (the sum of the requests' latencies, one
//! connection, one request at a time), side by side, on the host and, with `--spin PATH`,
//! on real Spin:
//!
//! ```sh
//! cargo run --release -p ryd-bench --bin bench-mirror -- [--spin ../shared/tools/spin/spin]
//! ```

use anyhow::{Context, Result};
use ryd_authz::{jwks_document, SigningKey};
use ryd_bench::load::Conn;
use ryd_host::build;
use ryd_host::manifest::Manifest;
use ryd_host::{start, HostOptions};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

const ISS: &str = "https://bench.example.org";
const AUD: &str = "https://registry.example.org/api/v1";
const DATASETS: u64 = 13_000;

/// What a cycle cost: requests, body bytes, and the requests' latencies added up.
#[derive(Default)]
struct Cost {
    requests: u64,
    bytes: u64,
    seconds: f64,
}

struct Client {
    conn: Conn,
    cost: Cost,
}

impl Client {
    fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> Result<ryd_bench::load::Answer> {
        let t = Instant::now();
        let a = self.conn.send_with("GET", path, None, headers, None)?;
        self.cost.seconds += t.elapsed().as_secs_f64();
        self.cost.requests += 1;
        self.cost.bytes += a.body.len() as u64;
        anyhow::ensure!(a.status == 200 || a.status == 304, "GET {path}: {}", a.status);
        Ok(a)
    }

    fn post(&mut self, path: &str, body: &str) -> Result<ryd_bench::load::Answer> {
        let t = Instant::now();
        let a = self.conn.send("POST", path, None, Some(body))?;
        self.cost.seconds += t.elapsed().as_secs_f64();
        self.cost.requests += 1;
        self.cost.bytes += a.body.len() as u64;
        anyhow::ensure!(a.status == 200, "POST {path}: {}", a.status);
        Ok(a)
    }

    fn take(&mut self) -> Cost {
        std::mem::take(&mut self.cost)
    }
}

fn json_of(a: &ryd_bench::load::Answer) -> Value {
    serde_json::from_slice(&a.body).unwrap_or(Value::Null)
}

/// Everything public, as a mirror without the feed lists it.
fn full_relist(c: &mut Client) -> Result<usize> {
    let mut seen = 0;
    let mut start = 0;
    loop {
        let page =
            json_of(&c.get(&format!("/api/3/action/package_search?rows=1000&start={start}&sort=name+asc"), &[])?);
        let n = page["result"]["results"].as_array().map(Vec::len).unwrap_or(0);
        seen += n;
        start += 1000;
        if n < 1000 {
            break;
        }
    }
    c.get("/api/3/action/organization_list?all_fields=true", &[])?;
    Ok(seen)
}

/// The feed from `cursor` to its end, and the datasets it names as created or updated,
/// fetched as CKAN lets a client fetch many (`package_search` with `fq=id:(a OR b …)`, up
/// to 500 a request); the new cursor and how many datasets were fetched.
fn follow(c: &mut Client, cursor: &str) -> Result<(String, usize)> {
    let mut cursor = cursor.to_string();
    let mut fetch = std::collections::BTreeSet::new();
    loop {
        let page = json_of(&c.get(&format!("/api/v1/changes?since={cursor}&limit=1000"), &[])?);
        let data = &page["data"];
        for ch in data["changes"].as_array().context("a feed page")? {
            if ch["kind"] == "dataset" && (ch["change"] == "created" || ch["change"] == "updated") {
                fetch.insert(ch["id"].as_str().unwrap_or_default().to_string());
            }
        }
        cursor = data["next"].as_str().context("a next cursor")?.to_string();
        if data["more"] != true {
            break;
        }
    }
    let ids: Vec<&String> = fetch.iter().collect();
    for chunk in ids.chunks(500) {
        let fq = format!("id:({})", chunk.iter().map(|id| format!("\"{id}\"")).collect::<Vec<_>>().join(" OR "));
        let found = json_of(&c.post("/api/3/action/package_search", &json!({"fq": fq, "rows": 1000}).to_string())?);
        anyhow::ensure!(
            found["result"]["count"] == chunk.len(),
            "every changed dataset found: {}",
            found["result"]["count"]
        );
    }
    Ok((cursor, fetch.len()))
}

fn cycle(addr: SocketAddr, label: &str, key: &SigningKey) -> Result<()> {
    let mut c = Client { conn: Conn::open(addr)?, cost: Cost::default() };
    let listed = full_relist(&mut c)?;
    c.take();
    let latest = json_of(&c.get("/api/v1/changes?limit=1", &[])?)["data"]["latest"].as_str().unwrap_or("").to_string();
    c.take();

    // 1% of the datasets change (a superadmin renames them through the API).
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
    let claims = json!({"iss": ISS, "aud": AUD, "sub": "00000000-0000-4000-8000-00000000000b", "client_id": "bench",
                        "scope": ryd_authz::every_scope().join(" "), "roles": ["iati_register_your_data", "iati_superadmin"],
                        "iat": now, "exp": now + 3600, "name": "Bench"});
    let token = key.sign(Some("bench"), None, &claims)?;
    let page = json_of(&c.get("/api/3/action/package_search?rows=1000&sort=name+asc", &[])?);
    c.take();
    let changed = (DATASETS / 100) as usize;
    let mut writer = Conn::open(addr)?;
    for d in page["result"]["results"].as_array().context("datasets")?.iter().step_by(1000 / changed).take(changed) {
        let path = format!("/api/v1/datasets/{}", d["id"].as_str().unwrap_or_default());
        let a =
            writer.send("PATCH", &path, Some(&token), Some(r#"{"human_readable_name": "Renamed for the mirror"}"#))?;
        anyhow::ensure!(a.status == 200, "PATCH {path}: {}", a.status);
    }

    full_relist(&mut c)?;
    let relist = c.take();
    let (cursor, fetched) = follow(&mut c, &latest)?;
    let feed = c.take();
    // Idle: nothing changed since. The re-list again, against one conditional feed read.
    full_relist(&mut c)?;
    let idle_relist = c.take();
    let tag = c.get(&format!("/api/v1/changes?since={cursor}&limit=1000"), &[])?.etag.unwrap_or_default();
    c.take();
    let a = c.get(&format!("/api/v1/changes?since={cursor}&limit=1000"), &[("if-none-match", &tag)])?;
    anyhow::ensure!(a.status == 304, "an unchanged feed answers 304, got {}", a.status);
    let idle_feed = c.take();

    println!("{label}: {listed} public datasets, {fetched} changed");
    let row = |name: &str, full: &Cost, ours: &Cost| {
        let bytes = match ours.bytes {
            0 => "no body".to_string(),
            n => format!("{:.0}× fewer bytes", full.bytes as f64 / n as f64),
        };
        println!(
            "  {name:<22} re-list {:>4} requests {:>11} bytes {:>8.1} ms | feed {:>4} requests {:>9} bytes {:>7.1} ms | {bytes}, {:.1}× less time",
            full.requests,
            full.bytes,
            full.seconds * 1e3,
            ours.requests,
            ours.bytes,
            ours.seconds * 1e3,
            full.seconds / ours.seconds.max(1e-9)
        );
    };
    row("cycle, 1% changed", &relist, &feed);
    row("cycle, nothing changed", &idle_relist, &idle_feed);
    let (bytes, time) = (relist.bytes as f64 / feed.bytes.max(1) as f64, relist.seconds / feed.seconds.max(1e-9));
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!(
        "  targets (1% changed): ≥ 50× fewer bytes: {} ({bytes:.0}×); ≥ 20× less server time: {} ({time:.1}×)",
        verdict(bytes >= 50.0),
        verdict(time >= 20.0)
    );
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let spin = args.iter().position(|a| a == "--spin").and_then(|i| args.get(i + 1)).map(PathBuf::from);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize()?;
    let manifest = root.join("spin.toml");
    build::build(&Manifest::load(&manifest)?)?;
    let data = root.join("target/bench-mirror");
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data)?;
    let dump = data.join("dump.jsonl");
    {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::fs::File::create(&dump)?);
        for r in ryd_ckan::synthetic::registry(1600, DATASETS, 42) {
            writeln!(out, "{r}")?;
        }
    }
    let template = data.join("template.db");
    ryd_host::import::import_files(&template, &[dump.to_string_lossy().into_owned()])?;
    let prepare = |dir: &Path| -> Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::copy(&template, dir.join("sqlite_db.db"))?;
        Ok(())
    };
    let key = SigningKey::generate("RS256")?;
    let jwks = jwks_document(&[("bench", &key)]).to_string();
    let env: Vec<(String, String)> =
        [("SPIN_VARIABLE_OIDC_ISSUER", ISS), ("SPIN_VARIABLE_OIDC_AUDIENCE", AUD), ("SPIN_VARIABLE_OIDC_JWKS", &jwks)]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    println!("mirror cycle: {DATASETS} datasets, 1% changed; bodies' bytes and the requests' latencies summed (one connection)");
    {
        let dir = data.join("host");
        prepare(&dir)?;
        let mut o = HostOptions::new(&manifest);
        o.listen = "127.0.0.1:0".parse()?;
        o.data_dir = Some(dir);
        o.env = Some(env.iter().cloned().collect());
        let host = start(&o)?;
        cycle(host.addr, "host", &key)?;
    }
    if let Some(spin) = spin {
        let dir = data.join("spin");
        prepare(&dir)?;
        let up = ryd_host::real_spin::up(&spin, &manifest, &dir, env.iter().map(|(k, v)| (k, v)), &[])?;
        cycle(up.addr, "real Spin", &key)?;
    }
    Ok(())
}
