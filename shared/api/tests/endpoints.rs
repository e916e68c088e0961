//! Every endpoint natively: success shapes, validation, scopes, object-level refusals,
//! machine tokens, provider admin, superadmin, and that refused writes change nothing.

use ryd_test_support::*;
use serde_json::{json, Value};

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

const ORG_META_KEYS: [&str; 20] = [
    "address",
    "contact_email",
    "created_date",
    "data_portal_url",
    "default_licence_id",
    "description",
    "exclusions_policy_url",
    "fax",
    "first_publication_date",
    "hq_country",
    "human_readable_name",
    "number_of_published_datasets",
    "organisation_identifier",
    "organisation_type",
    "phone",
    "region",
    "registry_approved",
    "reporting_source_type",
    "short_name",
    "website",
];

#[test]
fn create_org_answers_the_reference_shape_and_makes_the_creator_admin() {
    let w = World::new();
    let ann = Who::user(1, "Ann");
    let r = w.call(Some(&ann), "POST", "/api/v1/reporting-orgs", Some(org_body("annorg")));
    let body = expect(&r, 201);
    assert_eq!(body["status"], "success");
    assert_eq!(body["error"], Value::Null);
    assert_eq!(body["data"]["user_role"], "admin");
    assert_eq!(keys(&body["data"]["metadata"]), ORG_META_KEYS);
    assert_eq!(body["data"]["metadata"]["registry_approved"], false);
    assert_eq!(body["data"]["metadata"]["website"], "");
    assert_eq!(r.header("etag"), Some("\"1\""));
    assert!(r.header("x-request-id").is_some());
    let oid = body["data"]["id"].as_str().unwrap();
    let users = expect(&w.call(Some(&ann), "GET", &format!("/api/v1/reporting-orgs/{oid}/users"), None), 200);
    assert_eq!(users["data"], json!([{"id": ann.uid, "name": "Ann", "email": "ann@example.org", "role": "admin"}]));
}

#[test]
fn create_org_validation_and_conflicts_change_nothing() {
    let c = Cast::new();
    let w = &c.world;
    let before = w.snapshot();
    let cases = [
        (json!({"short_name": "Bad!", "human_readable_name": "x", "contact_email": "a@b.org"}), 400, "short_name"),
        (json!({"short_name": "okname", "human_readable_name": "x", "contact_email": "nope"}), 400, "contact_email"),
        (
            json!({"short_name": "okname", "human_readable_name": "x", "contact_email": "a@b.org", "hq_country": "Kenya"}),
            400,
            "hq_country",
        ),
        (
            json!({"short_name": "okname", "human_readable_name": "x", "contact_email": "a@b.org", "registry_approved": true}),
            400,
            "registry_approved",
        ),
        (
            json!({"short_name": "okname", "human_readable_name": "x", "contact_email": "a@b.org", "organisation_identifier": "GB COH"}),
            400,
            "organisation_identifier",
        ),
        (
            json!({"short_name": "okname", "human_readable_name": "x", "contact_email": "a@b.org", "default_licence_id": "nope"}),
            400,
            "default_licence_id",
        ),
        (json!({"short_name": "aidorg", "human_readable_name": "x", "contact_email": "a@b.org"}), 409, "short_name"),
        (
            json!({"short_name": "newone", "human_readable_name": "x", "contact_email": "a@b.org", "organisation_identifier": "XM-DAC-aidorg"}),
            409,
            "organisation_identifier",
        ),
    ];
    for (body, status, field) in cases {
        let r = expect(&w.call(Some(&c.outsider), "POST", "/api/v1/reporting-orgs", Some(body.clone())), status);
        let err = r["error"].to_string();
        assert!(err.contains(field), "{body} → {err}");
    }
    let r = expect(&w.call(Some(&c.outsider), "POST", "/api/v1/reporting-orgs", Some(json!({"short_name": "x", "human_readable_name": "Y", "contact_email": "a@b.org", "hq_country": "Kenya"}))), 400);
    assert!(r["error"]["error_msg"].as_str().unwrap().contains("did you mean \"KE\""));
    let mut req = ryd_api::Request::new("POST", "/api/v1/reporting-orgs")
        .with_header("authorization", &format!("Bearer {}", w.token(&c.outsider)));
    req = req.with_body("this is not json");
    expect(&w.raw(req.clone()), 415);
    expect(&w.raw(req.with_body(vec![b' '; 70 * 1024])), 413);
    assert_eq!(before, w.snapshot());
}

#[test]
fn reading_an_org_you_cannot_read_is_404_and_lacking_an_authorisation_is_403() {
    let c = Cast::new();
    let w = &c.world;
    let path = format!("/api/v1/reporting-orgs/{}", c.oid);
    for who in [&c.outsider, &c.pending] {
        let r = expect(&w.call(Some(who), "GET", &path, None), 404);
        assert_eq!(r["error"]["error_msg"], "Organisation UUID is not known in the registry.");
    }
    // Unknown and malformed ids.
    expect(&w.call(Some(&c.admin), "GET", &format!("/api/v1/reporting-orgs/{}", uid(999)), None), 404);
    let r = expect(&w.call(Some(&c.admin), "GET", "/api/v1/reporting-orgs/not-a-uuid", None), 400);
    assert!(r["error"]["error_msg"].as_str().unwrap().contains("oid"));
    // Roles per the table.
    for (who, role) in [
        (&c.admin, "admin"),
        (&c.editor, "editor"),
        (&c.contributor, "contributor"),
        (&c.superadmin, "admin"),
        (&c.tool_admin, "provider_admin"),
    ] {
        let r = w.call(Some(who), "GET", &path, None);
        assert_eq!(expect(&r, 200)["data"]["user_role"], role);
    }
    // A contributor cannot update; the 403 names the authorisation. Even a bad body is 403 first.
    let before = w.snapshot();
    let r = expect(&w.call(Some(&c.contributor), "PATCH", &path, Some(json!({"hq_country": "Nowhere"}))), 403);
    assert_eq!(r["error"]["missing_authorisation"], "update-org");
    // An outsider gets 404 even with a bad body.
    expect(&w.call(Some(&c.outsider), "PATCH", &path, Some(json!({"nonsense": 1}))), 404);
    assert_eq!(before, w.snapshot());
}

#[test]
fn patch_org_validates_keeps_read_only_fields_and_audits() {
    let c = Cast::new();
    let w = &c.world;
    let path = format!("/api/v1/reporting-orgs/{}", c.oid);
    let before = w.snapshot();
    let r = expect(&w.call(Some(&c.editor), "PATCH", &path, Some(json!({"short_name": "renamed"}))), 400);
    assert!(r["error"]["fields"]["short_name"].is_string());
    let r = expect(
        &w.call(Some(&c.editor), "PATCH", &path, Some(json!({"hq_country": "Kenya", "description": "new"}))),
        400,
    );
    assert!(r["error"]["error_msg"].as_str().unwrap().contains("did you mean \"KE\""), "{r}");
    expect(&w.call(Some(&c.editor), "PATCH", &path, Some(json!({"human_readable_name": null}))), 400);
    expect(&w.call(Some(&c.editor), "PATCH", &path, Some(json!({"registry_approved": true}))), 400);
    assert_eq!(before, w.snapshot(), "nothing of a refused PATCH is applied");

    // The whole record sent back with one change works (tools send whole records).
    let current = expect(&w.call(Some(&c.editor), "GET", &path, None), 200)["data"]["metadata"].clone();
    let mut whole = current.clone();
    whole["description"] = json!("A description");
    let r = expect(&w.call(Some(&c.editor), "PATCH", &format!("{path}?include_actions=yes"), Some(whole)), 200);
    assert_eq!(r["data"]["metadata"]["description"], "A description");
    assert_eq!(r["data"]["id"], c.oid.as_str());
    let actions = r["data"]["reporting_org_actions"].as_array().unwrap();
    assert_eq!(
        actions.iter().map(|a| a["action_type"].as_str().unwrap()).collect::<Vec<_>>(),
        vec!["create", "update_metadata"]
    );
    assert_eq!(actions[1]["user_name"], "Editor");
    assert_eq!(actions[1]["user_application_name"], APP);
    // Superadmin approves.
    let r = expect(&w.call(Some(&c.superadmin), "PATCH", &path, Some(json!({"registry_approved": true}))), 200);
    assert_eq!(r["data"]["metadata"]["registry_approved"], true);
    // Clearing an optional field with null.
    let r = expect(&w.call(Some(&c.admin), "PATCH", &path, Some(json!({"hq_country": null}))), 200);
    assert_eq!(r["data"]["metadata"]["hq_country"], "");
}

#[test]
fn if_match_gives_412_and_exactly_one_of_two_writers_wins() {
    let c = Cast::new();
    let w = &c.world;
    let path = format!("/api/v1/datasets/{}", c.did);
    let etag = w.call(Some(&c.admin), "GET", &path, None).header("etag").unwrap().to_string();
    let patch = |name: &str| {
        let req = ryd_api::Request::new("PATCH", &path)
            .with_header("authorization", &format!("Bearer {}", w.token(&c.admin)))
            .with_header("if-match", &etag)
            .with_body(json!({"human_readable_name": name}).to_string());
        w.raw(req)
    };
    let first = patch("First");
    let second = patch("Second");
    assert_eq!((first.status, second.status), (200, 412));
    let r = expect(&w.call(Some(&c.admin), "GET", &path, None), 200);
    assert_eq!(r["data"]["metadata"]["human_readable_name"], "First");
}

#[test]
fn delete_org_is_soft_frees_the_name_and_only_admins_may() {
    let c = Cast::new();
    let w = &c.world;
    let path = format!("/api/v1/reporting-orgs/{}", c.oid);
    let before = w.snapshot();
    for who in [&c.editor, &c.contributor, &c.tool_admin] {
        let r = expect(&w.call(Some(who), "DELETE", &path, None), 403);
        assert_eq!(r["error"]["missing_authorisation"], "delete-org");
    }
    expect(&w.call(Some(&Who::machine(&c.tool_client)), "DELETE", &path, None), 403);
    assert_eq!(before, w.snapshot());
    let r = expect(&w.call(Some(&c.admin), "DELETE", &path, None), 200);
    assert_eq!(r, json!({"status": "success", "error": null, "data": null}));
    expect(&w.call(Some(&c.admin), "GET", &path, None), 404);
    expect(&w.call(Some(&c.admin), "GET", &format!("/api/v1/datasets/{}", c.did), None), 404);
    // The name is free again.
    expect(&w.call(Some(&c.admin), "POST", "/api/v1/reporting-orgs", Some(org_body("aidorg"))), 201);
}

#[test]
fn lists_page_and_show_pending_requests_with_public_metadata_only() {
    let c = Cast::new();
    let w = &c.world;
    let r = expect(&w.call(Some(&c.pending), "GET", "/api/v1/reporting-orgs/?include_meta=yes", None), 200);
    assert_eq!(r["data"].as_array().unwrap().len(), 1);
    assert_eq!(r["data"][0]["user_role"], "contributor_pending");
    assert_eq!(
        keys(&r["data"][0]["metadata"]),
        ["hq_country", "human_readable_name", "organisation_identifier", "region", "short_name", "website"]
    );
    assert_eq!(r["pagination"]["total_records"], 1);
    assert_eq!(r["pagination"]["links"]["prev"], Value::Null);

    let r = expect(&w.call(Some(&c.superadmin), "GET", "/api/v1/reporting-orgs?page_size=1&page=2", None), 200);
    assert_eq!(r["pagination"]["total_pages"], 2);
    assert_eq!(r["data"].as_array().unwrap().len(), 1);
    assert_eq!(r["data"][0]["user_role"], "admin");
    assert_eq!(r["pagination"]["links"]["next"], Value::Null);
    assert_eq!(
        r["pagination"]["links"]["prev"],
        "https://registry.example.org/api/v1/reporting-orgs?page=1&page_size=1"
    );
    let past = expect(&w.call(Some(&c.superadmin), "GET", "/api/v1/reporting-orgs?page=9", None), 200);
    assert_eq!((past["data"].as_array().unwrap().len(), past["pagination"]["total_records"].as_i64()), (0, Some(2)));
    for bad in ["page=0", "page_size=501", "page_size=x", "include_actions=maybe"] {
        expect(&w.call(Some(&c.admin), "GET", &format!("/api/v1/reporting-orgs?{bad}"), None), 400);
    }
    let none = expect(&w.call(Some(&Who::user(50, "New")), "GET", "/api/v1/reporting-orgs", None), 200);
    assert_eq!((none["data"].as_array().unwrap().len(), none["pagination"]["total_pages"].as_i64()), (0, Some(1)));
    // Machine token of a granted tool sees that organisation.
    let m = expect(&w.call(Some(&Who::machine(&c.tool_client)), "GET", "/api/v1/reporting-orgs", None), 200);
    assert_eq!(m["data"][0]["id"], c.oid.as_str());
}

#[test]
fn discoverable_lists_every_live_org_with_the_public_subset() {
    let c = Cast::new();
    let w = &c.world;
    let r = expect(&w.call(Some(&c.outsider), "GET", "/api/v1/discoverable-reporting-orgs?q=aidorg", None), 200);
    assert_eq!(r["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        keys(&r["data"][0]["metadata"]),
        ["hq_country", "human_readable_name", "organisation_identifier", "region", "short_name", "website"]
    );
    expect(&w.call(Some(&c.outsider), "GET", "/api/v1/discoverable-reporting-orgs?q=a", None), 400);
    let all = expect(&w.call(Some(&c.outsider), "GET", "/api/v1/discoverable-reporting-orgs", None), 200);
    assert_eq!(all["pagination"]["total_records"], 2);
}

#[test]
fn datasets_create_read_update_delete_with_visibility_rules() {
    let c = Cast::new();
    let w = &c.world;
    let before = w.snapshot();
    // A contributor may create private but not public datasets.
    let r = expect(
        &w.call(Some(&c.contributor), "POST", "/api/v1/datasets", Some(dataset_body(&c.oid, "pub-one", "public"))),
        403,
    );
    assert_eq!(r["error"]["missing_authorisation"], "update-dataset-visibility");
    // Outsider: 404 for the organisation, even with a bad body.
    let mut bad = dataset_body(&c.oid, "Bad Name", "public");
    bad["url"] = json!("ftp://x");
    expect(&w.call(Some(&c.outsider), "POST", "/api/v1/datasets", Some(bad.clone())), 404);
    let r = expect(&w.call(Some(&c.admin), "POST", "/api/v1/datasets", Some(bad)), 400);
    assert_eq!(keys(&r["error"]["fields"]), ["short_name", "url"]);
    expect(
        &w.call(Some(&c.admin), "POST", "/api/v1/datasets", Some(dataset_body(&c.oid, "aid-activities", "public"))),
        409,
    );
    let mut unknown = dataset_body(&c.oid, "x-one", "private");
    unknown["colour"] = json!("blue");
    expect(&w.call(Some(&c.admin), "POST", "/api/v1/datasets", Some(unknown)), 400);
    assert_eq!(before, w.snapshot());

    let r = expect(
        &w.call(Some(&c.contributor), "POST", "/api/v1/datasets", Some(dataset_body(&c.oid, "priv-one", "private"))),
        201,
    );
    let did = r["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(keys(&r["data"]), ["id", "metadata", "owner_organisation_id", "version"]);
    assert_eq!(
        keys(&r["data"]["metadata"]),
        [
            "human_readable_name",
            "last_metadata_update_date",
            "last_url_update_date",
            "licence_id",
            "short_name",
            "source_type",
            "url",
            "visibility"
        ]
    );
    let path = format!("/api/v1/datasets/{did}");
    // Editor updates but may not change visibility (documented table); sending it unchanged is fine.
    let r = expect(&w.call(Some(&c.editor), "PATCH", &path, Some(json!({"visibility": "public"}))), 403);
    assert_eq!(r["error"]["missing_authorisation"], "update-dataset-visibility");
    let mut whole = dataset_body(&c.oid, "priv-one", "private");
    whole["url"] = json!("https://data.example.org/moved.xml");
    whole["licence_id"] = Value::Null;
    let r = expect(&w.call(Some(&c.editor), "PATCH", &path, Some(whole)), 200);
    assert_eq!(r["data"]["metadata"]["url"], "https://data.example.org/moved.xml");
    expect(&w.call(Some(&c.contributor), "PATCH", &path, Some(json!({"human_readable_name": "x"}))), 403);
    // owner_organisation_id cannot move.
    expect(&w.call(Some(&c.admin), "PATCH", &path, Some(json!({"owner_organisation_id": c.other_oid}))), 400);
    let r = expect(&w.call(Some(&c.admin), "PATCH", &path, Some(json!({"visibility": "public"}))), 200);
    assert_eq!(r["data"]["metadata"]["visibility"], "public");
    let r = expect(&w.call(Some(&c.admin), "GET", &format!("{path}?include_actions=yes"), None), 200);
    let kinds: Vec<&str> =
        r["data"]["dataset_actions"].as_array().unwrap().iter().map(|a| a["action_type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["create", "update_url", "change_visibility"]);
    // Outsider cannot see it; the pending user neither.
    expect(&w.call(Some(&c.outsider), "GET", &path, None), 404);
    expect(&w.call(Some(&c.pending), "GET", &path, None), 404);
    // Lists.
    let r = expect(
        &w.call(Some(&c.contributor), "GET", &format!("/api/v1/reporting-orgs/{}/datasets?page_size=1", c.oid), None),
        200,
    );
    assert_eq!(r["pagination"]["total_records"], 2);
    // Delete: contributor cannot, editor can; the short name is free again.
    expect(&w.call(Some(&c.contributor), "DELETE", &path, None), 403);
    expect(&w.call(Some(&c.editor), "DELETE", &path, None), 200);
    expect(&w.call(Some(&c.editor), "GET", &path, None), 404);
    expect(
        &w.call(Some(&c.contributor), "POST", "/api/v1/datasets", Some(dataset_body(&c.oid, "priv-one", "private"))),
        201,
    );
}

#[test]
fn the_reference_role_table_lets_contributors_update_and_editors_change_visibility() {
    let c = Cast::new();
    let w = &c.world;
    w.set_var("role_table", "reference");
    let path = format!("/api/v1/datasets/{}", c.did);
    expect(&w.call(Some(&c.contributor), "PATCH", &path, Some(json!({"human_readable_name": "By contributor"}))), 200);
    expect(&w.call(Some(&c.editor), "PATCH", &path, Some(json!({"visibility": "private"}))), 200);
    expect(&w.call(Some(&c.contributor), "DELETE", &path, None), 403);
}

#[test]
fn provider_admin_holds_its_column_only_through_the_tools_own_client() {
    let c = Cast::new();
    let w = &c.world;
    let dpath = format!("/api/v1/datasets/{}", c.did);
    // Through the tool's client: update-dataset and visibility.
    expect(&w.call(Some(&c.tool_admin), "PATCH", &dpath, Some(json!({"visibility": "private"}))), 200);
    // The same person through another application: nothing.
    let elsewhere = c.tool_admin.clone().via(APP);
    expect(&w.call(Some(&elsewhere), "GET", &dpath, None), 404);
    // The tool's machine token: the column minus what machines may never do.
    let machine = Who::machine(&c.tool_client);
    expect(&w.call(Some(&machine), "PATCH", &dpath, Some(json!({"visibility": "public"}))), 200);
    expect(
        &w.call(Some(&machine), "POST", "/api/v1/datasets", Some(dataset_body(&c.oid, "by-machine", "public"))),
        201,
    );
    let before = w.snapshot();
    expect(&w.call(Some(&machine), "GET", &format!("/api/v1/reporting-orgs/{}/users", c.oid), None), 403);
    expect(
        &w.call(
            Some(&machine),
            "POST",
            &format!("/api/v1/reporting-orgs/{}/tools", c.oid),
            Some(json!({"tid": c.tool_id})),
        ),
        403,
    );
    expect(&w.call(Some(&machine), "POST", "/api/v1/reporting-orgs", Some(org_body("machineorg"))), 403);
    expect(&w.call(Some(&machine), "DELETE", &format!("/api/v1/reporting-orgs/{}", c.oid), None), 403);
    // Another organisation is invisible to it.
    expect(&w.call(Some(&machine), "GET", &format!("/api/v1/reporting-orgs/{}", c.other_oid), None), 404);
    // A machine client without a grant reaches nothing.
    expect(&w.call(Some(&Who::machine("stranger")), "GET", &format!("/api/v1/reporting-orgs/{}", c.oid), None), 404);
    assert_eq!(before, w.snapshot());
    // Revoking the tool ends both at once.
    expect(
        &w.call(Some(&c.editor), "DELETE", &format!("/api/v1/reporting-orgs/{}/tools/{}", c.oid, c.tool_id), None),
        200,
    );
    expect(&w.call(Some(&machine), "GET", &dpath, None), 404);
    expect(&w.call(Some(&c.tool_admin), "GET", &dpath, None), 404);
}

#[test]
fn membership_requests_roles_and_the_last_admin() {
    let c = Cast::new();
    let w = &c.world;
    let member = |who: &Who| format!("/api/v1/users/{}/reporting-org/{}", who.uid, c.oid);
    let before = w.snapshot();
    // Joining is only for oneself; superadmins cannot join; a second request is refused.
    expect(
        &w.call(
            Some(&c.outsider),
            "POST",
            &format!("/api/v1/users/{}/reporting-org", c.pending.uid),
            Some(json!({"oid": c.oid})),
        ),
        403,
    );
    expect(
        &w.call(
            Some(&c.superadmin),
            "POST",
            &format!("/api/v1/users/{}/reporting-org", c.superadmin.uid),
            Some(json!({"oid": c.oid})),
        ),
        400,
    );
    expect(
        &w.call(
            Some(&c.pending),
            "POST",
            &format!("/api/v1/users/{}/reporting-org", c.pending.uid),
            Some(json!({"oid": c.oid})),
        ),
        400,
    );
    expect(
        &w.call(
            Some(&c.outsider),
            "POST",
            &format!("/api/v1/users/{}/reporting-org", c.outsider.uid),
            Some(json!({"oid": uid(999)})),
        ),
        404,
    );
    // Only set-org-user-authz sets roles.
    let r = expect(&w.call(Some(&c.editor), "PUT", &member(&c.pending), Some(json!({"role": "contributor"}))), 403);
    assert_eq!(r["error"]["missing_authorisation"], "set-org-user-authz");
    expect(&w.call(Some(&c.admin), "PUT", &member(&c.pending), Some(json!({"role": "owner"}))), 400);
    expect(
        &w.call(
            Some(&c.admin),
            "PUT",
            &format!("/api/v1/users/{}/reporting-org/{}", uid(999), c.oid),
            Some(json!({"role": "editor"})),
        ),
        404,
    );
    expect(&w.call(Some(&c.admin), "PUT", &member(&c.superadmin), Some(json!({"role": "editor"}))), 400);
    // A superadmin's own PUT and DELETE answer alike (the DELETE was a 404 naming the
    // organisation, which exists), and so do an admin's on a superadmin.
    for (who, method, body) in [
        (&c.superadmin, "PUT", Some(json!({"role": "editor"}))),
        (&c.superadmin, "DELETE", None),
        (&c.admin, "DELETE", None),
    ] {
        let r = expect(&w.call(Some(who), method, &member(&c.superadmin), body), 400);
        assert_eq!(r["error"]["error_msg"], "Superadmins hold no organisation roles.", "{method}: {r}");
    }
    // The last admin cannot leave or be demoted.
    expect(&w.call(Some(&c.admin), "PUT", &member(&c.admin), Some(json!({"role": "editor"}))), 400);
    expect(&w.call(Some(&c.admin), "DELETE", &member(&c.admin), None), 400);
    assert_eq!(before, w.snapshot());

    expect(&w.call(Some(&c.admin), "PUT", &member(&c.pending), Some(json!({"role": "contributor"}))), 200);
    let users =
        expect(&w.call(Some(&c.contributor), "GET", &format!("/api/v1/reporting-orgs/{}/users", c.oid), None), 200);
    assert!(users["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["id"] == c.pending.uid.as_str() && u["role"] == "contributor"));
    // Anyone may leave.
    expect(&w.call(Some(&c.contributor), "DELETE", &member(&c.contributor), None), 200);
    expect(&w.call(Some(&c.contributor), "GET", &format!("/api/v1/reporting-orgs/{}", c.oid), None), 404);
    // A superadmin may remove the last admin.
    expect(&w.call(Some(&c.superadmin), "DELETE", &member(&c.admin), None), 200);
}

#[test]
fn user_roles_and_permissions_are_for_the_user_or_a_superadmin() {
    let c = Cast::new();
    let w = &c.world;
    let r =
        expect(&w.call(Some(&c.tool_admin), "GET", &format!("/api/v1/users/{}/roles", c.tool_admin.uid), None), 200);
    assert_eq!(r["data"]["superadmin"], false);
    assert_eq!(r["data"]["tools"], json!([c.tool_id]));
    assert_eq!(r["data"]["reporting_orgs"], json!([{"id": c.oid, "role": "provider_admin"}]));
    let r = expect(
        &w.call(
            Some(&c.editor),
            "GET",
            &format!("/api/v1/users/{}/roles/reporting-org-permissions/{}", c.editor.uid, c.oid),
            None,
        ),
        200,
    );
    assert_eq!(
        r["data"],
        json!([
            "read-org",
            "update-org",
            "set-org-tool-authz",
            "read-dataset",
            "create-dataset",
            "update-dataset",
            "delete-dataset"
        ])
    );
    expect(&w.call(Some(&c.outsider), "GET", &format!("/api/v1/users/{}/roles", c.editor.uid), None), 403);
    expect(&w.call(Some(&c.outsider), "GET", &format!("/api/v1/users/{}/roles", uid(999)), None), 403);
    expect(&w.call(Some(&c.superadmin), "GET", &format!("/api/v1/users/{}/roles", uid(999)), None), 404);
    let r = expect(&w.call(Some(&c.superadmin), "GET", &format!("/api/v1/users/{}/roles", c.admin.uid), None), 200);
    assert_eq!(r["data"]["reporting_orgs"], json!([{"id": c.oid, "role": "admin"}]));
    let r =
        expect(&w.call(Some(&c.superadmin), "GET", &format!("/api/v1/users/{}/roles", c.superadmin.uid), None), 200);
    assert_eq!(r["data"]["superadmin"], true);
}

#[test]
fn tools_are_registered_by_superadmins_and_granted_by_admins_and_editors() {
    let c = Cast::new();
    let w = &c.world;
    let before = w.snapshot();
    expect(
        &w.call(Some(&c.admin), "POST", "/api/v1/tools", Some(json!({"name": "T", "provider": "P", "client_id": "c"}))),
        403,
    );
    expect(
        &w.call(
            Some(&c.superadmin),
            "POST",
            "/api/v1/tools",
            Some(json!({"name": "T", "provider": "P", "client_id": c.tool_client})),
        ),
        409,
    );
    expect(&w.call(Some(&c.superadmin), "POST", "/api/v1/tools", Some(json!({"name": "T"}))), 400);
    expect(
        &w.call(
            Some(&c.contributor),
            "POST",
            &format!("/api/v1/reporting-orgs/{}/tools", c.oid),
            Some(json!({"tid": c.tool_id})),
        ),
        403,
    );
    expect(
        &w.call(
            Some(&c.admin),
            "POST",
            &format!("/api/v1/reporting-orgs/{}/tools", c.oid),
            Some(json!({"tid": uid(999)})),
        ),
        404,
    );
    assert_eq!(before, w.snapshot());
    let list = expect(&w.call(Some(&Who::machine("anyone")), "GET", "/api/v1/tools", None), 200);
    assert_eq!(list["data"], json!([{"id": c.tool_id, "name": "Aid Tool", "provider": "Aid Co"}]));
    let granted =
        expect(&w.call(Some(&c.contributor), "GET", &format!("/api/v1/reporting-orgs/{}/tools", c.oid), None), 200);
    assert_eq!(granted["data"], list["data"]);
    let r = expect(
        &w.call(
            Some(&c.superadmin),
            "PATCH",
            &format!("/api/v1/tools/{}", c.tool_id),
            Some(json!({"name": "Renamed"})),
        ),
        200,
    );
    assert_eq!(r["data"]["name"], "Renamed");
    expect(&w.call(Some(&c.superadmin), "DELETE", &format!("/api/v1/tools/{}", c.tool_id), None), 200);
    let granted =
        expect(&w.call(Some(&c.contributor), "GET", &format!("/api/v1/reporting-orgs/{}/tools", c.oid), None), 200);
    assert_eq!(granted["data"], json!([]));
}

#[test]
fn public_endpoints_need_no_token_and_ignore_a_bad_one() {
    let w = World::new();
    let bad =
        ryd_api::Request::new("GET", "/api/v1/licences").with_header("authorization", "Bearer expired.garbage.token");
    let r = w.raw(bad);
    let list = expect(&r, 200);
    assert!(list.is_array());
    assert_eq!(keys(&list[0]), ["full_label", "id", "short_label", "status"]);
    expect(&w.raw(ryd_api::Request::new("GET", "/health")), 200);
    let doc = expect(&w.raw(ryd_api::Request::new("GET", "/api/v1/openapi.json")), 200);
    assert!(doc.is_object());
}

#[test]
fn routing_conventions_404_405_and_trailing_slash() {
    let w = World::new();
    let r = w.raw(ryd_api::Request::new("PUT", "/api/v1/licences"));
    expect(&r, 405);
    assert_eq!(r.header("allow"), Some("GET"));
    expect(&w.raw(ryd_api::Request::new("GET", "/api/v1/nope")), 404);
    expect(&w.raw(ryd_api::Request::new("GET", "/api/v1/licences/")), 200);
    let r = w.raw(ryd_api::Request::new("GET", "/health").with_header("x-request-id", "abc-123"));
    assert_eq!(r.header("x-request-id"), Some("abc-123"));
}

#[test]
fn idempotency_key_replays_the_first_answer_and_creates_nothing_new() {
    let w = World::new();
    let ann = Who::user(1, "Ann");
    let post = |key: &str, short: &str| {
        w.raw(
            ryd_api::Request::new("POST", "/api/v1/reporting-orgs")
                .with_header("authorization", &format!("Bearer {}", w.token(&ann)))
                .with_header("idempotency-key", key)
                .with_body(org_body(short).to_string()),
        )
    };
    let first = post("k-1", "one");
    let again = post("k-1", "one");
    assert_eq!((first.status, again.status), (201, 201));
    assert_eq!(first.json_body(), again.json_body());
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let list = expect(&w.call(Some(&ann), "GET", "/api/v1/reporting-orgs", None), 200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
}

/// For every endpoint: dropping any one required scope is a 403 with `insufficient_scope`,
/// and nothing changes.
#[test]
fn every_endpoint_refuses_each_missing_scope() {
    let c = Cast::new();
    let w = &c.world;
    let o = &c.oid;
    let d = &c.did;
    let t = &c.tool_id;
    let u = &c.editor.uid;
    let calls: Vec<(&str, String, Option<Value>, ryd_authz::Endpoint)> = vec![
        ("GET", "/api/v1/access-check".into(), None, ryd_authz::Endpoint::AccessCheck),
        ("GET", "/api/v1/tools".into(), None, ryd_authz::Endpoint::ListTools),
        ("GET", format!("/api/v1/users/{u}/roles"), None, ryd_authz::Endpoint::UserRoles),
        (
            "GET",
            format!("/api/v1/users/{u}/roles/reporting-org-permissions/{o}"),
            None,
            ryd_authz::Endpoint::UserOrgPermissions,
        ),
        ("GET", "/api/v1/discoverable-reporting-orgs".into(), None, ryd_authz::Endpoint::ListDiscoverableOrgs),
        ("GET", "/api/v1/reporting-orgs".into(), None, ryd_authz::Endpoint::ListOrgs),
        ("POST", "/api/v1/reporting-orgs".into(), Some(org_body("scoped")), ryd_authz::Endpoint::CreateOrg),
        ("GET", format!("/api/v1/reporting-orgs/{o}"), None, ryd_authz::Endpoint::ReadOrg),
        (
            "PATCH",
            format!("/api/v1/reporting-orgs/{o}"),
            Some(json!({"description": "x"})),
            ryd_authz::Endpoint::UpdateOrg,
        ),
        ("DELETE", format!("/api/v1/reporting-orgs/{o}"), None, ryd_authz::Endpoint::DeleteOrg),
        ("GET", format!("/api/v1/reporting-orgs/{o}/users"), None, ryd_authz::Endpoint::ListOrgUsers),
        (
            "POST",
            format!("/api/v1/users/{u}/reporting-org"),
            Some(json!({"oid": c.other_oid})),
            ryd_authz::Endpoint::JoinOrg,
        ),
        (
            "PUT",
            format!("/api/v1/users/{u}/reporting-org/{o}"),
            Some(json!({"role": "contributor"})),
            ryd_authz::Endpoint::SetUserRole,
        ),
        ("DELETE", format!("/api/v1/users/{u}/reporting-org/{o}"), None, ryd_authz::Endpoint::RemoveUserRole),
        ("GET", format!("/api/v1/reporting-orgs/{o}/tools"), None, ryd_authz::Endpoint::ListOrgTools),
        (
            "POST",
            format!("/api/v1/reporting-orgs/{o}/tools"),
            Some(json!({"tid": t})),
            ryd_authz::Endpoint::GrantOrgTool,
        ),
        ("DELETE", format!("/api/v1/reporting-orgs/{o}/tools/{t}"), None, ryd_authz::Endpoint::RevokeOrgTool),
        ("GET", format!("/api/v1/reporting-orgs/{o}/datasets"), None, ryd_authz::Endpoint::ListOrgDatasets),
        (
            "POST",
            "/api/v1/datasets".into(),
            Some(dataset_body(o, "scoped-ds", "public")),
            ryd_authz::Endpoint::CreateDataset,
        ),
        ("GET", format!("/api/v1/datasets/{d}"), None, ryd_authz::Endpoint::ReadDataset),
        (
            "PATCH",
            format!("/api/v1/datasets/{d}"),
            Some(json!({"human_readable_name": "x"})),
            ryd_authz::Endpoint::UpdateDataset,
        ),
        ("DELETE", format!("/api/v1/datasets/{d}"), None, ryd_authz::Endpoint::DeleteDataset),
    ];
    let before = w.snapshot();
    for (method, path, body, endpoint) in &calls {
        let scopes = endpoint.rule().scopes;
        for drop in scopes.iter() {
            let kept: Vec<&str> = ryd_authz::every_scope().into_iter().filter(|s| s != drop).collect();
            let who = c.superadmin.clone().scopes(&kept.join(" "));
            let r = w.call(Some(&who), method, path, body.clone());
            let b = expect(&r, 403);
            assert_eq!(b["error"]["required_scope"], scopes.join(" "), "{method} {path}");
            let h = r.header("www-authenticate").unwrap();
            assert!(
                h.contains("error=\"insufficient_scope\"") && h.contains(&format!("scope=\"{}\"", scopes.join(" "))),
                "{h}"
            );
        }
    }
    assert_eq!(before, w.snapshot());
}

#[test]
fn answers_to_a_credential_are_never_kept_by_a_shared_cache_and_public_ones_say_their_freshness() {
    let w = World::new();
    let ann = Who::user(1, "Ann");
    let cache = |r: &ryd_api::Response| r.header("cache-control").map(str::to_string);
    let private = Some("private, no-store".to_string());
    // A token route, answered or refused, and a refusal for want of a token.
    assert_eq!(cache(&w.call(Some(&ann), "GET", "/api/v1/reporting-orgs", None)), private);
    assert_eq!(cache(&w.call(Some(&ann), "GET", "/api/v1/reporting-orgs/nope", None)), private);
    assert_eq!(cache(&w.call(None, "GET", "/api/v1/reporting-orgs", None)), private);
    assert_eq!(cache(&w.call(Some(&ann), "POST", "/api/v1/reporting-orgs", Some(org_body("cached")))), private);
    // A console page (a session) is no-store; so is what verifies a caller's token.
    assert_eq!(cache(&w.raw(ryd_api::Request::new("GET", "/account"))).as_deref(), Some("no-store"));
    let mut key = ryd_authz::SigningKey::generate("EdDSA").unwrap().private_jwk();
    key["kid"] = json!("a1");
    w.set_var("authz_signing_keys", &key.to_string());
    let verified = w.call(None, "GET", "/api/3/action/authz_verify?token=x.y.z", None);
    assert_eq!((verified.status, cache(&verified)), (200, private.clone()), "{}", verified.json_body());
    // Public: the health probe is never stored; the OpenAPI document, which changes only
    // with a release, is kept an hour; the public keys and the licence list as long as the
    // operator lets caches keep public reads (the component's environment).
    assert_eq!(cache(&w.call(None, "GET", "/health", None)).as_deref(), Some("no-store"));
    let openapi = w.call(None, "GET", "/api/v1/openapi.json", None);
    assert_eq!(cache(&openapi).as_deref(), Some("public, max-age=3600"));
    let public = ["/.well-known/jwks.json", "/authz/public_key", "/api/v1/licences"];
    let default = "public, max-age=60, stale-while-revalidate=60, stale-if-error=86400";
    for path in public {
        assert_eq!(cache(&w.call(None, "GET", path, None)).as_deref(), Some(default), "{path}");
    }
    w.ports.env.borrow_mut().insert("RYD_PUBLIC_MAX_AGE".into(), "300".into());
    for path in public {
        let set = "public, max-age=300, stale-while-revalidate=60, stale-if-error=86400";
        assert_eq!(cache(&w.call(None, "GET", path, None)).as_deref(), Some(set), "{path}");
    }
    // A setting that is no number of seconds: the defaults, and the log names it.
    w.ports.env.borrow_mut().insert("RYD_PUBLIC_MAX_AGE".into(), "5 minutes".into());
    assert_eq!(cache(&w.call(None, "GET", "/api/v1/licences", None)).as_deref(), Some(default));
    assert!(w.ports.logs.borrow().iter().any(|l| l.contains("RYD_PUBLIC_MAX_AGE=\"5 minutes\"")), "{:?}", w.ports.logs);
}

#[test]
fn the_licence_list_is_conditional() {
    let w = World::new();
    let first = w.call(None, "GET", "/api/v1/licences", None);
    let tag = first.header("etag").expect("an entity tag").to_string();
    let again = w.raw(ryd_api::Request::new("GET", "/api/v1/licences").with_header("if-none-match", &tag));
    assert_eq!((again.status, again.body.len(), again.header("etag")), (304, 0, Some(tag.as_str())));
    let other = w.raw(ryd_api::Request::new("GET", "/api/v1/licences").with_header("if-none-match", "\"other\""));
    assert_eq!((other.status, other.json_body()), (200, first.json_body()));
}
