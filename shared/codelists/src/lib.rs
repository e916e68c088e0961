#![warn(missing_docs)]
//! IATI codelists and the licence list, as data.

use std::sync::OnceLock;

/// IATI Region codelist (version 2.03).
pub const REGIONS: &[(&str, &str)] = &[
    ("88", "States Ex-Yugoslavia unspecified"),
    ("89", "Europe, regional"),
    ("189", "North of Sahara, regional"),
    ("289", "South of Sahara, regional"),
    ("298", "Africa, regional"),
    ("380", "West Indies, regional"),
    ("389", "North and Central America, regional"),
    ("489", "South America, regional"),
    ("498", "America, regional"),
    ("589", "Middle East, regional"),
    ("619", "Central Asia, regional"),
    ("679", "South Asia, regional"),
    ("689", "South and Central Asia, regional"),
    ("789", "Far East Asia, regional"),
    ("798", "Asia, regional"),
    ("889", "Oceania, regional"),
    ("998", "Developing countries, unspecified"),
    ("1027", "Eastern Africa, regional"),
    ("1028", "Middle Africa, regional"),
    ("1029", "Southern Africa, regional"),
    ("1030", "Western Africa, regional"),
    ("1031", "Caribbean, regional"),
    ("1032", "Central America, regional"),
    ("1033", "Melanesia, regional"),
    ("1034", "Micronesia, regional"),
    ("1035", "Polynesia, regional"),
];

/// IATI OrganisationType codelist (version 2.03).
pub const ORGANISATION_TYPES: &[(&str, &str)] = &[
    ("10", "Government"),
    ("11", "Local Government"),
    ("15", "Other Public Sector"),
    ("21", "International NGO"),
    ("22", "National NGO"),
    ("23", "Regional NGO"),
    ("24", "Partner Country based NGO"),
    ("30", "Public Private Partnership"),
    ("40", "Multilateral"),
    ("60", "Foundation"),
    ("70", "Private Sector"),
    ("71", "Private Sector in Provider Country"),
    ("72", "Private Sector in Aid Recipient Country"),
    ("73", "Private Sector in Third Country"),
    ("80", "Academic, Training and Research"),
    ("90", "Other"),
];

/// (code, common name, official name) of IATI's Country codelist.
pub fn countries() -> &'static [(String, String, String)] {
    static C: OnceLock<Vec<(String, String, String)>> = OnceLock::new();
    C.get_or_init(|| {
        include_str!("../data/countries.tsv")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .filter_map(|l| {
                let mut p = l.split('\t');
                Some((p.next()?.to_string(), p.next()?.to_string(), p.next()?.to_string()))
            })
            .collect()
    })
}

/// Whether `code` is an ISO 3166-1 alpha-2 country of IATI's Country codelist.
pub fn is_country(code: &str) -> bool {
    countries().iter().any(|(c, _, _)| c == code)
}

/// The code of a country given by name ("Kenya" → "KE"), for a helpful error.
pub fn country_code_for(name: &str) -> Option<&'static str> {
    let n = name.trim().to_lowercase();
    countries()
        .iter()
        .find(|(c, common, official)| {
            common.to_lowercase() == n || official.to_lowercase() == n || c.to_lowercase() == n
        })
        .map(|(c, _, _)| c.as_str())
}

/// One licence of IATI's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Licence {
    /// Its id (`cc-by`).
    pub id: String,
    /// Its label as the list gives it (`Group::Label`).
    pub full_label: String,
    /// Its label without the group.
    pub short_label: String,
    /// `preferred`, `supported` or `legacy`, from its group ([`licences`]).
    pub status: &'static str,
}

/// IATI's licence list (`licences.json`: id → "Group::Label"). The list carries no status;
/// ours is derived from its group: open-data licences (OKD Compliant) are `preferred`,
/// software licences (OSI Approved) are `legacy` (they were never meant for data), the rest
/// `supported`.
pub fn licences() -> &'static [Licence] {
    static L: OnceLock<Vec<Licence>> = OnceLock::new();
    L.get_or_init(|| {
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(include_str!("../data/licences.json")).unwrap_or_default();
        let mut list = map
            .into_iter()
            .map(|(id, label)| {
                let full = label.as_str().unwrap_or_default().to_string();
                let (group, short) = full.split_once("::").unwrap_or(("", full.as_str()));
                let status = match group {
                    "OKD Compliant" => "preferred",
                    "OSI Approved" => "legacy",
                    _ => "supported",
                };
                Licence { id, short_label: short.to_string(), full_label: full.clone(), status }
            })
            .collect::<Vec<_>>();
        list.sort_by_key(|l| l.id.to_lowercase());
        list
    })
}

/// Whether `id` is a licence of IATI's list.
pub fn is_licence(id: &str) -> bool {
    licences().iter().any(|l| l.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_files_load() {
        assert!(countries().len() >= 249);
        assert!(is_country("KE") && is_country("XK") && !is_country("Kenya"));
        assert_eq!(country_code_for("kenya"), Some("KE"));
        assert_eq!(country_code_for("United Kingdom"), Some("GB"));
        assert_eq!(licences().len(), 78);
        assert!(is_licence("gpl-3.0") && is_licence("cc-by") && !is_licence("nope"));
        let gpl = licences().iter().find(|l| l.id == "gpl-3.0").unwrap();
        assert_eq!(gpl.short_label, "GNU General Public License version 3.0 (GPLv3)");
    }
}
