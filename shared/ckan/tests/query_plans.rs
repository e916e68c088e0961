//! Every search statement uses an index: `EXPLAIN QUERY PLAN` never shows a full scan of
//! the datasets or organisations tables.

use ryd_store::native::NativeSql;
use ryd_store::public::{search_statements, Filter, Sort};
use ryd_store::Sql;

fn plan(db: &NativeSql, sql: &str, params: &[ryd_store::Value]) -> Vec<String> {
    db.execute(&format!("EXPLAIN QUERY PLAN {sql}"), params).unwrap().iter().map(|r| r.text(3)).collect()
}

#[test]
fn every_search_query_uses_an_index() {
    let db = NativeSql::in_memory();
    ryd_store::migrate(&db).unwrap();
    db.execute("ANALYZE", &[]).unwrap();
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
                    let full_scan =
                        (step.starts_with("SCAN d") || step.starts_with("SCAN o")) && !step.contains("INDEX");
                    assert!(!full_scan, "{what} / {sort:?}: full scan in {steps:#?}\nfor {sql}");
                }
            }
        }
    }
}
