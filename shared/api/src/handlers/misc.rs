use crate::context::{Ctx, Reply};
use crate::error::ApiResult;
use serde_json::{json, Value};

/// `GET /health`: never stored (a probe asks about now).
pub(crate) fn health(ctx: &Ctx) -> ApiResult<Reply> {
    let db = ryd_store::ensure_schema(ctx.sql());
    let reply = match db {
        Ok(()) => Reply::bare(200, json!({"status": "ok", "version": crate::VERSION, "database": "ok"})),
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

/// What changes only with a new release (the OpenAPI document, the licence list): any
/// cache may keep it an hour.
const STATIC: &str = "public, max-age=3600";

/// The one answer without the envelope (the reference's `Licences` schema).
pub(crate) fn licences(_ctx: &Ctx) -> ApiResult<Reply> {
    let list: Vec<Value> = crate::codelists::licences()
        .iter()
        .map(|l| json!({"id": l.id, "full_label": l.full_label, "short_label": l.short_label, "status": l.status}))
        .collect();
    Ok(Reply::bare(200, Value::Array(list)).header("cache-control", STATIC))
}

pub(crate) fn access_check(_ctx: &Ctx) -> ApiResult<Reply> {
    Ok(Reply::ok(json!({"message": "Access token is valid"})))
}
