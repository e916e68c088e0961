//! IATI Account's browser sessions, pending sign-ins and seen logout tokens (migration
//! 0011). Sessions are keyed by the hash of their cookie's id (`ryd_account::session_hash`):
//! the id is never stored. Whether a session is still on is decided in the one SELECT that
//! finds it: not idle, not past its absolute lifetime, its user still there, and no
//! revocation mark on its subject since it began. Each session keeps the timeouts it began
//! with, so whoever reads it (`validate_cookie` in the CKAN component) needs no settings.

use crate::sql::{Sql, SqlError};

/// A session as a sign-in makes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// The SHA-256 of the session id (the cookie's value is never stored).
    pub id_hash: String,
    /// The user signed in.
    pub user_id: String,
    /// Their Identity Service subject.
    pub sub: String,
    /// The provider's session id (`sid`), for back-channel logout.
    pub sid: Option<String>,
    /// The ID token, kept for `id_token_hint` at sign-out.
    pub id_token: String,
    /// The access token the sign-in received, if any.
    pub access_token: Option<String>,
    /// The refresh token the sign-in received, if any.
    pub refresh_token: Option<String>,
    /// The session's CSRF token (synchronizer token pattern).
    pub csrf_token: String,
    /// What the session's pages act with (JSON; ryd-api writes and reads it).
    pub caller: String,
}

/// A session that is on, with what its pages show of its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The SHA-256 of the session id.
    pub id_hash: String,
    /// The user signed in.
    pub user_id: String,
    /// Their Identity Service subject.
    pub sub: String,
    /// The provider's session id, if it gave one.
    pub sid: Option<String>,
    /// The session's CSRF token.
    pub csrf_token: String,
    /// When it began (Unix seconds).
    pub created_at: i64,
    /// When it was last active (Unix seconds, written at most once a minute).
    pub last_active_at: i64,
    /// `last_active_at` as RFC 3339 UTC (`2026-11-30T12:00:00+00:00`), as the API writes dates.
    pub last_active: String,
    /// The user's name.
    pub user_name: String,
    /// `NewSession::caller`, as it was stored.
    pub caller: String,
    /// Whether the user is a superadmin now (the superadmins table, or the role at their
    /// last sign-in or token).
    pub superadmin: bool,
}

/// A sign-in under way: what the callback checks and where it then sends the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLogin {
    /// The `state` the callback must see again.
    pub state: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// Where to send the browser once signed in (a local path).
    pub return_to: String,
}

/// How long a session lasts (seconds): over after `idle_s` without activity, and `absolute_s`
/// after it began however active (OWASP's session management cheat sheet). `find` applies
/// both; this is their one definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// Over after this long without activity.
    pub idle_s: i64,
    /// Over this long after it began, however active.
    pub absolute_s: i64,
}

impl Default for Lifetimes {
    /// 30 minutes idle, 8 hours in all (`account_idle_timeout_seconds`,
    /// `account_absolute_timeout_seconds`).
    fn default() -> Self {
        Lifetimes { idle_s: 30 * 60, absolute_s: 8 * 60 * 60 }
    }
}

/// `last_active_at` is written at most once a minute: an idle timeout of minutes needs no
/// more, and a page view then costs no write.
const TOUCH_EVERY_S: i64 = 60;

/// The one definition of "this session is on", for a session row `s` with the time as `?2`:
/// neither timeout passed, and no revocation mark on its subject since it began. (Its user
/// still existing is the caller's join.) Keys bound to a session use it too.
pub(crate) const SESSION_ON: &str = "s.expires_at > ?2 AND s.last_active_at + s.idle_timeout_s > ?2 \
     AND NOT EXISTS (SELECT 1 FROM revocations r WHERE r.kind = 'sub' AND r.subject = s.sub \
                     AND r.revoked_before > s.created_at)";

/// Starts a session (a sign-in's last step).
pub fn start(sql: &dyn Sql, s: &NewSession, life: Lifetimes, now: i64) -> Result<(), SqlError> {
    sql.execute(
        "INSERT INTO account_sessions (id_hash, user_id, sub, sid, id_token, access_token, refresh_token, csrf_token, \
         created_at, last_active_at, idle_timeout_s, expires_at, caller) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?12)",
        &[
            s.id_hash.as_str().into(),
            s.user_id.as_str().into(),
            s.sub.as_str().into(),
            s.sid.as_deref().into(),
            s.id_token.as_str().into(),
            s.access_token.as_deref().into(),
            s.refresh_token.as_deref().into(),
            s.csrf_token.as_str().into(),
            now.into(),
            life.idle_s.into(),
            (now + life.absolute_s).into(),
            s.caller.as_str().into(),
        ],
    )?;
    Ok(())
}

/// The session under `id_hash` if it is on now (see the module's rules); `None` otherwise,
/// whatever the reason: to the browser an ended session is no session.
pub fn find(sql: &dyn Sql, id_hash: &str, now: i64) -> Result<Option<Session>, SqlError> {
    let rows = sql.execute(
        &format!(
            "SELECT s.id_hash, s.user_id, s.sub, s.sid, s.csrf_token, s.created_at, s.last_active_at, u.name, \
                    strftime('%Y-%m-%dT%H:%M:%S+00:00', s.last_active_at, 'unixepoch'), s.caller, \
                    u.superadmin_role OR EXISTS (SELECT 1 FROM superadmins a WHERE a.user_id = u.id) \
             FROM account_sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id_hash = ?1 AND {SESSION_ON}"
        ),
        &[id_hash.into(), now.into()],
    )?;
    Ok(rows.first().map(|r| Session {
        id_hash: r.text(0),
        user_id: r.text(1),
        sub: r.text(2),
        sid: r.opt_text(3),
        csrf_token: r.text(4),
        created_at: r.int(5),
        last_active_at: r.int(6),
        last_active: r.text(8),
        user_name: r.text(7),
        caller: r.text(9),
        superadmin: r.bool(10),
    }))
}

/// Whether a page view of `s` at `now` should record activity: at most once a minute, so
/// most views write nothing (and take no write lock).
pub fn touch_due(s: &Session, now: i64) -> bool {
    now - s.last_active_at >= TOUCH_EVERY_S
}

/// Records activity (for the idle timeout), at most once a minute.
pub fn touch(sql: &dyn Sql, id_hash: &str, now: i64) -> Result<(), SqlError> {
    sql.execute(
        "UPDATE account_sessions SET last_active_at = ?2 WHERE id_hash = ?1 AND last_active_at <= ?2 - ?3",
        &[id_hash.into(), now.into(), TOUCH_EVERY_S.into()],
    )?;
    Ok(())
}

/// The ID token a session signed in with (for `id_token_hint` at sign-out).
pub fn id_token(sql: &dyn Sql, id_hash: &str) -> Result<Option<String>, SqlError> {
    Ok(sql
        .execute("SELECT id_token FROM account_sessions WHERE id_hash = ?", &[id_hash.into()])?
        .first()
        .map(|r| r.text(0)))
}

/// Ends one session (sign-out here). Whether there was one.
pub fn end(sql: &dyn Sql, id_hash: &str) -> Result<bool, SqlError> {
    Ok(!sql.execute("DELETE FROM account_sessions WHERE id_hash = ? RETURNING id_hash", &[id_hash.into()])?.is_empty())
}

/// Ends the sessions of one provider session (`sid`), only those of `sub` when it is given
/// too (a logout token naming both). How many ended.
pub fn end_provider_session(sql: &dyn Sql, sid: &str, sub: Option<&str>) -> Result<usize, SqlError> {
    Ok(sql
        .execute(
            "DELETE FROM account_sessions WHERE sid = ?1 AND (?2 IS NULL OR sub = ?2) RETURNING id_hash",
            &[sid.into(), sub.into()],
        )?
        .len())
}

/// Ends every session of a provider subject (a logout token with `sub` alone).
pub fn end_subject(sql: &dyn Sql, sub: &str) -> Result<usize, SqlError> {
    Ok(sql.execute("DELETE FROM account_sessions WHERE sub = ? RETURNING id_hash", &[sub.into()])?.len())
}

/// Removes sessions past either timeout (they are already refused; this only frees rows).
pub fn sweep(sql: &dyn Sql, now: i64) -> Result<usize, SqlError> {
    Ok(sql
        .execute(
            "DELETE FROM account_sessions WHERE expires_at <= ?1 OR last_active_at + idle_timeout_s <= ?1 \
             RETURNING id_hash",
            &[now.into()],
        )?
        .len())
}

/// Records a sign-in under way. Anyone may start one (no token), so each start also clears
/// those older than `max_age_s`: the table holds at most the last `max_age_s`' worth.
pub fn begin_login(
    sql: &dyn Sql,
    id_hash: &str,
    login: &PendingLogin,
    max_age_s: i64,
    now: i64,
) -> Result<(), SqlError> {
    sql.execute("DELETE FROM account_logins WHERE created_at <= ?", &[(now - max_age_s).into()])?;
    sql.execute(
        "INSERT INTO account_logins (id_hash, state, verifier, nonce, return_to, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        &[
            id_hash.into(),
            login.state.as_str().into(),
            login.verifier.as_str().into(),
            login.nonce.as_str().into(),
            login.return_to.as_str().into(),
            now.into(),
        ],
    )?;
    Ok(())
}

/// The sign-in under `id_hash`, taken (it cannot be used twice) if younger than `max_age_s`;
/// older ones are cleared on the way.
pub fn take_login(sql: &dyn Sql, id_hash: &str, max_age_s: i64, now: i64) -> Result<Option<PendingLogin>, SqlError> {
    let rows = sql.execute(
        "DELETE FROM account_logins WHERE id_hash = ?1 OR created_at <= ?2 - ?3 \
         RETURNING id_hash = ?1 AND created_at > ?2 - ?3, state, verifier, nonce, return_to",
        &[id_hash.into(), now.into(), max_age_s.into()],
    )?;
    let taken = rows.iter().find(|r| r.bool(0)).map(|r| PendingLogin {
        state: r.text(1),
        verifier: r.text(2),
        nonce: r.text(3),
        return_to: r.text(4),
    });
    Ok(taken)
}

/// Records a logout token's `jti`; `false` when it was seen before (a replay). Expired ones
/// are forgotten on the way: their tokens are refused for their `exp` anyway.
pub fn first_use_of_logout_token(sql: &dyn Sql, jti: &str, expires_at: i64, now: i64) -> Result<bool, SqlError> {
    sql.execute("DELETE FROM logout_tokens_seen WHERE expires_at < ?", &[now.into()])?;
    Ok(!sql
        .execute(
            "INSERT INTO logout_tokens_seen (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING RETURNING jti",
            &[jti.into(), expires_at.into()],
        )?
        .is_empty())
}
