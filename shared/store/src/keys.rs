//! Organisations and datasets are named by id or by live short name everywhere (API
//! paths, CKAN actions, authorisation objects): one way to find them by either.
//!
//! `id = ?1 OR short_name = ?1` next to other terms (`listed`, `deleted_at IS NULL`, a
//! join) made SQLite scan a whole table or index (the short-name indexes are partial, and
//! the OR-by-union plan gives up on them): 12 ms for one CKAN `package_show` on 13,000
//! datasets, 18 ms for a 100-item authorisation batch. Two key searches instead.

/// `{alias}.rowid IN (…)`: the row of `table` whose `id` is `key`, or whose live
/// `short_name` is (`key` is a placeholder such as `?1`, or a list such as `?1, ?2`).
pub(crate) fn id_or_name(alias: &str, table: &str, key: &str) -> String {
    format!(
        "{alias}.rowid IN (SELECT rowid FROM {table} WHERE id IN ({key}) \
         UNION ALL SELECT rowid FROM {table} WHERE short_name IN ({key}) AND deleted_at IS NULL)"
    )
}

/// `?1, ?2, … ?n`.
pub(crate) fn placeholders(n: usize) -> String {
    (1..=n).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
}
