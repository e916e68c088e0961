//! Authorisation as a service: batch checks from the same table, and revocation.

use ryd_test_support::*;
use serde_json::json;

#[test]
fn checks_answer_in_order_with_reasons_from_the_permission_table() {
    let c = Cast::new();
    let w = &c.world;
    let checks = json!({"checks": [
        {"authorisation": "update-dataset", "object": format!("dataset/{}", c.did)},
        {"authorisation": "update-dataset-visibility", "object": "dataset/aid-activities"},
        {"authorisation": "read-org", "object": "org/aidorg"},
        {"authorisation": "delete-org", "object": format!("org/{}", c.oid)},
        {"authorisation": "read-org", "object": format!("org/{}", c.other_oid)},
        {"authorisation": "read-org", "object": "org/no-such-org"},
        {"authorisation": "fly", "object": "org/aidorg"},
    ]});
    let r = expect(&w.call(Some(&c.editor), "POST", "/api/v1/authz/check", Some(checks.clone())), 200);
    let allowed: Vec<bool> = r["results"].as_array().unwrap().iter().map(|x| x["allowed"].as_bool().unwrap()).collect();
    assert_eq!(allowed, vec![true, false, true, false, false, false, false]);
    assert_eq!(r["results"][0]["reason"], "role editor holds update-dataset");
    assert_eq!(r["results"][1]["reason"], "editor does not hold update-dataset-visibility");
    assert_eq!(r["results"][4]["reason"], "no such object", "an organisation the caller cannot read does not leak");
    // A superadmin asks about someone else; anyone else may not.
    let about = json!({"subject": c.contributor.uid, "checks": [{"authorisation": "create-dataset", "object": "org/aidorg"}, {"authorisation": "update-dataset", "object": "org/aidorg"}]});
    let r = expect(&w.call(Some(&c.superadmin), "POST", "/api/v1/authz/check", Some(about.clone())), 200);
    assert_eq!(r["results"][0]["allowed"], true);
    assert_eq!(r["results"][1]["reason"], "contributor does not hold update-dataset");
    expect(&w.call(Some(&c.editor), "POST", "/api/v1/authz/check", Some(about)), 403);
    // The tool's machine client, through its grant.
    let r = expect(&w.call(Some(&Who::machine(&c.tool_client)), "POST", "/api/v1/authz/check", Some(checks)), 200);
    assert_eq!(r["results"][3]["reason"], "machine tokens can never hold delete-org");
    let too_many: Vec<_> = (0..101).map(|_| json!({"authorisation": "read-org", "object": "org/aidorg"})).collect();
    expect(&w.call(Some(&c.editor), "POST", "/api/v1/authz/check", Some(json!({"checks": too_many}))), 400);
}

#[test]
fn revoking_a_user_refuses_their_tokens_and_lifting_it_admits_new_ones() {
    let c = Cast::new();
    let w = &c.world;
    let token = w.token(&c.editor);
    let access = |t: &str| {
        w.raw(ryd_api::Request::new("GET", "/api/v1/access-check").with_header("authorization", &format!("Bearer {t}")))
    };
    expect(&access(&token), 200);
    expect(&w.call(Some(&c.editor), "PUT", &format!("/api/v1/admin/revocations/users/{}", c.editor.uid), None), 403);
    let before = w.snapshot();
    expect(&w.call(Some(&c.superadmin), "PUT", &format!("/api/v1/admin/revocations/users/{}", uid(999)), None), 404);
    assert_eq!(before, w.snapshot());
    let r = expect(
        &w.call(Some(&c.superadmin), "PUT", &format!("/api/v1/admin/revocations/users/{}", c.editor.uid), None),
        200,
    );
    assert_eq!(r["data"]["revoked"], true);
    expect(&access(&token), 401);
    // A client revocation refuses the tool's machine tokens.
    let machine = w.token(&Who::machine(&c.tool_client));
    expect(&access(&machine), 200);
    expect(
        &w.call(Some(&c.superadmin), "PUT", &format!("/api/v1/admin/revocations/clients/{}", c.tool_client), None),
        200,
    );
    expect(&access(&machine), 401);
    // Lifting: tokens issued from then on work; the old one stays refused.
    expect(
        &w.call(Some(&c.superadmin), "DELETE", &format!("/api/v1/admin/revocations/users/{}", c.editor.uid), None),
        200,
    );
    w.ports.now_ms.set(w.ports.now_ms.get() + 2000);
    expect(&access(&w.token(&c.editor)), 200);
}

#[test]
fn is_authorized_answers_true_or_false_in_ckans_envelope() {
    let c = Cast::new();
    let w = &c.world;
    let ask = |who: &Who, q: &str| w.call(Some(who), "GET", &format!("/api/3/action/is_authorized?{q}"), None);
    let r = expect(&ask(&c.editor, &format!("object=dataset/{}&action=update", c.did)), 200);
    assert_eq!((r["success"].clone(), r["result"].clone()), (json!(true), json!(true)));
    assert!(r["help"].as_str().unwrap().ends_with("help_show?name=is_authorized"));
    assert_eq!(expect(&ask(&c.contributor, "object=dataset/aid-activities&action=delete"), 200)["result"], false);
    assert_eq!(expect(&ask(&c.outsider, "object=org/aidorg&action=read"), 200)["result"], false);
    // userid other than one's own: superadmins only; errors in CKAN's envelope.
    let q = format!("object=org/aidorg&action=update&userid={}", c.editor.uid);
    assert_eq!(expect(&ask(&c.superadmin, &q), 200)["result"], true);
    let r = expect(&ask(&c.outsider, &q), 403);
    assert_eq!((r["success"].clone(), r["error"]["__type"].clone()), (json!(false), json!("Authorization Error")));
    let r = expect(&ask(&c.editor, "object=org/aidorg&action=fly"), 400);
    assert_eq!(r["error"]["__type"], "Validation Error");
    let r =
        expect(&w.raw(ryd_api::Request::new("GET", "/api/3/action/is_authorized?object=org/aidorg&action=read")), 401);
    assert_eq!(r["error"]["__type"], "Authorization Error");
}
