//! Cross-site request forgery defences for the console's state-changing requests, as
//! OWASP's CSRF prevention cheat sheet lists them, both on every POST:
//! - a synchronizer token: each session's own random token in every form, compared in
//!   constant time ([`token_matches`]);
//! - the request's own account of where it comes from ([`same_origin`]): `Sec-Fetch-Site`
//!   must be `same-origin` and `Origin` must be the console's origin, whichever of them the
//!   browser sends (every current browser sends both on a form POST).

use crate::secret::constant_time_eq;

/// Why a state-changing request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrossSite {
    /// `Sec-Fetch-Site` named another site.
    #[error("the form was sent from another site (Sec-Fetch-Site: {0})")]
    FetchSite(String),
    /// `Origin` was not the console's.
    #[error("the form was sent from another origin ({0})")]
    Origin(String),
    /// The synchronizer token was missing or wrong.
    #[error("the form's security token is missing or does not belong to this session")]
    Token,
}

/// Whether the request's `Origin` and `Sec-Fetch-Site` say it comes from the console's own
/// pages at `own_origin` (`scheme://host[:port]`). An absent header proves nothing and is
/// left to the token (older browsers); a present one must agree.
pub fn same_origin(own_origin: &str, origin: Option<&str>, fetch_site: Option<&str>) -> Result<(), CrossSite> {
    if let Some(site) = fetch_site.map(str::trim) {
        if !site.eq_ignore_ascii_case("same-origin") {
            return Err(CrossSite::FetchSite(site.to_string()));
        }
    }
    if let Some(origin) = origin.map(str::trim) {
        // `null` (sandboxed frames, some redirects) is another origin too.
        if !origin.eq_ignore_ascii_case(own_origin.trim_end_matches('/')) {
            return Err(CrossSite::Origin(origin.to_string()));
        }
    }
    Ok(())
}

/// Whether the form's token is the session's (constant time; an empty one never matches).
pub fn token_matches(sent: Option<&str>, session_token: &str) -> Result<(), CrossSite> {
    match sent {
        Some(s) if !s.is_empty() && !session_token.is_empty() && constant_time_eq(s, session_token) => Ok(()),
        _ => Err(CrossSite::Token),
    }
}

/// The origin (`scheme://host[:port]`) of an absolute URL, e.g. of the registered
/// redirect URI: the console's public origin, also behind a proxy that ends TLS.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next().filter(|h| !h.is_empty())?;
    Some(format!("{}://{}", scheme.to_ascii_lowercase(), host.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "https://account.example";

    #[test]
    fn own_pages_pass_and_other_sites_are_refused_by_either_header() {
        assert_eq!(same_origin(OWN, Some(OWN), Some("same-origin")), Ok(()));
        assert_eq!(same_origin(OWN, None, None), Ok(()), "no headers: the token decides");
        assert_eq!(same_origin(OWN, Some("HTTPS://ACCOUNT.EXAMPLE"), None), Ok(()));
        for site in ["cross-site", "same-site", "none"] {
            assert_eq!(same_origin(OWN, Some(OWN), Some(site)), Err(CrossSite::FetchSite(site.into())));
        }
        for origin in ["https://evil.example", "null", "http://account.example", "https://account.example:8443"] {
            assert_eq!(same_origin(OWN, Some(origin), Some("same-origin")), Err(CrossSite::Origin(origin.into())));
            assert_eq!(same_origin(OWN, Some(origin), None), Err(CrossSite::Origin(origin.into())));
        }
    }

    #[test]
    fn the_token_must_be_the_sessions_own() {
        assert_eq!(token_matches(Some("abc"), "abc"), Ok(()));
        for sent in [None, Some(""), Some("abd"), Some("ab")] {
            assert_eq!(token_matches(sent, "abc"), Err(CrossSite::Token), "{sent:?}");
        }
        assert_eq!(token_matches(Some(""), ""), Err(CrossSite::Token));
    }

    #[test]
    fn origins_of_urls() {
        assert_eq!(origin_of("https://Account.Example/account/callback?x").as_deref(), Some("https://account.example"));
        assert_eq!(origin_of("http://127.0.0.1:3000/account/callback").as_deref(), Some("http://127.0.0.1:3000"));
        assert_eq!(origin_of("/account/callback"), None);
        assert_eq!(origin_of("https:///x"), None);
    }
}
