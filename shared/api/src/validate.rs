//! Request-body validation against the reference schemas (shared/api/README.md, "Conventions").
//!
//! Each writable field is one row of a table: its check, whether a create needs it, and
//! whether an update may change it.

use crate::codelists;
use crate::error::ApiError;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// How one field's value is checked.
#[derive(Debug, Clone, Copy)]
pub enum Check {
    /// A string of at most `max` characters.
    Text {
        /// The most characters it may have.
        max: usize,
    },
    /// A short name: 2 to 100 lower-case letters, digits, `-` and `_`.
    ShortName,
    /// An IATI identifier: no spaces nor any of `/ & | ?`, at most 200 characters.
    Identifier,
    /// A country code (ISO 3166-1 alpha-2).
    Country,
    /// A region code (IATI's Region codelist).
    Region,
    /// An IATI organisation type code.
    OrgType,
    /// An absolute `http(s)` URL.
    Url,
    /// An email address.
    Email,
    /// A telephone number: digits, spaces and `+ - ( ) . x /`.
    Phone,
    /// A licence id from IATI's licence list.
    Licence,
    /// One of these values.
    OneOf(&'static [&'static str]),
    /// A UUID.
    Uuid,
}

/// One writable field: its name, check, and whether a create needs it.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// The field's name in the body.
    pub name: &'static str,
    /// How its value is checked.
    pub check: Check,
    /// Whether a create must give it.
    pub required_on_create: bool,
    /// Whether a PATCH may change it (otherwise only its current value is accepted).
    pub updatable: bool,
}

const fn f(name: &'static str, check: Check, required_on_create: bool, updatable: bool) -> FieldSpec {
    FieldSpec { name, check, required_on_create, updatable }
}

/// The dataset `source_type`s.
pub const SOURCE_TYPES: &[&str] = &["primary_source", "secondary_source"];

/// Organisation fields (ReportingOrgCreateableData / ReportingOrgUpdateableData).
pub const ORG_FIELDS: &[FieldSpec] = &[
    f("short_name", Check::ShortName, true, false),
    f("organisation_identifier", Check::Identifier, false, false),
    f("human_readable_name", Check::Text { max: 200 }, true, true),
    f("description", Check::Text { max: 10_000 }, false, true),
    f("hq_country", Check::Country, false, true),
    f("region", Check::Region, false, true),
    f("organisation_type", Check::OrgType, false, true),
    f("data_portal_url", Check::Url, false, true),
    f("exclusions_policy_url", Check::Url, false, true),
    f("reporting_source_type", Check::OneOf(SOURCE_TYPES), false, true),
    f("default_licence_id", Check::Licence, false, true),
    f("contact_email", Check::Email, true, true),
    f("address", Check::Text { max: 500 }, false, true),
    f("phone", Check::Phone, false, true),
    f("fax", Check::Phone, false, true),
    f("website", Check::Url, false, true),
];

/// Read-only organisation fields a tool may send back with their current values.
pub const ORG_READ_ONLY: &[&str] = &[
    "id",
    "registry_approved",
    "first_publication_date",
    "number_of_published_datasets",
    "created_date",
    "version",
    "user_role",
];

/// Dataset fields (DatasetFullUpdateableData + DatasetOwnerOrg).
pub const DATASET_FIELDS: &[FieldSpec] = &[
    f("owner_organisation_id", Check::Uuid, true, false),
    f("short_name", Check::ShortName, true, true),
    f("human_readable_name", Check::Text { max: 200 }, true, true),
    f("url", Check::Url, true, true),
    f("source_type", Check::OneOf(SOURCE_TYPES), true, true),
    f("licence_id", Check::Licence, false, true),
    f("visibility", Check::OneOf(&["public", "private"]), true, true),
];

/// Dataset fields a body may repeat but never change.
pub const DATASET_READ_ONLY: &[&str] = &["id", "last_url_update_date", "last_metadata_update_date", "version"];

/// Parses a JSON object body (after the size and media-type checks).
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.len() > crate::MAX_BODY {
        return Err(ApiError::new(413, format!("The request body is larger than {} KiB.", crate::MAX_BODY / 1024)));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("The request body is empty; a JSON object is required."));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::bad_request("The request body must be a JSON object.")),
        Err(e) => Err(ApiError::new(415, format!("The request body is not JSON ({e}); send application/json."))),
    }
}

/// 400 naming the first field of `body` not in `allowed` (and listing those allowed).
pub fn known_fields(body: &Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    match body.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(extra) => Err(ApiError::invalid_field(extra, format!("is not a known field ({})", allowed.join(", ")))),
        None => Ok(()),
    }
}

/// The value of one field as a string (numbers accepted for codelist codes, as the
/// reference's own examples send `organisation_type: 23`).
fn as_text(spec: &FieldSpec, v: &Value) -> Result<String, String> {
    match (v, spec.check) {
        (Value::String(s), _) => Ok(s.trim().to_string()),
        (Value::Number(n), Check::Region | Check::OrgType) => Ok(n.to_string()),
        _ => Err("must be a string".into()),
    }
}

/// Checks one value; `Err` is the message for that field.
pub fn check(spec: &FieldSpec, value: &str) -> Result<(), String> {
    let nonempty = || if value.is_empty() { Err("must not be empty".to_string()) } else { Ok(()) };
    match spec.check {
        Check::Text { max } => {
            if value.chars().count() > max {
                return Err(format!("must be at most {max} characters"));
            }
            if spec.required_on_create {
                nonempty()?;
            }
            Ok(())
        }
        Check::ShortName => {
            if value.len() < 2 || value.len() > 100 {
                return Err("must be 2 to 100 characters".into());
            }
            if !value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-') {
                return Err("must match ^[a-z0-9_-]+$ (lower-case letters, digits, _ and -)".into());
            }
            Ok(())
        }
        Check::Identifier => {
            nonempty()?;
            if value.len() > 200 {
                return Err("must be at most 200 characters".into());
            }
            if let Some(c) = value.chars().find(|c| c.is_whitespace() || "/&|?".contains(*c)) {
                return Err(format!("must not contain spaces or any of / & | ? (found {c:?})"));
            }
            Ok(())
        }
        Check::Country => {
            if codelists::is_country(value) {
                Ok(())
            } else if let Some(code) = codelists::country_code_for(value) {
                Err(format!("\"{value}\" is not a code from IATI's Country codelist; did you mean \"{code}\"?"))
            } else {
                Err(format!("\"{value}\" is not a code from IATI's Country codelist (ISO 3166-1 alpha-2, e.g. \"KE\")"))
            }
        }
        Check::Region => codelists::REGIONS
            .iter()
            .any(|(c, _)| *c == value)
            .then_some(())
            .ok_or_else(|| format!("\"{value}\" is not a code from IATI's Region codelist (e.g. \"289\")")),
        Check::OrgType => codelists::ORGANISATION_TYPES
            .iter()
            .any(|(c, _)| *c == value)
            .then_some(())
            .ok_or_else(|| format!("\"{value}\" is not a code from IATI's OrganisationType codelist (e.g. \"21\")")),
        Check::Url => {
            let rest = value.strip_prefix("https://").or_else(|| value.strip_prefix("http://"));
            match rest {
                Some(r)
                    if !r.is_empty()
                        && !r.starts_with('/')
                        && !value.contains(char::is_whitespace)
                        && value.len() <= 2000 =>
                {
                    Ok(())
                }
                _ => Err("must be an http(s) URL".into()),
            }
        }
        Check::Email => {
            let ok = value.len() <= 254
                && !value.contains(char::is_whitespace)
                && value.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                });
            ok.then_some(()).ok_or_else(|| "must be an email address".into())
        }
        Check::Phone => {
            let ok = value.len() <= 50 && value.chars().all(|c| c.is_ascii_digit() || " +-().x/".contains(c));
            ok.then_some(()).ok_or_else(|| "must be a phone number (digits, spaces and + - ( ) . only)".into())
        }
        Check::Licence => codelists::is_licence(value)
            .then_some(())
            .ok_or_else(|| format!("\"{value}\" is not a licence id from GET /api/v1/licences")),
        Check::OneOf(options) => {
            options.contains(&value).then_some(()).ok_or_else(|| format!("must be one of {}", options.join(", ")))
        }
        Check::Uuid => crate::ids::parse_id(value).map(|_| ()).ok_or_else(|| "must be a UUID".into()),
    }
}

/// The record's current value of a field, as text (for PATCH).
pub type Current<'a> = &'a dyn Fn(&str) -> Option<String>;

/// What a body asks to set: `Some(value)` or `None` for an explicit `null` (PATCH: clear).
pub type Changes = BTreeMap<String, Option<String>>;

/// Validates a body against `specs`.
///
/// - `current`: the record's current values for a PATCH (`None` for a create);
/// - `read_only`: fields accepted only with their current value (`current_read_only`).
///
/// Unknown fields, unchangeable fields with a new value, and invalid values are all
/// reported together, each by name.
pub fn validate(
    body: &Map<String, Value>,
    specs: &[FieldSpec],
    current: Option<Current<'_>>,
    read_only: &[&str],
) -> Result<Changes, ApiError> {
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut changes = Changes::new();
    for (name, value) in body {
        if let Some(spec) = specs.iter().find(|s| s.name == name) {
            if value.is_null() {
                match current {
                    None => {} // POST: null means absent
                    Some(_) if spec.required_on_create => {
                        errors.push((name.clone(), "is required and cannot be null".into()))
                    }
                    Some(_) if !spec.updatable => errors.push((name.clone(), "cannot be changed".into())),
                    Some(_) => {
                        changes.insert(name.clone(), None);
                    }
                }
                continue;
            }
            let text = match as_text(spec, value) {
                Ok(t) => t,
                Err(e) => {
                    errors.push((name.clone(), e));
                    continue;
                }
            };
            if let Some(current) = current {
                if !spec.updatable {
                    if current(name).as_deref() != Some(text.as_str()) {
                        errors.push((name.clone(), "cannot be changed after creation".into()));
                    }
                    continue;
                }
            }
            // An empty optional string means "unset".
            if text.is_empty() && !spec.required_on_create && current.is_some() {
                changes.insert(name.clone(), None);
                continue;
            }
            if text.is_empty() && !spec.required_on_create {
                continue;
            }
            match check(spec, &text) {
                Ok(()) => {
                    changes.insert(name.clone(), Some(text));
                }
                Err(e) => errors.push((name.clone(), e)),
            }
        } else if read_only.contains(&name.as_str()) {
            let same = current.and_then(|c| c(name)).is_some_and(|cur| value_equals(value, &cur));
            if !same {
                errors.push((name.clone(), "is read-only".into()));
            }
        } else {
            errors.push((name.clone(), "is not a known field".into()));
        }
    }
    if current.is_none() {
        for spec in specs.iter().filter(|s| s.required_on_create) {
            if !changes.contains_key(spec.name) && !errors.iter().any(|(n, _)| n == spec.name) {
                errors.push((spec.name.to_string(), "is required".into()));
            }
        }
    }
    if errors.is_empty() {
        Ok(changes)
    } else {
        errors.sort();
        Err(ApiError::invalid_fields(errors))
    }
}

/// Whether a JSON value sent back equals the current value as text.
fn value_equals(v: &Value, current: &str) -> bool {
    match v {
        Value::String(s) => s == current,
        Value::Bool(b) => (if *b { "true" } else { "false" }) == current,
        Value::Number(n) => n.to_string() == current,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn fields(e: ApiError) -> Vec<String> {
        e.extra["fields"].as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn create_requires_the_required_fields_and_names_every_problem() {
        let e = validate(
            &obj(json!({"short_name": "Bad Name", "extra": 1, "hq_country": "Kenya"})),
            ORG_FIELDS,
            None,
            ORG_READ_ONLY,
        )
        .unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(
            fields(e.clone()),
            vec!["contact_email", "extra", "hq_country", "human_readable_name", "short_name"]
        );
        assert!(e.message.contains("did you mean \"KE\""), "{}", e.message);
    }

    #[test]
    fn patch_accepts_read_only_fields_with_their_current_value() {
        let current = |n: &str| match n {
            "short_name" => Some("aid".to_string()),
            "registry_approved" => Some("false".to_string()),
            _ => Some(String::new()),
        };
        let ok = validate(
            &obj(json!({"short_name": "aid", "registry_approved": false, "description": "d"})),
            ORG_FIELDS,
            Some(&current),
            ORG_READ_ONLY,
        )
        .unwrap();
        assert_eq!(ok.len(), 1);
        let e = validate(
            &obj(json!({"short_name": "other", "registry_approved": true})),
            ORG_FIELDS,
            Some(&current),
            ORG_READ_ONLY,
        )
        .unwrap_err();
        assert_eq!(fields(e), vec!["registry_approved", "short_name"]);
        let e = validate(&obj(json!({"human_readable_name": null})), ORG_FIELDS, Some(&current), ORG_READ_ONLY)
            .unwrap_err();
        assert_eq!(fields(e), vec!["human_readable_name"]);
        let cleared = validate(&obj(json!({"website": null})), ORG_FIELDS, Some(&current), ORG_READ_ONLY).unwrap();
        assert_eq!(cleared.get("website"), Some(&None));
    }

    #[test]
    fn single_checks() {
        let spec = |name: &str| *ORG_FIELDS.iter().chain(DATASET_FIELDS).find(|s| s.name == name).unwrap();
        assert!(check(&spec("organisation_identifier"), "GB-COH-123").is_ok());
        for bad in ["GB COH", "a/b", "a&b", "a|b", "a?b"] {
            assert!(check(&spec("organisation_identifier"), bad).is_err(), "{bad}");
        }
        assert!(check(&spec("website"), "https://x.org/").is_ok());
        assert!(check(&spec("website"), "ftp://x.org/").is_err());
        assert!(check(&spec("contact_email"), "a@b.org").is_ok());
        assert!(check(&spec("contact_email"), "a@b").is_err());
        assert!(check(&spec("region"), "289").is_ok() && check(&spec("region"), "999").is_err());
        assert!(check(&spec("organisation_type"), "21").is_ok() && check(&spec("organisation_type"), "20").is_err());
        assert!(check(&spec("licence_id"), "cc-by").is_ok() && check(&spec("licence_id"), "cc").is_err());
        assert!(check(&spec("visibility"), "secret").is_err());
    }
}
