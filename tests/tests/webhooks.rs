//! Signed webhooks end to end: an organisation's admin registers an endpoint through the
//! API, public changes and membership events reach it from the outbox through the `outbox`
//! component (the project's host here; real Spin from `tests/spin.rs`), and every delivery
//! is verified by the Standard Webhooks reference library, before and after a rotation.

use ryd_e2e::mail::*;
use ryd_e2e::*;
use serde_json::{json, Value};

fn types(deliveries: &[Value]) -> Vec<String> {
    deliveries.iter().map(|d| d["body"]["type"].as_str().unwrap_or_default().to_string()).collect()
}

#[test]
fn tools_hear_their_organisations_changes_signed_as_standard_webhooks_says() {
    let data = data_dir("webhooks");
    let hook = WebhookReceiver::start(&data.join("hook"));
    let server = serve!(
        &data,
        test_env(&[
            ("SPIN_VARIABLE_WEBHOOK_ALLOW_LOOPBACK", "true"),
            ("SPIN_VARIABLE_WEBHOOK_HOSTS", "http://127.0.0.1:*")
        ])
    );
    let c = Client::new(&server);
    let (admin, root) = (Who::user(1, "Admin"), Who::superadmin(9));
    let oid = c.create_org(&admin, "hooked-org", json!({}));
    c.approve_org(&root, &oid, true);
    let hooks = format!("/api/v1/reporting-orgs/{oid}/webhooks");
    let url = format!("http://127.0.0.1:{}/ryd", hook.port);
    let made =
        c.call(&admin, "POST", &hooks, Some(json!({"url": url, "events": ["dataset.*", "membership.*"]}))).expect(201);
    let first = made["data"]["secret"].as_str().expect("the secret, once").to_string();
    hook.trust(&[("first", &first), ("stranger", "whsec_c29tZW9uZSBlbHNlJ3Mgc2VjcmV0IGtleQ==")]);

    let did = c.create_dataset(&admin, &oid, "hooked-ds", "Hooked", "public");
    let jo = Who::user(2, "Jo");
    c.call(&jo, "POST", &format!("/api/v1/users/{}/reporting-org", jo.uid), Some(json!({"oid": oid}))).expect(200);
    let deliver =
        || c.call(&root, "POST", "/api/v1/admin/outbox/deliver?channel=webhook", None).expect(200)["data"].clone();
    assert_eq!(deliver()["sent"], 2);
    let got = hook.deliveries();
    assert_eq!(types(&got), ["dataset.created", "membership.join_requested"], "{got:#?}");
    for d in &got {
        assert_eq!(
            d["verified_with"],
            json!(["first"]),
            "the reference library verifies it, with this secret only: {d:#}"
        );
    }
    assert_eq!(got[0]["body"]["data"]["id"], did.as_str());
    assert_eq!(got[0]["body"]["data"]["organisation_id"], oid.as_str());
    assert_eq!(got[1]["body"]["data"]["user_id"], jo.uid.as_str());
    assert_ne!(got[0]["headers"]["webhook-id"], got[1]["headers"]["webhook-id"]);
    assert_eq!(deliver()["sent"], 0, "nothing twice");

    // Rotated: deliveries verify with the new secret, and with the old for a day.
    let wid = made["data"]["id"].as_str().expect("an id");
    let rotated = c.call(&admin, "POST", &format!("{hooks}/{wid}/secret"), None).expect(200);
    let second = rotated["data"]["secret"].as_str().expect("the new secret").to_string();
    assert_ne!(second, first);
    hook.trust(&[("first", &first), ("second", &second)]);
    c.call(&admin, "PUT", &format!("/api/v1/users/{}/reporting-org/{oid}", jo.uid), Some(json!({"role": "editor"})))
        .expect(200);
    assert_eq!(deliver()["sent"], 1);
    let last = hook.deliveries().pop().expect("the delivery after the rotation");
    assert_eq!(last["body"]["type"], "membership.join_approved");
    assert_eq!(last["verified_with"], json!(["first", "second"]), "{last:#}");

    // Another organisation's admin cannot see or touch it.
    let other = Who::user(3, "Other");
    c.create_org(&other, "other-org", json!({}));
    c.call(&other, "GET", &hooks, None).expect(404);
    c.call(&other, "DELETE", &format!("{hooks}/{wid}"), None).expect(404);
}
