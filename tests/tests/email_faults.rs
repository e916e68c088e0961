//! The outbox's email worker under faults, on the project's host: the relay down then up,
//! the worker killed (SIGKILL) while draining, two workers draining one sqld at once. Each
//! email arrives, and arrives once.

use ryd_e2e::mail::*;
use ryd_e2e::*;
use serde_json::json;
use std::path::PathBuf;
use std::process::Child;
use std::time::Duration;

/// Three join requests, so three messages to the organisation's admin; the server.
fn three_requests(name: &str) -> (Server, PathBuf) {
    let data = data_dir(name);
    let server = serve!(&data, test_env(&[]));
    let c = Client::new(&server);
    let oid = c.create_org(&Who::user(1, "Admin"), "busy-org", json!({}));
    for n in 2..=4 {
        join(&c, &Who::user(n, &format!("Asker{n}")), &oid);
    }
    (server, data)
}

#[test]
fn with_the_relay_down_then_up_every_email_arrives_once() {
    let (server, data) = three_requests("email-relay-down");
    let port = free_port();
    let smtp = format!("smtp://127.0.0.1:{port}");
    let mut worker = deliver(&data, None, &smtp, &["--poll", "100ms", "--backoff", "200ms"]).spawn().expect("a worker");
    // Nothing listens: every message fails, is kept with its reason, and is tried again.
    wait_for(Duration::from_secs(30), "two failed attempts of each message", || {
        server.sql_int("SELECT count(*) FROM outbox WHERE attempts >= 2 AND last_error IS NOT NULL AND sent_at IS NULL")
            == 3
    });
    let sink = Sink::start_on(&data.join("mail"), 0.0, Some(port));
    wait_for(Duration::from_secs(60), "every message sent", || {
        server.sql_int("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL") == 3
    });
    std::thread::sleep(Duration::from_millis(500));
    let _ = worker.kill();
    let _ = worker.wait();
    let ids = received_ids(&sink);
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(ids.values().all(|n| *n == 1), "each once: {ids:?}");
    assert_eq!(server.sql_int("SELECT count(*) FROM outbox WHERE given_up_at IS NOT NULL"), 0);
}

#[test]
fn a_worker_killed_while_draining_loses_nothing_and_repeats_nothing() {
    let data = data_dir("email-sigkill");
    let server = serve!(&data, test_env(&[]));
    let c = Client::new(&server);
    let oid = c.create_org(&Who::user(1, "Admin"), "kill-org", json!({}));
    for n in 2..=13 {
        join(&c, &Who::user(n, &format!("Asker{n}")), &oid);
    }
    // A relay that takes 0.3 s per message, so the kill lands mid-batch.
    let sink = Sink::start(&data.join("mail"), 0.3);
    let mut first = deliver(&data, None, &sink.url(), &["--lease", "2s", "--poll", "100ms"]).spawn().expect("a worker");
    wait_for(Duration::from_secs(60), "four messages accepted", || sink.messages().len() >= 4);
    first.kill().expect("SIGKILL"); // Child::kill is SIGKILL on Unix
    let _ = first.wait();
    let at_kill = sink.messages().len();
    assert!(at_kill < 12, "killed before the end ({at_kill} sent)");
    let mut second =
        deliver(&data, None, &sink.url(), &["--lease", "2s", "--poll", "100ms"]).spawn().expect("a worker");
    wait_for(Duration::from_secs(60), "every message sent after the restart", || {
        server.sql_int("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL") == 12
    });
    std::thread::sleep(Duration::from_millis(500));
    let _ = second.kill();
    let _ = second.wait();
    let ids = received_ids(&sink);
    assert_eq!(ids.len(), 12, "nothing lost: {ids:?}");
    assert!(ids.values().all(|n| *n == 1), "nothing twice: {ids:?}");
}

#[test]
fn two_workers_on_one_sqld_send_each_email_once() {
    let data = data_dir("email-two-workers");
    let shared = SharedState::start(&data);
    let server = serve_shared(&data, test_env(&[]), &shared, &[]);
    let c = Client::new(&server);
    let oid = c.create_org(&Who::user(1, "Admin"), "shared-org", json!({}));
    for n in 2..=31 {
        join(&c, &Who::user(n, &format!("Asker{n}")), &oid);
    }
    let sink = Sink::start(&data.join("mail"), 0.0);
    let config = shared.runtime_config(&data);
    let workers: Vec<Child> = (0..2)
        .map(|_| deliver(&data, Some(&config), &sink.url(), &["--once", "--batch", "3"]).spawn().expect("a worker"))
        .collect();
    let mut sent = Vec::new();
    for w in workers {
        let out = w.wait_with_output().expect("a worker ends");
        assert!(out.status.success());
        sent.push(String::from_utf8_lossy(&out.stdout).trim().to_string());
    }
    let ids = received_ids(&sink);
    assert_eq!(ids.len(), 30, "{ids:?} ({sent:?})");
    assert!(ids.values().all(|n| *n == 1), "each once: {ids:?}");
    assert_eq!(server.sql_int("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"), 30);
    eprintln!("two workers on one sqld: {sent:?}");
}
