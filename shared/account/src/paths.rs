//! Where the browser goes after sign-in: a path on this site, never another site (OWASP's
//! unvalidated redirects cheat sheet). The path comes from the browser, so it is checked
//! when it is stored and again when it is used.

/// `Some(path)` when `candidate` is a local absolute path; `None` for anything a browser
/// could read as another origin: a scheme, `//host`, `/\host` (browsers treat `\` as `/`),
/// control characters, or no leading `/`.
pub fn local_return_path(candidate: &str) -> Option<&str> {
    let bytes = candidate.as_bytes();
    let local = bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/') | Some(b'\\'))
        && !candidate.chars().any(|c| c.is_control() || c == '\\')
        && candidate.len() <= 2048;
    local.then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_pass_and_everything_else_is_refused() {
        for ok in ["/", "/account/orgs", "/account/orgs/x?tab=people#top", "/a//b"] {
            assert_eq!(local_return_path(ok), Some(ok), "{ok}");
        }
        for bad in [
            "",
            "account",
            "//evil.example",
            "/\\evil.example",
            "/\\/evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "/a\\b",
            "/a\nLocation: https://evil.example",
            "/\t/evil.example",
        ] {
            assert_eq!(local_return_path(bad), None, "{bad:?}");
        }
        assert_eq!(local_return_path(&format!("/{}", "a".repeat(3000))), None);
    }
}
