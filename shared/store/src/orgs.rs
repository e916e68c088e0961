//! Organisations (reporting orgs / publishers).

use crate::listing::{self, Scope};
use crate::sql::{Row, Sql, SqlError, Value};
use std::collections::BTreeMap;

/// The organisation's string metadata columns, in the reference's order. Column names in
/// SQL come only from this list, never from a request.
pub const METADATA_COLUMNS: [&str; 16] = [
    "short_name",
    "organisation_identifier",
    "human_readable_name",
    "description",
    "hq_country",
    "region",
    "organisation_type",
    "data_portal_url",
    "exclusions_policy_url",
    "reporting_source_type",
    "default_licence_id",
    "contact_email",
    "address",
    "phone",
    "fax",
    "website",
];

/// An organisation as the Register Your Data API reads and writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Organisation {
    /// The organisation's id (UUID).
    pub id: String,
    /// Every column of [`METADATA_COLUMNS`]; unset is `""`.
    pub metadata: BTreeMap<String, String>,
    /// Whether a superadmin approved it (only approved organisations are public).
    pub registry_approved: bool,
    /// When it first published (RFC 3339), `""` if never.
    pub first_publication_date: String,
    /// When it was registered (RFC 3339).
    pub created_date: String,
    /// How many public datasets it has.
    pub number_of_published_datasets: i64,
    /// Bumped by every write (optimistic concurrency).
    pub version: i64,
}

impl Organisation {
    /// One metadata column's value, `""` when unset or unknown.
    pub fn field(&self, name: &str) -> &str {
        self.metadata.get(name).map(String::as_str).unwrap_or("")
    }
}

fn select_columns(prefix: &str) -> String {
    let meta: Vec<String> = METADATA_COLUMNS.iter().map(|c| format!("{prefix}{c}")).collect();
    format!(
        "{prefix}id, {}, {prefix}registry_approved, {prefix}first_publication_date, {prefix}created_date, {prefix}version, \
         (SELECT count(*) FROM datasets d WHERE d.organisation_id = {prefix}id AND d.deleted_at IS NULL AND d.visibility = 'public')",
        meta.join(", ")
    )
}

/// Number of columns `select_columns` yields.
pub const SELECTED: usize = 1 + METADATA_COLUMNS.len() + 5;

/// Reads an organisation from the columns `select_columns` yields, starting at column 0.
pub fn from_row(row: Row<'_>) -> Organisation {
    let n = METADATA_COLUMNS.len();
    Organisation {
        id: row.text(0),
        metadata: METADATA_COLUMNS.iter().enumerate().map(|(i, c)| (c.to_string(), row.text(i + 1))).collect(),
        registry_approved: row.bool(n + 1),
        first_publication_date: row.text(n + 2),
        created_date: row.text(n + 3),
        version: row.int(n + 4),
        number_of_published_datasets: row.int(n + 5),
    }
}

/// A live organisation.
pub fn get(sql: &dyn Sql, id: &str) -> Result<Option<Organisation>, SqlError> {
    let q = format!("SELECT {} FROM organisations o WHERE o.id = ? AND o.deleted_at IS NULL", select_columns("o."));
    Ok(sql.execute(&q, &[id.into()])?.first().map(from_row))
}

/// The caller's standing on an organisation, with the organisation, in one statement:
/// the user's role, and whether a tool of this `client_id` (any client when `None`: asking
/// about a user rather than a token) is granted there and the caller is one of its admins
/// (or is its machine client).
pub struct Standing {
    /// The organisation.
    pub org: Organisation,
    /// The user's role there, if any.
    pub role: Option<String>,
    /// Whether a granted tool makes the caller its provider admin there.
    pub provider_admin: bool,
}

/// The organisation (live) with the caller's [`Standing`] on it.
pub fn get_with_standing(
    sql: &dyn Sql,
    id: &str,
    user_id: &str,
    client_id: Option<&str>,
    is_machine: bool,
) -> Result<Option<Standing>, SqlError> {
    let q = format!(
        "SELECT {}, (SELECT role FROM roles r WHERE r.organisation_id = o.id AND r.user_id = ?1), \
         EXISTS (SELECT 1 FROM tool_grants g JOIN tools t ON t.id = g.tool_id AND t.deleted_at IS NULL \
                 WHERE g.organisation_id = o.id AND (?2 IS NULL OR t.client_id = ?2) \
                 AND (?3 OR EXISTS (SELECT 1 FROM tool_admins a WHERE a.tool_id = t.id AND a.user_id = ?1))) \
         FROM organisations o WHERE o.id = ?4 AND o.deleted_at IS NULL",
        select_columns("o.")
    );
    let rows = sql.execute(&q, &[user_id.into(), client_id.into(), is_machine.into(), id.into()])?;
    Ok(rows.first().map(|row| Standing {
        org: from_row(row),
        role: row.opt_text(SELECTED),
        provider_admin: row.bool(SELECTED + 1),
    }))
}

/// A page of organisations and the total count.
pub struct Page<T> {
    /// This page's items.
    pub items: Vec<T>,
    /// How many there are in all.
    pub total: i64,
}

/// Every live organisation (superadmins), by name then id.
pub fn list_all(sql: &dyn Sql, limit: i64, offset: i64) -> Result<Page<(Organisation, Option<String>)>, SqlError> {
    let q = format!(
        "SELECT {}, count(*) OVER () FROM organisations o WHERE o.deleted_at IS NULL \
         ORDER BY o.human_readable_name, o.id LIMIT ? OFFSET ?",
        select_columns("o.")
    );
    let rows = sql.execute(&q, &[limit.into(), offset.into()])?;
    let total = rows.first().map(|r| r.int(SELECTED)).unwrap_or(0);
    let total = if rows.is_empty() { count_live(sql)? } else { total };
    Ok(Page { items: rows.iter().map(|r| (from_row(r), None)).collect(), total })
}

fn count_live(sql: &dyn Sql) -> Result<i64, SqlError> {
    Ok(sql
        .execute("SELECT count(*) FROM organisations WHERE deleted_at IS NULL", &[])?
        .first()
        .map(|r| r.int(0))
        .unwrap_or(0))
}

/// The organisations a caller has a role on (pending requests included), plus those
/// where a tool of its `client_id` is granted and it is that tool's admin or client (role
/// `provider_admin` where it holds no role of its own).
pub fn list_for_caller(
    sql: &dyn Sql,
    user_id: &str,
    client_id: &str,
    is_machine: bool,
    limit: i64,
    offset: i64,
) -> Result<Page<(Organisation, Option<String>)>, SqlError> {
    let mine = "WITH mine(org_id, role) AS ( \
            SELECT organisation_id, role FROM roles WHERE user_id = ?1 \
            UNION ALL \
            SELECT g.organisation_id, 'provider_admin' FROM tool_grants g \
              JOIN tools t ON t.id = g.tool_id AND t.deleted_at IS NULL AND t.client_id = ?2 \
             WHERE (?3 OR EXISTS (SELECT 1 FROM tool_admins a WHERE a.tool_id = t.id AND a.user_id = ?1)) \
               AND NOT EXISTS (SELECT 1 FROM roles r WHERE r.organisation_id = g.organisation_id AND r.user_id = ?1)) ";
    let from = "FROM mine m JOIN organisations o ON o.id = m.org_id AND o.deleted_at IS NULL";
    let q = format!(
        "{mine} SELECT {}, m.role {from} ORDER BY o.human_readable_name, o.id LIMIT ?4 OFFSET ?5",
        select_columns("o.")
    );
    let rows = sql.execute(&q, &[user_id.into(), client_id.into(), is_machine.into(), limit.into(), offset.into()])?;
    // A short page tells the total itself (most callers have a few organisations); a full
    // or empty one past the start asks for the count (a window function in the page's
    // statement cost more than this, measured on every call).
    let shown = rows.len() as i64;
    let total = if shown < limit && (shown > 0 || offset == 0) {
        offset + shown
    } else {
        let count = sql.execute(
            &format!("{mine} SELECT count(*) {from}"),
            &[user_id.into(), client_id.into(), is_machine.into()],
        )?;
        count.first().map(|r| r.int(0)).unwrap_or(0)
    };
    Ok(Page { items: rows.iter().map(|r| (from_row(r), r.opt_text(SELECTED))).collect(), total })
}

/// Live organisations, approved or not, whose name contains `q` (case-insensitive).
pub fn list_discoverable(
    sql: &dyn Sql,
    q: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Page<Organisation>, SqlError> {
    let pattern = q.map(|q| format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
    let query = format!(
        "SELECT {}, count(*) OVER () FROM organisations o WHERE o.deleted_at IS NULL \
         AND (?1 IS NULL OR o.human_readable_name LIKE ?1 ESCAPE '\\') \
         ORDER BY o.human_readable_name, o.id LIMIT ?2 OFFSET ?3",
        select_columns("o.")
    );
    let rows = sql.execute(&query, &[pattern.clone().into(), limit.into(), offset.into()])?;
    let mut total = rows.first().map(|r| r.int(SELECTED)).unwrap_or(0);
    if rows.is_empty() && offset > 0 {
        total = sql
            .execute(
                "SELECT count(*) FROM organisations o WHERE o.deleted_at IS NULL AND (?1 IS NULL OR o.human_readable_name LIKE ?1 ESCAPE '\\')",
                &[pattern.into()],
            )?
            .first()
            .map(|r| r.int(0))
            .unwrap_or(0);
    }
    Ok(Page { items: rows.iter().map(from_row).collect(), total })
}

/// Registers an organisation.
pub fn insert(sql: &dyn Sql, org: &Organisation) -> Result<(), SqlError> {
    let cols = METADATA_COLUMNS.join(", ");
    let marks = vec!["?"; METADATA_COLUMNS.len()].join(", ");
    let q = format!(
        "INSERT INTO organisations (id, {cols}, registry_approved, first_publication_date, created_date, version) \
         VALUES (?, {marks}, ?, ?, ?, 1)"
    );
    let mut params: Vec<Value> = vec![org.id.as_str().into()];
    params.extend(METADATA_COLUMNS.iter().map(|c| Value::from(org.field(c))));
    params.extend([
        org.registry_approved.into(),
        org.first_publication_date.as_str().into(),
        org.created_date.as_str().into(),
    ]);
    sql.execute(&q, &params)?;
    crate::changes::org_written(sql, &org.id, false)
}

/// Writes changed metadata and the approval flag, bumping `version` when it is still
/// `expected_version` (optimistic concurrency). Returns false when another writer won.
pub fn update(
    sql: &dyn Sql,
    id: &str,
    changes: &BTreeMap<String, String>,
    registry_approved: Option<bool>,
    expected_version: i64,
) -> Result<bool, SqlError> {
    let mut sets = Vec::new();
    let mut params: Vec<Value> = Vec::new();
    for (col, value) in changes {
        let col = METADATA_COLUMNS
            .iter()
            .find(|c| **c == col.as_str())
            .ok_or_else(|| SqlError::other(format!("unknown organisation column {col}")))?;
        sets.push(format!("{col} = ?"));
        params.push(value.as_str().into());
    }
    if let Some(approved) = registry_approved {
        sets.push("registry_approved = ?".into());
        params.push(approved.into());
    }
    sets.push("version = version + 1".into());
    params.push(id.into());
    params.push(expected_version.into());
    let q = format!(
        "UPDATE organisations SET {} WHERE id = ? AND version = ? AND deleted_at IS NULL RETURNING id",
        sets.join(", ")
    );
    let visible_before = crate::changes::org_visible(sql, id)?;
    let done = !sql.execute(&q, &params)?.is_empty();
    if done {
        crate::changes::org_written(sql, id, visible_before)?;
    }
    // Approval decides whether its datasets are listed; its names are in their full text.
    let relists =
        registry_approved.is_some() || changes.keys().any(|c| c == "short_name" || c == "human_readable_name");
    if done && relists {
        listing::refresh(sql, Scope::Organisation(id))?;
    }
    Ok(done)
}

/// Soft delete: the organisation stops being visible, its roles and grants go, its
/// datasets are deleted; the audit trail keeps everything.
pub fn soft_delete(sql: &dyn Sql, id: &str, at: &str, expected_version: i64) -> Result<bool, SqlError> {
    let visible_before = crate::changes::org_visible(sql, id)?;
    let done = !sql
        .execute(
            "UPDATE organisations SET deleted_at = ?, version = version + 1 WHERE id = ? AND version = ? AND deleted_at IS NULL RETURNING id",
            &[at.into(), id.into(), expected_version.into()],
        )?
        .is_empty();
    if done {
        crate::changes::org_written(sql, id, visible_before)?;
        // Before its datasets are deleted: the refresh walks the live ones.
        listing::refresh(sql, Scope::Organisation(id))?;
        sql.execute(
            "UPDATE datasets SET deleted_at = ?, version = version + 1 WHERE organisation_id = ? AND deleted_at IS NULL",
            &[at.into(), id.into()],
        )?;
        sql.execute("DELETE FROM roles WHERE organisation_id = ?", &[id.into()])?;
        sql.execute("DELETE FROM tool_grants WHERE organisation_id = ?", &[id.into()])?;
    }
    Ok(done)
}

/// Which of these unique values are taken by another live organisation.
pub fn taken(sql: &dyn Sql, column: &str, value: &str, except_id: &str) -> Result<bool, SqlError> {
    let col = ["short_name", "organisation_identifier"]
        .into_iter()
        .find(|c| *c == column)
        .ok_or_else(|| SqlError::other(format!("{column} is not a unique column")))?;
    let q = format!("SELECT 1 FROM organisations WHERE {col} = ? AND id <> ? AND deleted_at IS NULL LIMIT 1");
    Ok(!sql.execute(&q, &[value.into(), except_id.into()])?.is_empty())
}
