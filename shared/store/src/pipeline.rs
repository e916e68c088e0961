//! What the data pipeline learns about a dataset's file, as one row beside the dataset
//! (`dataset_pipeline`): the CKAN extras and resource facts, and what the Dashboard's
//! filters read. The read models need no other write: the CKAN search joins this row,
//! and the Dashboard's filters read it directly, so a change shows in both as it commits.

use crate::sql::{Sql, SqlError, Value};

/// The facts, by name, in the table's columns (which have the same names).
pub const FACTS: [&str; 9] = [
    "filetype",
    "iati_version",
    "activity_count",
    "country",
    "language",
    "data_updated",
    "validation_status",
    "resource_hash",
    "resource_size",
];

/// One dataset's facts, in [`FACTS`] order; `Value::Null` where unknown.
pub type Facts = Vec<(&'static str, Value)>;

/// The dataset's facts (all unknown when the pipeline never reported).
pub fn get(sql: &dyn Sql, dataset_id: &str) -> Result<Facts, SqlError> {
    let q = format!("SELECT {} FROM dataset_pipeline WHERE dataset_id = ?", FACTS.join(", "));
    let rows = sql.execute(&q, &[dataset_id.into()])?;
    Ok(FACTS
        .iter()
        .enumerate()
        .map(|(i, name)| (*name, rows.first().map(|r| r.get(i).clone()).unwrap_or(Value::Null)))
        .collect())
}

/// Writes every fact of `facts` (the others keep their values): one statement.
pub fn set(sql: &dyn Sql, dataset_id: &str, facts: &Facts) -> Result<(), SqlError> {
    let names: Vec<&str> = facts.iter().map(|(n, _)| *n).collect();
    debug_assert!(names.iter().all(|n| FACTS.contains(n)), "only known facts");
    if names.is_empty() {
        return Ok(());
    }
    let placeholders = vec!["?"; names.len()].join(", ");
    let updates: Vec<String> = names.iter().map(|n| format!("{n} = excluded.{n}")).collect();
    let q = format!(
        "INSERT INTO dataset_pipeline (dataset_id, {}) VALUES (?, {placeholders}) ON CONFLICT (dataset_id) DO UPDATE SET {}",
        names.join(", "),
        updates.join(", ")
    );
    let mut params = vec![Value::from(dataset_id)];
    params.extend(facts.iter().map(|(_, v)| v.clone()));
    sql.execute(&q, &params)?;
    Ok(())
}
