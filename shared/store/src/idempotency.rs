//! Idempotency records for POST (shared/api/README.md: a retry within 24 h returns the first answer).

use crate::sql::{Sql, SqlError};

/// How long a recorded answer is replayed (24 hours).
pub const WINDOW_SECONDS: i64 = 24 * 3600;

/// The first answer to a POST with an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The request's method.
    pub method: String,
    /// The request's path (a key reused on another path is refused).
    pub path: String,
    /// The answer's status.
    pub status: u16,
    /// The answer's body.
    pub body: String,
}

/// The answer recorded for this caller and key within the window, if any.
pub fn find(sql: &dyn Sql, principal: &str, key: &str, now: i64) -> Result<Option<Recorded>, SqlError> {
    let rows = sql.execute(
        "SELECT method, path, status, body FROM idempotency WHERE principal = ? AND key = ? AND created_at > ?",
        &[principal.into(), key.into(), (now - WINDOW_SECONDS).into()],
    )?;
    Ok(rows.first().map(|r| Recorded { method: r.text(0), path: r.text(1), status: r.int(2) as u16, body: r.text(3) }))
}

/// Records an answer (inside the write's transaction) and drops a few expired ones.
pub fn record(sql: &dyn Sql, principal: &str, key: &str, r: &Recorded, now: i64) -> Result<(), SqlError> {
    sql.execute(
        "INSERT OR REPLACE INTO idempotency (principal, key, method, path, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[principal.into(), key.into(), r.method.as_str().into(), r.path.as_str().into(), (r.status as i64).into(), r.body.as_str().into(), now.into()],
    )?;
    sql.execute(
        "DELETE FROM idempotency WHERE (principal, key) IN (SELECT principal, key FROM idempotency WHERE created_at <= ? LIMIT 8)",
        &[(now - WINDOW_SECONDS).into()],
    )?;
    Ok(())
}
