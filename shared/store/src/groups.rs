//! Groups: collections of datasets with user members and key/value metadata (usage plans
//! for gateways read them). Managed by superadmins.

use crate::sql::{Sql, SqlError};
use std::collections::BTreeMap;

/// A group (usage plans and shared access).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The group's id (UUID).
    pub id: String,
    /// Its unique name.
    pub name: String,
    /// Its display title.
    pub title: String,
    /// When it was made (RFC 3339).
    pub created_at: String,
}

fn from_row(r: crate::sql::Row<'_>) -> Group {
    Group { id: r.text(0), name: r.text(1), title: r.text(2), created_at: r.text(3) }
}

/// By id or by name.
pub fn find(sql: &dyn Sql, id_or_name: &str) -> Result<Option<Group>, SqlError> {
    Ok(sql
        .execute(
            "SELECT id, name, title, created_at FROM groups WHERE id = ?1 OR name = ?1 ORDER BY id = ?1 DESC LIMIT 1",
            &[id_or_name.into()],
        )?
        .first()
        .map(from_row))
}

/// Every group, by name.
pub fn list(sql: &dyn Sql) -> Result<Vec<Group>, SqlError> {
    Ok(sql.execute("SELECT id, name, title, created_at FROM groups ORDER BY name", &[])?.iter().map(from_row).collect())
}

/// `false` when the name is taken.
pub fn insert(sql: &dyn Sql, g: &Group) -> Result<bool, SqlError> {
    Ok(!sql
        .execute(
            "INSERT INTO groups (id, name, title, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING id",
            &[g.id.as_str().into(), g.name.as_str().into(), g.title.as_str().into(), g.created_at.as_str().into()],
        )?
        .is_empty())
}

/// Renames a group's title.
pub fn set_title(sql: &dyn Sql, id: &str, title: &str) -> Result<(), SqlError> {
    sql.execute("UPDATE groups SET title = ? WHERE id = ?", &[title.into(), id.into()])?;
    Ok(())
}

/// Deletes the group with its members, datasets and metadata (call inside a transaction).
pub fn delete(sql: &dyn Sql, id: &str) -> Result<bool, SqlError> {
    for table in ["group_members", "group_datasets", "group_metadata"] {
        sql.execute(&format!("DELETE FROM {table} WHERE group_id = ?"), &[id.into()])?;
    }
    Ok(!sql.execute("DELETE FROM groups WHERE id = ? RETURNING id", &[id.into()])?.is_empty())
}

/// `table` is one of the group's link tables; `column` its second key.
fn link(sql: &dyn Sql, table: &str, column: &str, group_id: &str, value: &str, add: bool) -> Result<bool, SqlError> {
    let statement = if add {
        format!("INSERT OR IGNORE INTO {table} (group_id, {column}) VALUES (?, ?) RETURNING group_id")
    } else {
        format!("DELETE FROM {table} WHERE group_id = ? AND {column} = ? RETURNING group_id")
    };
    Ok(!sql.execute(&statement, &[group_id.into(), value.into()])?.is_empty())
}

/// Adds (or with `add == false` removes) a member; whether anything changed.
pub fn set_member(sql: &dyn Sql, group_id: &str, user_id: &str, add: bool) -> Result<bool, SqlError> {
    link(sql, "group_members", "user_id", group_id, user_id, add)
}

/// Adds (or with `add == false` removes) a dataset; whether anything changed.
pub fn set_dataset(sql: &dyn Sql, group_id: &str, dataset_id: &str, add: bool) -> Result<bool, SqlError> {
    link(sql, "group_datasets", "dataset_id", group_id, dataset_id, add)
}

/// Sets (`Some`) or removes (`None`) one metadata value; whether anything changed.
pub fn set_metadata(sql: &dyn Sql, group_id: &str, key: &str, value: Option<&str>) -> Result<bool, SqlError> {
    let rows = match value {
        Some(v) => sql.execute(
            "INSERT INTO group_metadata (group_id, key, value) VALUES (?1, ?2, ?3) \
             ON CONFLICT (group_id, key) DO UPDATE SET value = ?3 WHERE value <> ?3 RETURNING key",
            &[group_id.into(), key.into(), v.into()],
        )?,
        None => sql.execute(
            "DELETE FROM group_metadata WHERE group_id = ? AND key = ? RETURNING key",
            &[group_id.into(), key.into()],
        )?,
    };
    Ok(!rows.is_empty())
}

/// A group's metadata, by key.
pub fn metadata(sql: &dyn Sql, group_id: &str) -> Result<BTreeMap<String, String>, SqlError> {
    let rows =
        sql.execute("SELECT key, value FROM group_metadata WHERE group_id = ? ORDER BY key", &[group_id.into()])?;
    Ok(rows.iter().map(|r| (r.text(0), r.text(1))).collect())
}

/// Member user ids with their names.
pub fn members(sql: &dyn Sql, group_id: &str) -> Result<Vec<(String, String)>, SqlError> {
    let rows = sql.execute(
        "SELECT m.user_id, COALESCE(u.name, '') FROM group_members m LEFT JOIN users u ON u.id = m.user_id \
         WHERE m.group_id = ? ORDER BY m.user_id",
        &[group_id.into()],
    )?;
    Ok(rows.iter().map(|r| (r.text(0), r.text(1))).collect())
}

/// Dataset ids with their names (live datasets only).
pub fn datasets(sql: &dyn Sql, group_id: &str) -> Result<Vec<(String, String)>, SqlError> {
    let rows = sql.execute(
        "SELECT d.id, d.short_name FROM group_datasets g JOIN datasets d ON d.id = g.dataset_id AND d.deleted_at IS NULL \
         WHERE g.group_id = ? ORDER BY d.short_name",
        &[group_id.into()],
    )?;
    Ok(rows.iter().map(|r| (r.text(0), r.text(1))).collect())
}

/// A usage-plan group the user belongs to, with its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanGroup {
    /// The group's name.
    pub name: String,
    /// Whether the user is one of its members.
    pub is_member: bool,
    /// Its metadata, by key.
    pub metadata: BTreeMap<String, String>,
}

/// The named groups that exist, in one statement, each with its metadata and whether the
/// user is a member.
pub fn plan_groups(sql: &dyn Sql, names: &[&str], user_id: &str) -> Result<Vec<PlanGroup>, SqlError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; names.len()].join(", ");
    let mut params: Vec<crate::Value> = vec![user_id.into()];
    params.extend(names.iter().map(|n| crate::Value::from(*n)));
    let rows = sql.execute(
        &format!(
            "SELECT g.name, EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = g.id AND m.user_id = ?1), \
                    md.key, md.value \
             FROM groups g LEFT JOIN group_metadata md ON md.group_id = g.id \
             WHERE g.name IN ({marks}) ORDER BY g.name, md.key"
        ),
        &params,
    )?;
    let mut out: Vec<PlanGroup> = Vec::new();
    for r in rows.iter() {
        let name = r.text(0);
        if out.last().map(|g| g.name != name).unwrap_or(true) {
            out.push(PlanGroup { name: name.clone(), is_member: r.bool(1), metadata: BTreeMap::new() });
        }
        if let (Some(k), Some(v), Some(g)) = (r.opt_text(2), r.opt_text(3), out.last_mut()) {
            g.metadata.insert(k, v);
        }
    }
    Ok(out)
}

/// Whether the user and the dataset share a group, or the user is a member of the
/// dataset's organisation (which counts as a shared group, shared/api/README.md, "Authorisation as a service").
pub fn shares_group(sql: &dyn Sql, user_id: &str, dataset_id: &str) -> Result<bool, SqlError> {
    Ok(sql
        .execute(
            "SELECT EXISTS (SELECT 1 FROM group_datasets gd JOIN group_members gm ON gm.group_id = gd.group_id \
                            WHERE gd.dataset_id = ?2 AND gm.user_id = ?1) \
                 OR EXISTS (SELECT 1 FROM datasets d JOIN roles r ON r.organisation_id = d.organisation_id \
                            WHERE d.id = ?2 AND r.user_id = ?1 AND r.role <> 'contributor_pending')",
            &[user_id.into(), dataset_id.into()],
        )?
        .first()
        .is_some_and(|r| r.bool(0)))
}
