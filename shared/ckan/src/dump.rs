//! `GET /api/registry.jsonl`: the whole public registry in one conditional, cacheable
//! read, for mirrors and for the single-file dumps downstream users keep (shared/ckan/
//! README.md, "The registry in one read").
//!
//! JSON lines: first a header naming the change feed's cursor as of the dump, then every
//! public organisation as `organization_show` shapes it, then every public dataset as
//! `package_show` does, each in name order. The lines are read a page (one statement) at a
//! time as the answer is written, and gzip-compressed as they go when the client accepts
//! it. `ryd-host import` loads the file as it loads a `ckanapi dump`.

use crate::views;
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
    let orgs = pages(ORGS_PAGE, move |after| {
        let page = public::orgs_after(sql, after, ORGS_PAGE)?;
        Ok(page.iter().map(|o| (o.name.clone(), views::org(o, true).to_string())).collect())
    });
    let datasets = pages(DATASETS_PAGE, move |after| {
        let page = public::datasets_after(sql, after, DATASETS_PAGE)?;
        Ok(page.iter().map(|d| (d.name.clone(), views::dataset(d).to_string())).collect())
    });
    let mut answer = Answer { head, rest: Some(Box::new(orgs.chain(datasets))) }.gzip_for(req);
    if req.method == "HEAD" {
        answer.head.body.clear();
        answer.rest = None;
    }
    Ok(answer)
}

type Page = Result<Vec<(String, String)>, ryd_store::SqlError>;

/// Lines page after page, each page read from the last name of the one before, until a
/// page comes back short; the first error ends them.
fn pages<'a>(
    size: i64,
    mut read: impl FnMut(Option<&str>) -> Page + 'a,
) -> impl Iterator<Item = Result<Vec<u8>, String>> + 'a {
    let mut last: Option<String> = None;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let page = match read(last.as_deref()) {
            Ok(page) => page,
            Err(e) => {
                done = true;
                return Some(Err(format!("registry dump after {last:?}: {}", e.message)));
            }
        };
        done = (page.len() as i64) < size;
        let mut bytes = Vec::new();
        for (name, line) in &page {
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(b'\n');
            last = Some(name.clone());
        }
        (!page.is_empty()).then_some(Ok(bytes))
    })
    .fuse()
}
