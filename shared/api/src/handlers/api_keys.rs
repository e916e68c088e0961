//! API keys for gateways (shared/api/README.md, "Authorisation as a service"): created by their user, shown once, stored
//! as SHA-256 only; and `validate_api_key`, which a gateway asks with its own token.
//! The Register Your Data API itself never accepts them.

use super::authz::{standing, Subject};
use crate::auth::secret_hash as hash;
use crate::context::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use ryd_authz::{decide, Authorisation};
use ryd_store::api_keys::{self, ApiKey};
use ryd_store::{groups, members, objects};
use serde_json::{json, Map, Value};

/// Characters of the secret kept to tell keys apart (`ryd_` and four more).
const PREFIX_LEN: usize = 8;
/// Legacy keys imported for a user are named with this prefix (the seed's convention).
pub(crate) const LEGACY_PREFIX: &str = "legacy:";
/// The usage-plan groups when `usage_plan_groups` is unset, best plan first.
pub(crate) const DEFAULT_PLAN_GROUPS: [&str; 5] =
    ["api-internal-users", "api-platinum-users", "api-gold-users", "api-silver-users", "api-bronze-users"];

fn view(k: &ApiKey, now: i64) -> Value {
    let status = if k.revoked_at.is_some() {
        "revoked"
    } else if k.expires_at.is_some_and(|e| e <= now) {
        "expired"
    } else {
        "active"
    };
    json!({
        "id": k.id,
        "name": k.name,
        "prefix": k.prefix,
        "created_at": k.created_at,
        "expires_at": k.expires_at.map(|e| crate::time::rfc3339(e * 1000)),
        "revoked_at": k.revoked_at,
        "status": status,
        "session_bound": k.session_hash.is_some(),
    })
}

/// `name` (1–100 characters) and optional `expires_at` (RFC 3339, in the future).
fn name_and_expiry(ctx: &Ctx, body: &Map<String, Value>, allowed: &[&str]) -> ApiResult<(String, Option<i64>)> {
    crate::validate::known_fields(body, allowed)?;
    let name = match body.get("name") {
        Some(Value::String(n)) if !n.trim().is_empty() && n.trim().chars().count() <= 100 => n.trim().to_string(),
        _ => return Err(ApiError::invalid_field("name", "is required: 1 to 100 characters")),
    };
    let now = ctx.now_millis / 1000;
    let expires_at = match body.get("expires_at") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) => match crate::time::parse_rfc3339(t) {
            Some(at) if at > now => Some(at),
            Some(_) => return Err(ApiError::invalid_field("expires_at", "must be in the future")),
            None => {
                return Err(ApiError::invalid_field(
                    "expires_at",
                    "must be an RFC 3339 date-time, e.g. 2027-01-31T00:00:00Z",
                ))
            }
        },
        Some(_) => return Err(ApiError::invalid_field("expires_at", "must be an RFC 3339 date-time string")),
    };
    Ok((name, expires_at))
}

fn store_key(
    ctx: &Ctx,
    user_id: &str,
    name: String,
    secret: &str,
    expires_at: Option<i64>,
    session_hash: Option<String>,
) -> ApiResult<ApiKey> {
    let key = ApiKey {
        id: crate::ids::new_id(),
        user_id: user_id.to_string(),
        name,
        prefix: secret.chars().take(PREFIX_LEN).collect(),
        created_at: ctx.now(),
        expires_at,
        revoked_at: None,
        session_hash,
    };
    if !api_keys::insert(ctx.sql(), &key, &hash(secret))? {
        return Err(ApiError::conflict("This API key is already registered."));
    }
    Ok(key)
}

/// POST /api/v1/api-keys: a new key for the caller; the secret is in this answer only.
/// `"session_bound": true` (IATI Account's console only) binds it to the caller's session:
/// it validates only while that session is on.
pub(crate) fn create(ctx: &Ctx) -> ApiResult<Reply> {
    let body = ctx.body()?;
    let (name, expires_at) = name_and_expiry(ctx, &body, &["name", "expires_at", "session_bound"])?;
    let caller = ctx.caller()?;
    let user_id = caller.user_id().to_string();
    let session_hash = match body.get("session_bound") {
        None | Some(Value::Bool(false)) => None,
        Some(Value::Bool(true)) => match caller.session() {
            Some(s) => Some(s.id_hash.clone()),
            None => {
                return Err(ApiError::invalid_field(
                    "session_bound",
                    "only a key made on IATI Account's API-key page can be bound to its sign-in",
                ))
            }
        },
        Some(_) => return Err(ApiError::invalid_field("session_bound", "must be true or false")),
    };
    // 256 random bits (two v4 UUIDs' worth), hex: SHA-256 suffices for secrets this long.
    let secret = format!("ryd_{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    ctx.write(|| {
        let key = store_key(ctx, &user_id, name, &secret, expires_at, session_hash.clone())?;
        ctx.audit("create_api_key", "api_key", &key.id, None, None, Some(json!({"name": key.name})))?;
        let mut v = view(&key, ctx.now_millis / 1000);
        v["api_key"] = secret.clone().into();
        Ok(Reply::created(v))
    })
}

/// GET /api/v1/api-keys: the caller's keys, never their secrets.
pub(crate) fn list(ctx: &Ctx) -> ApiResult<Reply> {
    let now = ctx.now_millis / 1000;
    let keys = api_keys::list_for_user(ctx.sql(), ctx.caller()?.user_id())?;
    Ok(Reply::ok(json!({"api_keys": keys.iter().map(|k| view(k, now)).collect::<Vec<_>>()})))
}

/// DELETE /api/v1/api-keys/{key_id}: the owner or a superadmin revokes a key at once.
pub(crate) fn revoke(ctx: &Ctx) -> ApiResult<Reply> {
    let id = ctx.id_param("key_id")?;
    let caller = ctx.caller()?;
    let not_found = || ApiError::not_found("API key");
    let key = api_keys::get(ctx.sql(), &id)?.ok_or_else(not_found)?;
    if key.user_id != caller.user_id() && !caller.superadmin {
        return Err(not_found());
    }
    ctx.write(|| {
        if api_keys::revoke(ctx.sql(), &id, &ctx.now())? {
            ctx.audit("revoke_api_key", "api_key", &id, None, None, None)?;
        }
        let key = api_keys::get(ctx.sql(), &id)?.ok_or_else(not_found)?;
        Ok(Reply::ok(view(&key, ctx.now_millis / 1000)))
    })
}

/// POST /api/v1/admin/api-keys: a superadmin imports a legacy key for a user, as the
/// seed's SQL insert did (`{"user_id", "api_key", "name", "expires_at"?}`).
pub(crate) fn import(ctx: &Ctx) -> ApiResult<Reply> {
    let body = ctx.body()?;
    let (name, expires_at) = name_and_expiry(ctx, &body, &["user_id", "api_key", "name", "expires_at"])?;
    let user_id = body
        .get("user_id")
        .and_then(Value::as_str)
        .and_then(crate::ids::parse_id)
        .ok_or_else(|| ApiError::invalid_field("user_id", "is required: the user's UUID"))?;
    let secret = match body.get("api_key") {
        Some(Value::String(s)) if s.trim().len() >= 16 && s.trim().len() <= 512 => s.trim().to_string(),
        _ => return Err(ApiError::invalid_field("api_key", "is required: the legacy key, 16 to 512 characters")),
    };
    let name = if name.starts_with(LEGACY_PREFIX) { name } else { format!("{LEGACY_PREFIX}{name}") };
    ctx.write(|| {
        let key = store_key(ctx, &user_id, name, &secret, expires_at, None)?;
        ctx.audit(
            "import_api_key",
            "api_key",
            &key.id,
            None,
            None,
            Some(json!({"name": key.name, "user_id": user_id})),
        )?;
        Ok(Reply::created(view(&key, ctx.now_millis / 1000)))
    })
}

/// A usage plan, as the answer carries it.
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    name: String,
    rate: i64,
    quota: i64,
    priority: i64,
}

/// The plan for a user among the usage-plan groups that exist: the lowest priority number
/// among their groups, else the plan with the largest priority number (the default).
fn usage_plan(ctx: &Ctx, user_id: &str) -> ApiResult<Option<Plan>> {
    let configured = ctx.setting("usage_plan_groups");
    let names: Vec<&str> = match &configured {
        Some(list) => list.split([',', ' ']).map(str::trim).filter(|n| !n.is_empty()).collect(),
        None => DEFAULT_PLAN_GROUPS.to_vec(),
    };
    let found = groups::plan_groups(ctx.sql(), &names, user_id)?;
    let plans: Vec<(bool, Plan)> = found
        .iter()
        .map(|g| {
            let position = names.iter().position(|n| *n == g.name).unwrap_or(0) as i64 + 1;
            let md = |k: &str| g.metadata.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
            let int = |k: &str, default: i64| md(k).and_then(|v| v.parse().ok()).unwrap_or(default);
            let plan = Plan {
                name: md("api-usage-plan-name").unwrap_or_else(|| g.name.clone()),
                rate: int("api-usage-plan-rate", 10),
                quota: int("api-usage-plan-quota", 10_000),
                priority: int("api-usage-plan-priority", position),
            };
            (g.is_member, plan)
        })
        .collect();
    let own = plans.iter().filter(|(member, _)| *member).map(|(_, p)| p).min_by_key(|p| p.priority);
    let default = || plans.iter().map(|(_, p)| p).max_by_key(|p| p.priority);
    Ok(own.or_else(default).cloned())
}

/// POST /api/3/action/validate_api_key `{"api_key", "api_id"}`, in CKAN's envelope (for
/// superadmins and service clients: the scope table's `ValidateApiKey` row). Never cached:
/// a revoked key or user stops validating at once.
pub(crate) fn validate(ctx: &Ctx) -> ApiResult<Reply> {
    let body = ctx.body()?;
    let text = |name: &str| match body.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        _ => Err(ApiError::invalid_field(name, "Missing value")),
    };
    let (secret, api_id) = (text("api_key")?, text("api_id")?);
    let deny = |message: String| Ok(ctx.ckan_ok(json!({"authorized": false, "message": message})));
    let sql = ctx.sql();
    let Some(key) = api_keys::find_live(sql, &hash(&secret), ctx.now_millis / 1000)? else {
        return deny("Invalid token".into());
    };
    let Some(dataset) = objects::dataset_named(sql, &api_id)? else { return deny("Invalid api_id".into()) };
    let user_name = if key.user_name.is_empty() { key.user_id.clone() } else { key.user_name.clone() };
    // Viewing the API's dataset: listed datasets are everyone's; otherwise the permission
    // table on its organisation decides.
    let readable = dataset.listed || {
        let subject =
            Subject::User { uid: key.user_id.clone(), superadmin: members::is_superadmin(sql, &key.user_id)? };
        standing(ctx, &subject, &dataset.organisation_id)?.is_some_and(|s| {
            decide(ctx.role_table(), &s, Authorisation::ReadOrg).allowed
                && decide(ctx.role_table(), &s, Authorisation::ReadDataset).allowed
        })
    };
    if !readable {
        return deny(format!("User {user_name} not allowed to access {api_id}"));
    }
    if dataset.private && !groups::shares_group(sql, &key.user_id, &dataset.id)? {
        return deny("No usage plan available".into());
    }
    let Some(plan) = usage_plan(ctx, &key.user_id)? else { return deny("No usage plan available".into()) };
    Ok(ctx.ckan_ok(json!({
        "authorized": true,
        "message": "Authorized",
        "usage_plan": {"name": plan.name, "plan": plan.name, "rate": plan.rate, "quota": plan.quota, "priority": plan.priority},
        "app_name": key.name,
    })))
}
