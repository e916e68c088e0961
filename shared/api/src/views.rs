//! The reference's response shapes, built from stored records. Every metadata key of the
//! YAML's schemas is always present; an unset optional string is `""`.

use ryd_store::audit::{self, AuditEvent};
use ryd_store::datasets::Dataset;
use ryd_store::orgs::{Organisation, METADATA_COLUMNS};
use ryd_store::{Sql, SqlError};
use serde_json::{json, Map, Value};

pub(crate) const ORG_ACTIONS: &[&str] = &["create", "update_metadata", "delete"];
pub(crate) const DATASET_ACTIONS: &[&str] = &["create", "update_metadata", "update_url", "change_visibility", "delete"];

pub(crate) fn org_metadata(org: &Organisation) -> Value {
    let mut m: Map<String, Value> =
        METADATA_COLUMNS.iter().map(|c| (c.to_string(), Value::String(org.field(c).to_string()))).collect();
    m.insert("registry_approved".into(), org.registry_approved.into());
    m.insert("first_publication_date".into(), org.first_publication_date.clone().into());
    m.insert("number_of_published_datasets".into(), org.number_of_published_datasets.into());
    m.insert("created_date".into(), org.created_date.clone().into());
    Value::Object(m)
}

/// DiscoverableReportingOrgReadableData: the public subset.
pub(crate) const PUBLIC_FIELDS: [&str; 6] =
    ["human_readable_name", "hq_country", "organisation_identifier", "region", "short_name", "website"];

pub(crate) fn org_public_metadata(org: &Organisation) -> Value {
    Value::Object(PUBLIC_FIELDS.iter().map(|c| (c.to_string(), Value::String(org.field(c).to_string()))).collect())
}

pub(crate) fn org(org: &Organisation, user_role: Option<&str>, actions: Option<Vec<Value>>) -> Value {
    let public_only = user_role == Some("contributor_pending");
    let mut v = json!({
        "id": org.id,
        "user_role": user_role.unwrap_or(""),
        "metadata": if public_only { org_public_metadata(org) } else { org_metadata(org) },
        "version": org.version,
    });
    if let (Some(actions), false) = (actions, public_only) {
        v["reporting_org_actions"] = Value::Array(actions);
    }
    v
}

pub(crate) fn dataset(d: &Dataset, actions: Option<Vec<Value>>) -> Value {
    let mut v = json!({
        "id": d.id,
        "owner_organisation_id": d.organisation_id,
        "metadata": {
            "human_readable_name": d.human_readable_name,
            "short_name": d.short_name,
            "source_type": d.source_type,
            "url": d.url,
            "licence_id": d.licence_id,
            "visibility": d.visibility,
            "last_url_update_date": d.last_url_update_date,
            "last_metadata_update_date": d.last_metadata_update_date,
        },
        "version": d.version,
    });
    if let Some(actions) = actions {
        v["dataset_actions"] = Value::Array(actions);
    }
    v
}

fn action(e: &AuditEvent) -> Value {
    json!({
        "action_type": e.action,
        "created_date": e.at,
        "id": e.id,
        "responsible_org_id": e.organisation_id,
        "responsible_org_name": e.organisation_name,
        "user_application_id": e.application_id,
        "user_application_name": e.application_name,
        "user_id": e.user_id,
        "user_name": e.user_name,
    })
}

pub(crate) fn actions(sql: &dyn Sql, target_type: &str, id: &str, kinds: &[&str]) -> Result<Vec<Value>, SqlError> {
    Ok(audit::for_target(sql, target_type, id, kinds)?.iter().map(action).collect())
}
