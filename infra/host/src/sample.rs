//! The sample registry `up --dev` loads into an empty database, so that the first answer a
//! newcomer sees has data in it: organisations and datasets from the synthetic generator
//! (as `ryd-host generate` writes them, imported as `ryd-host import` does), and members
//! of the first organisation, one of them asking to join.

use anyhow::{Context, Result};
use ryd_ckan::import::{import, records, Report};
use ryd_store::native::NativeSql;
use ryd_store::Sql;
use serde_json::Value;
use std::path::Path;

pub const ORGANISATIONS: u64 = 12;
pub const DATASETS: u64 = 80;
const SEED: u64 = 7;

/// The development users of the first organisation: (id, name, email, role). The admin can
/// see and decide the pending join request (`contributor_pending`).
pub const MEMBERS: &[(&str, &str, &str, &str)] = &[
    ("00000000-0000-4000-8000-000000000002", "Ada Admin", "ada@dev.localhost", "admin"),
    ("00000000-0000-4000-8000-000000000003", "Eddie Editor", "eddie@dev.localhost", "editor"),
    ("00000000-0000-4000-8000-000000000004", "Jo Applicant", "jo@dev.localhost", "contributor_pending"),
];

/// What was loaded, for `up` to say.
#[derive(Debug, Clone)]
pub struct Sample {
    pub report: Report,
    /// The first organisation: (id, short name), which the members above belong to.
    pub organisation: (String, String),
}

/// Loads the sample when the database has neither organisations nor users (a fresh one:
/// a registry a developer emptied on purpose stays empty). `None` when it was not empty.
pub fn load_if_empty(db_path: &Path) -> Result<Option<Sample>> {
    let db = NativeSql::open(db_path)?;
    ryd_store::migrate(&db)?;
    let count = |table: &str| -> Result<i64> {
        let rows = db.execute(&format!("SELECT count(*) FROM {table}"), &[])?;
        Ok(rows.first().map(|r| r.int(0)).unwrap_or(0))
    };
    if count("organisations")? > 0 || count("users")? > 0 {
        return Ok(None);
    }
    let dump: Vec<Value> = ryd_ckan::synthetic::registry(ORGANISATIONS, DATASETS, SEED).collect();
    let first = dump.first().context("the generator wrote no organisation")?;
    let organisation =
        (first["id"].as_str().unwrap_or_default().to_string(), first["name"].as_str().unwrap_or_default().to_string());
    let mut report = Report::default();
    let recs: Vec<&Value> = dump.iter().flat_map(records).collect();
    import(&db, &recs, &mut report).context("loading the sample registry")?;
    let at = "2026-01-01T00:00:00Z";
    ryd_store::transaction(&db, || {
        for (id, name, email, role) in MEMBERS {
            ryd_store::members::upsert_user(&db, id, id, name, email, false, at)?;
            ryd_store::members::set_role(&db, &organisation.0, id, role, at)?;
        }
        Ok::<_, ryd_store::SqlError>(())
    })
    .context("adding the sample members")?;
    ryd_store::analyse(&db)?;
    Ok(Some(Sample { report, organisation }))
}

/// Whether the sample's admin still has a role here (so `up` can offer their token).
pub fn admin_present(db_path: &Path) -> bool {
    let Ok(db) = NativeSql::open(db_path) else { return false };
    ryd_store::members::roles_of_user(&db, MEMBERS[0].0).is_ok_and(|roles| !roles.is_empty())
}
