//! The outbox's leases against real SQLite: claims never overlap, a lapsed lease frees its
//! rows, a lost lease cannot mark, failures retry then give up with their reason.

use ryd_store::migrate;
use ryd_store::native::NativeSql;
use ryd_store::outbox::{backlog, claim, enqueue, mark_failed, mark_sent, unsent, Backlog, NewMessage};

fn db_with(n: usize) -> NativeSql {
    let db = NativeSql::in_memory();
    migrate(&db).unwrap();
    for i in 0..n {
        let m = NewMessage {
            id: format!("m{i}"),
            channel: "email".into(),
            event: "join_requested".into(),
            recipient: format!("r{i}@example.org"),
            subject: "s".into(),
            ..Default::default()
        };
        enqueue(&db, &m, 1_000 + i as i64).unwrap();
    }
    db
}

fn ids(c: &[ryd_store::outbox::Claimed]) -> Vec<String> {
    c.iter().map(|c| c.message.id.clone()).collect()
}

#[test]
fn claims_never_overlap_and_a_lapsed_lease_frees_its_rows() {
    let db = db_with(5);
    let now = 10_000;
    let a = claim(&db, "email", "a", now, now + 60_000, 3).unwrap();
    assert_eq!(ids(&a), ["m0", "m1", "m2"]);
    let b = claim(&db, "email", "b", now, now + 60_000, 10).unwrap();
    assert_eq!(ids(&b), ["m3", "m4"]);
    assert!(claim(&db, "email", "c", now, now + 60_000, 10).unwrap().is_empty());
    assert!(claim(&db, "webhook", "c", now, now + 60_000, 10).unwrap().is_empty(), "another channel's rows");
    // b finishes; a dies holding its rows.
    for c in &b {
        assert!(mark_sent(&db, c.seq, "b", now + 1).unwrap());
    }
    assert!(!mark_sent(&db, a[0].seq, "b", now + 1).unwrap(), "not b's lease");
    // Until a's lease ends its rows are a's; then they are due again, counted as a second attempt.
    assert!(claim(&db, "email", "c", now + 59_999, now + 120_000, 10).unwrap().is_empty());
    let c = claim(&db, "email", "c", now + 60_000, now + 120_000, 10).unwrap();
    assert_eq!(ids(&c), ["m0", "m1", "m2"]);
    assert!(c.iter().all(|c| c.attempts == 2));
    assert!(!mark_sent(&db, c[0].seq, "a", now + 60_001).unwrap(), "a lost its lease: it cannot mark");
    assert!(mark_sent(&db, c[0].seq, "c", now + 60_001).unwrap());
    assert!(!mark_sent(&db, c[0].seq, "c", now + 60_002).unwrap(), "sent once");
    assert_eq!(
        backlog(&db).unwrap(),
        Backlog { pending: 2, retrying: 0, given_up: 0, sent: 3, oldest_pending_at: Some(1_001) }
    );
}

#[test]
fn a_failure_waits_its_backoff_and_a_give_up_keeps_its_reason() {
    let db = db_with(1);
    let held = claim(&db, "email", "w", 5_000, 65_000, 1).unwrap();
    assert!(mark_failed(&db, held[0].seq, "w", 5_001, "421 try later", Some(35_000)).unwrap());
    assert!(claim(&db, "email", "w", 34_999, 95_000, 1).unwrap().is_empty(), "not before its backoff");
    let again = claim(&db, "email", "w", 35_000, 95_000, 1).unwrap();
    assert_eq!(again[0].attempts, 2);
    assert_eq!(backlog(&db).unwrap().retrying, 1);
    assert!(mark_failed(&db, again[0].seq, "w", 35_001, "550 no such user", None).unwrap());
    assert!(claim(&db, "email", "w", i64::MAX / 2, i64::MAX / 2, 1).unwrap().is_empty(), "given up for good");
    let b = backlog(&db).unwrap();
    assert_eq!((b.pending, b.given_up, b.oldest_pending_at), (0, 1, None));
    let listed = unsent(&db, 10).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_error.as_deref(), Some("550 no such user"));
    assert_eq!(listed[0].given_up_at, Some(35_001));
}

#[test]
fn backoff_doubles_up_to_an_hour() {
    use ryd_store::outbox::retry_at;
    assert_eq!(retry_at(0, 1, 30_000), 30_000);
    assert_eq!(retry_at(0, 2, 30_000), 60_000);
    assert_eq!(retry_at(0, 5, 30_000), 480_000);
    assert_eq!(retry_at(0, 9, 30_000), 3_600_000);
    assert_eq!(retry_at(0, 60, 30_000), 3_600_000);
}

#[test]
fn one_batch_marks_each_as_its_send_went() {
    use ryd_store::outbox::{deliver_batch, Delivery, Failure};
    let db = db_with(4);
    let d = Delivery { channel: "email", owner: "w", batch: 3, lease_ms: 60_000, backoff_ms: 30_000, max_attempts: 2 };
    let clock = std::cell::Cell::new(10_000);
    let now = || clock.get();
    let mut send = |c: &ryd_store::outbox::Claimed| match c.message.id.as_str() {
        "m0" => Ok(()),
        "m1" => Err(Failure { permanent: false, reason: "421 busy".into() }),
        _ => Err(Failure { permanent: true, reason: "550 no such user".into() }),
    };
    let b = deliver_batch(&db, &d, &now, &mut send).unwrap();
    assert_eq!((b.claimed, b.sent, b.retrying, b.given_up, b.late), (3, 1, 1, 1, 0));
    assert_eq!(
        b.failures.iter().map(|f| (f.id.as_str(), f.given_up)).collect::<Vec<_>>(),
        [("m1", false), ("m2", true)]
    );
    // m1 waits its backoff; m3 (beyond the batch) is next.
    let b = deliver_batch(&db, &d, &now, &mut send).unwrap();
    assert_eq!((b.claimed, b.given_up), (1, 1));
    assert_eq!(b.failures[0].id, "m3");
    assert_eq!(deliver_batch(&db, &d, &now, &mut send).unwrap().claimed, 0, "nothing due");
    // Its second attempt is its last (max_attempts 2): given up though the failure may pass.
    clock.set(10_000 + 30_000);
    let b = deliver_batch(&db, &d, &now, &mut send).unwrap();
    assert_eq!(
        b.failures.iter().map(|f| (f.id.as_str(), f.attempts, f.given_up)).collect::<Vec<_>>(),
        [("m1", 2, true)]
    );
    assert_eq!(
        backlog(&db).unwrap(),
        Backlog { pending: 0, retrying: 0, given_up: 3, sent: 1, oldest_pending_at: None }
    );
}

#[test]
fn a_send_that_outlives_its_lease_is_counted_late() {
    use ryd_store::outbox::{deliver_batch, Delivery};
    let db = db_with(1);
    let d =
        Delivery { channel: "email", owner: "slow", batch: 1, lease_ms: 1_000, backoff_ms: 30_000, max_attempts: 10 };
    let clock = std::cell::Cell::new(5_000);
    let now = || clock.get();
    let b = deliver_batch(&db, &d, &now, &mut |_| {
        // Another worker takes the row once the lease has ended, before this send returns.
        clock.set(6_000);
        assert_eq!(claim(&db, "email", "other", 6_000, 66_000, 1).unwrap().len(), 1);
        Ok(())
    })
    .unwrap();
    assert_eq!((b.sent, b.late), (1, 1));
}

mod webhooks {
    use ryd_store::native::NativeSql;
    use ryd_store::webhooks::{self, Webhook};
    use ryd_store::{migrate, Sql};

    fn db() -> NativeSql {
        let db = NativeSql::in_memory();
        migrate(&db).unwrap();
        db.execute(
            "INSERT INTO organisations (id, short_name, human_readable_name, registry_approved, created_date) VALUES ('o1', 'one', 'One', 1, 'now')",
            &[],
        )
        .unwrap();
        db
    }

    fn hook(db: &NativeSql, id: &str, events: &str) {
        let w = Webhook {
            id: id.into(),
            organisation_id: "o1".into(),
            url: "https://tool.example.org/hook".into(),
            events: events.into(),
            created_at: 1,
            created_by: "u1".into(),
            failures: 0,
            disabled_at: None,
            disabled_reason: None,
        };
        webhooks::insert(db, &w, "whsec_c2VjcmV0").unwrap();
    }

    fn heard(db: &NativeSql) -> Vec<(String, String)> {
        db.execute("SELECT recipient, event FROM outbox WHERE channel = 'webhook' ORDER BY seq", &[])
            .unwrap()
            .iter()
            .map(|r| (r.text(0), r.text(1)))
            .collect()
    }

    fn pair(a: &str, b: &str) -> (String, String) {
        (a.into(), b.into())
    }

    #[test]
    fn each_endpoint_hears_what_it_asked_for_of_its_own_organisation() {
        let db = db();
        hook(&db, "all", "*");
        hook(&db, "datasets", "dataset.*");
        hook(&db, "created", "organisation.created membership.join_requested");
        // What the store's organisation writes record (ryd_store::changes): o1 changed,
        // and o2, another organisation, appeared.
        ryd_store::changes::org_written(&db, "o1", true).unwrap();
        db.execute(
            "INSERT INTO organisations (id, short_name, human_readable_name, registry_approved, created_date) VALUES ('o2', 'two', 'Two', 1, 'now')",
            &[],
        )
        .unwrap();
        ryd_store::changes::org_written(&db, "o2", false).unwrap();
        webhooks::enqueue_event(&db, "o1", "membership", "membership.join_requested", r#"{"user_id":"u2"}"#, "now", 5)
            .unwrap();
        assert_eq!(
            heard(&db),
            vec![
                pair("all", "organisation.updated"),
                pair("all", "membership.join_requested"),
                pair("created", "membership.join_requested")
            ]
        );
        let payload = db
            .execute("SELECT body_text FROM outbox WHERE event = 'membership.join_requested' LIMIT 1", &[])
            .unwrap()
            .first()
            .unwrap()
            .text(0);
        let v: serde_json::Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(v["data"]["user_id"], "u2");
        assert_eq!(v["type"], "membership.join_requested");
    }

    #[test]
    fn a_change_costs_one_statement_more_only_where_an_endpoint_listens() {
        struct Counting<'a>(&'a NativeSql, std::cell::Cell<u32>);
        impl Sql for Counting<'_> {
            fn execute(&self, s: &str, p: &[ryd_store::Value]) -> Result<ryd_store::Rows, ryd_store::SqlError> {
                self.1.set(self.1.get() + 1);
                self.0.execute(s, p)
            }
        }
        let db = db();
        let counted = Counting(&db, Default::default());
        ryd_store::changes::org_written(&counted, "o1", true).unwrap();
        assert_eq!(counted.1.get(), 1, "no endpoint: the change's own statement");
        hook(&db, "h", "dataset.*");
        ryd_store::changes::org_written(&counted, "o1", true).unwrap();
        assert_eq!(counted.1.get(), 3, "an endpoint: one more, whether or not it asked for this");
        assert!(heard(&db).is_empty(), "it asked for datasets only");
        let disabled = db.execute("UPDATE webhooks SET disabled_at = 1", &[]);
        disabled.unwrap();
        ryd_store::changes::org_written(&counted, "o1", true).unwrap();
        assert_eq!(counted.1.get(), 4, "disabled endpoints listen to nothing");
    }

    #[test]
    fn repeated_failures_disable_an_endpoint_and_give_up_its_messages() {
        let db = db();
        hook(&db, "h", "*");
        webhooks::enqueue_event(&db, "o1", "membership", "membership.removed", "{}", "now", 5).unwrap();
        for n in 1..=4 {
            assert!(!webhooks::failed(&db, "h", "HTTP 500", 5, 10 + n).unwrap());
        }
        webhooks::succeeded(&db, "h").unwrap();
        for n in 1..=4 {
            assert!(!webhooks::failed(&db, "h", "HTTP 500", 5, 20 + n).unwrap(), "counted afresh after a success");
        }
        assert!(webhooks::failed(&db, "h", "HTTP 410", 5, 30).unwrap());
        let w = webhooks::get(&db, "o1", "h").unwrap().unwrap();
        assert_eq!(w.disabled_at, Some(30));
        assert!(w.disabled_reason.unwrap().contains("HTTP 410"));
        assert!(webhooks::target(&db, "h", 31).unwrap().is_none(), "a disabled endpoint is sent nothing");
        let given_up = db.execute("SELECT count(*) FROM outbox WHERE given_up_at IS NOT NULL", &[]).unwrap();
        assert_eq!(given_up.first().unwrap().int(0), 1);
        webhooks::enqueue_event(&db, "o1", "membership", "membership.removed", "{}", "now", 40).unwrap();
        assert_eq!(heard(&db).len(), 1, "nor written for");
        // Enabled again by its admin.
        assert!(webhooks::update(&db, "o1", "h", "https://tool.example.org/v2", "*").unwrap());
        assert_eq!(webhooks::target(&db, "h", 41).unwrap().unwrap().0, "https://tool.example.org/v2");
    }

    #[test]
    fn a_rotated_secret_signs_beside_the_new_one_until_it_lapses() {
        let db = db();
        hook(&db, "h", "*");
        assert!(webhooks::rotate(&db, "o1", "h", "whsec_bmV3", 1_000).unwrap());
        let (_, secrets) = webhooks::target(&db, "h", 999).unwrap().unwrap();
        assert_eq!(secrets, vec!["whsec_bmV3".to_string(), "whsec_c2VjcmV0".to_string()]);
        let (_, secrets) = webhooks::target(&db, "h", 1_000).unwrap().unwrap();
        assert_eq!(secrets, vec!["whsec_bmV3".to_string()]);
    }
}
