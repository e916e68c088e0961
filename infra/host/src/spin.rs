//! `fermyon:spin/sqlite`, `key-value` and `variables` @2.0.0, as Spin's defaults provide
//! them: SQLite files in the application's `.spin/` directory, one connection per `open`,
//! a component reaching only the stores and variables its manifest entry declares.
//!
//! Each call is scheduled as Spin 4.0.2 schedules it, so that what the benchmark shows here
//! carries over to real Spin: SQLite `open` and `execute` on `spawn_blocking` (Spin's
//! `sqlite-inproc`), key-value calls and variable reads inside `block_in_place` (Spin's
//! `key-value-spin` and `variables-env`). `block_in_place` hands the worker's other tasks
//! to another thread while this one blocks; on real Spin a request that does it can stall
//! a keep-alive client (infra/README.md, "What a request costs on Spin").

use crate::runtime_config::{Database, KeyValue, RuntimeConfig};
use crate::stats::Stats;
use anyhow::Result;
use ryd_store::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use wasmtime::component::{HasSelf, Linker, Resource};

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "ryd:host/spin-imports",
        imports: { default: async },
        with: {
            "fermyon:spin/sqlite@2.0.0.connection": super::SqliteConnection,
            "fermyon:spin/key-value@2.0.0.store": super::KvStore,
        },
    });
}

use bindings::fermyon::spin::{key_value as kv, sqlite, variables};

/// State shared by every instance of the application.
pub(crate) struct AppStores {
    /// Where each database and key-value label lives (Spin's runtime configuration).
    pub config: RuntimeConfig,
    /// A local key-value store is one SQLite file behind one connection, by file.
    local_kv: Mutex<BTreeMap<PathBuf, rusqlite::Connection>>,
    /// One Redis connection manager per server, made on first use and shared (Spin's
    /// Redis store keeps one per store the same way).
    redis: tokio::sync::Mutex<BTreeMap<String, redis::aio::ConnectionManager>>,
    pub stats: Arc<Stats>,
}

impl AppStores {
    pub(crate) fn new(config: RuntimeConfig, stats: Arc<Stats>) -> Self {
        AppStores {
            config,
            local_kv: Mutex::new(BTreeMap::new()),
            redis: tokio::sync::Mutex::new(BTreeMap::new()),
            stats,
        }
    }
}

/// What one component may reach.
pub(crate) struct ComponentGrants {
    pub sqlite_databases: Vec<String>,
    pub key_value_stores: Vec<String>,
    /// Component variable → value (templates expanded when the host started).
    pub variables: BTreeMap<String, String>,
}

/// A guest's open database: a local file (used from `spawn_blocking` threads, one call at a
/// time) or a libSQL client (each statement one HTTP request, as Spin's `sqlite-libsql`).
#[derive(Clone)]
// `pub`: bindgen's `with` re-exports it.
#[allow(unreachable_pub)]
pub enum SqliteConnection {
    Local(Arc<Mutex<rusqlite::Connection>>),
    Remote(libsql::Connection),
}

/// The databases one request has open, so that an outbound HTTP call can be checked: made
/// while one of them holds a transaction, it would hold every other writer back for the
/// length of a network call (on libSQL, every writer of every host).
#[derive(Clone, Default)]
pub(crate) struct OpenDatabases(Arc<Mutex<BTreeMap<u32, SqliteConnection>>>);

impl OpenDatabases {
    pub(crate) fn in_transaction(&self) -> bool {
        let Ok(open) = self.0.lock() else { return false };
        open.values().any(|conn| match conn {
            // Not busy: the guest waits for each statement before it can call out.
            SqliteConnection::Local(c) => c.try_lock().map(|c| !c.is_autocommit()).unwrap_or(false),
            SqliteConnection::Remote(c) => !c.is_autocommit(),
        })
    }
}

/// A guest's open key-value store, by label.
// `pub`: bindgen's `with` re-exports it.
#[allow(unreachable_pub)]
pub struct KvStore(String);

/// The Spin part of a request's state.
pub(crate) struct SpinCtx {
    pub grants: Arc<ComponentGrants>,
    pub stores: Arc<AppStores>,
    pub table: wasmtime::component::ResourceTable,
    pub open: OpenDatabases,
}

pub(crate) fn add_to_linker<T: Send + 'static>(linker: &mut Linker<T>, get: fn(&mut T) -> &mut SpinCtx) -> Result<()> {
    Ok(bindings::SpinImports::add_to_linker::<T, HasSelf<SpinCtx>>(linker, get)?)
}

/// Turns off SQLite's memory statistics for this process (Spin's build leaves them on; with
/// them every allocation takes one process-wide mutex). For the benchmarks, to show what
/// they cost; call it before anything else touches SQLite.
pub fn disable_sqlite_memstatus() -> Result<()> {
    // SAFETY: sqlite3_config must precede every other SQLite call of the process; if one
    // came first it answers SQLITE_MISUSE, which is reported, not undefined.
    let rc = unsafe { rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS, 0i32) };
    anyhow::ensure!(rc == rusqlite::ffi::SQLITE_OK, "sqlite3_config(MEMSTATUS) failed: {rc}");
    Ok(())
}

fn io(e: impl std::fmt::Display) -> sqlite::Error {
    sqlite::Error::Io(e.to_string())
}

impl sqlite::Host for SpinCtx {}

impl sqlite::HostConnection for SpinCtx {
    async fn open(&mut self, database: String) -> Result<Resource<SqliteConnection>, sqlite::Error> {
        if !self.grants.sqlite_databases.contains(&database) {
            return Err(sqlite::Error::AccessDenied);
        }
        let started = Instant::now();
        let conn = match self.stores.config.databases.get(&database) {
            None => return Err(sqlite::Error::NoSuchDatabase),
            Some(Database::Local(path)) => {
                let path = path.clone();
                let conn = tokio::task::spawn_blocking(move || rusqlite::Connection::open(&path))
                    .await
                    .map_err(io)?
                    .map_err(io)?;
                SqliteConnection::Local(Arc::new(Mutex::new(conn)))
            }
            // As Spin: a client per open (its own HTTP connection), no statement sent yet.
            Some(Database::LibSql { url, token }) => {
                let db = libsql::Builder::new_remote(url.clone(), token.clone()).build().await.map_err(io)?;
                SqliteConnection::Remote(db.connect().map_err(io)?)
            }
        };
        self.stores.stats.add_sqlite_time(started);
        self.stores.stats.sqlite_opens.fetch_add(1, Ordering::Relaxed);
        let resource = self.table.push(conn.clone()).map_err(io)?;
        if let Ok(mut open) = self.open.0.lock() {
            open.insert(resource.rep(), conn);
        }
        Ok(resource)
    }

    async fn execute(
        &mut self,
        conn: Resource<SqliteConnection>,
        statement: String,
        parameters: Vec<sqlite::Value>,
    ) -> Result<sqlite::QueryResult, sqlite::Error> {
        let started = Instant::now();
        let rows = match self.table.get(&conn).map_err(|_| sqlite::Error::InvalidConnection)? {
            SqliteConnection::Local(conn) => execute_local(conn.clone(), statement, parameters).await,
            // Bounded: a libSQL server that never answers (sqld 0.24's write queue can
            // livelock: infra/README.md, "Beyond one machine") must cost the request a 503, not the
            // host a task that waits forever.
            SqliteConnection::Remote(conn) => {
                match tokio::time::timeout(REMOTE_STATEMENT_TIMEOUT, execute_remote(conn, &statement, parameters)).await
                {
                    Ok(rows) => rows,
                    Err(_) => Err(sqlite::Error::Io(format!(
                        "libSQL: no answer within {} s (LIBSQL_TIMEOUT)",
                        REMOTE_STATEMENT_TIMEOUT.as_secs()
                    ))),
                }
            }
        };
        // Refused statements count too: each was a call (on libSQL, a round trip).
        let stats = &self.stores.stats;
        stats.add_sqlite_time(started);
        stats.sqlite_statements.fetch_add(1, Ordering::Relaxed);
        rows
    }

    async fn drop(&mut self, conn: Resource<SqliteConnection>) -> wasmtime::Result<()> {
        let started = Instant::now();
        if let Ok(mut open) = self.open.0.lock() {
            open.remove(&conn.rep());
        }
        drop(self.table.delete(conn)?);
        self.stores.stats.add_sqlite_time(started);
        Ok(())
    }
}

async fn execute_local(
    conn: Arc<Mutex<rusqlite::Connection>>,
    statement: String,
    parameters: Vec<sqlite::Value>,
) -> Result<sqlite::QueryResult, sqlite::Error> {
    {
        let params: Vec<Value> = parameters
            .into_iter()
            .map(|v| match v {
                sqlite::Value::Integer(n) => Value::Integer(n),
                sqlite::Value::Real(n) => Value::Real(n),
                sqlite::Value::Text(s) => Value::Text(s),
                sqlite::Value::Blob(b) => Value::Blob(b),
                sqlite::Value::Null => Value::Null,
            })
            .collect();
        let rows = tokio::task::spawn_blocking(move || {
            let conn = conn.lock().map_err(|_| ryd_store::SqlError::other("connection poisoned"))?;
            ryd_store::native::execute_on(&conn, &statement, &params)
        })
        .await
        .map_err(io)?;
        let rows = rows.map_err(|e| sqlite::Error::Io(e.message))?;
        Ok(sqlite::QueryResult {
            columns: rows.columns,
            rows: rows
                .rows
                .into_iter()
                .map(|r| sqlite::RowResult {
                    values: r
                        .into_iter()
                        .map(|v| match v {
                            Value::Integer(n) => sqlite::Value::Integer(n),
                            Value::Real(n) => sqlite::Value::Real(n),
                            Value::Text(s) => sqlite::Value::Text(s),
                            Value::Blob(b) => sqlite::Value::Blob(b),
                            Value::Null => sqlite::Value::Null,
                        })
                        .collect(),
                })
                .collect(),
        })
    }
}

/// How long one statement may wait for a libSQL server: longer than sqld's own 5 s write
/// lease and its 10 s idle-stream expiry, which end every healthy wait before it.
const REMOTE_STATEMENT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// One statement on a libSQL server; its errors reach the guest as Spin's do (`Io` with
/// the client's message).
async fn execute_remote(
    conn: &libsql::Connection,
    statement: &str,
    parameters: Vec<sqlite::Value>,
) -> Result<sqlite::QueryResult, sqlite::Error> {
    let params = parameters.into_iter().map(|v| match v {
        sqlite::Value::Integer(n) => libsql::Value::Integer(n),
        sqlite::Value::Real(n) => libsql::Value::Real(n),
        sqlite::Value::Text(s) => libsql::Value::Text(s),
        sqlite::Value::Blob(b) => libsql::Value::Blob(b),
        sqlite::Value::Null => libsql::Value::Null,
    });
    let (columns, rows) = query_libsql(conn, statement, params).await.map_err(io)?;
    let rows = rows
        .into_iter()
        .map(|values| sqlite::RowResult {
            values: values
                .into_iter()
                .map(|v| match v {
                    libsql::Value::Integer(n) => sqlite::Value::Integer(n),
                    libsql::Value::Real(n) => sqlite::Value::Real(n),
                    libsql::Value::Text(s) => sqlite::Value::Text(s),
                    libsql::Value::Blob(b) => sqlite::Value::Blob(b),
                    libsql::Value::Null => sqlite::Value::Null,
                })
                .collect(),
        })
        .collect();
    Ok(sqlite::QueryResult { columns, rows })
}

/// One statement on a libSQL server: its column names and every row, read whole.
pub(crate) async fn query_libsql(
    conn: &libsql::Connection,
    statement: &str,
    params: impl IntoIterator<Item = libsql::Value>,
) -> Result<(Vec<String>, Vec<Vec<libsql::Value>>), libsql::Error> {
    let mut rows = conn.query(statement, libsql::params_from_iter(params)).await?;
    let count = rows.column_count();
    let columns = (0..count).map(|i| rows.column_name(i).unwrap_or_default().to_string()).collect();
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        out.push((0..count).map(|i| row.get_value(i)).collect::<Result<Vec<_>, _>>()?);
    }
    Ok((columns, out))
}

fn other(e: impl std::fmt::Display) -> kv::Error {
    kv::Error::Other(e.to_string())
}

/// Where a guest's open store lives.
enum KvBackend {
    Local(PathBuf),
    Redis(redis::aio::ConnectionManager),
}

impl SpinCtx {
    /// A call on a local store: Spin's `key-value-spin` runs it inside `block_in_place`.
    fn with_local_kv<R>(
        &self,
        path: &std::path::Path,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<R>,
    ) -> Result<R, kv::Error> {
        tokio::task::block_in_place(|| {
            let mut stores = self.stores.local_kv.lock().map_err(other)?;
            if !stores.contains_key(path) {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(other)?;
                }
                let conn = rusqlite::Connection::open(path).map_err(other)?;
                conn.execute_batch(
                    "CREATE TABLE IF NOT EXISTS spin_key_value (store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (store, key))",
                )
                .map_err(other)?;
                stores.insert(path.to_path_buf(), conn);
            }
            f(&stores[path]).map_err(other)
        })
    }

    /// The open store's label, with the stores to resolve it in (read before any await:
    /// the resource table is not shared across threads).
    fn label(&self, store: &Resource<KvStore>) -> Result<(Arc<AppStores>, String), kv::Error> {
        Ok((self.stores.clone(), self.table.get(store).map_err(other)?.0.clone()))
    }
}

async fn resolve((stores, label): (Arc<AppStores>, String)) -> Result<(String, KvBackend), kv::Error> {
    match stores.config.key_value_stores.get(&label) {
        None => Err(kv::Error::NoSuchStore),
        Some(KeyValue::Local(path)) => Ok((label, KvBackend::Local(path.clone()))),
        Some(KeyValue::Redis { url }) => {
            let mut managers = stores.redis.lock().await;
            let manager = match managers.get(url) {
                Some(m) => m.clone(),
                None => {
                    let client = redis::Client::open(url.as_str()).map_err(other)?;
                    let m = client.get_connection_manager().await.map_err(other)?;
                    managers.insert(url.clone(), m.clone());
                    m
                }
            };
            Ok((label, KvBackend::Redis(manager)))
        }
    }
}

impl kv::Host for SpinCtx {}

impl kv::HostStore for SpinCtx {
    async fn open(&mut self, label: String) -> Result<Resource<KvStore>, kv::Error> {
        if !self.grants.key_value_stores.contains(&label) {
            return Err(kv::Error::AccessDenied);
        }
        if !self.stores.config.key_value_stores.contains_key(&label) {
            return Err(kv::Error::NoSuchStore);
        }
        self.stores.stats.kv_opens.fetch_add(1, Ordering::Relaxed);
        self.table.push(KvStore(label)).map_err(other)
    }

    async fn get(&mut self, store: Resource<KvStore>, key: String) -> Result<Option<Vec<u8>>, kv::Error> {
        match resolve(self.label(&store)?).await? {
            (s, KvBackend::Local(path)) => self.with_local_kv(&path, |c| {
                use rusqlite::OptionalExtension;
                c.query_row("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2", (&s, &key), |r| r.get(0))
                    .optional()
            }),
            (_, KvBackend::Redis(mut r)) => redis::AsyncCommands::get(&mut r, key).await.map_err(other),
        }
    }

    async fn set(&mut self, store: Resource<KvStore>, key: String, value: Vec<u8>) -> Result<(), kv::Error> {
        match resolve(self.label(&store)?).await? {
            (s, KvBackend::Local(path)) => self.with_local_kv(&path, |c| {
                c.execute(
                    "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3) ON CONFLICT (store, key) DO UPDATE SET value = ?3",
                    (&s, &key, &value),
                )
                .map(|_| ())
            }),
            (_, KvBackend::Redis(mut r)) => redis::AsyncCommands::set(&mut r, key, value).await.map_err(other),
        }
    }

    async fn delete(&mut self, store: Resource<KvStore>, key: String) -> Result<(), kv::Error> {
        match resolve(self.label(&store)?).await? {
            (s, KvBackend::Local(path)) => self.with_local_kv(&path, |c| {
                c.execute("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2", (&s, &key)).map(|_| ())
            }),
            (_, KvBackend::Redis(mut r)) => redis::AsyncCommands::del(&mut r, key).await.map_err(other),
        }
    }

    async fn exists(&mut self, store: Resource<KvStore>, key: String) -> Result<bool, kv::Error> {
        match resolve(self.label(&store)?).await? {
            (_, KvBackend::Redis(mut r)) => redis::AsyncCommands::exists(&mut r, key).await.map_err(other),
            _ => Ok(self.get(store, key).await?.is_some()),
        }
    }

    async fn get_keys(&mut self, store: Resource<KvStore>) -> Result<Vec<String>, kv::Error> {
        match resolve(self.label(&store)?).await? {
            (s, KvBackend::Local(path)) => self.with_local_kv(&path, |c| {
                let mut stmt = c.prepare("SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key")?;
                let keys = stmt.query_map([&s], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>();
                keys
            }),
            (_, KvBackend::Redis(mut r)) => redis::AsyncCommands::keys(&mut r, "*").await.map_err(other),
        }
    }

    async fn drop(&mut self, store: Resource<KvStore>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}

impl variables::Host for SpinCtx {
    async fn get(&mut self, name: String) -> Result<String, variables::Error> {
        if !crate::manifest::valid_variable_name(&name) {
            return Err(variables::Error::InvalidName(name));
        }
        self.stores.stats.variable_reads.fetch_add(1, Ordering::Relaxed);
        // Spin's environment provider resolves each read inside `block_in_place`.
        tokio::task::block_in_place(|| self.grants.variables.get(&name).cloned())
            .ok_or(variables::Error::Undefined(name))
    }
}
