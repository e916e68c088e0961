//! The outbox's writer: each change that must reach someone leaves its messages, rendered,
//! in the change's own transaction; a change that rolls back leaves none.

use ryd_store::outbox::{self, Entry};
use ryd_store::Sql;
use ryd_test_support::*;
use serde_json::json;

/// (event, recipient, subject) of the messages written since `after` (a seq), oldest first.
fn written_since(w: &World, after: i64) -> Vec<(String, String, String)> {
    let mut all: Vec<Entry> = outbox::recent(&w.ports.sql, 1000).unwrap();
    all.reverse();
    all.into_iter().filter(|e| e.seq > after).map(|e| (e.event, e.recipient, e.subject)).collect()
}

fn last_seq(w: &World) -> i64 {
    outbox::recent(&w.ports.sql, 1).unwrap().first().map(|e| e.seq).unwrap_or(0)
}

fn body_of(w: &World, seq_after: i64, column: &str) -> String {
    w.ports
        .sql
        .execute(&format!("SELECT {column} FROM outbox WHERE seq > ? ORDER BY seq LIMIT 1"), &[seq_after.into()])
        .unwrap()
        .first()
        .unwrap()
        .text(0)
}

/// A request (who, method, path, body) and the messages it must write.
type Step<'a> = (&'a Who, &'a str, String, Option<serde_json::Value>, Vec<(String, String, String)>);

fn triple(event: &str, to: &str, subject: &str) -> (String, String, String) {
    (event.into(), to.into(), subject.into())
}

#[test]
fn a_join_request_tells_every_admin_with_a_link_to_act() {
    let c = Cast::new();
    let w = &c.world;
    // A second admin: both are told.
    let second = Who::user(8, "Second Admin");
    expect(&w.call(Some(&second), "GET", "/api/v1/access-check", None), 200);
    let path = format!("/api/v1/users/{}/reporting-org/{}", second.uid, c.oid);
    expect(&w.call(Some(&c.admin), "PUT", &path, Some(json!({"role": "admin"}))), 200);
    let asker = Who::user(9, "Jo <b>Applicant</b>");
    expect(&w.call(Some(&asker), "GET", "/api/v1/access-check", None), 200);
    let before = last_seq(w);
    let join = format!("/api/v1/users/{}/reporting-org", asker.uid);
    expect(&w.call(Some(&asker), "POST", &join, Some(json!({"oid": c.oid}))), 200);
    let subject = "Approve a new user for your organisation";
    assert_eq!(
        written_since(w, before),
        vec![
            triple("join_requested", "admin@example.org", subject),
            triple("join_requested", "second admin@example.org", subject),
        ]
        .into_iter()
        .filter(|(_, to, _)| ryd_notify::is_address(to))
        .collect::<Vec<_>>(),
        "an address that is not one is logged, not sent to"
    );
    let text = body_of(w, before, "body_text");
    assert!(text.contains("Dear Admin,"), "{text}");
    assert!(text.contains("A new user Jo <b>Applicant</b>, with email address"), "{text}");
    assert!(text.contains(&format!("https://registry.example.org/account/orgs/{}", c.oid)), "{text}");
    let html = body_of(w, before, "body_html");
    assert!(html.contains("Jo &lt;b&gt;Applicant&lt;/b&gt;"), "{html}");
    assert!(w.ports.logs.borrow().iter().any(|l| l.contains("join_requested: no email sent to \"Second Admin\"")));
}

#[test]
fn decisions_tell_the_member_and_leaving_tells_nobody() {
    let c = Cast::new();
    let w = &c.world;
    let role_path = |who: &Who| format!("/api/v1/users/{}/reporting-org/{}", who.uid, c.oid);
    let steps: Vec<Step<'_>> = vec![
        (
            &c.admin,
            "PUT",
            role_path(&c.pending),
            Some(json!({"role": "editor"})),
            vec![triple("join_approved", "pending@example.org", "You have joined Org aidorg")],
        ),
        (
            &c.admin,
            "PUT",
            role_path(&c.pending),
            Some(json!({"role": "admin"})),
            vec![triple("role_changed", "pending@example.org", "Your role in Org aidorg is now admin")],
        ),
        (
            &c.admin,
            "DELETE",
            role_path(&c.editor),
            None,
            vec![triple("removed", "editor@example.org", "You were removed from Org aidorg")],
        ),
        (&c.contributor, "DELETE", role_path(&c.contributor), None, vec![]),
    ];
    for (who, method, path, body, want) in steps {
        let before = last_seq(w);
        expect(&w.call(Some(who), method, &path, body), 200);
        assert_eq!(written_since(w, before), want, "{method} {path}");
    }
    // A refused request: the requester is told.
    let asker = Who::user(9, "Asker");
    expect(
        &w.call(
            Some(&asker),
            "POST",
            &format!("/api/v1/users/{}/reporting-org", asker.uid),
            Some(json!({"oid": c.oid})),
        ),
        200,
    );
    let before = last_seq(w);
    expect(&w.call(Some(&c.admin), "DELETE", &role_path(&asker), None), 200);
    assert_eq!(
        written_since(w, before),
        vec![triple("join_refused", "asker@example.org", "Your request to join Org aidorg was not approved")]
    );
}

#[test]
fn a_new_organisation_tells_support_and_its_approval_tells_its_admins() {
    let w = World::new();
    w.set_var("support_email", "support@iatistandard.org");
    w.set_var("account_origin", "https://account.example.org/");
    let ann = Who::user(1, "Ann");
    let body = expect(&w.call(Some(&ann), "POST", "/api/v1/reporting-orgs", Some(org_body("annorg"))), 201);
    let oid = body["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        written_since(&w, 0),
        vec![triple(
            "organisation_awaiting_approval",
            "support@iatistandard.org",
            "New organisation requires approval"
        )]
    );
    let text = body_of(&w, 0, "body_text");
    for needed in [
        "Dear IATI Support Team,".to_string(),
        "Short name: annorg".into(),
        format!("ID: {oid}"),
        format!("Page: https://account.example.org/account/orgs/{oid}"),
        "Name: Ann".into(),
        "Email: ann@example.org".into(),
        format!("ID: {}", ann.uid),
    ] {
        assert!(text.contains(&needed), "{needed:?} not in {text}");
    }
    let before = last_seq(&w);
    let root = Who::superadmin(6);
    let path = format!("/api/v1/reporting-orgs/{oid}");
    expect(&w.call(Some(&root), "PATCH", &path, Some(json!({"registry_approved": true}))), 200);
    assert_eq!(
        written_since(&w, before),
        vec![triple("organisation_approved", "ann@example.org", "Org annorg is approved in the IATI Registry")]
    );
    // Without a support address, the superadmins known to the registry are told.
    w.ports.vars.borrow_mut().remove("support_email");
    let before = last_seq(&w);
    expect(&w.call(Some(&ann), "POST", "/api/v1/reporting-orgs", Some(org_body("secondorg"))), 201);
    let told: Vec<String> = written_since(&w, before).into_iter().map(|(_, to, _)| to).collect();
    assert_eq!(told, vec!["super@example.org".to_string()]);
}

#[test]
fn a_write_that_rolls_back_leaves_no_message() {
    let c = Cast::new();
    let w = &c.world;
    let asker = Who::user(9, "Asker");
    expect(&w.call(Some(&asker), "GET", "/api/v1/access-check", None), 200);
    // The last step of the write (its idempotency record) fails after the message is written.
    w.ports
        .sql
        .execute(
            "CREATE TRIGGER fail_late BEFORE INSERT ON idempotency BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
            &[],
        )
        .unwrap();
    let before = w.snapshot();
    let mut req = ryd_api::Request::new("POST", &format!("/api/v1/users/{}/reporting-org", asker.uid))
        .with_header("content-type", "application/json")
        .with_header("authorization", &format!("Bearer {}", w.token(&asker)))
        .with_header("idempotency-key", "k1");
    req = req.with_body(json!({"oid": c.oid}).to_string());
    let r = w.raw(req);
    assert_eq!(r.status, 500, "{}", r.json_body());
    assert_eq!(w.snapshot(), before, "the change, its audit event and its message all rolled back");
}

#[test]
fn superadmins_see_the_backlog_and_why_a_message_failed_and_nobody_else_does() {
    let c = Cast::new();
    let w = &c.world;
    let pending = outbox::backlog(&w.ports.sql).unwrap().pending;
    assert!(pending >= 2, "the cast's join requests wrote messages");
    // A worker took one and the relay refused it for good.
    let held = outbox::claim(&w.ports.sql, "email", "w1", T0 * 1000, T0 * 1000 + 60_000, 1).unwrap();
    outbox::mark_failed(&w.ports.sql, held[0].seq, "w1", T0 * 1000, "550 5.1.1 no such user", None).unwrap();
    let body = expect(&w.call(Some(&c.superadmin), "GET", "/api/v1/admin/outbox?limit=10", None), 200);
    let data = &body["data"];
    assert_eq!((data["pending"].as_i64(), data["given_up"].as_i64()), (Some(pending - 1), Some(1)), "{data}");
    let unsent = data["unsent"].as_array().unwrap();
    assert_eq!(unsent.len() as i64, pending);
    let failed = unsent.iter().find(|m| m["state"] == "given_up").expect("the given-up message listed");
    assert_eq!(failed["last_error"], "550 5.1.1 no such user");
    assert_eq!(failed["id"], held[0].message.id.as_str());
    assert_eq!(failed["next_attempt_at"], serde_json::Value::Null);
    // Everyone else: refused, and told why.
    for who in [&c.admin, &c.outsider] {
        let r = w.call(Some(who), "GET", "/api/v1/admin/outbox", None);
        let body = expect(&r, 403);
        assert!(body["error"]["error_msg"].as_str().unwrap().contains("superadmin"), "{body}");
    }
    expect(&w.call(Some(&c.superadmin), "GET", "/api/v1/admin/outbox?limit=0", None), 400);
}

#[test]
fn health_reports_an_outbox_left_behind() {
    let c = Cast::new();
    let w = &c.world;
    let health = || expect(&w.raw(ryd_api::Request::new("GET", "/health")), 200);
    let h = health();
    assert_eq!(h["outbox"]["status"], "ok", "{h}");
    assert!(h["outbox"]["pending"].as_i64().unwrap() >= 2);
    // Sixteen minutes later nobody has sent them: behind (the bound is 15 minutes).
    w.ports.now_ms.set(w.ports.now_ms.get() + 16 * 60 * 1000);
    let h = health();
    assert_eq!((h["status"].as_str(), h["outbox"]["status"].as_str()), (Some("ok"), Some("behind")), "{h}");
    assert!(h["outbox"]["oldest_pending_seconds"].as_i64().unwrap() >= 16 * 60);
    // The operator's bound, from the component's environment.
    w.ports.env.borrow_mut().insert("RYD_OUTBOX_MAX_AGE".into(), "3600".into());
    assert_eq!(health()["outbox"]["status"], "ok");
}

const ACS: &str = "https://acs.example.org";
const ACS_URL: &str = "https://acs.example.org/emails:send?api-version=2025-09-01";

fn with_acs(w: &World) {
    w.set_var("acs_endpoint", ACS);
    w.set_var("acs_access_key", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=");
    w.set_var("mail_from", "DoNotReply@registry.test");
}

#[test]
fn deliver_sends_due_email_through_acs_and_keeps_why_one_failed() {
    let c = Cast::new();
    let w = &c.world;
    let deliver = |who: &Who| w.call(Some(who), "POST", "/api/v1/admin/outbox/deliver?limit=50", None);
    // Not configured: refused, nothing claimed.
    let body = expect(&deliver(&c.superadmin), 503);
    assert!(body["error"]["error_msg"].as_str().unwrap().contains("acs_access_key"), "{body}");
    assert_eq!(outbox::backlog(&w.ports.sql).unwrap().retrying, 0);
    with_acs(w);
    let pending = outbox::backlog(&w.ports.sql).unwrap().pending;
    // ACS refuses the key: every message kept for later, with the reason.
    w.ports.posts.borrow_mut().insert(ACS_URL.into(), (401, r#"{"error":{"code":"Denied"}}"#.into()));
    let body = expect(&deliver(&c.superadmin), 200);
    assert_eq!((body["data"]["retrying"].as_i64(), body["data"]["sent"].as_i64()), (Some(pending), Some(0)), "{body}");
    let listed = outbox::unsent(&w.ports.sql, 100).unwrap();
    assert!(listed.iter().all(|e| e.last_error.as_deref().is_some_and(|r| r.starts_with("ACS answered 401"))));
    // Fixed, and after the backoff: each sent once, as one signed request.
    w.ports.posts.borrow_mut().insert(ACS_URL.into(), (202, r#"{"id":"x","status":"Running"}"#.into()));
    w.ports.posted.borrow_mut().clear();
    expect(&deliver(&c.superadmin), 200);
    assert!(w.ports.posted.borrow().is_empty(), "not before the backoff");
    w.ports.now_ms.set(w.ports.now_ms.get() + 31_000);
    let body = expect(&deliver(&c.superadmin), 200);
    assert_eq!((body["data"]["sent"].as_i64(), body["data"]["pending"].as_i64()), (Some(pending), Some(0)), "{body}");
    let posted = w.ports.posted.borrow().clone();
    assert_eq!(posted.len() as i64, pending);
    let (url, sent_body, authorization) = &posted[0];
    assert_eq!(url, ACS_URL);
    assert!(authorization
        .as_deref()
        .unwrap()
        .starts_with("HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="));
    let sent: serde_json::Value = serde_json::from_str(sent_body).unwrap();
    assert_eq!(sent["senderAddress"], "DoNotReply@registry.test");
    assert_eq!(sent["content"]["subject"], "Approve a new user for your organisation");
    assert_eq!(sent["recipients"]["to"][0]["address"], "admin@example.org");
    expect(&deliver(&c.superadmin), 200);
    assert_eq!(w.ports.posted.borrow().len() as i64, pending, "nothing sent twice");
}

#[test]
fn a_refusal_for_good_is_given_up_and_only_superadmins_and_listed_clients_deliver() {
    let c = Cast::new();
    let w = &c.world;
    with_acs(w);
    w.ports.posts.borrow_mut().insert(ACS_URL.into(), (400, r#"{"error":{"code":"BadRequest"}}"#.into()));
    let before = w.snapshot();
    for who in [&c.admin, &Who::machine("some-scheduler")] {
        let r = w.call(Some(who), "POST", "/api/v1/admin/outbox/deliver", None);
        let body = expect(&r, 403);
        assert!(body["error"]["error_msg"].as_str().unwrap().contains("outbox_clients"), "{body}");
    }
    assert_eq!(w.snapshot(), before, "a refused call claims nothing");
    w.set_var("outbox_clients", "some-scheduler");
    let body =
        expect(&w.call(Some(&Who::machine("some-scheduler")), "POST", "/api/v1/admin/outbox/deliver", None), 200);
    assert!(body["data"]["given_up"].as_i64().unwrap() >= 1, "{body}");
    let given_up = outbox::unsent(&w.ports.sql, 100).unwrap();
    assert!(given_up.iter().any(|e| e.given_up_at.is_some() && e.last_error.as_deref().unwrap().contains("400")));
}
