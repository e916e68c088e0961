// What it prints is what it is for.
#![allow(clippy::print_stdout)]
//! The CKAN search benchmark: synthetic registries of 13,000 and 1,300,000 datasets
//! (generated and imported once, reported in rows/s), served by the real `ckan-compat`
//! component in the host, loaded over loopback. Prints `package_search` p50/p99 for text
//! queries, `fq=organization:` queries and deep pages.
//!
//! `cargo run --release -p ryd-bench --bin bench-ckan [-- --sizes 13000,1300000] [--requests N]`

use anyhow::Result;
use ryd_bench::load::{run, Scenario};
use ryd_bench::registry::SizedRun;
use std::sync::Arc;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let requests: usize = arg("--requests").and_then(|n| n.parse().ok()).unwrap_or(400);
    let sized = SizedRun::from_args(&args)?;
    println!("package_search through the host, {requests} requests per cell, keep-alive over loopback");
    println!("{:>9} {:<44} {:>5} {:>8} {:>8} {:>8}", "datasets", "query", "conc", "req/s", "p50 ms", "p99 ms");
    for &size in &sized.sizes {
        let (data, imported) = ryd_bench::registry::sized(&sized.root, size)?;
        print!("{}", imported.unwrap_or_default());
        let host = sized.host(&data)?;
        let deep = (size as i64 - 1000).clamp(0, 12_000);
        let queries = [
            ("q=water", "/api/3/action/package_search?q=water".to_string()),
            ("q=health education", "/api/3/action/package_search?q=health%20education".to_string()),
            (
                "fq=organization:publisher-00007",
                "/api/3/action/package_search?fq=organization:publisher-00007".to_string(),
            ),
            (
                "fq=organization: + extras_filetype:",
                "/api/3/action/package_search?fq=organization:publisher-00003%20AND%20extras_filetype:activity"
                    .to_string(),
            ),
            (
                "deep page start=12000 rows=100",
                format!("/api/3/action/package_search?start={deep}&rows=100&sort=name%20asc"),
            ),
            ("count only rows=1", "/api/3/action/package_search?rows=1".to_string()),
        ];
        for (name, path) in &queries {
            for conc in [1, 16] {
                let s = Scenario {
                    name: "q",
                    method: "GET",
                    path: path.clone(),
                    body: None,
                    token: Arc::new(|_| None),
                    headers: Vec::new(),
                    expect: 200,
                    count_unavailable: false,
                };
                let m = run(host.addr, &s, conc, requests)?;
                println!("{size:>9} {name:<44} {conc:>5} {:>8.0} {:>8.2} {:>8.2}", m.rps, m.p50, m.p99);
            }
        }
        host.stop();
    }
    Ok(())
}
