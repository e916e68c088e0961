//! Objects named the way other services name them (an id or a name), for the
//! authorisation service's questions: which organisation decides, and is it listed.

use crate::sql::{Row, Sql, SqlError};

/// A live dataset of a live organisation, with what authorisation questions need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetRef {
    pub id: String,
    pub short_name: String,
    pub organisation_id: String,
    pub organisation_name: String,
    pub private: bool,
    /// Visible to everyone (live, public, of a live approved organisation).
    pub listed: bool,
}

const DATASET: &str = "SELECT d.id, d.short_name, d.organisation_id, o.short_name, d.visibility = 'private', d.listed \
     FROM datasets d JOIN organisations o ON o.id = d.organisation_id AND o.deleted_at IS NULL";

fn dataset_row(r: Row<'_>) -> DatasetRef {
    DatasetRef {
        id: r.text(0),
        short_name: r.text(1),
        organisation_id: r.text(2),
        organisation_name: r.text(3),
        private: r.bool(4),
        listed: r.bool(5),
    }
}

/// A live organisation by id or short name: (id, short name).
pub fn organisation(sql: &dyn Sql, key: &str) -> Result<Option<(String, String)>, SqlError> {
    Ok(sql
        .execute(
            "SELECT id, short_name FROM organisations WHERE (id = ?1 OR short_name = ?1) AND deleted_at IS NULL \
             ORDER BY id = ?1 DESC LIMIT 1",
            &[key.into()],
        )?
        .first()
        .map(|r| (r.text(0), r.text(1))))
}

/// A live dataset by id or short name.
pub fn dataset(sql: &dyn Sql, key: &str) -> Result<Option<DatasetRef>, SqlError> {
    let q = format!(
        "{DATASET} WHERE (d.id = ?1 OR d.short_name = ?1) AND d.deleted_at IS NULL ORDER BY d.id = ?1 DESC LIMIT 1"
    );
    Ok(sql.execute(&q, &[key.into()])?.first().map(dataset_row))
}

/// A live dataset by its exact short name only (a gateway's `api_id`).
pub fn dataset_named(sql: &dyn Sql, name: &str) -> Result<Option<DatasetRef>, SqlError> {
    let q = format!("{DATASET} WHERE d.short_name = ?1 AND d.deleted_at IS NULL");
    Ok(sql.execute(&q, &[name.into()])?.first().map(dataset_row))
}

/// The dataset holding a resource (CKAN's resource id, kept on import; else the
/// dataset's own id, which is what a dataset created here answers as its resource id).
pub fn dataset_of_resource(sql: &dyn Sql, resource_id: &str) -> Result<Option<DatasetRef>, SqlError> {
    let q = format!(
        "{DATASET} LEFT JOIN dataset_pipeline p ON p.dataset_id = d.id \
         WHERE (p.resource_id = ?1 OR (d.id = ?1 AND p.resource_id IS NULL)) AND d.deleted_at IS NULL LIMIT 1"
    );
    Ok(sql.execute(&q, &[resource_id.into()])?.first().map(dataset_row))
}
