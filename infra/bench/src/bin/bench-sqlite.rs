// What it prints is what it is for.
#![allow(clippy::print_stdout)]
//! What Spin's SQLite costs a request before any query of ours: Spin opens a connection
//! per request, and a fresh connection parses the whole schema on its first statement.
//! Opens, queries and closes connections to a database file from 1, 2 and 16 threads and
//! prints connections/s and the time of each phase.
//!
//! `cargo run --release -p ryd-bench --bin bench-sqlite -- DB [--memstatus on|off] [--statement SQL] [--hold]
//!   [--only-tables a,b,c]`
//!
//! `--memstatus off` turns off SQLite's memory statistics, which Spin's build leaves on:
//! with them, every allocation takes one process-wide mutex, and parsing a schema is
//! thousands of allocations, so connections opened on different threads queue for it.
//!
//! `--hold` keeps one more connection open throughout, as a process that holds the
//! database open would: a WAL database's last connection to close checkpoints it and
//! deletes its `-wal` and `-shm` files, which the next connection creates again.
//!
//! `--only-tables` measures a copy of the database (`DB.only`, beside it) holding only the
//! tables named, with their indexes and a virtual table's own tables: what a database of
//! its own for some of the application's reads would cost each connection.

use anyhow::{Context, Result};
use std::time::{Duration, Instant};

const PER_THREAD: usize = 2000;

#[derive(Default, Clone, Copy)]
struct Phases {
    open: Duration,
    first: Duration,
    again: Duration,
    close: Duration,
}

fn query(conn: &rusqlite::Connection, sql: &str) -> Result<()> {
    let mut statement = conn.prepare(sql)?;
    let mut rows = statement.query([])?;
    while rows.next()?.is_some() {}
    Ok(())
}

fn connections(path: &str, sql: &str) -> Result<Phases> {
    let mut p = Phases::default();
    for _ in 0..PER_THREAD {
        let t0 = Instant::now();
        let conn = rusqlite::Connection::open(path)?;
        let t1 = Instant::now();
        query(&conn, sql)?;
        let t2 = Instant::now();
        query(&conn, sql)?;
        let t3 = Instant::now();
        drop(conn);
        let t4 = Instant::now();
        p.open += t1 - t0;
        p.first += t2 - t1;
        p.again += t3 - t2;
        p.close += t4 - t3;
    }
    Ok(p)
}

/// A copy of the database at `path` with only `tables` (and what belongs to them), in the
/// original's journal mode.
fn copy_with_only(path: &str, tables: &[&str]) -> Result<String> {
    let copy = format!("{path}.only");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{copy}{suffix}"));
    }
    let original = rusqlite::Connection::open(path)?;
    let journal: String = original.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    original.execute("VACUUM INTO ?1", [&copy]).context("copying the database")?;
    drop(original);
    let conn = rusqlite::Connection::open(&copy)?;
    // A kept table may refer to a dropped one: only the schema is measured here.
    conn.execute_batch("PRAGMA foreign_keys = OFF")?;
    let all: Vec<(String, bool)> = conn
        .prepare("SELECT name, sql LIKE 'CREATE VIRTUAL%' FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for name in tables {
        anyhow::ensure!(all.iter().any(|(n, _)| n == name), "no table {name} in {path}");
    }
    // A kept virtual table's own tables are named after it; a dropped one takes its own.
    let kept = |name: &str| {
        tables.contains(&name)
            || all
                .iter()
                .any(|(vt, virt)| *virt && tables.contains(&vt.as_str()) && name.starts_with(&format!("{vt}_")))
    };
    for (name, virt) in all.iter().filter(|(_, v)| *v).chain(all.iter().filter(|(_, v)| !*v)) {
        let exists: bool =
            conn.query_row("SELECT count(*) > 0 FROM sqlite_master WHERE name = ?1", [name], |r| r.get(0))?;
        if exists && !kept(name) {
            conn.execute_batch(&format!("DROP TABLE \"{name}\""))
                .with_context(|| format!("dropping {name} (virtual: {virt})"))?;
        }
    }
    if conn.query_row("SELECT count(*) > 0 FROM sqlite_master WHERE name = 'sqlite_stat1'", [], |r| r.get(0))? {
        conn.execute("DELETE FROM sqlite_stat1 WHERE tbl NOT IN (SELECT name FROM sqlite_master)", [])?;
    }
    conn.execute_batch("VACUUM")?;
    conn.query_row(&format!("PRAGMA journal_mode = {journal}"), [], |r| r.get::<_, String>(0))?;
    Ok(copy)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let path = args.get(1).filter(|a| !a.starts_with("--")).context("usage: bench-sqlite DB [--memstatus on|off]")?;
    let sql = arg("--statement").unwrap_or_else(|| "SELECT count(*) FROM sqlite_master".into());
    let memstatus = arg("--memstatus").unwrap_or_else(|| "on".into());
    if memstatus == "off" {
        ryd_host::disable_sqlite_memstatus()?;
    }
    let copy;
    let path = match arg("--only-tables") {
        Some(tables) => {
            copy = copy_with_only(path, &tables.split(',').map(str::trim).collect::<Vec<_>>())?;
            &copy
        }
        None => path,
    };
    let conn = rusqlite::Connection::open(path)?;
    let (objects, bytes): (i64, i64) =
        conn.query_row("SELECT count(*), coalesce(sum(length(sql)), 0) FROM sqlite_master", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let journal: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    // Read once so the held connection has the WAL's files open, as a reader would.
    let held = if args.iter().any(|a| a == "--hold") {
        Some(conn)
    } else {
        drop(conn);
        None
    };
    if let Some(conn) = &held {
        query(conn, &sql)?;
    }
    println!("{path}: {objects} schema objects, {bytes} bytes of SQL, journal {journal}, memstatus {memstatus}, held open {}", held.is_some());
    println!(
        "{:>7} {:>8} {:>9} {:>13} {:>10} {:>9}",
        "threads", "conn/s", "open µs", "1st stmt µs", "again µs", "close µs"
    );
    for threads in [1, 2, 16] {
        let started = Instant::now();
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (path, sql) = (path.clone(), sql.clone());
                std::thread::spawn(move || connections(&path, &sql))
            })
            .collect();
        let mut total = Phases::default();
        for h in handles {
            let p = h.join().map_err(|_| anyhow::anyhow!("a thread panicked"))??;
            total.open += p.open;
            total.first += p.first;
            total.again += p.again;
            total.close += p.close;
        }
        let n = (threads * PER_THREAD) as f64;
        let us = |d: Duration| d.as_secs_f64() * 1e6 / n;
        println!(
            "{:>7} {:>8.0} {:>9.1} {:>13.1} {:>10.1} {:>9.1}",
            threads,
            n / started.elapsed().as_secs_f64(),
            us(total.open),
            us(total.first),
            us(total.again),
            us(total.close)
        );
    }
    Ok(())
}
