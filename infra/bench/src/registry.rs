//! The registry every server of a benchmark run starts from: the CKAN API's 1,600
//! organisations and 13,000 datasets, 999 more organisations for the superadmin's list, and
//! a browser signed in to IATI Account (for validate_cookie and a console page), imported
//! once into a template database that each server gets a copy of.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The user signed in to IATI Account in the browser scenarios.
pub const BROWSER_USER: &str = "00000000-0000-4000-8000-00000000b0b0";

/// The template database and the names the scenarios read.
pub struct Registry {
    /// The imported database each server copies.
    pub template: PathBuf,
    /// A public dataset's short name, deep in the list (package_show).
    pub dataset_name: String,
    /// An approved organisation's short name (organization_show, the Dashboard's record).
    pub org_name: String,
    /// The signed-in browser's `Cookie` header value.
    pub session_cookie: String,
}

/// Builds the registry in `data` (emptied first), with the application's journal mode
/// set to `journal` (`wal`, as migrations set it, or `delete`).
pub fn build(data: &Path, journal: &str) -> Result<Registry> {
    let _ = std::fs::remove_dir_all(data);
    std::fs::create_dir_all(data)?;
    let template = data.join("template.db");
    let dump = data.join("dump.jsonl");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&dump)?);
        for r in ryd_ckan::synthetic::registry(1600, 13_000, 42) {
            writeln!(out, "{r}")?;
        }
    }
    ryd_host::import::import_files(&template, &[dump.to_string_lossy().into_owned()])?;
    let conn = rusqlite::Connection::open(&template)?;
    conn.execute_batch("BEGIN")?;
    for i in 0..999 {
        conn.execute(
            "INSERT INTO organisations (id, short_name, human_readable_name, created_date) VALUES (?1, ?2, ?3, '2026-01-01T00:00:00+00:00')",
            (format!("10000000-0000-4000-8000-{i:012}"), format!("org-{i}"), format!("Organisation {i:04}")),
        )?;
    }
    conn.execute_batch("COMMIT")?;
    let mode: String = conn.query_row(&format!("PRAGMA journal_mode = {journal}"), [], |r| r.get(0))?;
    anyhow::ensure!(mode.eq_ignore_ascii_case(journal), "journal mode {journal} not set (got {mode})");
    drop(conn);
    ryd_store::analyse(&ryd_store::native::NativeSql::open(&template)?)?;
    let session_cookie = sign_in_browser(&template)?;
    let conn = rusqlite::Connection::open(&template)?;
    let dataset_name: String =
        conn.query_row("SELECT short_name FROM datasets WHERE listed LIMIT 1 OFFSET 6000", [], |r| r.get(0))?;
    let org_name: String = conn.query_row(
        "SELECT short_name FROM organisations WHERE registry_approved = 1 AND deleted_at IS NULL LIMIT 1 OFFSET 700",
        [],
        |r| r.get(0),
    )?;
    Ok(Registry { template, dataset_name, org_name, session_cookie })
}

/// A browser signed in to IATI Account, as a sign-in writes it: the user, their session,
/// and an organisation they administer (the console's home page lists it). Returns the
/// `Cookie` header value.
fn sign_in_browser(template: &Path) -> Result<String> {
    let session_id = ryd_account::random_token().map_err(|e| anyhow::anyhow!("randomness: {e}"))?;
    let db = ryd_store::native::NativeSql::open(template)?;
    ryd_store::members::upsert_user(
        &db,
        BROWSER_USER,
        "browser-sub",
        "Browser User",
        "",
        false,
        "2026-01-01T00:00:00Z",
    )?;
    let session = ryd_store::sessions::NewSession {
        id_hash: ryd_account::session_hash(&session_id),
        user_id: BROWSER_USER.into(),
        sub: "browser-sub".into(),
        sid: None,
        id_token: String::new(),
        access_token: None,
        refresh_token: None,
        csrf_token: "bench-csrf".into(),
        // What a sign-in records for the console's pages (the console page scenario).
        caller: serde_json::json!({
            "client_id": "iati-account", "roles": ["iati_register_your_data"], "role_table": "documented",
            "origin": "", "name": "Browser User", "email": "",
        })
        .to_string(),
    };
    let life = ryd_store::sessions::Lifetimes { idle_s: 3600, absolute_s: 8 * 3600 };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
    ryd_store::sessions::start(&db, &session, life, now)?;
    let org =
        ryd_store::Sql::execute(&db, "SELECT id FROM organisations WHERE deleted_at IS NULL LIMIT 1 OFFSET 700", &[])?;
    let org = org.first().map(|r| r.text(0)).context("no organisation in the template")?;
    ryd_store::members::set_role(&db, &org, BROWSER_USER, "admin", "2026-01-01T00:00:00Z")?;
    Ok(format!("{}={session_id}", ryd_account::SESSION_COOKIE.name))
}

/// A server's state directory: the application's database copied from the template, and
/// the floor's one-table database beside it.
pub fn prepare(registry: &Registry, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir.join("app"))?;
    std::fs::copy(&registry.template, dir.join("app/sqlite_db.db"))?;
    std::fs::create_dir_all(dir.join("base"))?;
    let floor = rusqlite::Connection::open(dir.join("base/sqlite_db.db"))?;
    floor.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER); INSERT INTO t VALUES (1, 42);")?;
    Ok(())
}

/// A connection to the application's database in a server's state directory that has
/// read once (so it has the WAL's files open), for the caller to hold.
pub fn hold(dir: &Path) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(dir.join("app/sqlite_db.db"))?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))?;
    Ok(conn)
}

/// A benchmark over the sized registries: `--sizes a,b` (datasets; by default 13,000 and
/// 1,300,000), each [`sized`], with the application built for the host to serve.
pub struct SizedRun {
    /// The project's root.
    pub root: PathBuf,
    /// The application's manifest.
    pub manifest: PathBuf,
    /// The registries' sizes, in datasets.
    pub sizes: Vec<u64>,
}

impl SizedRun {
    /// The sizes `--sizes` names, the application built.
    pub fn from_args(args: &[String]) -> Result<Self> {
        let sizes = args
            .iter()
            .position(|a| a == "--sizes")
            .and_then(|i| args.get(i + 1))
            .map_or("13000,1300000", String::as_str)
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect();
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize()?;
        let manifest = root.join("spin.toml");
        ryd_host::build::build(&ryd_host::manifest::Manifest::load(&manifest)?)?;
        Ok(Self { root, manifest, sizes })
    }

    /// The variables the application needs to start: the public reads need no token.
    pub fn env() -> Vec<(String, String)> {
        vec![("SPIN_VARIABLE_OIDC_ISSUER".into(), "https://unused".into())]
    }

    /// The project's host serving the application on `data`.
    pub fn host(&self, data: &Path) -> Result<ryd_host::RunningHost> {
        let mut o = ryd_host::HostOptions::new(&self.manifest);
        o.listen = "127.0.0.1:0".parse()?;
        o.data_dir = Some(data.to_path_buf());
        o.env = Some(Self::env().into_iter().collect());
        ryd_host::start(&o).context("starting the host")
    }
}

/// A synthetic registry of `datasets` datasets (and an eighth as many organisations, at
/// most 160,000): generated and imported once into `target/bench-ckan/<datasets>/`, whose
/// `sqlite_db.db` it is (a server's data directory); migrated when an older schema made it.
/// With the import's summary (its rows/s) when this call imported it.
pub fn sized(root: &Path, datasets: u64) -> Result<(PathBuf, Option<String>)> {
    let orgs = (datasets / 8).clamp(10, 160_000);
    let data = root.join(format!("target/bench-ckan/{datasets}"));
    let marker = data.join("imported");
    let mut imported = None;
    if !marker.exists() {
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data)?;
        let dump = data.join("dump.jsonl");
        {
            let mut out = std::io::BufWriter::new(std::fs::File::create(&dump)?);
            for r in ryd_ckan::synthetic::registry(orgs, datasets, 42) {
                writeln!(out, "{r}")?;
            }
        }
        let summary =
            ryd_host::import::import_files(&data.join("sqlite_db.db"), &[dump.to_string_lossy().into_owned()])?;
        std::fs::remove_file(&dump).ok();
        std::fs::write(&marker, format!("{summary}"))?;
        imported = Some(format!("import of {datasets}: {summary}"));
    }
    // A registry imported by an older schema is migrated here, not in a request.
    use ryd_store::Sql;
    let db = ryd_store::native::NativeSql::open(&data.join("sqlite_db.db"))?;
    let before = db.execute("PRAGMA user_version", &[])?.first().map(|r| r.int(0)).unwrap_or(0);
    if before < ryd_store::SCHEMA_VERSION {
        ryd_store::migrate(&db)?;
        ryd_store::analyse(&db)?;
    }
    Ok((data, imported))
}
