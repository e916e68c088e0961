//! Request bodies for the API's writes.

use serde_json::{json, Value};

/// `POST /api/v1/reporting-orgs`: an organisation with the fields every check asks for.
pub fn org_body(short: &str) -> Value {
    json!({"short_name": short, "human_readable_name": format!("Org {short}"), "contact_email": "a@example.org",
           "hq_country": "KE", "organisation_identifier": format!("XM-DAC-{short}")})
}

/// `POST /api/v1/datasets`: a dataset of `oid`, published at a URL named after it.
pub fn dataset_body(oid: &str, short: &str, visibility: &str) -> Value {
    json!({"owner_organisation_id": oid, "short_name": short, "human_readable_name": format!("Dataset {short}"),
           "url": format!("https://data.example.org/{short}.xml"), "source_type": "primary_source", "visibility": visibility})
}
