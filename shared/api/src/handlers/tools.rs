//! Tools (provider admin, shared/authz/README.md §5): the registry of tools and their grants.

use crate::context::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use ryd_authz::Authorisation;
use ryd_store::members;
use ryd_store::tools::{self, Tool};
use serde_json::{json, Map, Value};

fn tool_json(t: &Tool) -> Value {
    json!({"id": t.id, "name": t.name, "provider": t.provider})
}

fn tool_full(t: &Tool) -> Value {
    json!({"id": t.id, "name": t.name, "provider": t.provider, "client_id": t.client_id, "version": t.version})
}

fn tool_not_found() -> ApiError {
    ApiError::not_found("Tool UUID")
}

pub(crate) fn list(ctx: &Ctx) -> ApiResult<Reply> {
    Ok(Reply::ok(Value::Array(tools::list(ctx.sql())?.iter().map(tool_json).collect())))
}

/// `{name, provider, client_id}`: all required on create, any on update.
fn tool_fields(body: &Map<String, Value>, create: bool) -> ApiResult<Map<String, Value>> {
    let mut errors = Vec::new();
    let mut out = Map::new();
    for (k, v) in body {
        match (k.as_str(), v) {
            ("name" | "provider" | "client_id", Value::String(s)) if !s.trim().is_empty() && s.len() <= 200 => {
                out.insert(k.clone(), Value::String(s.trim().to_string()));
            }
            ("name" | "provider" | "client_id", _) => {
                errors.push((k.clone(), "must be a non-empty string of at most 200 characters".to_string()))
            }
            ("id" | "version", _) => {}
            _ => errors.push((k.clone(), "is not a known field".into())),
        }
    }
    if create {
        for f in ["name", "provider", "client_id"] {
            if !out.contains_key(f) && !errors.iter().any(|(k, _)| k == f) {
                errors.push((f.into(), "is required".into()));
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        errors.sort();
        Err(ApiError::invalid_fields(errors))
    }
}

fn client_conflict() -> ApiError {
    ApiError::conflict("There is already a tool with that client_id in the Registry.").with("field", "client_id")
}

pub(crate) fn create(ctx: &Ctx) -> ApiResult<Reply> {
    let fields = tool_fields(&ctx.body()?, true)?;
    let s = |k: &str| fields.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    ctx.write(|| {
        if tools::client_id_taken(ctx.sql(), &s("client_id"), "")? {
            return Err(client_conflict());
        }
        let t = Tool {
            id: crate::ids::new_id(),
            name: s("name"),
            provider: s("provider"),
            client_id: s("client_id"),
            version: 1,
        };
        tools::insert(ctx.sql(), &t, &ctx.now())?;
        ctx.audit("create", "tool", &t.id, None, None, Some(tool_full(&t)))?;
        Ok(Reply::created(tool_full(&t)).etag(t.version))
    })
}

pub(crate) fn update(ctx: &Ctx) -> ApiResult<Reply> {
    let tid = ctx.id_param("tid")?;
    ctx.write(|| {
        let old = tools::get(ctx.sql(), &tid)?.ok_or_else(tool_not_found)?;
        let fields = tool_fields(&ctx.body()?, false)?;
        ctx.check_if_match(old.version)?;
        let mut new = old.clone();
        for (k, v) in &fields {
            let v = v.as_str().unwrap_or_default().to_string();
            match k.as_str() {
                "name" => new.name = v,
                "provider" => new.provider = v,
                "client_id" => new.client_id = v,
                _ => {}
            }
        }
        if new == old {
            return Ok(Reply::ok(tool_full(&old)).etag(old.version));
        }
        if new.client_id != old.client_id && tools::client_id_taken(ctx.sql(), &new.client_id, &tid)? {
            return Err(client_conflict());
        }
        if !tools::update(ctx.sql(), &new, old.version)? {
            return Err(ApiError::precondition_failed(old.version + 1));
        }
        new.version += 1;
        ctx.audit("update", "tool", &tid, None, Some(tool_full(&old)), Some(tool_full(&new)))?;
        Ok(Reply::ok(tool_full(&new)).etag(new.version))
    })
}

pub(crate) fn delete(ctx: &Ctx) -> ApiResult<Reply> {
    let tid = ctx.id_param("tid")?;
    ctx.write(|| {
        let old = tools::get(ctx.sql(), &tid)?.ok_or_else(tool_not_found)?;
        ctx.check_if_match(old.version)?;
        tools::soft_delete(ctx.sql(), &tid, &ctx.now())?;
        ctx.audit("delete", "tool", &tid, None, Some(tool_full(&old)), None)?;
        Ok(Reply::ok(Value::Null))
    })
}

pub(crate) fn add_admin(ctx: &Ctx) -> ApiResult<Reply> {
    let tid = ctx.id_param("tid")?;
    let uid = ctx.id_param("uid")?;
    ctx.write(|| {
        tools::get(ctx.sql(), &tid)?.ok_or_else(tool_not_found)?;
        if !members::user_exists(ctx.sql(), &uid)? {
            return Err(ApiError::not_found("User UUID"));
        }
        if tools::add_admin(ctx.sql(), &tid, &uid)? {
            ctx.audit("add_admin", "tool", &tid, None, None, Some(json!({"admin": uid})))?;
        }
        Ok(Reply::ok(Value::Null))
    })
}

pub(crate) fn remove_admin(ctx: &Ctx) -> ApiResult<Reply> {
    let tid = ctx.id_param("tid")?;
    let uid = ctx.id_param("uid")?;
    ctx.write(|| {
        tools::get(ctx.sql(), &tid)?.ok_or_else(tool_not_found)?;
        if !tools::remove_admin(ctx.sql(), &tid, &uid)? {
            return Err(ApiError::not_found("An admin with this UUID for this tool"));
        }
        ctx.audit("remove_admin", "tool", &tid, None, Some(json!({"admin": uid})), None)?;
        Ok(Reply::ok(Value::Null))
    })
}

pub(crate) fn list_granted(ctx: &Ctx) -> ApiResult<Reply> {
    let oid = ctx.id_param("oid")?;
    ctx.org_requiring(&oid, Authorisation::ReadOrg, ApiError::org_not_found)?;
    Ok(Reply::ok(Value::Array(tools::granted_on(ctx.sql(), &oid)?.iter().map(tool_json).collect())))
}

pub(crate) fn grant(ctx: &Ctx) -> ApiResult<Reply> {
    let oid = ctx.id_param("oid")?;
    ctx.write(|| {
        let access = ctx.org_requiring(&oid, Authorisation::SetOrgToolAuthz, ApiError::org_not_found)?;
        let body = ctx.body()?;
        let tid = match body.get("tid") {
            Some(Value::String(s)) => crate::ids::parse_id(s.trim())
                .ok_or_else(|| ApiError::invalid_fields(vec![("tid".into(), "must be a UUID".into())]))?,
            _ => return Err(ApiError::invalid_fields(vec![("tid".into(), "is required".into())])),
        };
        if let Some(extra) = body.keys().find(|k| *k != "tid") {
            return Err(ApiError::invalid_fields(vec![(extra.clone(), "is not a known field".into())]));
        }
        let tool = tools::get(ctx.sql(), &tid)?.ok_or_else(tool_not_found)?;
        if tools::grant(ctx.sql(), &oid, &tid, &ctx.now())? {
            ctx.audit("grant_tool", "organisation", &oid, Some(&access.org), None, Some(tool_json(&tool)))?;
        }
        Ok(Reply::created(Value::Null))
    })
}

pub(crate) fn revoke(ctx: &Ctx) -> ApiResult<Reply> {
    let oid = ctx.id_param("oid")?;
    let tid = ctx.id_param("tid")?;
    ctx.write(|| {
        let access = ctx.org_requiring(&oid, Authorisation::SetOrgToolAuthz, ApiError::org_not_found)?;
        if !tools::revoke(ctx.sql(), &oid, &tid)? {
            return Err(ApiError::not_found("A grant of this tool on this organisation"));
        }
        ctx.audit("revoke_tool", "organisation", &oid, Some(&access.org), Some(json!({"tid": tid})), None)?;
        Ok(Reply::ok(Value::Null))
    })
}
