//! The CKAN API's read model: `datasets.listed` (live, public, of a live approved
//! organisation) and the full-text index `dataset_search`, which holds the listed
//! datasets only.
//!
//! The store's write functions keep it in step, in the caller's transaction. Until
//! migration 0006, triggers did; but Spin opens a connection per request, and every
//! connection parses the whole schema on its first statement, with each allocation
//! taking SQLite's process-wide memory-statistics mutex: the six triggers were a third of
//! that work on every request, reads included (`bench-sqlite`: 2,400–2,900 → 3,500–4,200
//! connections/s from 16 threads). Writes that change listing pay three statements instead.

use crate::sql::{Sql, SqlError};

/// What `listed` means, for a row of `datasets`.
const LISTED: &str = "deleted_at IS NULL AND visibility = 'public' AND EXISTS (SELECT 1 FROM organisations o \
     WHERE o.id = datasets.organisation_id AND o.deleted_at IS NULL AND o.registry_approved = 1)";

/// Which datasets to bring up to date.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// One dataset, by id.
    Dataset(&'a str),
    /// Every live dataset of an organisation (its approval, deletion or names changed);
    /// deleted datasets are never listed, so the organisation's index serves.
    Organisation(&'a str),
}

/// Recomputes `listed` and re-indexes the full text of the datasets in `scope`.
pub fn refresh(sql: &dyn Sql, scope: Scope<'_>) -> Result<(), SqlError> {
    let (rows, value) = match scope {
        Scope::Dataset(id) => ("id = ?1", id),
        Scope::Organisation(id) => ("organisation_id = ?1 AND deleted_at IS NULL", id),
    };
    // The change feed first: it compares `listed` as it was with what it becomes.
    crate::changes::record_datasets(sql, rows, value, LISTED)?;
    sql.execute(&format!("UPDATE datasets SET listed = ({LISTED}) WHERE {rows}"), &[value.into()])?;
    sql.execute(
        &format!("DELETE FROM dataset_search WHERE rowid IN (SELECT rowid FROM datasets WHERE {rows})"),
        &[value.into()],
    )?;
    sql.execute(
        &format!(
            "INSERT INTO dataset_search (rowid, name, title, organisation) \
             SELECT d.rowid, d.short_name, d.human_readable_name, o.short_name || ' ' || o.human_readable_name \
             FROM datasets d JOIN organisations o ON o.id = d.organisation_id WHERE d.rowid IN \
             (SELECT rowid FROM datasets WHERE {rows}) AND d.listed"
        ),
        &[value.into()],
    )?;
    Ok(())
}
