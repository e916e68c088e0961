//! /reporting-orgs and /discoverable-reporting-orgs.

use crate::context::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use crate::validate::{validate, ORG_FIELDS, ORG_READ_ONLY};
use crate::views;
use ryd_authz::Authorisation;
use ryd_store::members;
use ryd_store::orgs::{self, Organisation, METADATA_COLUMNS};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub(crate) fn discoverable(ctx: &Ctx) -> ApiResult<Reply> {
    let (page, size) = ctx.paging()?;
    let q = ctx.req.query_param("q").map(|q| q.trim().to_string()).filter(|q| !q.is_empty());
    if let Some(q) = &q {
        let n = q.chars().count();
        if !(2..=40).contains(&n) {
            return Err(ApiError::bad_request(format!("Query parameter `q` must be 2 to 40 characters, got {n}.")));
        }
    }
    let found = orgs::list_discoverable(ctx.sql(), q.as_deref(), size, (page - 1) * size)?;
    let data: Vec<Value> =
        found.items.iter().map(|o| json!({"id": o.id, "metadata": views::org_public_metadata(o)})).collect();
    let mut reply = Reply::ok(Value::Array(data));
    reply.body["pagination"] = ctx.pagination(page, size, found.total);
    Ok(reply)
}

pub(crate) fn list(ctx: &Ctx) -> ApiResult<Reply> {
    let (page, size) = ctx.paging()?;
    let with_actions = ctx.include_actions()?;
    let caller = ctx.caller()?;
    let p = &caller.principal;
    let found = if caller.superadmin {
        let mut all = orgs::list_all(ctx.sql(), size, (page - 1) * size)?;
        all.items.iter_mut().for_each(|(_, role)| *role = Some("admin".into()));
        all
    } else {
        orgs::list_for_caller(ctx.sql(), caller.user_id(), &p.client_id, p.is_machine, size, (page - 1) * size)?
    };
    let mut data = Vec::with_capacity(found.items.len());
    for (org, role) in &found.items {
        let actions = if with_actions {
            Some(views::actions(ctx.sql(), "organisation", &org.id, views::ORG_ACTIONS)?)
        } else {
            None
        };
        data.push(views::org(org, role.as_deref(), actions));
    }
    let mut reply = Reply::ok(Value::Array(data));
    reply.body["pagination"] = ctx.pagination(page, size, found.total);
    Ok(reply)
}

pub(crate) fn read(ctx: &Ctx) -> ApiResult<Reply> {
    let oid = ctx.id_param("oid")?;
    let with_actions = ctx.include_actions()?;
    let access = ctx.org_requiring(&oid, Authorisation::ReadOrg, ApiError::org_not_found)?;
    let actions =
        if with_actions { Some(views::actions(ctx.sql(), "organisation", &oid, views::ORG_ACTIONS)?) } else { None };
    Ok(Reply::ok(views::org(&access.org, access.user_role(), actions)).etag(access.org.version))
}

fn conflict_for(field: &str) -> ApiError {
    ApiError::conflict(format!("There is already a reporting_org with that {field} in the Registry."))
        .with("field", field)
}

pub(crate) fn create(ctx: &Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let body = ctx.body()?;
    let changes = validate(&body, ORG_FIELDS, None, &[])?;
    ctx.write(|| {
        let sql = ctx.sql();
        for field in ["short_name", "organisation_identifier"] {
            if let Some(Some(v)) = changes.get(field) {
                if orgs::taken(sql, field, v, "")? {
                    return Err(conflict_for(field));
                }
            }
        }
        let now = ctx.now();
        let metadata: BTreeMap<String, String> = METADATA_COLUMNS
            .iter()
            .map(|c| (c.to_string(), changes.get(*c).cloned().flatten().unwrap_or_default()))
            .collect();
        let org = Organisation {
            id: crate::ids::new_id(),
            metadata,
            registry_approved: false,
            first_publication_date: String::new(),
            created_date: now.clone(),
            number_of_published_datasets: 0,
            version: 1,
        };
        orgs::insert(sql, &org).map_err(|e| unique_to_conflict(e, "short_name"))?;
        // The creator becomes its admin; a superadmin holds every right already (shared/authz/README.md §4).
        if !caller.superadmin {
            members::set_role(sql, &org.id, caller.user_id(), "admin", &now)?;
        }
        ctx.audit("create", "organisation", &org.id, Some(&org), None, Some(views::org_metadata(&org)))?;
        Ok(Reply::created(views::org(&org, Some("admin"), None)).etag(org.version))
    })
}

pub(crate) fn unique_to_conflict(e: ryd_store::SqlError, field: &str) -> ApiError {
    if e.kind == ryd_store::SqlErrorKind::Unique {
        let f = if e.message.contains("organisation_identifier") { "organisation_identifier" } else { field };
        conflict_for(f)
    } else {
        e.into()
    }
}

/// The current value of an organisation field as text, for "sent back unchanged" checks.
fn current_value(org: &Organisation, name: &str) -> Option<String> {
    match name {
        "id" => Some(org.id.clone()),
        "registry_approved" => Some(org.registry_approved.to_string()),
        "first_publication_date" => Some(org.first_publication_date.clone()),
        "number_of_published_datasets" => Some(org.number_of_published_datasets.to_string()),
        "created_date" => Some(org.created_date.clone()),
        "version" => Some(org.version.to_string()),
        other => org.metadata.get(other).cloned(),
    }
}

pub(crate) fn update(ctx: &Ctx) -> ApiResult<Reply> {
    let oid = ctx.id_param("oid")?;
    let with_actions = ctx.include_actions()?;
    let caller = ctx.caller()?;
    ctx.write(|| {
        let access = ctx.org_requiring(&oid, Authorisation::UpdateOrg, ApiError::org_not_found)?;
        let org = &access.org;
        let mut body: Map<String, Value> = ctx.body()?;
        // The one read-only field a superadmin may write: approval.
        let approval = match body.get("registry_approved") {
            Some(Value::Bool(b)) if caller.superadmin => {
                let b = *b;
                body.remove("registry_approved");
                (b != org.registry_approved).then_some(b)
            }
            Some(v) if caller.superadmin && !v.is_boolean() => {
                return Err(ApiError::invalid_fields(vec![(
                    "registry_approved".into(),
                    "must be true or false".into(),
                )]))
            }
            _ => None,
        };
        ctx.check_if_match(org.version)?;
        let current = |n: &str| current_value(org, n);
        let changes = validate(&body, ORG_FIELDS, Some(&current), ORG_READ_ONLY)?;
        let changed: BTreeMap<String, String> = changes
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or_default()))
            .filter(|(k, v)| org.metadata.get(k) != Some(v))
            .collect();
        if changed.is_empty() && approval.is_none() {
            return Ok(
                Reply::ok(views::org(org, access.user_role(), actions_if(ctx, with_actions, &oid)?)).etag(org.version)
            );
        }
        if !orgs::update(ctx.sql(), &oid, &changed, approval, org.version)? {
            return Err(ApiError::precondition_failed(org.version + 1));
        }
        let mut before: Map<String, Value> = changed.keys().map(|k| (k.clone(), org.field(k).into())).collect();
        let mut after: Map<String, Value> = changed.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect();
        if let Some(a) = approval {
            before.insert("registry_approved".into(), org.registry_approved.into());
            after.insert("registry_approved".into(), a.into());
        }
        let updated = orgs::get(ctx.sql(), &oid)?.ok_or_else(ApiError::org_not_found)?;
        ctx.audit(
            "update_metadata",
            "organisation",
            &oid,
            Some(&updated),
            Some(Value::Object(before)),
            Some(Value::Object(after)),
        )?;
        Ok(Reply::ok(views::org(&updated, access.user_role(), actions_if(ctx, with_actions, &oid)?))
            .etag(updated.version))
    })
}

fn actions_if(ctx: &Ctx, yes: bool, oid: &str) -> ApiResult<Option<Vec<Value>>> {
    Ok(if yes { Some(views::actions(ctx.sql(), "organisation", oid, views::ORG_ACTIONS)?) } else { None })
}

pub(crate) fn delete(ctx: &Ctx) -> ApiResult<Reply> {
    let oid = ctx.id_param("oid")?;
    ctx.write(|| {
        let access = ctx.org_requiring(&oid, Authorisation::DeleteOrg, ApiError::org_not_found)?;
        ctx.check_if_match(access.org.version)?;
        if !orgs::soft_delete(ctx.sql(), &oid, &ctx.now(), access.org.version)? {
            return Err(ApiError::precondition_failed(access.org.version + 1));
        }
        ctx.audit("delete", "organisation", &oid, Some(&access.org), Some(views::org_metadata(&access.org)), None)?;
        Ok(Reply::ok(Value::Null))
    })
}
