//! `GET /api/registry.jsonl`: the whole public registry in one conditional, cacheable
//! read, for mirrors and for the single-file dumps downstream users keep (shared/ckan/
//! README.md, "The registry in one read").
//!
//! JSON lines: first a header naming the change feed's cursor as of the dump, then every
//! public organisation as `organization_show` shapes it, then every public dataset as
//! `package_show` does, each in name order. The lines are read a page (one statement) at a
//! time as the answer is written, and gzip-compressed as they go when the client accepts
//! it. `ryd-host import` loads the file as it loads a `ckanapi dump`.

use crate::{keyset, views};
use ryd_http::stream::Answer;
use ryd_http::{Request, Response};
use ryd_store::{changes, public, Sql};
use serde_json::json;

/// Where the dump is answered.
pub const PATH: &str = "/api/registry.jsonl";

/// The header line's `type`: `ryd-host import` skips the line by it.
pub const HEADER_TYPE: &str = "registry_dump";

/// Organisations per statement.
const ORGS_PAGE: i64 = 500;
/// Datasets per statement.
const DATASETS_PAGE: i64 = 500;

/// The dump, or `304` when the caller's copy is current (after one statement).
pub(crate) fn answer<'a>(req: &Request, sql: &'a dyn Sql) -> Result<Answer<'a>, ryd_store::SqlError> {
    // Read before any record: a change after it is in the feed from this cursor on, whether
    // or not the pages below show it, so a mirror continuing from here misses nothing.
    let seq = changes::newest(sql)?;
    // Each coding its own strong validator (RFC 9110 §8.8.3): the compressed bytes are not
    // the plain ones.
    let etag = match ryd_http::stream::accepts_gzip(req) {
        true => format!("{}-gzip\"", changes::etag_at(seq).trim_end_matches('"')),
        false => changes::etag_at(seq),
    };
    if req.header("if-none-match").is_some_and(|h| ryd_http::none_match_hits(h, &etag)) {
        return Ok(Answer::whole(Response::not_modified(&etag)));
    }
    let header = json!({
        "type": HEADER_TYPE,
        "latest": changes::cursor(seq),
        "changes": format!("{}/api/v1/changes?since={}", req.base_url, changes::cursor(seq)),
        "organisations": "organization_show",
        "datasets": "package_show",
    });
    let mut head = Response {
        status: 200,
        headers: vec![("content-type".into(), "application/x-ndjson".into()), ("etag".into(), etag)],
        body: format!("{header}\n").into_bytes(),
    };
    head.set_header("content-disposition", "inline; filename=\"registry.jsonl\"");
    let line = |value: serde_json::Value| format!("{value}\n").into_bytes();
    let orgs = keyset::pages("registry dump", ORGS_PAGE, None, None, move |after, n| {
        Ok(public::orgs_after(sql, after, n)?.iter().map(|o| (o.name.clone(), line(views::org(o, true)))).collect())
    });
    let datasets = keyset::pages("registry dump", DATASETS_PAGE, None, None, move |after, n| {
        Ok(public::datasets_after(sql, after, n)?.iter().map(|d| (d.name.clone(), line(views::dataset(d)))).collect())
    });
    let mut answer = Answer { head, rest: Some(Box::new(orgs.chain(datasets))) }.gzip_for(req);
    if req.method == "HEAD" {
        answer.head.body.clear();
        answer.rest = None;
    }
    Ok(answer)
}
