//! PUT /datasets/{did}/pipeline and PUT /datasets/pipeline: the data pipeline reports what
//! it learned from each dataset's file (the CKAN extras, the resource's hash and size, what
//! the Dashboard filters on). Superadmins and clients named in `pipeline_clients` only
//! (the scope table's rule); every fact validated, a `null` clears one, a fact left out
//! keeps its value; audited; one transaction per request (a batch is all or nothing).

use crate::context::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use ryd_store::pipeline::{self, Facts, FACTS};
use ryd_store::{datasets, orgs, Value as SqlValue};
use serde_json::{json, Map, Value};

/// What a fact accepts besides `null`.
#[derive(Debug, Clone, Copy)]
enum Check {
    OneOf(&'static [&'static str]),
    /// A whole number, zero or more.
    Count,
    /// IATI's Country codelist.
    Country,
    /// An ISO 639-1 code (IATI's Language codelist), lower case.
    Language,
    /// An RFC 3339 date-time, or CKAN's `YYYY-MM-DD HH:MM:SS` (UTC); kept in CKAN's form,
    /// which the CKAN API shows.
    DateTime,
    /// A SHA-1, as CKAN's resource `hash`: 40 hex digits.
    Sha1,
}

/// IATI's Version codelist.
const IATI_VERSIONS: &[&str] = &["1.01", "1.02", "1.03", "1.04", "1.05", "2.01", "2.02", "2.03"];

/// Each fact's check, in [`FACTS`] order (a test keeps the two lists the same).
const CHECKS: [(&str, Check); 9] = [
    ("filetype", Check::OneOf(&["activity", "organisation"])),
    ("iati_version", Check::OneOf(IATI_VERSIONS)),
    ("activity_count", Check::Count),
    ("country", Check::Country),
    ("language", Check::Language),
    ("data_updated", Check::DateTime),
    // The IATI Validator's outcome for the file, as the old registry kept it.
    ("validation_status", Check::OneOf(&["Critical", "Error", "Warning", "Success"])),
    ("resource_hash", Check::Sha1),
    ("resource_size", Check::Count),
];

/// The most datasets one batch may report.
const BATCH_MAX: usize = 1000;

fn check(c: Check, v: &Value) -> Result<SqlValue, String> {
    if v.is_null() {
        return Ok(SqlValue::Null);
    }
    let text = || v.as_str().ok_or_else(|| "must be a string or null".to_string());
    match c {
        Check::OneOf(choices) => {
            let t = text()?;
            choices
                .contains(&t)
                .then(|| SqlValue::from(t))
                .ok_or_else(|| format!("must be one of {}", choices.join(", ")))
        }
        Check::Count => v
            .as_i64()
            .filter(|n| *n >= 0)
            .map(SqlValue::from)
            .ok_or_else(|| "must be a whole number, zero or more, or null".to_string()),
        Check::Country => {
            let t = text()?;
            ryd_codelists::is_country(t)
                .then(|| SqlValue::from(t))
                .ok_or_else(|| format!("{t:?} is not a code of IATI's Country codelist"))
        }
        Check::Language => {
            let t = text()?;
            (t.len() == 2 && t.bytes().all(|b| b.is_ascii_lowercase()))
                .then(|| SqlValue::from(t))
                .ok_or_else(|| format!("{t:?} is not an ISO 639-1 language code (two lower-case letters)"))
        }
        Check::DateTime => {
            let t = text()?;
            let seconds = crate::time::parse_rfc3339(t)
                .or_else(|| crate::time::parse_rfc3339(&format!("{}Z", t.replacen(' ', "T", 1))))
                .ok_or_else(|| format!("{t:?} is not a date-time (RFC 3339, or YYYY-MM-DD HH:MM:SS in UTC)"))?;
            // CKAN's form: the RFC 3339 UTC text with a space for the T and no offset.
            let utc = crate::time::rfc3339(seconds * 1000);
            Ok(SqlValue::from(utc.get(..19).unwrap_or_default().replacen('T', " ", 1).as_str()))
        }
        Check::Sha1 => {
            let t = text()?;
            (t.len() == 40 && t.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| SqlValue::from(t.to_ascii_lowercase().as_str()))
                .ok_or_else(|| "must be a SHA-1 in hex (40 digits)".to_string())
        }
    }
}

/// The facts an object reports, checked; `prefix` names where it sits in the request.
/// Every problem is reported at once.
fn reported(body: &Map<String, Value>, prefix: &str, skip: &[&str]) -> Result<Facts, Vec<(String, String)>> {
    let mut facts = Facts::new();
    let mut errors = Vec::new();
    for (k, v) in body {
        if skip.contains(&k.as_str()) {
            continue;
        }
        match CHECKS.iter().find(|(name, _)| name == k) {
            Some((name, c)) => match check(*c, v) {
                Ok(value) => facts.push((name, value)),
                Err(e) => errors.push((format!("{prefix}{k}"), e)),
            },
            None => errors
                .push((format!("{prefix}{k}"), format!("is not a pipeline fact (those are: {})", FACTS.join(", ")))),
        }
    }
    // In FACTS order, so statements and audit records read the same every time.
    facts.sort_by_key(|(name, _)| FACTS.iter().position(|f| f == name));
    if errors.is_empty() {
        Ok(facts)
    } else {
        Err(errors)
    }
}

fn as_json(v: &SqlValue) -> Value {
    match v {
        SqlValue::Null => Value::Null,
        SqlValue::Integer(n) => json!(n),
        SqlValue::Real(x) => json!(x),
        SqlValue::Text(t) => json!(t),
        SqlValue::Blob(_) => Value::Null,
    }
}

fn facts_json(facts: &Facts) -> Value {
    Value::Object(facts.iter().map(|(k, v)| (k.to_string(), as_json(v))).collect())
}

/// Writes one dataset's reported facts and audits the change: the dataset's facts after.
fn apply(ctx: &Ctx, did: &str, reported: &Facts) -> ApiResult<Option<Value>> {
    let Some(d) = datasets::get(ctx.sql(), did)? else { return Ok(None) };
    let before = pipeline::get(ctx.sql(), did)?;
    let changed: Facts =
        reported.iter().filter(|(k, v)| before.iter().any(|(b, old)| b == k && old != v)).cloned().collect();
    if !changed.is_empty() {
        pipeline::set(ctx.sql(), did, &changed)?;
        // The CKAN extras of a public dataset changed: mirrors fetch it again.
        ryd_store::changes::dataset_updated(ctx.sql(), did)?;
        let was: Facts = before.iter().filter(|(k, _)| changed.iter().any(|(c, _)| c == k)).cloned().collect();
        let org = orgs::get(ctx.sql(), &d.organisation_id)?;
        ctx.audit(
            "set_pipeline_facts",
            "dataset",
            did,
            org.as_ref(),
            Some(facts_json(&was)),
            Some(facts_json(&changed)),
        )?;
    }
    let after = pipeline::get(ctx.sql(), did)?;
    Ok(Some(json!({"id": did, "facts": facts_json(&after)})))
}

pub(crate) fn set_one(ctx: &Ctx) -> ApiResult<Reply> {
    let did = ctx.id_param("did")?;
    let body = ctx.body()?;
    let facts = reported(&body, "", &[]).map_err(ApiError::invalid_fields)?;
    ctx.write(|| {
        let answer = apply(ctx, &did, &facts)?.ok_or_else(ApiError::dataset_not_found)?;
        Ok(Reply::ok(answer))
    })
}

/// `{"datasets": [{"id": …, <facts>}, …]}`: every item checked before anything is
/// written; an unknown dataset refuses the whole batch.
pub(crate) fn set_many(ctx: &Ctx) -> ApiResult<Reply> {
    let body = ctx.body()?;
    let items = body
        .get("datasets")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::invalid_field("datasets", "must be a list of {\"id\": …, <facts>} objects"))?;
    if items.len() > BATCH_MAX {
        return Err(ApiError::invalid_field("datasets", format!("at most {BATCH_MAX} datasets per request")));
    }
    let mut batch = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let prefix = format!("datasets[{i}].");
        let Some(obj) = item.as_object() else {
            errors.push((format!("datasets[{i}]"), "must be an object".to_string()));
            continue;
        };
        let id = obj.get("id").and_then(Value::as_str).and_then(crate::ids::parse_id);
        match (id, reported(obj, &prefix, &["id"])) {
            (Some(id), Ok(facts)) => batch.push((id, facts)),
            (id, facts) => {
                if id.is_none() {
                    errors.push((format!("{prefix}id"), "must be a dataset's UUID".to_string()));
                }
                errors.extend(facts.err().unwrap_or_default());
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    ctx.write(|| {
        let mut answers = Vec::with_capacity(batch.len());
        for (i, (id, facts)) in batch.iter().enumerate() {
            let answer = apply(ctx, id, facts)?.ok_or_else(|| {
                ApiError::invalid_field(&format!("datasets[{i}].id"), "Dataset UUID is not known in the registry.")
            })?;
            answers.push(answer);
        }
        Ok(Reply::ok(json!({"datasets": answers})))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fact_has_a_check_in_the_stores_order() {
        let names: Vec<&str> = CHECKS.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, FACTS);
    }

    #[test]
    fn checks_accept_and_refuse() {
        let ok = |c, v: Value| check(c, &v).unwrap_or_else(|e| panic!("{v}: {e}"));
        assert_eq!(ok(Check::Count, json!(0)), SqlValue::Integer(0));
        assert_eq!(ok(Check::Count, Value::Null), SqlValue::Null);
        assert_eq!(ok(Check::DateTime, json!("2025-09-02T14:38:34+02:00")), SqlValue::from("2025-09-02 12:38:34"));
        assert_eq!(ok(Check::DateTime, json!("2025-09-02 12:38:34")), SqlValue::from("2025-09-02 12:38:34"));
        assert_eq!(
            ok(Check::Sha1, json!("06D18A58DB0E0157E93414EDE9091EB44897C108")),
            SqlValue::from("06d18a58db0e0157e93414ede9091eb44897c108")
        );
        for (c, bad) in [
            (Check::Count, json!(-1)),
            (Check::Count, json!(1.5)),
            (Check::Count, json!("3")),
            (Check::Country, json!("XX")),
            (Check::Language, json!("EN")),
            (Check::DateTime, json!("yesterday")),
            (Check::Sha1, json!("abc")),
            (Check::OneOf(IATI_VERSIONS), json!("2.04")),
        ] {
            assert!(check(c, &bad).is_err(), "{bad} refused");
        }
    }
}
