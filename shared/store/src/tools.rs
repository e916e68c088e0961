//! Registered third-party tools, their admin users and their grants on organisations.

use crate::sql::{Sql, SqlError};

/// A registered third-party tool: an OAuth client that organisations can grant access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tool {
    /// The tool's id (UUID).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Who provides it.
    pub provider: String,
    /// The OAuth client id its tokens carry.
    pub client_id: String,
    /// Bumped by every write (optimistic concurrency).
    pub version: i64,
}

const COLUMNS: &str = "id, name, provider, client_id, version";

fn read(rows: &crate::sql::Rows) -> Vec<Tool> {
    rows.iter()
        .map(|r| Tool { id: r.text(0), name: r.text(1), provider: r.text(2), client_id: r.text(3), version: r.int(4) })
        .collect()
}

/// Every live tool, by name.
pub fn list(sql: &dyn Sql) -> Result<Vec<Tool>, SqlError> {
    Ok(read(&sql.execute(&format!("SELECT {COLUMNS} FROM tools WHERE deleted_at IS NULL ORDER BY name, id"), &[])?))
}

/// One live tool by id.
pub fn get(sql: &dyn Sql, id: &str) -> Result<Option<Tool>, SqlError> {
    let q = format!("SELECT {COLUMNS} FROM tools WHERE id = ? AND deleted_at IS NULL");
    Ok(read(&sql.execute(&q, &[id.into()])?).into_iter().next())
}

/// The live tool of this OAuth client, if any.
pub fn by_client_id(sql: &dyn Sql, client_id: &str) -> Result<Option<Tool>, SqlError> {
    let q = format!("SELECT {COLUMNS} FROM tools WHERE client_id = ? AND deleted_at IS NULL");
    Ok(read(&sql.execute(&q, &[client_id.into()])?).into_iter().next())
}

/// Registers a tool.
pub fn insert(sql: &dyn Sql, t: &Tool, at: &str) -> Result<(), SqlError> {
    sql.execute(
        "INSERT INTO tools (id, name, provider, client_id, created_at, version) VALUES (?, ?, ?, ?, ?, 1)",
        &[
            t.id.as_str().into(),
            t.name.as_str().into(),
            t.provider.as_str().into(),
            t.client_id.as_str().into(),
            at.into(),
        ],
    )?;
    Ok(())
}

/// Writes a tool still at `expected_version`; `false` when another writer won.
pub fn update(sql: &dyn Sql, t: &Tool, expected_version: i64) -> Result<bool, SqlError> {
    Ok(!sql
        .execute(
            "UPDATE tools SET name = ?, provider = ?, client_id = ?, version = version + 1 \
             WHERE id = ? AND version = ? AND deleted_at IS NULL RETURNING id",
            &[
                t.name.as_str().into(),
                t.provider.as_str().into(),
                t.client_id.as_str().into(),
                t.id.as_str().into(),
                expected_version.into(),
            ],
        )?
        .is_empty())
}

/// Removing a tool ends its grants and admins at once.
pub fn soft_delete(sql: &dyn Sql, id: &str, at: &str) -> Result<bool, SqlError> {
    let done = !sql
        .execute(
            "UPDATE tools SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL RETURNING id",
            &[at.into(), id.into()],
        )?
        .is_empty();
    if done {
        sql.execute("DELETE FROM tool_grants WHERE tool_id = ?", &[id.into()])?;
        sql.execute("DELETE FROM tool_admins WHERE tool_id = ?", &[id.into()])?;
    }
    Ok(done)
}

/// Whether another live tool has this client id.
pub fn client_id_taken(sql: &dyn Sql, client_id: &str, except_id: &str) -> Result<bool, SqlError> {
    Ok(!sql
        .execute(
            "SELECT 1 FROM tools WHERE client_id = ? AND id <> ? AND deleted_at IS NULL",
            &[client_id.into(), except_id.into()],
        )?
        .is_empty())
}

/// Makes the user one of the tool's admins; `false` if they were.
pub fn add_admin(sql: &dyn Sql, tool_id: &str, user_id: &str) -> Result<bool, SqlError> {
    Ok(!sql
        .execute(
            "INSERT OR IGNORE INTO tool_admins (tool_id, user_id) VALUES (?, ?) RETURNING user_id",
            &[tool_id.into(), user_id.into()],
        )?
        .is_empty())
}

/// Removes one of the tool's admins; whether they were one.
pub fn remove_admin(sql: &dyn Sql, tool_id: &str, user_id: &str) -> Result<bool, SqlError> {
    Ok(!sql
        .execute(
            "DELETE FROM tool_admins WHERE tool_id = ? AND user_id = ? RETURNING user_id",
            &[tool_id.into(), user_id.into()],
        )?
        .is_empty())
}

/// Tool ids a user administers.
pub fn administered_by(sql: &dyn Sql, user_id: &str) -> Result<Vec<String>, SqlError> {
    let rows = sql.execute(
        "SELECT a.tool_id FROM tool_admins a JOIN tools t ON t.id = a.tool_id AND t.deleted_at IS NULL WHERE a.user_id = ? ORDER BY t.name, t.id",
        &[user_id.into()],
    )?;
    Ok(rows.iter().map(|r| r.text(0)).collect())
}

/// Organisations where a tool the user administers is granted: (org id, tool client_id).
pub fn provider_admin_orgs(sql: &dyn Sql, user_id: &str) -> Result<Vec<(String, String)>, SqlError> {
    let rows = sql.execute(
        "SELECT g.organisation_id, t.client_id FROM tool_admins a \
         JOIN tools t ON t.id = a.tool_id AND t.deleted_at IS NULL \
         JOIN tool_grants g ON g.tool_id = t.id \
         JOIN organisations o ON o.id = g.organisation_id AND o.deleted_at IS NULL \
         WHERE a.user_id = ? ORDER BY o.human_readable_name, o.id",
        &[user_id.into()],
    )?;
    Ok(rows.iter().map(|r| (r.text(0), r.text(1))).collect())
}

/// The tools granted on an organisation.
pub fn granted_on(sql: &dyn Sql, org_id: &str) -> Result<Vec<Tool>, SqlError> {
    let q = "SELECT t.id, t.name, t.provider, t.client_id, t.version FROM tool_grants g JOIN tools t ON t.id = g.tool_id AND t.deleted_at IS NULL \
             WHERE g.organisation_id = ? ORDER BY t.name, t.id";
    Ok(read(&sql.execute(q, &[org_id.into()])?))
}

/// Grants a tool access to an organisation; `false` if it had it.
pub fn grant(sql: &dyn Sql, org_id: &str, tool_id: &str, at: &str) -> Result<bool, SqlError> {
    Ok(!sql
        .execute(
            "INSERT OR IGNORE INTO tool_grants (organisation_id, tool_id, created_at) VALUES (?, ?, ?) RETURNING tool_id",
            &[org_id.into(), tool_id.into(), at.into()],
        )?
        .is_empty())
}

/// Ends a tool's grant on an organisation; whether it had one.
pub fn revoke(sql: &dyn Sql, org_id: &str, tool_id: &str) -> Result<bool, SqlError> {
    Ok(!sql
        .execute(
            "DELETE FROM tool_grants WHERE organisation_id = ? AND tool_id = ? RETURNING tool_id",
            &[org_id.into(), tool_id.into()],
        )?
        .is_empty())
}
