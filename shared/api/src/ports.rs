//! What the API needs from its host, as one trait: Spin provides it in components, tests
//! provide it natively.

use ryd_store::Sql;

/// A response from an outbound GET.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

/// What the API needs from its host, as the host provides it.
pub trait Ports {
    /// The database.
    fn sql(&self) -> &dyn Sql;
    /// A Spin variable (`None` when unset or empty).
    fn variable(&self, name: &str) -> Option<String>;
    /// The key-value store: only for what requests need rarely (JWKS documents).
    fn kv_get(&self, key: &str) -> Option<Vec<u8>>;
    /// Stores a value in the key-value store (best effort).
    fn kv_set(&self, key: &str, value: &[u8]);
    /// Outbound HTTPS GET, optionally with a bearer token (JWKS, userinfo, discovery).
    fn http_get(&self, url: &str, bearer: Option<&str>) -> Result<Fetched, String>;
    /// Outbound HTTPS POST of a form (`application/x-www-form-urlencoded`), with an
    /// `Authorization` header when given: IATI Account's code exchange at the token endpoint.
    fn http_post_form(&self, url: &str, body: &str, authorization: Option<&str>) -> Result<Fetched, String>;
    /// Outbound HTTPS POST of `body` with `headers` (the ACS Email request the outbox
    /// component signs).
    fn http_post(&self, url: &str, headers: &[(String, String)], body: &[u8]) -> Result<Fetched, String>;
    /// One of the component's environment variables (spin.toml's `environment`, `spin up
    /// --env`): given to the instance when it starts, so a read is no host call, unlike
    /// [`Ports::variable`] (Spin resolves those inside `block_in_place`).
    fn environment(&self, name: &str) -> Option<String>;
    /// Unix time in milliseconds.
    fn now_millis(&self) -> i64;
    /// Writes a line to the host's log.
    fn log(&self, message: &str);
    /// Counts events for tests and benchmarks (`token_cache_hit`, `signature_verified`…).
    fn count(&self, _event: &'static str) {}
}
