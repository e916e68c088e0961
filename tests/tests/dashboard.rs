//! The Dashboard's read API, end to end: the real `dashboard` component over HTTP on an
//! imported registry plus records made through the API, every answer checked against
//! `iati-dashboard-api.yaml` (with `null` where the registry has no value) and for hidden
//! records.

use ryd_e2e::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

struct Registry {
    host: Server,
    c: Client,
    /// Ids and names that must never appear.
    hidden: Vec<String>,
    /// The organisation made through the API, with an accented name.
    accented: String,
    accented_id: String,
}

fn registry(name: &str) -> Registry {
    let data = data_dir(name);
    let dump = data.join("dump.jsonl");
    let lines: Vec<String> = ryd_ckan::synthetic::registry(40, 1000, 3).map(|v| v.to_string()).collect();
    std::fs::write(&dump, lines.join("\n")).unwrap();
    ryd_host::import::import_files(&data.join("sqlite_db.db"), &[dump.to_string_lossy().into_owned()]).unwrap();
    let host = serve!(&data, test_env(&[]));
    let c = Client::new(&host);
    let admin = Who::user(1, "Admin");
    let superadmin = Who::superadmin(2);
    let org = |short: &str, title: &str, country: &str| {
        c.create_org(&admin, short, json!({"human_readable_name": title, "hq_country": country}))
    };
    let approve = |oid: &str| c.approve_org(&superadmin, oid, true);
    let dataset = |oid: &str, short: &str, visibility: &str| c.create_dataset(&admin, oid, short, short, visibility);
    let accented_id = org("afd", "Agence Française de Développement", "FR");
    approve(&accented_id);
    dataset(&accented_id, "afd-activities", "public");
    let private = dataset(&accented_id, "afd-secret", "private");
    let gone = dataset(&accented_id, "afd-gone", "public");
    c.call(&admin, "DELETE", &format!("/api/v1/datasets/{gone}"), None).expect(200);
    let unapproved = org("notyet", "Développement pending", "FR");
    let unapproved_ds = dataset(&unapproved, "notyet-activities", "public");
    let closed = org("closed", "Closed agency", "FR");
    approve(&closed);
    let closed_ds = dataset(&closed, "closed-activities", "public");
    c.call(&admin, "DELETE", &format!("/api/v1/reporting-orgs/{closed}"), None).expect(200);
    let hidden = vec![
        private,
        "afd-secret".into(),
        gone,
        "afd-gone".into(),
        unapproved,
        "notyet".into(),
        unapproved_ds,
        closed,
        "closed-activities".into(),
        closed_ds,
    ];
    Registry { host, c, hidden, accented: "afd".into(), accented_id }
}

impl Registry {
    /// GET with its status checked, and every answer scanned for hidden records.
    fn get(&self, path: &str, status: u16) -> Value {
        let a = self.c.send("GET", path, None, &[], None);
        for h in &self.hidden {
            assert!(!a.text.contains(h.as_str()), "{path} shows hidden {h}: {}", a.text);
        }
        assert_eq!(a.header("content-type"), Some("application/json"), "{path}");
        a.expect(status)
    }

    /// Every result of a list, following `next` links.
    fn all(&self, first: &str) -> (i64, Vec<Value>) {
        let mut page = self.get(first, 200);
        let count = page["count"].as_i64().unwrap();
        let mut results = page["results"].as_array().unwrap().clone();
        while let Some(next) = page["next"].as_str() {
            let path = next.strip_prefix(&self.c.base).expect("an absolute link to this server").to_string();
            page = self.get(&path, 200);
            results.extend(page["results"].as_array().unwrap().iter().cloned());
        }
        assert_eq!(results.len() as i64, count, "{first}: count and results agree");
        (count, results)
    }
}

/// The YAML (vendored with the crate), and a check of a body against one of its schemas:
/// exactly its properties, each of its type (or `null`), enums respected.
fn schema(name: &str) -> Value {
    let text = std::fs::read_to_string(root().join("shared/dashboard/reference/iati-dashboard-api.yaml")).unwrap();
    let doc: Value = serde_yaml::from_str(&text).unwrap();
    doc["components"]["schemas"][name].clone()
}

fn conforms(body: &Value, schema: &Value) {
    let props = schema["properties"].as_object().unwrap();
    let obj = body.as_object().unwrap_or_else(|| panic!("an object: {body}"));
    let have: BTreeSet<&String> = obj.keys().collect();
    let want: BTreeSet<&String> = props.keys().collect();
    assert_eq!(have, want, "exactly the schema's properties: {body}");
    for required in schema["required"].as_array().unwrap() {
        assert!(obj.contains_key(required.as_str().unwrap()), "{required} missing: {body}");
    }
    for (name, p) in props {
        let v = &obj[name];
        if v.is_null() {
            continue;
        }
        match p["type"].as_str().unwrap() {
            "string" => assert!(v.is_string(), "{name} is a string: {body}"),
            "integer" => assert!(v.is_i64(), "{name} is an integer: {body}"),
            t => panic!("a type the test does not know: {t}"),
        }
        if let Some(choices) = p["enum"].as_array() {
            assert!(choices.contains(v), "{name}: {v} is one of {choices:?}");
        }
        if p["format"] == "uuid" {
            assert!(ryd_dashboard_uuid(v.as_str().unwrap()), "{name} is a UUID: {v}");
        }
    }
}

fn ryd_dashboard_uuid(s: &str) -> bool {
    s.len() == 36
        && s.chars()
            .enumerate()
            .all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() })
}

fn ids(results: &[Value]) -> Vec<String> {
    results.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn lists_and_records_as_the_yaml_and_drf_describe_them() {
    let r = registry("dashboard-shapes");
    let (org_schema, dataset_schema) = (schema("ReportingOrg"), schema("Dataset"));

    // Organisations: every visible one, in name order, each conforming.
    let (count, orgs) = r.all("/api/reporting-orgs/?page_size=7");
    let visible =
        r.host.sql_int("SELECT count(*) FROM organisations WHERE deleted_at IS NULL AND registry_approved = 1");
    assert_eq!(count, visible);
    for o in &orgs {
        conforms(o, &org_schema);
    }
    let names: Vec<(String, String)> = orgs
        .iter()
        .map(|o| (o["human_readable_name"].as_str().unwrap().to_ascii_lowercase(), o["id"].as_str().unwrap().into()))
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "ordered by human_readable_name (any case), then id");
    let one_page = r.get("/api/reporting-orgs?page_size=5000&format=json&unknown=1", 200);
    assert_eq!(
        ids(one_page["results"].as_array().unwrap()),
        ids(&orgs),
        "one big page, no slash, extra parameters ignored"
    );
    assert_eq!((one_page["next"].clone(), one_page["previous"].clone()), (Value::Null, Value::Null));

    // dataset_count counts public datasets only.
    let afd = orgs.iter().find(|o| o["short_name"] == r.accented.as_str()).unwrap();
    assert_eq!(afd["dataset_count"], 1, "{afd}");
    assert_eq!(afd["reporting_source_type"], "primary-source");
    assert_eq!(afd["data_portal_url"], Value::Null, "a value the registry does not have is null");

    // Records by short name and by id, with and without the slash, equal to the list's.
    for path in [format!("/api/reporting-orgs/{}/", r.accented), format!("/api/reporting-orgs/{}", r.accented_id)] {
        assert_eq!(&r.get(&path, 200), afd, "{path}");
    }
    let upper = r.accented_id.to_uppercase();
    assert_eq!(&r.get(&format!("/api/reporting-orgs/{upper}/"), 200), afd, "a UUID in capitals is the same id");

    // Datasets: every public one, by short name, each conforming and naming its organisation.
    let (count, datasets) = r.all("/api/datasets/?page_size=40");
    assert_eq!(count, r.host.sql_int("SELECT count(*) FROM datasets WHERE listed"));
    for d in &datasets {
        conforms(d, &dataset_schema);
    }
    let shorts: Vec<&str> = datasets.iter().map(|d| d["short_name"].as_str().unwrap()).collect();
    let mut sorted = shorts.clone();
    sorted.sort();
    assert_eq!(shorts, sorted, "ordered by short_name");
    let first = &datasets[0];
    for key in [first["short_name"].as_str().unwrap(), first["id"].as_str().unwrap()] {
        assert_eq!(&r.get(&format!("/api/datasets/{key}/"), 200), first);
    }

    // What is not public is not found, and writes are not allowed.
    for h in ["afd-secret", "afd-gone", "notyet-activities", "closed-activities"] {
        assert_eq!(r.get(&format!("/api/datasets/{h}/"), 404), json!({"detail": "Not found."}));
    }
    for h in ["notyet", "closed", "nobody"] {
        assert_eq!(r.get(&format!("/api/reporting-orgs/{h}/"), 404), json!({"detail": "Not found."}));
    }
    let post = r.c.send("POST", "/api/datasets/", None, &[], Some("{}"));
    assert_eq!(post.expect(405), json!({"detail": "Method \"POST\" not allowed."}));
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
}

#[test]
fn pagination_as_drf_pages() {
    let r = registry("dashboard-pages");
    let first = r.get("/api/datasets/?page_size=25&reporting_org__short_name=publisher-00000", 200);
    let count = first["count"].as_i64().unwrap();
    assert!(count > 50, "the first organisation publishes many datasets ({count})");
    assert_eq!(first["previous"], Value::Null);
    let base = &r.c.base;
    assert_eq!(
        first["next"],
        format!("{base}/api/datasets/?page=2&page_size=25&reporting_org__short_name=publisher-00000")
    );
    let second = r.get("/api/datasets/?page_size=25&reporting_org__short_name=publisher-00000&page=2", 200);
    assert_eq!(
        second["previous"],
        format!("{base}/api/datasets/?page_size=25&reporting_org__short_name=publisher-00000")
    );
    let pages = (count + 24) / 25;
    let last = r.get("/api/datasets/?page_size=25&reporting_org__short_name=publisher-00000&page=last", 200);
    assert_eq!(
        last,
        r.get(&format!("/api/datasets/?page_size=25&reporting_org__short_name=publisher-00000&page={pages}"), 200)
    );
    assert_eq!(last["next"], Value::Null);
    assert_eq!(
        r.get("/api/datasets/?page_size=0", 200)["results"].as_array().unwrap().len(),
        50,
        "a bad size is the default"
    );
    for bad in [format!("page={}", pages + 1), "page=0".into(), "page=two".into()] {
        let path = format!("/api/datasets/?page_size=25&reporting_org__short_name=publisher-00000&{bad}");
        assert_eq!(r.get(&path, 404), json!({"detail": "Invalid page."}), "{bad}");
    }
    let empty = r.get("/api/datasets/?reporting_org__short_name=nobody", 200);
    assert_eq!(
        empty,
        json!({"count": 0, "next": null, "previous": null, "results": []}),
        "an empty list is one empty page"
    );
}

#[test]
fn filters_select_what_the_registry_says_and_refuse_what_the_yaml_does_not_offer() {
    let r = registry("dashboard-filters");
    let count = |path: &str| r.get(path, 200)["count"].as_i64().unwrap();
    let visible = "o.deleted_at IS NULL AND o.registry_approved = 1";
    let publishes = |kind: &str| {
        format!("EXISTS (SELECT 1 FROM datasets d JOIN dataset_pipeline p ON p.dataset_id = d.id WHERE d.organisation_id = o.id AND d.listed AND p.filetype = '{kind}')")
    };
    let orgs_where = |w: &str| r.host.sql_int(&format!("SELECT count(*) FROM organisations o WHERE {visible} AND {w}"));

    assert_eq!(count("/api/reporting-orgs/?hq_country=FR"), orgs_where("o.hq_country = 'FR'"));
    assert!(count("/api/reporting-orgs/?hq_country=FR") > 1);
    let activities = orgs_where(&publishes("activity"));
    let organisations = orgs_where(&publishes("organisation"));
    let both = orgs_where(&format!("{} AND {}", publishes("activity"), publishes("organisation")));
    assert!(both > 0 && both < activities, "the data tells the filters apart ({both}, {activities})");
    assert_eq!(count("/api/reporting-orgs/?file_type=iati-activities"), activities);
    assert_eq!(count("/api/reporting-orgs/?file_types=iati-organisations"), organisations, "the live alias");
    assert_eq!(count("/api/reporting-orgs/?file_type=both"), both);
    let kenya = orgs_where(
        "EXISTS (SELECT 1 FROM datasets d JOIN dataset_pipeline p ON p.dataset_id = d.id WHERE d.organisation_id = o.id AND d.listed AND p.filetype = 'activity' AND p.country = 'KE')",
    );
    assert!(kenya > 0);
    assert_eq!(count("/api/reporting-orgs/?recipient_country_code=KE"), kenya);
    assert_eq!(count("/api/reporting-orgs/?recipient_country_code=AN"), 0, "a withdrawn code is still a choice");

    // Search: whole words of the short and readable names, all of them, any case or accent.
    let found = |q: &str| ids(r.get(&format!("/api/reporting-orgs/?search={q}"), 200)["results"].as_array().unwrap());
    assert_eq!(found("developpement"), std::slice::from_ref(&r.accented_id));
    assert_eq!(found("AGENCE+fran%C3%A7aise"), std::slice::from_ref(&r.accented_id));
    assert_eq!(found("afd"), std::slice::from_ref(&r.accented_id), "the short name's words");
    assert!(found("agence+missing").is_empty(), "every word must match");
    assert!(found("develop").is_empty(), "whole words only");
    assert_eq!(count("/api/reporting-orgs/?search=publisher"), 40, "every imported short name has the word");

    // Datasets by organisation, by id or short name.
    let per_org = r
        .host
        .sql_int(&format!("SELECT count(*) FROM datasets WHERE listed AND organisation_id = '{}'", r.accented_id));
    assert_eq!(count(&format!("/api/datasets/?reporting_org__id={}", r.accented_id)), per_org);
    assert_eq!(count("/api/datasets/?reporting_org__short_name=afd"), per_org);

    // Refusals, in django-filter's words, under the parameter's name.
    assert_eq!(
        r.get("/api/reporting-orgs/?hq_country=XX", 400),
        json!({"hq_country": ["Select a valid choice. XX is not one of the available choices."]})
    );
    assert_eq!(
        r.get("/api/reporting-orgs/?file_type=csv&recipient_country_code=ZZ", 400),
        json!({"file_type": ["Select a valid choice. csv is not one of the available choices."],
               "recipient_country_code": ["Select a valid choice. ZZ is not one of the available choices."]})
    );
    assert_eq!(
        r.get("/api/datasets/?reporting_org__id=afd", 400),
        json!({"reporting_org__id": ["Enter a valid UUID."]})
    );
}

#[test]
fn the_pipelines_facts_reach_ckan_and_the_dashboard_as_they_commit_and_only_the_pipeline_reports_them() {
    let data = data_dir("pipeline-facts");
    let host = serve!(&data, test_env(&[("SPIN_VARIABLE_PIPELINE_CLIENTS", "other-bot pipeline-bot")]));
    let c = Client::new(&host);
    let admin = Who::user(1, "Admin");
    let superadmin = Who::superadmin(2);
    let bot = Who::machine("pipeline-bot").scopes("ryd ryd:dataset:pipeline");
    let oid = c.create_org(
        &admin,
        "kenya-aid",
        json!({"human_readable_name": "Kenya Aid", "organisation_identifier": "XM-KA-1"}),
    );
    c.approve_org(&superadmin, &oid, true);
    let dataset = |short: &str| c.create_dataset(&admin, &oid, short, short, "public");
    let (did, other) = (dataset("kenya-aid-activities"), dataset("kenya-aid-org"));
    let path = format!("/api/v1/datasets/{did}/pipeline");
    let dashboard =
        |q: &str| c.send("GET", &format!("/api/reporting-orgs/?{q}"), None, &[], None).expect(200)["count"].clone();
    assert_eq!(dashboard("recipient_country_code=UG"), 0);

    // The pipeline's client reports; CKAN and the Dashboard show it at once.
    let facts = json!({"filetype": "activity", "iati_version": "2.03", "activity_count": 12, "country": "UG", "language": "en",
                       "data_updated": "2025-09-02T14:38:34+02:00", "validation_status": "Warning",
                       "resource_hash": "06D18A58DB0E0157E93414EDE9091EB44897C108", "resource_size": 2048});
    let answer = c.call(&bot, "PUT", &path, Some(facts)).expect(200);
    assert_eq!(answer["data"]["facts"]["data_updated"], "2025-09-02 12:38:34", "kept in CKAN's form, in UTC");
    assert_eq!(answer["data"]["facts"]["resource_hash"], "06d18a58db0e0157e93414ede9091eb44897c108");
    let shown = c.send("GET", "/api/3/action/package_show?id=kenya-aid-activities", None, &[], None).expect(200);
    let extras: Vec<(String, String)> = shown["result"]["extras"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["key"].as_str().unwrap().to_string(), e["value"].as_str().unwrap_or("").to_string()))
        .collect();
    for (k, v) in
        [("filetype", "activity"), ("activity_count", "12"), ("country", "UG"), ("validation_status", "Warning")]
    {
        assert!(extras.contains(&(k.to_string(), v.to_string())), "{k}={v} in {extras:?}");
    }
    assert_eq!(shown["result"]["resources"][0]["size"], 2048);
    assert_eq!(dashboard("recipient_country_code=UG"), 1);
    assert_eq!(dashboard("file_type=iati-activities"), 1);
    assert_eq!(dashboard("file_type=both"), 0);

    // A left-out fact keeps its value, null clears one.
    let after = c.call(&bot, "PUT", &path, Some(json!({"validation_status": null, "activity_count": 13}))).expect(200);
    assert_eq!(after["data"]["facts"]["validation_status"], Value::Null);
    assert_eq!(after["data"]["facts"]["activity_count"], 13);
    assert_eq!(after["data"]["facts"]["country"], "UG");

    // A batch: all or nothing.
    let batch = json!({"datasets": [{"id": other, "filetype": "organisation"}, {"id": "00000000-0000-4000-8000-00000000dead", "filetype": "activity"}]});
    let refused = c.call(&bot, "PUT", "/api/v1/datasets/pipeline", Some(batch));
    refused.expect(400);
    assert!(refused.text.contains("datasets[1].id"), "{}", refused.text);
    assert_eq!(dashboard("file_type=both"), 0, "the refused batch wrote nothing");
    let batch = json!({"datasets": [{"id": other, "filetype": "organisation"}]});
    assert_eq!(
        c.call(&bot, "PUT", "/api/v1/datasets/pipeline", Some(batch)).expect(200)["data"]["datasets"][0]["facts"]
            ["filetype"],
        "organisation"
    );
    assert_eq!(dashboard("file_type=both"), 1);

    // Bad facts: every one named, nothing changed.
    let bad = c.call(
        &bot,
        "PUT",
        &path,
        Some(json!({"activity_count": -1, "country": "XX", "colour": "red", "filetype": "csv"})),
    );
    bad.expect(400);
    for field in ["activity_count", "country", "colour", "filetype"] {
        assert!(bad.text.contains(field), "{field} named: {}", bad.text);
    }
    assert_eq!(dashboard("recipient_country_code=UG"), 1);

    // Only superadmins and the listed clients, with the scope; a deleted or unknown dataset is a 404.
    c.call(&superadmin, "PUT", &path, Some(json!({"language": "fr"}))).expect(200);
    let forbidden = c.call(
        &Who::machine("stranger-bot").scopes("ryd ryd:dataset:pipeline"),
        "PUT",
        &path,
        Some(json!({"language": "de"})),
    );
    forbidden.expect(403);
    assert!(forbidden.text.contains("pipeline_clients"), "{}", forbidden.text);
    c.call(&admin, "PUT", &path, Some(json!({"language": "de"}))).expect(403);
    c.call(&Who::machine("pipeline-bot").scopes("ryd ryd:dataset"), "PUT", &path, Some(json!({"language": "de"})))
        .expect(403);
    c.send("PUT", &path, None, &[], Some(r#"{"language": "de"}"#)).expect(401);
    c.call(
        &bot,
        "PUT",
        "/api/v1/datasets/00000000-0000-4000-8000-00000000dead/pipeline",
        Some(json!({"language": "de"})),
    )
    .expect(404);
    let facts = c.call(&bot, "PUT", &path, Some(json!({}))).expect(200);
    assert_eq!(facts["data"]["facts"]["language"], "fr", "no refused request changed anything");

    // The organisation's record with `show_stats`: what the facts say of its public datasets.
    let record = |q: &str| c.send("GET", &format!("/api/reporting-orgs/kenya-aid/{q}"), None, &[], None);
    assert!(record("").expect(200).get("stats").is_none(), "stats only when asked");
    let with = record("?show_stats=true").expect(200);
    assert_eq!(
        with["stats"],
        json!({"datasets": 2, "activity_files": 1, "organisation_files": 1, "activities": 13, "file_size": 2048,
               "not_reported": 0, "latest_data_updated": "2025-09-02 12:38:34", "versions": {"2.03": 1}, "validation": {}}),
        "{with}"
    );
    assert_eq!(record("?show_stats=1&show_stats_large=true").expect(200)["stats"], with["stats"]);
    let refused = record("?show_stats=perhaps");
    refused.expect(400);
    assert_eq!(refused.json(), json!({"show_stats": ["Must be a valid boolean."]}));
    assert_eq!(
        host.sql_int(&format!(
            "SELECT count(*) FROM audit_events WHERE action = 'set_pipeline_facts' AND target_id = '{did}'"
        )),
        3,
        "each change audited, the empty report not"
    );
}

/// A mirror of the public registry that reads the feed and fetches what it names.
struct Mirror {
    cursor: String,
    datasets: std::collections::BTreeMap<String, Value>,
    orgs: std::collections::BTreeMap<String, Value>,
}

/// CKAN's record of a dataset or organisation, without what is derived from other records
/// (an organisation's package count changes with its datasets, which the feed names).
fn ckan_record(c: &Client, kind: &str, id: &str) -> Option<Value> {
    let action = if kind == "dataset" { "package_show" } else { "organization_show" };
    let a = c.send("GET", &format!("/api/3/action/{action}?id={id}"), None, &[], None);
    if a.status == 404 {
        return None;
    }
    let mut v = a.expect(200)["result"].clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("package_count");
    }
    Some(v)
}

impl Mirror {
    /// Follows the feed to its end, `limit` changes at a time; the number of changes read.
    fn follow(&mut self, c: &Client, limit: u32) -> usize {
        let mut read = 0;
        loop {
            let page = c
                .send("GET", &format!("/api/v1/changes?since={}&limit={limit}", self.cursor), None, &[], None)
                .expect(200);
            let data = &page["data"];
            for change in data["changes"].as_array().unwrap() {
                read += 1;
                let (kind, id) = (change["kind"].as_str().unwrap(), change["id"].as_str().unwrap());
                let map = if kind == "dataset" { &mut self.datasets } else { &mut self.orgs };
                match change["change"].as_str().unwrap() {
                    "created" | "updated" => match ckan_record(c, kind, id) {
                        Some(v) => {
                            map.insert(id.to_string(), v);
                        }
                        // Hidden since: a later change in the feed says so too.
                        None => {
                            map.remove(id);
                        }
                    },
                    "deleted" | "hidden" => {
                        map.remove(id);
                    }
                    other => panic!("unknown change {other}"),
                }
            }
            self.cursor = data["next"].as_str().unwrap().to_string();
            if data["more"] != true {
                return read;
            }
        }
    }
}

type Records = std::collections::BTreeMap<String, Value>;

/// Every public record, listed in full as a mirror without the feed must.
fn full_relist(c: &Client) -> (Records, Records) {
    let found = c.send("GET", "/api/3/action/package_search?rows=1000", None, &[], None).expect(200);
    let orgs = c.send("GET", "/api/3/action/organization_list?all_fields=true", None, &[], None).expect(200);
    (records(c, "dataset", &found["result"]["results"]), records(c, "organisation", &orgs["result"]))
}

/// Each listed record, read in full, by id.
fn records(c: &Client, kind: &str, listed: &Value) -> Records {
    let listed = listed.as_array().expect("a list");
    listed
        .iter()
        .map(|r| {
            let id = r["id"].as_str().expect("an id");
            (id.to_string(), ckan_record(c, kind, id).expect("a listed record reads"))
        })
        .collect()
}

#[test]
fn a_mirror_following_only_the_change_feed_ends_identical_to_a_full_relist() {
    let data = data_dir("mirror");
    let host = serve!(&data, test_env(&[]));
    let c = Client::new(&host);
    let admin = Who::user(1, "Admin");
    let superadmin = Who::superadmin(2);
    let org = |short: &str| c.create_org(&admin, short, json!({}));
    let approve = |oid: &str, yes: bool| c.approve_org(&superadmin, oid, yes);
    let dataset = |oid: &str, short: &str, visibility: &str| c.create_dataset(&admin, oid, short, short, visibility);
    let patch = |did: &str, body: Value| {
        c.call(&admin, "PATCH", &format!("/api/v1/datasets/{did}"), Some(body)).expect(200);
    };

    // A mirror made by a full listing, then following from `latest`.
    let a = org("alpha");
    approve(&a, true);
    let a1 = dataset(&a, "alpha-one", "public");
    let (datasets, orgs) = full_relist(&c);
    let latest = c.send("GET", "/api/v1/changes?limit=1", None, &[], None).expect(200)["data"]["latest"]
        .as_str()
        .unwrap()
        .to_string();
    let mut mirror = Mirror { cursor: latest, datasets, orgs };
    assert_eq!(mirror.datasets.len(), 1);

    // Creates, updates, renames, visibility both ways, withdrawals and deletions.
    let a2 = dataset(&a, "alpha-two", "private");
    let a3 = dataset(&a, "alpha-three", "public");
    patch(&a1, json!({"short_name": "alpha-first", "url": "https://data.example.org/moved.xml"}));
    patch(&a2, json!({"visibility": "public"}));
    patch(&a3, json!({"visibility": "private"}));
    c.call(&admin, "DELETE", &format!("/api/v1/datasets/{a2}"), None).expect(200);
    let b = org("beta");
    let b1 = dataset(&b, "beta-one", "public");
    approve(&b, true);
    c.call(
        &admin,
        "PATCH",
        &format!("/api/v1/reporting-orgs/{a}"),
        Some(json!({"human_readable_name": "Alpha, renamed"})),
    )
    .expect(200);
    let g = org("gamma");
    approve(&g, true);
    dataset(&g, "gamma-one", "public");
    approve(&g, false);
    let d = org("delta");
    approve(&d, true);
    dataset(&d, "delta-one", "public");
    c.call(&admin, "DELETE", &format!("/api/v1/reporting-orgs/{d}"), None).expect(200);
    let bot = Who::superadmin(3);
    c.call(&bot, "PUT", &format!("/api/v1/datasets/{b1}/pipeline"), Some(json!({"activity_count": 7}))).expect(200);

    let read = mirror.follow(&c, 3);
    assert!(read >= 12, "the feed named the changes ({read})");
    let (datasets, orgs) = full_relist(&c);
    assert_eq!(mirror.datasets, datasets, "datasets: the feed's mirror and a full listing agree");
    assert_eq!(mirror.orgs, orgs, "organisations: the feed's mirror and a full listing agree");
    assert!(mirror.datasets.contains_key(&b1) && !mirror.datasets.contains_key(&a3));
    assert_eq!(mirror.follow(&c, 3), 0, "nothing new: nothing to read");

    // The feed shows nothing that was never public, and refuses what it did not give.
    let all = c.send("GET", "/api/v1/changes?limit=1000", None, &[], None).expect(200);
    let history = |name: &str| -> Vec<String> {
        all["data"]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|ch| ch["name"] == name)
            .map(|ch| ch["change"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(history("gamma-one"), ["created", "hidden"], "an organisation unapproved hides its datasets");
    assert_eq!(history("delta-one"), ["created", "deleted"], "an organisation deleted deletes its datasets");
    assert_eq!(history("alpha-two"), ["created", "deleted"], "private, then public, then deleted");
    assert_eq!(history("gamma"), ["created", "hidden"]);
    let never_public = dataset(&a, "alpha-secret", "private");
    let after = c.send("GET", &format!("/api/v1/changes?since={}", mirror.cursor), None, &[], None).expect(200);
    assert!(!after.to_string().contains(&never_public), "a private dataset is not in the feed");
    for bad in ["since=42", "since=v1-zz", "limit=0", "limit=1001", "limit=x"] {
        let a = c.send("GET", &format!("/api/v1/changes?{bad}"), None, &[], None);
        assert_eq!(a.expect(400)["status"], "failed", "{bad}");
    }
}

#[test]
fn conditional_reads_answer_304_until_the_public_registry_changes() {
    let data = data_dir("conditional");
    let host = serve!(&data, test_env(&[]));
    let c = Client::new(&host);
    let admin = Who::user(1, "Admin");
    let oid = c.create_org(
        &admin,
        "cond",
        json!({"human_readable_name": "Conditional agency", "organisation_identifier": "XM-COND-1"}),
    );
    c.approve_org(&Who::superadmin(2), &oid, true);
    let dataset = |short: &str, visibility: &str| {
        c.create_dataset(&admin, &oid, short, &format!("{short} water"), visibility);
    };
    dataset("cond-one", "public");
    let paths = [
        "/api/reporting-orgs/",
        "/api/datasets/?page_size=10",
        "/api/v1/changes?limit=5",
        "/api/3/action/package_search?q=water",
        "/api/3/action/package_list",
        "/api/3/action/organization_list?all_fields=true",
    ];
    let get = |path: &str, tag: Option<&str>| {
        let headers: Vec<(&str, &str)> = tag.map(|t| vec![("if-none-match", t)]).unwrap_or_default();
        c.send("GET", path, None, &headers, None)
    };
    let tags: Vec<String> = paths
        .iter()
        .map(|p| {
            let a = get(p, None);
            a.expect(200);
            a.header("etag").unwrap_or_else(|| panic!("{p} has an ETag")).to_string()
        })
        .collect();
    let unchanged = |why: &str| {
        for (p, t) in paths.iter().zip(&tags) {
            let a = get(p, Some(t));
            assert_eq!(a.status, 304, "{p} {why}");
            assert!(a.text.is_empty(), "{p}: a 304 has no body");
            assert_eq!(a.header("etag"), Some(t.as_str()), "{p}");
        }
    };
    unchanged("with nothing changed");
    if let Some(stats) = host.stats() {
        for (p, t) in paths.iter().zip(&tags) {
            let before = stats.snapshot();
            get(p, Some(t));
            let statements = stats.snapshot().sqlite_statements - before.sqlite_statements;
            assert_eq!(statements, 1, "{p}: a 304 costs one SELECT (the schema's version checked in it)");
        }
        // So does a record on either read API, found by name.
        for p in [
            "/api/reporting-orgs/cond/",
            "/api/3/action/organization_show?id=cond",
            "/api/3/action/package_show?id=cond-one",
        ] {
            let before = stats.snapshot();
            get(p, None).expect(200);
            assert_eq!(stats.snapshot().sqlite_statements - before.sqlite_statements, 1, "{p}: one SELECT");
        }
    }
    dataset("cond-secret", "private");
    unchanged("after a change no reader can see");
    assert_eq!(get(paths[0], Some(&format!("W/{}, \"other\"", tags[0]))).status, 304, "weak tags and lists");

    dataset("cond-two", "public");
    for (p, t) in paths.iter().zip(&tags) {
        let a = get(p, Some(t));
        a.expect(200);
        assert_ne!(a.header("etag"), Some(t.as_str()), "{p}: a public change is a new tag");
    }
}

#[test]
fn a_rendered_page_is_read_again_until_the_next_public_change_and_never_after() {
    let data = data_dir("page-cache");
    let host = serve!(&data, test_env(&[]));
    let c = Client::new(&host);
    let admin = Who::user(1, "Admin");
    let oid = c.create_org(&admin, "kept", json!({"human_readable_name": "Kept agency"}));
    c.approve_org(&Who::superadmin(2), &oid, true);
    let one = c.create_dataset(&admin, &oid, "kept-one", "kept one", "public");
    let two = c.create_dataset(&admin, &oid, "kept-two", "kept two", "public");
    let get = |path: &str| c.send("GET", path, None, &[], None).expect(200);
    let lists = [
        "/api/reporting-orgs/",
        "/api/datasets/?page_size=1",
        "/api/datasets/?page_size=1&reporting_org__short_name=kept",
    ];
    let first: Vec<Value> = lists.iter().map(|p| get(p)).collect();
    assert!(host.sql_int("SELECT count(*) FROM list_pages") >= 3, "each page kept once rendered");
    for (p, before) in lists.iter().zip(&first) {
        if let Some(stats) = host.stats() {
            let at = stats.snapshot();
            assert_eq!(&get(p), before, "{p}: the kept page is the rendered one");
            let statements = stats.snapshot().sqlite_statements - at.sqlite_statements;
            assert_eq!(statements, 1, "{p}: a kept page costs one SELECT (the schema's version checked in it)");
        } else {
            assert_eq!(&get(p), before, "{p}");
        }
    }
    // So does a record, by short name or id.
    if let Some(stats) = host.stats() {
        for p in ["/api/reporting-orgs/kept/".to_string(), format!("/api/datasets/{one}")] {
            let at = stats.snapshot();
            get(&p);
            assert_eq!(stats.snapshot().sqlite_statements - at.sqlite_statements, 1, "{p}: one SELECT");
        }
    }
    // A query with parameters the list does not read is answered, not kept (made-up
    // parameters must not fill the cache).
    let kept = host.sql_int("SELECT count(*) FROM list_pages");
    assert_eq!(get("/api/reporting-orgs/?utm_source=x")["count"], 1);
    assert_eq!(host.sql_int("SELECT count(*) FROM list_pages"), kept);
    // Links are the request's own: another query string is another page.
    assert_eq!(first[1]["next"].as_str().unwrap().split('?').nth(1), Some("page=2&page_size=1"));
    assert!(first[2]["next"].as_str().unwrap().contains("reporting_org__short_name=kept"));

    // Renames reach every page that shows the name, a hidden dataset leaves them.
    c.call(
        &admin,
        "PATCH",
        &format!("/api/v1/reporting-orgs/{oid}"),
        Some(json!({"human_readable_name": "Renamed agency"})),
    )
    .expect(200);
    c.call(&admin, "PATCH", &format!("/api/v1/datasets/{one}"), Some(json!({"visibility": "private"}))).expect(200);
    c.call(&admin, "PATCH", &format!("/api/v1/datasets/{two}"), Some(json!({"short_name": "kept-second"}))).expect(200);
    let orgs = get(lists[0]);
    assert_eq!(orgs["results"][0]["human_readable_name"], "Renamed agency");
    assert_eq!(orgs["results"][0]["dataset_count"], 1);
    for list in &lists[1..] {
        let datasets = get(list);
        assert_eq!(datasets["count"], 1, "{list}");
        assert_eq!(datasets["next"], Value::Null, "{list}");
        assert_eq!(datasets["results"][0]["short_name"], "kept-second", "{list}");
    }
    // A change no reader can see keeps the pages (and their tags).
    let tag = c.send("GET", lists[0], None, &[], None).header("etag").map(String::from);
    c.create_dataset(&admin, &oid, "kept-secret", "kept secret", "private");
    let again = c.send("GET", lists[0], None, &[], None);
    assert_eq!(again.header("etag").map(String::from), tag);
    assert_eq!(again.json(), orgs);
}
