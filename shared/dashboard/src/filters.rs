//! The query parameters, as django-filter reads and refuses them: the last value of a
//! repeated parameter, empty values ignored, a value outside a choice list or not a UUID
//! refused with django's message under the parameter's name.

use crate::Error;
use ryd_store::dashboard::{words, DatasetFilter, FileType, OrgFilter};
use std::collections::BTreeMap;

/// Each parameter's last non-empty value (Django's `QueryDict.get`; django-filter skips
/// empty values).
pub(crate) fn last_values(pairs: &[(String, String)]) -> BTreeMap<&str, &str> {
    let mut out = BTreeMap::new();
    for (k, v) in pairs {
        out.insert(k.as_str(), v.as_str());
    }
    out.retain(|_, v| !v.is_empty());
    out
}

/// The parameters each list reads, besides DRF's `page`, `page_size` and `format`.
pub(crate) const ORG_PARAMS: &[&str] = &["hq_country", "recipient_country_code", "file_type", "file_types", "search"];
pub(crate) const DATASET_PARAMS: &[&str] = &["reporting_org__id", "reporting_org__short_name"];

/// `file_type`'s choices (the YAML's enum), and what each selects.
const FILE_TYPES: &[(&str, FileType)] = &[
    ("both", FileType::Both),
    ("iati-activities", FileType::Activities),
    ("iati-organisations", FileType::Organisations),
];

/// `file_type`'s accepted values.
pub const FILE_TYPE_CHOICES: [&str; 3] = [FILE_TYPES[0].0, FILE_TYPES[1].0, FILE_TYPES[2].0];

/// The YAML's country enum: IATI's Country codelist and `AN` (Netherlands Antilles,
/// withdrawn from the codelist, still a choice in the Dashboard).
pub fn is_country_choice(code: &str) -> bool {
    code == "AN" || ryd_codelists::is_country(code)
}

fn not_a_choice(param: &str, value: &str) -> (String, String) {
    (param.to_string(), format!("Select a valid choice. {value} is not one of the available choices."))
}

pub(crate) fn orgs(params: &BTreeMap<&str, &str>) -> Result<OrgFilter, Error> {
    let mut f = OrgFilter::default();
    let mut errors = Vec::new();
    // `file_types` is the live service's alias of `file_type`.
    let file_type = ["file_type", "file_types"].iter().find_map(|p| params.get(p).map(|v| (*p, *v)));
    if let Some((param, value)) = file_type {
        match FILE_TYPES.iter().find(|(name, _)| *name == value) {
            Some((_, kind)) => f.file_type = Some(*kind),
            None => errors.push(not_a_choice(param, value)),
        }
    }
    for (param, slot) in [("hq_country", &mut f.hq_country), ("recipient_country_code", &mut f.recipient_country)] {
        if let Some(value) = params.get(param) {
            if is_country_choice(value) {
                *slot = Some(value.to_string());
            } else {
                errors.push(not_a_choice(param, value));
            }
        }
    }
    if let Some(q) = params.get("search") {
        f.search = words(q);
    }
    if errors.is_empty() {
        Ok(f)
    } else {
        Err(Error::Filters(errors))
    }
}

pub(crate) fn datasets(params: &BTreeMap<&str, &str>) -> Result<DatasetFilter, Error> {
    let mut f = DatasetFilter::default();
    if let Some(value) = params.get("reporting_org__id") {
        match uuid(value) {
            Some(id) => f.reporting_org_id = Some(id),
            None => return Err(Error::Filters(vec![("reporting_org__id".into(), "Enter a valid UUID.".into())])),
        }
    }
    f.reporting_org_short_name = params.get("reporting_org__short_name").map(|s| s.to_string());
    Ok(f)
}

/// A UUID as Django's `UUIDField` accepts one (32 hex digits, hyphens anywhere, braces or
/// a `urn:uuid:` prefix), in the registry's form: lower case, hyphenated.
pub(crate) fn uuid(text: &str) -> Option<String> {
    let t = text.trim();
    let t = t.strip_prefix("urn:uuid:").unwrap_or(t);
    let t = t.strip_prefix('{').and_then(|s| s.strip_suffix('}')).unwrap_or(t);
    let hex: String = t.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let h = hex.to_ascii_lowercase();
    Some(format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]))
}

/// A boolean query parameter as DRF's `BooleanField` reads one (absent: false).
pub(crate) fn boolean(req: &ryd_http::Request, name: &str) -> Result<bool, Error> {
    let pairs = req.query_pairs();
    let Some(value) = last_values(&pairs).get(name).map(|v| v.to_ascii_lowercase()) else { return Ok(false) };
    match value.as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        _ => Err(Error::Filters(vec![(name.into(), "Must be a valid boolean.".into())])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_in_every_form_django_accepts() {
        let id = "5401c7f4-e9fd-4ce3-b184-bfe1cb71a9f8";
        for form in [
            id,
            "5401C7F4E9FD4CE3B184BFE1CB71A9F8",
            "{5401c7f4-e9fd-4ce3-b184-bfe1cb71a9f8}",
            "urn:uuid:5401c7f4-e9fd-4ce3-b184-bfe1cb71a9f8",
        ] {
            assert_eq!(uuid(form).as_deref(), Some(id), "{form}");
        }
        for bad in ["", "5401c7f4", "5401c7f4-e9fd-4ce3-b184-bfe1cb71a9fg", "publisher-00001"] {
            assert_eq!(uuid(bad), None, "{bad}");
        }
    }

    #[test]
    fn refusals_name_each_parameter_with_djangos_message() {
        let pairs: Vec<(String, String)> =
            [("hq_country", "XX"), ("file_types", "csv"), ("recipient_country_code", "GB")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let Err(Error::Filters(errors)) = orgs(&last_values(&pairs)) else { panic!("refused") };
        assert_eq!(
            errors,
            [
                not_a_choice("file_types", "csv"),
                (
                    "hq_country".to_string(),
                    "Select a valid choice. XX is not one of the available choices.".to_string()
                ),
            ]
        );
    }

    #[test]
    fn the_last_value_counts_and_empty_values_are_ignored() {
        let pairs: Vec<(String, String)> = [("hq_country", "XX"), ("hq_country", "GB"), ("file_type", "")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let f = orgs(&last_values(&pairs)).unwrap();
        assert_eq!(f.hq_country.as_deref(), Some("GB"));
        assert_eq!(f.file_type, None);
    }
}
