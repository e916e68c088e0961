//! The SQL-execution port.

use std::fmt;

/// A SQLite value, as Spin's `fermyon:spin/sqlite` interface has them.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::Text(s.clone())
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Integer(n)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Integer(b as i64)
    }
}
impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Self {
        Value::Blob(b)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map(Into::into).unwrap_or(Value::Null)
    }
}

/// What went wrong, as far as callers need to tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlErrorKind {
    /// A UNIQUE or PRIMARY KEY constraint.
    Unique,
    /// The schema is not there yet (first request on a new database).
    NoSuchTable,
    Busy,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    pub kind: SqlErrorKind,
    pub message: String,
}

impl SqlError {
    /// Classifies SQLite's own message (both implementations see the same text).
    pub fn from_message(message: impl Into<String>) -> Self {
        let message = message.into();
        let kind = if message.contains("UNIQUE constraint failed") {
            SqlErrorKind::Unique
        } else if message.contains("no such table") {
            SqlErrorKind::NoSuchTable
        } else if message.contains("database is locked") || message.contains("busy") {
            SqlErrorKind::Busy
        } else {
            SqlErrorKind::Other
        };
        Self { kind, message }
    }

    pub fn other(message: impl Into<String>) -> Self {
        Self { kind: SqlErrorKind::Other, message: message.into() }
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sqlite: {}", self.message)
    }
}

impl std::error::Error for SqlError {}

/// Result rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Rows {
    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|values| Row { values })
    }
    pub fn first(&self) -> Option<Row<'_>> {
        self.rows.first().map(|values| Row { values })
    }
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// One row, read by column index. Missing or mistyped values read as empty: the schema,
/// not the reader, guarantees types.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    values: &'a [Value],
}

impl<'a> Row<'a> {
    pub fn get(&self, i: usize) -> &'a Value {
        self.values.get(i).unwrap_or(&Value::Null)
    }
    pub fn text(&self, i: usize) -> String {
        self.opt_text(i).unwrap_or_default()
    }
    pub fn opt_text(&self, i: usize) -> Option<String> {
        match self.get(i) {
            Value::Text(s) => Some(s.clone()),
            Value::Integer(n) => Some(n.to_string()),
            Value::Real(n) => Some(n.to_string()),
            _ => None,
        }
    }
    pub fn int(&self, i: usize) -> i64 {
        self.opt_int(i).unwrap_or(0)
    }
    pub fn opt_int(&self, i: usize) -> Option<i64> {
        match self.get(i) {
            Value::Integer(n) => Some(*n),
            Value::Real(n) => Some(*n as i64),
            Value::Text(s) => s.parse().ok(),
            _ => None,
        }
    }
    pub fn bool(&self, i: usize) -> bool {
        self.int(i) != 0
    }
}

/// The port: execute one statement with positional (`?`) parameters.
pub trait Sql {
    fn execute(&self, sql: &str, params: &[Value]) -> Result<Rows, SqlError>;
}

impl<T: Sql + ?Sized> Sql for &T {
    fn execute(&self, sql: &str, params: &[Value]) -> Result<Rows, SqlError> {
        (**self).execute(sql, params)
    }
}

/// Runs `f` inside `BEGIN IMMEDIATE … COMMIT`, rolling back on any error, so a failure
/// halfway through a write changes nothing. IMMEDIATE takes the write lock up front:
/// two writers never deadlock upgrading read locks.
pub fn transaction<T, E>(sql: &dyn Sql, f: impl FnOnce() -> Result<T, E>) -> Result<T, E>
where
    E: From<SqlError>,
{
    // Writers wait for each other instead of failing at once; only write paths pay this.
    sql.execute("PRAGMA busy_timeout = 5000", &[])?;
    sql.execute("BEGIN IMMEDIATE", &[])?;
    match f() {
        Ok(v) => match sql.execute("COMMIT", &[]) {
            Ok(_) => Ok(v),
            Err(e) => {
                let _ = sql.execute("ROLLBACK", &[]);
                Err(e.into())
            }
        },
        Err(e) => {
            let _ = sql.execute("ROLLBACK", &[]);
            Err(e)
        }
    }
}
