//! /datasets and /reporting-orgs/{oid}/datasets.

use crate::context::{Ctx, OrgAccess, Reply};
use crate::error::{ApiError, ApiResult};
use crate::validate::{validate, DATASET_FIELDS, DATASET_READ_ONLY};
use crate::views;
use ryd_authz::Authorisation;
use ryd_store::datasets::{self, Dataset};
use serde_json::{json, Map, Value};

pub(crate) fn list(ctx: &Ctx) -> ApiResult<Reply> {
    let oid = ctx.id_param("oid")?;
    let (page, size) = ctx.paging()?;
    let with_actions = ctx.include_actions()?;
    ctx.org_requiring(&oid, Authorisation::ReadDataset, ApiError::org_not_found)?;
    let found = datasets::list_for_org(ctx.sql(), &oid, size, (page - 1) * size)?;
    let mut data = Vec::with_capacity(found.items.len());
    for d in &found.items {
        data.push(views::dataset(d, actions_if(ctx, with_actions, &d.id)?));
    }
    let mut reply = Reply::ok(Value::Array(data));
    reply.body["pagination"] = ctx.pagination(page, size, found.total);
    Ok(reply)
}

fn actions_if(ctx: &Ctx, yes: bool, did: &str) -> ApiResult<Option<Vec<Value>>> {
    Ok(if yes { Some(views::actions(ctx.sql(), "dataset", did, views::DATASET_ACTIONS)?) } else { None })
}

fn conflict() -> ApiError {
    ApiError::conflict("There is already a dataset with that short_name in the Registry.").with("field", "short_name")
}

fn require(ctx: &Ctx, access: &OrgAccess, auth: Authorisation) -> ApiResult<()> {
    let d = ctx.decide(access, auth);
    if d.allowed {
        Ok(())
    } else {
        Err(ApiError::lacks(auth, &d))
    }
}

pub(crate) fn create(ctx: &Ctx) -> ApiResult<Reply> {
    let body = ctx.body()?;
    // The owner decides who may create: look it up before validating the rest.
    let owner = match body.get("owner_organisation_id") {
        Some(Value::String(s)) => crate::ids::parse_id(s.trim())
            .ok_or_else(|| ApiError::invalid_fields(vec![("owner_organisation_id".into(), "must be a UUID".into())]))?,
        _ => return Err(ApiError::invalid_fields(vec![("owner_organisation_id".into(), "is required".into())])),
    };
    ctx.write(|| {
        let access = ctx.org_requiring(&owner, Authorisation::CreateDataset, ApiError::org_not_found)?;
        let changes = validate(&body, DATASET_FIELDS, None, &[])?;
        let get = |k: &str| changes.get(k).cloned().flatten().unwrap_or_default();
        if get("visibility") == "public" {
            require(ctx, &access, Authorisation::UpdateDatasetVisibility)?;
        }
        if datasets::short_name_taken(ctx.sql(), &get("short_name"), "")? {
            return Err(conflict());
        }
        let now = ctx.now();
        let licence = changes
            .get("licence_id")
            .cloned()
            .flatten()
            .unwrap_or_else(|| access.org.field("default_licence_id").to_string());
        let d = Dataset {
            id: crate::ids::new_id(),
            organisation_id: owner.clone(),
            short_name: get("short_name"),
            human_readable_name: get("human_readable_name"),
            url: get("url"),
            source_type: get("source_type"),
            licence_id: licence,
            visibility: get("visibility"),
            last_url_update_date: now.clone(),
            last_metadata_update_date: now.clone(),
            created_date: now.clone(),
            version: 1,
        };
        datasets::insert(ctx.sql(), &d).map_err(|e| {
            if e.kind == ryd_store::SqlErrorKind::Unique {
                conflict()
            } else {
                e.into()
            }
        })?;
        if d.visibility == "public" {
            datasets::note_first_publication(ctx.sql(), &owner, &now)?;
        }
        ctx.audit(
            "create",
            "dataset",
            &d.id,
            Some(&access.org),
            None,
            Some(views::dataset(&d, None)["metadata"].clone()),
        )?;
        Ok(Reply::created(views::dataset(&d, None)).etag(d.version))
    })
}

/// The dataset and the caller's standing on its organisation; 404 (the dataset's) when the
/// caller cannot read the organisation.
fn dataset_requiring(ctx: &Ctx, auth: Authorisation) -> ApiResult<(Dataset, OrgAccess)> {
    let did = ctx.id_param("did")?;
    let d = datasets::get(ctx.sql(), &did)?.ok_or_else(ApiError::dataset_not_found)?;
    let access = ctx.org_requiring(&d.organisation_id, auth, ApiError::dataset_not_found)?;
    Ok((d, access))
}

pub(crate) fn read(ctx: &Ctx) -> ApiResult<Reply> {
    let with_actions = ctx.include_actions()?;
    let (d, _) = dataset_requiring(ctx, Authorisation::ReadDataset)?;
    Ok(Reply::ok(views::dataset(&d, actions_if(ctx, with_actions, &d.id)?)).etag(d.version))
}

fn current_value(d: &Dataset, name: &str) -> Option<String> {
    Some(match name {
        "id" => d.id.clone(),
        "owner_organisation_id" => d.organisation_id.clone(),
        "short_name" => d.short_name.clone(),
        "human_readable_name" => d.human_readable_name.clone(),
        "url" => d.url.clone(),
        "source_type" => d.source_type.clone(),
        "licence_id" => d.licence_id.clone(),
        "visibility" => d.visibility.clone(),
        "last_url_update_date" => d.last_url_update_date.clone(),
        "last_metadata_update_date" => d.last_metadata_update_date.clone(),
        "version" => d.version.to_string(),
        _ => return None,
    })
}

pub(crate) fn update(ctx: &Ctx) -> ApiResult<Reply> {
    ctx.write(|| {
        let (old, access) = dataset_requiring(ctx, Authorisation::UpdateDataset)?;
        let body: Map<String, Value> = ctx.body()?;
        ctx.check_if_match(old.version)?;
        let current = |n: &str| current_value(&old, n);
        let changes = validate(&body, DATASET_FIELDS, Some(&current), DATASET_READ_ONLY)?;
        let mut new = old.clone();
        for (k, v) in &changes {
            let v = v.clone().unwrap_or_default();
            match k.as_str() {
                "short_name" => new.short_name = v,
                "human_readable_name" => new.human_readable_name = v,
                "url" => new.url = v,
                "source_type" => new.source_type = v,
                // `licence_id: null` (IATI Publisher, organisation without a default) is "no licence".
                "licence_id" => new.licence_id = v,
                "visibility" => new.visibility = v,
                _ => {}
            }
        }
        // Sending the current visibility again is no change and needs nothing more.
        if new.visibility != old.visibility {
            require(ctx, &access, Authorisation::UpdateDatasetVisibility)?;
        }
        if new.short_name != old.short_name && datasets::short_name_taken(ctx.sql(), &new.short_name, &old.id)? {
            return Err(ApiError::conflict("Error: unable to update dataset as there is already a dataset with that short_name in the Registry.").with("field", "short_name"));
        }
        let url_changed = new.url != old.url;
        let visibility_changed = new.visibility != old.visibility;
        let metadata_changed = (&new.short_name, &new.human_readable_name, &new.source_type, &new.licence_id)
            != (&old.short_name, &old.human_readable_name, &old.source_type, &old.licence_id);
        if !(url_changed || visibility_changed || metadata_changed) {
            return Ok(Reply::ok(views::dataset(&old, None)).etag(old.version));
        }
        let now = ctx.now();
        if url_changed {
            new.last_url_update_date = now.clone();
        }
        if metadata_changed || visibility_changed {
            new.last_metadata_update_date = now.clone();
        }
        new.version = datasets::update(ctx.sql(), &new, old.version)?.ok_or(ApiError::precondition_failed(old.version + 1))?;
        if visibility_changed && new.visibility == "public" {
            datasets::note_first_publication(ctx.sql(), &new.organisation_id, &now)?;
        }
        let pair = |f: &str, a: &str, b: &str| (json!({ f: a }), json!({ f: b }));
        if url_changed {
            let (b, a) = pair("url", &old.url, &new.url);
            ctx.audit("update_url", "dataset", &old.id, Some(&access.org), Some(b), Some(a))?;
        }
        if visibility_changed {
            let (b, a) = pair("visibility", &old.visibility, &new.visibility);
            ctx.audit("change_visibility", "dataset", &old.id, Some(&access.org), Some(b), Some(a))?;
        }
        if metadata_changed {
            let before = json!({"short_name": old.short_name, "human_readable_name": old.human_readable_name, "source_type": old.source_type, "licence_id": old.licence_id});
            let after = json!({"short_name": new.short_name, "human_readable_name": new.human_readable_name, "source_type": new.source_type, "licence_id": new.licence_id});
            ctx.audit("update_metadata", "dataset", &old.id, Some(&access.org), Some(before), Some(after))?;
        }
        Ok(Reply::ok(views::dataset(&new, None)).etag(new.version))
    })
}

pub(crate) fn delete(ctx: &Ctx) -> ApiResult<Reply> {
    ctx.write(|| {
        let (d, access) = dataset_requiring(ctx, Authorisation::DeleteDataset)?;
        ctx.check_if_match(d.version)?;
        if !datasets::soft_delete(ctx.sql(), &d.id, &ctx.now(), d.version)? {
            return Err(ApiError::precondition_failed(d.version + 1));
        }
        ctx.audit(
            "delete",
            "dataset",
            &d.id,
            Some(&access.org),
            Some(views::dataset(&d, None)["metadata"].clone()),
            None,
        )?;
        Ok(Reply::ok(Value::Null))
    })
}
