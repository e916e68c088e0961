#![warn(missing_docs)]
//! The IATI Dashboard's read API (`iati-dashboard-api.yaml`): `/api/reporting-orgs/`,
//! `/api/reporting-orgs/{key}/`, `/api/datasets/`, `/api/datasets/{key}/`, public and
//! read-only (and the public change feed, `/api/v1/changes`, see `feed`), answering as
//! IATI's running Dashboard (Django REST Framework) does where the
//! YAML is silent: records by short name (or id), DRF's page-number pagination and error
//! bodies, django-filter's messages. Only public data, from the same definitions as the
//! CKAN API (`ryd_store::public`).

mod error;
mod etag;
mod feed;
mod filters;
mod page;
mod views;

pub use error::Error;
use etag::none_match_hits;
pub use filters::{is_country_choice, FILE_TYPE_CHOICES};

use ryd_http::cache::Freshness;
use ryd_http::{Request, Response};
use ryd_store::changes::AtChange;
use ryd_store::Sql;

/// How a resource answers one record: the request (for its options), the key.
type RecordFn = fn(&Request, &dyn Sql, &str) -> Result<AtChange<String>, Error>;

/// One resource of the API: its path segment, its list and its record.
struct Resource {
    segment: &'static str,
    /// The list's own query parameters (a list with others is rendered, never kept).
    params: &'static [&'static str],
    list: fn(&Request, &dyn Sql) -> Result<String, Error>,
    record: RecordFn,
}

const RESOURCES: &[Resource] = &[
    Resource {
        segment: "reporting-orgs",
        params: filters::ORG_PARAMS,
        list: views::org_list,
        record: views::org_record,
    },
    Resource {
        segment: "datasets",
        params: filters::DATASET_PARAMS,
        list: views::dataset_list,
        record: views::dataset_record,
    },
];

/// What every list reads (DRF's pagination and format suffix).
const LIST_PARAMS: &[&str] = &["page", "page_size", "format"];

impl Resource {
    /// Whether a rendered page of this list may be kept: only for a query naming nothing
    /// but the list's parameters (every query string is its own page, links repeat it; made
    /// up parameters would make every request a page to keep).
    fn keeps(&self, req: &Request) -> bool {
        req.query_pairs().iter().all(|(k, _)| LIST_PARAMS.contains(&k.as_str()) || self.params.contains(&k.as_str()))
    }
}

/// Answers one request; `log` receives internal errors.
/// Every answer is a public read, kept by caches for `fresh`.
pub fn handle(req: &Request, sql: &dyn Sql, log: &dyn Fn(&str), fresh: &Freshness) -> Response {
    let mut response = if req.path.trim_end_matches('/') == "/api/v1/changes" {
        feed::answer(req, sql, log)
    } else {
        answer(req, sql, log)
    };
    if req.method == "HEAD" {
        response.body.clear();
    }
    // A public, read-only API: any web page may read it, as the CKAN API.
    response.set_header("access-control-allow-origin", "*");
    fresh.mark(&mut response);
    response
}

fn answer(req: &Request, sql: &dyn Sql, log: &dyn Fn(&str)) -> Response {
    match route(req, sql, log) {
        Ok(Answer::NotModified(etag)) => Response::not_modified(&etag),
        Ok(Answer::Json(json, etag)) => {
            let mut r = Response {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: json.into_bytes(),
            };
            if let Some(etag) = etag {
                r.set_header("etag", etag);
            }
            r
        }
        Err(e) => {
            if let Error::Internal(m) | Error::Unavailable(m) = &e {
                log(&format!("dashboard {}: {m}", req.path));
            }
            let mut r = Response::json(e.status(), &e.body());
            if matches!(e, Error::MethodNotAllowed(_)) {
                r.set_header("allow", "GET, HEAD");
            }
            if matches!(e, Error::Unavailable(_)) {
                r.set_header("retry-after", "1");
            }
            r
        }
    }
}

/// A body with its entity tag (lists have one), or "you have it already".
enum Answer {
    Json(String, Option<String>),
    NotModified(String),
}

fn route(req: &Request, sql: &dyn Sql, log: &dyn Fn(&str)) -> Result<Answer, Error> {
    // `/api/reporting-orgs`, `/api/reporting-orgs/`, `/api/reporting-orgs/{key}[/]`.
    let rest = req.path.strip_prefix("/api/").ok_or(Error::NotFound)?;
    let mut parts = rest.trim_end_matches('/').split('/');
    let segment = parts.next().unwrap_or_default();
    let key = parts.next();
    if parts.next().is_some() {
        return Err(Error::NotFound);
    }
    let resource = RESOURCES.iter().find(|r| r.segment == segment).ok_or(Error::NotFound)?;
    if req.method != "GET" && req.method != "HEAD" {
        return Err(Error::MethodNotAllowed(req.method.clone()));
    }
    // Each path's first statement carries the schema's version (`ryd_store::current_row`).
    match key {
        // Lists are conditional, and rendered once per public change: one SELECT answers
        // an unchanged registry with 304, or with the page as rendered at its last change.
        None => {
            let key = format!("{} {}?{}", req.base_url, req.path, req.query);
            let found = ryd_store::page_cache::lookup(sql, &key)?;
            let etag = ryd_store::changes::etag_at(found.seq);
            if none_match_hits(req, &etag) {
                return Ok(Answer::NotModified(etag));
            }
            if let Some(body) = found.body {
                return Ok(Answer::Json(body, Some(etag)));
            }
            let body = (resource.list)(req, sql)?;
            // A page not kept is rendered again next time: nothing else is lost.
            if resource.keeps(req) {
                if let Err(e) = ryd_store::page_cache::keep(sql, &key, found.seq, &body) {
                    log(&format!("dashboard {}: keeping the page: {e}", req.path));
                }
            }
            Ok(Answer::Json(body, Some(etag)))
        }
        Some("") => Err(Error::NotFound),
        // Short names and ids are plain ASCII: a key needing decoding matches nothing.
        // A record carries the registry's newest change it saw, read in its one statement:
        // an unchanged record answers 304 after that statement alone.
        Some(key) => {
            let found = (resource.record)(req, sql, key)?;
            let etag = ryd_store::changes::etag_at(found.seq);
            if none_match_hits(req, &etag) {
                return Ok(Answer::NotModified(etag));
            }
            Ok(Answer::Json(found.value, Some(etag)))
        }
    }
}
