//! The actions, as one table each for reads and for refused writes.

use crate::params::Params;
use crate::{search, views, CkanError};
use ryd_store::public::{self, Filter, OrgSort};
use ryd_store::Sql;
use serde_json::{json, Value};

/// Which API answers: CKAN's own, or IATI's limited layer (its own envelopes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// CKAN's own envelope (`/api/3/action/`, `/api/action/`).
    Ckan,
    /// IATI's limited compatibility layer (`/api/limited-ckan-compatible/`).
    Limited,
}

pub(crate) enum Answer {
    /// Inside CKAN's `{"help", "success", "result"}`.
    Ckan(Value),
    /// Dataset names inside CKAN's envelope, as many as asked, page by page.
    Names(NameList),
    /// A body of its own (IATI's limited layer).
    Raw(Value),
}

struct Ctx<'a> {
    flavour: Flavour,
    params: &'a Params,
    sql: &'a dyn Sql,
    base: &'a str,
    path: &'a str,
    /// The request's `Cookie` header (read by `validate_cookie` alone).
    cookie: Option<&'a str>,
    /// The registry's newest change, where a record's read saw it (its entity tag).
    seen: std::cell::Cell<Option<i64>>,
}

type Action = fn(&Ctx) -> Result<Answer, CkanError>;

/// Every read action (shared/ckan/README.md, "Actions"), with its help text.
const READ: &[(&str, Action, &str)] = &[
    ("status_show", status_show, "Return a dictionary with information about the site's configuration."),
    ("site_read", site_read, "Return True."),
    ("help_show", help_show, "Return the help string for a particular API action."),
    ("package_list", package_list, "Return a list of the names of the site's datasets (packages)."),
    ("package_show", package_show, "Return the metadata of a dataset (package) and its resources."),
    ("package_search", package_search, "Searches for packages satisfying a given search criteria."),
    ("organization_list", organization_list, "Return a list of the names of the site's organizations."),
    ("group_list", organization_list, "Return a list of the names of the site's groups (the Registry's publishers)."),
    ("organization_show", organization_show, "Return the details of an organization."),
    ("group_show", organization_show, "Return the details of a group (the Registry's publishers)."),
    (
        "organization_autocomplete",
        organization_autocomplete,
        "Return a list of organization names that contain a string.",
    ),
    ("tag_list", tag_list, "Return a list of the site's tags."),
    ("license_list", license_list, "Return the list of licenses available for datasets on the site."),
    (
        "validate_cookie",
        validate_cookie,
        "Return whether the IATI Account session cookie sent with the request is signed in, and whose it is.",
    ),
];

/// What IATI's limited layer offers.
const LIMITED: &[&str] = &["organization_list", "organization_show", "package_list", "package_search", "package_show"];

/// Writes moved to the Register Your Data API: the endpoint that replaces each.
const WRITES: &[(&str, &str)] = &[
    ("package_create", "POST /api/v1/datasets"),
    ("package_update", "PATCH /api/v1/datasets/{did}"),
    ("package_patch", "PATCH /api/v1/datasets/{did}"),
    ("package_delete", "DELETE /api/v1/datasets/{did}"),
    ("package_owner_org_update", "PATCH /api/v1/datasets/{did}"),
    ("resource_create", "PATCH /api/v1/datasets/{did} (url)"),
    ("resource_update", "PATCH /api/v1/datasets/{did} (url)"),
    ("resource_patch", "PATCH /api/v1/datasets/{did} (url)"),
    ("resource_delete", "DELETE /api/v1/datasets/{did}"),
    ("organization_create", "POST /api/v1/reporting-orgs"),
    ("organization_update", "PATCH /api/v1/reporting-orgs/{oid}"),
    ("organization_patch", "PATCH /api/v1/reporting-orgs/{oid}"),
    ("organization_delete", "DELETE /api/v1/reporting-orgs/{oid}"),
    ("organization_purge", "DELETE /api/v1/reporting-orgs/{oid}"),
    ("group_create", "POST /api/v1/reporting-orgs"),
    ("group_update", "PATCH /api/v1/reporting-orgs/{oid}"),
    ("group_patch", "PATCH /api/v1/reporting-orgs/{oid}"),
    ("group_delete", "DELETE /api/v1/reporting-orgs/{oid}"),
    ("member_create", "PUT /api/v1/users/{uid}/reporting-org/{oid}"),
    ("member_delete", "DELETE /api/v1/users/{uid}/reporting-org/{oid}"),
    ("organization_member_create", "PUT /api/v1/users/{uid}/reporting-org/{oid}"),
    ("organization_member_delete", "DELETE /api/v1/users/{uid}/reporting-org/{oid}"),
    ("user_create", "your Identity Service"),
    ("user_update", "your Identity Service"),
];

pub(crate) fn run(
    flavour: Flavour,
    action: &str,
    params: &Params,
    sql: &dyn Sql,
    base: &str,
    path: &str,
    cookie: Option<&str>,
) -> Result<(Answer, Option<i64>), CkanError> {
    if let Some((_, instead)) = WRITES.iter().find(|(name, _)| *name == action) {
        return Err(CkanError::Authorization(format!(
            "Action {action} is not available: this registry is read-only through the CKAN API. Use the Register Your Data API instead: {instead}."
        )));
    }
    if flavour == Flavour::Limited && !LIMITED.contains(&action) {
        return Err(CkanError::UnknownAction(action.to_string()));
    }
    let (_, f, _) =
        READ.iter().find(|(name, _, _)| *name == action).ok_or_else(|| CkanError::UnknownAction(action.to_string()))?;
    let ctx = Ctx { flavour, params, sql, base, path, cookie, seen: Default::default() };
    let answer = f(&ctx)?;
    Ok((answer, ctx.seen.get()))
}

fn required(ctx: &Ctx, name: &str) -> Result<String, CkanError> {
    ctx.params
        .str(name)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| CkanError::Validation(vec![(name.into(), "Missing value".into())]))
}

/// The seed's `validate_cookie` (ckan-validate-api-key-extension): whoever holds an IATI
/// Account session cookie may ask whether it is signed in. An ended, idle, expired or
/// revoked session, or a user who is gone, is `logged_in: false`, never an error.
fn validate_cookie(ctx: &Ctx) -> Result<Answer, CkanError> {
    let id = ctx.cookie.and_then(|h| ryd_account::SESSION_COOKIE.read(h));
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let session = match id {
        Some(id) => ryd_store::sessions::find(ctx.sql, &ryd_account::session_hash(id), now)?,
        None => None,
    };
    Ok(Answer::Ckan(match session {
        None => json!({"logged_in": false}),
        Some(s) => json!({"logged_in": true, "user": {
            "id": s.user_id,
            // CKAN's `name` is the login; ours is the Identity Service's subject.
            "name": s.sub,
            "fullname": s.user_name,
            "last_active": s.last_active,
            "href": format!("{}/account/users/{}", ctx.base, s.user_id),
        }}),
    }))
}

fn status_show(ctx: &Ctx) -> Result<Answer, CkanError> {
    Ok(Answer::Ckan(json!({
        "ckan_version": "2.9.11",
        "site_title": "IATI Registry",
        "site_description": "The IATI Registry: Register Your Data on Spin (read-only CKAN API)",
        "site_url": ctx.base,
        "locale_default": "en",
        "error_emails_to": null,
        "extensions": ["iati", "register-your-data"],
    })))
}

fn site_read(_: &Ctx) -> Result<Answer, CkanError> {
    Ok(Answer::Ckan(json!(true)))
}

fn help_show(ctx: &Ctx) -> Result<Answer, CkanError> {
    let name = required(ctx, "name")?;
    READ.iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, _, help)| Answer::Ckan(json!(help)))
        .or_else(|| {
            WRITES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, i)| Answer::Ckan(json!(format!("Not available here; use {i}."))))
        })
        .ok_or_else(|| CkanError::NotFound(format!("Action function not found: {name}")))
}

/// `rows` clamped to 1000, as CKAN does (and IATI's limited layer's `limit`).
const MAX_ROWS: i64 = 1000;

/// Names read per statement when a list is long: one page's walk of the name index.
pub(crate) const NAMES_PAGE: i64 = 1000;

/// A list of dataset names: the first page, read; the rest read as the answer is written.
pub(crate) struct NameList {
    /// The first page.
    pub first: Vec<String>,
    /// How many more may follow (`None`: to the end), when the first page was full.
    pub left: Option<Option<i64>>,
}

fn package_list(ctx: &Ctx) -> Result<Answer, CkanError> {
    let limit = ctx.params.natural("limit")?;
    let offset = ctx.params.natural("offset")?.unwrap_or(0);
    if ctx.flavour == Flavour::Limited {
        let limit = limit.unwrap_or(100).min(MAX_ROWS);
        let names = public::dataset_names(ctx.sql, limit, offset)?;
        let count = public::search(ctx.sql, &Filter::default(), public::Sort::NameAsc, 0, 0)?.count;
        let link = |o: i64| Value::String(format!("{}{}?limit={limit}&offset={o}", ctx.base, ctx.path));
        return Ok(Answer::Raw(json!({
            "count": count,
            "next": if offset + limit < count { link(offset + limit) } else { Value::Null },
            "previous": if offset > 0 { link((offset - limit).max(0)) } else { Value::Null },
            "result": names,
        })));
    }
    // CKAN 2.11 answers every name when `limit` is absent or 0, and caps no `limit`.
    let wanted = limit.filter(|&n| n > 0);
    let page = wanted.map_or(NAMES_PAGE, |n| n.min(NAMES_PAGE));
    let first = public::dataset_names(ctx.sql, page, offset)?;
    let left = wanted.map(|n| n - page);
    let more = first.len() as i64 == page && left != Some(0);
    Ok(Answer::Names(NameList { first, left: more.then_some(left) }))
}

fn package_show(ctx: &Ctx) -> Result<Answer, CkanError> {
    let id = required(ctx, "id")?;
    let d = public::dataset(ctx.sql, &id)?.ok_or_else(|| CkanError::NotFound("Not found".into()))?;
    ctx.seen.set(Some(d.seq));
    let v = views::dataset(&d.value);
    Ok(match ctx.flavour {
        Flavour::Ckan => Answer::Ckan(v),
        Flavour::Limited => Answer::Raw(json!({"success": true, "result": v})),
    })
}

fn package_search(ctx: &Ctx) -> Result<Answer, CkanError> {
    let p = ctx.params;
    let mut filter = Filter { text: search::text_query(&p.str("q").unwrap_or_default()), ..Default::default() };
    if let Some(fq) = p.str("fq") {
        search::parse_fq(&fq, &mut filter)?;
    }
    for fq in p.list("fq_list")? {
        search::parse_fq(&fq, &mut filter)?;
    }
    let rows = p.natural("rows")?.unwrap_or(10).min(MAX_ROWS);
    let start = p.natural("start")?.unwrap_or(0);
    let sort = search::parse_sort(p.str("sort").as_deref())?;
    let found = public::search(ctx.sql, &filter, sort, rows, start)?;
    let results: Vec<Value> = found.results.iter().map(views::dataset).collect();
    if ctx.flavour == Flavour::Limited {
        let link = |s: i64| Value::String(format!("{}{}?start={s}&rows={rows}", ctx.base, ctx.path));
        return Ok(Answer::Raw(json!({
            "next": if start + rows < found.count { link(start + rows) } else { Value::Null },
            "previous": if start > 0 { link((start - rows).max(0)) } else { Value::Null },
            "result": {"count": found.count, "results": results},
        })));
    }
    let mut facets = serde_json::Map::new();
    let mut search_facets = serde_json::Map::new();
    let facet_limit = match p.int("facet.limit")? {
        Some(n) if n < 0 => MAX_ROWS,
        Some(n) => n.min(MAX_ROWS),
        None => 50,
    };
    for field in p.list("facet.field")? {
        let counts = public::facet(ctx.sql, &filter, &field, facet_limit)?;
        facets.insert(field.clone(), Value::Object(counts.iter().map(|(k, _, n)| (k.clone(), json!(n))).collect()));
        let items: Vec<Value> =
            counts.iter().map(|(k, d, n)| json!({"name": k, "display_name": d, "count": n})).collect();
        search_facets.insert(field.clone(), json!({"title": field, "items": items}));
    }
    Ok(Answer::Ckan(json!({
        "count": found.count,
        "sort": p.str("sort").unwrap_or_else(|| "score desc, metadata_modified desc".into()),
        "facets": facets,
        "search_facets": search_facets,
        "results": results,
    })))
}

fn organization_list(ctx: &Ctx) -> Result<Answer, CkanError> {
    let p = ctx.params;
    let all_fields = p.bool("all_fields", false)?;
    let include_extras = p.bool("include_extras", false)?;
    // Without `limit`, every organisation (the bulk data service asks for all in one call);
    // with one, at most CKAN's `group_and_organization_list_max` (1000).
    let limit = p.natural("limit")?.map(|l| l.min(MAX_ROWS)).unwrap_or(i64::MAX);
    let offset = p.natural("offset")?.unwrap_or(0);
    let sort = match p.str("sort").unwrap_or_default().trim().to_ascii_lowercase().as_str() {
        "" | "name" | "name asc" => OrgSort::Name,
        "name desc" => OrgSort::NameDesc,
        "title" | "title asc" => OrgSort::Title,
        "title desc" => OrgSort::TitleDesc,
        "package_count" | "package_count asc" => OrgSort::PackageCount,
        "package_count desc" => OrgSort::PackageCountDesc,
        "publisher_first_publish_date" | "publisher_first_publish_date asc" => OrgSort::FirstPublishDate,
        "publisher_first_publish_date desc" => OrgSort::FirstPublishDateDesc,
        other => return Err(CkanError::Validation(vec![("sort".into(), format!("Cannot sort by {other:?}"))])),
    };
    let mut names = p.list("organizations")?;
    names.extend(p.list("groups")?);
    let orgs = public::orgs(ctx.sql, sort, &names, limit, offset)?;
    let result: Vec<Value> =
        orgs.iter().map(|o| if all_fields { views::org(o, include_extras) } else { json!(o.name) }).collect();
    Ok(match ctx.flavour {
        Flavour::Ckan => Answer::Ckan(json!(result)),
        Flavour::Limited => Answer::Raw(json!({"result": result})),
    })
}

fn organization_show(ctx: &Ctx) -> Result<Answer, CkanError> {
    let p = ctx.params;
    let id = required(ctx, "id")?;
    let found = public::org(ctx.sql, &id)?.ok_or_else(|| CkanError::NotFound("Organization not found".into()))?;
    // Read first: whatever else this answer reads is at least as new as its tag.
    ctx.seen.set(Some(found.seq));
    let o = found.value;
    let mut v = views::org(&o, p.bool("include_extras", true)?);
    if p.bool("include_datasets", false)? {
        v["packages"] =
            json!(public::org_datasets(ctx.sql, &o.id, MAX_ROWS)?.iter().map(views::dataset).collect::<Vec<_>>());
    }
    if p.bool("show_historical_publisher_names", false)? {
        v["historical_publisher_names"] = json!([]);
    }
    Ok(match ctx.flavour {
        Flavour::Ckan => Answer::Ckan(v),
        Flavour::Limited => Answer::Raw(json!({"success": true, "result": v})),
    })
}

fn organization_autocomplete(ctx: &Ctx) -> Result<Answer, CkanError> {
    let q = required(ctx, "q")?;
    let limit = ctx.params.natural("limit")?.unwrap_or(20).min(MAX_ROWS);
    let found = public::org_autocomplete(ctx.sql, &q, limit)?;
    Ok(Answer::Ckan(json!(found
        .iter()
        .map(|o| json!({"id": o.id, "name": o.name, "title": o.title}))
        .collect::<Vec<_>>())))
}

fn tag_list(_: &Ctx) -> Result<Answer, CkanError> {
    // Registry datasets carry no tags.
    Ok(Answer::Ckan(json!([])))
}

fn license_list(_: &Ctx) -> Result<Answer, CkanError> {
    let list: Vec<Value> = ryd_codelists::licences()
        .iter()
        .map(|l| json!({"id": l.id, "title": l.short_label, "status": "active", "od_conformance": if l.full_label.starts_with("OKD Compliant") { "approved" } else { "not reviewed" }, "url": ""}))
        .collect();
    Ok(Answer::Ckan(json!(list)))
}
