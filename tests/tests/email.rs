//! Email from the outbox, end to end: changes made through the real components (the
//! project's host here; real Spin from `tests/spin.rs`), `ryd-host deliver` as an operator
//! runs it, and a real SMTP server that records what it accepted: recipients, subjects, text
//! and HTML bodies, escaping and links, read back from what the server received.

use ryd_e2e::mail::*;
use ryd_e2e::*;
use serde_json::{json, Value};

#[test]
fn emails_reach_who_must_act_with_what_they_must_carry() {
    let data = data_dir("email-content");
    let server = serve!(&data, test_env(&[("SPIN_VARIABLE_SUPPORT_EMAIL", "support@iati.test")]));
    let c = Client::new(&server);
    let base = server.url();
    let admin = Who::user(1, "Admin");
    let jo = Who::user(2, "Jo");
    let oid = c.create_org(&admin, "esc-org", json!({"human_readable_name": "Aid & <Co>"}));
    join(&c, &jo, &oid);
    c.call(&admin, "PUT", &format!("/api/v1/users/{}/reporting-org/{oid}", jo.uid), Some(json!({"role": "editor"})))
        .expect(200);
    assert_eq!(server.sql_int("SELECT count(*) FROM outbox WHERE sent_at IS NULL"), 3, "three messages written");

    let sink = Sink::start(&data.join("mail"), 0.0);
    assert_eq!(deliver_once(&data, None, &sink.url(), &[]), "sent 3, retrying 0, given up 0");
    let got = sink.messages();
    assert_eq!(got.len(), 3, "{got:#?}");
    let by_rcpt = |to: &str| -> Value {
        got.iter().find(|m| m["rcpt_tos"] == json!([to])).unwrap_or_else(|| panic!("nothing to {to}: {got:#?}")).clone()
    };

    // The reference's "new organisation needs approval", to the support address.
    let m = by_rcpt("support@iati.test");
    assert_eq!(m["subject"], "New organisation requires approval");
    assert_eq!(m["from"], FROM);
    let text = text_of(&m, "text");
    for needed in [
        "Dear IATI Support Team,".to_string(),
        "Short name: esc-org".into(),
        "Human readable name: Aid & <Co>".into(),
        format!("ID: {oid}"),
        format!("Page: {base}/account/orgs/{oid}"),
        "Name: Admin".into(),
        "Email: admin@example.org".into(),
        format!("ID: {}", admin.uid),
        format!("{base}/account/queue"),
    ] {
        assert!(text.contains(&needed), "{needed:?} not in:\n{text}");
    }
    let html = text_of(&m, "html");
    assert!(html.contains("Aid &amp; &lt;Co&gt;") && !html.contains("<Co>"), "escaped in HTML:\n{html}");
    assert!(html.contains(&format!(r#"<a href="{base}/account/orgs/{oid}">"#)), "{html}");

    // The reference's "user requested to join", to the organisation's admin.
    let m = by_rcpt("admin@example.org");
    assert_eq!(m["subject"], "Approve a new user for your organisation");
    assert_eq!(m["to"], "Admin <admin@example.org>");
    let text = text_of(&m, "text");
    for needed in [
        "Dear Admin,".to_string(),
        "A new user Jo, with email address jo@example.org, has requested to join your organisation Aid & <Co>.".into(),
        format!("Signing in to IATI Account: {base}/account"),
        format!("Viewing your organisation: {base}/account/orgs/{oid}"),
        "https://docs.account.iatistandard.org/en/latest/manage_organisation_users/".into(),
    ] {
        assert!(text.contains(&needed), "{needed:?} not in:\n{text}");
    }

    // The requester, told of the decision.
    let m = by_rcpt("jo@example.org");
    assert_eq!(m["subject"], "You have joined Aid & <Co>");
    assert!(text_of(&m, "text").contains("Admin approved your request to join Aid & <Co>: your role is now editor."));

    let ids = received_ids(&sink);
    assert_eq!(ids.len(), 3, "each message its own Message-ID: {ids:?}");
    // Drained: a second pass sends nothing again.
    assert_eq!(deliver_once(&data, None, &sink.url(), &[]), "sent 0, retrying 0, given up 0");
    assert_eq!(sink.messages().len(), 3);
    assert_eq!(server.sql_int("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"), 3);
}
