//! The outbox as operators see it (superadmins): what waits, what fails and why.

use crate::context::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use crate::time::rfc3339;
use ryd_store::outbox;
use serde_json::{json, Value};

/// How many unsent messages one answer lists at most.
const MAX_LISTED: i64 = 1000;

/// GET /api/v1/admin/outbox[?limit=N]: the counts, and the unsent messages (pending,
/// retrying, given up) oldest first, each with its attempts and last error.
pub(crate) fn read(ctx: &Ctx) -> ApiResult<Reply> {
    let limit = match ctx.req.query_param("limit") {
        None => 100,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LISTED).contains(n))
            .ok_or_else(|| ApiError::bad_request(format!("Query parameter `limit` must be 1 to {MAX_LISTED}.")))?,
    };
    let b = outbox::backlog(ctx.sql())?;
    let unsent: Vec<Value> = outbox::unsent(ctx.sql(), limit)?
        .into_iter()
        .map(|e| {
            let state = match (e.given_up_at, e.last_error.is_some()) {
                (Some(_), _) => "given_up",
                (None, true) => "retrying",
                (None, false) => "pending",
            };
            json!({
                "id": e.id, "channel": e.channel, "event": e.event, "recipient": e.recipient, "subject": e.subject,
                "state": state, "attempts": e.attempts, "created_at": rfc3339(e.created_at),
                "next_attempt_at": e.given_up_at.is_none().then(|| rfc3339(e.next_attempt_at)),
                "given_up_at": e.given_up_at.map(rfc3339), "last_error": e.last_error,
            })
        })
        .collect();
    Ok(Reply::ok(json!({
        "pending": b.pending,
        "retrying": b.retrying,
        "given_up": b.given_up,
        "sent": b.sent,
        "oldest_pending_at": b.oldest_pending_at.map(rfc3339),
        "oldest_pending_seconds": b.oldest_pending_at.map(|t| ((ctx.now_millis - t) / 1000).max(0)),
        "unsent": unsent,
    })))
}
