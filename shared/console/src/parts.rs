//! The layout and the pieces every page uses.

use crate::{Field, Frame, Input, Notice};
use maud::{html, Markup, DOCTYPE};

/// A whole document: header with the user and sign-out, the notice, the content.
pub(crate) fn document(frame: &Frame, content: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (frame.title) " · IATI Account" }
                link rel="stylesheet" href="/account/console.css";
            }
            body {
                header {
                    a.brand href="/account" { "IATI Account" }
                    @if let Some(user) = frame.user {
                        nav aria-label="Console" {
                            a href="/account" { "My organisations" }
                            a href="/account/find" { "Join an organisation" }
                            a href="/account/api-keys" { "API keys" }
                        }
                        form.signout method="post" action="/account/logout" {
                            (csrf(frame.csrf))
                            span { "Signed in as " strong { (user) } }
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main {
                    h1 { (frame.title) }
                    @match &frame.notice {
                        Some(Notice::Done(text)) => p.notice.done role="status" { (text) },
                        Some(Notice::Refused { message, fields }) => div.notice.refused role="alert" {
                            p { (message) }
                            @if !fields.is_empty() {
                                ul { @for (name, why) in fields.iter() { li { strong { (name) } ": " (why) } } }
                            }
                        },
                        None => {},
                    }
                    (content)
                }
            }
        }
    }
    .into_string()
}

/// The hidden synchronizer token every state-changing form carries.
pub(crate) fn csrf(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// A form of one button (approve, revoke, delete …).
pub(crate) fn button_form(frame: &Frame, action: &str, label: &str, fields: &[(&str, &str)], danger: bool) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            (csrf(frame.csrf))
            @for (name, value) in fields { input type="hidden" name=(name) value=(value); }
            button.danger[danger] type="submit" { (label) }
        }
    }
}

/// One labelled field (with its hint linked by `aria-describedby`).
pub(crate) fn field(f: &Field) -> Markup {
    let id = format!("f-{}", f.name);
    let hint_id = format!("{id}-hint");
    let hint = (!f.hint.is_empty()).then_some(hint_id.as_str());
    html! {
        div.field {
            label for=(id) { (f.label) @if f.required && f.editable { " " span.req aria-hidden="true" { "*" } } }
            @match f.input {
                Input::LongText => textarea id=(id) name=(f.name) rows="4" required[f.required] disabled[!f.editable]
                    aria-describedby=[hint] { (f.value) },
                Input::Choice(choices) => select id=(id) name=(f.name) required[f.required] disabled[!f.editable]
                    aria-describedby=[hint] {
                    @if !f.required { option value="" { "—" } }
                    @for (value, label) in choices {
                        option value=(value) selected[*value == f.value] { (label) }
                    }
                },
                _ => input id=(id) name=(f.name) value=(f.value) required[f.required] disabled[!f.editable]
                    aria-describedby=[hint]
                    type=(match f.input { Input::Email => "email", Input::Url => "url", _ => "text" });,
            }
            @if let Some(h) = hint { small id=(h) { (f.hint) } }
        }
    }
}
