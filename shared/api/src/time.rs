//! Dates as the reference writes them: RFC 3339 with `+00:00`.

/// Unix milliseconds as RFC 3339 UTC with `+00:00`, to the second.
pub fn rfc3339(millis: i64) -> String {
    chrono::DateTime::from_timestamp(millis.div_euclid(1000), 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
        .unwrap_or_default()
}

/// An RFC 3339 date-time (any offset) as Unix seconds.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text.trim()).ok().map(|t| t.timestamp())
}

#[cfg(test)]
mod tests {
    #[test]
    fn format() {
        assert_eq!(super::rfc3339(1_673_798_054_000), "2023-01-15T15:54:14+00:00");
    }
}
