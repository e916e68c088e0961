//! The transactional outbox: messages written with the change that causes them, claimed by
//! delivery workers under a lease, marked sent or retried with backoff, given up with the
//! reason kept.
//!
//! Every step is one statement, so it is atomic on a local file and on libSQL alike: two
//! workers claiming at once get different rows (the claim's `UPDATE … RETURNING` runs
//! under the database's write lock), and a worker that dies holding rows loses them only
//! until its lease ends.

use crate::sql::{Row, Sql, SqlError, Value};

/// A message to store, rendered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewMessage {
    /// The message's id (UUID): its Message-ID.
    pub id: String,
    /// The channel (`email`).
    pub channel: String,
    /// What happened (`join_requested`, …).
    pub event: String,
    /// The organisation it is about, if any.
    pub organisation_id: String,
    /// The recipient's address.
    pub recipient: String,
    /// The recipient's name.
    pub recipient_name: String,
    /// One line.
    pub subject: String,
    /// The plain-text body.
    pub body_text: String,
    /// The HTML body.
    pub body_html: String,
}

/// A message a worker holds, to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The row's sequence number.
    pub seq: i64,
    /// The message as written.
    pub message: NewMessage,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// One message as operators see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The row's sequence number.
    pub seq: i64,
    /// The message's id.
    pub id: String,
    /// The channel.
    pub channel: String,
    /// What happened.
    pub event: String,
    /// The recipient's address.
    pub recipient: String,
    /// The subject.
    pub subject: String,
    /// When written (Unix ms).
    pub created_at: i64,
    /// Attempts so far.
    pub attempts: i64,
    /// When the next attempt may be (Unix ms).
    pub next_attempt_at: i64,
    /// When sent, if sent.
    pub sent_at: Option<i64>,
    /// When given up, if given up.
    pub given_up_at: Option<i64>,
    /// The last failure's reason.
    pub last_error: Option<String>,
}

/// Appends one message (inside the causing write's transaction).
pub fn enqueue(sql: &dyn Sql, m: &NewMessage, now_ms: i64) -> Result<(), SqlError> {
    sql.execute(
        "INSERT INTO outbox (id, channel, event, organisation_id, recipient, recipient_name, subject, body_text, body_html, \
         created_at, next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
        &[
            m.id.as_str().into(),
            m.channel.as_str().into(),
            m.event.as_str().into(),
            m.organisation_id.as_str().into(),
            m.recipient.as_str().into(),
            m.recipient_name.as_str().into(),
            m.subject.as_str().into(),
            m.body_text.as_str().into(),
            m.body_html.as_str().into(),
            now_ms.into(),
        ],
    )?;
    Ok(())
}

/// Takes up to `limit` due messages of `channel` for `owner` until `lease_until` (Unix
/// ms), oldest first, counting the attempt. A row leased to a worker that has not
/// finished by then is due again.
pub fn claim(
    sql: &dyn Sql,
    channel: &str,
    owner: &str,
    now_ms: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<Claimed>, SqlError> {
    let rows = sql.execute(
        "UPDATE outbox SET lease_owner = ?1, lease_until = ?2, attempts = attempts + 1 WHERE seq IN (\
           SELECT seq FROM outbox WHERE channel = ?3 AND sent_at IS NULL AND given_up_at IS NULL \
           AND next_attempt_at <= ?4 AND (lease_until IS NULL OR lease_until <= ?4) ORDER BY seq LIMIT ?5) \
         RETURNING seq, id, channel, event, organisation_id, recipient, recipient_name, subject, body_text, body_html, attempts",
        &[owner.into(), lease_until.into(), channel.into(), now_ms.into(), limit.into()],
    )?;
    let mut claimed: Vec<Claimed> = rows
        .iter()
        .map(|r: Row<'_>| Claimed {
            seq: r.int(0),
            message: NewMessage {
                id: r.text(1),
                channel: r.text(2),
                event: r.text(3),
                organisation_id: r.text(4),
                recipient: r.text(5),
                recipient_name: r.text(6),
                subject: r.text(7),
                body_text: r.text(8),
                body_html: r.text(9),
            },
            attempts: r.int(10),
        })
        .collect();
    // RETURNING's order is not the subquery's.
    claimed.sort_by_key(|c| c.seq);
    Ok(claimed)
}

/// Marks a held message sent; `false` when the lease was lost (another worker holds it).
pub fn mark_sent(sql: &dyn Sql, seq: i64, owner: &str, now_ms: i64) -> Result<bool, SqlError> {
    Ok(!sql
        .execute(
            "UPDATE outbox SET sent_at = ?1, lease_owner = NULL, lease_until = NULL, last_error = NULL \
             WHERE seq = ?2 AND lease_owner = ?3 AND sent_at IS NULL RETURNING seq",
            &[now_ms.into(), seq.into(), owner.into()],
        )?
        .is_empty())
}

/// Records a failed attempt: due again at `retry_at`, or given up (`retry_at` `None`), with
/// the reason kept either way.
pub fn mark_failed(
    sql: &dyn Sql,
    seq: i64,
    owner: &str,
    now_ms: i64,
    reason: &str,
    retry_at: Option<i64>,
) -> Result<bool, SqlError> {
    let (next, given_up) = match retry_at {
        Some(at) => (Value::Integer(at), Value::Null),
        None => (Value::Integer(now_ms), Value::Integer(now_ms)),
    };
    Ok(!sql
        .execute(
            "UPDATE outbox SET lease_owner = NULL, lease_until = NULL, last_error = ?1, next_attempt_at = ?2, \
             given_up_at = ?3 WHERE seq = ?4 AND lease_owner = ?5 AND sent_at IS NULL RETURNING seq",
            &[reason.into(), next, given_up, seq.into(), owner.into()],
        )?
        .is_empty())
}

/// The outbox at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Backlog {
    /// Messages not yet sent nor given up.
    pub pending: i64,
    /// Of those, how many have failed at least once.
    pub retrying: i64,
    /// Messages given up.
    pub given_up: i64,
    /// Messages sent.
    pub sent: i64,
    /// When the oldest pending message was written (Unix ms).
    pub oldest_pending_at: Option<i64>,
}

/// Counts by state, in one statement.
pub fn backlog(sql: &dyn Sql) -> Result<Backlog, SqlError> {
    let rows = sql.execute(
        "SELECT coalesce(sum(sent_at IS NULL AND given_up_at IS NULL), 0), \
         coalesce(sum(sent_at IS NULL AND given_up_at IS NULL AND last_error IS NOT NULL), 0), \
         coalesce(sum(given_up_at IS NOT NULL), 0), coalesce(sum(sent_at IS NOT NULL), 0), \
         min(CASE WHEN sent_at IS NULL AND given_up_at IS NULL THEN created_at END) FROM outbox",
        &[],
    )?;
    Ok(rows
        .first()
        .map(|r| Backlog {
            pending: r.int(0),
            retrying: r.int(1),
            given_up: r.int(2),
            sent: r.int(3),
            oldest_pending_at: r.opt_int(4),
        })
        .unwrap_or_default())
}

/// The messages that are not sent (pending, retrying, given up), oldest first, at most
/// `limit`: what operators look at.
pub fn unsent(sql: &dyn Sql, limit: i64) -> Result<Vec<Entry>, SqlError> {
    entries(sql, "WHERE sent_at IS NULL", limit)
}

/// Every message, newest first, at most `limit` (tests and tools).
pub fn recent(sql: &dyn Sql, limit: i64) -> Result<Vec<Entry>, SqlError> {
    entries(sql, "", limit)
}

fn entries(sql: &dyn Sql, filter: &str, limit: i64) -> Result<Vec<Entry>, SqlError> {
    let order = if filter.is_empty() { "DESC" } else { "" };
    let rows = sql.execute(
        &format!(
            "SELECT seq, id, channel, event, recipient, subject, created_at, attempts, next_attempt_at, sent_at, \
             given_up_at, last_error FROM outbox {filter} ORDER BY seq {order} LIMIT ?"
        ),
        &[limit.into()],
    )?;
    Ok(rows
        .iter()
        .map(|r| Entry {
            seq: r.int(0),
            id: r.text(1),
            channel: r.text(2),
            event: r.text(3),
            recipient: r.text(4),
            subject: r.text(5),
            created_at: r.int(6),
            attempts: r.int(7),
            next_attempt_at: r.int(8),
            sent_at: r.opt_int(9),
            given_up_at: r.opt_int(10),
            last_error: r.opt_text(11),
        })
        .collect())
}

/// (messages pending, when the oldest was written): one statement over the pending rows'
/// index, which checks the schema too ([`crate::current_row`]): cheap enough for every
/// health probe.
pub fn pending(sql: &dyn Sql) -> Result<(i64, Option<i64>), SqlError> {
    let q = format!(
        "SELECT count(*), min(created_at), {} FROM outbox WHERE sent_at IS NULL AND given_up_at IS NULL",
        crate::VERSION_COLUMN
    );
    Ok(crate::current_row(sql, &q, &[], |r| (r.int(0), r.opt_int(1)))?.unwrap_or((0, None)))
}

/// Attempts before a message is given up, unless a worker is told otherwise.
pub const MAX_ATTEMPTS: i64 = 10;

/// The first retry's delay, unless a worker is told otherwise (ms).
pub const BACKOFF_MS: i64 = 30_000;

/// When attempt `attempts` (1-based) failed at `now_ms`, when the next may be: `backoff_ms`
/// doubled per attempt, at most an hour later.
pub fn retry_at(now_ms: i64, attempts: i64, backoff_ms: i64) -> i64 {
    let doubled = backoff_ms.saturating_mul(1_i64 << (attempts - 1).clamp(0, 30));
    now_ms.saturating_add(doubled.min(3_600_000))
}

/// Why a send failed, and whether trying again could help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Refused for good (an SMTP 5xx, an ACS 400, a disabled endpoint): no retry.
    pub permanent: bool,
    /// What the receiver or the connection said.
    pub reason: String,
}

/// How a worker drains one channel.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// The channel (`email`, `webhook`).
    pub channel: &'a str,
    /// This worker's name in the leases it takes (unique per worker).
    pub owner: &'a str,
    /// Messages claimed at once.
    pub batch: i64,
    /// How long a claim holds its messages: longer than sending a batch can take (ms).
    pub lease_ms: i64,
    /// The first retry's delay; each later one doubles, up to an hour (ms).
    pub backoff_ms: i64,
    /// Attempts before a message is given up.
    pub max_attempts: i64,
}

/// One failed attempt, for the worker's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The message's id.
    pub id: String,
    /// What happened.
    pub event: String,
    /// The recipient.
    pub recipient: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
    /// Why it failed.
    pub reason: String,
    /// Whether the message was given up.
    pub given_up: bool,
}

/// What one batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// Messages claimed.
    pub claimed: u64,
    /// Messages sent.
    pub sent: u64,
    /// Messages that failed and will be tried again.
    pub retrying: u64,
    /// Messages given up.
    pub given_up: u64,
    /// Sent after the lease ended (another worker may send them again: the lease is too
    /// short for the batch).
    pub late: u64,
    /// Each failed attempt.
    pub failures: Vec<Attempt>,
}

/// Claims one batch of due messages and hands each to `send`, marking it sent, or failed:
/// due again after the backoff, given up on a permanent failure or the last attempt. No
/// transaction is open while `send` runs; `now` is read after each send, so a slow send
/// does not mark with a stale time.
pub fn deliver_batch(
    sql: &dyn Sql,
    d: &Delivery<'_>,
    now: &dyn Fn() -> i64,
    send: &mut dyn FnMut(&Claimed) -> Result<(), Failure>,
) -> Result<Batch, SqlError> {
    let start = now();
    let held = claim(sql, d.channel, d.owner, start, start + d.lease_ms, d.batch)?;
    let mut b = Batch { claimed: held.len() as u64, ..Batch::default() };
    for c in held {
        match send(&c) {
            Ok(()) => {
                if !mark_sent(sql, c.seq, d.owner, now())? {
                    b.late += 1;
                }
                b.sent += 1;
            }
            Err(f) => {
                let at = now();
                let given_up = f.permanent || c.attempts >= d.max_attempts;
                let next = (!given_up).then(|| retry_at(at, c.attempts, d.backoff_ms));
                mark_failed(sql, c.seq, d.owner, at, &f.reason, next)?;
                if given_up {
                    b.given_up += 1;
                } else {
                    b.retrying += 1;
                }
                let m = c.message;
                b.failures.push(Attempt {
                    id: m.id,
                    event: m.event,
                    recipient: m.recipient,
                    attempts: c.attempts,
                    reason: f.reason,
                    given_up,
                });
            }
        }
    }
    Ok(b)
}
