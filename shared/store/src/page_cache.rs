//! Rendered list pages of the public read APIs, kept until the public registry next
//! changes (`list_pages`).
//!
//! A page of fifty Dashboard organisations is fifty records built by SQLite, twice the
//! time of CKAN's `organization_show`; the registry changes a few times an hour and is
//! read all the time, so a page is rendered once per change and then read as one row.
//! Entries are labelled with the newest public change they were rendered at and served
//! only while it is still the newest: a page is never staler than its ETag.

use crate::sql::{Sql, SqlError, SqlErrorKind, Value};

/// The most the cache holds (bytes of page text); when a page would not fit, it is emptied
/// first. Bounded, whatever keys callers make up (every query string is a key: the
/// pages' links repeat it).
pub const BUDGET: i64 = 16 << 20;

/// What one statement found: the registry's newest public change, and the page as
/// rendered then, if kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Lookup {
    /// The registry's newest public change.
    pub seq: i64,
    /// The page kept for the key at that change, if any.
    pub body: Option<String>,
}

fn versioned(key: &str) -> String {
    // A new build may shape its answers differently: its pages are its own.
    format!("{} {key}", env!("CARGO_PKG_VERSION"))
}

/// The newest public change and the page kept for `key` at it, in one statement (the
/// same snapshot: the body, if any, is exactly the registry at `seq`), on an up-to-date
/// schema (the statement carries its version: an unchanged registry costs one statement).
pub fn lookup(sql: &dyn Sql, key: &str) -> Result<Lookup, SqlError> {
    let q = format!(
        "WITH now(seq) AS (SELECT coalesce(max(seq), 0) FROM public_changes) \
         SELECT now.seq, p.body, {} FROM now LEFT JOIN list_pages p ON p.key = ? AND p.seq = now.seq",
        crate::VERSION_COLUMN
    );
    crate::current_row(sql, &q, &[Value::from(versioned(key))], |r| Lookup { seq: r.int(0), body: r.opt_text(1) })?
        .ok_or_else(|| SqlError::other("page cache: no row"))
}

/// Keeps `body`, rendered after [`lookup`] said `seq`, if `seq` is still the newest change
/// (a change that committed meanwhile may be in the body or not: such a page is dropped).
/// Stale pages go first; the whole cache goes when the page would not fit in [`BUDGET`].
///
/// A cache write never waits: when another writer holds the lock the page is not kept
/// (`Ok(false)`), and it is written without a sync (`synchronous = NORMAL`: in WAL mode a
/// crash may lose it, never corrupt anything), so a read that renders a page pays
/// microseconds for keeping it, not a disk flush or a queue of writers.
pub fn keep(sql: &dyn Sql, key: &str, seq: i64, body: &str) -> Result<bool, SqlError> {
    let size = body.len() as i64;
    if size > BUDGET {
        return Ok(false);
    }
    let tuned = crate::sql::tune(sql, "synchronous = NORMAL")?;
    crate::sql::tune(sql, "busy_timeout = 0")?;
    let kept = match sql.execute("BEGIN IMMEDIATE", &[]) {
        Err(e) if e.kind == SqlErrorKind::Busy => Ok(false),
        Err(e) => Err(e),
        Ok(_) => {
            let written = write(sql, key, seq, body, size).and_then(|kept| sql.execute("COMMIT", &[]).map(|_| kept));
            if written.is_err() {
                let _ = sql.execute("ROLLBACK", &[]);
            }
            written
        }
    };
    // Whatever this connection writes next is durable again.
    let restored = if tuned { crate::sql::tune(sql, "synchronous = FULL") } else { Ok(false) };
    let kept = kept?;
    restored?;
    Ok(kept)
}

fn write(sql: &dyn Sql, key: &str, seq: i64, body: &str, size: i64) -> Result<bool, SqlError> {
    sql.execute(
        "DELETE FROM list_pages WHERE seq <> ?1 \
            OR (SELECT coalesce(sum(size), 0) FROM list_pages) + ?2 > ?3",
        &[Value::from(seq), Value::from(size), Value::from(BUDGET)],
    )?;
    let kept = sql.execute(
        "INSERT OR REPLACE INTO list_pages (key, seq, body, size) \
         SELECT ?1, ?2, ?3, ?4 WHERE ?2 = (SELECT coalesce(max(seq), 0) FROM public_changes) RETURNING 1",
        &[Value::from(versioned(key)), Value::from(seq), Value::from(body), Value::from(size)],
    )?;
    Ok(!kept.is_empty())
}
