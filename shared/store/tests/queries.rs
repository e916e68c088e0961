//! Every query against real SQLite (rusqlite, bundled): the same SQL Spin runs.

use ryd_store::native::NativeSql;
use ryd_store::{
    datasets, members, migrate, orgs, tokens, tools, transaction, Sql, SqlError, SqlErrorKind, SCHEMA_VERSION,
};
use std::collections::BTreeMap;

fn db() -> NativeSql {
    let db = NativeSql::in_memory();
    migrate(&db).unwrap();
    db
}

fn org(id: &str, short: &str, name: &str) -> orgs::Organisation {
    let mut metadata: BTreeMap<String, String> =
        orgs::METADATA_COLUMNS.iter().map(|c| (c.to_string(), String::new())).collect();
    metadata.insert("short_name".into(), short.into());
    metadata.insert("human_readable_name".into(), name.into());
    orgs::Organisation {
        id: id.into(),
        metadata,
        registry_approved: false,
        first_publication_date: String::new(),
        created_date: "2026-01-01T00:00:00Z".into(),
        number_of_published_datasets: 0,
        version: 1,
    }
}

#[test]
fn migrations_are_idempotent_and_versioned() {
    let db = db();
    assert_eq!(migrate(&db).unwrap(), SCHEMA_VERSION);
    let v = db.execute("PRAGMA user_version", &[]).unwrap();
    assert_eq!(v.first().unwrap().int(0), SCHEMA_VERSION);
}

#[test]
fn the_token_lookup_on_an_empty_database_reads_as_version_zero() {
    let db = NativeSql::in_memory();
    let l = tokens::lookup(&db, b"x", 0).unwrap();
    assert_eq!(l.schema_version, 0);
    assert_eq!(l.claims, None);
}

#[test]
fn organisations_names_are_unique_among_live_ones_only() {
    let db = db();
    orgs::insert(&db, &org("a", "aid", "Aid")).unwrap();
    let err = orgs::insert(&db, &org("b", "aid", "Aid 2")).unwrap_err();
    assert_eq!(err.kind, SqlErrorKind::Unique);
    assert!(orgs::soft_delete(&db, "a", "2026-01-02T00:00:00Z", 1).unwrap());
    orgs::insert(&db, &org("b", "aid", "Aid 2")).unwrap();
    assert!(orgs::get(&db, "a").unwrap().is_none());
    assert_eq!(orgs::get(&db, "b").unwrap().unwrap().field("human_readable_name"), "Aid 2");
}

#[test]
fn optimistic_updates_lose_to_a_newer_version() {
    let db = db();
    orgs::insert(&db, &org("a", "aid", "Aid")).unwrap();
    let change: BTreeMap<String, String> = [("description".to_string(), "x".to_string())].into();
    assert!(orgs::update(&db, "a", &change, None, 1).unwrap());
    assert!(!orgs::update(&db, "a", &change, None, 1).unwrap());
    assert_eq!(orgs::get(&db, "a").unwrap().unwrap().version, 2);
    assert!(orgs::update(&db, "a", &[("id; DROP".to_string(), String::new())].into(), None, 2).is_err());
}

#[test]
fn standing_lists_and_pages() {
    let db = db();
    for i in 0..5 {
        orgs::insert(&db, &org(&format!("o{i}"), &format!("s{i}"), &format!("Org {i}"))).unwrap();
    }
    members::upsert_user(&db, "u1", "sub1", "Ann", "ann@example.org", false, "t").unwrap();
    members::set_role(&db, "o1", "u1", "editor", "t").unwrap();
    members::set_role(&db, "o3", "u1", "contributor_pending", "t").unwrap();
    tools::insert(
        &db,
        &tools::Tool { id: "t1".into(), name: "Tool".into(), provider: "P".into(), client_id: "c1".into(), version: 1 },
        "t",
    )
    .unwrap();
    tools::add_admin(&db, "t1", "u1").unwrap();
    tools::grant(&db, "o4", "t1", "t").unwrap();

    let s = orgs::get_with_standing(&db, "o1", "u1", Some("c1"), false).unwrap().unwrap();
    assert_eq!((s.role.as_deref(), s.provider_admin), (Some("editor"), false));
    let s = orgs::get_with_standing(&db, "o4", "u1", Some("c1"), false).unwrap().unwrap();
    assert_eq!((s.role, s.provider_admin), (None, true));
    // The grant does not follow the tool's admin into another application.
    let s = orgs::get_with_standing(&db, "o4", "u1", Some("other-client"), false).unwrap().unwrap();
    assert!(!s.provider_admin);
    // The tool's machine client holds it without being an admin.
    let s = orgs::get_with_standing(&db, "o4", "", Some("c1"), true).unwrap().unwrap();
    assert!(s.provider_admin);

    let mine = orgs::list_for_caller(&db, "u1", "c1", false, 10, 0).unwrap();
    let got: Vec<(String, Option<String>)> = mine.items.iter().map(|(o, r)| (o.id.clone(), r.clone())).collect();
    assert_eq!(
        got,
        vec![
            ("o1".into(), Some("editor".into())),
            ("o3".into(), Some("contributor_pending".into())),
            ("o4".into(), Some("provider_admin".into()))
        ]
    );
    assert_eq!(mine.total, 3);
    let past = orgs::list_for_caller(&db, "u1", "c1", false, 10, 10).unwrap();
    assert_eq!((past.items.len(), past.total), (0, 3));
    // A full page counts the rest; a short one past the start tells it itself.
    let full = orgs::list_for_caller(&db, "u1", "c1", false, 2, 0).unwrap();
    assert_eq!((full.items.len(), full.total), (2, 3));
    let last = orgs::list_for_caller(&db, "u1", "c1", false, 2, 2).unwrap();
    assert_eq!((last.items.len(), last.total), (1, 3));
    assert_eq!(orgs::list_for_caller(&db, "nobody", "c1", false, 2, 0).unwrap().total, 0);

    let all = orgs::list_all(&db, 2, 2).unwrap();
    assert_eq!((all.items.len(), all.total), (2, 5));
    let found = orgs::list_discoverable(&db, Some("g 3"), 10, 0).unwrap();
    assert_eq!(found.items.len(), 1);
    let none = orgs::list_discoverable(&db, Some("%"), 10, 0).unwrap();
    assert_eq!(none.items.len(), 0, "LIKE wildcards in q are literal");
}

#[test]
fn datasets_round_trip_and_count_as_published() {
    let db = db();
    orgs::insert(&db, &org("o", "o", "O")).unwrap();
    let d = datasets::Dataset {
        id: "d".into(),
        organisation_id: "o".into(),
        short_name: "d1".into(),
        human_readable_name: "D".into(),
        url: "https://x/y.xml".into(),
        source_type: "primary_source".into(),
        licence_id: "cc-by".into(),
        visibility: "public".into(),
        last_url_update_date: "t".into(),
        last_metadata_update_date: "t".into(),
        created_date: "t".into(),
        version: 1,
    };
    datasets::insert(&db, &d).unwrap();
    assert_eq!(datasets::get(&db, "d").unwrap().unwrap(), d);
    assert_eq!(orgs::get(&db, "o").unwrap().unwrap().number_of_published_datasets, 1);
    assert_eq!(datasets::update(&db, &d, 1).unwrap(), Some(2));
    assert_eq!(datasets::update(&db, &d, 1).unwrap(), None);
    assert_eq!(datasets::list_for_org(&db, "o", 10, 0).unwrap().total, 1);
    assert!(datasets::short_name_taken(&db, "d1", "other").unwrap());
    orgs::soft_delete(&db, "o", "t", 1).unwrap();
    assert!(datasets::get(&db, "d").unwrap().is_none());
}

#[test]
fn token_cache_sees_revocations_and_sweeps_expired_rows() {
    let db = db();
    tokens::store(&db, b"h1", "{}", "s", "c", "u", 100, 1000).unwrap();
    members::add_superadmin(&db, "u", "t").unwrap();
    let hit = tokens::lookup(&db, b"h1", 500).unwrap();
    assert_eq!(hit.schema_version, SCHEMA_VERSION);
    assert_eq!(hit.claims.as_deref(), Some("{}"));
    assert!(hit.facts.superadmin_row && !hit.facts.revokes(100));
    tokens::revoke(&db, "sub", "s", 101).unwrap();
    assert!(tokens::lookup(&db, b"h1", 500).unwrap().facts.revokes(100));
    assert_eq!(tokens::lookup(&db, b"h1", 1000).unwrap().claims, None, "an expired row is never a hit");
    for i in 0..70u8 {
        tokens::store(&db, &[i], "{}", "s", "c", "u", 0, 10).unwrap();
    }
    for live in [&b"new"[..], b"new2", b"new3"] {
        tokens::store(&db, live, "{}", "s", "c", "u", 0, 5000).unwrap();
    }
    // 71 expired rows: each sweep removes at most SWEEP, never a live one.
    tokens::sweep(&db, 2000).unwrap();
    assert_eq!(tokens::cached_rows(&db).unwrap(), 74 - tokens::SWEEP);
    tokens::sweep(&db, 2000).unwrap();
    tokens::sweep(&db, 2000).unwrap();
    assert_eq!(tokens::cached_rows(&db).unwrap(), 3, "only the three live rows stay");
}

#[test]
fn a_failed_transaction_changes_nothing() {
    let db = db();
    let r: Result<(), SqlError> = transaction(&db, || {
        orgs::insert(&db, &org("a", "aid", "Aid"))?;
        orgs::insert(&db, &org("b", "aid", "Aid again"))?; // unique violation
        Ok(())
    });
    assert!(r.is_err());
    assert!(orgs::get(&db, "a").unwrap().is_none());
}

/// `listed` must equal its definition after every kind of change: the CKAN API shows
/// exactly the listed datasets.
#[test]
fn the_listed_flag_follows_every_change_that_affects_visibility() {
    let db = db();
    let check = |db: &NativeSql, step: &str| {
        let wrong = db
            .execute(
                "SELECT count(*) FROM datasets d JOIN organisations o ON o.id = d.organisation_id WHERE d.listed <> \
                 (d.deleted_at IS NULL AND d.visibility = 'public' AND o.deleted_at IS NULL AND o.registry_approved = 1)",
                &[],
            )
            .unwrap();
        assert_eq!(wrong.first().unwrap().int(0), 0, "after {step}");
        // The full-text index holds exactly the listed datasets.
        let fts = db
            .execute(
                "SELECT (SELECT count(*) FROM datasets WHERE listed AND rowid NOT IN (SELECT rowid FROM dataset_search)) + \
                        (SELECT count(*) FROM dataset_search WHERE rowid NOT IN (SELECT rowid FROM datasets WHERE listed))",
                &[],
            )
            .unwrap();
        assert_eq!(fts.first().unwrap().int(0), 0, "full-text index after {step}");
    };
    let listed = |db: &NativeSql| -> i64 {
        db.execute("SELECT count(*) FROM datasets WHERE listed", &[]).unwrap().first().unwrap().int(0)
    };
    orgs::insert(&db, &org("o1", "one", "One")).unwrap();
    orgs::insert(&db, &org("o2", "two", "Two")).unwrap();
    let ds = |id: &str, org: &str, visibility: &str| datasets::Dataset {
        id: id.into(),
        organisation_id: org.into(),
        short_name: id.into(),
        human_readable_name: id.into(),
        url: "https://x/y.xml".into(),
        source_type: "primary_source".into(),
        licence_id: String::new(),
        visibility: visibility.into(),
        last_url_update_date: "t".into(),
        last_metadata_update_date: "t".into(),
        created_date: "t".into(),
        version: 1,
    };
    datasets::insert(&db, &ds("d1", "o1", "public")).unwrap();
    datasets::insert(&db, &ds("d2", "o1", "private")).unwrap();
    datasets::insert(&db, &ds("d3", "o2", "public")).unwrap();
    check(&db, "inserts into unapproved organisations");
    assert_eq!(listed(&db), 0);
    orgs::update(&db, "o1", &Default::default(), Some(true), 1).unwrap();
    check(&db, "approval");
    assert_eq!(listed(&db), 1);
    let mut d2 = ds("d2", "o1", "public");
    datasets::update(&db, &d2, 1).unwrap();
    check(&db, "making a dataset public");
    assert_eq!(listed(&db), 2);
    d2.visibility = "private".into();
    datasets::update(&db, &d2, 2).unwrap();
    check(&db, "making a dataset private");
    // Names are searched: renaming a dataset or its organisation re-indexes it.
    let found = |db: &NativeSql, words: &str| -> i64 {
        let q = "SELECT count(*) FROM dataset_search WHERE dataset_search MATCH ?";
        db.execute(q, &[words.into()]).unwrap().first().unwrap().int(0)
    };
    let mut d1 = ds("d1", "o1", "public");
    d1.human_readable_name = "Quarterly aqueduct spending".into();
    datasets::update(&db, &d1, 1).unwrap();
    check(&db, "renaming a dataset");
    assert_eq!(found(&db, "aqueduct"), 1);
    let renamed = [("human_readable_name".to_string(), "Ministry of Zeppelins".to_string())].into();
    orgs::update(&db, "o1", &renamed, None, 2).unwrap();
    check(&db, "renaming an organisation");
    assert_eq!(found(&db, "zeppelins"), 1, "the organisation's new name finds its listed dataset");
    assert_eq!(found(&db, "organisation:one"), 1);
    datasets::soft_delete(&db, "d1", "t", 2).unwrap();
    check(&db, "deleting a dataset");
    orgs::update(&db, "o2", &Default::default(), Some(true), 1).unwrap();
    check(&db, "approving the second organisation");
    assert_eq!(listed(&db), 1);
    orgs::update(&db, "o2", &Default::default(), Some(false), 2).unwrap();
    check(&db, "withdrawing approval");
    orgs::update(&db, "o2", &Default::default(), Some(true), 3).unwrap();
    orgs::soft_delete(&db, "o2", "t", 4).unwrap();
    check(&db, "deleting an organisation");
    assert_eq!(listed(&db), 0);
}

#[test]
fn a_writer_waits_for_the_write_lock_then_gives_up_as_busy() {
    let dir = std::env::temp_dir().join(format!("ryd-lock-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("db.sqlite");
    let _ = std::fs::remove_file(&path);
    migrate(&NativeSql::open(&path).unwrap()).unwrap();
    let holder = NativeSql::open(&path).unwrap();
    let hold = |for_ms: u64| {
        holder.execute("BEGIN IMMEDIATE", &[]).unwrap();
        let path = path.clone();
        let waiter = std::thread::spawn(move || {
            let db = NativeSql::open(&path).unwrap();
            transaction(&db, || db.execute("INSERT INTO superadmins (user_id, created_at) VALUES ('w', 'now')", &[]))
        });
        std::thread::sleep(std::time::Duration::from_millis(for_ms));
        holder.execute("COMMIT", &[]).unwrap();
        waiter.join().unwrap()
    };
    // Released while it waits: the waiter gets the lock and writes.
    hold(50).unwrap();
    assert_eq!(holder.execute("SELECT count(*) FROM superadmins", &[]).unwrap().first().unwrap().int(0), 1);
    // Held past the wait: busy, and nothing written.
    let held = ryd_store::sql::WRITE_LOCK_WAIT.as_millis() as u64 + 300;
    assert_eq!(hold(held).unwrap_err().kind, SqlErrorKind::Busy);
    assert_eq!(holder.execute("SELECT count(*) FROM superadmins", &[]).unwrap().first().unwrap().int(0), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stat4_samples_are_dropped_by_analyse_and_by_migration_7() {
    let db = db();
    let stat4 = |db: &NativeSql| {
        !db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat4'", &[]).unwrap().is_empty()
    };
    db.execute("ANALYZE", &[]).unwrap();
    assert!(stat4(&db), "this SQLite builds with STAT4 (else the test proves nothing)");
    ryd_store::analyse(&db).unwrap();
    assert!(!stat4(&db));
    // A registry analysed before migration 7 (an older importer) loses them on migrating.
    db.execute("ANALYZE", &[]).unwrap();
    db.execute("PRAGMA user_version = 6", &[]).unwrap();
    db.execute("DROP INDEX dataset_pipeline_resource", &[]).unwrap();
    // The later migrations run again too: their objects go first.
    db.execute("DROP INDEX organisations_approved_by_title", &[]).unwrap();
    for table in ["public_changes", "list_pages", "account_sessions", "account_logins", "logout_tokens_seen"] {
        db.execute(&format!("DROP TABLE {table}"), &[]).unwrap();
    }
    db.execute("DROP INDEX api_keys_by_session", &[]).unwrap();
    db.execute("ALTER TABLE api_keys DROP COLUMN session_hash", &[]).unwrap();
    db.execute("DROP TABLE outbox", &[]).unwrap();
    db.execute("DROP TABLE webhooks", &[]).unwrap();
    migrate(&db).unwrap();
    assert!(!stat4(&db));
    assert!(!db.execute("SELECT 1 FROM sqlite_stat1", &[]).unwrap().is_empty(), "stat1 stays");
}

/// A public change, as the store's writes record one.
fn public_change(db: &NativeSql) {
    db.execute(
        "INSERT INTO public_changes (kind, id, name, change, version, at) \
         VALUES ('dataset', 'd', 'd', 'updated', 1, '2026-01-01T00:00:00Z')",
        &[],
    )
    .unwrap();
}

#[test]
fn a_kept_page_is_served_only_until_the_next_public_change() {
    use ryd_store::page_cache::{keep, lookup, Lookup};
    let db = db();
    assert_eq!(lookup(&db, "k").unwrap(), Lookup { seq: 0, body: None });
    assert!(keep(&db, "k", 0, "page at 0").unwrap());
    assert_eq!(lookup(&db, "k").unwrap(), Lookup { seq: 0, body: Some("page at 0".into()) });
    assert_eq!(lookup(&db, "other key").unwrap().body, None);

    public_change(&db);
    assert_eq!(lookup(&db, "k").unwrap(), Lookup { seq: 1, body: None });
    // Rendered before the change, kept after it: dropped, it may not hold the change.
    assert!(!keep(&db, "k", 0, "page at 0").unwrap());
    assert_eq!(lookup(&db, "k").unwrap().body, None);
    assert!(keep(&db, "k", 1, "page at 1").unwrap());
    assert_eq!(lookup(&db, "k").unwrap().body.as_deref(), Some("page at 1"));
    // Stale pages are gone once a newer one is kept.
    let left = db.execute("SELECT count(*) FROM list_pages", &[]).unwrap();
    assert_eq!(left.first().unwrap().int(0), 1);
}

#[test]
fn the_page_cache_stays_within_its_budget() {
    use ryd_store::page_cache::{keep, lookup, BUDGET};
    let db = db();
    let big = "x".repeat((BUDGET / 3) as usize);
    for key in ["a", "b", "c"] {
        keep(&db, key, 0, &big).unwrap();
    }
    assert!(lookup(&db, "a").unwrap().body.is_some() && lookup(&db, "c").unwrap().body.is_some());
    // The fourth would not fit: the cache is emptied, then it is kept.
    keep(&db, "d", 0, &big).unwrap();
    assert!(lookup(&db, "a").unwrap().body.is_none());
    assert!(lookup(&db, "d").unwrap().body.is_some());
    let total = db.execute("SELECT sum(length(body)) FROM list_pages", &[]).unwrap();
    let sized = db.execute("SELECT sum(size) FROM list_pages", &[]).unwrap();
    assert_eq!(sized.first().unwrap().int(0), total.first().unwrap().int(0));
    assert!(total.first().unwrap().int(0) <= BUDGET);
    // A page larger than the whole budget is never kept.
    assert!(!keep(&db, "huge", 0, &"x".repeat(BUDGET as usize + 1)).unwrap());
    assert!(lookup(&db, "huge").unwrap().body.is_none());
}

#[test]
fn keeping_a_page_never_waits_for_another_writer() {
    let dir = std::env::temp_dir().join(format!("ryd-page-lock-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("db.sqlite");
    let _ = std::fs::remove_file(&path);
    let db = NativeSql::open(&path).unwrap();
    migrate(&db).unwrap();
    let writer = NativeSql::open(&path).unwrap();
    writer.execute("BEGIN IMMEDIATE", &[]).unwrap();
    let started = std::time::Instant::now();
    assert!(!ryd_store::page_cache::keep(&db, "k", 0, "page").unwrap(), "not kept while another writes");
    assert!(started.elapsed() < std::time::Duration::from_millis(500), "and not waited for");
    writer.execute("COMMIT", &[]).unwrap();
    assert!(ryd_store::page_cache::keep(&db, "k", 0, "page").unwrap());
    // The connection's writes are durable again afterwards.
    assert_eq!(db.execute("PRAGMA synchronous", &[]).unwrap().first().unwrap().int(0), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Counts the statements a read runs.
struct Counting<'a> {
    db: &'a NativeSql,
    statements: std::cell::Cell<usize>,
}

impl Sql for Counting<'_> {
    fn execute(&self, sql: &str, params: &[ryd_store::Value]) -> Result<ryd_store::Rows, SqlError> {
        self.statements.set(self.statements.get() + 1);
        self.db.execute(sql, params)
    }
}

#[test]
fn public_reads_check_the_schema_in_their_own_statement() {
    use ryd_store::{changes, dashboard, page_cache, public};
    // A fresh database: each read fails on the missing tables, migrates, and reads again.
    let version = |db: &NativeSql| db.execute("PRAGMA user_version", &[]).unwrap().first().unwrap().int(0);
    let fresh = NativeSql::in_memory();
    assert_eq!(dashboard::org(&fresh, "aid", false).unwrap(), None);
    assert_eq!(version(&fresh), SCHEMA_VERSION);
    let fresh = NativeSql::in_memory();
    assert_eq!(page_cache::lookup(&fresh, "k").unwrap(), page_cache::Lookup { seq: 0, body: None });
    assert_eq!(version(&fresh), SCHEMA_VERSION);
    let fresh = NativeSql::in_memory();
    assert_eq!(changes::etag(&fresh).unwrap(), changes::etag_at(0));
    assert_eq!(version(&fresh), SCHEMA_VERSION);
    let fresh = NativeSql::in_memory();
    assert!(public::org(&fresh, "aid").unwrap().is_none());
    assert_eq!(version(&fresh), SCHEMA_VERSION);
    let fresh = NativeSql::in_memory();
    assert!(public::dataset(&fresh, "aid-1").unwrap().is_none());
    assert_eq!(version(&fresh), SCHEMA_VERSION);

    // Up to date: a record found, or a page looked up, is one statement; a record not
    // found cannot tell the version, and checks it apart.
    let db = db();
    orgs::insert(&db, &orgs::Organisation { registry_approved: true, ..org("a", "aid", "Aid") }).unwrap();
    let counting = Counting { db: &db, statements: 0.into() };
    let found = dashboard::org(&counting, "aid", false).unwrap().unwrap();
    assert!(found.value.contains(r#""short_name":"aid""#), "{}", found.value);
    // With the registry's newest change, read in the same statement (the record's tag).
    assert_eq!(found.seq, changes::latest(&db).unwrap());
    assert_eq!(counting.statements.get(), 1);
    page_cache::lookup(&counting, "k").unwrap();
    assert_eq!(counting.statements.get(), 2);
    assert_eq!(public::org(&counting, "aid").unwrap().map(|o| o.value.name), Some("aid".to_string()));
    assert_eq!(counting.statements.get(), 3);
    changes::etag(&counting).unwrap();
    assert_eq!(counting.statements.get(), 4);
    assert_eq!(dashboard::org(&counting, "nobody", false).unwrap(), None);
    assert_eq!(counting.statements.get(), 6);
}
