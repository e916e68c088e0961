//! `ryd-host import`: CKAN dumps into the application's database, in batches.

use anyhow::{Context, Result};
use ryd_ckan::import::{import, records, Report};
use ryd_store::native::NativeSql;
use ryd_store::Sql;
use serde_json::Value;
use std::fmt;
use std::io::BufRead;
use std::path::Path;
use std::time::Instant;

/// Records per transaction: big enough to be fast, small enough to hold little memory.
const BATCH: usize = 5_000;

pub struct ImportSummary {
    pub report: Report,
    pub seconds: f64,
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.report;
        let rows = r.organisations + r.datasets;
        writeln!(
            f,
            "imported {} organisations and {} datasets in {:.1} s ({:.0} rows/s)",
            r.organisations,
            r.datasets,
            self.seconds,
            rows as f64 / self.seconds.max(1e-9)
        )?;
        for (why, n) in &r.skipped {
            writeln!(f, "skipped {n}: {why}")?;
        }
        Ok(())
    }
}

fn flush(db: &NativeSql, batch: &mut Vec<Value>, report: &mut Report) -> Result<()> {
    let recs: Vec<&Value> = batch.iter().flat_map(records).collect();
    import(db, &recs, report).context("importing a batch (nothing of it was written)")?;
    batch.clear();
    Ok(())
}

/// Imports JSON documents (one per file) or JSON lines, organisations before datasets
/// within each batch; a dataset whose organisation comes later in another batch is
/// reported as skipped, so dumps list organisations first (`ckanapi dump` and
/// `ryd-host generate` do).
pub fn import_files(db_path: &Path, files: &[String]) -> Result<ImportSummary> {
    let db = NativeSql::open(db_path)?;
    ryd_store::migrate(&db)?;
    db.execute("PRAGMA busy_timeout = 5000", &[])?;
    let started = Instant::now();
    let mut report = Report::default();
    let mut batch = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
        match serde_json::from_str::<Value>(&text) {
            Ok(doc) => batch.push(doc),
            Err(_) => {
                for (n, line) in text.as_bytes().lines().enumerate() {
                    let line = line?;
                    if line.trim().is_empty() {
                        continue;
                    }
                    batch.push(serde_json::from_str(&line).with_context(|| format!("{file}:{}: not JSON", n + 1))?);
                    if batch.len() >= BATCH {
                        flush(&db, &mut batch, &mut report)?;
                    }
                }
            }
        }
        if batch.len() >= BATCH {
            flush(&db, &mut batch, &mut report)?;
        }
    }
    flush(&db, &mut batch, &mut report)?;
    ryd_store::analyse(&db)?;
    Ok(ImportSummary { report, seconds: started.elapsed().as_secs_f64() })
}
