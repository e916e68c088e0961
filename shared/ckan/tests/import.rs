//! The importer: CKAN shapes in, the registry out; idempotent; skips explained.

use ryd_ckan::import::{import, records, Report};
use ryd_store::native::NativeSql;
use ryd_store::public::{self, Filter, Sort};
use serde_json::{json, Value};

fn db() -> NativeSql {
    let db = NativeSql::in_memory();
    ryd_store::migrate(&db).unwrap();
    db
}

#[test]
fn a_synthetic_registry_round_trips_and_a_rerun_changes_nothing() {
    let db = db();
    let dump: Vec<Value> = ryd_ckan::synthetic::registry(20, 300, 7).collect();
    let recs: Vec<&Value> = dump.iter().collect();
    let mut first = Report::default();
    import(&db, &recs, &mut first).unwrap();
    assert_eq!((first.organisations, first.datasets), (20, 300));
    assert!(first.skipped.is_empty(), "{:?}", first.skipped);
    let all = public::search(&db, &Filter::default(), Sort::NameAsc, 1000, 0).unwrap();
    assert_eq!(all.count, 300 - 6, "every 50th dataset is private");
    let mut again = Report::default();
    import(&db, &recs, &mut again).unwrap();
    assert_eq!((again.organisations, again.datasets), (20, 300));
    assert_eq!(public::search(&db, &Filter::default(), Sort::NameAsc, 1000, 0).unwrap().count, all.count);
    let d = public::dataset(&db, "0000000d-0000-4000-8000-000000000000").unwrap().unwrap().value;
    assert_eq!(d.resource_id.as_deref(), Some("0000000e-0000-4000-8000-000000000000"), "CKAN's resource id is kept");
    assert_eq!(d.filetype.as_deref(), Some("organisation"));
    let fts = public::search(&db, &Filter { text: Some("\"water\"*".into()), ..Default::default() }, Sort::Score, 5, 0)
        .unwrap();
    assert!(fts.count > 0, "the full-text index is filled by the import");
}

#[test]
fn package_search_pages_and_organization_lists_are_understood_and_skips_are_reported() {
    let db = db();
    let orgs = json!({"success": true, "result": [
        {"id": "a0000000-0000-4000-8000-000000000001", "name": "good-org", "title": "Good", "type": "organization", "is_organization": true,
         "state": "active", "extras": [{"key": "publisher_iati_id", "value": "XM-1"}]},
        {"id": "a0000000-0000-4000-8000-000000000002", "name": "Bad Org", "type": "organization", "is_organization": true}
    ]});
    let page = json!({"result": {"count": 3, "results": [
        {"id": "d0000000-0000-4000-8000-000000000001", "name": "good-ds", "owner_org": "a0000000-0000-4000-8000-000000000001",
         "resources": [{"url": "https://x.org/a.xml"}], "extras": [{"key": "filetype", "value": "activity"}]},
        {"id": "d0000000-0000-4000-8000-000000000002", "name": "orphan", "owner_org": "a0000000-0000-4000-8000-000000000009",
         "resources": [{"url": "https://x.org/b.xml"}]},
        {"id": "d0000000-0000-4000-8000-000000000003", "name": "no-url", "owner_org": "a0000000-0000-4000-8000-000000000001", "resources": []}
    ]}});
    let mut report = Report::default();
    let recs: Vec<&Value> = records(&orgs).into_iter().chain(records(&page)).collect();
    import(&db, &recs, &mut report).unwrap();
    assert_eq!((report.organisations, report.datasets), (1, 1));
    assert_eq!(report.skipped.values().sum::<usize>(), 3, "{:?}", report.skipped);
    assert!(report.skipped.contains_key("dataset without a resource URL"));
    assert_eq!(public::org(&db, "good-org").unwrap().unwrap().value.iati_id, "XM-1");
}

/// A second import of an organisation that was renamed, then withdrawn, in the old
/// registry: its datasets are found by the new name, then no longer listed at all.
#[test]
fn a_reimported_organisation_relists_its_datasets() {
    let db = db();
    let org = |title: &str, status: &str| {
        json!({"id": "a0000000-0000-4000-8000-000000000001", "name": "ministry", "title": title, "type": "organization",
               "is_organization": true, "state": "active", "approval_status": status})
    };
    let ds = json!({"id": "d0000000-0000-4000-8000-000000000001", "name": "spending", "title": "Spending",
        "owner_org": "a0000000-0000-4000-8000-000000000001", "resources": [{"url": "https://x.org/a.xml"}]});
    let by_text = |db: &NativeSql, words: &str| {
        let filter = Filter { text: Some(words.into()), ..Default::default() };
        public::search(db, &filter, Sort::Score, 10, 0).unwrap().count
    };
    let load = |db: &NativeSql, recs: &[&Value]| import(db, recs, &mut Report::default()).unwrap();
    let first = org("Ministry of Water", "approved");
    load(&db, &[&first, &ds]);
    assert_eq!(by_text(&db, "water"), 1);
    let renamed = org("Ministry of Zeppelins", "approved");
    load(&db, &[&renamed]);
    assert_eq!(by_text(&db, "zeppelins"), 1, "the organisation's new title is searched");
    assert_eq!(by_text(&db, "water"), 0, "and its old one is gone");
    let withdrawn = org("Ministry of Zeppelins", "pending");
    load(&db, &[&withdrawn]);
    assert_eq!(public::search(&db, &Filter::default(), Sort::NameAsc, 10, 0).unwrap().count, 0);
    assert_eq!(by_text(&db, "zeppelins"), 0);
}
