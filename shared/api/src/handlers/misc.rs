use crate::context::{Ctx, Reply};
use crate::error::ApiResult;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// `GET /health`: never stored (a probe asks about now).
/// The component's environment variable bounding how old a pending email may be before
/// `/health` says the outbox is behind (seconds).
const OUTBOX_MAX_AGE: &str = "RYD_OUTBOX_MAX_AGE";
const DEFAULT_OUTBOX_MAX_AGE: i64 = 900;

pub(crate) fn health(ctx: &Ctx) -> ApiResult<Reply> {
    // One statement: the count carries the schema's version (ryd_store::current_row).
    let db = ryd_store::outbox::pending(ctx.sql());
    let reply = match db {
        Ok((pending, oldest)) => {
            // Email waiting longer than the bound means no worker drains it, or the relay
            // refuses: reported, not a failure of this instance (probes must not restart it).
            let bound = ctx
                .ports
                .environment(OUTBOX_MAX_AGE)
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(DEFAULT_OUTBOX_MAX_AGE);
            let age = oldest.map(|t| ((ctx.now_millis - t) / 1000).max(0));
            let behind = age.is_some_and(|a| a > bound);
            Reply::bare(
                200,
                json!({"status": "ok", "version": crate::VERSION, "database": "ok", "outbox": {
                    "status": if behind { "behind" } else { "ok" },
                    "pending": pending,
                    "oldest_pending_seconds": age,
                }}),
            )
        }
        Err(e) => {
            ctx.ports.log(&format!("health: database unavailable: {e}"));
            let mut reply = Reply::bare(
                503,
                json!({"status": "unavailable", "version": crate::VERSION, "database": "unavailable"}),
            );
            // A database that is busy (or a libSQL server that cut a transaction) answers
            // again in a moment; probes and clients may retry.
            if e.kind == ryd_store::SqlErrorKind::Busy {
                reply.headers.push(("retry-after".into(), "1".into()));
            }
            reply
        }
    };
    Ok(reply.header("cache-control", "no-store"))
}

pub(crate) fn openapi(_ctx: &Ctx) -> ApiResult<Reply> {
    Ok(Reply::bare(200, crate::openapi::document().clone()).header("cache-control", STATIC))
}

/// What changes only with a new release (the OpenAPI document): any cache may keep it an
/// hour.
const STATIC: &str = "public, max-age=3600";

/// The one answer without the envelope (the reference's `Licences` schema); a public read,
/// kept as long as the operator lets caches keep the registry's, and conditional: its
/// entity tag is its content's digest (the list changes only with a build).
pub(crate) fn licences(ctx: &Ctx) -> ApiResult<Reply> {
    let list: Vec<Value> = crate::codelists::licences()
        .iter()
        .map(|l| json!({"id": l.id, "full_label": l.full_label, "short_label": l.short_label, "status": l.status}))
        .collect();
    let list = Value::Array(list);
    let digest = Sha256::digest(list.to_string().as_bytes());
    let etag = format!("\"{}\"", digest.iter().take(12).map(|b| format!("{b:02x}")).collect::<String>());
    let fresh = ctx.freshness().header();
    if ctx.req.header("if-none-match").is_some_and(|h| ryd_http::none_match_hits(h, &etag)) {
        return Ok(Reply::not_modified(&etag).header("cache-control", fresh));
    }
    Ok(Reply::bare(200, list).header("etag", etag).header("cache-control", fresh))
}

pub(crate) fn access_check(_ctx: &Ctx) -> ApiResult<Reply> {
    Ok(Reply::ok(json!({"message": "Access token is valid"})))
}
