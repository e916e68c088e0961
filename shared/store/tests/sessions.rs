//! IATI Account's sessions against real SQLite: what ends one, and that nothing else does.

use ryd_store::native::NativeSql;
use ryd_store::sessions::{self, Lifetimes, NewSession, PendingLogin};
use ryd_store::{members, migrate, tokens, Sql};

const NOW: i64 = 1_800_000_000;
const LIFE: Lifetimes = Lifetimes { idle_s: 1800, absolute_s: 8 * 3600 };

fn db() -> NativeSql {
    let db = NativeSql::in_memory();
    migrate(&db).unwrap();
    members::upsert_user(&db, "u-alice", "alice", "Alice", "a@example.org", false, "2026-01-01T00:00:00Z").unwrap();
    members::upsert_user(&db, "u-bob", "bob", "Bob", "b@example.org", false, "2026-01-01T00:00:00Z").unwrap();
    db
}

fn session(hash: &str, user: &str, sub: &str, sid: Option<&str>) -> NewSession {
    NewSession {
        id_hash: hash.into(),
        user_id: user.into(),
        sub: sub.into(),
        sid: sid.map(Into::into),
        id_token: format!("id-token-of-{hash}"),
        access_token: Some("at".into()),
        refresh_token: None,
        csrf_token: format!("csrf-{hash}"),
        caller: "{}".into(),
    }
}

fn on(db: &NativeSql, hash: &str, now: i64) -> bool {
    sessions::find(db, hash, now).unwrap().is_some()
}

#[test]
fn a_session_is_found_by_its_hash_until_idle_or_too_old() {
    let db = db();
    sessions::start(&db, &session("h1", "u-alice", "alice", Some("sid-1")), LIFE, NOW).unwrap();
    let s = sessions::find(&db, "h1", NOW + 10).unwrap().expect("on");
    assert_eq!((s.user_id.as_str(), s.user_name.as_str(), s.sid.as_deref()), ("u-alice", "Alice", Some("sid-1")));
    assert_eq!(s.csrf_token, "csrf-h1");
    assert_eq!(s.last_active, "2027-01-15T08:00:00+00:00");
    assert!(!on(&db, "h2", NOW), "another hash finds nothing");
    // Idle: 30 minutes without a request.
    assert!(on(&db, "h1", NOW + 1799));
    assert!(!on(&db, "h1", NOW + 1800));
    // Touched (at most once a minute), it lives on, until 8 h from its start.
    sessions::touch(&db, "h1", NOW + 30).unwrap();
    assert_eq!(sessions::find(&db, "h1", NOW + 31).unwrap().unwrap().last_active_at, NOW, "not within a minute");
    let found = sessions::find(&db, "h1", NOW + 31).unwrap().unwrap();
    assert!(!sessions::touch_due(&found, NOW + 59) && sessions::touch_due(&found, NOW + 60), "the same minute's rule");
    let mut t = NOW;
    while t < NOW + 8 * 3600 - 1000 {
        t += 1000;
        sessions::touch(&db, "h1", t).unwrap();
        assert!(on(&db, "h1", t), "active at {t}");
    }
    assert!(!on(&db, "h1", NOW + 8 * 3600), "absolute timeout");
    assert_eq!(sessions::sweep(&db, NOW + 8 * 3600).unwrap(), 1);
}

#[test]
fn sign_out_back_channel_logout_revocation_and_a_deleted_user_each_end_sessions() {
    let db = db();
    sessions::start(&db, &session("a1", "u-alice", "alice", Some("sid-a")), LIFE, NOW).unwrap();
    sessions::start(&db, &session("a2", "u-alice", "alice", Some("sid-a")), LIFE, NOW).unwrap();
    sessions::start(&db, &session("a3", "u-alice", "alice", Some("sid-other")), LIFE, NOW).unwrap();
    sessions::start(&db, &session("b1", "u-bob", "bob", Some("sid-b")), LIFE, NOW).unwrap();

    assert_eq!(sessions::id_token(&db, "a1").unwrap().as_deref(), Some("id-token-of-a1"));
    assert!(sessions::end(&db, "a1").unwrap());
    assert!(!sessions::end(&db, "a1").unwrap(), "once");
    // A logout token naming the sid and another subject ends nothing.
    assert_eq!(sessions::end_provider_session(&db, "sid-a", Some("bob")).unwrap(), 0);
    assert_eq!(sessions::end_provider_session(&db, "sid-a", Some("alice")).unwrap(), 1);
    assert!(on(&db, "a3", NOW) && on(&db, "b1", NOW), "other provider sessions stay");
    assert_eq!(sessions::end_subject(&db, "alice").unwrap(), 1);
    assert!(!on(&db, "a3", NOW) && on(&db, "b1", NOW));

    // A revocation mark on the subject ends sessions that began before it, not after.
    tokens::revoke(&db, "sub", "bob", NOW + 5).unwrap();
    assert!(!on(&db, "b1", NOW + 6));
    sessions::start(&db, &session("b2", "u-bob", "bob", None), LIFE, NOW + 10).unwrap();
    assert!(on(&db, "b2", NOW + 11));
    // A user who is gone has no session.
    db.execute("DELETE FROM users WHERE id = 'u-bob'", &[]).unwrap();
    assert!(!on(&db, "b2", NOW + 12));
}

#[test]
fn a_pending_sign_in_is_taken_once_and_only_while_fresh() {
    let db = db();
    let login = |s: &str| PendingLogin {
        state: format!("state-{s}"),
        verifier: "v".into(),
        nonce: "n".into(),
        return_to: "/account".into(),
    };
    sessions::begin_login(&db, "l2", &login("2"), 600, NOW - 700).unwrap();
    sessions::begin_login(&db, "l1", &login("1"), 600, NOW).unwrap();
    sessions::begin_login(&db, "l3", &login("3"), 600, NOW).unwrap();
    let count =
        |db: &NativeSql| db.execute("SELECT count(*) FROM account_logins", &[]).unwrap().first().unwrap().int(0);
    assert_eq!(count(&db), 2, "starting a sign-in clears those too old to finish");
    sessions::begin_login(&db, "l2", &login("2"), 600, NOW - 700).unwrap();
    assert_eq!(sessions::take_login(&db, "l1", 600, NOW + 5).unwrap(), Some(login("1")));
    assert_eq!(sessions::take_login(&db, "l1", 600, NOW + 6).unwrap(), None, "used");
    assert_eq!(sessions::take_login(&db, "l2", 600, NOW).unwrap(), None, "too old");
    assert_eq!(sessions::take_login(&db, "l3", 600, NOW + 600).unwrap(), None, "ten minutes is too old");
    let left = db.execute("SELECT count(*) FROM account_logins", &[]).unwrap();
    assert_eq!(left.first().unwrap().int(0), 0, "stale sign-ins cleared on the way");
}

#[test]
fn a_logout_token_is_accepted_once_until_it_expires() {
    let db = db();
    assert!(sessions::first_use_of_logout_token(&db, "j1", NOW + 120, NOW).unwrap());
    assert!(!sessions::first_use_of_logout_token(&db, "j1", NOW + 120, NOW + 1).unwrap(), "replayed");
    assert!(sessions::first_use_of_logout_token(&db, "j2", NOW + 120, NOW + 1).unwrap());
    // Forgotten once expired (its own `exp` refuses it then).
    assert!(sessions::first_use_of_logout_token(&db, "j1", NOW + 500, NOW + 121).unwrap());
}

#[test]
fn a_key_bound_to_a_session_is_live_exactly_while_the_session_is_on() {
    use ryd_store::api_keys::{self, ApiKey};
    let db = db();
    sessions::start(&db, &session("s1", "u-alice", "alice", Some("sid-1")), LIFE, NOW).unwrap();
    let key = |id: &str, session_hash: Option<&str>| ApiKey {
        id: id.into(),
        user_id: "u-alice".into(),
        name: id.into(),
        prefix: "ryd_".into(),
        created_at: "2027-01-01T00:00:00Z".into(),
        expires_at: None,
        revoked_at: None,
        session_hash: session_hash.map(Into::into),
    };
    assert!(api_keys::insert(&db, &key("bound", Some("s1")), b"bound-secret").unwrap());
    assert!(api_keys::insert(&db, &key("plain", None), b"plain-secret").unwrap());
    let live = |secret: &[u8], now: i64| api_keys::find_live(&db, secret, now).unwrap().is_some();
    assert!(live(b"bound-secret", NOW + 10) && live(b"plain-secret", NOW + 10));
    // Idle past the timeout: the session is off, and so is its key (the plain one lives on).
    assert!(!live(b"bound-secret", NOW + LIFE.idle_s) && live(b"plain-secret", NOW + LIFE.idle_s));
    assert!(live(b"bound-secret", NOW + 20), "the rule is the session's, not a state");
    // Ended: gone for good.
    assert!(sessions::end(&db, "s1").unwrap());
    assert!(!live(b"bound-secret", NOW + 20));
    assert_eq!(api_keys::get(&db, "bound").unwrap().unwrap().session_hash.as_deref(), Some("s1"));
}
