//! Email through Azure Communication Services, end to end: the `outbox` component (the
//! project's host here; real Spin from `tests/spin.rs`) sends the outbox's due messages
//! over Spin's outbound HTTP to a receiver that verifies the HMAC-SHA256 signature with the
//! access key as ACS does; Azure's own Python SDK, sending the same message to the same
//! receiver, is the reference for the request and its signing.

use ryd_e2e::mail::*;
use ryd_e2e::*;
use serde_json::{json, Value};

/// An access key as ACS issues them (base64 of 64 bytes).
const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZg==";

fn signed_headers(r: &Value) -> String {
    let auth = r["headers"]["authorization"].as_str().unwrap_or_default();
    auth.split("SignedHeaders=").nth(1).and_then(|s| s.split('&').next()).unwrap_or_default().to_string()
}

#[test]
fn the_outbox_sends_through_acs_signed_as_azures_sdk_signs() {
    let data = data_dir("acs");
    let acs = AcsReceiver::start(&data.join("acs"), KEY);
    let endpoint = format!("http://127.0.0.1:{}", acs.http_port);
    let server = serve!(
        &data,
        test_env(&[
            ("SPIN_VARIABLE_ACS_ENDPOINT", &endpoint),
            ("SPIN_VARIABLE_ACS_ACCESS_KEY", KEY),
            ("SPIN_VARIABLE_MAIL_FROM", "DoNotReply@registry.test"),
            ("SPIN_VARIABLE_SUPPORT_EMAIL", "support@iati.test"),
        ])
    );
    let c = Client::new(&server);
    let admin = Who::user(1, "Admin");
    let oid = c.create_org(&admin, "acs-org", json!({"human_readable_name": "Aid & <Co>"}));
    let jo = Who::user(2, "Jo");
    c.call(&jo, "POST", &format!("/api/v1/users/{}/reporting-org", jo.uid), Some(json!({"oid": oid}))).expect(200);

    // Only superadmins (and the scheduler's listed clients) deliver.
    c.call(&admin, "POST", "/api/v1/admin/outbox/deliver", None).expect(403);
    let answer = c.call(&Who::superadmin(9), "POST", "/api/v1/admin/outbox/deliver", None).expect(200);
    assert_eq!(answer["data"], json!({"sent": 2, "retrying": 0, "given_up": 0, "pending": 0}));
    let ours = acs.requests();
    assert_eq!(ours.len(), 2, "{ours:#?}");
    for r in &ours {
        assert_eq!(r["verified"], true, "the receiver verified our signature: {r:#}");
    }
    let to_admin = ours
        .iter()
        .find(|r| r["body"]["recipients"]["to"][0]["address"] == "admin@example.org")
        .expect("one to the admin");
    let body = &to_admin["body"];
    assert_eq!(body["senderAddress"], "DoNotReply@registry.test");
    assert_eq!(body["recipients"]["to"][0]["displayName"], "Admin");
    assert_eq!(body["content"]["subject"], "Approve a new user for your organisation");
    assert!(body["content"]["plainText"].as_str().unwrap().contains("organisation Aid & <Co>."));
    assert!(body["content"]["html"].as_str().unwrap().contains("Aid &amp; &lt;Co&gt;"));
    // Nothing is due any more: a second call sends nothing.
    let again = c.call(&Who::superadmin(9), "POST", "/api/v1/admin/outbox/deliver", None).expect(200);
    assert_eq!(again["data"]["sent"], 0);
    assert_eq!(acs.requests().len(), 2);

    // Azure's SDK sends the same message to the same receiver.
    assert_eq!(acs.send_with_azure_sdk(KEY, body), "sent");
    let all = acs.requests();
    let sdk = all.iter().find(|r| r["listener"] == "https").expect("the SDK's request");
    assert_eq!(sdk["verified"], true, "{sdk:#}");
    assert_eq!(sdk["path"], to_admin["path"], "the same operation and API version");
    assert_eq!(signed_headers(sdk), signed_headers(to_admin), "the same headers signed");
    assert_eq!(sdk["body"], to_admin["body"], "the same JSON");
    assert_eq!(sdk["headers"]["content-type"], to_admin["headers"]["content-type"]);

    // The receiver is no pushover: the SDK with another key is refused, as ACS would.
    let wrong = "b3RoZXIga2V5IG90aGVyIGtleSBvdGhlciBrZXkgb3RoZXIga2V5IG90aGVyIGtleQ==";
    assert!(acs.send_with_azure_sdk(wrong, body).starts_with("refused"));
    let last = acs.requests().pop().expect("the refused request");
    assert_eq!(last["verified"], false);
    assert_eq!(last["reason"], "the signature does not verify with the access key");
}
