//! Loading the old registry: a CKAN dump (`ckanapi dump` JSON lines, or saved pages of
//! `package_search` and `organization_list?all_fields=true`) into the database, keeping
//! CKAN's ids and names so downstream ids stay stable. Re-running it updates in place.

use ryd_store::listing::{self, Scope};
use ryd_store::public::PublicDataset;
use ryd_store::{Sql, SqlError};
use serde_json::Value;
use std::collections::BTreeMap;

/// What an import wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Organisations imported.
    pub organisations: usize,
    /// Datasets imported.
    pub datasets: usize,
    /// Reason → how many records were skipped for it.
    pub skipped: BTreeMap<String, usize>,
}

impl Report {
    fn skip(&mut self, why: &str) {
        *self.skipped.entry(why.to_string()).or_default() += 1;
    }
}

/// The records of one dump document, whatever its wrapping.
pub fn records(doc: &Value) -> Vec<&Value> {
    let doc = doc.get("result").unwrap_or(doc);
    match doc {
        Value::Array(items) => items.iter().collect(),
        Value::Object(o) if o.contains_key("results") => {
            doc["results"].as_array().map(|a| a.iter().collect()).unwrap_or_default()
        }
        Value::Object(_) => vec![doc],
        _ => Vec::new(),
    }
}

fn is_org(v: &Value) -> bool {
    v.get("is_organization").and_then(Value::as_bool).unwrap_or(false)
        || v.get("type").and_then(Value::as_str) == Some("organization")
}

/// A field at the top level or in `extras` (CKAN puts the Registry's fields in either).
fn field(v: &Value, name: &str) -> Option<String> {
    let top = v.get(name).and_then(|x| match x {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    top.filter(|s| !s.is_empty()).or_else(|| {
        v.get("extras")?.as_array()?.iter().find(|e| e.get("key").and_then(Value::as_str) == Some(name)).and_then(|e| {
            match e.get("value")? {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        })
    })
}

fn valid_name(s: &str) -> bool {
    (2..=100).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// CKAN's `2023-01-15T16:54:14.123456` as our RFC 3339.
fn date(v: Option<String>) -> String {
    match v {
        Some(s) if !s.is_empty() => {
            let s = s.split('.').next().unwrap_or(&s).trim_end_matches('Z').to_string();
            if s.contains('+') {
                s
            } else {
                format!("{s}+00:00")
            }
        }
        _ => String::new(),
    }
}

/// Loads records in one transaction (a failure loads nothing of this batch).
pub fn import(sql: &dyn Sql, records: &[&Value], report: &mut Report) -> Result<(), SqlError> {
    ryd_store::transaction(sql, || {
        // Organisations first, so datasets in the same batch find their owner.
        for r in records.iter().filter(|r| is_org(r)) {
            import_org(sql, r, report)?;
        }
        // Our own dump's header line names where the change feed continues: no record.
        let header = |r: &&&Value| r.get("type").and_then(Value::as_str) == Some(crate::dump::HEADER_TYPE);
        for r in records.iter().filter(|r| !is_org(r) && !header(r)) {
            import_dataset(sql, r, report)?;
        }
        Ok(())
    })
}

fn import_org(sql: &dyn Sql, v: &Value, report: &mut Report) -> Result<(), SqlError> {
    let (Some(id), Some(name)) = (field(v, "id"), field(v, "name")) else {
        report.skip("organisation without id or name");
        return Ok(());
    };
    if !valid_name(&name) {
        report.skip("organisation name not ^[a-z0-9_-]+$");
        return Ok(());
    }
    if field(v, "state").is_some_and(|s| s != "active") {
        report.skip("organisation not active");
        return Ok(());
    }
    let taken = sql.execute(
        "SELECT 1 FROM organisations WHERE short_name = ? AND id <> ? AND deleted_at IS NULL",
        &[name.as_str().into(), id.as_str().into()],
    )?;
    if !taken.is_empty() {
        report.skip("organisation name taken by another id");
        return Ok(());
    }
    let approved = field(v, "approval_status").is_none_or(|s| s == "approved");
    let existed = !sql.execute("SELECT 1 FROM organisations WHERE id = ?", &[id.as_str().into()])?.is_empty();
    let text = |n: &str| field(v, n).unwrap_or_default();
    let visible_before = ryd_store::changes::org_visible(sql, &id)?;
    sql.execute(
        "INSERT INTO organisations (id, short_name, organisation_identifier, human_readable_name, description, hq_country, organisation_type, \
         reporting_source_type, default_licence_id, contact_email, website, registry_approved, first_publication_date, created_date) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
         ON CONFLICT (id) DO UPDATE SET short_name = ?2, organisation_identifier = ?3, human_readable_name = ?4, description = ?5, \
         hq_country = ?6, organisation_type = ?7, reporting_source_type = ?8, default_licence_id = ?9, contact_email = ?10, website = ?11, \
         registry_approved = ?12, first_publication_date = ?13, version = version + 1",
        &[
            id.as_str().into(),
            name.as_str().into(),
            text("publisher_iati_id").replace(' ', "").into(),
            field(v, "title").unwrap_or_else(|| name.clone()).into(),
            field(v, "description").or_else(|| field(v, "publisher_description")).unwrap_or_default().into(),
            text("publisher_country").into(),
            text("publisher_organization_type").into(),
            text("publisher_source_type").into(),
            text("license_id").into(),
            text("publisher_contact_email").into(),
            text("publisher_url").into(),
            approved.into(),
            date(field(v, "publisher_first_publish_date")).into(),
            date(field(v, "created")).into(),
        ],
    )
    .map_err(|e| SqlError { message: format!("organisation {name}: {}", e.message), ..e })?;
    ryd_store::changes::org_written(sql, &id, visible_before)?;
    // Its approval and names decide the listing of datasets loaded before (a new one has none).
    if existed {
        listing::refresh(sql, Scope::Organisation(&id))?;
    }
    report.organisations += 1;
    Ok(())
}

fn import_dataset(sql: &dyn Sql, v: &Value, report: &mut Report) -> Result<(), SqlError> {
    let (Some(id), Some(name)) = (field(v, "id"), field(v, "name")) else {
        report.skip("dataset without id or name");
        return Ok(());
    };
    if field(v, "state").is_some_and(|s| s != "active") {
        report.skip("dataset not active");
        return Ok(());
    }
    if !valid_name(&name) {
        report.skip("dataset name not ^[a-z0-9_-]+$");
        return Ok(());
    }
    let owner = field(v, "owner_org")
        .or_else(|| v.get("organization").and_then(|o| o.get("id")).and_then(Value::as_str).map(str::to_string));
    let Some(owner) = owner else {
        report.skip("dataset without owner organisation");
        return Ok(());
    };
    if sql
        .execute("SELECT 1 FROM organisations WHERE id = ? AND deleted_at IS NULL", &[owner.as_str().into()])?
        .is_empty()
    {
        report.skip("dataset whose organisation is not in the dump");
        return Ok(());
    }
    let resource = v.get("resources").and_then(Value::as_array).and_then(|r| r.first());
    let Some(url) = resource.and_then(|r| r.get("url")).and_then(Value::as_str).filter(|u| !u.is_empty()) else {
        report.skip("dataset without a resource URL");
        return Ok(());
    };
    let taken = sql.execute(
        "SELECT 1 FROM datasets WHERE short_name = ? AND id <> ? AND deleted_at IS NULL",
        &[name.as_str().into(), id.as_str().into()],
    )?;
    if !taken.is_empty() {
        report.skip("dataset name taken by another id");
        return Ok(());
    }
    let private = v.get("private").and_then(Value::as_bool).unwrap_or(false);
    let created = date(field(v, "metadata_created"));
    let modified = date(field(v, "metadata_modified"));
    let res = |n: &str| resource.and_then(|r| r.get(n));
    let url_modified = date(res("last_modified").and_then(Value::as_str).map(str::to_string)).to_string();
    sql.execute(
        "INSERT INTO datasets (id, organisation_id, short_name, human_readable_name, url, source_type, licence_id, visibility, \
         last_url_update_date, last_metadata_update_date, created_date) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
         ON CONFLICT (id) DO UPDATE SET organisation_id = ?2, short_name = ?3, human_readable_name = ?4, url = ?5, source_type = ?6, \
         licence_id = ?7, visibility = ?8, last_url_update_date = ?9, last_metadata_update_date = ?10, version = version + 1",
        &[
            id.as_str().into(),
            owner.as_str().into(),
            name.as_str().into(),
            field(v, "title").unwrap_or_else(|| name.clone()).into(),
            url.into(),
            field(v, "publisher_source_type").unwrap_or_else(|| "primary_source".into()).into(),
            field(v, "license_id").unwrap_or_default().into(),
            (if private { "private" } else { "public" }).into(),
            (if url_modified.is_empty() { modified.clone() } else { url_modified }).into(),
            modified.as_str().into(),
            created.as_str().into(),
        ],
    )
    .map_err(|e| SqlError { message: format!("dataset {name}: {}", e.message), ..e })?;
    let pipeline = PublicDataset {
        filetype: field(v, "filetype"),
        iati_version: field(v, "iati_version"),
        activity_count: field(v, "activity_count").and_then(|n| n.parse().ok()),
        country: field(v, "country"),
        language: field(v, "language"),
        data_updated: field(v, "data_updated"),
        validation_status: field(v, "validation_status"),
        resource_hash: res("hash").and_then(Value::as_str).filter(|h| !h.is_empty()).map(str::to_string),
        resource_size: res("size").and_then(Value::as_i64),
        resource_id: res("id").and_then(Value::as_str).map(str::to_string),
        resource_created: res("created").and_then(Value::as_str).map(|c| date(Some(c.to_string()))),
        ..Default::default()
    };
    ryd_store::public::set_pipeline(sql, &id, &pipeline)?;
    listing::refresh(sql, Scope::Dataset(&id))?;
    report.datasets += 1;
    Ok(())
}
