//! Datasets (registered IATI XML files).

use crate::listing::{self, Scope};
use crate::orgs::Page;
use crate::sql::{Row, Sql, SqlError, Value};

/// A dataset as the Register Your Data API reads and writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// The dataset's id (UUID).
    pub id: String,
    /// The organisation that owns it.
    pub organisation_id: String,
    /// Its unique short name.
    pub short_name: String,
    /// Its title.
    pub human_readable_name: String,
    /// Where the IATI XML file is.
    pub url: String,
    /// `primary_source` or `secondary_source`.
    pub source_type: String,
    /// Its licence (IATI's licence list).
    pub licence_id: String,
    /// `public` or `private`.
    pub visibility: String,
    /// When `url` last changed (RFC 3339).
    pub last_url_update_date: String,
    /// When any metadata last changed (RFC 3339).
    pub last_metadata_update_date: String,
    /// When it was registered (RFC 3339).
    pub created_date: String,
    /// Bumped by every write (optimistic concurrency).
    pub version: i64,
}

const COLUMNS: &str =
    "d.id, d.organisation_id, d.short_name, d.human_readable_name, d.url, d.source_type, d.licence_id, \
    d.visibility, d.last_url_update_date, d.last_metadata_update_date, d.created_date, d.version";
const N: usize = 12;

fn from_row(r: Row<'_>) -> Dataset {
    Dataset {
        id: r.text(0),
        organisation_id: r.text(1),
        short_name: r.text(2),
        human_readable_name: r.text(3),
        url: r.text(4),
        source_type: r.text(5),
        licence_id: r.text(6),
        visibility: r.text(7),
        last_url_update_date: r.text(8),
        last_metadata_update_date: r.text(9),
        created_date: r.text(10),
        version: r.int(11),
    }
}

/// A live dataset of a live organisation.
pub fn get(sql: &dyn Sql, id: &str) -> Result<Option<Dataset>, SqlError> {
    let q = format!(
        "SELECT {COLUMNS} FROM datasets d JOIN organisations o ON o.id = d.organisation_id AND o.deleted_at IS NULL \
         WHERE d.id = ? AND d.deleted_at IS NULL"
    );
    Ok(sql.execute(&q, &[id.into()])?.first().map(from_row))
}

/// One page of an organisation's live datasets, by title then id.
pub fn list_for_org(sql: &dyn Sql, org_id: &str, limit: i64, offset: i64) -> Result<Page<Dataset>, SqlError> {
    let q = format!(
        "SELECT {COLUMNS}, count(*) OVER () FROM datasets d WHERE d.organisation_id = ? AND d.deleted_at IS NULL \
         ORDER BY d.human_readable_name, d.id LIMIT ? OFFSET ?"
    );
    let rows = sql.execute(&q, &[org_id.into(), limit.into(), offset.into()])?;
    let mut total = rows.first().map(|r| r.int(N)).unwrap_or(0);
    if rows.is_empty() && offset > 0 {
        total = sql
            .execute(
                "SELECT count(*) FROM datasets WHERE organisation_id = ? AND deleted_at IS NULL",
                &[org_id.into()],
            )?
            .first()
            .map(|r| r.int(0))
            .unwrap_or(0);
    }
    Ok(Page { items: rows.iter().map(from_row).collect(), total })
}

/// Registers a dataset and decides its listing.
pub fn insert(sql: &dyn Sql, d: &Dataset) -> Result<(), SqlError> {
    sql.execute(
        "INSERT INTO datasets (id, organisation_id, short_name, human_readable_name, url, source_type, licence_id, \
         visibility, last_url_update_date, last_metadata_update_date, created_date, version) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
        &[
            d.id.as_str().into(),
            d.organisation_id.as_str().into(),
            d.short_name.as_str().into(),
            d.human_readable_name.as_str().into(),
            d.url.as_str().into(),
            d.source_type.as_str().into(),
            d.licence_id.as_str().into(),
            d.visibility.as_str().into(),
            d.last_url_update_date.as_str().into(),
            d.last_metadata_update_date.as_str().into(),
            d.created_date.as_str().into(),
        ],
    )?;
    listing::refresh(sql, Scope::Dataset(&d.id))
}

/// Replaces the writable fields when the row is still at `expected_version`; returns the
/// new version, or `None` when another writer got there first.
pub fn update(sql: &dyn Sql, d: &Dataset, expected_version: i64) -> Result<Option<i64>, SqlError> {
    let rows = sql.execute(
        "UPDATE datasets SET short_name = ?, human_readable_name = ?, url = ?, source_type = ?, licence_id = ?, \
         visibility = ?, last_url_update_date = ?, last_metadata_update_date = ?, version = version + 1 \
         WHERE id = ? AND version = ? AND deleted_at IS NULL RETURNING version",
        &[
            d.short_name.as_str().into(),
            d.human_readable_name.as_str().into(),
            d.url.as_str().into(),
            d.source_type.as_str().into(),
            d.licence_id.as_str().into(),
            d.visibility.as_str().into(),
            d.last_url_update_date.as_str().into(),
            d.last_metadata_update_date.as_str().into(),
            d.id.as_str().into(),
            expected_version.into(),
        ],
    )?;
    let version = rows.first().map(|r| r.int(0));
    if version.is_some() {
        listing::refresh(sql, Scope::Dataset(&d.id))?;
    }
    Ok(version)
}

/// Soft-deletes a dataset still at `expected_version`; `false` when another writer won.
pub fn soft_delete(sql: &dyn Sql, id: &str, at: &str, expected_version: i64) -> Result<bool, SqlError> {
    let done = !sql
        .execute(
            "UPDATE datasets SET deleted_at = ?, version = version + 1 WHERE id = ? AND version = ? AND deleted_at IS NULL RETURNING id",
            &[at.into(), id.into(), expected_version.into()],
        )?
        .is_empty();
    if done {
        listing::refresh(sql, Scope::Dataset(id))?;
    }
    Ok(done)
}

/// Whether another live dataset has this short name.
pub fn short_name_taken(sql: &dyn Sql, short_name: &str, except_id: &str) -> Result<bool, SqlError> {
    Ok(!sql
        .execute(
            "SELECT 1 FROM datasets WHERE short_name = ? AND id <> ? AND deleted_at IS NULL LIMIT 1",
            &[short_name.into(), except_id.into()],
        )?
        .is_empty())
}

/// Marks the organisation as published the first time one of its datasets goes public.
pub fn note_first_publication(sql: &dyn Sql, org_id: &str, at: &str) -> Result<(), SqlError> {
    sql.execute(
        "UPDATE organisations SET first_publication_date = ? WHERE id = ? AND first_publication_date = ''",
        &[Value::from(at), org_id.into()],
    )?;
    Ok(())
}
