#![warn(missing_docs)]
//! Who is told what when something changes (issue 25; README.md here).
//!
//! - [`RULES`] is the one table from a change (an audit event: action, target, before and
//!   after) to the [`Notice`]s it causes and their [`Audience`]; [`notices`] reads it.
//! - [`render`] turns a notice and its [`Facts`] into an [`Email`]: one template per notice,
//!   written once as blocks and rendered both as text and as HTML (every value escaped by
//!   maud), with a subject that is always one line.
//! - [`one_line`] and [`is_address`] keep header values safe: no value can add a header.
//!
//! Pure: the API resolves the audience to addresses from its store and writes the outbox
//! in the change's own transaction; delivery workers only send what is written.

pub mod acs;
mod rules;
mod templates;
pub mod webhook;

pub use rules::{notices, Audience, Change, Notice, Rule, RULES};
pub use templates::{render, Email, Facts, Org, Person};

/// A header value on one line: every control character (CR and LF above all, which would
/// start a new header) becomes a space, and runs of spaces one.
pub fn one_line(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars().map(|c| if c.is_control() { ' ' } else { c }) {
        if !(c == ' ' && (out.is_empty() || out.ends_with(' '))) {
            out.push(c);
        }
    }
    out.trim_end().to_string()
}

/// Whether `s` is a plain address `local@domain` a message may be sent to: no spaces,
/// control characters, angle brackets, commas or quotes (which would let one value name
/// several recipients or add a header), one `@`, a dotted domain, at most 254 bytes.
pub fn is_address(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    let plain = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | ',' | ';' | '"' | '\\' | '@' | '(' | ')'))
    };
    s.len() <= 254
        && plain(local)
        && plain(domain)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_value_cannot_start_another_header() {
        assert_eq!(one_line("Ada\r\nBcc: evil@example.org"), "Ada Bcc: evil@example.org");
        assert_eq!(one_line("  tabs\tand\nnew lines \u{7f} "), "tabs and new lines");
        assert_eq!(one_line("Zoë Ó Briain"), "Zoë Ó Briain");
    }

    #[test]
    fn only_plain_addresses_are_recipients() {
        assert!(is_address("ada@example.org"));
        assert!(is_address("first.last+tag@sub.example.co.uk"));
        for bad in [
            "",
            "ada",
            "ada@localhost",
            "ada@example.org\r\nBcc: evil@example.org",
            "Ada <ada@example.org>",
            "ada@example.org, evil@example.org",
            "a@b@example.org",
            "ada @example.org",
            "ada@.example.org",
        ] {
            assert!(!is_address(bad), "{bad:?} accepted");
        }
    }
}
