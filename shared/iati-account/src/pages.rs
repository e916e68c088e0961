//! IATI Account's console (issue 18): server-rendered pages for people signed in with a
//! session cookie. The console decides no permission itself:
//! - every action is a typed call of the API's own route ([`api`]): the same handler, the same
//!   permission table and the same refusals as a publishing tool gets, with the session's
//!   user as the caller (scope-free: a session holds no scopes, the table alone decides);
//! - buttons appear where `decide` on the permission table allows the action, the check
//!   `POST /api/v1/authz/check` makes ([`rights`]).
//!
//! A request reaches a page only through [`enter`]: the session from its cookie (else the
//! sign-in page), and on every POST the CSRF checks (`Sec-Fetch-Site`, `Origin`, the
//! session's synchronizer token). After an action the browser is sent on with `303` to a
//! page (post/redirect/get); a refusal is shown on the page it came from, with its reason.

use crate::calls::*;
use ryd_api::auth::{Caller, SessionFacts};
use ryd_api::http::{parse_form, percent_encode, Request};
use ryd_api::routes::Route;
use ryd_api::validate::{FieldSpec, DATASET_FIELDS, ORG_FIELDS};
use ryd_api::{ApiError, ApiResult, Call, Ctx, Ports, Reply};
use ryd_authz::{decide, Authorisation};
use ryd_console::{self as view, Field, Frame, Input, Notice};
use ryd_store::sessions;
use serde_json::{json, Map, Value};

/// Who may reach a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// Anyone: the sign-in flow and the Identity Service's logout call (described in the
    /// API's OpenAPI document, as endpoints other systems call).
    Public,
    /// Anyone, and cacheable: the pages' stylesheet.
    Asset,
    /// A signed-in session (its cookie), and on every state-changing request the CSRF
    /// checks; its actions call the API's routes as the session's user.
    Session,
}

/// Headers of every console page: never cached (they show a person's data), not sniffed,
/// no referrer to other sites (OWASP's secure headers; the CSP is [`csp`]'s).
const PAGE_HEADERS: &[(&str, &str)] =
    &[("cache-control", "no-store"), ("x-content-type-options", "nosniff"), ("referrer-policy", "same-origin")];

/// The Content-Security-Policy of every console answer: no script at all, our stylesheet,
/// never framed, and forms only to this site, plus the provider's sign-out origin when
/// signed in (the sign-out form's answer redirects there, and browsers hold a form's
/// redirects to `form-action`).
pub(crate) fn csp(signout_origin: Option<&str>) -> String {
    let forms = match signout_origin {
        Some(o) if !o.contains([';', ',', '\'', ' ']) => format!("'self' {o}"),
        _ => "'self'".to_string(),
    };
    format!("default-src 'none'; style-src 'self'; img-src 'self'; form-action {forms}; frame-ancestors 'none'; base-uri 'none'")
}

pub(crate) fn html(status: u16, document: String) -> Reply {
    PAGE_HEADERS.iter().fold(Reply::text(status, document, "text/html; charset=utf-8"), |r, (n, v)| r.header(n, *v))
}

/// `303 See Other` to a console page.
pub(crate) fn see_other(location: &str) -> Reply {
    Reply::text(303, String::new(), "text/plain").header("location", location).header("cache-control", "no-store")
}

/// What an action did, by the code its redirect carries (`?done=`): the page shows the
/// message from this table, never text from the URL.
const DONE: &[(&str, &str)] = &[
    ("org-created", "The organisation was created. It is listed once the IATI Secretariat approves it."),
    ("org-saved", "The details were saved."),
    ("org-approved", "The organisation is approved."),
    ("org-deleted", "The organisation was deleted."),
    ("role-changed", "The role was changed."),
    ("person-removed", "The person no longer has a role in the organisation."),
    ("join-asked", "Your request to join was sent; an admin of the organisation will decide."),
    ("dataset-added", "The dataset was added."),
    ("dataset-saved", "The dataset was saved."),
    ("dataset-deleted", "The dataset was deleted."),
    ("key-revoked", "The key was revoked; it stops working at once."),
    ("webhook-enabled", "The webhook is on again."),
    ("webhook-deleted", "The webhook was deleted; what it had not received is given up."),
];

/// Answers a console route: the session from the cookie, the CSRF checks on a POST, then
/// the page's handler; any error becomes a page saying why.
pub(crate) fn enter(
    route: &Route<Page>,
    params: Vec<(&'static str, String)>,
    req: &Request,
    ports: &dyn Ports,
) -> Reply {
    let (reply, signout_origin) = page(route, params, req, ports);
    reply.header("content-security-policy", csp(signout_origin.as_deref()))
}

/// [`enter`]'s answer, and the signed-in session's sign-out origin.
fn page(
    route: &Route<Page>,
    params: Vec<(&'static str, String)>,
    req: &Request,
    ports: &dyn Ports,
) -> (Reply, Option<String>) {
    let now_millis = ports.now_millis();
    let refused = |status: u16, title: &str, message: &str, signed_in: Option<(&str, &str)>| {
        let (user, csrf) = signed_in.map_or((None, ""), |(u, c)| (Some(u), c));
        let frame = Frame { title, user, csrf, notice: Some(Notice::Refused { message, fields: &[] }) };
        html(status, view::problem(&frame))
    };
    let caller = match session_caller(req, ports, now_millis / 1000) {
        Ok(Some(c)) => c,
        Ok(None) if req.method == "GET" => {
            let login = format!("/account/login?return_to={}", percent_encode(&path_and_query(req)));
            let frame = Frame { title: "Sign in", user: None, csrf: "", notice: None };
            return (html(200, view::signed_out(&frame, &login)), None);
        }
        Ok(None) => {
            let why = "You are not signed in (or your session ended). Sign in and try again.";
            return (refused(401, "Signed out", why, None), None);
        }
        Err(e) => return (problem_page(ports, req, e, None), None),
    };
    let Some(session) = caller.session().cloned() else {
        return (problem_page(ports, req, ApiError::internal("a session caller without its session"), None), None);
    };
    let user = Some((session.user_name.as_str(), session.csrf_token.as_str()));
    if req.method != "GET" {
        let form = parse_form(&String::from_utf8_lossy(&req.body));
        let sent = form.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str());
        let checked = ryd_account::same_origin(&session.origin, req.header("origin"), req.header("sec-fetch-site"))
            .and_then(|_| ryd_account::token_matches(sent, &session.csrf_token));
        if let Err(why) = checked {
            ports.log(&format!("console {} {} refused: {why}", req.method, req.path));
            let message = format!("This request was refused: {why}. Go back, reload the page and try again.");
            return (refused(403, "Refused", &message, user), session.signout_origin.clone());
        }
    }
    let ctx = Ctx { ports, req, caller: Some(caller), params, now_millis };
    let reply = (route.handler)(&ctx).unwrap_or_else(|e| problem_page(ports, req, e, user));
    (reply, session.signout_origin.clone())
}

fn path_and_query(req: &Request) -> String {
    if req.query.is_empty() {
        req.path.clone()
    } else {
        format!("{}?{}", req.path, req.query)
    }
}

/// A page saying why a request failed; `signed_in` (the user's name and the session's
/// CSRF token) keeps the header's sign-out working.
fn problem_page(ports: &dyn Ports, req: &Request, e: ApiError, signed_in: Option<(&str, &str)>) -> Reply {
    if let Some(log) = &e.log {
        ports.log(&format!("console {} {}: {log}", req.method, req.path));
    }
    let title = match e.status {
        403 => "Not allowed",
        404 => "Not found",
        s if s >= 500 => "Something went wrong",
        _ => "Refused",
    };
    let fields = refused_fields(&e);
    let (user, csrf) = signed_in.map_or((None, ""), |(u, c)| (Some(u), c));
    let frame = Frame { title, user, csrf, notice: Some(Notice::Refused { message: &e.message, fields: &fields }) };
    html(e.status, view::problem(&frame))
}

/// The session named by the request's cookie, as a caller; `None` when there is none or
/// it is over.
fn session_caller(req: &Request, ports: &dyn Ports, now: i64) -> ApiResult<Option<Caller>> {
    let Some(id) = req.header("cookie").and_then(|h| ryd_account::SESSION_COOKIE.read(h)) else { return Ok(None) };
    let sql = ports.sql();
    ryd_store::ensure_schema(sql)?;
    let Some(session) = sessions::find(sql, &ryd_account::session_hash(id), now)? else { return Ok(None) };
    // Activity for the idle timeout: a write at most once a minute per session.
    if sessions::touch_due(&session, now) {
        if let Err(e) = sessions::touch(sql, &session.id_hash, now) {
            ports.log(&format!("console: recording activity failed: {e}"));
        }
    }
    // A session begun before its facts were kept (or with facts unreadable) signs in again.
    let Ok(facts) = serde_json::from_str::<SessionFacts>(&session.caller) else { return Ok(None) };
    Ok(Some(Caller::for_session(&session, facts)))
}

/// Calls one of the API's routes as the session's user, through the same pipeline as a
/// token's request ([`ryd_api::dispatch`]). `Ok` is the answer's body.
fn api(ctx: &Ctx, call: Call) -> ApiResult<Value> {
    Ok(call.run(ctx.req, ctx.ports, ctx.caller()?.clone(), ctx.now_millis)?.body)
}

/// `api`, for reads a page may go without (a section the user may not see is left out).
fn api_optional(ctx: &Ctx, call: Call) -> ApiResult<Option<Value>> {
    match api(ctx, call) {
        Ok(v) => Ok(Some(v)),
        Err(e) if matches!(e.status, 403 | 404) => Ok(None),
        Err(e) => Err(e),
    }
}

fn text(v: &Value, pointer: &str) -> String {
    match v.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn me(ctx: &Ctx) -> ApiResult<(String, String, String)> {
    let caller = ctx.caller()?;
    let s = caller.session().ok_or_else(|| ApiError::internal("console page without a session"))?;
    Ok((caller.user_id().to_string(), s.user_name.clone(), s.csrf_token.clone()))
}

fn done_notice(ctx: &Ctx) -> Option<Notice<'static>> {
    let code = ctx.req.query_param("done")?;
    DONE.iter().find(|(c, _)| *c == code).map(|(_, m)| Notice::Done(m))
}

/// What a page says at the top: the refusal it answers (with `problems`, its fields at
/// fault), else what the last action did (`?done=`).
fn notice<'a>(ctx: &Ctx, refused: Option<&'a ApiError>, problems: &'a [(String, String)]) -> Option<Notice<'a>> {
    match refused {
        Some(e) => Some(Notice::Refused { message: &e.message, fields: problems }),
        None => done_notice(ctx),
    }
}

/// A page's status: the refusal's, else 200.
fn status(refused: Option<&ApiError>) -> u16 {
    refused.map_or(200, |e| e.status)
}

fn refused_fields(e: &ApiError) -> Vec<(String, String)> {
    e.extra
        .get("fields")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect())
        .unwrap_or_default()
}

/// The submitted form, without its CSRF token.
fn form(ctx: &Ctx) -> Vec<(String, String)> {
    parse_form(&String::from_utf8_lossy(&ctx.req.body)).into_iter().filter(|(k, _)| k != "csrf").collect()
}

fn form_value<'f>(form: &'f [(String, String)], name: &str) -> Option<&'f str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// How the console asks for each field of the API's schemas (the rules stay the API's).
const LABELS: &[(&str, &str, Input, &str)] = &[
    ("human_readable_name", "Name", Input::Text, ""),
    ("short_name", "Short name", Input::Text, "Lower-case letters, digits, - and _; cannot be changed later."),
    ("organisation_identifier", "IATI organisation identifier", Input::Text, "e.g. GB-COH-123456"),
    ("description", "Description", Input::LongText, ""),
    ("hq_country", "Headquarters country", Input::Text, "ISO 3166-1 alpha-2 code, e.g. GB"),
    ("region", "Region", Input::Text, "IATI Region code, e.g. 298"),
    ("organisation_type", "Organisation type", Input::Text, "IATI OrganisationType code, e.g. 21"),
    ("data_portal_url", "Data portal", Input::Url, ""),
    ("exclusions_policy_url", "Exclusions policy", Input::Url, ""),
    ("reporting_source_type", "Source type", Input::Choice(SOURCE_TYPES), ""),
    ("default_licence_id", "Default licence", Input::Text, "A licence id, e.g. cc-by"),
    ("contact_email", "Contact email", Input::Email, ""),
    ("address", "Address", Input::LongText, ""),
    ("phone", "Phone", Input::Text, ""),
    ("fax", "Fax", Input::Text, ""),
    ("website", "Website", Input::Url, ""),
    ("url", "File URL", Input::Url, "Where the IATI XML file is published"),
    ("source_type", "Source type", Input::Choice(SOURCE_TYPES), ""),
    ("licence_id", "Licence", Input::Text, "A licence id, e.g. cc-by"),
    ("visibility", "Visibility", Input::Choice(&[("public", "Public"), ("private", "Private")]), ""),
];

const SOURCE_TYPES: &[(&str, &str)] = &[("primary_source", "Primary source"), ("secondary_source", "Secondary source")];

/// The form's fields for a schema, with values from `value` (the stored or submitted one).
fn fields(
    specs: &[FieldSpec],
    creating: bool,
    value: &dyn Fn(&str) -> String,
    editable: &dyn Fn(&FieldSpec) -> bool,
) -> Vec<Field> {
    specs
        .iter()
        .filter_map(|spec| {
            let (_, label, input, hint) = LABELS.iter().find(|(n, ..)| *n == spec.name)?;
            Some(Field {
                name: spec.name,
                label,
                input: *input,
                value: value(spec.name),
                required: spec.required_on_create,
                editable: (creating || spec.updatable) && editable(spec),
                hint: if creating || spec.updatable { hint } else { "" },
            })
        })
        .collect()
}

/// The submitted fields of a schema as the API's JSON body: on creation only those
/// filled in; on update every editable field shown (empty clears an optional one).
fn body_of(form: &[(String, String)], specs: &[FieldSpec], creating: bool) -> Map<String, Value> {
    specs
        .iter()
        .filter(|s| creating || s.updatable)
        .filter_map(|s| {
            let v = form_value(form, s.name)?.trim();
            (!(creating && v.is_empty())).then(|| (s.name.to_string(), Value::String(v.to_string())))
        })
        .collect()
}

/// What the session's user may do on an organisation: `decide` on the permission table,
/// as `POST /api/v1/authz/check` answers it.
fn rights(ctx: &Ctx, oid: &str) -> ApiResult<view::OrgRights> {
    let caller = ctx.caller()?;
    let Some(access) = ctx.org_access(oid)? else { return Ok(view::OrgRights::default()) };
    let may = |a: Authorisation| decide(ctx.role_table(), &access.standing, a).allowed;
    Ok(view::OrgRights {
        update: may(Authorisation::UpdateOrg),
        delete: may(Authorisation::DeleteOrg),
        manage_people: may(Authorisation::SetOrgUserAuthz),
        create_dataset: may(Authorisation::CreateDataset),
        approve: caller.superadmin,
    })
}

/// `GET /account/console.css` (public, cacheable).
pub(crate) fn stylesheet(_ctx: &Ctx) -> ApiResult<Reply> {
    Ok(Reply::text(200, view::STYLESHEET.to_string(), "text/css; charset=utf-8")
        .header("cache-control", "public, max-age=3600")
        .header("x-content-type-options", "nosniff"))
}

fn org_rows(data: &Value) -> Vec<view::OrgRow> {
    data.as_array()
        .into_iter()
        .flatten()
        .map(|o| view::OrgRow {
            id: text(o, "/id"),
            name: text(o, "/metadata/human_readable_name"),
            short_name: text(o, "/metadata/short_name"),
            role: text(o, "/user_role"),
            approved: o.pointer("/metadata/registry_approved").and_then(Value::as_bool).unwrap_or(false),
        })
        .collect()
}

/// `GET /account`: my organisations, with my role.
pub(crate) fn home(ctx: &Ctx) -> ApiResult<Reply> {
    let (_, name, csrf) = me(ctx)?;
    let superadmin = ctx.caller()?.superadmin;
    // A superadmin's list would be every organisation: their home links to the search.
    let mut orgs = if superadmin {
        Vec::new()
    } else {
        org_rows(&api(ctx, Call::to(LIST_ORGS).query("page_size", "500"))?["data"])
    };
    orgs.sort_by_key(|o| o.name.to_lowercase());
    let frame = Frame { title: "My organisations", user: Some(&name), csrf: &csrf, notice: done_notice(ctx) };
    Ok(html(200, view::home(&frame, &orgs, superadmin)))
}

/// `GET /account/users/{uid}`: a user's page (the `href` of `validate_cookie`): their
/// organisations, for themselves (and superadmins).
pub(crate) fn user(ctx: &Ctx) -> ApiResult<Reply> {
    let uid = ctx.id_param("uid")?;
    let (me_id, name, csrf) = me(ctx)?;
    if uid != me_id && !ctx.caller()?.superadmin {
        return Err(ApiError::not_found("User"));
    }
    let roles = api(ctx, Call::to(USER_ROLES).arg(&uid))?;
    let mut orgs = Vec::new();
    for r in roles.pointer("/data/reporting_orgs").and_then(Value::as_array).into_iter().flatten() {
        let oid = text(r, "/id");
        if let Some(org) = api_optional(ctx, Call::to(READ_ORG).arg(&oid))? {
            let mut row = org_rows(&json!([org["data"]]));
            if let Some(row) = row.pop() {
                orgs.push(view::OrgRow { role: text(r, "/role"), ..row });
            }
        }
    }
    let title = if uid == me_id { name.clone() } else { format!("User {uid}") };
    let frame = Frame { title: &title, user: Some(&name), csrf: &csrf, notice: None };
    Ok(html(200, view::home(&frame, &orgs, false)))
}

fn new_org_page(ctx: &Ctx, submitted: &[(String, String)], refused: Option<&ApiError>) -> ApiResult<Reply> {
    let (_, name, csrf) = me(ctx)?;
    let value = |n: &str| form_value(submitted, n).unwrap_or_default().to_string();
    let fields = fields(ORG_FIELDS, true, &value, &|_| true);
    let problems = refused.map(refused_fields).unwrap_or_default();
    let notice = refused.map(|e| Notice::Refused { message: &e.message, fields: &problems });
    let frame = Frame { title: "Create an organisation", user: Some(&name), csrf: &csrf, notice };
    Ok(html(status(refused), view::new_org(&frame, &fields)))
}

/// `GET /account/orgs/new`.
pub(crate) fn new_org(ctx: &Ctx) -> ApiResult<Reply> {
    new_org_page(ctx, &[], None)
}

/// `POST /account/orgs`: `POST /api/v1/reporting-orgs`.
pub(crate) fn create_org(ctx: &Ctx) -> ApiResult<Reply> {
    let submitted = form(ctx);
    let body = body_of(&submitted, ORG_FIELDS, true);
    match api(ctx, Call::to(CREATE_ORG).body(Value::Object(body))) {
        Ok(v) => Ok(see_other(&format!("/account/orgs/{}?done=org-created", text(&v, "/data/id")))),
        Err(e) if e.status < 500 => new_org_page(ctx, &submitted, Some(&e)),
        Err(e) => Err(e),
    }
}

/// An organisation's page; `submitted` (a refused edit) overrides the stored values.
fn org_page(
    ctx: &Ctx,
    oid: &str,
    submitted: Option<&[(String, String)]>,
    refused: Option<&ApiError>,
) -> ApiResult<Reply> {
    let (_, name, csrf) = me(ctx)?;
    let org = api(ctx, Call::to(READ_ORG).arg(oid))?;
    let org = &org["data"];
    let rights = rights(ctx, oid)?;
    let value = |n: &str| match submitted.and_then(|f| form_value(f, n)) {
        Some(v) => v.to_string(),
        None => text(org, &format!("/metadata/{n}")),
    };
    let fields = fields(ORG_FIELDS, false, &value, &|_| rights.update);
    let datasets = api_optional(ctx, Call::to(LIST_ORG_DATASETS).arg(oid).query("page_size", "500"))?
        .map(|v| {
            v["data"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| view::DatasetRow {
                    id: text(d, "/id"),
                    name: text(d, "/metadata/human_readable_name"),
                    short_name: text(d, "/metadata/short_name"),
                    visibility: text(d, "/metadata/visibility"),
                    url: text(d, "/metadata/url"),
                })
                .collect()
        })
        .unwrap_or_default();
    let (mut people, mut pending) = (Vec::new(), Vec::new());
    if let Some(v) = api_optional(ctx, Call::to(LIST_ORG_USERS).arg(oid))? {
        for m in v["data"].as_array().into_iter().flatten() {
            let p = view::Person {
                id: text(m, "/id"),
                name: text(m, "/name"),
                email: text(m, "/email"),
                role: text(m, "/role"),
            };
            if p.role == "contributor_pending" {
                pending.push(p)
            } else {
                people.push(p)
            }
        }
    }
    let tools = api_optional(ctx, Call::to(LIST_ORG_TOOLS).arg(oid))?
        .map(|v| {
            v["data"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| view::ToolRow { id: text(t, "/id"), name: text(t, "/name") })
                .collect()
        })
        .unwrap_or_default();
    let page = view::OrgPage {
        id: oid.to_string(),
        name: text(org, "/metadata/human_readable_name"),
        approved: org.pointer("/metadata/registry_approved").and_then(Value::as_bool).unwrap_or(false),
        my_role: text(org, "/user_role"),
        fields,
        rights,
        datasets,
        people,
        pending,
        tools,
    };
    let problems = refused.map(refused_fields).unwrap_or_default();
    let notice = notice(ctx, refused, &problems);
    let frame = Frame { title: &page.name, user: Some(&name), csrf: &csrf, notice };
    Ok(html(status(refused), view::org(&frame, &page)))
}

/// `GET /account/orgs/{oid}`.
pub(crate) fn org(ctx: &Ctx) -> ApiResult<Reply> {
    org_page(ctx, &ctx.id_param("oid")?, None, None)
}

/// An action on an organisation: the API call, then back to its page (`done`) or the page
/// with the refusal. A refusal that leaves no page to show (the organisation gone or not
/// readable) is the error page.
fn org_action(ctx: &Ctx, call: Call, done: &str) -> ApiResult<Reply> {
    let oid = ctx.id_param("oid")?;
    let submitted = form(ctx);
    let editing = call.method() == "PATCH";
    match api(ctx, call) {
        Ok(_) if done == "org-deleted" => Ok(see_other(&format!("/account?done={done}"))),
        Ok(_) => Ok(see_other(&format!("/account/orgs/{oid}?done={done}"))),
        Err(e) if e.status < 500 && e.status != 404 => {
            let keep = editing.then_some(submitted.as_slice());
            org_page(ctx, &oid, keep, Some(&e))
        }
        Err(e) => Err(e),
    }
}

/// `POST /account/orgs/{oid}`: `PATCH /api/v1/reporting-orgs/{oid}`.
pub(crate) fn update_org(ctx: &Ctx) -> ApiResult<Reply> {
    let body = body_of(&form(ctx), ORG_FIELDS, false);
    org_action(ctx, Call::to(UPDATE_ORG).arg(ctx.id_param("oid")?).body(Value::Object(body)), "org-saved")
}

/// `POST /account/orgs/{oid}/approve`: a superadmin's `PATCH {"registry_approved": true}`.
pub(crate) fn approve_org(ctx: &Ctx) -> ApiResult<Reply> {
    let call = Call::to(UPDATE_ORG).arg(ctx.id_param("oid")?).body(json!({"registry_approved": true}));
    org_action(ctx, call, "org-approved")
}

/// `POST /account/orgs/{oid}/delete`.
pub(crate) fn delete_org(ctx: &Ctx) -> ApiResult<Reply> {
    org_action(ctx, Call::to(DELETE_ORG).arg(ctx.id_param("oid")?), "org-deleted")
}

/// `POST /account/orgs/{oid}/people/{uid}` (`role`): `PUT /api/v1/users/{uid}/reporting-org/{oid}`;
/// approving a join request is giving a role.
pub(crate) fn set_role(ctx: &Ctx) -> ApiResult<Reply> {
    let (oid, uid) = (ctx.id_param("oid")?, ctx.id_param("uid")?);
    let role = form_value(&form(ctx), "role").unwrap_or_default().to_string();
    org_action(ctx, Call::to(SET_ROLE).arg(uid).arg(oid).body(json!({"role": role})), "role-changed")
}

/// `POST /account/orgs/{oid}/people/{uid}/remove`: removes a member or declines a request.
pub(crate) fn remove_person(ctx: &Ctx) -> ApiResult<Reply> {
    let (oid, uid) = (ctx.id_param("oid")?, ctx.id_param("uid")?);
    org_action(ctx, Call::to(REMOVE_ROLE).arg(uid).arg(oid), "person-removed")
}

/// `POST /account/orgs/{oid}/join`: `POST /api/v1/users/{me}/reporting-org`.
pub(crate) fn join_org(ctx: &Ctx) -> ApiResult<Reply> {
    let oid = ctx.id_param("oid")?;
    let (me_id, ..) = me(ctx)?;
    api(ctx, Call::to(JOIN_ORG).arg(me_id).body(json!({"oid": oid})))?;
    Ok(see_other("/account/find?done=join-asked"))
}

/// `GET /account/find?q=`: organisations to ask to join (the discoverable list).
pub(crate) fn find(ctx: &Ctx) -> ApiResult<Reply> {
    let (me_id, name, csrf) = me(ctx)?;
    let q = ctx.req.query_param("q").map(|q| q.trim().to_string()).unwrap_or_default();
    let mut found = Vec::new();
    let mut refused = None;
    if !q.is_empty() {
        match api(ctx, Call::to(DISCOVERABLE_ORGS).query("page_size", "50").query("q", &q)) {
            Ok(v) => {
                let roles = api(ctx, Call::to(USER_ROLES).arg(&me_id))?;
                let role_of = |id: &str| {
                    roles
                        .pointer("/data/reporting_orgs")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .find(|r| text(r, "/id") == id)
                        .map(|r| text(r, "/role"))
                        .unwrap_or_default()
                };
                found = v["data"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|o| {
                        let id = text(o, "/id");
                        view::FoundOrg {
                            my_role: role_of(&id),
                            id,
                            name: text(o, "/metadata/human_readable_name"),
                            short_name: text(o, "/metadata/short_name"),
                            country: text(o, "/metadata/hq_country"),
                        }
                    })
                    .collect();
            }
            Err(e) if e.status == 400 => refused = Some(e),
            Err(e) => return Err(e),
        }
    }
    let notice = match &refused {
        Some(e) => Some(Notice::Refused { message: &e.message, fields: &[] }),
        None => done_notice(ctx),
    };
    let frame = Frame { title: "Join an organisation", user: Some(&name), csrf: &csrf, notice };
    let superadmin = ctx.caller()?.superadmin;
    Ok(html(refused.as_ref().map_or(200, |e| e.status), view::find(&frame, &q, &found, superadmin)))
}

fn dataset_page(
    ctx: &Ctx,
    oid: &str,
    dataset: Option<&Value>,
    submitted: Option<&[(String, String)]>,
    refused: Option<&ApiError>,
) -> ApiResult<Reply> {
    let (_, name, csrf) = me(ctx)?;
    let org = api(ctx, Call::to(READ_ORG).arg(oid))?;
    let access = ctx.org_access(oid)?.ok_or_else(ApiError::org_not_found)?;
    let may = |a: Authorisation| decide(ctx.role_table(), &access.standing, a).allowed;
    let creating = dataset.is_none();
    let can_update = if creating { may(Authorisation::CreateDataset) } else { may(Authorisation::UpdateDataset) };
    let visibility = creating || may(Authorisation::UpdateDatasetVisibility);
    let value = |n: &str| match (submitted.and_then(|f| form_value(f, n)), dataset) {
        (Some(v), _) => v.to_string(),
        (None, Some(d)) => text(d, &format!("/metadata/{n}")),
        (None, None) if n == "visibility" => "public".into(),
        (None, None) => String::new(),
    };
    let specs: Vec<FieldSpec> = DATASET_FIELDS.iter().filter(|s| s.name != "owner_organisation_id").cloned().collect();
    let editable = |s: &FieldSpec| can_update && (s.name != "visibility" || visibility);
    let page = view::DatasetPage {
        org_id: oid.to_string(),
        org_name: text(&org["data"], "/metadata/human_readable_name"),
        id: dataset.map(|d| text(d, "/id")),
        fields: fields(&specs, creating, &value, &editable),
        can_update,
        can_delete: !creating && may(Authorisation::DeleteDataset),
    };
    let title = match dataset {
        Some(d) => text(d, "/metadata/human_readable_name"),
        None => "Add a dataset".into(),
    };
    let problems = refused.map(refused_fields).unwrap_or_default();
    let notice = notice(ctx, refused, &problems);
    let frame = Frame { title: &title, user: Some(&name), csrf: &csrf, notice };
    Ok(html(status(refused), view::dataset(&frame, &page)))
}

/// `GET /account/orgs/{oid}/datasets/new`.
pub(crate) fn new_dataset(ctx: &Ctx) -> ApiResult<Reply> {
    dataset_page(ctx, &ctx.id_param("oid")?, None, None, None)
}

/// `POST /account/orgs/{oid}/datasets`: `POST /api/v1/datasets`.
pub(crate) fn create_dataset(ctx: &Ctx) -> ApiResult<Reply> {
    let oid = ctx.id_param("oid")?;
    let submitted = form(ctx);
    let mut body = body_of(&submitted, DATASET_FIELDS, true);
    body.insert("owner_organisation_id".into(), oid.clone().into());
    match api(ctx, Call::to(CREATE_DATASET).body(Value::Object(body))) {
        Ok(v) => Ok(see_other(&format!("/account/datasets/{}?done=dataset-added", text(&v, "/data/id")))),
        Err(e) if e.status < 500 && e.status != 404 => dataset_page(ctx, &oid, None, Some(&submitted), Some(&e)),
        Err(e) => Err(e),
    }
}

fn read_dataset(ctx: &Ctx) -> ApiResult<(String, Value)> {
    let did = ctx.id_param("did")?;
    let d = api(ctx, Call::to(READ_DATASET).arg(&did))?["data"].take();
    Ok((did, d))
}

/// `GET /account/datasets/{did}`.
pub(crate) fn dataset(ctx: &Ctx) -> ApiResult<Reply> {
    let (_, d) = read_dataset(ctx)?;
    dataset_page(ctx, &text(&d, "/owner_organisation_id"), Some(&d), None, None)
}

/// `POST /account/datasets/{did}`: `PATCH /api/v1/datasets/{did}` with the fields shown
/// editable (visibility only where it may be changed).
pub(crate) fn update_dataset(ctx: &Ctx) -> ApiResult<Reply> {
    let (did, d) = read_dataset(ctx)?;
    let submitted = form(ctx);
    let body = body_of(&submitted, DATASET_FIELDS, false);
    match api(ctx, Call::to(UPDATE_DATASET).arg(&did).body(Value::Object(body))) {
        Ok(_) => Ok(see_other(&format!("/account/datasets/{did}?done=dataset-saved"))),
        Err(e) if e.status < 500 && e.status != 404 => {
            dataset_page(ctx, &text(&d, "/owner_organisation_id"), Some(&d), Some(&submitted), Some(&e))
        }
        Err(e) => Err(e),
    }
}

/// `POST /account/datasets/{did}/delete`.
pub(crate) fn delete_dataset(ctx: &Ctx) -> ApiResult<Reply> {
    let (did, d) = read_dataset(ctx)?;
    let oid = text(&d, "/owner_organisation_id");
    match api(ctx, Call::to(DELETE_DATASET).arg(&did)) {
        Ok(_) => Ok(see_other(&format!("/account/orgs/{oid}?done=dataset-deleted"))),
        Err(e) if e.status < 500 && e.status != 404 => dataset_page(ctx, &oid, Some(&d), None, Some(&e)),
        Err(e) => Err(e),
    }
}

fn api_keys_page(ctx: &Ctx, new_key: Option<&view::NewKey>, refused: Option<&ApiError>) -> ApiResult<Reply> {
    let (_, name, csrf) = me(ctx)?;
    let v = api(ctx, Call::to(LIST_API_KEYS))?;
    let keys: Vec<view::KeyRow> = v
        .pointer("/data/api_keys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|k| view::KeyRow {
            id: text(k, "/id"),
            name: text(k, "/name"),
            prefix: text(k, "/prefix"),
            created_at: text(k, "/created_at"),
            expires_at: text(k, "/expires_at"),
            status: text(k, "/status"),
            session_bound: k.get("session_bound").and_then(Value::as_bool).unwrap_or(false),
        })
        .collect();
    let problems = refused.map(refused_fields).unwrap_or_default();
    let notice = notice(ctx, refused, &problems);
    let frame = Frame { title: "My API keys", user: Some(&name), csrf: &csrf, notice };
    Ok(html(status(refused), view::api_keys(&frame, &keys, new_key)))
}

/// `GET /account/api-keys`.
pub(crate) fn api_keys(ctx: &Ctx) -> ApiResult<Reply> {
    api_keys_page(ctx, None, None)
}

/// `POST /account/api-keys` (`name`, `expires_on` as a date, `session_bound`):
/// `POST /api/v1/api-keys`; the secret is on this answer only.
pub(crate) fn create_api_key(ctx: &Ctx) -> ApiResult<Reply> {
    let submitted = form(ctx);
    let mut body = Map::new();
    body.insert("name".into(), form_value(&submitted, "name").unwrap_or_default().into());
    if let Some(day) = form_value(&submitted, "expires_on").map(str::trim).filter(|d| !d.is_empty()) {
        body.insert("expires_at".into(), format!("{day}T00:00:00Z").into());
    }
    if form_value(&submitted, "session_bound").is_some() {
        body.insert("session_bound".into(), true.into());
    }
    match api(ctx, Call::to(CREATE_API_KEY).body(Value::Object(body))) {
        Ok(v) => {
            let (name, secret) = (text(&v, "/data/name"), text(&v, "/data/api_key"));
            api_keys_page(ctx, Some(&view::NewKey { name: &name, secret: &secret }), None)
        }
        Err(e) if e.status < 500 => api_keys_page(ctx, None, Some(&e)),
        Err(e) => Err(e),
    }
}

/// `POST /account/api-keys/{key_id}/revoke`: `DELETE /api/v1/api-keys/{key_id}`.
pub(crate) fn revoke_api_key(ctx: &Ctx) -> ApiResult<Reply> {
    let id = ctx.id_param("key_id")?;
    api(ctx, Call::to(REVOKE_API_KEY).arg(id))?;
    Ok(see_other("/account/api-keys?done=key-revoked"))
}

/// An organisation's webhooks page, with a secret to show once and the refusal it answers.
fn webhooks_page(
    ctx: &Ctx,
    oid: &str,
    shown: Option<&view::ShownSecret>,
    refused: Option<&ApiError>,
) -> ApiResult<Reply> {
    let (_, name, csrf) = me(ctx)?;
    let org = api(ctx, Call::to(READ_ORG).arg(oid))?;
    let org_name = text(&org, "/data/metadata/human_readable_name");
    let v = api(ctx, Call::to(LIST_WEBHOOKS).arg(oid))?;
    let hooks: Vec<view::WebhookRow> = v["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| view::WebhookRow {
            id: text(h, "/id"),
            url: text(h, "/url"),
            events: h["events"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" "),
            enabled: h["enabled"].as_bool().unwrap_or(false),
            failures: h["failures"].as_i64().unwrap_or(0),
            disabled_reason: text(h, "/disabled_reason"),
        })
        .collect();
    let problems = refused.map(refused_fields).unwrap_or_default();
    let notice = notice(ctx, refused, &problems);
    let title = format!("Webhooks of {org_name}");
    let frame = Frame { title: &title, user: Some(&name), csrf: &csrf, notice };
    Ok(html(status(refused), view::webhooks(&frame, oid, &org_name, &hooks, shown)))
}

/// `GET /account/orgs/{oid}/webhooks` (its admins; the API refuses anyone else).
pub(crate) fn webhooks(ctx: &Ctx) -> ApiResult<Reply> {
    webhooks_page(ctx, &ctx.id_param("oid")?, None, None)
}

/// `POST /account/orgs/{oid}/webhooks` (`url`, `events` repeated): the secret is on this
/// answer only.
pub(crate) fn create_webhook(ctx: &Ctx) -> ApiResult<Reply> {
    let oid = ctx.id_param("oid")?;
    let submitted = form(ctx);
    let events: Vec<Value> =
        submitted.iter().filter(|(k, _)| k == "events").map(|(_, v)| Value::from(v.as_str())).collect();
    let body = json!({"url": form_value(&submitted, "url").unwrap_or_default(), "events": events});
    match api(ctx, Call::to(CREATE_WEBHOOK).arg(&oid).body(body)) {
        Ok(v) => {
            let (url, secret) = (text(&v, "/data/url"), text(&v, "/data/secret"));
            webhooks_page(ctx, &oid, Some(&view::ShownSecret { label: &url, secret: &secret }), None)
        }
        Err(e) if e.status < 500 => webhooks_page(ctx, &oid, None, Some(&e)),
        Err(e) => Err(e),
    }
}

/// `POST …/webhooks/{wid}/secret`: a new secret, on this answer only.
pub(crate) fn rotate_webhook_secret(ctx: &Ctx) -> ApiResult<Reply> {
    let (oid, wid) = (ctx.id_param("oid")?, ctx.id_param("wid")?);
    let v = api(ctx, Call::to(ROTATE_WEBHOOK_SECRET).arg(&oid).arg(&wid))?;
    let secret = text(&v, "/data/secret");
    let label =
        format!("the webhook (the old secret still signs until {})", text(&v, "/data/previous_secret_valid_until"));
    webhooks_page(ctx, &oid, Some(&view::ShownSecret { label: &label, secret: &secret }), None)
}

/// `POST …/webhooks/{wid}/enable`: on again after it was disabled.
pub(crate) fn enable_webhook(ctx: &Ctx) -> ApiResult<Reply> {
    let (oid, wid) = (ctx.id_param("oid")?, ctx.id_param("wid")?);
    api(ctx, Call::to(UPDATE_WEBHOOK).arg(&oid).arg(&wid).body(json!({})))?;
    Ok(see_other(&format!("/account/orgs/{oid}/webhooks?done=webhook-enabled")))
}

/// `POST …/webhooks/{wid}/delete`.
pub(crate) fn delete_webhook(ctx: &Ctx) -> ApiResult<Reply> {
    let (oid, wid) = (ctx.id_param("oid")?, ctx.id_param("wid")?);
    api(ctx, Call::to(DELETE_WEBHOOK).arg(&oid).arg(&wid))?;
    Ok(see_other(&format!("/account/orgs/{oid}/webhooks?done=webhook-deleted")))
}

/// `GET /account/outbox`: the email outbox (superadmins; the API refuses anyone else with
/// its own words).
pub(crate) fn outbox(ctx: &Ctx) -> ApiResult<Reply> {
    let (_, name, csrf) = me(ctx)?;
    let v = api(ctx, Call::to(OUTBOX).query("limit", "500"))?;
    let d = &v["data"];
    let int = |p: &str| d.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    let summary = view::OutboxSummary {
        pending: int("/pending"),
        retrying: int("/retrying"),
        given_up: int("/given_up"),
        sent: int("/sent"),
        oldest_pending_seconds: d["oldest_pending_seconds"].as_i64(),
    };
    let rows: Vec<view::OutboxRow> = d["unsent"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| view::OutboxRow {
            event: text(m, "/event"),
            recipient: text(m, "/recipient"),
            subject: text(m, "/subject"),
            state: text(m, "/state"),
            attempts: m["attempts"].as_i64().unwrap_or(0),
            created_at: text(m, "/created_at"),
            last_error: text(m, "/last_error"),
        })
        .collect();
    let frame = Frame { title: "Email outbox", user: Some(&name), csrf: &csrf, notice: None };
    Ok(html(200, view::outbox(&frame, &summary, &rows)))
}

/// `GET /account/queue`: organisations awaiting approval (superadmins).
pub(crate) fn queue(ctx: &Ctx) -> ApiResult<Reply> {
    let (_, name, csrf) = me(ctx)?;
    if !ctx.caller()?.superadmin {
        return Err(ApiError::forbidden("Only superadmins approve organisations."));
    }
    let mut waiting = Vec::new();
    for page in 1.. {
        let v = api(ctx, Call::to(LIST_ORGS).query("page_size", "500").query("page", page.to_string()))?;
        let rows = org_rows(&v["data"]);
        let last = rows.len() < 500;
        waiting.extend(rows.into_iter().filter(|o| !o.approved));
        if last {
            break;
        }
    }
    let frame = Frame { title: "Organisations awaiting approval", user: Some(&name), csrf: &csrf, notice: None };
    Ok(html(200, view::queue(&frame, &waiting)))
}
