//! Objects named the way other services name them (an id or a name), for the
//! authorisation service's questions: which organisation decides, and is it listed.

use crate::keys::{id_or_name, placeholders};
use crate::sql::{Row, Sql, SqlError, Value};
use std::collections::HashMap;

/// A live dataset of a live organisation, with what authorisation questions need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetRef {
    /// The dataset's id.
    pub id: String,
    /// Its short name.
    pub short_name: String,
    /// The organisation that owns it.
    pub organisation_id: String,
    /// That organisation's short name.
    pub organisation_name: String,
    /// Whether it is private.
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
    let by_key = id_or_name("o", "organisations", "?1");
    let q = format!(
        "SELECT o.id, o.short_name FROM organisations o WHERE {by_key} AND o.deleted_at IS NULL ORDER BY o.id = ?1 DESC LIMIT 1"
    );
    Ok(sql.execute(&q, &[key.into()])?.first().map(|r| (r.text(0), r.text(1))))
}

/// A live dataset by id or short name.
pub fn dataset(sql: &dyn Sql, key: &str) -> Result<Option<DatasetRef>, SqlError> {
    let by_key = id_or_name("d", "datasets", "?1");
    let q = format!("{DATASET} WHERE {by_key} AND d.deleted_at IS NULL ORDER BY d.id = ?1 DESC LIMIT 1");
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
        "{DATASET} WHERE d.rowid IN (\
           SELECT x.rowid FROM dataset_pipeline p JOIN datasets x ON x.id = p.dataset_id WHERE p.resource_id = ?1 \
           UNION ALL SELECT x.rowid FROM datasets x WHERE x.id = ?1 AND NOT EXISTS \
             (SELECT 1 FROM dataset_pipeline p WHERE p.dataset_id = x.id AND p.resource_id IS NOT NULL)) \
         AND d.deleted_at IS NULL LIMIT 1"
    );
    Ok(sql.execute(&q, &[resource_id.into()])?.first().map(dataset_row))
}

/// Object keys (an id or a name, both present) → the id of the organisation that decides.
pub type Deciders = HashMap<String, String>;

/// Many objects at once (an authorisation batch): each organisation key (id or short
/// name) and each dataset key (id or short name) that exists, mapped to the id of the
/// organisation that decides. Two statements however many keys.
pub fn deciding_organisations(
    sql: &dyn Sql,
    org_keys: &[&str],
    dataset_keys: &[&str],
) -> Result<(Deciders, Deciders), SqlError> {
    let values = |keys: &[&str]| -> Vec<Value> { keys.iter().map(|k| Value::from(*k)).collect() };
    let mut orgs = HashMap::new();
    if !org_keys.is_empty() {
        let by_key = id_or_name("o", "organisations", &placeholders(org_keys.len()));
        let q = format!("SELECT o.id, o.short_name FROM organisations o WHERE {by_key} AND o.deleted_at IS NULL");
        for r in sql.execute(&q, &values(org_keys))?.iter() {
            orgs.insert(r.text(0), r.text(0));
            orgs.insert(r.text(1), r.text(0));
        }
    }
    let mut datasets = HashMap::new();
    if !dataset_keys.is_empty() {
        let by_key = id_or_name("d", "datasets", &placeholders(dataset_keys.len()));
        let q = format!(
            "SELECT d.id, d.short_name, d.organisation_id FROM datasets d \
             JOIN organisations o ON o.id = d.organisation_id AND o.deleted_at IS NULL \
             WHERE {by_key} AND d.deleted_at IS NULL"
        );
        for r in sql.execute(&q, &values(dataset_keys))?.iter() {
            datasets.insert(r.text(0), r.text(2));
            datasets.insert(r.text(1), r.text(2));
        }
    }
    Ok((orgs, datasets))
}
