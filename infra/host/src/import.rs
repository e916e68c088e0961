//! `ryd-host import`: CKAN dumps into the application's database, in batches.

use anyhow::{Context, Result};
use ryd_ckan::import::{import, records, Report};
use ryd_store::native::NativeSql;
use ryd_store::Sql;
use serde_json::Value;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
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
/// `ryd-host generate` do). JSON lines are streamed (a full registry's dump is gigabytes);
/// a progress bar on stderr counts the bytes read when that is a terminal.
pub fn import_files(db_path: &Path, files: &[String]) -> Result<ImportSummary> {
    let db = NativeSql::open(db_path)?;
    ryd_store::migrate(&db)?;
    db.execute("PRAGMA busy_timeout = 5000", &[])?;
    let total: u64 = files.iter().map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0)).sum();
    let progress = indicatif::ProgressBar::new(total).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {binary_bytes}/{binary_total_bytes} {msg} ({eta} left)")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let mut report = Report::default();
    let mut batch = Vec::new();
    for file in files {
        let mut input = BufReader::new(File::open(file).with_context(|| format!("reading {file}"))?);
        // The first line that is not blank tells JSON lines from one document.
        let mut first = String::new();
        let mut first_line = 0;
        while first.trim().is_empty() {
            first.clear();
            first_line += 1;
            if input.read_line(&mut first).with_context(|| format!("reading {file}"))? == 0 {
                break;
            }
            progress.inc(first.len() as u64);
        }
        if first.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(&first) {
            // JSON lines (a one-line document is one record too).
            Ok(doc) => {
                batch.push(doc);
                for (n, line) in input.lines().enumerate() {
                    let line = line.with_context(|| format!("reading {file}"))?;
                    progress.inc(line.len() as u64 + 1);
                    if line.trim().is_empty() {
                        continue;
                    }
                    let record = serde_json::from_str(&line)
                        .with_context(|| format!("{file}:{}: not JSON", first_line + n + 1))?;
                    batch.push(record);
                    if batch.len() >= BATCH {
                        flush(&db, &mut batch, &mut report)?;
                        progress.set_message(format!("{} records", report.organisations + report.datasets));
                    }
                }
            }
            // One JSON document over many lines (a saved package_search answer).
            Err(_) => {
                let mut text = first;
                input.read_to_string(&mut text).with_context(|| format!("reading {file}"))?;
                progress.inc(text.len() as u64);
                batch
                    .push(serde_json::from_str(&text).with_context(|| format!("{file}: neither JSON nor JSON lines"))?);
            }
        }
        if batch.len() >= BATCH {
            flush(&db, &mut batch, &mut report)?;
        }
    }
    flush(&db, &mut batch, &mut report)?;
    progress.finish_and_clear();
    ryd_store::analyse(&db)?;
    Ok(ImportSummary { report, seconds: started.elapsed().as_secs_f64() })
}
