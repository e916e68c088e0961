//! What the outbox adds to a write, in statements (each one a round trip on libSQL),
//! counted by sqld itself (its Prometheus counter) under the project's host here and under
//! real Spin from `tests/spin.rs`. Every caller's token is verified once beforehand, so a
//! write's count is the write's alone. Printed, and held: one INSERT per person told.

use ryd_e2e::*;
use serde_json::{json, Value};

#[test]
fn what_the_outbox_adds_to_a_write_in_statements() {
    let data = data_dir("outbox-cost");
    let shared = SharedState::start(&data);
    let server = serve_on_shared(module_path!(), &data, test_env(&[]), &shared);
    let c = Client::new(&server);
    let people: Vec<Who> = (1..=5).map(|n| Who::user(n, &format!("Person{n}"))).collect();
    // One token each, verified and cached by its first request.
    let tokens: Vec<String> = people.iter().map(Signed::token).collect();
    let call = |i: usize, method: &str, path: &str, body: Option<Value>| {
        let b = body.map(|b| b.to_string());
        c.send(method, path, Some(&tokens[i]), &[], b.as_deref())
    };
    // The token cache is per component: each token is verified in `users` too.
    for (i, who) in people.iter().enumerate() {
        call(i, "GET", "/api/v1/access-check", None).expect(200);
        call(i, "GET", &format!("/api/v1/users/{}/roles", who.uid), None).expect(200);
    }
    let oid = call(
        0,
        "POST",
        "/api/v1/reporting-orgs",
        Some(json!({"short_name": "cost-org", "human_readable_name": "Cost",
        "contact_email": "a@example.org", "hq_country": "KE", "organisation_identifier": "XM-cost-org"})),
    )
    .expect(201)["data"]["id"]
        .as_str()
        .expect("an id")
        .to_string();
    let join = |i: usize| {
        call(i, "POST", &format!("/api/v1/users/{}/reporting-org", people[i].uid), Some(json!({"oid": oid})))
            .expect(200);
    };
    let set_role = |i: usize, role: &str| {
        let path = format!("/api/v1/users/{}/reporting-org/{oid}", people[i].uid);
        call(0, "PUT", &path, Some(json!({"role": role}))).expect(200);
    };
    // sqld counts a statement a moment after it answers: read once the count stands still.
    let settled = || {
        let mut last = shared.statement_count();
        loop {
            std::thread::sleep(std::time::Duration::from_millis(300));
            let now = shared.statement_count();
            if now == last {
                return now;
            }
            last = now;
        }
    };
    let statements = |write: &dyn Fn()| {
        let before = settled();
        write();
        settled() - before
    };
    let one_admin = statements(&|| join(1));
    set_role(1, "admin");
    join(2);
    set_role(2, "admin");
    let three_admins = statements(&|| join(3));
    // The same write telling nobody: a member leaving (their own DELETE).
    set_role(3, "editor");
    let nobody = statements(&|| {
        call(3, "DELETE", &format!("/api/v1/users/{}/reporting-org/{oid}", people[3].uid), None).expect(200);
    });
    eprintln!(
        "\nstatements per write ({}): a join request telling one admin {one_admin}, telling three {three_admins}; \
         a member leaving (tells nobody) {nobody}",
        module_path!()
    );
    assert_eq!(three_admins - one_admin, 2, "one INSERT per admin told");
}
