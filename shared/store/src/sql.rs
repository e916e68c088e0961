//! The SQL-execution port.

use std::fmt;

/// A SQLite value, as Spin's `fermyon:spin/sqlite` interface has them.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// A 64-bit integer.
    Integer(i64),
    /// A float.
    Real(f64),
    /// UTF-8 text.
    Text(String),
    /// Bytes.
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
    /// The database cannot take this now; the same request may succeed later (`503` with
    /// `Retry-After`): SQLite's busy lock, and libSQL's equivalents (a write transaction
    /// it timed out, a stream it expired, the server unreachable).
    Busy,
    /// A statement the database refuses to run at all (libSQL refuses value-setting
    /// PRAGMAs and ANALYZE: "unsupported statement").
    Unsupported,
    /// Anything else.
    Other,
}

/// Marks in SQLite's and libSQL's error messages that mean "not now, try again" (the
/// guest sees only the message text, on Spin as on our host).
const RETRY_LATER: &[&str] = &[
    // SQLite's SQLITE_BUSY, as rusqlite and libSQL word it.
    "database is locked",
    "SQLITE_BUSY",
    // sqld rolls back a write transaction held past its lease (5 s) while another waits.
    "SQLITE_INTERRUPT",
    "Transaction timed out",
    "STREAM_EXPIRED",
    "stream has expired",
    // The server unreachable, or (our host) not answering within its bound.
    "error sending request",
    "Connection refused",
    "LIBSQL_TIMEOUT",
];

/// An error from the database, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    /// What kind of failure, as far as callers tell them apart.
    pub kind: SqlErrorKind,
    /// The database's own message.
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
        } else if message.contains("unsupported statement") {
            // Before "busy": the refused statement may be `PRAGMA busy_timeout = 0`.
            SqlErrorKind::Unsupported
        } else if RETRY_LATER.iter().any(|m| message.contains(m)) {
            SqlErrorKind::Busy
        } else {
            SqlErrorKind::Other
        };
        Self { kind, message }
    }

    /// An error of kind [`SqlErrorKind::Other`].
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
    /// Column names.
    pub columns: Vec<String>,
    /// The rows' values, in column order.
    pub rows: Vec<Vec<Value>>,
}

impl Rows {
    /// Every row.
    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|values| Row { values })
    }
    /// The first row, if any.
    pub fn first(&self) -> Option<Row<'_>> {
        self.rows.first().map(|values| Row { values })
    }
    /// How many rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    /// Whether there are none.
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
    /// Column `i`'s value (`Null` past the end).
    pub fn get(&self, i: usize) -> &'a Value {
        self.values.get(i).unwrap_or(&Value::Null)
    }
    /// Column `i` as text (`""` when null).
    pub fn text(&self, i: usize) -> String {
        self.opt_text(i).unwrap_or_default()
    }
    /// Column `i` as text; numbers are written out, null and blobs are `None`.
    pub fn opt_text(&self, i: usize) -> Option<String> {
        match self.get(i) {
            Value::Text(s) => Some(s.clone()),
            Value::Integer(n) => Some(n.to_string()),
            Value::Real(n) => Some(n.to_string()),
            _ => None,
        }
    }
    /// Column `i` as an integer (`0` when null).
    pub fn int(&self, i: usize) -> i64 {
        self.opt_int(i).unwrap_or(0)
    }
    /// Column `i` as an integer; text is parsed, null and blobs are `None`.
    pub fn opt_int(&self, i: usize) -> Option<i64> {
        match self.get(i) {
            Value::Integer(n) => Some(*n),
            Value::Real(n) => Some(*n as i64),
            Value::Text(s) => s.parse().ok(),
            _ => None,
        }
    }
    /// Column `i` as a boolean (non-zero).
    pub fn bool(&self, i: usize) -> bool {
        self.int(i) != 0
    }
    /// How many columns.
    pub fn len(&self) -> usize {
        self.values.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
    /// The last column as an integer (a column a statement appends, such as
    /// [`crate::VERSION_COLUMN`]).
    pub fn last_int(&self) -> i64 {
        self.values.len().checked_sub(1).map(|i| self.int(i)).unwrap_or(0)
    }
}

/// The port: execute one statement with positional (`?`) parameters.
pub trait Sql {
    /// Runs one statement with its parameters and returns every row it yields.
    fn execute(&self, sql: &str, params: &[Value]) -> Result<Rows, SqlError>;

    /// Whether this connection has refused a setting (see [`tune`]); a connection that
    /// remembers it spares every later setting its round trip to a libSQL server.
    fn refuses_settings(&self) -> bool {
        false
    }

    /// Told once a setting was refused; connections that cannot remember ignore it.
    fn settings_refused(&self) {}
}

impl<T: Sql + ?Sized> Sql for &T {
    fn execute(&self, sql: &str, params: &[Value]) -> Result<Rows, SqlError> {
        (**self).execute(sql, params)
    }
    fn refuses_settings(&self) -> bool {
        (**self).refuses_settings()
    }
    fn settings_refused(&self) {
        (**self).settings_refused()
    }
}

/// Runs `f` inside `BEGIN IMMEDIATE … COMMIT`, rolling back on any error, so a failure
/// halfway through a write changes nothing. IMMEDIATE takes the write lock up front:
/// two writers never deadlock upgrading read locks.
pub fn transaction<T, E>(sql: &dyn Sql, f: impl FnOnce() -> Result<T, E>) -> Result<T, E>
where
    E: From<SqlError>,
{
    begin_immediate(sql)?;
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

/// Sets a connection setting (`busy_timeout = 0`, `synchronous = NORMAL`, …), if the
/// database takes settings: libSQL refuses every value-setting PRAGMA (sqld is always WAL,
/// with its own locking and durability), and there the setting is simply not ours to make.
/// `Ok(false)` when refused so, now or earlier on this connection.
pub fn tune(sql: &dyn Sql, setting: &str) -> Result<bool, SqlError> {
    if sql.refuses_settings() {
        return Ok(false);
    }
    match sql.execute(&format!("PRAGMA {setting}"), &[]) {
        Ok(_) => Ok(true),
        Err(e) if e.kind == SqlErrorKind::Unsupported => {
            sql.settings_refused();
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// How long a writer waits for the write lock before answering busy.
pub const WRITE_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// `BEGIN IMMEDIATE`, waiting for the write lock here rather than in SQLite's busy
/// handler: that one sleeps 1, 2, 5, 10, … up to 100 ms between tries, so under 16
/// concurrent writers a waiter slept long after the lock was free (p99 of a new token
/// every request, concurrency 16, on real Spin: 650 ms). Here a waiter retries after 1 ms,
/// then a little longer the longer it waits (never more than 4 ms), and in a component
/// the sleep is Spin's async timer: it holds no worker thread.
///
/// SQLite's handler is turned off for the connection (rusqlite, which Spin uses, opens
/// every connection with a 5 s one). Its reads need none: in WAL mode a reader never
/// waits for a writer, and a transaction that holds the write lock waits for nothing.
fn begin_immediate(sql: &dyn Sql) -> Result<(), SqlError> {
    tune(sql, "busy_timeout = 0")?;
    let started = std::time::Instant::now();
    let mut attempt: u32 = 0;
    loop {
        match sql.execute("BEGIN IMMEDIATE", &[]) {
            Err(e) if e.kind == SqlErrorKind::Busy && started.elapsed() < WRITE_LOCK_WAIT => {
                attempt += 1;
                // 1 ms for the first ten tries, then 2, then 4: a queue of writers
                // drains in turn without a crowd of tries on two cores.
                let ms = match attempt {
                    0..=10 => 1,
                    11..=40 => 2,
                    _ => 4,
                };
                std::thread::sleep(std::time::Duration::from_millis(ms));
            }
            other => return other.map(|_| ()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libsqls_interrupts_expiries_and_timeouts_are_busy_and_its_refusals_unsupported() {
        for m in [
            "Hrana: `cursor error: `error at step 0: (error code: SQLITE_INTERRUPT) `SQLite error: interrupted```",
            "Hrana: `api error: `{\"message\":\"The stream has expired due to inactivity\",\"code\":\"STREAM_EXPIRED\"}``",
            "database is locked",
            "libSQL: no answer within 20 s (LIBSQL_TIMEOUT)",
        ] {
            assert_eq!(SqlError::from_message(m).kind, SqlErrorKind::Busy, "{m}");
        }
        // A word in a message is not a code: this is a broken statement, not a busy lock.
        assert_eq!(SqlError::from_message("no such column: busy_until").kind, SqlErrorKind::Other);
        let refused = "SQL string could not be parsed: unsupported statement: PRAGMA busy_timeout = 0";
        assert_eq!(SqlError::from_message(refused).kind, SqlErrorKind::Unsupported);
    }

    /// A libSQL-like connection: every value-setting PRAGMA refused, each call counted.
    #[derive(Default)]
    struct RefusesPragmas {
        calls: std::cell::Cell<u32>,
        refused: std::cell::Cell<bool>,
    }

    impl Sql for RefusesPragmas {
        fn execute(&self, sql: &str, _: &[Value]) -> Result<Rows, SqlError> {
            self.calls.set(self.calls.get() + 1);
            Err(SqlError::from_message(format!("SQL string could not be parsed: unsupported statement: {sql}")))
        }
        fn refuses_settings(&self) -> bool {
            self.refused.get()
        }
        fn settings_refused(&self) {
            self.refused.set(true)
        }
    }

    #[test]
    fn a_connection_that_refused_one_setting_is_sent_no_more() {
        let conn = RefusesPragmas::default();
        assert_eq!(tune(&conn, "busy_timeout = 0"), Ok(false));
        assert_eq!(tune(&conn, "synchronous = NORMAL"), Ok(false));
        assert_eq!(tune(&conn, "synchronous = FULL"), Ok(false));
        assert_eq!(conn.calls.get(), 1, "one round trip, then remembered");
    }
}
