//! Audit events: appended by every write in the same transaction (shared/authz/README.md §6).

use crate::sql::{Sql, SqlError, Value};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditEvent {
    pub id: String,
    pub at: String,
    pub sub: String,
    pub user_id: String,
    pub user_name: String,
    pub client_id: String,
    pub application_id: String,
    pub application_name: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub organisation_id: String,
    pub organisation_name: String,
    /// JSON of the changed fields before and after.
    pub before: Option<String>,
    pub after: Option<String>,
}

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

pub fn count(sql: &dyn Sql) -> Result<i64, SqlError> {
    Ok(sql.execute("SELECT count(*) FROM audit_events", &[])?.first().map(|r| r.int(0)).unwrap_or(0))
}
