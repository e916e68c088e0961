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
