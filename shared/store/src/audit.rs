//! Audit events: appended by every write in the same transaction (shared/authz/README.md §6).

use crate::sql::{Sql, SqlError, Value};

/// One audit event: who did what to which object, on whose behalf, and what changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditEvent {
    /// The event's id (UUID).
    pub id: String,
    /// When (RFC 3339).
    pub at: String,
    /// The token's subject.
    pub sub: String,
    /// The acting user (our id), or `""` for a machine client.
    pub user_id: String,
    /// The acting user's name at the time.
    pub user_name: String,
    /// The client that presented the token.
    pub client_id: String,
    /// The registered tool acting, if any.
    pub application_id: String,
    /// That tool's name at the time.
    pub application_name: String,
    /// What was done (`org.update`, `dataset.create`, …).
    pub action: String,
    /// The kind of object (`organisation`, `dataset`, `user`, …).
    pub target_type: String,
    /// The object's id.
    pub target_id: String,
    /// The organisation the object belongs to, if any.
    pub organisation_id: String,
    /// That organisation's name at the time.
    pub organisation_name: String,
    /// JSON of the changed fields before and after.
    pub before: Option<String>,
    /// See `before`.
    pub after: Option<String>,
}

/// Appends one event (inside the write's transaction).
pub fn append(sql: &dyn Sql, e: &AuditEvent) -> Result<(), SqlError> {
    sql.execute(
        "INSERT INTO audit_events (id, at, sub, user_id, user_name, client_id, application_id, application_name, action, \
         target_type, target_id, organisation_id, organisation_name, before, after) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            e.id.as_str().into(),
            e.at.as_str().into(),
            e.sub.as_str().into(),
            e.user_id.as_str().into(),
            e.user_name.as_str().into(),
            e.client_id.as_str().into(),
            e.application_id.as_str().into(),
            e.application_name.as_str().into(),
            e.action.as_str().into(),
            e.target_type.as_str().into(),
            e.target_id.as_str().into(),
            e.organisation_id.as_str().into(),
            e.organisation_name.as_str().into(),
            Value::from(e.before.clone()),
            Value::from(e.after.clone()),
        ],
    )?;
    Ok(())
}

/// The events of one target, oldest first, limited to `actions`.
pub fn for_target(
    sql: &dyn Sql,
    target_type: &str,
    target_id: &str,
    actions: &[&str],
) -> Result<Vec<AuditEvent>, SqlError> {
    let marks = vec!["?"; actions.len()].join(", ");
    let q = format!(
        "SELECT id, at, sub, user_id, user_name, client_id, application_id, application_name, action, target_type, target_id, \
         organisation_id, organisation_name, before, after FROM audit_events \
         WHERE target_type = ? AND target_id = ? AND action IN ({marks}) ORDER BY seq"
    );
    let mut params: Vec<Value> = vec![target_type.into(), target_id.into()];
    params.extend(actions.iter().map(|a| Value::from(*a)));
    let rows = sql.execute(&q, &params)?;
    Ok(rows
        .iter()
        .map(|r| AuditEvent {
            id: r.text(0),
            at: r.text(1),
            sub: r.text(2),
            user_id: r.text(3),
            user_name: r.text(4),
            client_id: r.text(5),
            application_id: r.text(6),
            application_name: r.text(7),
            action: r.text(8),
            target_type: r.text(9),
            target_id: r.text(10),
            organisation_id: r.text(11),
            organisation_name: r.text(12),
            before: r.opt_text(13),
            after: r.opt_text(14),
        })
        .collect())
}

/// How many events there are (tests and tools).
pub fn count(sql: &dyn Sql) -> Result<i64, SqlError> {
    Ok(sql.execute("SELECT count(*) FROM audit_events", &[])?.first().map(|r| r.int(0)).unwrap_or(0))
}
