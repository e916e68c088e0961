//! The console's pages. Each takes its [`Frame`] and view data and returns the document.

use crate::parts::{button_form, csrf, document, field};
use crate::{
    DatasetPage, Field, FoundOrg, Frame, KeyRow, NewKey, OrgPage, OrgRow, OutboxRow, OutboxSummary, ShownSecret,
    WebhookRow,
};
use maud::html;

/// The roles an admin may give (value, label), in the permission table's order.
const ROLES: &[(&str, &str)] = &[("admin", "Admin"), ("editor", "Editor"), ("contributor", "Contributor")];

/// Signed out (or the session ended): the way in.
pub fn signed_out(frame: &Frame, login_href: &str) -> String {
    document(
        frame,
        html! {
            p { "Sign in with your IATI account to manage your organisations, their datasets and who may work on them." }
            p { a.button href=(login_href) { "Sign in" } }
        },
    )
}

/// A page that only says what went wrong (the notice), with the way home.
pub fn problem(frame: &Frame) -> String {
    document(frame, html! { p { a href="/account" { "Back to my organisations" } } })
}

/// A sign-in that could not go on (the notice says why), with the way to start again.
pub fn sign_in_failed(frame: &Frame, login_href: &str) -> String {
    document(frame, html! { p { a.button href=(login_href) { "Sign in again" } } })
}

/// Signing in is impossible here until the operator names an Identity Service: what to set
/// (`missing`: the variables not set), and how to try the console locally.
pub fn sign_in_not_configured(frame: &Frame, missing: &[&str]) -> String {
    document(
        frame,
        html! {
            p { "IATI Account signs people in with an OpenID Connect Identity Service, and none is configured here." }
            p { "The operator registers the console as a confidential client there (redirect URI "
                code { "https://<this host>/account/callback" } ") and sets these Spin variables:" }
            ul { @for name in missing { li { code { (name) } } } }
            p { "To try the console on your own machine, " code { "cargo up" }
                " serves a development Identity Service with sample people to sign in as." }
        },
    )
}

/// Home: my organisations with my role. A superadmin holds every organisation without
/// being a member: their home leads to the search and the approval queue instead.
pub fn home(frame: &Frame, orgs: &[OrgRow], superadmin: bool) -> String {
    document(
        frame,
        html! {
            @if superadmin {
                p { "As a superadmin you may open any organisation: " a href="/account/find" { "find it by name" } "." }
                p {
                    a.button href="/account/queue" { "Organisations awaiting approval" } " "
                    a.button href="/account/outbox" { "Email outbox" }
                }
            } @else if orgs.is_empty() {
                p { "You are not a member of any organisation yet." }
            }
            @if !orgs.is_empty() {
                table {
                    thead { tr { th scope="col" { "Organisation" } th scope="col" { "Short name" } th scope="col" { "My role" } th scope="col" { "Status" } } }
                    tbody {
                        @for o in orgs {
                            tr {
                                td { a href={ "/account/orgs/" (o.id) } { (o.name) } }
                                td { (o.short_name) }
                                td { (o.role) }
                                td { @if o.approved { "approved" } @else { "awaiting approval" } }
                            }
                        }
                    }
                }
            }
            p {
                a.button href="/account/orgs/new" { "Create an organisation" } " "
                @if !superadmin { a href="/account/find" { "Find an organisation and ask to join" } }
            }
        },
    )
}

/// A new organisation's form.
pub fn new_org(frame: &Frame, fields: &[Field]) -> String {
    document(
        frame,
        html! {
            form method="post" action="/account/orgs" {
                (csrf(frame.csrf))
                @for f in fields { (field(f)) }
                button type="submit" { "Create the organisation" }
            }
        },
    )
}

/// An organisation: its metadata, datasets, people, join requests and tools, with the
/// actions the signed-in user may take.
pub fn org(frame: &Frame, p: &OrgPage) -> String {
    let base = format!("/account/orgs/{}", p.id);
    let r = p.rights;
    document(
        frame,
        html! {
            p.muted {
                "My role: " strong { (if p.my_role.is_empty() { "none" } else { p.my_role.as_str() }) } " · "
                @if p.approved { "Approved" } @else { "Awaiting approval by the IATI Secretariat" }
            }
            @if r.approve && !p.approved {
                (button_form(frame, &format!("{base}/approve"), "Approve this organisation", &[], false))
            }
            h2 { "Details" }
            @if r.update {
                form method="post" action=(base) {
                    (csrf(frame.csrf))
                    @for f in &p.fields { (field(f)) }
                    button type="submit" { "Save details" }
                }
            } @else {
                dl { @for f in &p.fields { dt { (f.label) } dd { (f.value) } } }
            }
            h2 { "Datasets" }
            @if p.datasets.is_empty() { p { "No datasets yet." } } @else {
                table {
                    thead { tr { th scope="col" { "Dataset" } th scope="col" { "Short name" } th scope="col" { "Visibility" } th scope="col" { "File" } } }
                    tbody { @for d in &p.datasets { tr {
                        td { a href={ "/account/datasets/" (d.id) } { (d.name) } }
                        td { (d.short_name) } td { (d.visibility) } td { a href=(d.url) rel="noopener noreferrer" { (d.url) } }
                    } } }
                }
            }
            @if r.create_dataset { p { a.button href={ (base) "/datasets/new" } { "Add a dataset" } } }
            h2 { "People" }
            table {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Email" } th scope="col" { "Role" } @if r.manage_people { th scope="col" { "Change" } } } }
                tbody { @for m in &p.people { tr {
                    td { (m.name) } td { (m.email) } td { (m.role) }
                    @if r.manage_people { td {
                        form.inline method="post" action={ (base) "/people/" (m.id) } {
                            (csrf(frame.csrf))
                            label.muted for={ "role-" (m.id) } { "Role for " (m.name) " " }
                            select id={ "role-" (m.id) } name="role" {
                                @for (v, l) in ROLES { option value=(v) selected[*v == m.role] { (l) } }
                            }
                            " " button type="submit" { "Change role" }
                        }
                        " " (button_form(frame, &format!("{base}/people/{}/remove", m.id), "Remove", &[], true))
                    } }
                } } }
            }
            @if r.manage_people {
                p { a href={ "/account/orgs/" (p.id) "/webhooks" } { "Webhooks for tools" } }
                h2 { "Requests to join" }
                @if p.pending.is_empty() { p { "No one is waiting." } } @else {
                    table {
                        thead { tr { th scope="col" { "Name" } th scope="col" { "Email" } th scope="col" { "Decision" } } }
                        tbody { @for m in &p.pending { tr {
                            td { (m.name) } td { (m.email) }
                            td {
                                (button_form(frame, &format!("{base}/people/{}", m.id), "Approve as contributor", &[("role", "contributor")], false))
                                " " (button_form(frame, &format!("{base}/people/{}/remove", m.id), "Decline", &[], true))
                            }
                        } } }
                    }
                }
            }
            h2 { "Publishing tools it authorises" }
            @if p.tools.is_empty() { p { "None." } } @else { ul { @for t in &p.tools { li { (t.name) } } } }
            @if r.delete {
                h2 { "Delete" }
                p { "Deleting the organisation removes it and its datasets from the registry." }
                (button_form(frame, &format!("{base}/delete"), "Delete this organisation", &[], true))
            }
        },
    )
}

/// A dataset's form (new or existing).
pub fn dataset(frame: &Frame, p: &DatasetPage) -> String {
    let action = match &p.id {
        Some(id) => format!("/account/datasets/{id}"),
        None => format!("/account/orgs/{}/datasets", p.org_id),
    };
    document(
        frame,
        html! {
            p { "Organisation: " a href={ "/account/orgs/" (p.org_id) } { (p.org_name) } }
            @if p.can_update {
                form method="post" action=(action) {
                    (csrf(frame.csrf))
                    @for f in &p.fields { (field(f)) }
                    button type="submit" { @if p.id.is_some() { "Save the dataset" } @else { "Add the dataset" } }
                }
            } @else {
                dl { @for f in &p.fields { dt { (f.label) } dd { (f.value) } } }
            }
            @if let (Some(id), true) = (&p.id, p.can_delete) {
                h2 { "Delete" }
                (button_form(frame, &format!("/account/datasets/{id}/delete"), "Delete this dataset", &[], true))
            }
        },
    )
}

/// Find an organisation (by name) and ask to join it; its page is linked where the user
/// may open it (a member, or a superadmin).
pub fn find(frame: &Frame, q: &str, found: &[FoundOrg], superadmin: bool) -> String {
    document(
        frame,
        html! {
            form method="get" action="/account/find" role="search" {
                div.field {
                    label for="q" { "Organisation name or short name" }
                    input id="q" name="q" type="search" value=(q) minlength="2" maxlength="40" required;
                }
                button type="submit" { "Search" }
            }
            @if !q.is_empty() {
                @if found.is_empty() { p { "No organisation matches." } } @else {
                    table {
                        thead { tr { th scope="col" { "Organisation" } th scope="col" { "Short name" } th scope="col" { "Country" } th scope="col" { "" } } }
                        tbody { @for o in found { tr {
                            td { @if superadmin || !o.my_role.is_empty() { a href={ "/account/orgs/" (o.id) } { (o.name) } } @else { (o.name) } }
                            td { (o.short_name) } td { (o.country) }
                            td {
                                @if superadmin {} @else if o.my_role.is_empty() {
                                    (button_form(frame, &format!("/account/orgs/{}/join", o.id), "Ask to join", &[], false))
                                } @else { span.muted { (o.my_role.replace('_', " ")) } }
                            }
                        } } }
                    }
                }
            }
        },
    )
}

/// My API keys; `new_key` is the one just made, its secret shown this once.
pub fn api_keys(frame: &Frame, keys: &[KeyRow], new_key: Option<&NewKey>) -> String {
    document(
        frame,
        html! {
            @if let Some(k) = new_key {
                div.notice.done role="status" {
                    p { "Your new key " strong { (k.name) } ". Copy it now: it is not shown again." }
                    p.secret { (k.secret) }
                }
            }
            p { "Keys let an API gateway recognise you (" code { "validate_api_key" } "). They never call the Register Your Data API itself." }
            @if keys.is_empty() { p { "No keys yet." } } @else {
                table {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Starts with" } th scope="col" { "Created" } th scope="col" { "Expires" } th scope="col" { "Status" } th scope="col" { "" } } }
                    tbody { @for k in keys { tr {
                        td { (k.name) @if k.session_bound { br; small.muted { "ends with this sign-in" } } }
                        td { code { (k.prefix) "…" } } td { (k.created_at) } td { (k.expires_at) } td { (k.status) }
                        td { @if k.status == "active" {
                            (button_form(frame, &format!("/account/api-keys/{}/revoke", k.id), "Revoke", &[], true))
                        } }
                    } } }
                }
            }
            h2 { "Create a key" }
            form method="post" action="/account/api-keys" {
                (csrf(frame.csrf))
                div.field { label for="key-name" { "Name" } input id="key-name" name="name" required maxlength="100"; }
                div.field {
                    label for="key-expires" { "Expires on (optional)" }
                    input id="key-expires" name="expires_on" type="date" aria-describedby="key-expires-hint";
                    small id="key-expires-hint" { "At 00:00 UTC that day." }
                }
                div.field {
                    label { input type="checkbox" name="session_bound" value="yes" checked; " Stop working when I sign out (or this sign-in ends)" }
                }
                button type="submit" { "Create the key" }
            }
        },
    )
}

/// An organisation's webhooks (its admins): the endpoints, a secret shown once after it
/// is made, and the form to add one. Signing and events: shared/api/README.md, "Webhooks".
pub fn webhooks(frame: &Frame, oid: &str, org_name: &str, hooks: &[WebhookRow], shown: Option<&ShownSecret>) -> String {
    let base = format!("/account/orgs/{oid}/webhooks");
    document(
        frame,
        html! {
            p { a href={ "/account/orgs/" (oid) } { "Back to " (org_name) } }
            @if let Some(s) = shown {
                div.notice.done role="status" {
                    p { "The signing secret of " strong { (s.label) } ". Copy it now: it is not shown again." }
                    p.secret { (s.secret) }
                }
            }
            p { "Tools hear this organisation's changes at these addresses, each delivery signed as the Standard Webhooks specification says." }
            @if hooks.is_empty() { p { "No webhooks yet." } } @else {
                table {
                    thead { tr { th scope="col" { "Address" } th scope="col" { "Events" } th scope="col" { "Status" } th scope="col" { "" } } }
                    tbody { @for h in hooks { tr {
                        td { code { (h.url) } } td { (h.events) }
                        td {
                            @if h.enabled { "on" @if h.failures > 0 { " (" (h.failures) " failed in a row)" } }
                            @else { "disabled: " (h.disabled_reason) }
                        }
                        td {
                            @if !h.enabled { (button_form(frame, &format!("{base}/{}/enable", h.id), "Enable again", &[], false)) " " }
                            (button_form(frame, &format!("{base}/{}/secret", h.id), "New secret", &[], false)) " "
                            (button_form(frame, &format!("{base}/{}/delete", h.id), "Delete", &[], true))
                        }
                    } } }
                }
            }
            h2 { "Add a webhook" }
            form method="post" action=(base) {
                (csrf(frame.csrf))
                div.field { label for="hook-url" { "Address (https)" } input id="hook-url" name="url" type="url" required; }
                fieldset {
                    legend { "Events" }
                    @for (value, label) in [("dataset.*", "Public datasets"), ("organisation.*", "The organisation's public record"), ("membership.*", "Membership (requests, decisions, roles)")] {
                        label { input type="checkbox" name="events" value=(value) checked; " " (label) } br;
                    }
                }
                button type="submit" { "Add the webhook" }
            }
        },
    )
}

/// A superadmin's queue of organisations awaiting approval.
pub fn queue(frame: &Frame, orgs: &[OrgRow]) -> String {
    document(
        frame,
        html! {
            @if orgs.is_empty() { p { "No organisation is waiting." } } @else {
                table {
                    thead { tr { th scope="col" { "Organisation" } th scope="col" { "Short name" } th scope="col" { "" } } }
                    tbody { @for o in orgs { tr {
                        td { a href={ "/account/orgs/" (o.id) } { (o.name) } } td { (o.short_name) }
                        td { (button_form(frame, &format!("/account/orgs/{}/approve", o.id), "Approve", &[], false)) }
                    } } }
                }
            }
        },
    )
}

/// A superadmin's view of the outbox: the counts, and every unsent message with its
/// attempts and why it failed (infra/README.md, "Email").
pub fn outbox(frame: &Frame, summary: &OutboxSummary, rows: &[OutboxRow]) -> String {
    document(
        frame,
        html! {
            p {
                (summary.pending) " waiting (" (summary.retrying) " after a failure), "
                (summary.given_up) " given up, " (summary.sent) " sent."
                @if let Some(s) = summary.oldest_pending_seconds { " The oldest has waited " (s) " s." }
            }
            @if rows.is_empty() { p { "Nothing is waiting." } } @else {
                table {
                    thead { tr {
                        th scope="col" { "Written" } th scope="col" { "Event" } th scope="col" { "To" }
                        th scope="col" { "Subject" } th scope="col" { "State" } th scope="col" { "Attempts" }
                        th scope="col" { "Last error" }
                    } }
                    tbody { @for m in rows { tr {
                        td { (m.created_at) } td { (m.event) } td { (m.recipient) } td { (m.subject) }
                        td { (m.state.replace('_', " ")) } td { (m.attempts) } td { (m.last_error) }
                    } } }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Input, Notice, OrgRights, Person};

    fn person(id: &str, name: &str, role: &str) -> Person {
        Person { id: id.into(), name: name.into(), email: format!("{id}@example.org"), role: role.into() }
    }

    fn frame<'a>(notice: Option<Notice<'a>>) -> Frame<'a> {
        Frame { title: "T", user: Some("<b>Ann</b>"), csrf: "tok\"en", notice }
    }

    #[test]
    fn every_value_is_escaped_and_every_form_carries_the_token() {
        let page = OrgPage {
            id: "o1".into(),
            name: "<script>alert(1)</script>".into(),
            approved: false,
            my_role: "admin".into(),
            fields: vec![Field {
                name: "human_readable_name",
                label: "Name",
                input: Input::Text,
                value: "\"><script>x</script>".into(),
                required: true,
                editable: true,
                hint: "",
            }],
            rights: OrgRights { update: true, delete: true, manage_people: true, create_dataset: true, approve: true },
            datasets: vec![],
            people: vec![person("u1", "<i>Bo</i>", "editor")],
            pending: vec![person("u2", "Cy", "contributor_pending")],
            tools: vec![],
        };
        let fields = [("name".to_string(), "<bad>".to_string())];
        let html = org(&frame(Some(Notice::Refused { message: "<no>", fields: &fields })), &page);
        for raw in ["<script>", "<b>Ann", "<i>Bo", "<no>", "<bad>", "tok\"en"] {
            assert!(!html.contains(raw), "{raw} unescaped");
        }
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        let forms = html.matches("<form").count();
        assert_eq!(html.matches("name=\"csrf\" value=\"tok&quot;en\"").count(), forms, "{html}");
        // approve, details, role change, remove, approve/decline the request, delete, sign-out
        assert_eq!(forms, 8);
    }

    #[test]
    fn actions_appear_only_where_allowed() {
        let page = OrgPage {
            id: "o1".into(),
            name: "Org".into(),
            approved: true,
            my_role: "contributor".into(),
            fields: vec![],
            rights: OrgRights::default(),
            datasets: vec![],
            people: vec![person("u1", "Bo", "admin")],
            pending: vec![person("u2", "Cy", "contributor_pending")],
            tools: vec![],
        };
        let html = org(&frame(None), &page);
        for absent in [
            "Save details",
            "Change role",
            "Requests to join",
            "Add a dataset",
            "Delete this",
            "Approve this",
            "Approve as",
            "Decline",
        ] {
            assert!(!html.contains(absent), "{absent}");
        }
        assert_eq!(html.matches("<form").count(), 1, "sign-out only");
    }
}
