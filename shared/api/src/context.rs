//! What a handler works with: the request, the caller, the ports, and the shared steps
//! every handler takes (ids from the path, the caller's standing on an organisation, the
//! body, paging, If-Match, audit events, write transactions with idempotency).

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::{percent_encode, Request, Response};
use crate::ports::Ports;
use ryd_authz::{decide, Authorisation, Decision, OrgStanding, Role, RoleTable};
use ryd_store::audit::{self, AuditEvent};
use ryd_store::{idempotency, orgs, tools, Sql, SqlError};
use serde_json::{json, Map, Value};

pub use ryd_http::cache::PRIVATE;

/// What a handler sees: the host, the request, the caller, the route's parameters and the time.
pub struct Ctx<'a> {
    /// The host's ports.
    pub ports: &'a dyn Ports,
    /// The request.
    pub req: &'a Request,
    /// The authenticated caller (`None` on public routes).
    pub caller: Option<Caller>,
    /// The route's `{name}` segments, by name.
    pub params: Vec<(&'static str, String)>,
    /// The request's time (Unix milliseconds), one reading for the whole request.
    pub now_millis: i64,
}

/// A successful answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: Value,
    /// Extra response headers (lower-case names).
    pub headers: Vec<(String, String)>,
    /// A body that is not JSON (the PEM public key), sent instead of `body`.
    pub text: Option<String>,
}

impl Reply {
    /// The reference envelope around `data`.
    pub fn ok(data: Value) -> Self {
        Self::with_status(200, data)
    }
    /// `201` with the reference envelope around `data`.
    pub fn created(data: Value) -> Self {
        Self::with_status(201, data)
    }
    /// The reference envelope around `data`, with this status.
    pub fn with_status(status: u16, data: Value) -> Self {
        Self {
            status,
            body: json!({"status": "success", "error": null, "data": data}),
            headers: Vec::new(),
            text: None,
        }
    }
    /// A body without the envelope (`GET /licences`, `/health`, the OpenAPI document).
    pub fn bare(status: u16, body: Value) -> Self {
        Self { status, body, headers: Vec::new(), text: None }
    }
    /// A plain-text body with its content type.
    pub fn text(status: u16, text: String, content_type: &str) -> Self {
        Self {
            status,
            body: Value::Null,
            headers: vec![("content-type".into(), content_type.into())],
            text: Some(text),
        }
    }
    /// `304 Not Modified` for a conditional read that names `etag`: no body.
    pub fn not_modified(etag: &str) -> Self {
        Self { status: 304, body: Value::Null, headers: vec![("etag".into(), etag.into())], text: Some(String::new()) }
    }
    /// One more response header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// An `ETag` of the object's version (`"7"`), which `If-Match` must repeat.
    pub fn etag(mut self, version: i64) -> Self {
        self.headers.push(("etag".into(), format!("\"{version}\"")));
        self
    }
    /// The HTTP response.
    pub fn into_response(self) -> Response {
        let mut r = Response::json(self.status, &self.body);
        if let Some(text) = self.text {
            r.body = text.into_bytes();
        }
        for (n, v) in self.headers {
            r.set_header(&n, v);
        }
        r
    }
}

/// An organisation with the caller's standing on it.
pub struct OrgAccess {
    /// The organisation.
    pub org: orgs::Organisation,
    /// The caller's own role there, if any.
    pub role: Option<Role>,
    /// Everything the permission table needs about the caller there.
    pub standing: OrgStanding,
}

impl OrgAccess {
    /// `user_role` as the reference shows it: the role, `provider_admin` through a tool,
    /// and `admin` for superadmins.
    pub fn user_role(&self) -> Option<&'static str> {
        if self.standing.superadmin {
            Some("admin")
        } else if let Some(r) = self.role {
            Some(r.as_str())
        } else if self.standing.provider_admin {
            Some("provider_admin")
        } else {
            None
        }
    }
}

impl<'a> Ctx<'a> {
    /// The database.
    pub fn sql(&self) -> &dyn Sql {
        self.ports.sql()
    }

    /// The caller, or a `401` on a route that needs one.
    pub fn caller(&self) -> ApiResult<&Caller> {
        self.caller.as_ref().ok_or_else(ApiError::no_token)
    }

    /// The role table in force for this caller.
    pub fn role_table(&self) -> RoleTable {
        self.caller.as_ref().map(|c| c.role_table).unwrap_or_default()
    }

    /// A setting of the component (`routes::Component::settings`) as it was when the
    /// caller's token was verified; on public routes, read now.
    pub fn setting(&self, name: &str) -> Option<String> {
        match &self.caller {
            Some(c) => c.setting(name).map(str::to_string),
            None => self.ports.variable(name),
        }
    }

    /// The request's time as RFC 3339.
    pub fn now(&self) -> String {
        crate::time::rfc3339(self.now_millis)
    }

    /// How long caches may keep this component's public reads (its environment's
    /// `RYD_PUBLIC_*` settings; the defaults where unset).
    pub fn freshness(&self) -> ryd_http::cache::Freshness {
        ryd_http::cache::Freshness::configured(|name| self.ports.environment(name), &|m| self.ports.log(m))
    }

    /// A path id, canonical; anything not 8-4-4-4-12 hex is a 400 naming the parameter.
    pub fn id_param(&self, name: &str) -> ApiResult<String> {
        let raw = self.params.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str()).unwrap_or("");
        crate::ids::parse_id(raw)
            .ok_or_else(|| ApiError::bad_request(format!("Path parameter `{name}` must be a UUID, got {raw:?}.")))
    }

    /// The caller's standing on an organisation; `None` when it does not exist (or is
    /// deleted).
    pub fn org_access(&self, oid: &str) -> ApiResult<Option<OrgAccess>> {
        let caller = self.caller()?;
        let p = &caller.principal;
        let found = orgs::get_with_standing(self.sql(), oid, caller.user_id(), Some(&p.client_id), p.is_machine)?;
        Ok(found.map(|s| {
            let role = s.role.as_deref().and_then(Role::parse).filter(|_| !p.is_machine);
            OrgAccess {
                standing: OrgStanding {
                    superadmin: caller.superadmin,
                    role,
                    provider_admin: s.provider_admin,
                    is_machine: p.is_machine,
                },
                role,
                org: s.org,
            }
        }))
    }

    /// The permission table's decision for the caller on this organisation.
    pub fn decide(&self, access: &OrgAccess, auth: Authorisation) -> Decision {
        decide(self.role_table(), &access.standing, auth)
    }

    /// The organisation, if the caller may read it (`not_found` otherwise: no existence
    /// leak) and holds `auth` there (403 naming it otherwise).
    pub fn org_requiring(&self, oid: &str, auth: Authorisation, not_found: fn() -> ApiError) -> ApiResult<OrgAccess> {
        let access = self.org_access(oid)?.ok_or_else(not_found)?;
        if !self.decide(&access, Authorisation::ReadOrg).allowed {
            return Err(not_found());
        }
        let d = self.decide(&access, auth);
        if !d.allowed {
            return Err(ApiError::lacks(auth, &d));
        }
        Ok(access)
    }

    /// A CKAN-style action's success, in CKAN's envelope.
    pub fn ckan_ok(&self, result: Value) -> Reply {
        let action = self.req.path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        let help = format!("{}/api/3/action/help_show?name={action}", self.req.base_url);
        Reply::bare(200, json!({"help": help, "success": true, "result": result}))
    }

    /// Answers in the envelope of the path asked: CKAN's under `/api/3/action/`, the
    /// Register Your Data envelope elsewhere (one handler serves both spellings).
    pub fn answer(&self, result: Value) -> Reply {
        if self.req.path.starts_with("/api/3/action/") {
            self.ckan_ok(result)
        } else {
            Reply::ok(result)
        }
    }

    /// The JSON object body (413, 415 and 400 as shared/api/README.md says).
    pub fn body(&self) -> ApiResult<Map<String, Value>> {
        crate::validate::parse_object(&self.req.body)
    }

    /// `page` (≥ 1) and `page_size` (1–500, default 100).
    pub fn paging(&self) -> ApiResult<(i64, i64)> {
        Ok((self.int_param("page", 1, 1..=i64::MAX / 1000)?, self.int_param("page_size", 100, 1..=500)?))
    }

    /// An integer query parameter within `range`, `default` when absent, else a `400`
    /// naming it and its bounds.
    pub fn int_param(&self, name: &str, default: i64, range: std::ops::RangeInclusive<i64>) -> ApiResult<i64> {
        match self.req.query_param(name) {
            None => Ok(default),
            Some(v) => v.trim().parse::<i64>().ok().filter(|n| range.contains(n)).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Query parameter `{name}` must be an integer from {} to {}, got {v:?}.",
                    range.start(),
                    range.end()
                ))
            }),
        }
    }

    /// The `include_actions` query parameter (`yes`/`no`), or a `400`.
    pub fn include_actions(&self) -> ApiResult<bool> {
        match self.req.query_param("include_actions").as_deref() {
            None | Some("no") | Some("") => Ok(false),
            Some("yes") => Ok(true),
            Some(other) => Err(ApiError::bad_request(format!(
                "Query parameter `include_actions` must be yes or no, got {other:?}."
            ))),
        }
    }

    /// The reference pagination object, with links that keep the other query parameters.
    pub fn pagination(&self, page: i64, size: i64, total: i64) -> Value {
        let total_pages = ((total + size - 1) / size).max(1);
        let others: Vec<String> = self
            .req
            .query_pairs()
            .into_iter()
            .filter(|(k, _)| k != "page" && k != "page_size")
            .map(|(k, v)| format!("{}={}", percent_encode(&k), percent_encode(&v)))
            .collect();
        let path = self.req.path.trim_end_matches('/');
        let link = |p: i64| {
            let mut q = vec![format!("page={p}"), format!("page_size={size}")];
            q.extend(others.iter().cloned());
            Value::String(format!("{}{}?{}", self.req.base_url, path, q.join("&")))
        };
        json!({
            "page": page,
            "page_size": size,
            "total_pages": total_pages,
            "total_records": total,
            "links": {
                "first": link(1),
                "last": link(total_pages),
                "next": if page < total_pages { link(page + 1) } else { Value::Null },
                "prev": if page > 1 { link((page - 1).min(total_pages)) } else { Value::Null },
            }
        })
    }

    /// 412 when `If-Match` is sent and names another version (`*` matches any).
    pub fn check_if_match(&self, current: i64) -> ApiResult<()> {
        let Some(h) = self.req.header("if-match") else { return Ok(()) };
        let ok = h
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/").trim_matches('"'))
            .any(|t| t == "*" || t == current.to_string());
        if ok {
            Ok(())
        } else {
            Err(ApiError::precondition_failed(current))
        }
    }

    /// Appends an audit event for the caller.
    pub fn audit(
        &self,
        action: &str,
        target_type: &str,
        target_id: &str,
        org: Option<&orgs::Organisation>,
        before: Option<Value>,
        after: Option<Value>,
    ) -> ApiResult<()> {
        let caller = self.caller()?;
        let p = &caller.principal;
        let tool = tools::by_client_id(self.sql(), &p.client_id)?;
        let (application_id, application_name) = match tool {
            Some(t) => (t.id, t.name),
            None => (String::new(), p.client_id.clone()),
        };
        let user_name = match (&p.name, p.is_machine) {
            (Some(n), _) => n.clone(),
            (None, true) => application_name.clone(),
            (None, false) => ryd_store::members::user_name(self.sql(), caller.user_id())?,
        };
        let event = AuditEvent {
            id: crate::ids::new_id(),
            at: self.now(),
            sub: p.sub.clone(),
            user_id: caller.user_id().to_string(),
            user_name,
            client_id: p.client_id.clone(),
            application_id,
            application_name,
            action: action.into(),
            target_type: target_type.into(),
            target_id: target_id.into(),
            organisation_id: org.map(|o| o.id.clone()).unwrap_or_default(),
            organisation_name: org.map(|o| o.field("human_readable_name").to_string()).unwrap_or_default(),
            before: before.as_ref().map(Value::to_string),
            after: after.as_ref().map(Value::to_string),
        };
        audit::append(self.sql(), &event)?;
        // The notices it causes, in the same transaction (the outbox).
        crate::notify::enqueue(
            self.ports,
            &self.req.base_url,
            self.now_millis,
            &event,
            org,
            before.as_ref(),
            after.as_ref(),
        )
    }

    /// Runs a write in one transaction, so a failure halfway changes nothing. With an
    /// `Idempotency-Key` on a POST, a retry within 24 h answers as the first did and
    /// writes nothing; the record is written in the same transaction as the change.
    pub fn write(&self, f: impl FnOnce() -> ApiResult<Reply>) -> ApiResult<Reply> {
        let key = self.req.header("idempotency-key").filter(|_| self.req.method == "POST").map(str::to_string);
        if key.as_ref().is_some_and(|k| k.is_empty() || k.len() > 255) {
            return Err(ApiError::bad_request("Idempotency-Key must be 1 to 255 characters."));
        }
        let principal =
            self.caller.as_ref().map(|c| format!("{}|{}", c.principal.sub, c.principal.client_id)).unwrap_or_default();
        let now = self.now_millis / 1000;
        let sql = self.sql();
        ryd_store::transaction(sql, || -> ApiResult<Reply> {
            if let Some(key) = &key {
                if let Some(rec) = idempotency::find(sql, &principal, key, now)? {
                    if rec.method != self.req.method || rec.path != self.req.path {
                        return Err(ApiError::new(422, "This Idempotency-Key was used for a different request."));
                    }
                    let body = serde_json::from_str(&rec.body).unwrap_or(Value::Null);
                    let mut reply = Reply::bare(rec.status, body);
                    reply.headers.push(("idempotent-replayed".into(), "true".into()));
                    return Ok(reply);
                }
            }
            let reply = f()?;
            if let Some(key) = &key {
                let rec = idempotency::Recorded {
                    method: self.req.method.clone(),
                    path: self.req.path.clone(),
                    status: reply.status,
                    body: reply.body.to_string(),
                };
                idempotency::record(sql, &principal, key, &rec, now).map_err(|e: SqlError| ApiError::from(e))?;
            }
            Ok(reply)
        })
    }
}
