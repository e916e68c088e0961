//! The outbox as operators see it (superadmins): what waits, what fails and why.

use crate::context::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use crate::time::rfc3339;
use ryd_store::{outbox, webhooks};
use serde_json::{json, Value};

/// How many unsent messages one answer lists at most.
const MAX_LISTED: i64 = 1000;

/// GET /api/v1/admin/outbox[?limit=N]: the counts, and the unsent messages (pending,
/// retrying, given up) oldest first, each with its attempts and last error.
pub(crate) fn read(ctx: &Ctx) -> ApiResult<Reply> {
    let limit = ctx.int_param("limit", 100, 1..=MAX_LISTED)?;
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

/// Spin variables of the `outbox` component: the ACS resource's endpoint
/// (`https://<resource>.communication.azure.com`, also its allowed outbound host), its
/// access key (a secret, read when used), and the verified sender address.
const ACS_ENDPOINT: &str = "acs_endpoint";
const ACS_ACCESS_KEY: &str = "acs_access_key";
const MAIL_FROM: &str = "mail_from";

/// How long a call holds the messages it claimed: longer than its sends can take.
const LEASE_MS: i64 = 120_000;

/// How one message went: delivered, or why not and whether another try could help.
type Sent = Result<(), outbox::Failure>;

fn failed(retryable: bool, reason: impl Into<String>) -> outbox::Failure {
    outbox::Failure { permanent: !retryable, reason: reason.into() }
}

/// Failed deliveries in a row after which a webhook endpoint is disabled.
const WEBHOOK_FAILURES_BEFORE_DISABLE: i64 = 10;

/// POST /api/v1/admin/outbox/deliver[?channel=email|webhook][&limit=N]: sends up to N (10)
/// due messages of the channel, each its own request: email through Azure Communication
/// Services Email, webhooks to their endpoints signed as Standard Webhooks says. Each is
/// marked sent or failed (retried with backoff, given up after `MAX_ATTEMPTS` or a refusal
/// for good). For a scheduler calling every minute or so; calls may overlap (each claims
/// its own messages). No transaction is open while a request is out.
pub(crate) fn deliver(ctx: &Ctx) -> ApiResult<Reply> {
    let limit = ctx.int_param("limit", 10, 1..=50)?;
    let channel = ctx.req.query_param("channel").unwrap_or_else(|| "email".into());
    let mut send: Box<dyn FnMut(&outbox::Claimed) -> Sent + '_> = match channel.as_str() {
        "email" => Box::new(acs_sender(ctx)?),
        "webhook" => Box::new(|c: &outbox::Claimed| counted(ctx, c, send_webhook(ctx, c))),
        other => {
            return Err(ApiError::bad_request(format!(
                "Query parameter `channel` must be email or webhook, got {other:?}."
            )))
        }
    };
    let owner = format!("outbox-{}", crate::ids::new_id());
    let d = outbox::Delivery {
        channel: &channel,
        owner: &owner,
        batch: limit,
        lease_ms: LEASE_MS,
        backoff_ms: outbox::BACKOFF_MS,
        max_attempts: outbox::MAX_ATTEMPTS,
    };
    let b = outbox::deliver_batch(ctx.sql(), &d, &|| ctx.ports.now_millis(), &mut *send)?;
    for f in &b.failures {
        ctx.ports.log(&format!("outbox: {} ({}) to {}: {}", f.id, f.event, f.recipient, f.reason));
    }
    let (pending, _) = outbox::pending(ctx.sql())?;
    Ok(Reply::ok(json!({"sent": b.sent, "retrying": b.retrying, "given_up": b.given_up, "pending": pending})))
}

/// Sends one email through ACS, once its configuration is known to be whole (a mistake
/// there is the operator's: refused before any message is claimed).
fn acs_sender<'a>(ctx: &'a Ctx<'a>) -> ApiResult<impl FnMut(&outbox::Claimed) -> Sent + 'a> {
    let (Some(endpoint), Some(key), Some(sender)) =
        (ctx.ports.variable(ACS_ENDPOINT), ctx.ports.variable(ACS_ACCESS_KEY), ctx.ports.variable(MAIL_FROM))
    else {
        return Err(ApiError::new(
            503,
            "Azure Communication Services is not configured here: set acs_endpoint, acs_access_key and mail_from.",
        ));
    };
    let probe = ryd_notify::acs::AcsEmail { sender: &sender, to: "", to_name: "", subject: "", text: "", html: "" };
    ryd_notify::acs::send_request(&endpoint, &key, &probe, 0).map_err(|e| ApiError::new(503, e))?;
    Ok(move |c: &outbox::Claimed| {
        let m = &c.message;
        let email = ryd_notify::acs::AcsEmail {
            sender: &sender,
            to: &m.recipient,
            to_name: &m.recipient_name,
            subject: &m.subject,
            text: &m.body_text,
            html: &m.body_html,
        };
        let r = ryd_notify::acs::send_request(&endpoint, &key, &email, ctx.ports.now_millis())
            .map_err(|e| failed(true, e))?;
        answered(ctx.ports.http_post(&r.url, &r.headers, &r.body), "ACS", ryd_notify::acs::retryable)
    })
}

/// Counts a webhook send against its endpoint: a success clears the failures in a row; a
/// failure adds one, and the one that disables the endpoint gives its message up.
fn counted(ctx: &Ctx, c: &outbox::Claimed, sent: Sent) -> Sent {
    let endpoint = &c.message.recipient;
    match sent {
        Ok(()) => webhooks::succeeded(ctx.sql(), endpoint).map_err(|e| failed(true, e.message)),
        Err(f) => {
            let now = ctx.ports.now_millis();
            let disabled = webhooks::failed(ctx.sql(), endpoint, &f.reason, WEBHOOK_FAILURES_BEFORE_DISABLE, now)
                .map_err(|e| failed(true, e.message))?;
            Err(outbox::Failure { permanent: f.permanent || disabled, ..f })
        }
    }
}

/// Sends one webhook message to its endpoint, signed with each secret in force.
fn send_webhook(ctx: &Ctx, c: &outbox::Claimed) -> Sent {
    let m = &c.message;
    let now = ctx.ports.now_millis();
    let Some((url, secrets)) = webhooks::target(ctx.sql(), &m.recipient, now).map_err(|e| failed(true, e.message))?
    else {
        return Err(failed(false, "the endpoint is disabled or deleted"));
    };
    // Checked again: the rule may have tightened since the endpoint was registered.
    ryd_notify::webhook::check_url(&url, super::webhooks::loopback_allowed(ctx))
        .map_err(|e| failed(false, format!("url {e}")))?;
    let body = m.body_text.as_bytes();
    let headers = ryd_notify::webhook::headers(&m.id, now / 1000, body, &secrets).map_err(|e| failed(false, e))?;
    // A receiver that cannot take it now may later: any answer but 2xx is retried.
    answered(ctx.ports.http_post(&url, &headers, body), "the endpoint", |_| true)
}

/// A 2xx is delivered; anything else failed, retryable as `retryable` says of its status
/// (a request that did not complete always is).
fn answered(result: Result<crate::ports::Fetched, String>, who: &str, retryable: fn(u16) -> bool) -> Sent {
    match result {
        Ok(a) if (200..300).contains(&a.status) => Ok(()),
        Ok(a) => Err(failed(
            retryable(a.status),
            format!(
                "{who} answered {}: {}",
                a.status,
                String::from_utf8_lossy(&a.body).chars().take(300).collect::<String>()
            ),
        )),
        Err(e) => Err(failed(true, e)),
    }
}
