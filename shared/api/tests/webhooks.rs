//! Webhooks natively: registration by an organisation's admins only, the secret shown once,
//! URLs that would reach internal networks refused, events written with the change and
//! delivered signed as Standard Webhooks says, rotation, and disabling after failures.

use ryd_store::{outbox, Sql};
use ryd_test_support::*;
use serde_json::{json, Value};

const HOOK: &str = "https://tools.example.org/ryd";

fn hooks(c: &Cast) -> String {
    format!("/api/v1/reporting-orgs/{}/webhooks", c.oid)
}

fn register(c: &Cast, events: Value) -> Value {
    expect(&c.world.call(Some(&c.admin), "POST", &hooks(c), Some(json!({"url": HOOK, "events": events}))), 201)["data"]
        .clone()
}

fn deliver(c: &Cast) -> Value {
    expect(
        &c.world.call(Some(&c.superadmin), "POST", "/api/v1/admin/outbox/deliver?channel=webhook&limit=50", None),
        200,
    )["data"]
        .clone()
}

#[test]
fn only_admins_register_and_the_secret_is_shown_once() {
    let c = Cast::new();
    let w = &c.world;
    let made = register(&c, json!(["dataset.*", "membership.join_requested"]));
    let secret = made["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_") && secret.len() > 40, "{made}");
    assert_eq!(made["events"], json!(["dataset.*", "membership.join_requested"]));
    let listed = expect(&w.call(Some(&c.admin), "GET", &hooks(&c), None), 200);
    assert_eq!(listed["data"][0]["id"], made["id"]);
    assert!(listed["data"][0].get("secret").is_none(), "never again: {listed}");
    let before = w.snapshot();
    for who in [&c.editor, &c.contributor] {
        let r = w.call(Some(who), "POST", &hooks(&c), Some(json!({"url": HOOK, "events": ["*"]})));
        assert_eq!(r.status, 403, "{}", r.json_body());
        assert_eq!(w.call(Some(who), "GET", &hooks(&c), None).status, 403);
    }
    for who in [&c.pending, &c.outsider] {
        assert_eq!(
            w.call(Some(who), "GET", &hooks(&c), None).status,
            404,
            "an organisation one cannot read: not found"
        );
    }
    assert_eq!(w.call(Some(&Who::machine(&c.tool_client)), "GET", &hooks(&c), None).status, 403);
    assert_eq!(w.snapshot(), before);
}

#[test]
fn urls_into_internal_networks_and_unknown_events_are_refused() {
    let c = Cast::new();
    let w = &c.world;
    let before = w.snapshot();
    for (body, field) in [
        (json!({"url": "http://tools.example.org/x", "events": ["*"]}), "url"),
        (json!({"url": "https://127.0.0.1/x", "events": ["*"]}), "url"),
        (json!({"url": "https://169.254.169.254/latest", "events": ["*"]}), "url"),
        (json!({"url": "https://10.0.0.7/x", "events": ["*"]}), "url"),
        (json!({"url": HOOK, "events": []}), "events"),
        (json!({"url": HOOK, "events": ["dataset.exploded"]}), "events"),
        (json!({"url": HOOK, "events": ["secrets.*"]}), "events"),
        (json!({"url": HOOK}), "events"),
        (json!({"url": HOOK, "events": ["*"], "secret": "mine"}), "secret"),
    ] {
        let r = w.call(Some(&c.admin), "POST", &hooks(&c), Some(body.clone()));
        let b = expect(&r, 400);
        assert!(b["error"].to_string().contains(field), "{body} → {b}");
    }
    assert_eq!(w.snapshot(), before);
    // Tests may allow loopback; private ranges stay refused.
    w.set_var("webhook_allow_loopback", "true");
    let r = w.call(Some(&c.admin), "POST", &hooks(&c), Some(json!({"url": "http://127.0.0.1:9/x", "events": ["*"]})));
    expect(&r, 201);
    let r = w.call(Some(&c.admin), "POST", &hooks(&c), Some(json!({"url": "https://10.0.0.7/x", "events": ["*"]})));
    expect(&r, 400);
}

#[test]
fn events_are_written_with_their_change_and_delivered_signed() {
    let c = Cast::new();
    let w = &c.world;
    let made = register(&c, json!(["dataset.*", "membership.*"]));
    let (wid, secret) = (made["id"].as_str().unwrap().to_string(), made["secret"].as_str().unwrap().to_string());
    // A public dataset changes; someone asks to join.
    let path = format!("/api/v1/datasets/{}", c.did);
    expect(&w.call(Some(&c.admin), "PATCH", &path, Some(json!({"human_readable_name": "Renamed"}))), 200);
    let asker = Who::user(9, "Asker");
    let join = format!("/api/v1/users/{}/reporting-org", asker.uid);
    expect(&w.call(Some(&asker), "POST", &join, Some(json!({"oid": c.oid}))), 200);
    let rows =
        w.ports.sql.execute("SELECT event, body_text FROM outbox WHERE channel = 'webhook' ORDER BY seq", &[]).unwrap();
    let events: Vec<String> = rows.iter().map(|r| r.text(0)).collect();
    assert!(events.contains(&"membership.join_requested".to_string()), "{events:?}");
    assert!(events.iter().all(|e| e.starts_with("dataset.") || e.starts_with("membership.")), "{events:?}");
    let join_payload: Value =
        serde_json::from_str(&rows.iter().find(|r| r.text(0) == "membership.join_requested").unwrap().text(1)).unwrap();
    assert_eq!(
        join_payload["data"],
        json!({"organisation_id": c.oid, "user_id": asker.uid, "role": "contributor_pending", "old_role": null})
    );
    let due = events.len() as i64;
    // Delivered: each a POST to the endpoint with Standard Webhooks' headers.
    w.ports.posts.borrow_mut().insert(HOOK.into(), (204, String::new()));
    let d = deliver(&c);
    assert_eq!(d["sent"].as_i64(), Some(due), "{d}");
    let posted = w.ports.posted.borrow().clone();
    assert_eq!(posted.len() as i64, due);
    assert!(posted.iter().all(|(url, _, _)| url == HOOK));
    // Nothing twice.
    assert_eq!(deliver(&c)["sent"], 0);
    // The signature: one the reference library checks end to end (tests/tests/webhooks.rs);
    // here, that it is ours with this secret.
    let msg = w
        .ports
        .sql
        .execute("SELECT id, body_text FROM outbox WHERE channel = 'webhook' ORDER BY seq LIMIT 1", &[])
        .unwrap();
    let (id, body) = (msg.first().unwrap().text(0), msg.first().unwrap().text(1));
    let sig = ryd_notify::webhook::signature(&secret, &id, T0, body.as_bytes()).unwrap();
    assert!(sig.starts_with("v1,"));
    // Rotation: the new secret is shown once and the old one still signs for a day.
    let rotated = expect(&w.call(Some(&c.admin), "POST", &format!("{}/{wid}/secret", hooks(&c)), None), 200);
    assert_ne!(rotated["data"]["secret"], made["secret"]);
    let (_, secrets) = ryd_store::webhooks::target(&w.ports.sql, &wid, T0 * 1000).unwrap().unwrap();
    assert_eq!(secrets, vec![rotated["data"]["secret"].as_str().unwrap().to_string(), secret]);
}

#[test]
fn an_endpoint_that_keeps_failing_is_disabled_with_the_reason_and_enabled_again_by_its_admin() {
    let c = Cast::new();
    let w = &c.world;
    let made = register(&c, json!(["membership.*"]));
    let wid = made["id"].as_str().unwrap().to_string();
    w.ports.posts.borrow_mut().insert(HOOK.into(), (500, "down".into()));
    for n in 0..12 {
        let asker = Who::user(20 + n, &format!("Asker{n}"));
        let join = format!("/api/v1/users/{}/reporting-org", asker.uid);
        expect(&w.call(Some(&asker), "POST", &join, Some(json!({"oid": c.oid}))), 200);
    }
    let d = deliver(&c);
    assert_eq!(d["sent"], 0, "{d}");
    let listed = expect(&w.call(Some(&c.admin), "GET", &hooks(&c), None), 200);
    let hook = &listed["data"][0];
    assert_eq!(hook["enabled"], false, "{hook}");
    assert!(hook["disabled_reason"]
        .as_str()
        .unwrap()
        .contains("10 failed deliveries in a row; the last: the endpoint answered 500"));
    // What it had not received is given up, and nothing more is written for it.
    assert_eq!(outbox::backlog(&w.ports.sql).unwrap().given_up, 12);
    let asker = Who::user(40, "Late");
    expect(
        &w.call(
            Some(&asker),
            "POST",
            &format!("/api/v1/users/{}/reporting-org", asker.uid),
            Some(json!({"oid": c.oid})),
        ),
        200,
    );
    let webhook_rows = |w: &World| {
        w.ports
            .sql
            .execute("SELECT count(*) FROM outbox WHERE channel = 'webhook'", &[])
            .unwrap()
            .first()
            .unwrap()
            .int(0)
    };
    assert_eq!(webhook_rows(w), 12);
    // Its admin mends it: enabled again, failures forgotten.
    let r = w.call(
        Some(&c.admin),
        "PATCH",
        &format!("{}/{wid}", hooks(&c)),
        Some(json!({"url": "https://tools.example.org/v2"})),
    );
    let b = expect(&r, 200);
    assert_eq!((b["data"]["enabled"].as_bool(), b["data"]["failures"].as_i64()), (Some(true), Some(0)), "{b}");
    expect(&w.call(Some(&c.admin), "DELETE", &format!("{}/{wid}", hooks(&c)), None), 200);
    assert_eq!(w.call(Some(&c.admin), "DELETE", &format!("{}/{wid}", hooks(&c)), None).status, 404);
}
