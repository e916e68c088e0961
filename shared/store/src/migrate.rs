//! Numbered migrations, applied when `PRAGMA user_version` is behind.

use crate::sql::{Row, Sql, SqlError, SqlErrorKind, Value};

/// The migrations, in order; each one's number is its position (from 1).
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_ckan_search.sql"),
    include_str!("../migrations/0003_listed.sql"),
    include_str!("../migrations/0004_search_listed_only.sql"),
    include_str!("../migrations/0005_api_keys_groups.sql"),
    include_str!("../migrations/0006_listing_without_triggers.sql"),
    include_str!("../migrations/0007_resource_ids_no_stat4.sql"),
    include_str!("../migrations/0008_dashboard_order.sql"),
    include_str!("../migrations/0009_public_changes.sql"),
    include_str!("../migrations/0010_list_pages.sql"),
    include_str!("../migrations/0011_account_sessions.sql"),
    include_str!("../migrations/0012_console.sql"),
    include_str!("../migrations/0013_outbox.sql"),
    include_str!("../migrations/0014_webhooks.sql"),
    include_str!("../migrations/0015_webhooks_without_trigger.sql"),
];

/// The version a fully migrated database has.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

fn current_version(sql: &dyn Sql) -> Result<i64, SqlError> {
    Ok(sql.execute("PRAGMA user_version", &[])?.first().map(|r| r.int(0)).unwrap_or(0))
}

/// Brings the schema up to date. Safe when two instances start at once: the version is
/// re-read under the write lock, so each migration runs exactly once.
///
/// Each migration is its own transaction (with its version bump): on libSQL every
/// statement is a network round trip and the server interrupts a write transaction held
/// past its lease (5 s) while another writer waits, so a fresh database's whole schema in
/// one transaction could be cut off under load; one migration's statements are few.
pub fn migrate(sql: &dyn Sql) -> Result<i64, SqlError> {
    if current_version(sql)? >= SCHEMA_VERSION {
        return Ok(SCHEMA_VERSION);
    }
    // journal_mode cannot change inside a transaction: WAL is set before (idempotent; a
    // libSQL server is WAL already and refuses the setting).
    crate::sql::tune(sql, "journal_mode = WAL")?;
    let started = std::time::Instant::now();
    loop {
        let step = crate::sql::transaction(sql, || -> Result<bool, SqlError> {
            let from = current_version(sql)?;
            let Some(migration) = MIGRATIONS.get(from as usize) else {
                return Ok(true);
            };
            for statement in split_statements(migration) {
                sql.execute(&statement, &[])
                    .map_err(|e| SqlError { message: format!("migration {}: {}", from + 1, e.message), ..e })?;
            }
            sql.execute(&format!("PRAGMA user_version = {}", from + 1), &[])?;
            Ok(false)
        });
        match step {
            Ok(true) => return Ok(SCHEMA_VERSION),
            Ok(false) => {}
            // Rolled back whole (libSQL ends a transaction it held too long): this
            // migration again, the version re-read, for as long as a writer waits.
            Err(e) if e.kind == SqlErrorKind::Busy && started.elapsed() < crate::sql::WRITE_LOCK_WAIT => {}
            Err(e) => return Err(e),
        }
    }
}

/// Gathers the planner's statistics (after a bulk import), keeping only `sqlite_stat1`.
///
/// Every request opens a fresh connection (Spin), and a connection loads the statistics
/// with the schema on its first statement: `sqlite_stat4`'s samples (SQLite builds with
/// STAT4, as rusqlite's and Spin's do) cost 250 µs of that, per request, and the table's
/// mere presence another 5-10% (`bench-sqlite` on 13,000 datasets: first statement 577 →
/// about 300 µs). `sqlite_stat1` is what the plans need (`shared/ckan/tests/query_plans.rs`
/// checks them with only it).
pub fn analyse(sql: &dyn Sql) -> Result<(), SqlError> {
    sql.execute("ANALYZE", &[])?;
    sql.execute("DROP TABLE IF EXISTS sqlite_stat4", &[])?;
    Ok(())
}

/// Cheap check for the per-request path: one `PRAGMA`, and migrations only when behind.
pub fn ensure_schema(sql: &dyn Sql) -> Result<(), SqlError> {
    brought_up(sql).map(|_| ())
}

/// [`ensure_schema`], telling whether it migrated.
fn brought_up(sql: &dyn Sql) -> Result<bool, SqlError> {
    if current_version(sql)? >= SCHEMA_VERSION {
        return Ok(false);
    }
    migrate(sql)?;
    Ok(true)
}

/// The schema's version as a column: a read whose last column it is needs no statement of
/// its own for the check (see [`current_row`]).
pub const VERSION_COLUMN: &str = "(SELECT user_version FROM pragma_user_version)";

/// The first row of `query`, as `read` makes it, on an up-to-date schema, in one statement
/// where [`ensure_schema`] and the read are two: `query`'s last column is
/// [`VERSION_COLUMN`]. The answer stands when that version is current; when it is behind,
/// no row told it, or the read failed (a fresh database has no tables), the schema is
/// checked apart, and the read runs again if that migrated.
pub fn current_row<T>(
    sql: &dyn Sql,
    query: &str,
    params: &[Value],
    read: impl Fn(Row<'_>) -> T,
) -> Result<Option<T>, SqlError> {
    let run = || -> Result<(Option<T>, Option<i64>), SqlError> {
        Ok(sql.execute(query, params)?.first().map(|r| (read(r), r.last_int())).unzip())
    };
    let first = run();
    if matches!(&first, Ok((_, Some(v))) if *v >= SCHEMA_VERSION) || !brought_up(sql)? {
        return first.map(|(answer, _)| answer);
    }
    run().map(|(answer, _)| answer)
}

/// Splits a migration file into statements (`;` at the end of a line; no triggers with
/// inner semicolons are written without `-- end` markers).
fn split_statements(text: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut in_trigger = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("--") || trimmed.is_empty() {
            continue;
        }
        if trimmed.to_ascii_uppercase().starts_with("CREATE TRIGGER") {
            in_trigger = true;
        }
        current.push_str(line);
        current.push('\n');
        let ends = if in_trigger { trimmed.eq_ignore_ascii_case("END;") } else { trimmed.ends_with(';') };
        if ends {
            statements.push(std::mem::take(&mut current));
            in_trigger = false;
        }
    }
    if !current.trim().is_empty() {
        statements.push(current);
    }
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_listed_in_order() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        assert_eq!(files.len(), MIGRATIONS.len(), "a migration file is not in MIGRATIONS: {files:?}");
        for (i, f) in files.iter().enumerate() {
            assert!(f.starts_with(&format!("{:04}_", i + 1)), "{f} is out of sequence");
            assert_eq!(std::fs::read_to_string(dir.join(f)).unwrap(), MIGRATIONS[i], "{f} is not MIGRATIONS[{i}]");
        }
    }

    #[test]
    fn statements_split_on_line_ends_and_keep_triggers_whole() {
        let s = split_statements("CREATE TABLE a(x);\n-- c\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n  SELECT 1;\nEND;\nCREATE INDEX i ON a(x);");
        assert_eq!(s.len(), 3);
        assert!(s[1].contains("SELECT 1;"));
    }
}
