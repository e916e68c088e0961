//! CKAN's shapes for a dataset (package) and an organisation, as the IATI Registry had them.

use ryd_store::public::{PublicDataset, PublicOrg};
use serde_json::{json, Value};

/// The Registry's date style (`2023-01-15T16:54:14`), from our RFC 3339.
fn ckan_date(s: &str) -> Value {
    if s.is_empty() {
        return Value::Null;
    }
    Value::String(s.trim_end_matches("+00:00").trim_end_matches('Z').to_string())
}

fn licence_title(id: &str) -> String {
    ryd_codelists::licences().iter().find(|l| l.id == id).map(|l| l.short_label.clone()).unwrap_or_default()
}

pub(crate) fn org_summary(o: &PublicOrg) -> Value {
    json!({
        "id": o.id, "name": o.name, "title": o.title, "type": "organization", "description": o.description,
        "image_url": "", "created": ckan_date(&o.created), "is_organization": true, "approval_status": "approved",
        "state": "active",
    })
}

pub(crate) fn org(o: &PublicOrg, include_extras: bool) -> Value {
    let mut v = json!({
        "id": o.id, "name": o.name, "title": o.title, "display_name": o.title, "type": "organization",
        "is_organization": true, "state": "active", "approval_status": "approved", "description": o.description,
        "image_url": "", "image_display_url": "", "created": ckan_date(&o.created), "package_count": o.package_count,
        "license_id": o.licence_id, "num_followers": 0,
        "publisher_iati_id": o.iati_id, "publisher_organization_type": o.organisation_type, "publisher_country": o.country,
        "publisher_source_type": o.source_type, "publisher_description": o.description,
        "publisher_first_publish_date": ckan_date(&o.first_publish_date), "publisher_contact_email": o.contact_email,
        "publisher_url": o.website,
        "publisher_agencies": "", "publisher_constraints": "", "publisher_contact": "", "publisher_data_quality": "",
        "publisher_field_exclusions": "", "publisher_frequency": "", "publisher_frequency_select": "",
        "publisher_implementation_schedule": "", "publisher_record_exclusions": "", "publisher_refs": "",
        "publisher_segmentation": "", "publisher_thresholds": "", "publisher_timeliness": "", "publisher_ui": "",
        "tags": [], "groups": [], "users": [],
    });
    if include_extras {
        v["extras"] = json!([
            {"key": "publisher_iati_id", "value": o.iati_id},
            {"key": "publisher_organization_type", "value": o.organisation_type},
            {"key": "publisher_country", "value": o.country},
            {"key": "publisher_source_type", "value": o.source_type},
        ]);
    }
    v
}

pub(crate) fn dataset(d: &PublicDataset) -> Value {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut extras = Vec::new();
    let mut push = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            extras.push(json!({"key": k, "value": v}));
        }
    };
    push("activity_count", d.activity_count.map(|n| n.to_string()));
    push("country", d.country.clone());
    push("data_updated", d.data_updated.clone());
    push("filetype", d.filetype.clone());
    push("iati_version", d.iati_version.clone());
    push("language", d.language.clone());
    push("validation_status", d.validation_status.clone());
    let resource_id = d.resource_id.clone().unwrap_or_else(|| d.id.clone());
    json!({
        "id": d.id, "name": d.name, "title": d.title, "notes": "", "type": "dataset", "state": "active", "private": false,
        "owner_org": d.org.id, "organization": org_summary(&d.org),
        "license_id": d.licence_id, "license_title": licence_title(&d.licence_id),
        "metadata_created": ckan_date(&d.created), "metadata_modified": ckan_date(&d.metadata_modified),
        "author": null, "author_email": null, "maintainer": null, "maintainer_email": null, "creator_user_id": null,
        "num_resources": 1, "num_tags": 0, "tags": [], "groups": [],
        "resources": [{
            "id": resource_id, "package_id": d.id, "url": d.url, "format": "IATI-XML", "name": null, "description": "",
            "hash": text(&d.resource_hash), "size": d.resource_size, "mimetype": "application/xml", "mimetype_inner": null,
            "resource_type": null, "created": ckan_date(d.resource_created.as_deref().unwrap_or(&d.created)),
            "last_modified": ckan_date(&d.url_modified), "metadata_modified": ckan_date(&d.metadata_modified),
            "position": 0, "state": "active", "cache_url": null, "cache_last_updated": null, "url_type": null, "revision_id": null,
        }],
        "extras": extras,
        "publisher_iati_id": d.org.iati_id, "publisher_organization_type": d.org.organisation_type,
        "publisher_country": d.org.country, "publisher_source_type": d.org.source_type,
    })
}
