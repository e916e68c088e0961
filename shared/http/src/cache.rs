//! What caches may do with an answer (`Cache-Control`): the one definition of "public" and
//! "private" for every component. Public reads (the CKAN and Dashboard APIs, the change
//! feed, the licence list, the public keys) may be kept by any cache for a freshness the
//! operator sets; an answer about a credential is never kept (infra/README.md, "A shared
//! cache").

use crate::Response;

/// `Cache-Control` of every answer about a credential (a token, an API key, a session
/// cookie): never stored by a shared cache, nor kept by the browser.
pub const PRIVATE: &str = "private, no-store";

/// How long caches may answer a public read without the origin: fresh for `max_age`,
/// then served stale for `stale_while_revalidate` while they ask again in the background,
/// and for `stale_if_error` when the origin fails (RFC 9111, RFC 5861).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    /// Seconds a cache may answer without asking (`max-age`).
    pub max_age: u32,
    /// Seconds past that during which a cache may answer while it revalidates.
    pub stale_while_revalidate: u32,
    /// Seconds past freshness during which a cache may answer when the origin fails.
    pub stale_if_error: u32,
}

/// The environment variables that set [`Freshness`], each a whole number of seconds.
pub const FRESHNESS_SETTINGS: [&str; 3] =
    ["RYD_PUBLIC_MAX_AGE", "RYD_PUBLIC_STALE_WHILE_REVALIDATE", "RYD_PUBLIC_STALE_IF_ERROR"];

impl Default for Freshness {
    /// A minute fresh and a minute more while revalidating (a change reaches every reader
    /// within two minutes, and the registry's busiest reads leave the origin alone); a day
    /// stale when the origin is down (a mirror keeps reading yesterday's registry rather
    /// than failing).
    fn default() -> Self {
        Freshness { max_age: 60, stale_while_revalidate: 60, stale_if_error: 86_400 }
    }
}

impl Freshness {
    /// Reads [`FRESHNESS_SETTINGS`] through `get`; each one unset keeps its default. A
    /// value that is not a number of seconds is an error naming it (the default is then
    /// still usable: [`Freshness::default`]).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Freshness, String> {
        let d = Freshness::default();
        let read = |name: &str, default: u32| -> Result<u32, String> {
            match get(name) {
                None => Ok(default),
                Some(v) => v.trim().parse().map_err(|_| format!("{name}={v:?} is not a whole number of seconds")),
            }
        };
        Ok(Freshness {
            max_age: read(FRESHNESS_SETTINGS[0], d.max_age)?,
            stale_while_revalidate: read(FRESHNESS_SETTINGS[1], d.stale_while_revalidate)?,
            stale_if_error: read(FRESHNESS_SETTINGS[2], d.stale_if_error)?,
        })
    }

    /// [`Freshness::from_lookup`], or the defaults after logging why the settings were
    /// refused (a request is still answered; the log names the setting to fix).
    pub fn configured(get: impl Fn(&str) -> Option<String>, log: &dyn Fn(&str)) -> Freshness {
        Freshness::from_lookup(get).unwrap_or_else(|e| {
            log(&format!("{e}: the public reads' default freshness applies"));
            Freshness::default()
        })
    }

    /// The `Cache-Control` of a public read.
    pub fn header(&self) -> String {
        format!(
            "public, max-age={}, stale-while-revalidate={}, stale-if-error={}",
            self.max_age, self.stale_while_revalidate, self.stale_if_error
        )
    }

    /// Marks the answer to a public read: any cache may keep it for this freshness, unless
    /// its handler already said otherwise (`validate_cookie`'s `no-store`), and never when
    /// the server failed (a `5xx`, `503` included, is not kept in place of a good answer).
    pub fn mark(&self, response: &mut Response) {
        if response.header("cache-control").is_some() {
            return;
        }
        let value = if response.status >= 500 { "no-store".to_string() } else { self.header() };
        response.set_header("cache-control", value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_override_the_defaults_one_by_one_and_bad_values_are_named() {
        let f = Freshness::from_lookup(|n| (n == "RYD_PUBLIC_MAX_AGE").then(|| "5".to_string())).unwrap();
        assert_eq!(f, Freshness { max_age: 5, ..Freshness::default() });
        assert_eq!(f.header(), "public, max-age=5, stale-while-revalidate=60, stale-if-error=86400");
        let e = Freshness::from_lookup(|n| (n == "RYD_PUBLIC_STALE_IF_ERROR").then(|| "1d".to_string())).unwrap_err();
        assert_eq!(e, "RYD_PUBLIC_STALE_IF_ERROR=\"1d\" is not a whole number of seconds");
    }

    #[test]
    fn server_failures_are_never_kept_and_a_handlers_own_word_stands() {
        let f = Freshness::default();
        let mut ok = Response::json(200, &serde_json::json!({}));
        f.mark(&mut ok);
        assert_eq!(ok.header("cache-control"), Some(f.header().as_str()));
        let mut busy = Response::json(503, &serde_json::json!({}));
        f.mark(&mut busy);
        assert_eq!(busy.header("cache-control"), Some("no-store"));
        let mut own = Response::json(200, &serde_json::json!({}));
        own.set_header("cache-control", "no-store");
        f.mark(&mut own);
        assert_eq!(own.header("cache-control"), Some("no-store"));
    }
}
