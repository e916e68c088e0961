//! The verified-token cache and revocation marks: what every request reads.

use crate::sql::{Sql, SqlError, SqlErrorKind, Value};

/// What one lookup tells about a token (and the schema).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CacheLookup {
    /// The schema's version (`0` before the first migration).
    pub schema_version: i64,
    /// The cached claims JSON, when the token was verified before and has not expired.
    pub claims: Option<String>,
    /// The subject's revocation marks and superadmin flag.
    pub facts: SubjectFacts,
}

/// Revocation marks and the superadmin-table flag for a token's subject.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubjectFacts {
    /// Tokens of this subject issued before this (Unix seconds) are revoked.
    pub sub_revoked_before: Option<i64>,
    /// Tokens of this client issued before this (Unix seconds) are revoked.
    pub client_revoked_before: Option<i64>,
    /// Whether the superadmins table names the user.
    pub superadmin_row: bool,
    /// The stored profile already says what the token says (only asked on a miss).
    pub profile_current: bool,
}

/// A user's profile as their newest token states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile<'a> {
    /// Our id for the user.
    pub user_id: &'a str,
    /// Their Identity Service subject.
    pub sub: &'a str,
    /// Their name.
    pub name: &'a str,
    /// Their email.
    pub email: &'a str,
    /// Whether the token carries the superadmin role.
    pub superadmin_role: bool,
}

impl SubjectFacts {
    /// A token issued before a mark on its subject or client is revoked.
    pub fn revokes(&self, iat: i64) -> bool {
        self.sub_revoked_before.is_some_and(|t| iat < t) || self.client_revoked_before.is_some_and(|t| iat < t)
    }
}

/// The per-request statement: schema version, cached claims, revocations and the
/// superadmin flag in one round trip. A database without the schema yet reads as
/// version 0.
pub fn lookup(sql: &dyn Sql, hash: &[u8], now: i64) -> Result<CacheLookup, SqlError> {
    let rows = sql.execute(
        "SELECT (SELECT user_version FROM pragma_user_version), c.claims, \
           (SELECT revoked_before FROM revocations WHERE kind = 'sub' AND subject = c.sub), \
           (SELECT revoked_before FROM revocations WHERE kind = 'client' AND subject = c.client_id), \
           EXISTS (SELECT 1 FROM superadmins s WHERE s.user_id = c.user_id) \
         FROM (SELECT 1) LEFT JOIN token_cache c ON c.hash = ?1 AND c.expires_at > ?2",
        &[Value::Blob(hash.to_vec()), now.into()],
    );
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) if e.kind == SqlErrorKind::NoSuchTable => return Ok(CacheLookup::default()),
        Err(e) => return Err(e),
    };
    let Some(row) = rows.first() else { return Ok(CacheLookup::default()) };
    Ok(CacheLookup {
        schema_version: row.int(0),
        claims: row.opt_text(1),
        facts: SubjectFacts {
            sub_revoked_before: row.opt_int(2),
            client_revoked_before: row.opt_int(3),
            superadmin_row: row.bool(4),
            profile_current: false,
        },
    })
}

/// The same facts for a token not in the cache, and whether the user's stored profile
/// is already `profile` (then a new token writes nothing but its cache row).
pub fn subject_facts(
    sql: &dyn Sql,
    sub: &str,
    client_id: &str,
    profile: Option<&Profile>,
) -> Result<SubjectFacts, SqlError> {
    let p = profile.copied().unwrap_or(Profile { user_id: "", sub: "", name: "", email: "", superadmin_role: false });
    let rows = sql.execute(
        "SELECT (SELECT revoked_before FROM revocations WHERE kind = 'sub' AND subject = ?1), \
                (SELECT revoked_before FROM revocations WHERE kind = 'client' AND subject = ?2), \
                EXISTS (SELECT 1 FROM superadmins WHERE user_id = ?3), \
                EXISTS (SELECT 1 FROM users WHERE id = ?3 AND sub = ?4 AND name = ?5 AND email = ?6 AND superadmin_role = ?7)",
        &[
            sub.into(),
            client_id.into(),
            p.user_id.into(),
            p.sub.into(),
            p.name.into(),
            p.email.into(),
            p.superadmin_role.into(),
        ],
    )?;
    Ok(rows
        .first()
        .map(|r| SubjectFacts {
            sub_revoked_before: r.opt_int(0),
            client_revoked_before: r.opt_int(1),
            superadmin_row: r.bool(2),
            profile_current: r.bool(3),
        })
        .unwrap_or_default())
}

/// How many expired rows one sweep removes: bounded work, through the expiry index.
/// Callers sweep after one insert in [`SWEEP_EVERY`] (one statement less on the others),
/// which still removes rows faster than inserts add them.
pub const SWEEP: i64 = 32;
/// See [`SWEEP`].
pub const SWEEP_EVERY: u8 = 8;

/// Caches verified claims until `expires_at`: one statement.
#[allow(clippy::too_many_arguments)]
pub fn store(
    sql: &dyn Sql,
    hash: &[u8],
    claims_json: &str,
    sub: &str,
    client_id: &str,
    user_id: &str,
    iat: i64,
    expires_at: i64,
) -> Result<(), SqlError> {
    sql.execute(
        "INSERT OR REPLACE INTO token_cache (hash, claims, sub, client_id, user_id, iat, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[Value::Blob(hash.to_vec()), claims_json.into(), sub.into(), client_id.into(), user_id.into(), iat.into(), expires_at.into()],
    )?;
    Ok(())
}

/// Removes up to [`SWEEP`] rows expired at `now`.
pub fn sweep(sql: &dyn Sql, now: i64) -> Result<(), SqlError> {
    sql.execute(
        "DELETE FROM token_cache WHERE hash IN (SELECT hash FROM token_cache WHERE expires_at <= ? LIMIT ?)",
        &[now.into(), SWEEP.into()],
    )?;
    Ok(())
}

/// How many tokens are cached (tests and tools).
pub fn cached_rows(sql: &dyn Sql) -> Result<i64, SqlError> {
    Ok(sql.execute("SELECT count(*) FROM token_cache", &[])?.first().map(|r| r.int(0)).unwrap_or(0))
}

/// `kind` is `sub` or `client`.
pub fn revoke(sql: &dyn Sql, kind: &str, subject: &str, before: i64) -> Result<(), SqlError> {
    sql.execute(
        "INSERT INTO revocations (kind, subject, revoked_before) VALUES (?1, ?2, ?3) \
         ON CONFLICT (kind, subject) DO UPDATE SET revoked_before = ?3",
        &[kind.into(), subject.into(), before.into()],
    )?;
    Ok(())
}

/// Whether the user (by our id) has a revocation mark on their subject that refuses a
/// token issued at `iat`.
pub fn user_revoked_after(sql: &dyn Sql, user_id: &str, iat: i64) -> Result<bool, SqlError> {
    Ok(!sql
        .execute(
            "SELECT 1 FROM users u JOIN revocations r ON r.kind = 'sub' AND r.subject = u.sub \
             WHERE u.id = ? AND r.revoked_before > ?",
            &[user_id.into(), iat.into()],
        )?
        .is_empty())
}

/// Lifts a revocation mark; whether there was one. `kind` is `sub` or `client`.
pub fn lift(sql: &dyn Sql, kind: &str, subject: &str) -> Result<bool, SqlError> {
    Ok(!sql
        .execute(
            "DELETE FROM revocations WHERE kind = ? AND subject = ? RETURNING subject",
            &[kind.into(), subject.into()],
        )?
        .is_empty())
}
