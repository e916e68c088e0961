//! Authorisation as a service (shared/api/README.md): batch checks from the same permission
//! table, and revocation of everything a user or a client application holds.

use crate::context::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use ryd_authz::{decide, Authorisation, Decision, OrgStanding, Role};
use ryd_store::{api_keys, members, objects, orgs, tokens};
use serde_json::{json, Value};
use std::collections::HashMap;

/// At most this many checks per request.
pub(crate) const MAX_CHECKS: usize = 100;

/// Whose standing is asked about.
pub(crate) enum Subject {
    /// The caller, through their token (client-aware: a tool grant counts only through the
    /// tool's own client).
    Caller,
    /// Another user, asked by a superadmin: their roles, and provider admin wherever a tool
    /// they administer is granted.
    User { uid: String, superadmin: bool },
}

pub(crate) fn standing(ctx: &Ctx, subject: &Subject, org_id: &str) -> ApiResult<Option<OrgStanding>> {
    match subject {
        Subject::Caller => Ok(ctx.org_access(org_id)?.map(|a| a.standing)),
        Subject::User { uid, superadmin } => {
            // Any client: provider admin wherever a tool they administer is granted.
            let found = orgs::get_with_standing(ctx.sql(), org_id, uid, None, false)?;
            Ok(found.map(|s| OrgStanding {
                superadmin: *superadmin,
                role: s.role.as_deref().and_then(Role::parse),
                provider_admin: s.provider_admin,
                is_machine: false,
            }))
        }
    }
}

/// The user named by `field` (`subject`, `userid`): the caller themselves, or anyone for a
/// superadmin; 403 for anyone else.
fn subject_for(ctx: &Ctx, field: &str, raw: &str) -> ApiResult<Subject> {
    let caller = ctx.caller()?;
    let uid = crate::ids::parse_id(raw)
        .ok_or_else(|| ApiError::invalid_fields(vec![(field.into(), "must be a user UUID".into())]))?;
    let is_self = uid == caller.user_id();
    ryd_authz::check_about_user(is_self, caller.superadmin, "ask about a user").map_err(ApiError::forbidden)?;
    if is_self {
        return Ok(Subject::Caller);
    }
    let superadmin = members::is_superadmin(ctx.sql(), &uid)?;
    Ok(Subject::User { uid, superadmin })
}

/// `org/<id or name>` or `dataset/<id or name>`: the kind and the key.
fn parse_object(object: &str) -> Option<(bool, &str)> {
    let (kind, key) = object.split_once('/')?;
    match kind {
        "org" | "organization" | "organisation" => Some((true, key.trim())),
        "dataset" | "ds" => Some((false, key.trim())),
        _ => None,
    }
}

/// One batch of questions about one subject: objects resolved together (two statements
/// however many), and each organisation's standing looked up once.
struct Batch<'c, 'a> {
    ctx: &'c Ctx<'a>,
    subject: Subject,
    orgs: HashMap<String, String>,
    datasets: HashMap<String, String>,
    standings: HashMap<String, Option<OrgStanding>>,
}

impl<'c, 'a> Batch<'c, 'a> {
    fn new(ctx: &'c Ctx<'a>, subject: Subject, checks: &[Value]) -> ApiResult<Self> {
        let (mut org_keys, mut dataset_keys) = (Vec::new(), Vec::new());
        for object in checks.iter().filter_map(|c| c.get("object").and_then(Value::as_str)) {
            match parse_object(object) {
                Some((true, key)) => org_keys.push(key),
                Some((false, key)) => dataset_keys.push(key),
                None => {}
            }
        }
        let (orgs, datasets) = objects::deciding_organisations(ctx.sql(), &org_keys, &dataset_keys)?;
        Ok(Self { ctx, subject, orgs, datasets, standings: HashMap::new() })
    }

    fn one(&mut self, check: &Value) -> ApiResult<Decision> {
        let deny = |reason: &str| Ok(Decision { allowed: false, reason: reason.to_string() });
        let Some(auth) = check.get("authorisation").and_then(Value::as_str).and_then(Authorisation::parse) else {
            return deny("unknown authorisation (one of read-org, update-org, …, delete-dataset)");
        };
        let Some(object) = check.get("object").and_then(Value::as_str) else {
            return deny("no object (org/<id or name> or dataset/<id or name>)");
        };
        let org_id = match parse_object(object) {
            Some((true, key)) => self.orgs.get(key),
            Some((false, key)) => self.datasets.get(key),
            None => None,
        };
        let Some(org_id) = org_id.cloned() else { return deny("no such object") };
        let standing = match self.standings.get(&org_id) {
            Some(s) => *s,
            None => {
                let s = standing(self.ctx, &self.subject, &org_id)?;
                self.standings.insert(org_id, s);
                s
            }
        };
        let Some(standing) = standing else { return deny("no such object") };
        let table = self.ctx.role_table();
        // An object the subject cannot read is "no such object" to them, as in the API (no
        // existence leak).
        if !decide(table, &standing, Authorisation::ReadOrg).allowed {
            return deny("no such object");
        }
        Ok(decide(table, &standing, auth))
    }
}

/// POST /api/v1/authz/check
pub(crate) fn check(ctx: &Ctx) -> ApiResult<Reply> {
    let body = ctx.body()?;
    if let Some(extra) = body.keys().find(|k| !matches!(k.as_str(), "checks" | "subject")) {
        return Err(ApiError::invalid_fields(vec![(extra.clone(), "is not a known field".into())]));
    }
    let checks = body.get("checks").and_then(Value::as_array).ok_or_else(|| {
        ApiError::invalid_fields(vec![("checks".into(), "is required: a list of {authorisation, object}".into())])
    })?;
    if checks.len() > MAX_CHECKS {
        return Err(ApiError::invalid_fields(vec![("checks".into(), format!("at most {MAX_CHECKS} per request"))]));
    }
    let subject = match body.get("subject") {
        None | Some(Value::Null) => Subject::Caller,
        Some(Value::String(uid)) => subject_for(ctx, "subject", uid)?,
        Some(_) => return Err(ApiError::invalid_fields(vec![("subject".into(), "must be a user UUID".into())])),
    };
    let mut batch = Batch::new(ctx, subject, checks)?;
    let mut results = Vec::with_capacity(checks.len());
    for c in checks {
        let d = batch.one(c)?;
        results.push(json!({"allowed": d.allowed, "reason": d.reason}));
    }
    Ok(Reply::bare(200, json!({"results": results})))
}

/// CKAN action names on an object type → the authorisation they need.
const CKAN_ACTIONS: &[(&str, &str, Authorisation)] = &[
    ("dataset", "read", Authorisation::ReadDataset),
    ("dataset", "create", Authorisation::CreateDataset),
    ("dataset", "update", Authorisation::UpdateDataset),
    ("dataset", "delete", Authorisation::DeleteDataset),
    ("dataset", "update_visibility", Authorisation::UpdateDatasetVisibility),
    ("org", "read", Authorisation::ReadOrg),
    ("org", "update", Authorisation::UpdateOrg),
    ("org", "delete", Authorisation::DeleteOrg),
    ("org", "member_create", Authorisation::SetOrgUserAuthz),
    ("org", "tool_authorize", Authorisation::SetOrgToolAuthz),
];

/// GET /api/3/action/is_authorized?object=dataset/abc&action=update[&userid=…] (the seed's
/// CKAN-style question), answered in CKAN's envelope with `result` true or false.
pub(crate) fn is_authorized(ctx: &Ctx) -> ApiResult<Reply> {
    let object = ctx.req.query_param("object").unwrap_or_default();
    let action = ctx.req.query_param("action").unwrap_or_default();
    let kind = object.split('/').next().unwrap_or("");
    let kind = if matches!(kind, "ds" | "dataset") {
        "dataset"
    } else if matches!(kind, "org" | "organization" | "organisation") {
        "org"
    } else {
        ""
    };
    let auth = Authorisation::parse(&action)
        .or_else(|| CKAN_ACTIONS.iter().find(|(k, a, _)| *k == kind && *a == action).map(|(_, _, auth)| *auth))
        .ok_or_else(|| {
            ApiError::invalid_fields(vec![("action".into(), format!("unknown action {action:?} for {object:?}"))])
        })?;
    let subject = match ctx.req.query_param("userid").filter(|u| !u.is_empty()) {
        None => Subject::Caller,
        Some(u) => subject_for(ctx, "userid", &u)?,
    };
    let check = json!({"authorisation": auth.as_str(), "object": object});
    let d = Batch::new(ctx, subject, std::slice::from_ref(&check))?.one(&check)?;
    Ok(ctx.ckan_ok(json!(d.allowed)))
}

/// PUT / DELETE /api/v1/admin/revocations/users/{uid}: every token the user holds now
/// (all their subjects' tokens issued before this second) stops working at once, and
/// every API key they hold is revoked (DELETE lifts the token mark only: revoked keys stay
/// revoked).
pub(crate) fn revoke_user(ctx: &Ctx) -> ApiResult<Reply> {
    let uid = ctx.id_param("uid")?;
    let sub = members::sub_of(ctx.sql(), &uid)?.ok_or_else(|| ApiError::not_found("User UUID"))?;
    revoke(ctx, "sub", &sub, "user", &uid)
}

pub(crate) fn revoke_client(ctx: &Ctx) -> ApiResult<Reply> {
    let client = ctx.params.iter().find(|(n, _)| *n == "client_id").map(|(_, v)| v.clone()).unwrap_or_default();
    if client.is_empty() || client.len() > 200 {
        return Err(ApiError::bad_request("Path parameter `client_id` must be 1 to 200 characters."));
    }
    revoke(ctx, "client", &client, "client", &client)
}

fn revoke(ctx: &Ctx, kind: &str, subject: &str, target_type: &str, target: &str) -> ApiResult<Reply> {
    let now = ctx.now_millis / 1000;
    ctx.write(|| {
        if ctx.req.method == "DELETE" {
            let lifted = tokens::lift(ctx.sql(), kind, subject)?;
            if lifted {
                ctx.audit("lift_revocation", target_type, target, None, None, None)?;
            }
            return Ok(Reply::ok(json!({"revoked": false})));
        }
        tokens::revoke(ctx.sql(), kind, subject, now + 1)?;
        let keys = if target_type == "user" { api_keys::revoke_all_of_user(ctx.sql(), target, &ctx.now())? } else { 0 };
        let after = json!({"revoked_before": now + 1, "api_keys_revoked": keys});
        ctx.audit("revoke", target_type, target, None, None, Some(after))?;
        Ok(Reply::ok(json!({
            "revoked": true,
            "revoked_before": crate::time::rfc3339((now + 1) * 1000),
            "api_keys_revoked": keys,
        })))
    })
}
