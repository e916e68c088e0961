//! Each notice's email: written once as blocks, rendered as text and as escaped HTML.

use crate::one_line;
use crate::rules::Notice;
use maud::{html, Markup, DOCTYPE};

/// Where IATI documents managing an organisation's users (the reference's emails link it).
const USERS_GUIDE: &str = "https://docs.account.iatistandard.org/en/latest/manage_organisation_users/";

/// An organisation as an email names it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Org<'a> {
    /// Its id.
    pub id: &'a str,
    /// Its short name.
    pub short_name: &'a str,
    /// Its human-readable name.
    pub name: &'a str,
}

/// A person as an email names them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Person<'a> {
    /// Their id.
    pub id: &'a str,
    /// Their name.
    pub name: &'a str,
    /// Their email.
    pub email: &'a str,
}

/// Everything a template may show.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts<'a> {
    /// IATI Account's public origin (`https://registry.example.org`): links start with it.
    pub origin: &'a str,
    /// Whom the email greets.
    pub to_name: &'a str,
    /// The organisation it is about.
    pub organisation: Org<'a>,
    /// The person it is about: who asked to join, who created the organisation, whose role
    /// changed.
    pub user: Person<'a>,
    /// Who made the change (their name).
    pub actor_name: &'a str,
    /// The role after the change (`""`: none).
    pub role: &'a str,
    /// The role before the change (`""`: none).
    pub old_role: &'a str,
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The subject, on one line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body (a whole document).
    pub html: String,
}

/// Part of a line: text, or a link (in text: `label: url`).
enum Span {
    Text(String),
    Link(String, String),
}

/// A paragraph, or a bulleted list of lines.
enum Block {
    Para(Vec<Span>),
    List(Vec<Vec<Span>>),
}

fn t(s: impl Into<String>) -> Span {
    Span::Text(s.into())
}

fn link(label: impl Into<String>, url: impl Into<String>) -> Span {
    Span::Link(label.into(), url.into())
}

fn para(spans: Vec<Span>) -> Block {
    Block::Para(spans)
}

/// Renders `notice`'s email from `facts`.
pub fn render(notice: Notice, facts: &Facts<'_>) -> Email {
    let f = facts;
    let org = f.organisation;
    let org_name = if org.name.is_empty() { org.short_name } else { org.name };
    let account = format!("{}/account", f.origin);
    let org_page = format!("{}/account/orgs/{}", f.origin, org.id);
    let (subject, blocks) = match notice {
        Notice::JoinRequested => (
            "Approve a new user for your organisation".to_string(),
            vec![
                para(vec![t(format!(
                    "A new user {}, with email address {}, has requested to join your organisation {}.",
                    f.user.name, f.user.email, org_name
                ))]),
                para(vec![t(
                    "As an admin user for this organisation, please approve or reject this request in IATI Account.",
                )]),
                para(vec![t("You can do this by:")]),
                Block::List(vec![
                    vec![link("Signing in to IATI Account", &account)],
                    vec![link("Viewing your organisation", &org_page)],
                    vec![t(format!("Finding {} in the people table on your organisation's page", f.user.name))],
                    vec![t("Changing the new user's role to admin, editor or contributor.")],
                ]),
                para(vec![t("If you do not recognise the new user, you can remove them from your organisation.")]),
                para(vec![link("Read more about managing users and role permissions in IATI Account", USERS_GUIDE)]),
            ],
        ),
        Notice::OrganisationAwaitingApproval => (
            "New organisation requires approval".to_string(),
            vec![
                para(vec![t("A new organisation has been created in the IATI Registry and requires approval.")]),
                para(vec![t("Organisation details:")]),
                Block::List(vec![
                    vec![t(format!("Short name: {}", org.short_name))],
                    vec![t(format!("Human readable name: {}", org.name))],
                    vec![t(format!("ID: {}", org.id))],
                    vec![link("Page", &org_page)],
                ]),
                para(vec![t("Created by:")]),
                Block::List(vec![
                    vec![t(format!("Name: {}", f.user.name))],
                    vec![t(format!("Email: {}", f.user.email))],
                    vec![t(format!("ID: {}", f.user.id))],
                ]),
                para(vec![
                    t("Please review this organisation and approve or reject it as appropriate. "),
                    link("Organisations awaiting approval", format!("{}/account/queue", f.origin)),
                ]),
            ],
        ),
        Notice::JoinApproved => (
            format!("You have joined {org_name}"),
            vec![
                para(vec![t(format!(
                    "{} approved your request to join {}: your role is now {}.",
                    f.actor_name, org_name, f.role
                ))]),
                para(vec![link("Your organisation in IATI Account", &org_page)]),
            ],
        ),
        Notice::JoinRefused => (
            format!("Your request to join {org_name} was not approved"),
            vec![
                para(vec![t(format!("{} did not approve your request to join {}.", f.actor_name, org_name))]),
                para(vec![
                    t("If you think this is a mistake, contact the organisation's admins. "),
                    link("IATI Account", &account),
                ]),
            ],
        ),
        Notice::OrganisationApproved => (
            format!("{org_name} is approved in the IATI Registry"),
            vec![
                para(vec![t(format!(
                    "Your organisation {} ({}) is approved: its datasets can now be registered and published.",
                    org_name, org.short_name
                ))]),
                para(vec![link("Your organisation in IATI Account", &org_page)]),
            ],
        ),
        Notice::RoleChanged => (
            format!("Your role in {org_name} is now {}", f.role),
            vec![
                para(vec![t(if f.old_role.is_empty() {
                    format!("{} gave you the role {} in {}.", f.actor_name, f.role, org_name)
                } else {
                    format!("{} changed your role in {} from {} to {}.", f.actor_name, org_name, f.old_role, f.role)
                })]),
                para(vec![link("Your organisation in IATI Account", &org_page)]),
            ],
        ),
        Notice::Removed => (
            format!("You were removed from {org_name}"),
            vec![
                para(vec![t(format!(
                    "{} removed you from {} (your role was {}).",
                    f.actor_name, org_name, f.old_role
                ))]),
                para(vec![link("IATI Account", &account)]),
            ],
        ),
    };
    let subject = one_line(&subject);
    let greeting = format!("Dear {},", one_line(f.to_name));
    Email { text: text(&greeting, &blocks), html: page(&subject, &greeting, &blocks).into_string(), subject }
}

fn text(greeting: &str, blocks: &[Block]) -> String {
    let line = |spans: &[Span]| {
        spans
            .iter()
            .map(|s| match s {
                Span::Text(x) => x.clone(),
                Span::Link(label, url) => format!("{label}: {url}"),
            })
            .collect::<String>()
    };
    let mut out = format!("{greeting}\n\n");
    for b in blocks {
        match b {
            Block::Para(spans) => out.push_str(&line(spans)),
            Block::List(items) => {
                let lines: Vec<String> = items.iter().map(|i| format!("- {}", line(i))).collect();
                out.push_str(&lines.join("\n"));
            }
        }
        out.push_str("\n\n");
    }
    out.push_str("IATI Registry\n");
    out
}

fn spans(spans: &[Span]) -> Markup {
    html! {
        @for s in spans {
            @match s {
                Span::Text(x) => (x),
                Span::Link(label, url) => a href=(url) { (label) },
            }
        }
    }
}

fn page(subject: &str, greeting: &str, blocks: &[Block]) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (subject) } }
            body {
                p { (greeting) }
                @for b in blocks {
                    @match b {
                        Block::Para(s) => p { (spans(s)) },
                        Block::List(items) => ul { @for i in items { li { (spans(i)) } } },
                    }
                }
                p { "IATI Registry" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts<'static> {
        Facts {
            origin: "https://registry.example.org",
            to_name: "Ada Admin",
            organisation: Org { id: "org-1", short_name: "aid-org", name: "Aid <b>Org</b> & Co" },
            user: Person { id: "user-2", name: "Jo <script>alert(1)</script>", email: "jo@example.org" },
            actor_name: "Ada Admin",
            role: "editor",
            old_role: "contributor_pending",
        }
    }

    #[test]
    fn the_join_request_carries_what_the_reference_carries() {
        let e = render(Notice::JoinRequested, &facts());
        assert_eq!(e.subject, "Approve a new user for your organisation");
        for needed in [
            "Dear Ada Admin,",
            "A new user Jo <script>alert(1)</script>, with email address jo@example.org",
            "your organisation Aid <b>Org</b> & Co.",
            "Signing in to IATI Account: https://registry.example.org/account",
            "Viewing your organisation: https://registry.example.org/account/orgs/org-1",
            USERS_GUIDE,
        ] {
            assert!(e.text.contains(needed), "text lacks {needed:?}:\n{}", e.text);
        }
        assert!(e.html.contains("Jo &lt;script&gt;alert(1)&lt;/script&gt;"), "{}", e.html);
        assert!(e.html.contains("Aid &lt;b&gt;Org&lt;/b&gt; &amp; Co"), "{}", e.html);
        assert!(!e.html.contains("<script>"), "{}", e.html);
        assert!(e.html.contains(r#"<a href="https://registry.example.org/account/orgs/org-1">"#), "{}", e.html);
    }

    #[test]
    fn the_new_organisation_carries_what_the_reference_carries() {
        let f = Facts { to_name: "IATI Support Team", ..facts() };
        let e = render(Notice::OrganisationAwaitingApproval, &f);
        assert_eq!(e.subject, "New organisation requires approval");
        for needed in [
            "Short name: aid-org",
            "Human readable name: Aid <b>Org</b> & Co",
            "ID: org-1",
            "Page: https://registry.example.org/account/orgs/org-1",
            "Name: Jo <script>",
            "Email: jo@example.org",
            "ID: user-2",
            "https://registry.example.org/account/queue",
        ] {
            assert!(e.text.contains(needed), "text lacks {needed:?}:\n{}", e.text);
        }
    }

    #[test]
    fn a_subject_from_a_name_stays_one_line() {
        let f = Facts { organisation: Org { name: "Evil\r\nBcc: x@example.org", ..facts().organisation }, ..facts() };
        for n in [
            Notice::JoinApproved,
            Notice::JoinRefused,
            Notice::OrganisationApproved,
            Notice::RoleChanged,
            Notice::Removed,
        ] {
            let e = render(n, &f);
            assert!(!e.subject.contains(['\r', '\n']), "{:?}", e.subject);
            assert!(e.subject.contains("Evil Bcc: x@example.org"), "{:?}", e.subject);
        }
    }

    #[test]
    fn role_changes_say_from_what_to_what() {
        let e = render(Notice::RoleChanged, &Facts { old_role: "editor", role: "admin", ..facts() });
        assert!(e.text.contains("changed your role in Aid <b>Org</b> & Co from editor to admin."), "{}", e.text);
        let e = render(Notice::RoleChanged, &Facts { old_role: "", role: "editor", ..facts() });
        assert!(e.text.contains("gave you the role editor"), "{}", e.text);
    }
}
