//! Ids in paths and bodies: any 8-4-4-4-12 hexadecimal form (CKAN's and the CRM's too).

/// The canonical (lower-case) form of an id, or `None` when it is not one.
pub fn parse_id(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    (parts.len() == 5 && parts.iter().zip(lens).all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit())))
        .then(|| s.to_ascii_lowercase())
}

/// A new server-generated id (UUID v7: time-ordered, so inserts stay index-friendly).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(
            parse_id("5401C7F4-E9FD-4CE3-B184-BFE1CB71A9F8").as_deref(),
            Some("5401c7f4-e9fd-4ce3-b184-bfe1cb71a9f8")
        );
        assert_eq!(
            parse_id("00000000-0000-0000-0000-000000000000").as_deref(),
            Some("00000000-0000-0000-0000-000000000000")
        );
        for bad in ["", "abc", "5401c7f4e9fd4ce3b184bfe1cb71a9f8", "5401c7f4-e9fd-4ce3-b184-bfe1cb71a9fg", "../etc"] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
        assert_eq!(parse_id(&new_id()).map(|s| s.len()), Some(36));
    }
}
