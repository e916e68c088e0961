//! `package_search`'s query language, as far as the registry's callers use it.

use crate::CkanError;
use ryd_store::public::{Filter, Sort};

/// `q`: full text. Words become an FTS5 query of prefix terms, all required; `*:*` and
/// empty mean everything.
pub fn text_query(q: &str) -> Option<String> {
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
pub fn parse_fq(fq: &str, filter: &mut Filter) -> Result<(), CkanError> {
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
        let value = if i < chars.len() && chars[i] == '"' {
            let s = i + 1;
            let end = chars[s..].iter().position(|c| *c == '"').ok_or_else(|| err("unterminated quote".into()))?;
            i = s + end + 1;
            chars[s..s + end].iter().collect::<String>()
        } else {
            let s = i;
            while i < chars.len() && !chars[i].is_whitespace() {
                i += 1;
            }
            chars[s..i].iter().collect::<String>()
        };
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
    Ok(())
}

pub fn parse_sort(sort: Option<&str>) -> Result<Sort, CkanError> {
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
