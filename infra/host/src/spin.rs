//! `fermyon:spin/sqlite`, `key-value` and `variables` @2.0.0, as Spin's defaults provide
//! them: SQLite files in the application's `.spin/` directory, one connection per `open`,
//! a component reaching only the stores and variables its manifest entry declares.
//!
//! Each call is scheduled as Spin 4.0.2 schedules it, so that what the benchmark shows here
//! carries over to real Spin: SQLite `open` and `execute` on `spawn_blocking` (Spin's
//! `sqlite-inproc`), key-value calls and variable reads inside `block_in_place` (Spin's
//! `key-value-spin` and `variables-env`). `block_in_place` hands the worker's other tasks
//! to another thread while this one blocks; on real Spin a request that does it can stall
//! a keep-alive client (RUNTIME.md).

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
pub struct AppStores {
    pub data_dir: PathBuf,
    /// Spin's default key-value store is one SQLite file behind one connection.
    kv: Mutex<Option<rusqlite::Connection>>,
    pub stats: Arc<Stats>,
}

impl AppStores {
    pub fn new(data_dir: PathBuf, stats: Arc<Stats>) -> Self {
        AppStores { data_dir, kv: Mutex::new(None), stats }
    }

    pub fn sqlite_path(&self, label: &str) -> PathBuf {
        // Spin's file name for the `default` database.
        self.data_dir.join(if label == "default" {
            "sqlite_db.db".to_string()
        } else {
            format!("sqlite_db_{label}.db")
        })
    }
}

/// What one component may reach.
pub struct ComponentGrants {
    pub sqlite_databases: Vec<String>,
    pub key_value_stores: Vec<String>,
    /// Component variable → value (templates expanded when the host started).
    pub variables: BTreeMap<String, String>,
}

/// A connection is used from `spawn_blocking` threads, one call at a time.
pub struct SqliteConnection(Arc<Mutex<rusqlite::Connection>>);
pub struct KvStore(String);

/// The Spin part of a request's state.
pub struct SpinCtx {
    pub grants: Arc<ComponentGrants>,
    pub stores: Arc<AppStores>,
    pub table: wasmtime::component::ResourceTable,
}

pub fn add_to_linker<T: Send + 'static>(linker: &mut Linker<T>, get: fn(&mut T) -> &mut SpinCtx) -> Result<()> {
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
        if database != "default" {
            return Err(sqlite::Error::NoSuchDatabase);
        }
        let path = self.stores.sqlite_path(&database);
        let started = Instant::now();
        let conn =
            tokio::task::spawn_blocking(move || rusqlite::Connection::open(&path)).await.map_err(io)?.map_err(io)?;
        self.stores.stats.add_sqlite_time(started);
        self.stores.stats.sqlite_opens.fetch_add(1, Ordering::Relaxed);
        self.table.push(SqliteConnection(Arc::new(Mutex::new(conn)))).map_err(io)
    }

    async fn execute(
        &mut self,
        conn: Resource<SqliteConnection>,
        statement: String,
        parameters: Vec<sqlite::Value>,
    ) -> Result<sqlite::QueryResult, sqlite::Error> {
        let conn = self.table.get(&conn).map_err(|_| sqlite::Error::InvalidConnection)?.0.clone();
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
        let started = Instant::now();
        let rows = tokio::task::spawn_blocking(move || {
            let conn = conn.lock().map_err(|_| ryd_store::SqlError::other("connection poisoned"))?;
            ryd_store::native::execute_on(&conn, &statement, &params)
        })
        .await
        .map_err(io)?;
        let stats = &self.stores.stats;
        stats.add_sqlite_time(started);
        stats.sqlite_statements.fetch_add(1, Ordering::Relaxed);
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

    async fn drop(&mut self, conn: Resource<SqliteConnection>) -> wasmtime::Result<()> {
        let started = Instant::now();
        drop(self.table.delete(conn)?);
        self.stores.stats.add_sqlite_time(started);
        Ok(())
    }
}

fn other(e: impl std::fmt::Display) -> kv::Error {
    kv::Error::Other(e.to_string())
}

impl SpinCtx {
    fn with_kv<R>(&self, f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<R>) -> Result<R, kv::Error> {
        tokio::task::block_in_place(|| {
            let mut guard = self.stores.kv.lock().map_err(other)?;
            if guard.is_none() {
                let conn =
                    rusqlite::Connection::open(self.stores.data_dir.join("sqlite_key_value.db")).map_err(other)?;
                conn.execute_batch(
                    "CREATE TABLE IF NOT EXISTS spin_key_value (store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (store, key))",
                )
                .map_err(other)?;
                *guard = Some(conn);
            }
            f(guard.as_ref().expect("opened above")).map_err(other)
        })
    }

    fn store_name(&self, store: &Resource<KvStore>) -> Result<String, kv::Error> {
        Ok(self.table.get(store).map_err(other)?.0.clone())
    }
}

impl kv::Host for SpinCtx {}

impl kv::HostStore for SpinCtx {
    async fn open(&mut self, label: String) -> Result<Resource<KvStore>, kv::Error> {
        if !self.grants.key_value_stores.contains(&label) {
            return Err(kv::Error::AccessDenied);
        }
        if label != "default" {
            return Err(kv::Error::NoSuchStore);
        }
        self.stores.stats.kv_opens.fetch_add(1, Ordering::Relaxed);
        self.table.push(KvStore(label)).map_err(other)
    }

    async fn get(&mut self, store: Resource<KvStore>, key: String) -> Result<Option<Vec<u8>>, kv::Error> {
        let s = self.store_name(&store)?;
        self.with_kv(|c| {
            use rusqlite::OptionalExtension;
            c.query_row("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2", (&s, &key), |r| r.get(0))
                .optional()
        })
    }

    async fn set(&mut self, store: Resource<KvStore>, key: String, value: Vec<u8>) -> Result<(), kv::Error> {
        let s = self.store_name(&store)?;
        self.with_kv(|c| {
            c.execute(
                "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3) ON CONFLICT (store, key) DO UPDATE SET value = ?3",
                (&s, &key, &value),
            )
            .map(|_| ())
        })
    }

    async fn delete(&mut self, store: Resource<KvStore>, key: String) -> Result<(), kv::Error> {
        let s = self.store_name(&store)?;
        self.with_kv(|c| c.execute("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2", (&s, &key)).map(|_| ()))
    }

    async fn exists(&mut self, store: Resource<KvStore>, key: String) -> Result<bool, kv::Error> {
        Ok(self.get(store, key).await?.is_some())
    }

    async fn get_keys(&mut self, store: Resource<KvStore>) -> Result<Vec<String>, kv::Error> {
        let s = self.store_name(&store)?;
        self.with_kv(|c| {
            let mut stmt = c.prepare("SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key")?;
            let keys = stmt.query_map([&s], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>();
            keys
        })
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
