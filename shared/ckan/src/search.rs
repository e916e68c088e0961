//! `package_search`'s query language, as far as the registry's callers use it.

use crate::CkanError;
use ryd_store::public::{Bound, Filter, Sort};

/// `q`: full text. Words become an FTS5 query of prefix terms, all required; `*:*` and
/// empty mean everything.
pub(crate) fn text_query(q: &str) -> Option<String> {
    let q = q.trim();
    if q.is_empty() || q == "*:*" || q == "*" {
        return None;
    }
    let words: Vec<String> = q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !matches!(*w, "AND" | "OR" | "NOT"))
        .map(|w| format!("\"{}\"*", w.to_lowercase()))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// `fq`: `field:value` terms joined by `AND` or spaces; values bare or quoted.
pub(crate) fn parse_fq(fq: &str, filter: &mut Filter) -> Result<(), CkanError> {
    let err = |m: String| CkanError::SearchQuery(format!("Can not parse fq {fq:?}: {m}"));
    let chars: Vec<char> = fq.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && chars[i] != ':' {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        if i >= chars.len() || chars[i] != ':' {
            if word == "AND" || word == "&&" {
                continue;
            }
            return Err(err(format!("expected field:value, found {word:?}")));
        }
        let field = word.trim_start_matches('+');
        if field.starts_with('-') || field.starts_with('(') {
            return Err(err(format!("negation and grouping are not supported ({field:?})")));
        }
        i += 1; // ':'
                // A Solr range, `[from TO to]` (`{`/`}` for an open end), on metadata_modified.
        if i < chars.len() && (chars[i] == '[' || chars[i] == '{') {
            let s = i;
            let end = chars[s..]
                .iter()
                .position(|c| *c == ']' || *c == '}')
                .ok_or_else(|| err("unterminated range".into()))?;
            i = s + end + 1;
            let range: String = chars[s..i].iter().collect();
            if field != "metadata_modified" {
                return Err(err(format!("ranges are supported on metadata_modified only, not {field:?}")));
            }
            let (from, to) = parse_range(&range).map_err(err)?;
            filter.modified_from = from;
            filter.modified_to = to;
            continue;
        }
        // `field:(a OR b …)`: any of several values (Solr's syntax; values bare or quoted).
        let values: Vec<String> = if i < chars.len() && chars[i] == '(' {
            let s = i + 1;
            let end = chars[s..].iter().position(|c| *c == ')').ok_or_else(|| err("unterminated group".into()))?;
            i = s + end + 1;
            let inner: String = chars[s..s + end].iter().collect();
            let values: Vec<String> = inner
                .split_whitespace()
                .filter(|t| *t != "OR")
                .map(|t| t.trim_matches('"').to_string())
                .filter(|t| !t.is_empty())
                .collect();
            if values.is_empty() {
                return Err(err(format!("no value for {field}")));
            }
            values
        } else if i < chars.len() && chars[i] == '"' {
            let s = i + 1;
            let end = chars[s..].iter().position(|c| *c == '"').ok_or_else(|| err("unterminated quote".into()))?;
            i = s + end + 1;
            vec![chars[s..s + end].iter().collect::<String>()]
        } else {
            let s = i;
            while i < chars.len() && !chars[i].is_whitespace() {
                i += 1;
            }
            vec![chars[s..i].iter().collect::<String>()]
        };
        for value in values {
            if value.is_empty() {
                return Err(err(format!("no value for {field}")));
            }
            if value == "*" {
                continue;
            }
            let target = match field {
                "organization" => &mut filter.org_names,
                "owner_org" => &mut filter.org_ids,
                "publisher_iati_id" => &mut filter.publisher_iati_ids,
                "extras_filetype" | "filetype" => &mut filter.filetypes,
                "name" => &mut filter.names,
                "id" => &mut filter.ids,
                "res_format" => &mut filter.res_formats,
                "license_id" => &mut filter.licence_ids,
                // Always true here: every listed dataset is an active, public dataset.
                "type" if value == "dataset" => continue,
                "state" if value == "active" => continue,
                "private" if value == "false" => continue,
                "dataset_type" if value == "dataset" => continue,
                other => return Err(err(format!("unknown field {other:?}"))),
            };
            target.push(value);
        }
    }
    Ok(())
}

/// `[2024-01-01T00:00:00Z TO *]`, `{… TO …}`: Solr's inclusive and exclusive ends, `*`
/// for an open one. Dates in UTC, as Solr writes them; fractions of a second are folded
/// into the comparison (the registry keeps whole seconds).
fn parse_range(range: &str) -> Result<(Option<Bound>, Option<Bound>), String> {
    let open_inclusive = range.starts_with('[');
    let close_inclusive = range.ends_with(']');
    let inner = &range[1..range.len() - 1];
    let (from, to) = inner.split_once(" TO ").ok_or_else(|| format!("expected [from TO to], found {range:?}"))?;
    let end = |text: &str, inclusive: bool, lower: bool| -> Result<Option<Bound>, String> {
        let text = text.trim();
        if text == "*" {
            return Ok(None);
        }
        let (at, fraction) = solr_date(text).ok_or_else(|| {
            format!("{text:?} is not a date in UTC like 2024-01-01T00:00:00Z (NOW and date math are not supported)")
        })?;
        // Whole seconds t against X.f (f > 0): t ≥ X.f ⇔ t > X; t ≤ X.f ⇔ t ≤ X.
        let inclusive = if fraction { !lower } else { inclusive };
        Ok(Some(Bound { at, inclusive }))
    };
    Ok((end(from, open_inclusive, true)?, end(to, close_inclusive, false)?))
}

/// A Solr date (`YYYY-MM-DDTHH:MM:SS[.fff][Z|+00:00]`) as the registry stores dates, and
/// whether it had a non-zero fraction of a second.
fn solr_date(text: &str) -> Option<(String, bool)> {
    let rest = text.strip_suffix('Z').or_else(|| text.strip_suffix("+00:00")).unwrap_or(text);
    let (whole, fraction) = rest.split_once('.').unwrap_or((rest, ""));
    let shape = "dddd-dd-ddTdd:dd:dd";
    let fits = whole.len() == shape.len()
        && whole.chars().zip(shape.chars()).all(|(c, s)| if s == 'd' { c.is_ascii_digit() } else { c == s });
    if !fits || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((format!("{whole}+00:00"), fraction.chars().any(|c| c != '0')))
}

pub(crate) fn parse_sort(sort: Option<&str>) -> Result<Sort, CkanError> {
    let Some(sort) = sort.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(Sort::Score);
    };
    let first = sort.split(',').next().unwrap_or("").trim().to_ascii_lowercase();
    let mut parts = first.split_whitespace();
    let field = parts.next().unwrap_or("");
    let desc = match parts.next() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => {
            return Err(CkanError::SearchQuery(format!("Can not sort by {sort:?}: unknown direction {other:?}")))
        }
    };
    Ok(match (field, desc) {
        ("score", _) => Sort::Score,
        ("metadata_modified", true) => Sort::MetadataModifiedDesc,
        ("metadata_modified", false) => Sort::MetadataModifiedAsc,
        ("name", false) => Sort::NameAsc,
        ("name", true) => Sort::NameDesc,
        ("title_string" | "title", false) => Sort::TitleAsc,
        ("title_string" | "title", true) => Sort::TitleDesc,
        _ => return Err(CkanError::SearchQuery(format!("Can not sort by {sort:?}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_may_take_any_of_several_values() {
        let mut f = Filter::default();
        parse_fq("id:(\"a-1\" OR b-2 OR \"c-3\") AND organization:x", &mut f).unwrap();
        assert_eq!(f.ids, ["a-1", "b-2", "c-3"]);
        assert_eq!(f.org_names, ["x"]);
        for bad in ["id:(a OR b", "id:()", "id:( OR )"] {
            assert!(matches!(parse_fq(bad, &mut Filter::default()), Err(CkanError::SearchQuery(_))), "{bad}");
        }
    }

    #[test]
    fn metadata_modified_ranges_as_solr_writes_them() {
        let range = |fq: &str| {
            let mut f = Filter::default();
            parse_fq(fq, &mut f).map(|_| (f.modified_from, f.modified_to))
        };
        let b = |at: &str, inclusive| Some(Bound { at: at.into(), inclusive });
        assert_eq!(
            range("metadata_modified:[2024-01-01T00:00:00Z TO *]").unwrap(),
            (b("2024-01-01T00:00:00+00:00", true), None)
        );
        assert_eq!(
            range("organization:x AND metadata_modified:{2024-01-01T00:00:00Z TO 2024-02-01T00:00:00.000Z]").unwrap(),
            (b("2024-01-01T00:00:00+00:00", false), b("2024-02-01T00:00:00+00:00", true))
        );
        assert_eq!(
            range("metadata_modified:[2024-01-01T00:00:00.5Z TO 2024-02-01T00:00:00.5Z}").unwrap(),
            (b("2024-01-01T00:00:00+00:00", false), b("2024-02-01T00:00:00+00:00", true)),
            "fractions fold into whole seconds"
        );
        for bad in [
            "metadata_modified:[NOW-1DAY TO NOW]",
            "metadata_modified:[2024-01-01 TO *]",
            "metadata_modified:[2024-01-01T00:00:00Z *]",
            "metadata_modified:[2024-01-01T00:00:00Z TO *",
            "name:[a TO b]",
        ] {
            assert!(matches!(range(bad), Err(CkanError::SearchQuery(_))), "{bad}");
        }
    }

    #[test]
    fn fq_forms_the_callers_send() {
        let mut f = Filter::default();
        parse_fq("organization:aid-agency AND extras_filetype:\"activity\" name:x +res_format:IATI-XML", &mut f)
            .unwrap();
        assert_eq!(f.org_names, vec!["aid-agency"]);
        assert_eq!(f.filetypes, vec!["activity"]);
        assert_eq!(f.names, vec!["x"]);
        assert_eq!(f.res_formats, vec!["IATI-XML"]);
        let mut f = Filter::default();
        parse_fq("publisher_iati_id:\"GB-COH 123\" owner_org:abc type:dataset", &mut f).unwrap();
        assert_eq!((f.publisher_iati_ids, f.org_ids), (vec!["GB-COH 123".to_string()], vec!["abc".to_string()]));
        for bad in ["colour:red", "organization:\"open", "justaword", "-organization:x", "organization:"] {
            assert!(matches!(parse_fq(bad, &mut Filter::default()), Err(CkanError::SearchQuery(_))), "{bad}");
        }
    }

    #[test]
    fn q_and_sort() {
        assert_eq!(text_query("Water & Sanitation"), Some("\"water\"* \"sanitation\"*".into()));
        assert_eq!(text_query("*:*"), None);
        assert_eq!(text_query("\"); DROP"), Some("\"drop\"*".into()));
        assert_eq!(parse_sort(Some("metadata_modified desc")).unwrap(), Sort::MetadataModifiedDesc);
        assert_eq!(parse_sort(Some("score desc, metadata_modified desc")).unwrap(), Sort::Score);
        assert_eq!(parse_sort(Some("title_string asc")).unwrap(), Sort::TitleAsc);
        assert!(parse_sort(Some("colour desc")).is_err());
    }
}
