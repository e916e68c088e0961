//! The CKAN-compatible API, end to end: each downstream caller's calls replayed over
//! HTTP against the real `ckan-compat` component, and nothing hidden ever shown.

use ryd_e2e::*;
use serde_json::{json, Value};

struct Registry {
    host: Server,
    c: Client,
    /// Names and ids that must never appear in a CKAN answer.
    hidden: Vec<String>,
    public_org: String,
    public_org_id: String,
    public_dataset: String,
    public_dataset_id: String,
}

fn registry(name: &str) -> Registry {
    let data = data_dir(name);
    let host = serve!(&data, test_env(&[]));
    let c = Client::new(&host);
    let admin = Who::user(1, "Admin");
    let superadmin = Who::superadmin(2);
    let org = |short: &str, iati: &str| c.create_org(&admin, short, json!({"organisation_identifier": iati}));
    let approve = |oid: &str| c.approve_org(&superadmin, oid, true);
    let dataset = |oid: &str, short: &str, visibility: &str| {
        c.create_dataset(&admin, oid, short, &format!("{short} water sanitation"), visibility)
    };
    let public_org_id = org("aidagency", "XM-DAC-41114");
    approve(&public_org_id);
    let public_dataset_id = dataset(&public_org_id, "aidagency-activities", "public");
    dataset(&public_org_id, "aidagency-orgfile", "public");
    let private_id = dataset(&public_org_id, "aidagency-secret", "private");
    let deleted_id = dataset(&public_org_id, "aidagency-gone", "public");
    c.call(&admin, "DELETE", &format!("/api/v1/datasets/{deleted_id}"), None).expect(200);
    let unapproved_id = org("notyet", "XM-NOT-1");
    let unapproved_ds = dataset(&unapproved_id, "notyet-activities", "public");
    let deleted_org = org("closed", "XM-CLOSED-1");
    approve(&deleted_org);
    let closed_ds = dataset(&deleted_org, "closed-activities", "public");
    c.call(&admin, "DELETE", &format!("/api/v1/reporting-orgs/{deleted_org}"), None).expect(200);
    host.sql_exec(&format!(
        "INSERT INTO dataset_pipeline (dataset_id, filetype, iati_version, activity_count, resource_hash, resource_size) VALUES \
         ('{public_dataset_id}', 'activity', '2.03', 42, 'abc123', 1024); \
         INSERT INTO dataset_pipeline (dataset_id, filetype) SELECT id, 'organisation' FROM datasets WHERE short_name = 'aidagency-orgfile';"
    ));
    let hidden = vec![
        private_id,
        "aidagency-secret".into(),
        deleted_id,
        "aidagency-gone".into(),
        unapproved_id,
        "notyet".into(),
        unapproved_ds,
        deleted_org,
        "closed-activities".into(),
        closed_ds,
        "XM-CLOSED-1".into(),
        "XM-NOT-1".into(),
    ];
    Registry {
        host,
        c,
        hidden,
        public_org: "aidagency".into(),
        public_org_id,
        public_dataset: "aidagency-activities".into(),
        public_dataset_id,
    }
}

impl Registry {
    /// Every answer is checked for hidden records.
    fn get(&self, path: &str) -> Answer {
        let a = self.c.send("GET", path, None, &[], None);
        self.check(path, &a);
        a
    }
    fn post_json(&self, path: &str, body: Value) -> Answer {
        let a = self.c.send("POST", path, None, &[], Some(&body.to_string()));
        self.check(path, &a);
        a
    }
    fn post_form(&self, path: &str, form: &str) -> Answer {
        let a = self.c.send("POST", path, None, &[("content-type", "application/x-www-form-urlencoded")], Some(form));
        self.check(path, &a);
        a
    }
    fn check(&self, path: &str, a: &Answer) {
        for h in &self.hidden {
            assert!(!a.text.contains(h.as_str()), "{path} shows hidden {h}: {}", a.text);
        }
    }
}

fn result(a: &Answer) -> Value {
    let body = a.expect(200);
    assert_eq!(body["success"], true, "{body}");
    assert!(body["help"].as_str().unwrap().contains("/api/3/action/help_show?name="));
    body["result"].clone()
}

#[test]
fn the_callers_calls_answer_as_ckan_did() {
    let r = registry("ckan-callers");
    let (org, ds) = (r.public_org.clone(), r.public_dataset.clone());

    // ckanapi: JSON POST to /api/action/<name> (no /3).
    let res = result(
        &r.post_json("/api/action/package_search", json!({"fq": format!("organization:{org}"), "rows": 1000000})),
    );
    assert_eq!(res["count"], 2);
    // Registry Refresher: organization_list, then package_search by organization; reads resources[0].url.
    let orgs = result(&r.post_json("/api/3/action/organization_list", json!({})));
    assert_eq!(orgs, json!([org]));
    let res = result(
        &r.post_json("/api/3/action/package_search", json!({"fq": format!("organization:\"{org}\""), "rows": 1000000})),
    );
    let urls: Vec<&str> =
        res["results"].as_array().unwrap().iter().map(|d| d["resources"][0]["url"].as_str().unwrap()).collect();
    assert!(urls.contains(&"https://data.example.org/aidagency-activities.xml"), "{urls:?}");
    // iatikit: pages of 1000, then group_show.
    let page = result(&r.get("/api/3/action/package_search?start=0&rows=1000"));
    assert_eq!(page["count"], 2);
    let group = result(&r.get(&format!("/api/3/action/group_show?id={org}")));
    assert_eq!(group["name"], org.as_str());
    // d-portal: group_list, group_show with historical names; reads these fields.
    assert_eq!(result(&r.get("/api/3/action/group_list")), json!([org]));
    let g = result(&r.get(&format!("/api/3/action/group_show?show_historical_publisher_names=true&id={org}")));
    assert_eq!(g["publisher_iati_id"], "XM-DAC-41114");
    assert_eq!(g["package_count"], 2);
    assert_eq!(g["title"], "The aidagency agency");
    assert_eq!(g["publisher_source_type"], "primary_source");
    assert_eq!(g["historical_publisher_names"], json!([]));
    // IATI bulk data service: count with rows=1, then pages; organisations with all fields.
    let one = result(&r.get("/api/3/action/package_search?rows=1"));
    assert_eq!((one["count"].as_i64(), one["results"].as_array().unwrap().len()), (Some(2), 1));
    let all = result(&r.get("/api/3/action/organization_list?all_fields=true&include_extras=true&include_tags=true"));
    assert_eq!(all[0]["id"], r.public_org_id.as_str());
    assert_eq!(all[0]["name"], org.as_str());
    assert!(all[0]["extras"].as_array().unwrap().iter().any(|e| e["key"] == "publisher_iati_id"));
    let d = result(&r.get(&format!("/api/3/action/package_show?id={ds}")));
    assert_eq!(d["organization"]["id"], r.public_org_id.as_str());
    assert_eq!(d["organization"]["name"], org.as_str());
    let extras: std::collections::BTreeMap<String, String> = d["extras"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["key"].as_str().unwrap().into(), e["value"].as_str().unwrap().into()))
        .collect();
    assert_eq!(extras["filetype"], "activity");
    assert_eq!(extras["iati_version"], "2.03");
    assert_eq!(extras["activity_count"], "42");
    // The dataset shape, field by field.
    assert_eq!(d["id"], r.public_dataset_id.as_str());
    assert_eq!(
        (d["private"].clone(), d["state"].clone(), d["type"].clone()),
        (json!(false), json!("active"), json!("dataset"))
    );
    assert_eq!((d["num_resources"].clone(), d["license_id"].clone()), (json!(1), json!("cc-by")));
    assert_eq!(d["license_title"], "Creative Commons Attribution");
    let res0 = &d["resources"][0];
    assert_eq!(
        (res0["format"].clone(), res0["hash"].clone(), res0["size"].clone()),
        (json!("IATI-XML"), json!("abc123"), json!(1024))
    );
    assert_eq!(res0["package_id"], r.public_dataset_id.as_str());
    assert_eq!(d["publisher_iati_id"], "XM-DAC-41114");
    assert_eq!(d["publisher_country"], "KE");
    assert_eq!(d["publisher_organization_type"], "21");
    for key in
        ["metadata_created", "metadata_modified", "tags", "groups", "num_tags", "notes", "owner_org", "title", "name"]
    {
        assert!(d.get(key).is_some(), "{key} missing");
    }
    // IATI Dashboard: all fields, limit=50 and an offset loop.
    let first = result(&r.get("/api/3/action/organization_list?all_fields=true&include_extras=true&limit=50&offset=0"));
    assert_eq!(first.as_array().unwrap().len(), 1);
    assert_eq!(result(&r.get("/api/3/action/organization_list?all_fields=true&limit=50&offset=50")), json!([]));
    // A form POST, and the same action under both prefixes.
    let f = result(&r.post_form("/api/action/package_show", &format!("id={}", r.public_dataset_id)));
    assert_eq!(f["name"], ds.as_str());
    assert_eq!(result(&r.get(&format!("/api/action/package_show?id={ds}"))), d);
}

#[test]
fn search_sort_facets_and_paging() {
    let r = registry("ckan-search");
    let q = result(&r.get("/api/3/action/package_search?q=water%20aidagency"));
    assert_eq!(q["count"], 2);
    let none = result(&r.get("/api/3/action/package_search?q=nothinglikethis"));
    assert_eq!(none["count"], 0);
    let ft = result(&r.get("/api/3/action/package_search?fq=extras_filetype:organisation"));
    assert_eq!(ft["results"][0]["name"], "aidagency-orgfile");
    let by_name = result(&r.get("/api/3/action/package_search?sort=name%20desc"));
    assert_eq!(by_name["results"][0]["name"], "aidagency-orgfile");
    let by_title = result(&r.get("/api/3/action/package_search?sort=title_string%20asc"));
    assert_eq!(by_title["results"][0]["name"], "aidagency-activities");
    result(&r.get("/api/3/action/package_search?sort=metadata_modified%20desc"));
    let facets = result(
        &r.get("/api/3/action/package_search?facet.field=%5B%22organization%22,%22extras_filetype%22%5D&rows=0"),
    );
    assert_eq!(facets["facets"]["organization"]["aidagency"], 2);
    assert_eq!(facets["search_facets"]["extras_filetype"]["items"].as_array().unwrap().len(), 2);
    assert_eq!(facets["results"], json!([]));
    let page2 = result(&r.get("/api/3/action/package_search?rows=1&start=1&sort=name%20asc"));
    assert_eq!(page2["results"][0]["name"], "aidagency-orgfile");
    assert_eq!(result(&r.get("/api/3/action/package_list")), json!(["aidagency-activities", "aidagency-orgfile"]));
    assert_eq!(result(&r.get("/api/3/action/package_list?limit=1&offset=1")), json!(["aidagency-orgfile"]));
    let ac = result(&r.get("/api/3/action/organization_autocomplete?q=aid"));
    assert_eq!(ac[0]["name"], "aidagency");
    assert_eq!(result(&r.get("/api/3/action/tag_list")), json!([]));
    assert!(result(&r.get("/api/3/action/license_list")).as_array().unwrap().iter().any(|l| l["id"] == "cc-by"));
    let status = result(&r.get("/api/3/action/status_show"));
    for key in ["ckan_version", "site_title", "site_url", "extensions"] {
        assert!(status.get(key).is_some());
    }
    assert_eq!(result(&r.get("/api/3/action/site_read")), json!(true));
    assert!(result(&r.get("/api/3/action/help_show?name=package_search")).is_string());
    let with_ds =
        result(&r.get(&format!("/api/3/action/organization_show?id={}&include_datasets=true", r.public_org_id)));
    assert_eq!(with_ds["packages"].as_array().unwrap().len(), 2);
}

#[test]
fn errors_answer_with_ckans_types_and_statuses() {
    let r = registry("ckan-errors");
    let err = |a: &Answer, status: u16, kind: &str| {
        let body = a.expect(status);
        assert_eq!(body["success"], false);
        assert_eq!(body["error"]["__type"], kind, "{body}");
        body
    };
    let b = err(&r.get("/api/3/action/no_such_action"), 400, "Bad request - Action Error");
    assert_eq!(b["error"]["message"], "Bad request: Action name not known: no_such_action");
    let b = err(&r.post_json("/api/action/package_create", json!({"name": "x"})), 403, "Authorization Error");
    assert!(b["error"]["message"].as_str().unwrap().contains("POST /api/v1/datasets"));
    err(&r.post_json("/api/3/action/member_create", json!({})), 403, "Authorization Error");
    err(&r.get("/api/3/action/package_show?id=nope"), 404, "Not Found Error");
    err(&r.get("/api/3/action/package_show?id=aidagency-secret"), 404, "Not Found Error");
    err(&r.get("/api/3/action/organization_show?id=notyet"), 404, "Not Found Error");
    err(&r.get("/api/3/action/package_search?fq=colour:red"), 400, "Search Query Error");
    err(&r.get("/api/3/action/package_search?sort=colour%20desc"), 400, "Search Query Error");
    let b = err(&r.get("/api/3/action/package_search?rows=many"), 409, "Validation Error");
    assert_eq!(b["error"]["rows"], json!(["Invalid integer"]));
    err(
        &r.c.send("POST", "/api/3/action/package_search", None, &[], Some("{not json")),
        400,
        "Bad request - JSON Error",
    );
    err(&r.get("/api/3/action/package_show"), 409, "Validation Error");
    // CKAN's locale prefix answers as without it; anything else there is not found.
    let plain = r.get("/api/3/action/package_list").expect(200);
    assert_eq!(r.get("/en/api/3/action/package_list").expect(200), plain);
    assert_eq!(r.get("/fr/api/action/package_list").expect(200), plain);
    assert_eq!(
        result(&r.get(&format!("/es/api/3/action/organization_show?id={}", r.public_org)))["name"],
        r.public_org.as_str()
    );
    err(&r.get("/eng/api/3/action/package_list"), 404, "Not Found Error");
    err(&r.get("/EN/api/3/action/package_list"), 404, "Not Found Error");
    // rows above 1000 are clamped, not refused.
    result(&r.get("/api/3/action/package_search?rows=1000000"));
    if let Some(stats) = r.host.stats() {
        assert_eq!(stats.get(&stats.traps), 0);
    }
}

#[test]
fn the_limited_ckan_compatible_layer_answers_as_iatis_yaml() {
    let r = registry("ckan-limited");
    let s = r.get("/api/limited-ckan-compatible/package_search?rows=1&start=0").expect(200);
    assert_eq!(s["result"]["count"], 2);
    assert_eq!(s["result"]["results"].as_array().unwrap().len(), 1);
    assert!(s["next"].as_str().unwrap().contains("start=1&rows=1"));
    assert_eq!(s["previous"], Value::Null);
    let l = r.get("/api/limited-ckan-compatible/package_list?limit=1").expect(200);
    assert_eq!((l["count"].clone(), l["result"].clone()), (json!(2), json!(["aidagency-activities"])));
    let o = r.get("/api/limited-ckan-compatible/organization_list?all_fields=true").expect(200);
    assert_eq!(o["result"][0]["name"], "aidagency");
    let os = r.post_json("/api/limited-ckan-compatible/organization_show", json!({"id": "aidagency"})).expect(200);
    assert_eq!(
        (os["success"].clone(), os["result"]["publisher_iati_id"].clone()),
        (json!(true), json!("XM-DAC-41114"))
    );
    let ps = r.get(&format!("/api/limited-ckan-compatible/package_show?id={}", r.public_dataset)).expect(200);
    assert_eq!(ps["result"]["name"], r.public_dataset.as_str());
    r.get("/api/limited-ckan-compatible/package_show?id=nope").expect(404);
    r.get("/api/limited-ckan-compatible/status_show").expect(400);
}

/// The real `ckanapi` Python client (from PyPI, into the tests' own virtual environment):
/// a client that cannot be had fails this test rather than skipping it.
#[test]
fn the_ckanapi_python_client_works_unchanged() {
    let r = registry("ckanapi");
    let script = root().join("tests/ckanapi_check.py");
    let out = std::process::Command::new(python())
        .arg(&script)
        .args([r.c.base.as_str(), r.public_org.as_str(), r.public_dataset.as_str()])
        .output()
        .expect("the tests' Python runs");
    assert!(
        out.status.success(),
        "ckanapi check failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn package_search_takes_a_metadata_modified_range_as_solr_writes_it() {
    let r = registry("ckan-modified");
    let search = |fq: &str| {
        let path = format!(
            "/api/3/action/package_search?fq={}&sort=metadata_modified+asc&rows=100",
            ryd_api::http::percent_encode(fq)
        );
        result(&r.get(&path))
    };
    let modified = |page: &Value| -> Vec<String> {
        page["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["metadata_modified"].as_str().unwrap().to_string())
            .collect()
    };
    let all = search("metadata_modified:[* TO *]");
    let n = all["count"].as_i64().unwrap();
    assert!(n >= 2, "{all}");
    let times = modified(&all);
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "sort=metadata_modified asc");

    // A later change: only it is after the earlier time.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let admin = Who::user(1, "Admin");
    let path = format!("/api/v1/datasets/{}", r.public_dataset_id);
    r.c.call(&admin, "PATCH", &path, Some(json!({"human_readable_name": "Renamed water"}))).expect(200);
    let before = format!("{}Z", times.last().unwrap());
    let after = search(&format!("metadata_modified:{{{before} TO *]"));
    assert_eq!(after["count"], 1, "{after}");
    assert_eq!(after["results"][0]["name"], r.public_dataset.as_str());
    assert!(search(&format!("metadata_modified:[{before} TO *]"))["count"].as_i64().unwrap() >= 1);
    assert_eq!(search(&format!("metadata_modified:[* TO {before}]"))["count"].as_i64().unwrap(), n - 1);
    assert_eq!(search("metadata_modified:[* TO 2000-01-01T00:00:00Z]")["count"], 0);
    // Many datasets by id at once (a mirror fetching what the change feed named).
    let ids: Vec<String> =
        all["results"].as_array().unwrap().iter().take(2).map(|d| d["id"].as_str().unwrap().to_string()).collect();
    let by_id = search(&format!("id:(\"{}\" OR {}) AND metadata_modified:[* TO *]", ids[0], ids[1]));
    assert_eq!(by_id["count"], 2, "{by_id}");
    assert_eq!(search("organization:nobody AND metadata_modified:[2000-01-01T00:00:00Z TO *]")["count"], 0);

    let refused = r.get(&format!(
        "/api/3/action/package_search?fq={}",
        ryd_api::http::percent_encode("metadata_modified:[NOW-1DAY TO NOW]")
    ));
    let body = refused.expect(400);
    assert_eq!(body["error"]["__type"], "Search Query Error", "{body}");
}

#[test]
fn every_name_and_the_whole_registry_of_a_long_registry() {
    let data = data_dir("ckan-long-list");
    let dump = data.join("dump.jsonl");
    let lines: Vec<String> = ryd_ckan::synthetic::registry(30, 2_500, 11).map(|v| v.to_string()).collect();
    std::fs::write(&dump, lines.join("\n")).unwrap();
    ryd_host::import::import_files(&data.join("sqlite_db.db"), &[dump.to_string_lossy().into_owned()]).unwrap();
    let all: Vec<String> = {
        let db = rusqlite::Connection::open(data.join("sqlite_db.db")).unwrap();
        let mut q = db.prepare("SELECT short_name FROM datasets WHERE listed ORDER BY short_name").unwrap();
        q.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert!(all.len() > 2_000, "{}", all.len());
    let host = serve!(&data, test_env(&[]));
    let c = Client::new(&host);
    let names = |path: &str| -> Vec<String> {
        let a = c.send("GET", path, None, &[], None);
        let body = a.expect(200);
        assert_eq!(body["success"], true, "{path}");
        serde_json::from_value(body["result"].clone()).unwrap()
    };
    // CKAN 2.11: no limit (or 0) is every name; a limit is that many, uncapped.
    let everything = c.send("GET", "/api/3/action/package_list", None, &[], None);
    assert_eq!(everything.header("transfer-encoding"), Some("chunked"), "{:?}", everything.headers);
    assert!(everything.header("etag").is_some());
    assert_eq!(names("/api/3/action/package_list"), all);
    assert_eq!(names("/en/api/action/package_list?limit=0"), all);
    assert_eq!(names("/api/3/action/package_list?limit=1800&offset=100"), all[100..1900]);
    // Conditional as before: the entity tag read before the first page.
    let tag = everything.header("etag").unwrap().to_string();
    let again = c.send("GET", "/api/3/action/package_list", None, &[("if-none-match", &tag)], None);
    assert_eq!(again.status, 304);

    // The whole registry in one read, gzip-compressed as it leaves: every public dataset
    // as package_show shapes it, after the change feed's cursor.
    let zipped = c.send_bytes("GET", "/api/registry.jsonl", &[("accept-encoding", "gzip")]);
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert_eq!(zipped.header("transfer-encoding"), Some("chunked"));
    let mut plain = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&zipped.body[..]), &mut plain).unwrap();
    let lines: Vec<Value> = plain.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["type"], "registry_dump");
    let feed = c.send("GET", "/api/v1/changes", None, &[], None).expect(200);
    assert_eq!(lines[0]["latest"], feed["data"]["latest"], "the cursor a mirror follows the feed from");
    let dumped: Vec<&str> =
        lines[1..].iter().filter(|l| l["is_organization"] != true).map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(dumped, all);
    let shown = c.send("GET", &format!("/api/3/action/package_show?id={}", all[1234]), None, &[], None).expect(200);
    assert_eq!(lines.iter().find(|l| l["name"] == all[1234].as_str()), Some(&shown["result"]));
    let plain_answer = c.send("GET", "/api/registry.jsonl", None, &[], None);
    assert_eq!(plain_answer.text, plain, "the same lines uncompressed");
    let tag = zipped.header("etag").unwrap().to_string();
    let again =
        c.send("GET", "/api/registry.jsonl", None, &[("if-none-match", &tag), ("accept-encoding", "gzip")], None);
    assert_eq!(again.status, 304);
    let plain_tag = plain_answer.header("etag").unwrap();
    assert_ne!(plain_tag, tag, "each coding its own validator");
    assert_eq!(c.send("GET", "/api/registry.jsonl", None, &[("if-none-match", plain_tag)], None).status, 304);

    // Answers of many kilobytes, whole or streamed, as fast on a connection kept alive as
    // on a new one: none waits on the client's delayed acknowledgement between its writes.
    for path in [
        "/api/3/action/package_list?limit=1000",
        "/api/3/action/package_list",
        "/api/3/action/package_search?rows=50",
        "/api/3/action/organization_list?all_fields=true",
        "/api/registry.jsonl",
    ] {
        let fresh = c.median_get(path, 9, false);
        let reused = c.median_get(path, 9, true);
        assert!(reused < fresh * 2, "{path}: {reused:?} a request on a kept-alive connection, {fresh:?} on a new one");
    }
}
