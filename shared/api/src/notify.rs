//! The outbox's writer: the notices an audited change causes ([`ryd_notify::RULES`]),
//! resolved to recipients from the store and written, rendered, in the change's own
//! transaction. A change that causes no notice costs nothing here.

use crate::error::ApiResult;
use crate::ports::Ports;
use ryd_notify::{notices, render, Audience, Change, Facts, Org, Person};
use ryd_store::audit::AuditEvent;
use ryd_store::orgs::Organisation;
use ryd_store::{members, outbox, webhooks};
use serde_json::Value;

/// Spin variables: IATI Account's public origin for links (default: the origin the
/// request came in on), and IATI's support address (default: every superadmin's).
/// Read only by a write that causes a notice.
pub(crate) const ACCOUNT_ORIGIN: &str = "account_origin";
pub(crate) const SUPPORT_EMAIL: &str = "support_email";

/// Writes the messages `event` causes, at `now_ms`; `request_origin` is the links'
/// default.
pub(crate) fn enqueue(
    ports: &dyn Ports,
    request_origin: &str,
    now_ms: i64,
    event: &AuditEvent,
    org: Option<&Organisation>,
    before: Option<&Value>,
    after: Option<&Value>,
) -> ApiResult<()> {
    // Every rule is about an organisation; the membership's user is the target's second half.
    let Some(org) = org else { return Ok(()) };
    let member = if event.target_type == "membership" { event.target_id.rsplit('/').next() } else { None };
    let change = Change {
        action: &event.action,
        target_type: &event.target_type,
        before,
        after,
        by_member: member == Some(event.user_id.as_str()),
        organisation_approved: org.registry_approved,
    };
    let wanted = notices(&change);
    if wanted.is_empty() {
        return Ok(());
    }
    let sql = ports.sql();
    // Tools hear membership events too (their organisation's webhooks that asked).
    if let (Some(user_id), Some((notice, _))) = (member, wanted.first()) {
        let role = |v: Option<&Value>| v.and_then(|v| v.get("role")).cloned().unwrap_or(Value::Null);
        let data = serde_json::json!({"organisation_id": org.id, "user_id": user_id, "role": role(after), "old_role": role(before)});
        let event_type = format!("membership.{}", notice.as_str());
        let at = crate::time::rfc3339(now_ms);
        webhooks::enqueue_event(sql, &org.id, "membership", &event_type, &data.to_string(), &at, now_ms)?;
    }
    let person_id = member.unwrap_or(&event.user_id);
    let (person_name, person_email) = members::profile(sql, person_id)?.unwrap_or_default();
    let origin = ports.variable(ACCOUNT_ORIGIN).unwrap_or_else(|| request_origin.to_string());
    let origin = origin.trim_end_matches('/');
    let role = |v: Option<&Value>| v.and_then(|v| v.get("role")).and_then(Value::as_str).unwrap_or("").to_string();
    let (old_role, new_role) = (role(before), role(after));
    for (notice, audience) in wanted {
        let recipients = match audience {
            Audience::OrganisationAdmins => members::admin_profiles(sql, &org.id)?,
            Audience::Support => match ports.variable(SUPPORT_EMAIL) {
                Some(address) => vec![("IATI Support Team".to_string(), address)],
                None => members::superadmin_profiles(sql)?,
            },
            Audience::Member => vec![(person_name.clone(), person_email.clone())],
        };
        for (to_name, to) in recipients {
            if !ryd_notify::is_address(&to) {
                // Nothing is dropped silently: the log says who could not be told.
                ports.log(&format!("{}: no email sent to {to_name:?}: {to:?} is not an address", notice.as_str()));
                continue;
            }
            let facts = Facts {
                origin,
                to_name: &to_name,
                organisation: Org {
                    id: &org.id,
                    short_name: org.field("short_name"),
                    name: org.field("human_readable_name"),
                },
                user: Person { id: person_id, name: &person_name, email: &person_email },
                actor_name: &event.user_name,
                role: &new_role,
                old_role: &old_role,
            };
            let email = render(notice, &facts);
            let message = outbox::NewMessage {
                id: crate::ids::new_id(),
                channel: "email".into(),
                event: notice.as_str().into(),
                organisation_id: org.id.clone(),
                recipient: to,
                recipient_name: ryd_notify::one_line(&to_name),
                subject: email.subject,
                body_text: email.text,
                body_html: email.html,
            };
            outbox::enqueue(sql, &message, now_ms)?;
        }
    }
    Ok(())
}
