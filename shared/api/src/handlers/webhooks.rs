//! An organisation's webhooks (its admins: they carry membership events, so managing them
//! takes what managing members takes, `set-org-user-authz`).

use crate::context::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use crate::time::rfc3339;
use ryd_authz::Authorisation;
use ryd_notify::webhook::{check_url, secret_from};
use ryd_store::webhooks::{self, Webhook, KINDS};
use serde_json::{json, Map, Value};

/// Spin variable: `true` lets endpoints be on loopback (tests only).
pub(crate) const ALLOW_LOOPBACK: &str = "webhook_allow_loopback";

/// Endpoints one organisation may have.
const MAX_PER_ORG: usize = 10;

/// How long a rotated-out secret keeps signing beside the new one (ms): a day to deploy it.
const ROTATION_GRACE_MS: i64 = 24 * 3600 * 1000;

/// The events of each kind an endpoint may name (besides `<kind>.*` and `*`).
fn known_event(kind: &str, name: &str) -> bool {
    match kind {
        "dataset" | "organisation" => matches!(name, "created" | "updated" | "hidden" | "deleted"),
        "membership" => {
            matches!(name, "join_requested" | "join_approved" | "join_refused" | "role_changed" | "removed")
        }
        _ => false,
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("A webhook with this id in this organisation")
}

pub(crate) fn loopback_allowed(ctx: &Ctx) -> bool {
    ctx.ports.variable(ALLOW_LOOPBACK).as_deref() == Some("true")
}

fn view(w: &Webhook) -> Value {
    json!({
        "id": w.id, "url": w.url, "events": w.events.split(' ').collect::<Vec<_>>(),
        "created_at": rfc3339(w.created_at), "created_by": w.created_by, "failures": w.failures,
        "enabled": w.disabled_at.is_none(), "disabled_at": w.disabled_at.map(rfc3339),
        "disabled_reason": w.disabled_reason,
    })
}

/// `url` and `events` from a body, each checked (`partial`: either may be absent).
fn fields(ctx: &Ctx, body: &Map<String, Value>, partial: bool) -> ApiResult<(Option<String>, Option<String>)> {
    let mut errors = Vec::new();
    if let Some(extra) = body.keys().find(|k| !matches!(k.as_str(), "url" | "events")) {
        errors.push((extra.clone(), "is not a known field".into()));
    }
    let url = match body.get("url") {
        Some(Value::String(u)) => match check_url(u.trim(), loopback_allowed(ctx)) {
            Ok(()) => Some(u.trim().to_string()),
            Err(why) => {
                errors.push(("url".into(), why));
                None
            }
        },
        Some(_) => {
            errors.push(("url".into(), "must be a string".into()));
            None
        }
        None if partial => None,
        None => {
            errors.push(("url".into(), "is required".into()));
            None
        }
    };
    let events = match body.get("events") {
        Some(Value::Array(list)) if !list.is_empty() && list.len() <= 20 => {
            let mut names = Vec::new();
            for e in list {
                let name = e.as_str().unwrap_or_default();
                let ok = name == "*"
                    || name.split_once('.').is_some_and(|(kind, event)| {
                        KINDS.contains(&kind) && (event == "*" || known_event(kind, event))
                    });
                if !ok {
                    errors.push(("events".into(), format!("{e} is not an event: use *, <kind>.* or <kind>.<event> (kinds: dataset, organisation, membership)")));
                } else if !names.contains(&name) {
                    names.push(name);
                }
            }
            Some(names.join(" "))
        }
        Some(_) => {
            errors.push(("events".into(), "must be a list of 1 to 20 event names".into()));
            None
        }
        None if partial => None,
        None => {
            errors.push(("events".into(), "is required".into()));
            None
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    Ok((url, events))
}

fn new_secret() -> ApiResult<String> {
    use rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; 32];
    OsRng.try_fill_bytes(&mut bytes).map_err(|e| ApiError::internal(format!("no randomness for a secret: {e}")))?;
    Ok(secret_from(&bytes))
}

pub(crate) fn list(ctx: &Ctx) -> ApiResult<Reply> {
    let oid = ctx.id_param("oid")?;
    ctx.org_requiring(&oid, Authorisation::SetOrgUserAuthz, ApiError::org_not_found)?;
    let list: Vec<Value> = webhooks::list(ctx.sql(), &oid)?.iter().map(view).collect();
    Ok(Reply::ok(Value::Array(list)))
}

/// POST: a new endpoint; its secret is in this answer and never again.
pub(crate) fn create(ctx: &Ctx) -> ApiResult<Reply> {
    let oid = ctx.id_param("oid")?;
    let body = ctx.body()?;
    ctx.write(|| {
        let access = ctx.org_requiring(&oid, Authorisation::SetOrgUserAuthz, ApiError::org_not_found)?;
        let (url, events) = fields(ctx, &body, false)?;
        if webhooks::list(ctx.sql(), &oid)?.len() >= MAX_PER_ORG {
            return Err(ApiError::bad_request(format!("An organisation may have at most {MAX_PER_ORG} webhooks.")));
        }
        let w = Webhook {
            id: crate::ids::new_id(),
            organisation_id: oid.clone(),
            url: url.unwrap_or_default(),
            events: events.unwrap_or_default(),
            created_at: ctx.now_millis,
            created_by: ctx.caller()?.user_id().to_string(),
            failures: 0,
            disabled_at: None,
            disabled_reason: None,
        };
        let secret = new_secret()?;
        webhooks::insert(ctx.sql(), &w, &secret)?;
        ctx.audit(
            "create_webhook",
            "webhook",
            &w.id,
            Some(&access.org),
            None,
            Some(json!({"url": w.url, "events": w.events})),
        )?;
        let mut v = view(&w);
        v["secret"] = json!(secret);
        Ok(Reply::created(v))
    })
}

/// PATCH: another URL or other events; a disabled endpoint is enabled again.
pub(crate) fn update(ctx: &Ctx) -> ApiResult<Reply> {
    let (oid, wid) = (ctx.id_param("oid")?, ctx.id_param("wid")?);
    let body = ctx.body()?;
    ctx.write(|| {
        let access = ctx.org_requiring(&oid, Authorisation::SetOrgUserAuthz, ApiError::org_not_found)?;
        let old = webhooks::get(ctx.sql(), &oid, &wid)?.ok_or_else(not_found)?;
        let (url, events) = fields(ctx, &body, true)?;
        let (url, events) = (url.unwrap_or(old.url.clone()), events.unwrap_or(old.events.clone()));
        webhooks::update(ctx.sql(), &oid, &wid, &url, &events)?;
        ctx.audit(
            "update_webhook",
            "webhook",
            &wid,
            Some(&access.org),
            Some(json!({"url": old.url, "events": old.events, "enabled": old.disabled_at.is_none()})),
            Some(json!({"url": url, "events": events, "enabled": true})),
        )?;
        let now = webhooks::get(ctx.sql(), &oid, &wid)?.ok_or_else(not_found)?;
        Ok(Reply::ok(view(&now)))
    })
}

pub(crate) fn delete(ctx: &Ctx) -> ApiResult<Reply> {
    let (oid, wid) = (ctx.id_param("oid")?, ctx.id_param("wid")?);
    ctx.write(|| {
        let access = ctx.org_requiring(&oid, Authorisation::SetOrgUserAuthz, ApiError::org_not_found)?;
        let old = webhooks::get(ctx.sql(), &oid, &wid)?.ok_or_else(not_found)?;
        webhooks::delete(ctx.sql(), &oid, &wid, ctx.now_millis)?;
        ctx.audit("delete_webhook", "webhook", &wid, Some(&access.org), Some(json!({"url": old.url})), None)?;
        Ok(Reply::ok(Value::Null))
    })
}

/// POST …/secret: a new secret, in this answer only; the old one keeps signing beside it
/// for a day, so the receiver can switch without missing a delivery.
pub(crate) fn rotate(ctx: &Ctx) -> ApiResult<Reply> {
    let (oid, wid) = (ctx.id_param("oid")?, ctx.id_param("wid")?);
    ctx.write(|| {
        let access = ctx.org_requiring(&oid, Authorisation::SetOrgUserAuthz, ApiError::org_not_found)?;
        webhooks::get(ctx.sql(), &oid, &wid)?.ok_or_else(not_found)?;
        let secret = new_secret()?;
        let until = ctx.now_millis + ROTATION_GRACE_MS;
        webhooks::rotate(ctx.sql(), &oid, &wid, &secret, until)?;
        ctx.audit("rotate_webhook_secret", "webhook", &wid, Some(&access.org), None, None)?;
        Ok(Reply::ok(json!({"id": wid, "secret": secret, "previous_secret_valid_until": rfc3339(until)})))
    })
}
