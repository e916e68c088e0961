//! Groups (shared/api/README.md, "Authorisation as a service"): collections of datasets with user members and key/value
//! metadata, managed by superadmins (the scope table's `Groups` row says so); usage plans for gateways are groups. Not CKAN's
//! `group_list` (which answers organisations, as the IATI Registry did).

use crate::context::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use crate::validate::known_fields;
use ryd_store::groups::{self, Group};
use ryd_store::objects;
use serde_json::{json, Map, Value};

fn view(ctx: &Ctx, g: &Group) -> ApiResult<Value> {
    let sql = ctx.sql();
    let members: Vec<Value> =
        groups::members(sql, &g.id)?.into_iter().map(|(id, name)| json!({"user_id": id, "name": name})).collect();
    let datasets: Vec<Value> =
        groups::datasets(sql, &g.id)?.into_iter().map(|(id, name)| json!({"id": id, "short_name": name})).collect();
    Ok(json!({
        "id": g.id,
        "name": g.name,
        "title": g.title,
        "created_at": g.created_at,
        "metadata": groups::metadata(sql, &g.id)?,
        "members": members,
        "datasets": datasets,
    }))
}

/// The group named in the path (`{group}`: its id or name); 404 otherwise.
fn group_param(ctx: &Ctx) -> ApiResult<Group> {
    let key = ctx.params.iter().find(|(n, _)| *n == "group").map(|(_, v)| v.as_str()).unwrap_or("");
    groups::find(ctx.sql(), key)?.ok_or_else(|| ApiError::not_found("Group"))
}

/// `metadata`: an object of keys to strings or numbers (`null` removes a key on PATCH).
fn metadata_changes(body: &Map<String, Value>) -> ApiResult<Vec<(String, Option<String>)>> {
    let Some(md) = body.get("metadata") else { return Ok(Vec::new()) };
    let obj =
        md.as_object().ok_or_else(|| ApiError::invalid_field("metadata", "must be an object of keys to values"))?;
    obj.iter()
        .map(|(k, v)| {
            if k.is_empty() || k.len() > 100 {
                return Err(ApiError::invalid_field("metadata", "keys must be 1 to 100 characters"));
            }
            let value = match v {
                Value::String(s) if s.len() <= 1000 => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Null => None,
                _ => {
                    return Err(ApiError::invalid_field(
                        &format!("metadata.{k}"),
                        "must be a string (at most 1000 characters), a number or null",
                    ))
                }
            };
            Ok((k.clone(), value))
        })
        .collect()
}

fn title_of(body: &Map<String, Value>) -> ApiResult<Option<String>> {
    match body.get("title") {
        None => Ok(None),
        Some(Value::String(t)) if t.chars().count() <= 200 => Ok(Some(t.trim().to_string())),
        Some(_) => Err(ApiError::invalid_field("title", "must be a string of at most 200 characters")),
    }
}

/// GET /api/v1/groups
pub(crate) fn list(ctx: &Ctx) -> ApiResult<Reply> {
    let all: Vec<Value> = groups::list(ctx.sql())?
        .into_iter()
        .map(|g| json!({"id": g.id, "name": g.name, "title": g.title, "created_at": g.created_at}))
        .collect();
    Ok(Reply::ok(json!({"groups": all})))
}

/// POST /api/v1/groups `{"name", "title"?, "metadata"?}`
pub(crate) fn create(ctx: &Ctx) -> ApiResult<Reply> {
    let body = ctx.body()?;
    known_fields(&body, &["name", "title", "metadata"])?;
    let name = match body.get("name").and_then(Value::as_str).map(str::trim) {
        Some(n)
            if (2..=100).contains(&n.len())
                && n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_') =>
        {
            n.to_string()
        }
        _ => return Err(ApiError::invalid_field("name", "is required: 2 to 100 characters of a-z, 0-9, - and _")),
    };
    let title = title_of(&body)?.unwrap_or_default();
    let metadata = metadata_changes(&body)?;
    ctx.write(|| {
        let g = Group { id: crate::ids::new_id(), name: name.clone(), title: title.clone(), created_at: ctx.now() };
        if !groups::insert(ctx.sql(), &g)? {
            return Err(ApiError::conflict(format!("A group named {name:?} already exists.")));
        }
        for (k, v) in &metadata {
            groups::set_metadata(ctx.sql(), &g.id, k, v.as_deref())?;
        }
        ctx.audit("create_group", "group", &g.id, None, None, Some(json!({"name": g.name})))?;
        Ok(Reply::created(view(ctx, &g)?))
    })
}

/// GET /api/v1/groups/{group}
pub(crate) fn read(ctx: &Ctx) -> ApiResult<Reply> {
    let g = group_param(ctx)?;
    Ok(Reply::ok(view(ctx, &g)?))
}

/// PATCH /api/v1/groups/{group} `{"title"?, "metadata"?}` (metadata merged; `null` removes).
pub(crate) fn update(ctx: &Ctx) -> ApiResult<Reply> {
    let g = group_param(ctx)?;
    let body = ctx.body()?;
    known_fields(&body, &["title", "metadata"])?;
    let title = title_of(&body)?;
    let metadata = metadata_changes(&body)?;
    ctx.write(|| {
        if let Some(t) = &title {
            groups::set_title(ctx.sql(), &g.id, t)?;
        }
        for (k, v) in &metadata {
            groups::set_metadata(ctx.sql(), &g.id, k, v.as_deref())?;
        }
        ctx.audit("update_group", "group", &g.id, None, None, Some(Value::Object(body.clone())))?;
        let g = group_param(ctx)?;
        Ok(Reply::ok(view(ctx, &g)?))
    })
}

/// DELETE /api/v1/groups/{group}
pub(crate) fn delete(ctx: &Ctx) -> ApiResult<Reply> {
    let g = group_param(ctx)?;
    ctx.write(|| {
        groups::delete(ctx.sql(), &g.id)?;
        ctx.audit("delete_group", "group", &g.id, None, Some(json!({"name": g.name})), None)?;
        Ok(Reply::ok(json!({"id": g.id, "deleted": true})))
    })
}

/// PUT / DELETE /api/v1/groups/{group}/members/{uid}
pub(crate) fn member(ctx: &Ctx) -> ApiResult<Reply> {
    let g = group_param(ctx)?;
    let uid = ctx.id_param("uid")?;
    let add = ctx.req.method == "PUT";
    ctx.write(|| {
        if groups::set_member(ctx.sql(), &g.id, &uid, add)? {
            ctx.audit(
                if add { "add_group_member" } else { "remove_group_member" },
                "group",
                &g.id,
                None,
                None,
                Some(json!({"user_id": uid})),
            )?;
        }
        Ok(Reply::ok(view(ctx, &g)?))
    })
}

/// PUT / DELETE /api/v1/groups/{group}/datasets/{dataset} (a dataset's id or short name).
pub(crate) fn dataset(ctx: &Ctx) -> ApiResult<Reply> {
    let g = group_param(ctx)?;
    let key = ctx.params.iter().find(|(n, _)| *n == "dataset").map(|(_, v)| v.as_str()).unwrap_or("");
    let d = objects::dataset(ctx.sql(), key)?.ok_or_else(ApiError::dataset_not_found)?;
    let add = ctx.req.method == "PUT";
    ctx.write(|| {
        if groups::set_dataset(ctx.sql(), &g.id, &d.id, add)? {
            ctx.audit(
                if add { "add_group_dataset" } else { "remove_group_dataset" },
                "group",
                &g.id,
                None,
                None,
                Some(json!({"dataset_id": d.id})),
            )?;
        }
        Ok(Reply::ok(view(ctx, &g)?))
    })
}
