#![warn(missing_docs)]
#![recursion_limit = "256"]
//! The CKAN Action API, read-only, for every downstream tool of the old IATI Registry
//! (shared/ckan/README.md): `/api/3/action/{action}` and `/api/action/{action}` answer as CKAN
//! does; `/api/limited-ckan-compatible/{action}` as IATI's own compatibility layer does.
//! Only public data: live, public datasets of live, approved organisations.

mod actions;
pub mod dump;
mod error;
mod keyset;
mod params;
mod search;
mod views;

use ryd_http::cache::Freshness;
use ryd_http::stream::Answer;
use ryd_http::{Request, Response};
use ryd_store::Sql;
use serde_json::json;

pub use actions::Flavour;
pub use error::CkanError;
pub use params::Params;

/// Answers one request, held whole (tests and tools; [`handle_streamed`] is what serves).
pub fn handle(req: &Request, sql: &dyn Sql, log: &dyn Fn(&str), fresh: &Freshness) -> Response {
    let answer = handle_streamed(req, sql, log, fresh);
    let head = answer.head.clone();
    answer.collect().unwrap_or_else(|e| {
        log(&format!("ckan: reading a long answer: {e}"));
        let mut r = Response::json(503, &json!({"success": false, "error": CkanError::Unavailable(e).body()}));
        r.headers.extend(head.headers.into_iter().filter(|(n, _)| n == "access-control-allow-origin"));
        r
    })
}

/// Answers one request; `log` receives internal errors. Every answer is a public read,
/// kept by caches for `fresh` (`validate_cookie`'s excepted: it is about a session). A
/// long list's head leaves before its later pages are read ([`ryd_http::stream`]).
pub fn handle_streamed<'a>(
    req: &Request,
    sql: &'a dyn Sql,
    log: &dyn Fn(&str),
    fresh: &Freshness,
) -> ryd_http::stream::Answer<'a> {
    let mut answer = answer(req, sql, log);
    // A public, read-only API: any web page may read it.
    answer.head.set_header("access-control-allow-origin", "*");
    fresh.mark(&mut answer.head);
    answer
}

fn answer<'a>(req: &Request, sql: &'a dyn Sql, log: &dyn Fn(&str)) -> Answer<'a> {
    if req.path == dump::PATH {
        return registry_dump(req, sql, log);
    }
    let Some(path) = without_locale(req.path.trim_end_matches('/')) else {
        let body = json!({"success": false, "error": {"__type": "Not Found Error", "message": "Not found"}});
        return Answer::whole(Response::json(404, &body));
    };
    let (flavour, action) =
        if let Some(a) = path.strip_prefix("/api/3/action/").or_else(|| path.strip_prefix("/api/action/")) {
            (Flavour::Ckan, a)
        } else if let Some(a) = path.strip_prefix("/api/limited-ckan-compatible/") {
            (Flavour::Limited, a)
        } else {
            (Flavour::Ckan, "")
        };
    let help = format!("{}/api/3/action/help_show?name={action}", req.base_url);
    // The lists mirrors poll are conditional: their entity tag is the registry's newest
    // public change, so an unchanged registry answers 304 after one SELECT.
    let conditional = req.method == "GET" && CONDITIONAL.contains(&action);
    let mut etag = None;
    // The schema is checked by the request's first statement where that statement
    // carries its version (the entity tag's, a record's), else by a statement of its own.
    let checked = if conditional {
        ryd_store::changes::etag(sql).map(Some)
    } else if SCHEMA_IN_FIRST_READ.contains(&action) {
        Ok(None)
    } else {
        ryd_store::ensure_schema(sql).map(|_| None)
    };
    let result = checked.map_err(CkanError::from).and_then(|tag| {
        etag = tag;
        Params::from_request(req)
    });
    let not_modified = |tag: &str| req.header("if-none-match").is_some_and(|h| ryd_http::none_match_hits(h, tag));
    if let Some(tag) = etag.as_deref().filter(|t| not_modified(t)) {
        return Answer::whole(Response::not_modified(tag));
    }
    let cookie = req.header("cookie");
    let result =
        result.and_then(|params| actions::run(flavour, action, &params, sql, &req.base_url, &req.path, cookie));
    // A record's read tags it with the registry's newest change it saw, in its one
    // statement: an unchanged record answers 304 after that statement alone.
    let result = result.map(|(answer, seen)| {
        if let Some(seq) = seen.filter(|_| req.method == "GET") {
            etag = Some(ryd_store::changes::etag_at(seq));
        }
        answer
    });
    if let (Some(tag), Ok(_)) = (etag.as_deref(), &result) {
        if not_modified(tag) {
            return Answer::whole(Response::not_modified(tag));
        }
    }
    let mut answer = Answer::whole(match result {
        Ok(actions::Answer::Ckan(result)) => {
            Response::json(200, &json!({"help": help, "success": true, "result": result}))
        }
        Ok(actions::Answer::Names(list)) => return tagged(names(&help, list, sql), etag),
        Ok(actions::Answer::Raw(body)) => Response::json(200, &body),
        Err(e) => failure(e, json!({"help": help}), &|m| log(&format!("ckan {action}: {m}"))),
    });
    if action == "validate_cookie" {
        // Whose session it is: never kept by a cache between the gateway and us.
        answer.head.set_header("cache-control", "no-store");
    }
    tagged(answer, etag)
}

/// The whole registry ([`dump`]): a read, so only `GET` and `HEAD`.
fn registry_dump<'a>(req: &Request, sql: &'a dyn Sql, log: &dyn Fn(&str)) -> Answer<'a> {
    if req.method != "GET" && req.method != "HEAD" {
        let mut r = Response::json(
            405,
            &json!({"success": false, "error": {"__type": "Method Not Allowed", "message": "The registry dump is read with GET."}}),
        );
        r.set_header("allow", "GET, HEAD");
        return Answer::whole(r);
    }
    dump::answer(req, sql)
        .unwrap_or_else(|e| Answer::whole(failure(e.into(), json!({}), &|m| log(&format!("registry dump: {m}")))))
}

/// An error in CKAN's envelope (`envelope`'s fields, then `success: false` and the error),
/// its status, `Retry-After` when the database asks for patience; an internal cause logged.
fn failure(e: CkanError, mut envelope: serde_json::Value, log: &dyn Fn(&str)) -> Response {
    if let CkanError::Internal(m) | CkanError::Unavailable(m) = &e {
        log(m);
    }
    envelope["success"] = json!(false);
    envelope["error"] = e.body();
    let mut r = Response::json(e.status(), &envelope);
    if matches!(e, CkanError::Unavailable(_)) {
        r.set_header("retry-after", "1");
    }
    r
}

/// The answer with its entity tag, when it has one and succeeded.
fn tagged(mut answer: Answer<'_>, etag: Option<String>) -> Answer<'_> {
    if let (Some(tag), 200) = (etag, answer.head.status) {
        answer.head.set_header("etag", tag);
    }
    answer
}

/// What closes a list of names in CKAN's envelope.
const END: &[u8] = br#"],"success":true}"#;

/// Dataset names in CKAN's envelope: the first page in the head, each later page read
/// (one statement, from the last name on) when the one before has left. The entity tag
/// was read before the first page, so a change made while the list streams is never
/// hidden from the next conditional request, whether or not this list shows it.
fn names<'a>(help: &str, list: actions::NameList, sql: &'a dyn Sql) -> Answer<'a> {
    let quote = |name: &str| serde_json::Value::String(name.to_owned()).to_string();
    let help = serde_json::Value::String(help.to_string());
    let mut head = Response::json(200, &json!(null));
    // As every other answer here is written: compact, keys in order.
    head.body =
        format!(r#"{{"help":{help},"result":[{}"#, list.first.iter().map(|n| quote(n)).collect::<Vec<_>>().join(","))
            .into_bytes();
    let Some(left) = list.left else {
        head.body.extend_from_slice(END);
        return Answer::whole(head);
    };
    let pages =
        keyset::pages("package_list", actions::NAMES_PAGE, left, list.first.last().cloned(), move |after, n| {
            let names = ryd_store::public::dataset_names_after(sql, after, n)?;
            let item = |name: String| {
                let bytes = format!(",{}", quote(&name)).into_bytes();
                (name, bytes)
            };
            Ok(names.into_iter().map(item).collect())
        });
    let end = std::iter::once(Ok(END.to_vec()));
    Answer { head, rest: Some(Box::new(pages.chain(end))) }
}

/// The path without a locale prefix: CKAN routes its actions under one too (`/en/api/3/
/// action/…`, as does IATI's compatibility layer: `([a-z]{2}/)?api/(3/)?action/`), and the
/// prefix changes nothing in the answer. `None`: a first segment that is no locale before
/// `/api/` (`spin.toml` routes `/:locale/api/…` here).
fn without_locale(path: &str) -> Option<&str> {
    if path.starts_with("/api/") {
        return Some(path);
    }
    let (locale, rest) = path.strip_prefix('/')?.split_once('/')?;
    let is_locale = locale.len() == 2 && locale.bytes().all(|b| b.is_ascii_lowercase());
    (is_locale && (rest.starts_with("api/3/action/") || rest.starts_with("api/action/"))).then(|| &path[3..])
}

/// The actions answered conditionally (`ETag`, `If-None-Match`).
const CONDITIONAL: &[&str] = &["package_search", "package_list", "organization_list"];

/// Actions whose first statement is a record's read that checks the schema in itself
/// (`ryd_store::public::{dataset, org}`): no statement of their own for the check.
const SCHEMA_IN_FIRST_READ: &[&str] = &["package_show", "organization_show", "group_show"];

pub mod import;
pub mod synthetic;
