//! From a change to the notices it causes: one table.

use serde_json::Value;

/// What someone is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Someone asked to join an organisation (its admins act: approve or refuse).
    JoinRequested,
    /// A new organisation awaits approval (IATI's support acts).
    OrganisationAwaitingApproval,
    /// The requester's join request was approved.
    JoinApproved,
    /// The requester's join request was refused.
    JoinRefused,
    /// The organisation was approved (its admins may publish).
    OrganisationApproved,
    /// A member's role was given or changed by someone else.
    RoleChanged,
    /// A member was removed by someone else.
    Removed,
}

impl Notice {
    /// The event's name in the outbox and to operators.
    pub fn as_str(self) -> &'static str {
        match self {
            Notice::JoinRequested => "join_requested",
            Notice::OrganisationAwaitingApproval => "organisation_awaiting_approval",
            Notice::JoinApproved => "join_approved",
            Notice::JoinRefused => "join_refused",
            Notice::OrganisationApproved => "organisation_approved",
            Notice::RoleChanged => "role_changed",
            Notice::Removed => "removed",
        }
    }
}

/// Who is told, as the API resolves it from its store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Every admin of the organisation, by their email in the users table.
    OrganisationAdmins,
    /// IATI's support address (the `support_email` setting), else every superadmin.
    Support,
    /// The member the change is about (the membership's user).
    Member,
}

/// A change, as its audit event records it.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    /// The audit action (`request_join`, `set_role`, …).
    pub action: &'a str,
    /// The audit target type (`membership`, `organisation`).
    pub target_type: &'a str,
    /// The changed fields before.
    pub before: Option<&'a Value>,
    /// The changed fields after.
    pub after: Option<&'a Value>,
    /// Whether the one acting is the member the change is about (leaving, withdrawing).
    pub by_member: bool,
    /// Whether the organisation is approved after the change.
    pub organisation_approved: bool,
}

impl Change<'_> {
    fn old_role(&self) -> Option<&str> {
        self.before.and_then(|b| b.get("role")).and_then(Value::as_str)
    }
    fn was_approved(&self) -> bool {
        self.before.and_then(|b| b.get("registry_approved")).and_then(Value::as_bool) == Some(false)
            && self.organisation_approved
    }
}

/// One row of [`RULES`]: a change of `action` on `target_type` for which `when` holds
/// tells `audience` the `notice`.
pub struct Rule {
    /// The audit action.
    pub action: &'static str,
    /// The audit target type.
    pub target_type: &'static str,
    /// The condition on the change.
    pub when: fn(&Change<'_>) -> bool,
    /// What is told.
    pub notice: Notice,
    /// To whom.
    pub audience: Audience,
}

const PENDING: &str = "contributor_pending";

/// Every notice the application sends, and when. The reference server sends the first two;
/// the rest tell the person a decision was about.
pub static RULES: &[Rule] = &[
    Rule {
        action: "request_join",
        target_type: "membership",
        when: |_| true,
        notice: Notice::JoinRequested,
        audience: Audience::OrganisationAdmins,
    },
    Rule {
        action: "create",
        target_type: "organisation",
        when: |c| !c.organisation_approved,
        notice: Notice::OrganisationAwaitingApproval,
        audience: Audience::Support,
    },
    Rule {
        action: "update_metadata",
        target_type: "organisation",
        when: |c| c.was_approved(),
        notice: Notice::OrganisationApproved,
        audience: Audience::OrganisationAdmins,
    },
    Rule {
        action: "set_role",
        target_type: "membership",
        when: |c| c.old_role() == Some(PENDING),
        notice: Notice::JoinApproved,
        audience: Audience::Member,
    },
    Rule {
        action: "set_role",
        target_type: "membership",
        when: |c| c.old_role() != Some(PENDING) && !c.by_member,
        notice: Notice::RoleChanged,
        audience: Audience::Member,
    },
    Rule {
        action: "remove_role",
        target_type: "membership",
        when: |c| c.old_role() == Some(PENDING) && !c.by_member,
        notice: Notice::JoinRefused,
        audience: Audience::Member,
    },
    Rule {
        action: "remove_role",
        target_type: "membership",
        when: |c| c.old_role() != Some(PENDING) && !c.by_member,
        notice: Notice::Removed,
        audience: Audience::Member,
    },
];

/// The notices a change causes, with their audience, in [`RULES`]' order.
pub fn notices(change: &Change<'_>) -> Vec<(Notice, Audience)> {
    RULES
        .iter()
        .filter(|r| r.action == change.action && r.target_type == change.target_type && (r.when)(change))
        .map(|r| (r.notice, r.audience))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change<'a>(action: &'a str, target: &'a str, before: Option<&'a Value>, after: Option<&'a Value>) -> Change<'a> {
        Change { action, target_type: target, before, after, by_member: false, organisation_approved: false }
    }

    #[test]
    fn each_change_tells_whom_it_should() {
        let pending = json!({"role": "contributor_pending"});
        let editor = json!({"role": "editor"});
        let none = json!({"role": null});
        let admin = json!({"role": "admin"});
        let unapproved = json!({"registry_approved": false});
        let approved = json!({"registry_approved": true});
        let cases: Vec<(Change<'_>, Vec<(Notice, Audience)>)> = vec![
            (
                change("request_join", "membership", None, Some(&pending)),
                vec![(Notice::JoinRequested, Audience::OrganisationAdmins)],
            ),
            (
                change("create", "organisation", None, None),
                vec![(Notice::OrganisationAwaitingApproval, Audience::Support)],
            ),
            (Change { organisation_approved: true, ..change("create", "organisation", None, None) }, vec![]),
            (
                Change {
                    organisation_approved: true,
                    ..change("update_metadata", "organisation", Some(&unapproved), Some(&approved))
                },
                vec![(Notice::OrganisationApproved, Audience::OrganisationAdmins)],
            ),
            // Another field changed on an approved organisation: nobody is told.
            (Change { organisation_approved: true, ..change("update_metadata", "organisation", None, None) }, vec![]),
            (
                change("set_role", "membership", Some(&pending), Some(&editor)),
                vec![(Notice::JoinApproved, Audience::Member)],
            ),
            (
                change("set_role", "membership", Some(&editor), Some(&admin)),
                vec![(Notice::RoleChanged, Audience::Member)],
            ),
            (
                change("set_role", "membership", Some(&none), Some(&editor)),
                vec![(Notice::RoleChanged, Audience::Member)],
            ),
            (change("remove_role", "membership", Some(&pending), None), vec![(Notice::JoinRefused, Audience::Member)]),
            (change("remove_role", "membership", Some(&editor), None), vec![(Notice::Removed, Audience::Member)]),
            // Leaving, or withdrawing one's own request: nobody is told.
            (Change { by_member: true, ..change("remove_role", "membership", Some(&editor), None) }, vec![]),
            (Change { by_member: true, ..change("remove_role", "membership", Some(&pending), None) }, vec![]),
            (change("update_url", "dataset", None, None), vec![]),
        ];
        for (c, want) in cases {
            assert_eq!(notices(&c), want, "{} {} {:?} → {:?}", c.action, c.target_type, c.before, c.after);
        }
    }

    #[test]
    fn event_names_are_distinct() {
        let mut names: Vec<&str> = RULES.iter().map(|r| r.notice.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RULES.len());
    }
}
