//! API keys for gateways: stored by the SHA-256 of the secret, never the secret.

use crate::sql::{Sql, SqlError, Value};

/// An API key as listed and shown: everything but its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// The key's id (UUID).
    pub id: String,
    /// The user the key acts as.
    pub user_id: String,
    /// The name its owner gave it.
    pub name: String,
    /// The first characters of the secret, shown so a person can tell keys apart.
    pub prefix: String,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// Unix seconds.
    pub expires_at: Option<i64>,
    /// When it was revoked (RFC 3339); `None` while live.
    pub revoked_at: Option<String>,
    /// The hash of the console session it is bound to: it validates only while that
    /// session is on (`None`: an ordinary key).
    pub session_hash: Option<String>,
}

const COLUMNS: &str = "id, user_id, name, prefix, created_at, expires_at, revoked_at, session_hash";

fn from_row(r: crate::sql::Row<'_>) -> ApiKey {
    ApiKey {
        id: r.text(0),
        user_id: r.text(1),
        name: r.text(2),
        prefix: r.text(3),
        created_at: r.text(4),
        expires_at: r.opt_int(5),
        revoked_at: r.opt_text(6),
        session_hash: r.opt_text(7),
    }
}

/// Stores a key; `false` when a key with the same secret already exists (a legacy import
/// repeated, or a collision).
pub fn insert(sql: &dyn Sql, key: &ApiKey, hash: &[u8]) -> Result<bool, SqlError> {
    Ok(!sql
        .execute(
            "INSERT INTO api_keys (id, user_id, name, hash, prefix, created_at, expires_at, session_hash) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (hash) DO NOTHING RETURNING id",
            &[
                key.id.as_str().into(),
                key.user_id.as_str().into(),
                key.name.as_str().into(),
                Value::Blob(hash.to_vec()),
                key.prefix.as_str().into(),
                key.created_at.as_str().into(),
                key.expires_at.into(),
                key.session_hash.as_deref().into(),
            ],
        )?
        .is_empty())
}

/// A user's keys, revoked ones included, oldest first.
pub fn list_for_user(sql: &dyn Sql, user_id: &str) -> Result<Vec<ApiKey>, SqlError> {
    let rows = sql.execute(
        &format!("SELECT {COLUMNS} FROM api_keys WHERE user_id = ? ORDER BY created_at, id"),
        &[user_id.into()],
    )?;
    Ok(rows.iter().map(from_row).collect())
}

/// One key by id, revoked or not.
pub fn get(sql: &dyn Sql, id: &str) -> Result<Option<ApiKey>, SqlError> {
    Ok(sql.execute(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?"), &[id.into()])?.first().map(from_row))
}

/// Revokes one key; `false` when it was already revoked (or does not exist).
pub fn revoke(sql: &dyn Sql, id: &str, at: &str) -> Result<bool, SqlError> {
    Ok(!sql
        .execute(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING id",
            &[at.into(), id.into()],
        )?
        .is_empty())
}

/// Revokes every live key of a user (their credentials revoked at once); how many.
pub fn revoke_all_of_user(sql: &dyn Sql, user_id: &str, at: &str) -> Result<usize, SqlError> {
    Ok(sql
        .execute(
            "UPDATE api_keys SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL RETURNING id",
            &[at.into(), user_id.into()],
        )?
        .len())
}

/// What validating a key needs, in one statement: the live key's owner, name and the
/// owner's display name. Revoking a user revokes their keys in the same transaction, so a
/// revoked user's keys are simply not live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveKey {
    /// The key's id.
    pub id: String,
    /// The user the key acts as.
    pub user_id: String,
    /// The key's name.
    pub name: String,
    /// The owner's display name.
    pub user_name: String,
}

/// The key with this hash if it is neither revoked nor expired at `now` (Unix seconds),
/// and, when bound to a session, that session is on (`sessions`' one rule).
pub fn find_live(sql: &dyn Sql, hash: &[u8], now: i64) -> Result<Option<LiveKey>, SqlError> {
    let rows = sql.execute(
        &format!(
            "SELECT k.id, k.user_id, k.name, COALESCE(u.name, '') FROM api_keys k LEFT JOIN users u ON u.id = k.user_id \
             WHERE k.hash = ?1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ?2) \
             AND (k.session_hash IS NULL OR EXISTS (SELECT 1 FROM account_sessions s \
                                                   WHERE s.id_hash = k.session_hash AND {}))",
            crate::sessions::SESSION_ON
        ),
        &[Value::Blob(hash.to_vec()), now.into()],
    )?;
    Ok(rows.first().map(|r| LiveKey { id: r.text(0), user_id: r.text(1), name: r.text(2), user_name: r.text(3) }))
}
