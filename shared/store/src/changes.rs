//! The public change feed (`public_changes`): what a mirror of the public registry must
//! apply, in commit order. Datasets are recorded where their listing is decided
//! (`listing::refresh`, which every dataset write and every organisation write that can
//! change its datasets' listing goes through); organisations by their writes, from their
//! visibility before and after.

use crate::sql::{Sql, SqlError, Value};

/// The time of a change, as the registry writes dates.
pub(crate) const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')";
const ORG_VISIBLE: &str = "o.deleted_at IS NULL AND o.registry_approved = 1";

/// One change, as the feed answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Its position in the feed: strictly increasing, in commit order.
    pub seq: i64,
    /// `dataset` or `organisation`.
    pub kind: String,
    /// The object's id.
    pub id: String,
    /// Its short name.
    pub name: String,
    /// `created`, `updated`, `hidden` or `deleted`, as a reader of public data sees it.
    pub change: String,
    /// The object's version after the change.
    pub version: i64,
    /// When (RFC 3339).
    pub at: String,
}

/// Records, before `listed` is recomputed as `listed_now` for the datasets `rows` selects
/// (bound to `key`), what each one becomes for a reader of public data.
pub(crate) fn record_datasets(sql: &dyn Sql, rows: &str, key: &str, listed_now: &str) -> Result<(), SqlError> {
    recorded(
        sql,
        &format!(
            "INSERT INTO public_changes (kind, id, name, change, version, at) \
             SELECT 'dataset', id, short_name, \
               CASE WHEN listed AND NOT ({listed_now}) THEN \
                      CASE WHEN deleted_at IS NOT NULL OR NOT EXISTS (SELECT 1 FROM organisations o \
                           WHERE o.id = datasets.organisation_id AND o.deleted_at IS NULL) THEN 'deleted' ELSE 'hidden' END \
                    WHEN NOT listed AND ({listed_now}) THEN 'created' ELSE 'updated' END, \
               version, {NOW} \
             FROM datasets WHERE {rows} AND (listed OR ({listed_now})) ORDER BY rowid"
        ),
        &[key.into()],
    )
}

/// A public dataset changed without its listing being recomputed (the pipeline's facts).
pub fn dataset_updated(sql: &dyn Sql, id: &str) -> Result<(), SqlError> {
    recorded(
        sql,
        &format!(
            "INSERT INTO public_changes (kind, id, name, change, version, at) \
             SELECT 'dataset', id, short_name, 'updated', version, {NOW} FROM datasets WHERE id = ? AND listed"
        ),
        &[id.into()],
    )
}

/// Whether an organisation is public now (read before a write, for [`org_written`]).
pub fn org_visible(sql: &dyn Sql, id: &str) -> Result<bool, SqlError> {
    Ok(!sql
        .execute(&format!("SELECT 1 FROM organisations o WHERE o.id = ? AND {ORG_VISIBLE}"), &[id.into()])?
        .is_empty())
}

/// Records an organisation's write from whether it was public before it.
pub fn org_written(sql: &dyn Sql, id: &str, visible_before: bool) -> Result<(), SqlError> {
    recorded(
        sql,
        &format!(
            "INSERT INTO public_changes (kind, id, name, change, version, at) \
             SELECT 'organisation', o.id, o.short_name, \
               CASE WHEN ?2 AND NOT ({ORG_VISIBLE}) THEN CASE WHEN o.deleted_at IS NOT NULL THEN 'deleted' ELSE 'hidden' END \
                    WHEN NOT ?2 AND ({ORG_VISIBLE}) THEN 'created' ELSE 'updated' END, \
               o.version, {NOW} \
             FROM organisations o WHERE o.id = ?1 AND (?2 OR ({ORG_VISIBLE}))"
        ),
        &[id.into(), visible_before.into()],
    )
}

/// Runs `insert` (into `public_changes`) and hands what it recorded to the organisations'
/// webhooks, in the same transaction. Whether any endpoint is enabled comes back with the
/// new rows, so a registry without webhooks pays no statement for them; one with them pays
/// one ([`crate::webhooks::enqueue_changes`]). Code, not a trigger: every request's
/// connection parses every trigger in the schema, and most requests write nothing.
fn recorded(sql: &dyn Sql, insert: &str, params: &[Value]) -> Result<(), SqlError> {
    let rows = sql.execute(
        &format!("{insert} RETURNING seq, EXISTS (SELECT 1 FROM webhooks WHERE disabled_at IS NULL)"),
        params,
    )?;
    if rows.iter().any(|r| r.bool(1)) {
        let seqs: Vec<i64> = rows.iter().map(|r| r.int(0)).collect();
        let (first, last) = (seqs.iter().min().copied().unwrap_or(0), seqs.iter().max().copied().unwrap_or(0));
        crate::webhooks::enqueue_changes(sql, first, last)?;
    }
    Ok(())
}

/// Changes after `after` (a seq), oldest first, at most `limit`; and whether more wait.
pub fn since(sql: &dyn Sql, after: i64, limit: i64) -> Result<(Vec<Change>, bool), SqlError> {
    let rows = sql.execute(
        "SELECT seq, kind, id, name, change, version, at FROM public_changes WHERE seq > ? ORDER BY seq LIMIT ?",
        &[Value::from(after), Value::from(limit + 1)],
    )?;
    let mut changes: Vec<Change> = rows
        .iter()
        .map(|r| Change {
            seq: r.int(0),
            kind: r.text(1),
            id: r.text(2),
            name: r.text(3),
            change: r.text(4),
            version: r.int(5),
            at: r.text(6),
        })
        .collect();
    let more = changes.len() as i64 > limit;
    changes.truncate(limit.max(0) as usize);
    Ok((changes, more))
}

/// The newest change's seq (0 when none): what a mirror that has just listed everything
/// starts following from.
pub fn latest(sql: &dyn Sql) -> Result<i64, SqlError> {
    Ok(sql.execute("SELECT coalesce(max(seq), 0) FROM public_changes", &[])?.first().map(|r| r.int(0)).unwrap_or(0))
}

/// The entity tag of every read of the public registry: its newest change (and this
/// build's version, whose answers may be shaped differently). Unchanged until a public
/// change commits, so a conditional read of an unchanged registry costs this one SELECT,
/// which checks the schema too ([`crate::current_row`]).
pub fn etag(sql: &dyn Sql) -> Result<String, SqlError> {
    newest(sql).map(etag_at)
}

/// The newest change's seq, in one statement that checks the schema too (what [`etag`]
/// tags, and where a dump's reader continues from).
pub fn newest(sql: &dyn Sql) -> Result<i64, SqlError> {
    let q = format!("SELECT coalesce(max(seq), 0), {} FROM public_changes", crate::VERSION_COLUMN);
    Ok(crate::current_row(sql, &q, &[], |r| r.int(0))?.unwrap_or(0))
}

/// The change feed's cursor for change `seq`: opaque to clients; today `v1-` and the seq
/// in hex.
pub fn cursor(seq: i64) -> String {
    format!("v1-{seq:x}")
}

/// The change a cursor of ours names; `None` for anything we did not give.
pub fn seq_of(cursor: &str) -> Option<i64> {
    cursor.strip_prefix("v1-").and_then(|hex| i64::from_str_radix(hex, 16).ok()).filter(|n| *n >= 0)
}

/// The newest change's seq as a column: a record's read that selects it (before
/// [`crate::VERSION_COLUMN`]) carries its entity tag in its one statement.
pub const LATEST_COLUMN: &str = "(SELECT coalesce(max(seq), 0) FROM public_changes)";

/// A read of the public registry, with the newest change committed when it was read: the
/// answer is the registry at least as of `seq`, so [`etag_at`]`(seq)` may tag it.
#[derive(Debug, Clone, PartialEq)]
pub struct AtChange<T> {
    /// What was read.
    pub value: T,
    /// The newest change's seq in the same statement.
    pub seq: i64,
}

/// The entity tag of the registry as it was at change `seq`.
pub fn etag_at(seq: i64) -> String {
    format!("\"{}-r{seq}\"", env!("CARGO_PKG_VERSION"))
}
