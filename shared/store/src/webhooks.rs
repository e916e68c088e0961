//! Signed webhooks: an organisation's endpoints, their secrets, and the events they hear.
//! Their messages go through the outbox (channel `webhook`): public changes by the trigger
//! on the change feed (migration 0014), membership events by [`enqueue_event`], both in
//! the causing write's transaction.

use crate::sql::{Sql, SqlError, Value};

/// The kinds of event an endpoint may ask for (`<kind>.*`, or one type of it).
pub const KINDS: &[&str] = &["dataset", "organisation", "membership"];

/// The condition that an endpoint `w` asked for events of type `type_expr` and kind
/// `kind_expr` (SQL expressions): the type itself, its kind's `.*`, or `*`. The trigger in
/// migration 0014 holds it with NEW's type (checked by a test).
pub fn matches(type_expr: &str, kind_expr: &str) -> String {
    format!(
        "(instr(' ' || w.events || ' ', ' ' || ({type_expr}) || ' ') > 0 OR instr(' ' || w.events || ' ', ' ' || {kind_expr} || '.* ') > 0 OR instr(' ' || w.events || ' ', ' * ') > 0)"
    )
}

/// An endpoint, as its organisation's admins see it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Its id.
    pub id: String,
    /// The organisation it hears.
    pub organisation_id: String,
    /// Where events are POSTed.
    pub url: String,
    /// What it asked for, space-separated.
    pub events: String,
    /// When made (Unix ms).
    pub created_at: i64,
    /// Who made it (user id).
    pub created_by: String,
    /// Failed attempts in a row.
    pub failures: i64,
    /// When it was disabled, if it is.
    pub disabled_at: Option<i64>,
    /// Why.
    pub disabled_reason: Option<String>,
}

const COLUMNS: &str =
    "id, organisation_id, url, events, created_at, created_by, failures, disabled_at, disabled_reason";

fn from_row(r: crate::sql::Row<'_>) -> Webhook {
    Webhook {
        id: r.text(0),
        organisation_id: r.text(1),
        url: r.text(2),
        events: r.text(3),
        created_at: r.int(4),
        created_by: r.text(5),
        failures: r.int(6),
        disabled_at: r.opt_int(7),
        disabled_reason: r.opt_text(8),
    }
}

/// Stores a new endpoint with its secret.
pub fn insert(sql: &dyn Sql, w: &Webhook, secret: &str) -> Result<(), SqlError> {
    sql.execute(
        "INSERT INTO webhooks (id, organisation_id, url, events, secret, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[
            w.id.as_str().into(),
            w.organisation_id.as_str().into(),
            w.url.as_str().into(),
            w.events.as_str().into(),
            secret.into(),
            w.created_at.into(),
            w.created_by.as_str().into(),
        ],
    )?;
    Ok(())
}

/// An organisation's endpoints, oldest first.
pub fn list(sql: &dyn Sql, org_id: &str) -> Result<Vec<Webhook>, SqlError> {
    let rows = sql.execute(
        &format!("SELECT {COLUMNS} FROM webhooks WHERE organisation_id = ? ORDER BY created_at, id"),
        &[org_id.into()],
    )?;
    Ok(rows.iter().map(from_row).collect())
}

/// One endpoint of an organisation.
pub fn get(sql: &dyn Sql, org_id: &str, id: &str) -> Result<Option<Webhook>, SqlError> {
    let rows = sql.execute(
        &format!("SELECT {COLUMNS} FROM webhooks WHERE organisation_id = ? AND id = ?"),
        &[org_id.into(), id.into()],
    )?;
    Ok(rows.first().map(from_row))
}

/// Changes an endpoint's URL and events, and enables it again (failures forgotten).
pub fn update(sql: &dyn Sql, org_id: &str, id: &str, url: &str, events: &str) -> Result<bool, SqlError> {
    Ok(!sql
        .execute(
            "UPDATE webhooks SET url = ?, events = ?, failures = 0, disabled_at = NULL, disabled_reason = NULL \
             WHERE organisation_id = ? AND id = ? RETURNING id",
            &[url.into(), events.into(), org_id.into(), id.into()],
        )?
        .is_empty())
}

/// Deletes an endpoint; its undelivered messages are given up with the reason.
pub fn delete(sql: &dyn Sql, org_id: &str, id: &str, now_ms: i64) -> Result<bool, SqlError> {
    let gone = !sql
        .execute("DELETE FROM webhooks WHERE organisation_id = ? AND id = ? RETURNING id", &[org_id.into(), id.into()])?
        .is_empty();
    if gone {
        give_up_pending(sql, id, now_ms, "the endpoint was deleted")?;
    }
    Ok(gone)
}

fn give_up_pending(sql: &dyn Sql, id: &str, now_ms: i64, reason: &str) -> Result<(), SqlError> {
    sql.execute(
        "UPDATE outbox SET given_up_at = ?, last_error = coalesce(last_error || '; ', '') || ?, lease_owner = NULL, \
         lease_until = NULL WHERE channel = 'webhook' AND recipient = ? AND sent_at IS NULL AND given_up_at IS NULL",
        &[now_ms.into(), reason.into(), id.into()],
    )?;
    Ok(())
}

/// A new secret; the current one keeps signing beside it until `previous_until` (Unix ms).
pub fn rotate(sql: &dyn Sql, org_id: &str, id: &str, secret: &str, previous_until: i64) -> Result<bool, SqlError> {
    Ok(!sql
        .execute(
            "UPDATE webhooks SET previous_secret = secret, previous_secret_until = ?, secret = ? \
             WHERE organisation_id = ? AND id = ? RETURNING id",
            &[previous_until.into(), secret.into(), org_id.into(), id.into()],
        )?
        .is_empty())
}

/// What a sender needs: (url, the secrets that sign now, newest first), for an endpoint
/// that is enabled.
pub fn target(sql: &dyn Sql, id: &str, now_ms: i64) -> Result<Option<(String, Vec<String>)>, SqlError> {
    let rows = sql.execute(
        "SELECT url, secret, CASE WHEN previous_secret_until > ? THEN previous_secret END FROM webhooks \
         WHERE id = ? AND disabled_at IS NULL",
        &[now_ms.into(), id.into()],
    )?;
    Ok(rows.first().map(|r| {
        let mut secrets = vec![r.text(1)];
        secrets.extend(r.opt_text(2));
        (r.text(0), secrets)
    }))
}

/// A delivery went through: failures forgotten.
pub fn succeeded(sql: &dyn Sql, id: &str) -> Result<(), SqlError> {
    sql.execute("UPDATE webhooks SET failures = 0 WHERE id = ? AND failures <> 0", &[id.into()])?;
    Ok(())
}

/// A delivery failed; at `bound` failures in a row the endpoint is disabled with the reason
/// and its undelivered messages given up. Whether it was disabled now.
pub fn failed(sql: &dyn Sql, id: &str, reason: &str, bound: i64, now_ms: i64) -> Result<bool, SqlError> {
    let disabled = sql
        .execute(
            "UPDATE webhooks SET failures = failures + 1, \
               disabled_at = CASE WHEN failures + 1 >= ?1 THEN ?2 END, \
               disabled_reason = CASE WHEN failures + 1 >= ?1 THEN ?3 END \
             WHERE id = ?4 AND disabled_at IS NULL RETURNING disabled_at",
            &[
                bound.into(),
                now_ms.into(),
                format!("{bound} failed deliveries in a row; the last: {reason}").into(),
                id.into(),
            ],
        )?
        .first()
        .and_then(|r| r.opt_int(0))
        .is_some();
    if disabled {
        give_up_pending(sql, id, now_ms, "the endpoint was disabled")?;
    }
    Ok(disabled)
}

/// Writes the public changes `first..=last` (the change feed's rows) for every enabled
/// endpoint of their organisation that asked for them: one statement, in the causing
/// write's transaction, in the feed's order.
pub fn enqueue_changes(sql: &dyn Sql, first: i64, last: i64) -> Result<(), SqlError> {
    let event = "c.kind || '.' || c.change";
    sql.execute(
        &format!(
            "INSERT INTO outbox (id, channel, event, organisation_id, recipient, subject, body_text, body_html, \
             created_at, next_attempt_at) \
             SELECT 'msg_' || lower(hex(randomblob(16))), 'webhook', {event}, w.organisation_id, w.id, {event}, \
               json_object('type', {event}, 'timestamp', c.at, \
                 'data', json_object('organisation_id', w.organisation_id, 'kind', c.kind, 'id', c.id, 'name', c.name, \
                                     'change', c.change, 'version', c.version, 'seq', c.seq)), \
               '', {NOW_MS}, {NOW_MS} \
             FROM public_changes c JOIN webhooks w ON w.disabled_at IS NULL AND w.organisation_id = \
               CASE c.kind WHEN 'organisation' THEN c.id ELSE (SELECT organisation_id FROM datasets WHERE id = c.id) END \
             WHERE c.seq BETWEEN ?1 AND ?2 AND {} ORDER BY c.seq, w.rowid",
            matches(event, "c.kind")
        ),
        &[first.into(), last.into()],
    )?;
    Ok(())
}

/// Now in Unix milliseconds, as SQLite tells it.
const NOW_MS: &str = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";

/// Writes event `event_type` (of kind `kind`) with `data` (a JSON object) for every enabled
/// endpoint of the organisation that asked for it: one statement, in the causing write's
/// transaction. `at` is the event's time (RFC 3339).
pub fn enqueue_event(
    sql: &dyn Sql,
    org_id: &str,
    kind: &str,
    event_type: &str,
    data: &str,
    at: &str,
    now_ms: i64,
) -> Result<(), SqlError> {
    sql.execute(
        &format!(
            "INSERT INTO outbox (id, channel, event, organisation_id, recipient, subject, body_text, body_html, \
             created_at, next_attempt_at) \
             SELECT 'msg_' || lower(hex(randomblob(16))), 'webhook', ?2, w.organisation_id, w.id, ?2, \
               json_object('type', ?2, 'timestamp', ?4, 'data', json(?3)), '', ?5, ?5 \
             FROM webhooks w WHERE w.organisation_id = ?1 AND w.disabled_at IS NULL AND {}",
            matches("?2", "?6")
        ),
        &[org_id.into(), event_type.into(), data.into(), at.into(), now_ms.into(), Value::from(kind)],
    )?;
    Ok(())
}
