//! Users, their roles per organisation, and superadmins.

use crate::sql::{Sql, SqlError};

/// A member of an organisation, with the profile the console shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The user's id.
    pub user_id: String,
    /// Their name.
    pub name: String,
    /// Their email.
    pub email: String,
    /// `admin`, `editor`, `contributor` or `pending`.
    pub role: String,
}

/// Records the user's profile from the token (or userinfo). Writes only when something
/// changed, so a known user costs one read-locked statement.
pub fn upsert_user(
    sql: &dyn Sql,
    id: &str,
    sub: &str,
    name: &str,
    email: &str,
    superadmin_role: bool,
    at: &str,
) -> Result<(), SqlError> {
    sql.execute(
        "INSERT INTO users (id, sub, name, email, superadmin_role, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (id) DO UPDATE SET sub = ?2, name = ?3, email = ?4, superadmin_role = ?5, updated_at = ?6 \
         WHERE users.sub <> ?2 OR users.name <> ?3 OR users.email <> ?4 OR users.superadmin_role <> ?5",
        &[id.into(), sub.into(), name.into(), email.into(), superadmin_role.into(), at.into()],
    )?;
    Ok(())
}

/// Whether a user with this id is known.
pub fn user_exists(sql: &dyn Sql, id: &str) -> Result<bool, SqlError> {
    Ok(!sql.execute("SELECT 1 FROM users WHERE id = ?", &[id.into()])?.is_empty())
}

/// The Identity Service subject of a known user.
pub fn sub_of(sql: &dyn Sql, id: &str) -> Result<Option<String>, SqlError> {
    Ok(sql.execute("SELECT sub FROM users WHERE id = ?", &[id.into()])?.first().map(|r| r.text(0)))
}

/// A user's name, `""` when unknown.
pub fn user_name(sql: &dyn Sql, id: &str) -> Result<String, SqlError> {
    Ok(sql.execute("SELECT name FROM users WHERE id = ?", &[id.into()])?.first().map(|r| r.text(0)).unwrap_or_default())
}

/// An organisation's members, pending requests included.
pub fn members(sql: &dyn Sql, org_id: &str) -> Result<Vec<Member>, SqlError> {
    let rows = sql.execute(
        "SELECT r.user_id, u.name, u.email, r.role FROM roles r JOIN users u ON u.id = r.user_id \
         WHERE r.organisation_id = ? ORDER BY u.name, r.user_id",
        &[org_id.into()],
    )?;
    Ok(rows.iter().map(|r| Member { user_id: r.text(0), name: r.text(1), email: r.text(2), role: r.text(3) }).collect())
}

/// The user's role on the organisation, if any.
pub fn role_of(sql: &dyn Sql, org_id: &str, user_id: &str) -> Result<Option<String>, SqlError> {
    Ok(sql
        .execute("SELECT role FROM roles WHERE organisation_id = ? AND user_id = ?", &[org_id.into(), user_id.into()])?
        .first()
        .map(|r| r.text(0)))
}

/// Every role a user holds: (organisation id, role), live organisations only.
pub fn roles_of_user(sql: &dyn Sql, user_id: &str) -> Result<Vec<(String, String)>, SqlError> {
    let rows = sql.execute(
        "SELECT r.organisation_id, r.role FROM roles r JOIN organisations o ON o.id = r.organisation_id AND o.deleted_at IS NULL \
         WHERE r.user_id = ? ORDER BY o.human_readable_name, o.id",
        &[user_id.into()],
    )?;
    Ok(rows.iter().map(|r| (r.text(0), r.text(1))).collect())
}

/// Gives the user a role on the organisation, replacing any role they had.
pub fn set_role(sql: &dyn Sql, org_id: &str, user_id: &str, role: &str, at: &str) -> Result<(), SqlError> {
    sql.execute(
        "INSERT INTO roles (organisation_id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (organisation_id, user_id) DO UPDATE SET role = ?3",
        &[org_id.into(), user_id.into(), role.into(), at.into()],
    )?;
    Ok(())
}

/// Removes the user's role; whether they had one.
pub fn remove_role(sql: &dyn Sql, org_id: &str, user_id: &str) -> Result<bool, SqlError> {
    Ok(!sql
        .execute(
            "DELETE FROM roles WHERE organisation_id = ? AND user_id = ? RETURNING role",
            &[org_id.into(), user_id.into()],
        )?
        .is_empty())
}

/// (admins, members excluding pending requests) of an organisation.
pub fn admin_and_member_counts(sql: &dyn Sql, org_id: &str) -> Result<(i64, i64), SqlError> {
    let rows = sql.execute(
        "SELECT coalesce(sum(role = 'admin'), 0), coalesce(sum(role <> 'contributor_pending'), 0) FROM roles WHERE organisation_id = ?",
        &[org_id.into()],
    )?;
    Ok(rows.first().map(|r| (r.int(0), r.int(1))).unwrap_or((0, 0)))
}

/// A superadmin by the superadmin table, or by the role in their last token.
pub fn is_superadmin(sql: &dyn Sql, user_id: &str) -> Result<bool, SqlError> {
    Ok(!sql
        .execute(
            "SELECT 1 FROM superadmins WHERE user_id = ?1 UNION ALL SELECT 1 FROM users WHERE id = ?1 AND superadmin_role",
            &[user_id.into()],
        )?
        .is_empty())
}

/// Adds a superadmin to the superadmins table (idempotent).
pub fn add_superadmin(sql: &dyn Sql, user_id: &str, at: &str) -> Result<(), SqlError> {
    sql.execute("INSERT OR IGNORE INTO superadmins (user_id, created_at) VALUES (?, ?)", &[user_id.into(), at.into()])?;
    Ok(())
}

/// A known user's (name, email).
pub fn profile(sql: &dyn Sql, id: &str) -> Result<Option<(String, String)>, SqlError> {
    Ok(sql.execute("SELECT name, email FROM users WHERE id = ?", &[id.into()])?.first().map(|r| (r.text(0), r.text(1))))
}

/// (name, email) of every admin of the organisation.
pub fn admin_profiles(sql: &dyn Sql, org_id: &str) -> Result<Vec<(String, String)>, SqlError> {
    let rows = sql.execute(
        "SELECT u.name, u.email FROM roles r JOIN users u ON u.id = r.user_id \
         WHERE r.organisation_id = ? AND r.role = 'admin' ORDER BY u.name, u.id",
        &[org_id.into()],
    )?;
    Ok(rows.iter().map(|r| (r.text(0), r.text(1))).collect())
}

/// (name, email) of every known superadmin, by the table or by their last token's role.
pub fn superadmin_profiles(sql: &dyn Sql) -> Result<Vec<(String, String)>, SqlError> {
    let rows = sql.execute(
        "SELECT name, email FROM users WHERE superadmin_role OR id IN (SELECT user_id FROM superadmins) ORDER BY name, id",
        &[],
    )?;
    Ok(rows.iter().map(|r| (r.text(0), r.text(1))).collect())
}
