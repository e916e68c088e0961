//! The public reads through a real shared cache: Varnish (Debian's `varnish`) with the
//! configuration `infra/deploy/varnish/` ships, in front of the project's host and, from
//! `tests/spin.rs`, real Spin. Cached answers are the origin's to the byte; a change shows
//! within the freshness the operator sets (`RYD_PUBLIC_MAX_AGE`, here 4 s); an answer to a
//! token or a session cookie is never served from the cache, nor kept in it.

use ryd_e2e::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Seconds a public read stays fresh in these tests (the default is a minute).
const MAX_AGE: u64 = 4;

fn env() -> std::collections::BTreeMap<String, String> {
    test_env(&[("RYD_PUBLIC_MAX_AGE", &MAX_AGE.to_string()), ("RYD_PUBLIC_STALE_WHILE_REVALIDATE", "0")])
}

/// An approved organisation with one public dataset; (organisation id, dataset id).
fn registry(c: &Client) -> (String, String) {
    let admin = Who::user(1, "Admin");
    let oid = c.create_org(&admin, "cached-agency", json!({}));
    c.approve_org(&Who::superadmin(9), &oid, true);
    let did = c.create_dataset(&admin, &oid, "cached-ds", "Before", "public");
    (oid, did)
}

/// A server with the registry, Varnish in front of it, and a client of each.
struct Cached {
    /// The origin, its cache, and their clients (`c` asks the origin, `via` the cache);
    /// both servers live as long as this.
    _host: Server,
    cache: ryd_host::varnish::Varnish,
    c: Client,
    via: Client,
    oid: String,
    did: String,
}

fn cached(name: &str) -> Cached {
    let data = data_dir(name);
    let host = serve!(&data, env());
    let c = Client::new(&host);
    let (oid, did) = registry(&c);
    let cache = varnish(&host, &data);
    let via = Client::at(&cache.url());
    Cached { _host: host, cache, c, via, oid, did }
}

/// Every kind of public read: CKAN's (with and without the locale prefix), the
/// Dashboard's lists and records, the change feed, the licence list.
const PUBLIC_READS: &[&str] = &[
    "/api/3/action/package_show?id=cached-ds",
    "/api/3/action/organization_show?id=cached-agency",
    "/api/3/action/package_search?q=Before",
    "/api/3/action/package_list",
    "/en/api/3/action/organization_list",
    "/api/action/group_show?id=cached-agency",
    "/api/reporting-orgs/",
    "/api/reporting-orgs/cached-agency/",
    "/api/datasets/",
    "/api/datasets/cached-ds/",
    "/api/v1/changes",
    "/api/v1/licences",
    "/api/registry.jsonl",
];

#[test]
fn public_reads_come_from_the_cache_as_the_origin_sent_them() {
    let t = cached("cache-identical");
    let (c, via, cache) = (&t.c, &t.via, &t.cache);
    // Answers name the address they were asked at (CKAN's `help`): ask the origin as the
    // cache's clients ask it.
    let as_cache = cache.url().trim_start_matches("http://").to_string();
    for path in PUBLIC_READS {
        let first = via.send("GET", path, None, &[], None);
        assert_eq!(first.status, 200, "{path}: {}", first.text);
        let cached = via.send("GET", path, None, &[], None);
        assert_eq!(cached.header("x-cache"), Some("HIT"), "{path} was not kept: {:?}", first.headers);
        let direct = c.send("GET", path, None, &[("host", &as_cache)], None);
        assert_eq!(cached.text, direct.text, "{path}: the cached answer differs from the origin's");
        let control = cached.header("cache-control").unwrap_or_default();
        assert!(control.starts_with("public, max-age="), "{path}: {control}");
        assert!(cached.header("etag").is_some(), "{path} has no entity tag");
    }
}

#[test]
fn a_change_shows_through_the_cache_within_its_freshness() {
    let t = cached("cache-fresh");
    let (c, via, did) = (&t.c, &t.via, &t.did);
    let get = |path: &str| via.send("GET", path, None, &[], None).json();
    let ckan = |a: Value| a["result"]["resources"][0]["url"].clone();
    let dashboard = |a: Value| a["source_url"].clone();
    let (ckan_path, dashboard_path) = ("/api/3/action/package_show?id=cached-ds", "/api/datasets/cached-ds/");
    let before = json!("https://data.example.org/cached-ds.xml");
    let after = json!("https://data.example.org/after.xml");
    assert_eq!(ckan(get(ckan_path)), before);
    assert_eq!(dashboard(get(dashboard_path)), before);
    let admin = Who::user(1, "Admin");
    c.call(&admin, "PATCH", &format!("/api/v1/datasets/{did}"), Some(json!({"url": after}))).expect(200);
    let written = Instant::now();
    // Kept: the cache still answers what it has (the change is not yet visible through it).
    assert_eq!(ckan(get(ckan_path)), before, "the cache did not keep package_show");
    assert_eq!(dashboard(get(dashboard_path)), before, "the cache did not keep the Dashboard's record");
    let mut seen = [None, None];
    while seen.iter().any(Option::is_none) {
        assert!(written.elapsed() < Duration::from_secs(MAX_AGE + 3), "the change did not show within max-age + 3 s");
        if seen[0].is_none() && ckan(get(ckan_path)) == after {
            seen[0] = Some(written.elapsed());
        }
        if seen[1].is_none() && dashboard(get(dashboard_path)) == after {
            seen[1] = Some(written.elapsed());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "visible through the cache after {:?} (CKAN) and {:?} (Dashboard), max-age {MAX_AGE} s",
        seen[0], seen[1]
    );
}

#[test]
fn answers_to_a_token_or_a_cookie_never_come_from_the_cache() {
    let t = cached("cache-private");
    let (via, oid) = (&t.via, &t.oid);
    let admin = Who::user(1, "Admin");
    let org = format!("/api/v1/reporting-orgs/{oid}");
    for _ in 0..2 {
        let a = via.call(&admin, "GET", &org, None);
        a.expect(200);
        assert_eq!(a.header("x-cache"), Some("MISS"));
        assert_eq!(a.header("cache-control"), Some("private, no-store"));
    }
    // Nothing of the token's answer was kept for anyone else.
    via.send("GET", &org, None, &[], None).expect(401);
    // A public read asked with a token, or with a cookie, goes to the origin too.
    let ckan = "/api/3/action/package_show?id=cached-ds";
    via.send("GET", ckan, None, &[], None).expect(200);
    assert_eq!(via.send("GET", ckan, None, &[], None).header("x-cache"), Some("HIT"));
    assert_eq!(via.call(&admin, "GET", ckan, None).header("x-cache"), Some("MISS"));
    let cookie = [("cookie", "ryd_session=not-a-session")];
    assert_eq!(via.send("GET", ckan, None, &cookie, None).header("x-cache"), Some("MISS"));
    // validate_cookie is about the browser's session: never kept, even without a cookie.
    for _ in 0..2 {
        let v = via.send("GET", "/api/3/action/validate_cookie", None, &[], None);
        assert_eq!(v.header("x-cache"), Some("MISS"));
        assert_eq!(v.header("cache-control"), Some("no-store"));
    }
}

#[test]
fn a_record_is_conditional_and_unchanged_costs_one_statement() {
    let data = data_dir("cache-conditional");
    let host = serve!(&data, env());
    let c = Client::new(&host);
    let (_, did) = registry(&c);
    for path in [
        "/api/3/action/package_show?id=cached-ds",
        "/api/3/action/organization_show?id=cached-agency",
        "/api/datasets/cached-ds/",
        "/api/reporting-orgs/cached-agency/",
    ] {
        let a = c.send("GET", path, None, &[], None);
        let tag = a.header("etag").unwrap_or_else(|| panic!("{path} has no entity tag")).to_string();
        let before = host.stats().map(|s| s.snapshot().sqlite_statements);
        let again = c.send("GET", path, None, &[("if-none-match", &tag)], None);
        assert_eq!(again.status, 304, "{path}");
        if let (Some(s), Some(before)) = (host.stats(), before) {
            assert_eq!(s.snapshot().sqlite_statements - before, 1, "{path}: a 304 costs one statement");
        }
    }
    // A public change makes every record's tag stale.
    let path = "/api/3/action/package_show?id=cached-ds";
    let tag = c.send("GET", path, None, &[], None).header("etag").map(str::to_string).unwrap_or_default();
    c.call(
        &Who::user(1, "Admin"),
        "PATCH",
        &format!("/api/v1/datasets/{did}"),
        Some(json!({"human_readable_name": "After"})),
    )
    .expect(200);
    let after = c.send("GET", path, None, &[("if-none-match", &tag)], None);
    assert_eq!(after.status, 200);
    assert_eq!(after.json()["result"]["title"], "After");
}
