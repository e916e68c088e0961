//! The two cookies IATI Account sets, as OWASP's session management cheat sheet asks:
//! `__Host-` prefixed (so `Secure`, `Path=/` and no `Domain`: no subdomain can set or
//! overwrite it), `HttpOnly` (no script reads it), `SameSite=Lax` (sent on top-level
//! navigations from the provider back to us, not on cross-site subrequests).
//!
//! On plain-http `127.0.0.1` in development the same attributes are sent: browsers treat
//! loopback as a secure context and keep `Secure` cookies from it (issue 18's browser test
//! is where that is proven).

/// The session cookie: a random id whose hash is the session's key in SQLite.
pub const SESSION_COOKIE: CookieSpec = CookieSpec { name: "__Host-ryd-session" };

/// The short-lived sign-in cookie: the id of the pending sign-in (state, PKCE verifier,
/// nonce and return path stay on the server under it).
pub const LOGIN_COOKIE: CookieSpec = CookieSpec { name: "__Host-ryd-login" };

/// A cookie of IATI Account: its name (its attributes are the same for all: `__Host-`, `Secure`, `HttpOnly`, `SameSite=Lax`, `Path=/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieSpec {
    /// The cookie's name.
    pub name: &'static str,
}

impl CookieSpec {
    /// A `Set-Cookie` value; `max_age_s` bounds how long the browser keeps it (no
    /// `Max-Age`: until the browser closes).
    pub fn set(&self, value: &str, max_age_s: Option<i64>) -> String {
        let mut c = format!("{}={value}; Path=/; Secure; HttpOnly; SameSite=Lax", self.name);
        if let Some(age) = max_age_s {
            c.push_str(&format!("; Max-Age={}", age.max(0)));
        }
        c
    }

    /// A `Set-Cookie` value that removes it.
    pub fn clear(&self) -> String {
        self.set("", Some(0))
    }

    /// Its value in a request's `Cookie` header.
    pub fn read<'a>(&self, header: &'a str) -> Option<&'a str> {
        cookie_value(header, self.name)
    }
}

/// The value of cookie `name` in a `Cookie` header (`a=1; b=2`). `None` when absent, empty,
/// or sent more than once: two values for one name is someone tossing a cookie, and
/// neither is trusted.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    let mut found = None;
    for pair in header.split(';') {
        let Some((k, v)) = pair.trim().split_once('=') else { continue };
        if k == name {
            if found.is_some() {
                return None;
            }
            found = Some(v);
        }
    }
    found.filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_has_every_attribute_owasp_asks_for() {
        let c = SESSION_COOKIE.set("abc", Some(28_800));
        assert_eq!(c, "__Host-ryd-session=abc; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=28800");
        assert!(!c.contains("Domain"));
        assert_eq!(LOGIN_COOKIE.clear(), "__Host-ryd-login=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0");
    }

    #[test]
    fn a_cookie_is_read_once_and_a_tossed_duplicate_is_refused() {
        let h = "other=1; __Host-ryd-session=s3cret; x=y";
        assert_eq!(SESSION_COOKIE.read(h), Some("s3cret"));
        assert_eq!(SESSION_COOKIE.read("other=1"), None);
        assert_eq!(SESSION_COOKIE.read("__Host-ryd-session="), None);
        assert_eq!(SESSION_COOKIE.read("__Host-ryd-session=a; __Host-ryd-session=b"), None);
        // A prefix of the name is another cookie.
        assert_eq!(SESSION_COOKIE.read("ryd-session=a"), None);
    }
}
