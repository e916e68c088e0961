// The report is printed.
#![allow(clippy::print_stdout)]
//! What a run prints beyond its table: scenarios compared round by round
//! ([`interleaved`]), and the issues' targets, met or missed ([`targets`]).

use crate::backend::Backend;
use crate::load::{run, Measured, Scenario};
use anyhow::Result;
use std::time::Duration;

pub const ORG_SHOW: &str = "CKAN organization_show";
pub const DASHBOARD_READS: [&str; 2] = ["Dashboard org list, page of 50", "Dashboard org by short name"];
/// Rounds of [`interleaved`]: each a pair, in alternating order (AB BA AB ...).
pub const ROUNDS: usize = 8;

/// Two scenarios compared round by round: each round's ratio, sorted.
pub struct Paired {
    /// Requests/s, ours over theirs (above 1: ours is faster).
    pub speed: Vec<f64>,
    /// The server's CPU per request, ours over theirs (below 1: ours costs less).
    pub cost: Vec<f64>,
}

/// `ours` against `theirs` on `b` in [`ROUNDS`] rounds of `n` requests each, the two in
/// alternating order so that a drift of the machine's speed falls on both alike.
pub fn interleaved(b: &Backend, ours: &Scenario, theirs: &Scenario, conc: usize, n: usize) -> Result<Paired> {
    let measure = |s: &Scenario| -> Result<(f64, f64)> {
        let before = (b.cpu)()?;
        let m = run(b.app, s, conc, n)?;
        Ok((m.rps, per_request((b.cpu)()?.saturating_sub(before), n)))
    };
    let (mut speed, mut cost) = (Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS));
    for round in 0..ROUNDS {
        let (o, t) = if round % 2 == 0 {
            let o = measure(ours)?;
            (o, measure(theirs)?)
        } else {
            let t = measure(theirs)?;
            (measure(ours)?, t)
        };
        speed.push(o.0 / t.0);
        cost.push(o.1 / t.1);
    }
    speed.sort_by(f64::total_cmp);
    cost.sort_by(f64::total_cmp);
    Ok(Paired { speed, cost })
}

/// Microseconds of `cpu` per request of `n`. (CPU readings are taken with
/// `saturating_sub`: a process of Spin's group that ends between two readings takes its
/// time with it, and `Duration` subtraction would panic.)
pub fn per_request(cpu: Duration, n: usize) -> f64 {
    cpu.as_secs_f64() * 1e6 / n.max(1) as f64
}

pub fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// One scenario at one concurrency on one server, with its share of that server's floor.
pub struct Cell {
    pub m: Measured,
    pub share: f64,
}

/// The targets, met or missed, on every server measured.
pub fn targets(results: &[(String, usize, Vec<Cell>)], paired: &[(String, usize, Vec<Paired>)], labels: &[&str]) {
    let find = |name: &str, conc: usize| results.iter().find(|(n, c, _)| n == name && *c == conc).map(|(_, _, m)| m);
    println!("\ntargets:");
    type Verdict = Box<dyn Fn(&Cell) -> (bool, String)>;
    type Check = (String, Verdict);
    let share =
        |min: f64| -> Verdict { Box::new(move |c| (c.share >= min, format!("{:.0}% of floor", 100.0 * c.share))) };
    let p99 = |max: f64| -> Verdict { Box::new(move |c| (c.m.p99 < max, format!("p99 {:.2} ms", c.m.p99))) };
    let mut checks: Vec<(&str, usize, Check)> = vec![
        ("GET org, token reused", 1, ("≥ 60% of floor".into(), share(0.60))),
        ("GET org, token reused", 16, ("≥ 60% of floor".into(), share(0.60))),
        ("GET org, token reused", 1, ("p99 < 3 ms".into(), p99(3.0))),
        ("GET org, token reused", 16, ("p99 < 25 ms".into(), p99(25.0))),
        ("GET org, 1 in 10 new token", 16, ("≥ 40% of floor".into(), share(0.40))),
        ("GET org, 1 in 10 new token", 16, ("p99 < 50 ms".into(), p99(50.0))),
        ("GET org, new token each", 16, ("p99 < 100 ms".into(), p99(100.0))),
    ];
    for ckan in ["CKAN package_show", "CKAN package_list limit 1000", ORG_SHOW, "CKAN organization_list all, 25"] {
        checks.push((ckan, 16, ("≥ 50% of floor".into(), share(0.50))));
    }
    // Issue 28: the cached-token read and CKAN's record reads at half the floor of their own
    // server (on sqld, a floor over sqld) at concurrency 1 too.
    for read in ["GET org, token reused", "CKAN package_show", ORG_SHOW] {
        checks.push((read, 1, ("≥ 50% of floor".into(), share(0.50))));
    }
    checks.push(("GET org, token reused", 16, ("≥ 50% of floor".into(), share(0.50))));
    for (name, _, _) in results.iter().filter(|(_, c, _)| *c == 1) {
        // A first read writes the page it rendered: a write, not a read.
        let read = !name.contains("new token")
            && !name.starts_with("PATCH")
            && !name.starts_with("hello")
            && !name.ends_with("first read");
        if read && !name.starts_with("floor") {
            checks.push((name.as_str(), 1, ("p99 < 3 ms (no stall)".into(), p99(3.0))));
        }
    }
    // The Dashboard's reads at least as fast as CKAN's organization_show (issue 16): the
    // median of the interleaved rounds, with their range.
    let range = |r: &[f64]| {
        let (lo, hi) = (r.first().copied().unwrap_or(f64::NAN), r.last().copied().unwrap_or(f64::NAN));
        format!("{:.2}×, rounds {lo:.2}–{hi:.2}", median(r))
    };
    for (dashboard, conc, pairs) in paired {
        let verdicts: Vec<String> = pairs
            .iter()
            .zip(labels)
            .map(|(p, l)| {
                let met = median(&p.speed) >= 0.95;
                format!("{l}: {} ({}; cpu {})", if met { "met" } else { "MISSED" }, range(&p.speed), range(&p.cost))
            })
            .collect();
        println!("  {dashboard:<32} c={conc:<3} {:<22} {}", "≥ org_show (5% noise)", verdicts.join("   "));
    }
    for (name, conc, (what, check)) in &checks {
        let Some(ms) = find(name, *conc) else { continue };
        let verdicts: Vec<String> = ms
            .iter()
            .zip(labels)
            .map(|(m, l)| {
                let (ok, got) = check(m);
                format!("{l}: {} ({got})", if ok { "met" } else { "MISSED" })
            })
            .collect();
        println!("  {name:<32} c={conc:<3} {what:<22} {}", verdicts.join("   "));
    }
}

/// A public read through a server's shared cache, beside the same read direct.
pub struct Through {
    /// The server.
    pub label: &'static str,
    /// Requests/s direct.
    pub direct: f64,
    /// p99 direct (ms).
    pub p99: f64,
    /// Through the cache.
    pub cached: Measured,
}

/// The public reads through the cache beside the same reads direct, and the issue's
/// target: through the cache at concurrency 16 at least 5× the same read direct on sqld.
pub fn through_cache(cached: &[(String, usize, Vec<Through>)], max_age: u64) {
    if cached.is_empty() {
        return;
    }
    println!(
        "\nPublic reads through Varnish (infra/deploy/varnish) in front of each server, beside the same reads direct \
         (max-age {max_age} s; requests/s, p99 ms, cached ÷ direct):"
    );
    for (name, conc, through) in cached {
        let cells: Vec<String> = through
            .iter()
            .map(|t| {
                format!(
                    "{}: {:>6.0} → {:>6.0} r/s, p99 {:>6.2} → {:>5.2} ({:>5.1}×)",
                    t.label,
                    t.direct,
                    t.cached.rps,
                    t.p99,
                    t.cached.p99,
                    t.cached.rps / t.direct
                )
            })
            .collect();
        println!("{name:<32} {conc:>4} | {}", cells.join(" | "));
    }
    println!("\ntargets (through the cache):");
    for (name, conc, through) in cached.iter().filter(|(_, c, _)| *c == 16) {
        for t in through.iter().filter(|t| t.label == "sqld") {
            let ratio = t.cached.rps / t.direct;
            let verdict = if ratio >= 5.0 { "met" } else { "MISSED" };
            println!("  {name:<32} c={conc:<3} {:<22} sqld: {verdict} ({ratio:.1}×)", "cached ≥ 5× direct");
        }
    }
}
