//! The verified-token cache and revocation marks: what every request reads.

use crate::sql::{Sql, SqlError, SqlErrorKind, Value};

/// What one lookup tells about a token (and the schema).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CacheLookup {
    pub schema_version: i64,
    /// The cached claims JSON, when the token was verified before and has not expired.
    pub claims: Option<String>,
    pub facts: SubjectFacts,
}

/// Revocation marks and the superadmin-table flag for a token's subject.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubjectFacts {
    pub sub_revoked_before: Option<i64>,
    pub client_revoked_before: Option<i64>,
    pub superadmin_row: bool,
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
        },
    })
}

/// The same facts for a token not in the cache.
pub fn subject_facts(sql: &dyn Sql, sub: &str, client_id: &str, user_id: &str) -> Result<SubjectFacts, SqlError> {
    let rows = sql.execute(
        "SELECT (SELECT revoked_before FROM revocations WHERE kind = 'sub' AND subject = ?1), \
                (SELECT revoked_before FROM revocations WHERE kind = 'client' AND subject = ?2), \
                EXISTS (SELECT 1 FROM superadmins WHERE user_id = ?3)",
        &[sub.into(), client_id.into(), user_id.into()],
    )?;
    Ok(rows
        .first()
        .map(|r| SubjectFacts {
            sub_revoked_before: r.opt_int(0),
            client_revoked_before: r.opt_int(1),
            superadmin_row: r.bool(2),
        })
        .unwrap_or_default())
}

/// How many expired rows one insert removes: bounded work per request, through the
/// expiry index, and still faster than rows can arrive one per request.
const SWEEP: i64 = 8;

/// Caches verified claims until `expires_at`, sweeping a few expired rows.
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
    now: i64,
) -> Result<(), SqlError> {
    sql.execute(
        "INSERT OR REPLACE INTO token_cache (hash, claims, sub, client_id, user_id, iat, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[Value::Blob(hash.to_vec()), claims_json.into(), sub.into(), client_id.into(), user_id.into(), iat.into(), expires_at.into()],
    )?;
    sql.execute(
        "DELETE FROM token_cache WHERE hash IN (SELECT hash FROM token_cache WHERE expires_at <= ? LIMIT ?)",
        &[now.into(), SWEEP.into()],
    )?;
    Ok(())
}

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

pub fn lift(sql: &dyn Sql, kind: &str, subject: &str) -> Result<bool, SqlError> {
    Ok(!sql
        .execute(
            "DELETE FROM revocations WHERE kind = ? AND subject = ? RETURNING subject",
            &[kind.into(), subject.into()],
        )?
        .is_empty())
}
