#![warn(missing_docs)]
//! Storage: the schema as numbered migrations, and every query the application runs.
//!
//! All SQL goes through [`Sql`], a port (one required method, `execute`) with two implementations: Spin's
//! `sqlite::Connection` (in `ryd-spin-adapter`) and rusqlite (`native::NativeSql`, behind
//! the `native` feature) for native tests and tools. The same SQL runs in both.

pub mod api_keys;
pub mod audit;
pub mod changes;
pub mod dashboard;
pub mod datasets;
pub mod groups;
pub mod idempotency;
mod keys;
pub mod listing;
pub mod members;
pub mod migrate;
#[cfg(feature = "native")]
pub mod native;
pub mod objects;
pub mod orgs;
pub mod outbox;
pub mod page_cache;
pub mod pipeline;
pub mod public;
pub mod sessions;
pub mod sql;
pub mod tokens;
pub mod tools;
pub mod webhooks;

pub use migrate::{analyse, current_row, ensure_schema, migrate, SCHEMA_VERSION, VERSION_COLUMN};
pub use sql::{transaction, Row, Rows, Sql, SqlError, SqlErrorKind, Value};
