// What it prints is what it is for.
#![allow(clippy::print_stdout)]
//! The whole registry in one read (`GET /api/registry.jsonl`) against what mirrors do
//! today (`package_search` pages of 1,000 in name order, then `organization_list` with all
//! fields), over synthetic registries of 13,000 and 1,300,000 datasets, on the host and,
//! with `--spin PATH`, on real Spin. One connection, one request at a time: seconds to the
//! last byte, bytes on the wire, and on real Spin the serving process's peak memory before
//! and after the dump (a dump built whole would raise it by its size).
//!
//! ```sh
//! cargo run --release -p ryd-bench --bin bench-dump -- [--sizes 13000,1300000] [--spin ../shared/tools/spin/spin]
//! ```

use anyhow::{Context, Result};
use ryd_bench::load::Conn;
use ryd_bench::registry::SizedRun;
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

/// Re-listing a registry larger than this by `package_search` pages is left out (its deep
/// pages alone take minutes; bench-ckan measures them).
const RELIST_MAX: u64 = 100_000;

fn get(c: &mut Conn, path: &str, headers: &[(&str, &str)]) -> Result<(ryd_bench::load::Answer, f64)> {
    let t = Instant::now();
    let a = c.send_with("GET", path, None, headers, None)?;
    let secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(a.status == 200 || a.status == 304, "GET {path}: {}", a.status);
    Ok((a, secs))
}

/// The mirror's re-list: (requests, bytes, seconds, datasets seen).
fn relist(c: &mut Conn) -> Result<(u64, u64, f64, u64)> {
    let (mut requests, mut bytes, mut secs, mut seen, mut start) = (0, 0, 0.0, 0, 0);
    loop {
        let (a, s) = get(c, &format!("/api/3/action/package_search?rows=1000&start={start}&sort=name+asc"), &[])?;
        let page: serde_json::Value = serde_json::from_slice(&a.body)?;
        let n = page["result"]["results"].as_array().map(Vec::len).unwrap_or(0) as u64;
        (requests, bytes, secs, seen, start) =
            (requests + 1, bytes + a.body.len() as u64, secs + s, seen + n, start + 1000);
        if n < 1000 {
            break;
        }
    }
    let (a, s) = get(c, "/api/3/action/organization_list?all_fields=true", &[])?;
    Ok((requests + 1, bytes + a.body.len() as u64, secs + s, seen))
}

/// Peak resident memory (kB) of `pid` and every process below it.
fn peak_kb(pid: u32) -> u64 {
    let mut total = 0;
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let status = std::fs::read_to_string(format!("/proc/{p}/status")).unwrap_or_default();
        total += status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0);
        for task in std::fs::read_dir(format!("/proc/{p}/task")).into_iter().flatten().flatten() {
            let children = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            todo.extend(children.split_whitespace().filter_map(|c| c.parse::<u32>().ok()));
        }
    }
    total
}

fn measure(addr: SocketAddr, label: &str, size: u64, pid: Option<u32>) -> Result<()> {
    let mut c = Conn::open(addr)?;
    get(&mut c, "/api/3/action/status_show", &[])?;
    let before = pid.map(peak_kb);
    let (zipped, zip_secs) = get(&mut c, "/api/registry.jsonl", &[("accept-encoding", "gzip")])?;
    let after = pid.map(peak_kb);
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&zipped.body[..]).read_to_end(&mut plain).context("the dump decompresses")?;
    let lines = plain.iter().filter(|b| **b == b'\n').count();
    let datasets = plain
        .split(|b| *b == b'\n')
        .skip(1)
        .filter_map(|l| serde_json::from_slice::<serde_json::Value>(l).ok())
        .filter(|v| v["is_organization"] != true)
        .count();
    let uncompressed = plain.len();
    drop(plain);
    let tag = zipped.etag.clone().unwrap_or_default();
    let (again, revalidate_secs) =
        get(&mut c, "/api/registry.jsonl", &[("accept-encoding", "gzip"), ("if-none-match", &tag)])?;
    anyhow::ensure!(again.status == 304, "an unchanged registry's dump answers 304, got {}", again.status);
    println!(
        "{size:>9} {label:<10} dump, gzip: 1 request, {:>11} bytes ({:>11} uncompressed, {lines} lines, {datasets} datasets), {:>8.2} s; 304 in {:.2} ms",
        zipped.body.len(),
        uncompressed,
        zip_secs,
        revalidate_secs * 1e3
    );
    if let (Some(b), Some(a)) = (before, after) {
        println!(
            "{size:>9} {label:<10} serving processes' peak memory: {} MiB before the dump, {} MiB after",
            b / 1024,
            a / 1024
        );
    }
    if size <= RELIST_MAX {
        let (plain_answer, plain_secs) = get(&mut c, "/api/registry.jsonl", &[])?;
        println!(
            "{size:>9} {label:<10} dump, identity: 1 request, {:>11} bytes, {:>8.2} s",
            plain_answer.body.len(),
            plain_secs
        );
        let (requests, bytes, secs, seen) = relist(&mut c)?;
        println!(
            "{size:>9} {label:<10} re-list (package_search ×1,000 + organization_list): {requests} requests, {bytes:>11} bytes, {secs:>8.2} s, {seen} datasets; the gzip dump: {:.0}× fewer bytes, {:.1}× less time",
            bytes as f64 / zipped.body.len().max(1) as f64,
            secs / zip_secs.max(1e-9)
        );
    }
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let spin = arg("--spin").map(PathBuf::from);
    let sized = SizedRun::from_args(&args)?;
    println!("the registry in one read against a mirror's re-list; one connection, one request at a time");
    for &size in &sized.sizes {
        let (data, imported) = ryd_bench::registry::sized(&sized.root, size)?;
        print!("{}", imported.unwrap_or_default());
        let host = sized.host(&data)?;
        measure(host.addr, "host", size, None)?;
        host.stop();
        if let Some(spin) = &spin {
            let env = SizedRun::env();
            let up = ryd_host::real_spin::up(spin, &sized.manifest, &data, env.iter().map(|(k, v)| (k, v)), &[])?;
            measure(up.addr, "real Spin", size, Some(up.pid()))?;
        }
    }
    Ok(())
}
