//! Lists longer than a page: `package_list` answers every name as CKAN 2.11 does (no
//! `limit`, or `limit=0`: all; any `limit`: that many), read page by page as the answer is
//! written, and a failure between pages cuts the answer rather than shortening it.

use ryd_http::{Request, Response};
use ryd_store::native::NativeSql;
use ryd_store::{Rows, Sql, SqlError, Value};
use serde_json::Value as Json;
use std::cell::Cell;

fn registry(datasets: u64) -> NativeSql {
    let db = NativeSql::in_memory();
    ryd_store::migrate(&db).unwrap();
    let dump: Vec<Json> = ryd_ckan::synthetic::registry(40, datasets, 7).collect();
    let recs: Vec<&Json> = dump.iter().collect();
    ryd_ckan::import::import(&db, &recs, &mut Default::default()).unwrap();
    db
}

fn all_names(db: &NativeSql) -> Vec<String> {
    db.execute("SELECT short_name FROM datasets WHERE listed ORDER BY short_name", &[])
        .unwrap()
        .iter()
        .map(|r| r.text(0))
        .collect()
}

fn get(db: &dyn Sql, path: &str) -> Response {
    ryd_ckan::handle(&Request::new("GET", path), db, &|_| {}, &Default::default())
}

fn names(r: &Response) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let body: Json = serde_json::from_slice(&r.body).expect("one JSON document");
    assert_eq!(body["success"], true);
    serde_json::from_value(body["result"].clone()).unwrap()
}

#[test]
fn package_list_answers_every_name_unless_limited() {
    let db = registry(2_600);
    let all = all_names(&db);
    assert!(all.len() > 2_000, "more than two pages: {}", all.len());
    for path in ["/api/3/action/package_list", "/api/action/package_list", "/api/3/action/package_list?limit=0"] {
        assert_eq!(names(&get(&db, path)), all, "{path}");
    }
    assert_eq!(names(&get(&db, "/api/3/action/package_list?limit=1500")), all[..1500]);
    assert_eq!(names(&get(&db, "/api/3/action/package_list?limit=1000")), all[..1000]);
    assert_eq!(names(&get(&db, "/api/3/action/package_list?limit=1001&offset=5")), all[5..1006]);
    assert_eq!(names(&get(&db, "/api/3/action/package_list?offset=1999")), all[1999..]);
    assert_eq!(names(&get(&db, "/api/3/action/package_list?limit=5&offset=3")), all[3..8]);
    assert!(names(&get(&db, &format!("/api/3/action/package_list?offset={}", all.len()))).is_empty());
    // IATI's limited layer keeps its pages of at most 1,000.
    let limited: Json =
        serde_json::from_slice(&get(&db, "/api/limited-ckan-compatible/package_list?limit=5000").body).unwrap();
    assert_eq!(limited["result"].as_array().unwrap().len(), 1000);
    assert_eq!(limited["count"], all.len());
}

#[test]
fn a_long_list_leaves_in_pages_each_one_statement() {
    let db = registry(2_600);
    let all = all_names(&db);
    let counted = Counting { db: &db, statements: Cell::new(0), fail_at: None };
    let a = ryd_ckan::handle_streamed(
        &Request::new("GET", "/api/3/action/package_list"),
        &counted,
        &|_| {},
        &Default::default(),
    );
    let before = counted.statements.get();
    assert!(a.rest.is_some(), "streamed");
    assert!(a.head.header("etag").is_some() && a.head.header("content-length").is_none());
    let parts: Vec<Vec<u8>> = a.rest.unwrap().map(Result::unwrap).collect();
    // One statement per later page of 1,000 names (the last may be short).
    let pages = (all.len() as u64).div_ceil(1000) - 1;
    assert!(
        (pages..=pages + 1).contains(&(counted.statements.get() - before)),
        "{}",
        counted.statements.get() - before
    );
    assert!(parts.len() as u64 >= pages);
}

#[test]
fn a_failure_between_pages_cuts_the_answer() {
    let db = registry(2_600);
    let first = Counting { db: &db, statements: Cell::new(0), fail_at: None };
    let _ = get(&first, "/api/3/action/package_list");
    // Fail the statement reading the second page.
    let failing = Counting { db: &db, statements: Cell::new(0), fail_at: Some(first.statements.get() - 1) };
    let a = ryd_ckan::handle_streamed(
        &Request::new("GET", "/api/3/action/package_list"),
        &failing,
        &|_| {},
        &Default::default(),
    );
    assert_eq!(a.head.status, 200, "the head left before the failure");
    assert!(a.collect().is_err(), "the body does not end as if whole");
    let failing = Counting { db: &db, statements: Cell::new(0), fail_at: Some(first.statements.get() - 1) };
    let held = get(&failing, "/api/3/action/package_list");
    assert_eq!(held.status, 503, "held whole, the failure is an error answer");
    assert_eq!(serde_json::from_slice::<Json>(&held.body).unwrap()["success"], false);
}

/// Counts statements; fails the `fail_at`-th (from 1) when told.
struct Counting<'a> {
    db: &'a NativeSql,
    statements: Cell<u64>,
    fail_at: Option<u64>,
}

impl Sql for Counting<'_> {
    fn execute(&self, statement: &str, params: &[Value]) -> Result<Rows, SqlError> {
        self.statements.set(self.statements.get() + 1);
        if Some(self.statements.get()) == self.fail_at {
            return Err(SqlError::other("the database went away"));
        }
        self.db.execute(statement, params)
    }
}

fn lines(body: &[u8]) -> Vec<Json> {
    std::str::from_utf8(body).unwrap().lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
}

#[test]
fn the_registry_dump_is_every_public_record_as_its_show_action_shapes_it() {
    let db = registry(1_300);
    let r = get(&db, "/api/registry.jsonl");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
    let etag = r.header("etag").unwrap().to_string();
    let lines = lines(&r.body);
    let header = &lines[0];
    assert_eq!(header["type"], "registry_dump");
    let newest = ryd_store::changes::newest(&db).unwrap();
    assert_eq!(header["latest"], ryd_store::changes::cursor(newest));
    let orgs: Vec<&Json> = lines[1..].iter().filter(|l| l["is_organization"] == true).collect();
    let datasets: Vec<&Json> = lines[1..].iter().filter(|l| l["is_organization"] != true).collect();
    assert_eq!(orgs.len() + datasets.len() + 1, lines.len());
    let org_names: Vec<String> = serde_json::from_value(
        serde_json::from_slice::<Json>(&get(&db, "/api/3/action/organization_list").body).unwrap()["result"].clone(),
    )
    .unwrap();
    assert_eq!(orgs.iter().map(|o| o["name"].as_str().unwrap()).collect::<Vec<_>>(), org_names);
    assert_eq!(datasets.iter().map(|d| d["name"].as_str().unwrap().to_string()).collect::<Vec<_>>(), all_names(&db));
    // Each record is its show action's result, field for field.
    for d in datasets.iter().step_by(97) {
        let shown: Json = serde_json::from_slice(
            &get(&db, &format!("/api/3/action/package_show?id={}", d["name"].as_str().unwrap())).body,
        )
        .unwrap();
        assert_eq!(&shown["result"], *d);
    }
    for o in orgs.iter().step_by(7) {
        let shown: Json = serde_json::from_slice(
            &get(&db, &format!("/api/3/action/organization_show?id={}", o["name"].as_str().unwrap())).body,
        )
        .unwrap();
        assert_eq!(&shown["result"], *o);
    }
    // Conditional: an unchanged registry answers 304 after one statement.
    let counted = Counting { db: &db, statements: Cell::new(0), fail_at: None };
    let mut req = Request::new("GET", "/api/registry.jsonl");
    req.headers.push(("if-none-match".into(), etag.clone()));
    let again = ryd_ckan::handle(&req, &counted, &|_| {}, &Default::default());
    assert_eq!((again.status, counted.statements.get()), (304, 1));
    // Compressed as it goes where the client accepts gzip: the same lines.
    let mut req = Request::new("GET", "/api/registry.jsonl");
    req.headers.push(("accept-encoding".into(), "gzip".into()));
    let zipped = ryd_ckan::handle(&req, &db, &|_| {}, &Default::default());
    assert_eq!((zipped.header("content-encoding"), zipped.header("vary")), (Some("gzip"), Some("Accept-Encoding")));
    let zipped_tag = zipped.header("etag").unwrap();
    assert_ne!(zipped_tag, etag, "each coding its own validator");
    req.headers.push(("if-none-match".into(), zipped_tag.to_string()));
    assert_eq!(ryd_ckan::handle(&req, &db, &|_| {}, &Default::default()).status, 304);
    let mut plain = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&zipped.body[..]), &mut plain).unwrap();
    assert_eq!(plain, r.body);
    assert!(zipped.body.len() * 4 < r.body.len(), "{} of {}", zipped.body.len(), r.body.len());
}

#[test]
fn a_dump_loads_into_an_empty_registry_as_the_same_registry() {
    let db = registry(1_300);
    let dump = get(&db, "/api/registry.jsonl");
    let records = lines(&dump.body);
    let copy = NativeSql::in_memory();
    ryd_store::migrate(&copy).unwrap();
    let mut report = Default::default();
    ryd_ckan::import::import(&copy, &records.iter().collect::<Vec<_>>(), &mut report).unwrap();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    for path in ["/api/3/action/package_list", "/api/3/action/organization_list?all_fields=true&limit=1000"] {
        assert_eq!(get(&copy, path).body, get(&db, path).body, "{path}");
    }
    // The copy's own dump holds the same records (its header names its own feed).
    assert_eq!(lines(&get(&copy, "/api/registry.jsonl").body)[1..], records[1..]);
}
