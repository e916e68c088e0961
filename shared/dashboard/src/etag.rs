//! Conditional reads: a list's entity tag (the change feed's position), and
//! `If-None-Match`.

use ryd_http::Request;
use ryd_store::Sql;

/// The entity tag of a list, and whether the caller's `If-None-Match` already names it.
pub(crate) fn conditional(req: &Request, sql: &dyn Sql) -> Result<(String, bool), ryd_store::SqlError> {
    let etag = ryd_store::changes::etag(sql)?;
    let hit = none_match_hits(req, &etag);
    Ok((etag, hit))
}

/// Whether a GET or HEAD names `etag` in its `If-None-Match`.
pub(crate) fn none_match_hits(req: &Request, etag: &str) -> bool {
    (req.method == "GET" || req.method == "HEAD")
        && req.header("if-none-match").is_some_and(|h| ryd_http::none_match_hits(h, etag))
}
