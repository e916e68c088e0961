//! The API routes the console's pages call, as typed handles found when the crate is
//! compiled (`routes::lookup`): a route renamed or removed in the API's table fails the
//! build here, not a page at run time.

use ryd_api::routes::{lookup, Route, AUTHZ, DATASETS, REPORTING_ORGS, USERS};

type R = &'static Route;

pub(crate) const LIST_ORGS: R = lookup(REPORTING_ORGS.routes, "GET", "/api/v1/reporting-orgs");
pub(crate) const CREATE_ORG: R = lookup(REPORTING_ORGS.routes, "POST", "/api/v1/reporting-orgs");
pub(crate) const READ_ORG: R = lookup(REPORTING_ORGS.routes, "GET", "/api/v1/reporting-orgs/{oid}");
pub(crate) const UPDATE_ORG: R = lookup(REPORTING_ORGS.routes, "PATCH", "/api/v1/reporting-orgs/{oid}");
pub(crate) const DELETE_ORG: R = lookup(REPORTING_ORGS.routes, "DELETE", "/api/v1/reporting-orgs/{oid}");
pub(crate) const DISCOVERABLE_ORGS: R = lookup(REPORTING_ORGS.routes, "GET", "/api/v1/discoverable-reporting-orgs");
pub(crate) const LIST_ORG_DATASETS: R = lookup(DATASETS.routes, "GET", "/api/v1/reporting-orgs/{oid}/datasets");
pub(crate) const CREATE_DATASET: R = lookup(DATASETS.routes, "POST", "/api/v1/datasets");
pub(crate) const READ_DATASET: R = lookup(DATASETS.routes, "GET", "/api/v1/datasets/{did}");
pub(crate) const UPDATE_DATASET: R = lookup(DATASETS.routes, "PATCH", "/api/v1/datasets/{did}");
pub(crate) const DELETE_DATASET: R = lookup(DATASETS.routes, "DELETE", "/api/v1/datasets/{did}");
pub(crate) const LIST_ORG_USERS: R = lookup(USERS.routes, "GET", "/api/v1/reporting-orgs/{oid}/users");
pub(crate) const JOIN_ORG: R = lookup(USERS.routes, "POST", "/api/v1/users/{uid}/reporting-org");
pub(crate) const SET_ROLE: R = lookup(USERS.routes, "PUT", "/api/v1/users/{uid}/reporting-org/{oid}");
pub(crate) const REMOVE_ROLE: R = lookup(USERS.routes, "DELETE", "/api/v1/users/{uid}/reporting-org/{oid}");
pub(crate) const USER_ROLES: R = lookup(USERS.routes, "GET", "/api/v1/users/{uid}/roles");
pub(crate) const LIST_ORG_TOOLS: R = lookup(USERS.routes, "GET", "/api/v1/reporting-orgs/{oid}/tools");
pub(crate) const LIST_API_KEYS: R = lookup(AUTHZ.routes, "GET", "/api/v1/api-keys");
pub(crate) const CREATE_API_KEY: R = lookup(AUTHZ.routes, "POST", "/api/v1/api-keys");
pub(crate) const LIST_WEBHOOKS: R =
    lookup(ryd_api::routes::OUTBOX.routes, "GET", "/api/v1/reporting-orgs/{oid}/webhooks");
pub(crate) const CREATE_WEBHOOK: R =
    lookup(ryd_api::routes::OUTBOX.routes, "POST", "/api/v1/reporting-orgs/{oid}/webhooks");
pub(crate) const UPDATE_WEBHOOK: R =
    lookup(ryd_api::routes::OUTBOX.routes, "PATCH", "/api/v1/reporting-orgs/{oid}/webhooks/{wid}");
pub(crate) const DELETE_WEBHOOK: R =
    lookup(ryd_api::routes::OUTBOX.routes, "DELETE", "/api/v1/reporting-orgs/{oid}/webhooks/{wid}");
pub(crate) const ROTATE_WEBHOOK_SECRET: R =
    lookup(ryd_api::routes::OUTBOX.routes, "POST", "/api/v1/reporting-orgs/{oid}/webhooks/{wid}/secret");
pub(crate) const OUTBOX: R = lookup(ryd_api::routes::OUTBOX.routes, "GET", "/api/v1/admin/outbox");
pub(crate) const REVOKE_API_KEY: R = lookup(AUTHZ.routes, "DELETE", "/api/v1/api-keys/{key_id}");
