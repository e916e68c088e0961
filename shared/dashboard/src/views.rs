//! The four endpoints. Each record's body is built by the store as JSON text (exactly the
//! YAML's fields, `ReportingOrg`: 16, `Dataset`: 6; `null` where the registry holds no value,
//! as the live service answers); lists wrap a page of them in DRF's envelope.

use crate::{filters, page, Error};
use ryd_http::Request;
use ryd_store::changes::AtChange;
use ryd_store::dashboard::{self, Page};
use ryd_store::Sql;

/// One page of a list: `fetch(limit, offset)` is the store's query. `page=last` asks the
/// count first (a page past the end costs the count only).
fn paged(req: &Request, fetch: impl Fn(i64, i64) -> Result<Page, ryd_store::SqlError>) -> Result<String, Error> {
    let wanted = page::wanted(req)?;
    let found = match wanted.offset()? {
        Some(offset) => fetch(wanted.size, offset)?,
        None => {
            let count = fetch(wanted.size, i64::MAX)?.count;
            fetch(wanted.size, (wanted.pages(count) - 1) * wanted.size)?
        }
    };
    let number = wanted.number(found.count)?;
    Ok(page::envelope(req, &wanted, number, found.count, &found.items))
}

pub(crate) fn org_list(req: &Request, sql: &dyn Sql) -> Result<String, Error> {
    let pairs = req.query_pairs();
    let filter = filters::orgs(&filters::last_values(&pairs))?;
    paged(req, |limit, offset| dashboard::orgs(sql, &filter, limit, offset))
}

pub(crate) fn dataset_list(req: &Request, sql: &dyn Sql) -> Result<String, Error> {
    let pairs = req.query_pairs();
    let filter = filters::datasets(&filters::last_values(&pairs))?;
    paged(req, |limit, offset| dashboard::datasets(sql, &filter, limit, offset))
}

/// A key is a short name, or an id in any form Django reads a UUID in.
fn key(k: &str) -> String {
    filters::uuid(k).unwrap_or_else(|| k.to_string())
}

/// A reporting organisation; with `show_stats` (or `show_stats_large`, which adds nothing
/// here: the keys it adds live are not among the pipeline's facts) its `stats`.
pub(crate) fn org_record(req: &Request, sql: &dyn Sql, k: &str) -> Result<AtChange<String>, Error> {
    let stats = filters::boolean(req, "show_stats")? | filters::boolean(req, "show_stats_large")?;
    dashboard::org(sql, &key(k), stats)?.ok_or(Error::NotFound)
}

pub(crate) fn dataset_record(_req: &Request, sql: &dyn Sql, k: &str) -> Result<AtChange<String>, Error> {
    dashboard::dataset(sql, &key(k))?.ok_or(Error::NotFound)
}
