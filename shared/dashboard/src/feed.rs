//! `GET /api/v1/changes?since=<cursor>&limit=<n>`: the public change feed, for mirrors.
//! Public data only, no token; in the Register Your Data API's envelope (it lives under
//! `/api/v1`). Each change names the record, its kind, what happened (`created`,
//! `updated`, `deleted`, `hidden`), its version and time; `next` continues after the last
//! one given, `more` says whether more are waiting, `latest` is where a mirror that has just
//! listed everything starts following.

use ryd_http::{Request, Response};
use ryd_store::changes;
use ryd_store::Sql;
use serde_json::{json, Value};

pub(crate) const DEFAULT_LIMIT: i64 = 100;
pub(crate) const MAX_LIMIT: i64 = 1000;

use ryd_store::changes::{cursor, seq_of};

fn failed(status: u16, message: &str) -> Response {
    Response::json(
        status,
        &json!({"status": "failed", "data": null, "error": {"status_code": status, "error_msg": message}}),
    )
}

pub(crate) fn answer(req: &Request, sql: &dyn Sql, log: &dyn Fn(&str)) -> Response {
    if req.method != "GET" && req.method != "HEAD" {
        let mut r = failed(405, &format!("Method {} is not allowed here: the change feed is read-only.", req.method));
        r.set_header("allow", "GET, HEAD");
        return r;
    }
    let pairs = req.query_pairs();
    let last = |name: &str| pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let after = match last("since").filter(|s| !s.is_empty()) {
        None => 0,
        Some(c) => match seq_of(c) {
            Some(seq) => seq,
            None => return failed(400, "since is not a cursor this API gave (use `next` or `latest` from an answer)."),
        },
    };
    let limit = match last("limit") {
        None => DEFAULT_LIMIT,
        Some(l) => match l.trim().parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => return failed(400, &format!("limit must be a whole number from 1 to {MAX_LIMIT}.")),
        },
    };
    // The entity tag's statement checks the schema too.
    let read = crate::etag::conditional(req, sql).and_then(|(etag, unchanged)| {
        if unchanged {
            return Ok(Err(etag));
        }
        let (list, more) = changes::since(sql, after, limit)?;
        Ok(Ok((list, more, changes::latest(sql)?, etag)))
    });
    let (list, more, latest, etag) = match read {
        Ok(Ok(found)) => found,
        // Nothing new since the caller last asked this: 304 after one SELECT.
        Ok(Err(etag)) => return Response::not_modified(&etag),
        Err(e) if e.kind == ryd_store::SqlErrorKind::Busy => {
            let mut r = failed(503, "The registry is busy; please retry shortly.");
            r.set_header("retry-after", "1");
            return r;
        }
        Err(e) => {
            log(&format!("changes: {e}"));
            return failed(500, "An internal error occurred.");
        }
    };
    let next = list.last().map(|c| c.seq).unwrap_or(after);
    let items: Vec<Value> = list
        .iter()
        .map(|c| {
            json!({"kind": c.kind, "id": c.id, "name": c.name, "change": c.change, "version": c.version, "at": c.at,
                   "cursor": cursor(c.seq)})
        })
        .collect();
    let mut r = Response::json(
        200,
        &json!({"status": "success", "error": null, "data": {
            "changes": items, "next": cursor(next), "more": more, "latest": cursor(latest)}}),
    );
    r.set_header("etag", etag);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_what_we_did_not_give() {
        for seq in [0, 1, 255, i64::MAX] {
            assert_eq!(seq_of(&cursor(seq)), Some(seq));
        }
        for bad in ["", "1", "v1-", "v1-xyz", "v2-10", "v1--1"] {
            assert_eq!(seq_of(bad), None, "{bad}");
        }
    }
}
