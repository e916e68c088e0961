//! Every search statement uses an index (`EXPLAIN QUERY PLAN` on a populated, analysed
//! registry), and unfiltered pages never sort the whole table.

use ryd_store::native::NativeSql;
use ryd_store::public::{search_statements, Filter, Sort};
use ryd_store::Sql;

fn plan(db: &NativeSql, sql: &str, params: &[ryd_store::Value]) -> Vec<String> {
    db.execute(&format!("EXPLAIN QUERY PLAN {sql}"), params).unwrap().iter().map(|r| r.text(3)).collect()
}

#[test]
fn every_search_query_uses_an_index() {
    // Plans depend on statistics: a populated, analysed registry.
    let db = NativeSql::in_memory();
    ryd_store::migrate(&db).unwrap();
    let dump: Vec<serde_json::Value> = ryd_ckan::synthetic::registry(200, 3000, 3).collect();
    let recs: Vec<&serde_json::Value> = dump.iter().collect();
    ryd_ckan::import::import(&db, &recs, &mut Default::default()).unwrap();
    ryd_store::analyse(&db).unwrap();
    let filters = [
        ("everything", Filter::default()),
        ("q", Filter { text: Some("\"water\"*".into()), ..Default::default() }),
        ("organization", Filter { org_names: vec!["aid".into()], ..Default::default() }),
        ("owner_org", Filter { org_ids: vec!["x".into()], ..Default::default() }),
        ("publisher_iati_id", Filter { publisher_iati_ids: vec!["XM".into()], ..Default::default() }),
        ("filetype", Filter { filetypes: vec!["activity".into()], ..Default::default() }),
        ("name", Filter { names: vec!["n".into()], ..Default::default() }),
    ];
    let sorts = [Sort::Score, Sort::NameAsc, Sort::MetadataModifiedDesc, Sort::TitleAsc];
    for (what, f) in &filters {
        for sort in sorts {
            for (sql, params) in search_statements(f, sort) {
                let steps = plan(&db, &sql, &params);
                for step in &steps {
                    // Datasets are always reached through an index. The (small) organisations
                    // table may be the outer loop of an unfiltered search, never of one
                    // that names organisations.
                    let names_orgs = matches!(*what, "organization" | "owner_org" | "publisher_iati_id");
                    let full_scan = !step.contains("INDEX")
                        && (step.starts_with("SCAN d") || (names_orgs && step.starts_with("SCAN o")));
                    assert!(!full_scan, "{what} / {sort:?}: full scan in {steps:#?}\nfor {sql}");
                }
                // Unfiltered pages walk an ordered index and stop at LIMIT: no sort of everything.
                if matches!(*what, "everything" | "filetype") && sql.contains("LIMIT") && sort != Sort::Score {
                    // (The outer query then sorts the page's own rows, at most `rows` of them.)
                    let inner = steps.iter().take_while(|s| !s.starts_with("SCAN page"));
                    assert!(
                        !inner.clone().any(|s| s.contains("TEMP B-TREE")),
                        "{what} / {sort:?}: sorts in {steps:#?}"
                    );
                }
            }
        }
    }
}

/// Records every statement it runs, to explain them afterwards.
struct Recorder<'a> {
    db: &'a NativeSql,
    seen: std::cell::RefCell<Vec<(String, Vec<ryd_store::Value>)>>,
}

impl ryd_store::Sql for Recorder<'_> {
    fn execute(&self, sql: &str, params: &[ryd_store::Value]) -> Result<ryd_store::Rows, ryd_store::SqlError> {
        self.seen.borrow_mut().push((sql.to_string(), params.to_vec()));
        self.db.execute(sql, params)
    }
}

/// What a step of a plan may not do, per kind of request: a point read searches by key
/// and never walks a table or an index; a list walks one ordered index and stops at its
/// limit; nothing scans a table without an index.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Shape {
    /// One dataset or organisation: SEARCH only.
    Point,
    /// A page: ordered walks allowed, no sort of every row.
    Page,
    /// Counts, facets and sorts over every match: index scans allowed, and a scan of the
    /// (small) organisations table, whose every row is the answer or its input (sorting
    /// by package count or first publication date, a substring autocomplete).
    Aggregate,
}

/// A populated, analysed registry (plans depend on statistics).
fn registry() -> NativeSql {
    let db = NativeSql::in_memory();
    ryd_store::migrate(&db).unwrap();
    let dump: Vec<serde_json::Value> = ryd_ckan::synthetic::registry(200, 3000, 3).collect();
    let recs: Vec<&serde_json::Value> = dump.iter().collect();
    ryd_ckan::import::import(&db, &recs, &mut Default::default()).unwrap();
    ryd_store::analyse(&db).unwrap();
    db
}

/// Every statement `run` made reaches datasets and organisations by key: no scan of
/// either (small tables, such as registered tools, may be walked).
fn only_key_searches(db: &NativeSql, what: &str, run: impl FnOnce(&Recorder)) -> Vec<String> {
    let rec = Recorder { db, seen: Default::default() };
    run(&rec);
    let mut failures = Vec::new();
    for (sql, params) in rec.seen.borrow().iter() {
        let steps = plan(db, sql, params);
        let big = ["d", "o", "x", "p", "datasets", "organisations", "dataset_pipeline"];
        let scans_big =
            |s: &&String| s.strip_prefix("SCAN ").is_some_and(|t| big.contains(&t.split(' ').next().unwrap_or("")));
        if let Some(step) = steps.iter().find(scans_big) {
            failures.push(format!("{what}: {step}\nin {steps:#?}\nfor {sql}"));
        }
    }
    failures
}

#[test]
fn the_authorisation_service_and_the_token_path_find_objects_by_key() {
    let db = registry();
    let some = |sql: &str| db.execute(sql, &[]).unwrap().first().map(|r| r.text(0)).unwrap();
    let (d_name, d_id) =
        (some("SELECT short_name FROM datasets LIMIT 1 OFFSET 50"), some("SELECT id FROM datasets LIMIT 1 OFFSET 60"));
    let (o_name, o_id) = (
        some("SELECT short_name FROM organisations LIMIT 1 OFFSET 5"),
        some("SELECT id FROM organisations LIMIT 1 OFFSET 6"),
    );
    use ryd_store::{objects, orgs, tokens};
    let mut failures = Vec::new();
    for key in [&d_name, &d_id] {
        failures.extend(only_key_searches(&db, "objects::dataset", |s| drop(objects::dataset(s, key).unwrap())));
        failures.extend(only_key_searches(&db, "objects::dataset_of_resource", |s| {
            drop(objects::dataset_of_resource(s, key).unwrap())
        }));
    }
    failures.extend(only_key_searches(&db, "objects::dataset_named", |s| {
        drop(objects::dataset_named(s, &d_name).unwrap())
    }));
    for key in [&o_name, &o_id] {
        failures
            .extend(only_key_searches(&db, "objects::organisation", |s| drop(objects::organisation(s, key).unwrap())));
        failures.extend(only_key_searches(&db, "orgs::get_with_standing", |s| {
            drop(orgs::get_with_standing(s, key, "u", Some("c"), false).unwrap())
        }));
    }
    failures.extend(only_key_searches(&db, "objects::deciding_organisations", |s| {
        drop(objects::deciding_organisations(s, &[&o_name, &o_id], &[&d_name, &d_id, "nothing"]).unwrap())
    }));
    failures.extend(only_key_searches(&db, "tokens::lookup", |s| drop(tokens::lookup(s, b"hash", 0).unwrap())));
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_statement_of_every_ckan_action_uses_an_index() {
    let db = registry();
    let some = |sql: &str| db.execute(sql, &[]).unwrap().first().map(|r| r.text(0)).unwrap();
    let dataset = some("SELECT short_name FROM datasets WHERE listed LIMIT 1 OFFSET 100");
    let dataset_id = some("SELECT id FROM datasets WHERE listed LIMIT 1 OFFSET 200");
    let org = some("SELECT short_name FROM organisations WHERE registry_approved = 1 LIMIT 1 OFFSET 10");
    let org_id = some("SELECT id FROM organisations WHERE registry_approved = 1 LIMIT 1 OFFSET 20");
    use Shape::*;
    let requests: Vec<(String, Shape)> = vec![
        (format!("/api/3/action/package_show?id={dataset}"), Point),
        (format!("/api/3/action/package_show?id={dataset_id}"), Point),
        ("/api/3/action/package_show?id=nothing-like-it".into(), Point),
        (format!("/api/limited-ckan-compatible/package_show?id={dataset}"), Point),
        (format!("/api/3/action/organization_show?id={org}"), Point),
        (format!("/api/3/action/organization_show?id={org_id}&include_datasets=true"), Page),
        (format!("/api/3/action/group_show?id={org}"), Point),
        ("/api/3/action/package_list".into(), Page),
        ("/api/3/action/package_list?limit=1000&offset=2000".into(), Page),
        ("/api/limited-ckan-compatible/package_list?limit=100&offset=300".into(), Page),
        ("/api/3/action/organization_list".into(), Page),
        ("/api/3/action/organization_list?all_fields=true&limit=25".into(), Page),
        ("/api/3/action/organization_list?all_fields=true&limit=25&offset=100&sort=title%20desc".into(), Page),
        ("/api/3/action/organization_list?sort=publisher_first_publish_date".into(), Aggregate),
        ("/api/3/action/organization_list?sort=package_count%20desc&limit=10".into(), Aggregate),
        (format!("/api/3/action/organization_list?organizations={org}&all_fields=true"), Point),
        ("/api/3/action/group_list?limit=5".into(), Page),
        ("/api/limited-ckan-compatible/organization_list".into(), Page),
        ("/api/3/action/organization_autocomplete?q=ai".into(), Aggregate),
        ("/api/3/action/package_search?rows=100".into(), Page),
        ("/api/3/action/package_search?q=water&rows=10".into(), Page),
        (format!("/api/3/action/package_search?fq=organization:{org}&rows=1000"), Page),
        ("/api/3/action/package_search?fq=extras_filetype:activity&start=500".into(), Page),
        (
            "/api/3/action/package_search?facet.field=[\"organization\",\"license_id\",\"extras_filetype\",\"publisher_iati_id\",\"publisher_country\",\"res_format\"]&rows=0"
                .into(),
            Aggregate,
        ),
        ("/api/limited-ckan-compatible/package_search?rows=10&start=20".into(), Page),
        ("/api/3/action/status_show".into(), Point),
        ("/api/3/action/license_list".into(), Point),
    ];
    let mut failures = Vec::new();
    for (path, shape) in &requests {
        let rec = Recorder { db: &db, seen: Default::default() };
        let r = ryd_ckan::handle(&ryd_http::Request::new("GET", path), &rec, &|m| panic!("{m}"), &Default::default());
        assert!(r.status == 200 || (r.status == 404 && path.contains("nothing")), "{path}: {}", r.status);
        for (sql, params) in rec.seen.borrow().iter() {
            let steps = plan(&db, sql, params);
            for step in &steps {
                let table_scan = step.starts_with("SCAN") && !step.contains("INDEX");
                let fts = step.contains("VIRTUAL TABLE");
                // The licence facet counts every listed dataset by a column no index holds:
                // a scan of the table is the cheapest way (an index walk would fetch each row).
                let inherent = *shape == Aggregate
                    && (step.starts_with("SCAN o") || (step == "SCAN d" && sql.contains("GROUP BY d.licence_id")));
                // The schema's version (`ryd_store::VERSION_COLUMN`): a one-row pragma.
                let constant = step.starts_with("SCAN CONSTANT") || step.starts_with("SCAN pragma_user_version");
                let bad = (table_scan && !fts && !inherent && !step.starts_with("SCAN page") && !constant)
                    || (*shape == Point && step.starts_with("SCAN") && !constant)
                    || (*shape != Aggregate && step.contains("TEMP B-TREE") && !sql.contains("AS page"));
                if bad {
                    failures.push(format!("{path} ({shape:?}): {step}\nin {steps:#?}\nfor {sql}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
