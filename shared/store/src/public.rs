//! What the CKAN-compatible API reads: public datasets of approved, live organisations,
//! never anything else. Every query here starts from [`PUBLIC`].

use crate::changes::{AtChange, LATEST_COLUMN};
use crate::sql::{Row, Sql, SqlError, Value};
use crate::VERSION_COLUMN;

/// Visible to everyone: live and public datasets of live, approved organisations, which is
/// exactly what the `listed` flag says (kept by the store's writes, `listing`; the store's tests
/// check it after every kind of change). Searches then walk partial indexes of listed
/// datasets without joining each row to its organisation.
pub const PUBLIC: &str = "d.listed";
pub(crate) const ORG_VISIBLE: &str = "o.deleted_at IS NULL AND o.registry_approved = 1";

/// A public organisation as CKAN's and the Dashboard's reads show it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PublicOrg {
    /// The organisation's id.
    pub id: String,
    /// Its short name (CKAN's `name`).
    pub name: String,
    /// Its display name (CKAN's `title`).
    pub title: String,
    /// Its description.
    pub description: String,
    /// When it was registered (RFC 3339).
    pub created: String,
    /// Its IATI organisation identifier.
    pub iati_id: String,
    /// Its IATI organisation type code.
    pub organisation_type: String,
    /// Its headquarters country code.
    pub country: String,
    /// `primary_source` or `secondary_source`.
    pub source_type: String,
    /// Its default licence.
    pub licence_id: String,
    /// When it first published.
    pub first_publish_date: String,
    /// Its public contact email.
    pub contact_email: String,
    /// Its website.
    pub website: String,
    /// How many public datasets it has (`0` where a read does not count them).
    pub package_count: i64,
}

const ORG_COLUMNS: &str = "o.id, o.short_name, o.human_readable_name, o.description, o.created_date, o.organisation_identifier, \
    o.organisation_type, o.hq_country, o.reporting_source_type, o.default_licence_id, o.first_publication_date, o.contact_email, o.website, \
    (SELECT count(*) FROM datasets d WHERE d.organisation_id = o.id AND d.listed)";
/// The same columns with the package count left out (a dataset's organisation needs none,
/// and counting per result row is what made deep pages slow).
const ORG_COLUMNS_UNCOUNTED: &str = "o.id, o.short_name, o.human_readable_name, o.description, o.created_date, o.organisation_identifier, \
    o.organisation_type, o.hq_country, o.reporting_source_type, o.default_licence_id, o.first_publication_date, o.contact_email, o.website, 0";
const ORG_N: usize = 14;
const PACKAGE_COUNT_ASC: &str = "14, o.short_name";
const PACKAGE_COUNT_DESC: &str = "14 DESC, o.short_name";
const _: () = assert!(ORG_N == 14, "PACKAGE_COUNT_* name the last column by position");

fn org_from(r: &Row<'_>, at: usize) -> PublicOrg {
    PublicOrg {
        id: r.text(at),
        name: r.text(at + 1),
        title: r.text(at + 2),
        description: r.text(at + 3),
        created: r.text(at + 4),
        iati_id: r.text(at + 5),
        organisation_type: r.text(at + 6),
        country: r.text(at + 7),
        source_type: r.text(at + 8),
        licence_id: r.text(at + 9),
        first_publish_date: r.text(at + 10),
        contact_email: r.text(at + 11),
        website: r.text(at + 12),
        package_count: r.int(at + 13),
    }
}

/// A public dataset as CKAN's and the Dashboard's reads show it, with its pipeline facts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PublicDataset {
    /// The dataset's id.
    pub id: String,
    /// Its short name (CKAN's `name`).
    pub name: String,
    /// Its title.
    pub title: String,
    /// Where its file is (its one resource's URL).
    pub url: String,
    /// Its licence.
    pub licence_id: String,
    /// When it was registered.
    pub created: String,
    /// When its metadata last changed.
    pub metadata_modified: String,
    /// When its URL last changed.
    pub url_modified: String,
    /// Pipeline fact: `activity` or `organisation`.
    pub filetype: Option<String>,
    /// Pipeline fact: the IATI standard version of the file.
    pub iati_version: Option<String>,
    /// Pipeline fact: how many activities it holds.
    pub activity_count: Option<i64>,
    /// Pipeline fact: the recipient country, where one.
    pub country: Option<String>,
    /// Pipeline fact: the language.
    pub language: Option<String>,
    /// Pipeline fact: when the file's data last changed.
    pub data_updated: Option<String>,
    /// Pipeline fact: the validator's verdict.
    pub validation_status: Option<String>,
    /// Pipeline fact: the file's hash.
    pub resource_hash: Option<String>,
    /// Pipeline fact: the file's size in bytes.
    pub resource_size: Option<i64>,
    /// The CKAN resource id kept on import.
    pub resource_id: Option<String>,
    /// The CKAN resource's creation date kept on import.
    pub resource_created: Option<String>,
    /// Its organisation.
    pub org: PublicOrg,
}

const DATASET_COLUMNS: &str = "d.id, d.short_name, d.human_readable_name, d.url, d.licence_id, d.created_date, d.last_metadata_update_date, \
    d.last_url_update_date, p.filetype, p.iati_version, p.activity_count, p.country, p.language, p.data_updated, p.validation_status, \
    p.resource_hash, p.resource_size, p.resource_id, p.resource_created";
const DATASET_N: usize = 19;
const FROM: &str = "FROM datasets d JOIN organisations o ON o.id = d.organisation_id LEFT JOIN dataset_pipeline p ON p.dataset_id = d.id";
const PIPELINE: &str = " LEFT JOIN dataset_pipeline p ON p.dataset_id = d.id";

fn dataset_from(r: Row<'_>) -> PublicDataset {
    PublicDataset {
        id: r.text(0),
        name: r.text(1),
        title: r.text(2),
        url: r.text(3),
        licence_id: r.text(4),
        created: r.text(5),
        metadata_modified: r.text(6),
        url_modified: r.text(7),
        filetype: r.opt_text(8),
        iati_version: r.opt_text(9),
        activity_count: r.opt_int(10),
        country: r.opt_text(11),
        language: r.opt_text(12),
        data_updated: r.opt_text(13),
        validation_status: r.opt_text(14),
        resource_hash: r.opt_text(15),
        resource_size: r.opt_int(16),
        resource_id: r.opt_text(17),
        resource_created: r.opt_text(18),
        org: org_from(&r, DATASET_N),
    }
}

/// A public dataset by id or name, on an up-to-date schema ([`crate::current_row`]: one
/// statement when the dataset is there).
pub fn dataset(sql: &dyn Sql, id_or_name: &str) -> Result<Option<AtChange<PublicDataset>>, SqlError> {
    let by_key = crate::keys::id_or_name("d", "datasets", "?1");
    let q = format!(
        "SELECT {DATASET_COLUMNS}, {ORG_COLUMNS_UNCOUNTED}, {LATEST_COLUMN}, {VERSION_COLUMN} {FROM} \
         WHERE {by_key} AND {PUBLIC} LIMIT 1"
    );
    crate::current_row(sql, &q, &[id_or_name.into()], |r| AtChange { seq: latest(&r), value: dataset_from(r) })
}

/// The [`LATEST_COLUMN`] of a row whose last two columns are it and the schema's version.
fn latest(r: &Row<'_>) -> i64 {
    r.len().checked_sub(2).map(|i| r.int(i)).unwrap_or(0)
}

/// Names of public datasets in name order: one walk of the covering `listed` name index.
pub fn dataset_names(sql: &dyn Sql, limit: i64, offset: i64) -> Result<Vec<String>, SqlError> {
    let q = format!(
        "SELECT d.short_name FROM datasets d INDEXED BY datasets_listed_by_name WHERE {PUBLIC} ORDER BY d.short_name LIMIT ? OFFSET ?"
    );
    Ok(sql.execute(&q, &[limit.into(), offset.into()])?.iter().map(|r| r.text(0)).collect())
}

/// The next `limit` public dataset names after `after` (from the first when `None`), in
/// name order: one step into the `listed` name index per page, however deep the page.
pub fn dataset_names_after(sql: &dyn Sql, after: Option<&str>, limit: i64) -> Result<Vec<String>, SqlError> {
    let q = format!(
        "SELECT d.short_name FROM datasets d INDEXED BY datasets_listed_by_name WHERE {PUBLIC} AND d.short_name > ?1 \
         ORDER BY d.short_name LIMIT ?2"
    );
    Ok(sql.execute(&q, &[after.unwrap_or("").into(), limit.into()])?.iter().map(|r| r.text(0)).collect())
}

/// The next `limit` public datasets after the one named `after`, in name order, as
/// [`dataset`] reads them (the registry's dump, page by page).
pub fn datasets_after(sql: &dyn Sql, after: Option<&str>, limit: i64) -> Result<Vec<PublicDataset>, SqlError> {
    let q = format!(
        "SELECT {DATASET_COLUMNS}, {ORG_COLUMNS_UNCOUNTED} FROM (SELECT d.rowid AS rid FROM datasets d INDEXED BY datasets_listed_by_name \
         WHERE {PUBLIC} AND d.short_name > ?1 ORDER BY d.short_name LIMIT ?2) AS page JOIN datasets d ON d.rowid = page.rid \
         JOIN organisations o ON o.id = d.organisation_id{PIPELINE} ORDER BY d.short_name"
    );
    Ok(sql.execute(&q, &[after.unwrap_or("").into(), limit.into()])?.iter().map(dataset_from).collect())
}

/// The next `limit` visible organisations after the one named `after`, in name order,
/// each with its public dataset count.
pub fn orgs_after(sql: &dyn Sql, after: Option<&str>, limit: i64) -> Result<Vec<PublicOrg>, SqlError> {
    let q = format!(
        "SELECT {ORG_COLUMNS} FROM organisations o INDEXED BY organisations_approved_by_name WHERE {ORG_VISIBLE} \
         AND o.short_name > ?1 ORDER BY o.short_name LIMIT ?2"
    );
    Ok(sql.execute(&q, &[after.unwrap_or("").into(), limit.into()])?.iter().map(|r| org_from(&r, 0)).collect())
}

/// `fq` terms, each a set of accepted values (OR within a field, AND across fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Organisation short names.
    pub org_names: Vec<String>,
    /// Organisation ids.
    pub org_ids: Vec<String>,
    /// Publishers' IATI identifiers.
    pub publisher_iati_ids: Vec<String>,
    /// Pipeline `filetype`s.
    pub filetypes: Vec<String>,
    /// Dataset short names.
    pub names: Vec<String>,
    /// Dataset ids (`fq=id:(a OR b …)`: a mirror fetching the datasets the feed named).
    pub ids: Vec<String>,
    /// Every dataset's one resource is `IATI-XML`: any other format matches nothing.
    pub res_formats: Vec<String>,
    /// Licence ids.
    pub licence_ids: Vec<String>,
    /// An FTS5 query, already sanitised.
    pub text: Option<String>,
    /// `metadata_modified` ranges (`fq=metadata_modified:[… TO …]`).
    pub modified_from: Option<Bound>,
    /// See `modified_from`.
    pub modified_to: Option<Bound>,
}

/// One end of a date range: the date as stored (`YYYY-MM-DDTHH:MM:SS+00:00`, so text order
/// is time order) and whether the end itself is in the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    /// The date as stored.
    pub at: String,
    /// Whether the date itself is in the range.
    pub inclusive: bool,
}

/// The orders `package_search` offers (CKAN's `sort`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// `metadata_modified desc` (CKAN's default without a query).
    MetadataModifiedDesc,
    /// `metadata_modified asc`.
    MetadataModifiedAsc,
    /// `name asc`.
    NameAsc,
    /// `name desc`.
    NameDesc,
    /// `title_string asc`.
    TitleAsc,
    /// `title_string desc`.
    TitleDesc,
    /// Relevance to the text query (`score desc`; newest first without one).
    Score,
}

impl Sort {
    fn order_by(self, text: bool) -> &'static str {
        match self {
            // Tie-breakers follow the main direction, so the index is walked backwards.
            Sort::MetadataModifiedDesc => "d.last_metadata_update_date DESC, d.short_name DESC",
            Sort::MetadataModifiedAsc => "d.last_metadata_update_date, d.short_name",
            Sort::NameAsc => "d.short_name",
            Sort::NameDesc => "d.short_name DESC",
            Sort::TitleAsc => "d.human_readable_name, d.short_name",
            Sort::TitleDesc => "d.human_readable_name DESC, d.short_name DESC",
            Sort::Score if text => "s.rank, d.short_name",
            Sort::Score => "d.last_metadata_update_date DESC, d.short_name DESC",
        }
    }
}

fn any_of(column: &str, values: &[String], clauses: &mut Vec<String>, params: &mut Vec<Value>) {
    if values.is_empty() {
        return;
    }
    clauses.push(format!("{column} IN ({})", vec!["?"; values.len()].join(", ")));
    params.extend(values.iter().map(Value::from));
}

/// The FROM/WHERE of a search, and its parameters. Organisations and the pipeline table
/// are joined only when a filter or the selected columns need them; `ordered` is for the
/// rowid step of a page.
fn where_clause(f: &Filter, ordered: bool, org_columns: bool, pipeline_columns: bool) -> (String, Vec<Value>) {
    let mut clauses = vec![PUBLIC.to_string()];
    let mut params = Vec::new();
    any_of("o.short_name", &f.org_names, &mut clauses, &mut params);
    any_of("o.id", &f.org_ids, &mut clauses, &mut params);
    any_of("o.organisation_identifier", &f.publisher_iati_ids, &mut clauses, &mut params);
    any_of("p.filetype", &f.filetypes, &mut clauses, &mut params);
    any_of("d.short_name", &f.names, &mut clauses, &mut params);
    any_of("d.id", &f.ids, &mut clauses, &mut params);
    any_of("d.licence_id", &f.licence_ids, &mut clauses, &mut params);
    for (bound, op) in [(&f.modified_from, (">=", ">")), (&f.modified_to, ("<=", "<"))] {
        if let Some(b) = bound {
            let op = if b.inclusive { op.0 } else { op.1 };
            clauses.push(format!("d.last_metadata_update_date {op} ?"));
            params.push(Value::from(b.at.as_str()));
        }
    }
    if !f.res_formats.is_empty() && !f.res_formats.iter().any(|r| r.eq_ignore_ascii_case("IATI-XML")) {
        clauses.push("0".into());
    }
    let by_org = !(f.org_names.is_empty() && f.org_ids.is_empty() && f.publisher_iati_ids.is_empty());
    let mut from = String::from("FROM datasets d");
    if by_org || org_columns {
        from.push_str(" JOIN organisations o ON o.id = d.organisation_id");
        // Implied by `listed`; stated so the organisations' partial indexes apply.
        clauses.push(ORG_VISIBLE.to_string());
    }
    if pipeline_columns {
        from.push_str(PIPELINE);
    } else if !f.filetypes.is_empty() {
        // A filetype filter matches most datasets: an ordered page walks the datasets'
        // ordered index and filters (CROSS JOIN fixes that loop order in SQLite) rather than
        // sorting every match; a count lets the planner choose.
        let join = if ordered && f.text.is_none() && !by_org { "CROSS JOIN" } else { "JOIN" };
        from.push_str(&format!(" {join} dataset_pipeline p ON p.dataset_id = d.id"));
    }
    if let Some(t) = &f.text {
        params.insert(0, Value::from(t.as_str()));
        from.push_str(" JOIN dataset_search s ON s.rowid = d.rowid AND dataset_search MATCH ?");
    }
    (format!("{from} WHERE {}", clauses.join(" AND ")), params)
}

/// What one search found: the count of all matches and one page of them.
pub struct SearchResult {
    /// How many match in all.
    pub count: i64,
    /// This page.
    pub results: Vec<PublicDataset>,
}

/// Searches public datasets: the count and one page, in `sort`'s order.
pub fn search(sql: &dyn Sql, f: &Filter, sort: Sort, limit: i64, offset: i64) -> Result<SearchResult, SqlError> {
    let statements = search_statements_paged(f, sort, limit, offset);
    let (count_sql, count_params) = &statements[0];
    let count = sql.execute(count_sql, count_params)?.first().map(|r| r.int(0)).unwrap_or(0);
    if limit == 0 {
        return Ok(SearchResult { count, results: Vec::new() });
    }
    let ranked = count <= RANKED_MATCHES_MAX;
    let (page_sql, page_params) = &search_statements_ranked(f, sort, limit, offset, ranked)[1];
    let results = sql.execute(page_sql, page_params)?.iter().map(dataset_from).collect();
    Ok(SearchResult { count, results })
}

/// Relevance is ranked (BM25) for queries matching at most this many datasets; broader
/// ones are answered newest first, which the index serves without scoring every match
/// (ranking a common word across a million datasets costs seconds).
pub const RANKED_MATCHES_MAX: i64 = 20_000;

fn search_statements_paged(f: &Filter, sort: Sort, limit: i64, offset: i64) -> Vec<(String, Vec<Value>)> {
    search_statements_ranked(f, sort, limit, offset, true)
}

fn search_statements_ranked(
    f: &Filter,
    sort: Sort,
    limit: i64,
    offset: i64,
    ranked: bool,
) -> Vec<(String, Vec<Value>)> {
    let text_only = Filter { text: None, ..f.clone() } == Filter::default();
    let (count_from, count_params) = match &f.text {
        // Nearly every dataset is listed, so the planner would scan the (wide) table.
        None if text_only => ("FROM datasets d INDEXED BY datasets_listed WHERE d.listed".to_string(), Vec::new()),
        // The full-text index holds listed datasets only: no join needed.
        Some(t) if text_only => {
            ("FROM dataset_search WHERE dataset_search MATCH ?".to_string(), vec![Value::from(t.as_str())])
        }
        _ => where_clause(f, false, false, false),
    };
    // Two steps: the page's rowids through the narrowest join (a skipped row of a deep
    // page costs an index step, not a wide row), then the full rows of that page only.
    let (ids_from, mut page_params) = where_clause(f, true, false, false);
    page_params.extend([Value::from(limit), Value::from(offset)]);
    let order = if sort == Sort::Score && f.text.is_some() && !ranked {
        "s.rowid DESC"
    } else {
        sort.order_by(f.text.is_some())
    };
    let rank = if f.text.is_some() && ranked { ", s.rank AS rank" } else { "" };
    let outer_order = order.replace("s.rank", "page.rank").replace("s.rowid DESC", "d.rowid DESC");
    let page = format!(
        "SELECT {DATASET_COLUMNS}, {ORG_COLUMNS_UNCOUNTED} FROM (SELECT d.rowid AS rid{rank} {ids_from} ORDER BY {order} LIMIT ? OFFSET ?) AS page \
         JOIN datasets d ON d.rowid = page.rid JOIN organisations o ON o.id = d.organisation_id{PIPELINE} ORDER BY {outer_order}"
    );
    vec![(format!("SELECT count(*) {count_from}"), count_params), (page, page_params)]
}

/// The statements a search runs, for `EXPLAIN QUERY PLAN` in tests.
pub fn search_statements(f: &Filter, sort: Sort) -> Vec<(String, Vec<Value>)> {
    search_statements_paged(f, sort, 10, 0)
}

/// Facet counts for one field over a search, largest first.
pub fn facet(sql: &dyn Sql, f: &Filter, field: &str, limit: i64) -> Result<Vec<(String, String, i64)>, SqlError> {
    let (key, display) = match field {
        "organization" => ("o.short_name", "o.human_readable_name"),
        "license_id" => ("d.licence_id", "d.licence_id"),
        "extras_filetype" | "filetype" => ("p.filetype", "p.filetype"),
        "publisher_iati_id" => ("o.organisation_identifier", "o.organisation_identifier"),
        "publisher_country" => ("o.hq_country", "o.hq_country"),
        "res_format" => ("'IATI-XML'", "'IATI-XML'"),
        _ => return Ok(Vec::new()),
    };
    let (from_where, mut params) = where_clause(f, false, key.starts_with("o."), key.starts_with("p."));
    params.push(limit.into());
    let q = format!(
        "SELECT {key}, max({display}), count(*) AS n {from_where} AND {key} IS NOT NULL AND {key} <> '' GROUP BY {key} ORDER BY n DESC, {key} LIMIT ?"
    );
    Ok(sql.execute(&q, &params)?.iter().map(|r| (r.text(0), r.text(1), r.int(2))).collect())
}

/// A visible organisation by id or name, on an up-to-date schema (as [`dataset`]).
pub fn org(sql: &dyn Sql, id_or_name: &str) -> Result<Option<AtChange<PublicOrg>>, SqlError> {
    let by_key = crate::keys::id_or_name("o", "organisations", "?1");
    let q = format!(
        "SELECT {ORG_COLUMNS}, {LATEST_COLUMN}, {VERSION_COLUMN} FROM organisations o WHERE {by_key} AND {ORG_VISIBLE} LIMIT 1"
    );
    crate::current_row(sql, &q, &[id_or_name.into()], |r| AtChange { seq: latest(&r), value: org_from(&r, 0) })
}

/// The orders `organization_list` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgSort {
    /// `name asc`.
    Name,
    /// `name desc`.
    NameDesc,
    /// `title asc`.
    Title,
    /// `title desc`.
    TitleDesc,
    /// `package_count asc`.
    PackageCount,
    /// `package_count desc`.
    PackageCountDesc,
    /// `first_publish_date asc`.
    FirstPublishDate,
    /// `first_publish_date desc`.
    FirstPublishDateDesc,
}

/// Live approved organisations, optionally only those named.
pub fn orgs(
    sql: &dyn Sql,
    sort: OrgSort,
    names: &[String],
    limit: i64,
    offset: i64,
) -> Result<Vec<PublicOrg>, SqlError> {
    let order = match sort {
        OrgSort::Name => "o.short_name",
        OrgSort::NameDesc => "o.short_name DESC",
        // Ties broken by id, so that `organisations_by_name` serves the order.
        OrgSort::Title => "o.human_readable_name, o.id",
        OrgSort::TitleDesc => "o.human_readable_name DESC, o.id DESC",
        // The package count is the last selected column.
        OrgSort::PackageCount => PACKAGE_COUNT_ASC,
        OrgSort::PackageCountDesc => PACKAGE_COUNT_DESC,
        OrgSort::FirstPublishDate => "o.first_publication_date, o.short_name",
        OrgSort::FirstPublishDateDesc => "o.first_publication_date DESC, o.short_name",
    };
    let mut params: Vec<Value> = names.iter().map(Value::from).collect();
    let only = if names.is_empty() {
        String::new()
    } else {
        format!(" AND o.short_name IN ({})", vec!["?"; names.len()].join(", "))
    };
    params.extend([Value::from(limit), Value::from(offset)]);
    let q = format!(
        "SELECT {ORG_COLUMNS} FROM organisations o WHERE {ORG_VISIBLE}{only} ORDER BY {order} LIMIT ? OFFSET ?"
    );
    Ok(sql.execute(&q, &params)?.iter().map(|r| org_from(&r, 0)).collect())
}

/// Public organisations whose short name or title contains `q` (CKAN's autocomplete).
pub fn org_autocomplete(sql: &dyn Sql, q: &str, limit: i64) -> Result<Vec<PublicOrg>, SqlError> {
    let pattern = format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let query = format!(
        "SELECT {ORG_COLUMNS} FROM organisations o WHERE {ORG_VISIBLE} AND (o.short_name LIKE ?1 ESCAPE '\\' OR o.human_readable_name LIKE ?1 ESCAPE '\\') \
         ORDER BY o.human_readable_name, o.short_name LIMIT ?2"
    );
    Ok(sql.execute(&query, &[pattern.into(), limit.into()])?.iter().map(|r| org_from(&r, 0)).collect())
}

/// An organisation's public datasets (organization_show include_datasets).
pub fn org_datasets(sql: &dyn Sql, org_id: &str, limit: i64) -> Result<Vec<PublicDataset>, SqlError> {
    search(sql, &Filter { org_ids: vec![org_id.to_string()], ..Default::default() }, Sort::NameAsc, limit, 0)
        .map(|r| r.results)
}

/// Stores what the data pipeline (or the importer) knows about a dataset's file.
pub fn set_pipeline(sql: &dyn Sql, dataset_id: &str, d: &PublicDataset) -> Result<(), SqlError> {
    sql.execute(
        "INSERT INTO dataset_pipeline (dataset_id, filetype, iati_version, activity_count, country, language, data_updated, validation_status, \
         resource_hash, resource_size, resource_id, resource_created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (dataset_id) DO UPDATE SET filetype = excluded.filetype, iati_version = excluded.iati_version, \
         activity_count = excluded.activity_count, country = excluded.country, language = excluded.language, data_updated = excluded.data_updated, \
         validation_status = excluded.validation_status, resource_hash = excluded.resource_hash, resource_size = excluded.resource_size, \
         resource_id = excluded.resource_id, resource_created = excluded.resource_created",
        &[
            dataset_id.into(),
            d.filetype.clone().into(),
            d.iati_version.clone().into(),
            d.activity_count.into(),
            d.country.clone().into(),
            d.language.clone().into(),
            d.data_updated.clone().into(),
            d.validation_status.clone().into(),
            d.resource_hash.clone().into(),
            d.resource_size.into(),
            d.resource_id.clone().into(),
            d.resource_created.clone().into(),
        ],
    )?;
    Ok(())
}
