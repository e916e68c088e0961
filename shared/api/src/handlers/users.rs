//! Membership: join requests, roles, and what a user holds.

use crate::context::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use ryd_authz::permissions::held;
use ryd_authz::{Authorisation, OrgStanding, Role};
use ryd_store::{members, orgs, tools};
use serde_json::{json, Value};

fn user_not_found() -> ApiError {
    ApiError::not_found("User UUID")
}

/// One `{"<field>": "<uuid>"}` or `{"role": …}` body field.
fn body_field(ctx: &Ctx, field: &str) -> ApiResult<String> {
    let body = ctx.body()?;
    if let Some(extra) = body.keys().find(|k| k.as_str() != field) {
        return Err(ApiError::invalid_fields(vec![(extra.clone(), "is not a known field".into())]));
    }
    match body.get(field) {
        Some(Value::String(s)) => Ok(s.trim().to_string()),
        Some(_) => Err(ApiError::invalid_fields(vec![(field.into(), "must be a string".into())])),
        None => Err(ApiError::invalid_fields(vec![(field.into(), "is required".into())])),
    }
}

fn body_id(ctx: &Ctx, field: &str) -> ApiResult<String> {
    let raw = body_field(ctx, field)?;
    crate::ids::parse_id(&raw).ok_or_else(|| ApiError::invalid_fields(vec![(field.into(), "must be a UUID".into())]))
}

pub(crate) fn list_members(ctx: &Ctx) -> ApiResult<Reply> {
    let oid = ctx.id_param("oid")?;
    ctx.org_requiring(&oid, Authorisation::ReadOrg, ApiError::org_not_found)?;
    let list: Vec<Value> = members::members(ctx.sql(), &oid)?
        .into_iter()
        .map(|m| json!({"id": m.user_id, "name": m.name, "email": m.email, "role": m.role}))
        .collect();
    Ok(Reply::ok(Value::Array(list)))
}

/// POST /users/{uid}/reporting-org: ask to join, as `contributor_pending`.
pub(crate) fn join(ctx: &Ctx) -> ApiResult<Reply> {
    let uid = ctx.id_param("uid")?;
    let caller = ctx.caller()?;
    if uid != caller.user_id() {
        return Err(ApiError::forbidden("A user may ask to join an organisation only for themselves."));
    }
    if caller.superadmin {
        return Err(ApiError::bad_request(
            "Superadmins hold every authorisation already and cannot join an organisation.",
        ));
    }
    let oid = body_id(ctx, "oid")?;
    ctx.write(|| {
        let org = orgs::get(ctx.sql(), &oid)?.ok_or_else(ApiError::org_not_found)?;
        if let Some(role) = members::role_of(ctx.sql(), &oid, &uid)? {
            return Err(ApiError::bad_request(format!("The user already has the role {role} in this organisation.")));
        }
        members::set_role(ctx.sql(), &oid, &uid, Role::ContributorPending.as_str(), &ctx.now())?;
        ctx.audit(
            "request_join",
            "membership",
            &format!("{oid}/{uid}"),
            Some(&org),
            None,
            Some(json!({"role": "contributor_pending"})),
        )?;
        Ok(Reply::ok(Value::Null))
    })
}

/// Refuses to leave an organisation without an admin (or without any member), except for
/// a superadmin.
fn guard_last(ctx: &Ctx, oid: &str, old: &str, new: Option<&str>) -> ApiResult<()> {
    if ctx.caller()?.superadmin {
        return Ok(());
    }
    let (admins, members_count) = members::admin_and_member_counts(ctx.sql(), oid)?;
    if old == "admin" && new != Some("admin") && admins <= 1 {
        return Err(ApiError::bad_request("This is the organisation's last admin: make another user admin first."));
    }
    if old != "contributor_pending" && new.is_none() && members_count <= 1 {
        return Err(ApiError::bad_request("This is the organisation's last user and cannot be removed."));
    }
    Ok(())
}

fn target_user_checks(ctx: &Ctx, uid: &str) -> ApiResult<()> {
    if members::is_superadmin(ctx.sql(), uid)? {
        return Err(ApiError::bad_request("Superadmins hold no organisation roles."));
    }
    if !members::user_exists(ctx.sql(), uid)? {
        return Err(user_not_found());
    }
    Ok(())
}

pub(crate) fn set_role(ctx: &Ctx) -> ApiResult<Reply> {
    let uid = ctx.id_param("uid")?;
    let oid = ctx.id_param("oid")?;
    ctx.write(|| {
        let access = ctx.org_requiring(&oid, Authorisation::SetOrgUserAuthz, ApiError::org_not_found)?;
        let role_text = body_field(ctx, "role")?;
        let role = Role::parse(&role_text).ok_or_else(|| {
            ApiError::invalid_fields(vec![(
                "role".into(),
                "must be one of admin, editor, contributor, contributor_pending".into(),
            )])
        })?;
        target_user_checks(ctx, &uid)?;
        let old = members::role_of(ctx.sql(), &oid, &uid)?;
        if old.as_deref() == Some(role.as_str()) {
            return Ok(Reply::ok(Value::Null));
        }
        if let Some(old) = &old {
            guard_last(ctx, &oid, old, Some(role.as_str()))?;
        }
        members::set_role(ctx.sql(), &oid, &uid, role.as_str(), &ctx.now())?;
        ctx.audit(
            "set_role",
            "membership",
            &format!("{oid}/{uid}"),
            Some(&access.org),
            Some(json!({"role": old})),
            Some(json!({"role": role.as_str()})),
        )?;
        Ok(Reply::ok(Value::Null))
    })
}

pub(crate) fn remove_role(ctx: &Ctx) -> ApiResult<Reply> {
    let uid = ctx.id_param("uid")?;
    let oid = ctx.id_param("oid")?;
    let caller = ctx.caller()?;
    ctx.write(|| {
        // A superadmin has no membership to leave: their DELETE is answered as their PUT.
        let leaving = uid == caller.user_id() && !caller.superadmin;
        let org = if leaving {
            // Leaving, or withdrawing one's own request: any member may.
            let access = ctx.org_access(&oid)?.filter(|a| a.role.is_some()).ok_or_else(ApiError::org_not_found)?;
            access.org
        } else {
            let org = ctx.org_requiring(&oid, Authorisation::SetOrgUserAuthz, ApiError::org_not_found)?.org;
            target_user_checks(ctx, &uid)?;
            org
        };
        let old = members::role_of(ctx.sql(), &oid, &uid)?
            .ok_or_else(|| ApiError::not_found("A role for this user in this organisation"))?;
        guard_last(ctx, &oid, &old, None)?;
        members::remove_role(ctx.sql(), &oid, &uid)?;
        ctx.audit("remove_role", "membership", &format!("{oid}/{uid}"), Some(&org), Some(json!({"role": old})), None)?;
        Ok(Reply::ok(Value::Null))
    })
}

/// The user themselves or a superadmin; anyone else 403, whether the user exists or not.
fn self_or_superadmin(ctx: &Ctx, uid: &str) -> ApiResult<bool> {
    let caller = ctx.caller()?;
    let is_self = uid == caller.user_id();
    ryd_authz::check_about_user(is_self, caller.superadmin, "read a user's roles").map_err(ApiError::forbidden)?;
    if is_self {
        return Ok(caller.superadmin);
    }
    if !members::user_exists(ctx.sql(), uid)? && !members::is_superadmin(ctx.sql(), uid)? {
        return Err(user_not_found());
    }
    members::is_superadmin(ctx.sql(), uid).map_err(Into::into)
}

pub(crate) fn roles(ctx: &Ctx) -> ApiResult<Reply> {
    let uid = ctx.id_param("uid")?;
    let superadmin = self_or_superadmin(ctx, &uid)?;
    let mut orgs_list: Vec<Value> = members::roles_of_user(ctx.sql(), &uid)?
        .into_iter()
        .map(|(id, role)| json!({"id": id, "role": role}))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for (id, _) in tools::provider_admin_orgs(ctx.sql(), &uid)? {
        if seen.insert(id.clone()) {
            orgs_list.push(json!({"id": id, "role": "provider_admin"}));
        }
    }
    let administered = tools::administered_by(ctx.sql(), &uid)?;
    Ok(Reply::ok(json!({"superadmin": superadmin, "tools": administered, "reporting_orgs": orgs_list})))
}

pub(crate) fn permissions(ctx: &Ctx) -> ApiResult<Reply> {
    let uid = ctx.id_param("uid")?;
    let oid = ctx.id_param("oid")?;
    let superadmin = self_or_superadmin(ctx, &uid)?;
    orgs::get(ctx.sql(), &oid)?.ok_or_else(ApiError::org_not_found)?;
    let role = members::role_of(ctx.sql(), &oid, &uid)?.as_deref().and_then(Role::parse);
    let provider_admin = tools::provider_admin_orgs(ctx.sql(), &uid)?.iter().any(|(o, _)| *o == oid);
    let standing = OrgStanding { superadmin, role, provider_admin, is_machine: false };
    let list: Vec<&str> = held(ctx.role_table(), &standing).into_iter().map(Authorisation::as_str).collect();
    Ok(Reply::ok(json!(list)))
}
