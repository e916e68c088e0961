//! rusqlite-backed [`Sql`] for native tests and command-line tools.

use crate::sql::{Rows, Sql, SqlError, Value};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::Connection;

/// A [`Sql`] on a rusqlite connection.
pub struct NativeSql {
    conn: Connection,
}

impl NativeSql {
    /// Opens (or creates) the database file at `path`.
    pub fn open(path: &std::path::Path) -> Result<Self, SqlError> {
        Connection::open(path).map(|conn| Self { conn }).map_err(|e| SqlError::from_message(e.to_string()))
    }
    /// A fresh in-memory database.
    pub fn in_memory() -> Self {
        Self { conn: Connection::open_in_memory().expect("in-memory SQLite always opens") }
    }
    /// The rusqlite connection, for tools that need SQLite beyond [`Sql`].
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Integer(n) => ToSqlOutput::Borrowed(ValueRef::Integer(*n)),
            Value::Real(n) => ToSqlOutput::Borrowed(ValueRef::Real(*n)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

/// Runs one statement the way Spin's host does: prepare, bind, step through all rows.
pub fn execute_on(conn: &Connection, sql: &str, params: &[Value]) -> Result<Rows, SqlError> {
    let err = |e: rusqlite::Error| SqlError::from_message(e.to_string());
    let mut stmt = conn.prepare_cached(sql).map_err(err)?;
    let columns: Vec<String> = stmt.column_names().map(|c| c.to_string()).collect();
    let n = columns.len();
    let mut rows = stmt.query(rusqlite::params_from_iter(params.iter())).map_err(err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(err)? {
        let mut values = Vec::with_capacity(n);
        for i in 0..n {
            values.push(match row.get_ref(i).map_err(err)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(v) => Value::Integer(v),
                ValueRef::Real(v) => Value::Real(v),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            });
        }
        out.push(values);
    }
    Ok(Rows { columns, rows: out })
}

impl Sql for NativeSql {
    fn execute(&self, sql: &str, params: &[Value]) -> Result<Rows, SqlError> {
        execute_on(&self.conn, sql, params)
    }
}
