#!/usr/bin/env python3
"""Writes shared/api/openapi.json: IATI's reference specification (vendored in
shared/api/reference/) with this application's additions. Run from the repository root
after changing the API; the tests check the result against the reference and against
real answers. Needs PyYAML."""

import copy
import json
import yaml

REF = "shared/api/reference/iati-register-your-data-api.yaml"
OUT = "shared/api/openapi.json"

doc = yaml.safe_load(open(REF))
S = doc["components"]["schemas"]

doc["info"]["title"] = "IATI Register Your Data API (on Spin)"
doc["info"]["version"] = doc["info"]["version"] + "+spin.1"
doc["info"]["description"] += (
    "\n\n# This implementation\nThe reference API, unchanged for its clients, plus: `version` and "
    "`ETag` on every resource, `If-Match` on PATCH and DELETE (412 on a mismatch), `Idempotency-Key` "
    "on POST, `X-Request-Id` on every answer, the tools registry, and extra members in `error`."
)
doc["servers"].append({"url": "http://127.0.0.1:3000/api/v1", "description": "cargo up"})

ORG_KEYS = sorted(
    ["short_name", "organisation_identifier", "human_readable_name", "description", "hq_country", "region",
     "organisation_type", "data_portal_url", "exclusions_policy_url", "reporting_source_type",
     "default_licence_id", "contact_email", "address", "phone", "fax", "website", "registry_approved",
     "first_publication_date", "number_of_published_datasets", "created_date"])
PUBLIC_KEYS = sorted(["human_readable_name", "hq_country", "organisation_identifier", "region", "short_name", "website"])
DATASET_KEYS = sorted(["human_readable_name", "short_name", "source_type", "url", "licence_id", "visibility",
                       "last_url_update_date", "last_metadata_update_date"])
VERSION = {"type": "integer", "description": "Increases with every change; the ETag."}

# Every answer carries every metadata key, an unset optional string as "" (shared/api/README.md): say so.
rst = S["ReportingOrgUpdateableData"]["properties"]["reporting_source_type"]
rst["enum"].append("")
rst["description"] = "Empty when unset (also accepted in requests, to unset it)."
S["ReportingOrgReadableData"]["required"] = ORG_KEYS
S["DiscoverableReportingOrgReadableData"]["required"] = PUBLIC_KEYS
S["DatasetReadableData"]["required"] = DATASET_KEYS
for name in ["ReportingOrgRead", "ReportingOrgCreated"]:
    data = S[name]["properties"]["data"]
    data["properties"]["version"] = VERSION
    data["required"] = ["id", "user_role", "metadata", "version"]
    data["properties"]["metadata"]["allOf"][0] = {"$ref": "#/components/schemas/ReportingOrgReadableData"}
item = S["ReportingOrgList"]["properties"]["data"]["items"]
item["properties"]["version"] = VERSION
item["required"] = ["id", "user_role", "metadata", "version"]
# A pending join request shows the public subset only.
item["properties"]["metadata"] = {"anyOf": [{"$ref": "#/components/schemas/ReportingOrgReadableData"},
                                           {"$ref": "#/components/schemas/DiscoverableReportingOrgReadableData"}]}
S["DatasetRead"]["allOf"][1]["properties"]["version"] = VERSION
S["DatasetRead"]["allOf"][1]["required"] = ["id", "metadata", "version"]
S["DatasetRead"]["allOf"][0]["required"] = ["owner_organisation_id"]
S["UserRoles"]["properties"]["data"]["required"] = ["superadmin", "tools", "reporting_orgs"]
S["UserList"]["properties"]["data"]["items"]["required"] = ["id", "name", "email", "role"]
S["ToolList"]["properties"]["data"]["items"]["required"] = ["id", "name", "provider"]
S["Licences"]["items"]["required"] = ["id", "full_label", "short_label", "status"]
S["PaginationEnvelopeData"]["required"] = ["pagination"]
S["PaginationEnvelopeData"]["properties"]["pagination"]["required"] = ["page", "page_size", "total_pages", "total_records", "links"]
for link in ["next", "prev"]:
    S["PaginationEnvelopeData"]["properties"]["pagination"]["properties"]["links"]["properties"][link]["nullable"] = True

err = S["BaseResponse"]["properties"]["error"]
err["nullable"] = True
err["properties"].update({
    "fields": {"type": "object", "description": "One message per invalid field.", "additionalProperties": {"type": "string"}},
    "required_scope": {"type": "string", "description": "The scopes the endpoint needs (403 insufficient_scope)."},
    "missing_authorisation": {"type": "string", "description": "The fine-grained authorisation the caller lacks."},
    "current_version": {"type": "integer", "description": "The resource's version (412)."},
    "field": {"type": "string", "description": "The field in conflict (409)."},
})
S["BaseResponse"]["properties"]["data"]["nullable"] = True

S["Tool"] = {"type": "object", "required": ["id", "name", "provider", "client_id", "version"], "properties": {
    "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}, "provider": {"type": "string"},
    "client_id": {"type": "string", "description": "The tool's OAuth client_id."}, "version": VERSION}}
S["ToolWritable"] = {"type": "object", "properties": {
    "name": {"type": "string"}, "provider": {"type": "string"}, "client_id": {"type": "string"}}}
S["ToolSingle"] = {"type": "object", "properties": {"status": {"type": "string"}, "error": {"type": "object", "nullable": True},
                                                    "data": {"$ref": "#/components/schemas/Tool"}}}
S["AccessCheck"] = {"allOf": [{"$ref": "#/components/schemas/BaseResponse"}, {"type": "object", "properties": {
                    "data": {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}}}}]}
S["Health"] = {"type": "object", "required": ["status", "version", "database"], "properties": {
    "status": {"type": "string", "enum": ["ok", "unavailable"]}, "version": {"type": "string"},
    "database": {"type": "string", "enum": ["ok", "unavailable"]},
    "outbox": {"type": "object", "required": ["status", "pending", "oldest_pending_seconds"],
               "description": "Email waiting to be sent; `behind` when the oldest waited longer than RYD_OUTBOX_MAX_AGE (900 s).",
               "properties": {"status": {"type": "string", "enum": ["ok", "behind"]}, "pending": {"type": "integer"},
                              "oldest_pending_seconds": {"type": "integer", "nullable": True}}}}}

# The reference's own examples answer `"error": null` on success, but its schemas declare
# `error` a (non-nullable) object: say what every answer really carries.
def nullable_errors(node):
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict) and isinstance(props.get("error"), dict) and "$ref" not in props["error"]:
            props["error"]["nullable"] = True
        for v in node.values():
            nullable_errors(v)
    elif isinstance(node, list):
        for v in node:
            nullable_errors(v)
nullable_errors(doc["components"])

R = doc["components"]["responses"]
def failed(description):
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BaseResponse"}}}}
R["PreconditionFailed"] = failed("If-Match names another version of the resource.")
R["PayloadTooLarge"] = failed("The body is larger than 64 KiB.")
R["UnsupportedMediaType"] = failed("The body is not JSON.")
R["ServiceUnavailable"] = failed("The database is busy or the Identity Service did not answer; retry.")

P = doc["components"].setdefault("parameters", {})
P["IfMatch"] = {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
                "description": "The ETag (version) the change is based on; 412 if the resource changed since."}
P["IdempotencyKey"] = {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"},
                       "description": "A retry with the same key within 24 h answers as the first request did."}
P["RequestId"] = {"name": "X-Request-Id", "in": "header", "required": False, "schema": {"type": "string"},
                  "description": "Echoed on the answer; generated when absent."}

paths = doc["paths"]
for path, ops in paths.items():
    for method, op in ops.items():
        params = op.setdefault("parameters", [])
        params.append({"$ref": "#/components/parameters/RequestId"})
        responses = op["responses"]
        if method in ("patch", "delete"):
            params.append({"$ref": "#/components/parameters/IfMatch"})
            responses["412"] = {"$ref": "#/components/responses/PreconditionFailed"}
        if method == "post":
            params.append({"$ref": "#/components/parameters/IdempotencyKey"})
        if "requestBody" in op:
            responses["413"] = {"$ref": "#/components/responses/PayloadTooLarge"}
            responses["415"] = {"$ref": "#/components/responses/UnsupportedMediaType"}
        if op.get("security") is not None:
            responses["503"] = {"$ref": "#/components/responses/ServiceUnavailable"}

paths["/reporting-orgs"]["get"]["parameters"].append(
    {"name": "include_meta", "in": "query", "required": False, "schema": {"type": "string", "enum": ["yes", "no"]},
     "description": "Accepted for IATI Publisher; metadata is always included."})
for p in paths["/reporting-orgs/{uid}/tools/{tid}"]["delete"]["parameters"]:
    if p.get("name") == "uid":
        p["description"] = "UUID of the organisation (named `uid` in the reference specification)."
paths["/access-check"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = {"$ref": "#/components/schemas/AccessCheck"}

user_only = [{"openIdConnect": ["ryd"]}]
tid = {"name": "tid", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}, "description": "UUID of tool."}
uid = {"name": "uid", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}, "description": "UUID of user."}
def ok(schema, code="200", description="Success."):
    return {code: {"description": description, "content": {"application/json": {"schema": schema}}}}
errors = {c: {"$ref": "#/components/responses/" + r} for c, r in
          [("400", "BadRequest"), ("401", "Unauthorised"), ("403", "Forbidden"), ("404", "NotFound"), ("500", "InternalServerError")]}
base = {"$ref": "#/components/schemas/BaseResponse"}
tool_body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ToolWritable"}}}}
paths["/tools"]["post"] = {"tags": ["Provider admin"], "operationId": "create_tool", "summary": "Register a tool (superadmins).",
                           "security": user_only, "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
                           "requestBody": tool_body,
                           "responses": {**ok({"$ref": "#/components/schemas/ToolSingle"}, "201"), **errors,
                                         "409": {"$ref": "#/components/responses/Conflict"}}}
paths["/tools/{tid}"] = {
    "patch": {"tags": ["Provider admin"], "operationId": "update_tool", "summary": "Change a tool (superadmins).",
              "security": user_only, "parameters": [tid, {"$ref": "#/components/parameters/IfMatch"}], "requestBody": tool_body,
              "responses": {**ok({"$ref": "#/components/schemas/ToolSingle"}), **errors,
                            "409": {"$ref": "#/components/responses/Conflict"}, "412": {"$ref": "#/components/responses/PreconditionFailed"}}},
    "delete": {"tags": ["Provider admin"], "operationId": "delete_tool", "summary": "Remove a tool and its grants (superadmins).",
               "security": user_only, "parameters": [tid, {"$ref": "#/components/parameters/IfMatch"}],
               "responses": {**ok(base), **errors, "412": {"$ref": "#/components/responses/PreconditionFailed"}}},
}
paths["/tools/{tid}/admins/{uid}"] = {
    "put": {"tags": ["Provider admin"], "operationId": "add_tool_admin", "summary": "Make a user an admin of the tool (superadmins).",
            "security": user_only, "parameters": [tid, uid], "responses": {**ok(base), **errors}},
    "delete": {"tags": ["Provider admin"], "operationId": "remove_tool_admin", "summary": "Remove a tool admin (superadmins).",
               "security": user_only, "parameters": [tid, uid], "responses": {**ok(base), **errors}},
}
check_body = {"content": {"application/json": {"schema": {"type": "object", "required": ["checks"], "properties": {
    "checks": {"type": "array", "maxItems": 100, "items": {"type": "object", "required": ["authorisation", "object"], "properties": {
        "authorisation": {"type": "string", "enum": ["read-org", "update-org", "delete-org", "set-org-user-authz", "set-org-tool-authz",
                                                      "read-dataset", "create-dataset", "update-dataset", "update-dataset-visibility", "delete-dataset"]},
        "object": {"type": "string", "description": "org/<id or name> or dataset/<id or name>"}}}},
    "subject": {"type": "string", "format": "uuid", "description": "Another user (superadmins only)."}}}}}}
S["AuthzResults"] = {"type": "object", "required": ["results"], "properties": {"results": {"type": "array", "items": {
    "type": "object", "required": ["allowed", "reason"], "properties": {"allowed": {"type": "boolean"}, "reason": {"type": "string"}}}}}}
S["Revocation"] = {"allOf": [{"$ref": "#/components/schemas/BaseResponse"}, {"type": "object", "properties": {"data": {
    "type": "object", "required": ["revoked"], "properties": {"revoked": {"type": "boolean"}, "revoked_before": {"type": "string", "format": "date-time"}}}}}]}
paths["/authz/check"] = {"post": {"tags": ["Authorisation service"], "operationId": "authz_check",
    "summary": "Batch authorisation checks from the permission table (up to 100), each with its reason.",
    "security": [{"clientCredentials": ["ryd"]}, {"openIdConnect": ["ryd"]}], "requestBody": check_body,
    "responses": {**ok({"$ref": "#/components/schemas/AuthzResults"}), **errors}}}
client = {"name": "client_id", "in": "path", "required": True, "schema": {"type": "string"}, "description": "OAuth client_id."}
for path, param, what in [("/admin/revocations/users/{uid}", uid, "a user"), ("/admin/revocations/clients/{client_id}", client, "a client application")]:
    paths[path] = {
        "put": {"tags": ["Authorisation service"], "operationId": "revoke_" + path.split("/")[3], "security": user_only, "parameters": [param],
                "summary": f"Refuse every token of {what} issued before now (superadmins).", "responses": {**ok({"$ref": "#/components/schemas/Revocation"}), **errors}},
        "delete": {"tags": ["Authorisation service"], "operationId": "lift_" + path.split("/")[3], "security": user_only, "parameters": [param],
                   "summary": f"Lift the mark for tokens of {what} issued from now on (superadmins).", "responses": {**ok({"$ref": "#/components/schemas/Revocation"}), **errors}},
    }
paths["/api/3/action/is_authorized"] = {"servers": [{"url": "/"}], "get": {"tags": ["Authorisation service"], "operationId": "is_authorized",
    "summary": "CKAN-style: may the caller (or, for superadmins, `userid`) perform `action` on `object`? `result` is true or false, in CKAN's envelope.",
    "security": [{"clientCredentials": ["ryd"]}, {"openIdConnect": ["ryd"]}],
    "parameters": [{"name": "object", "in": "query", "required": True, "schema": {"type": "string"}, "description": "dataset/<id or name> or org/<id or name>"},
                   {"name": "action", "in": "query", "required": True, "schema": {"type": "string"}, "description": "read, create, update, delete, update_visibility, member_create, tool_authorize, or an authorisation name"},
                   {"name": "userid", "in": "query", "required": False, "schema": {"type": "string", "format": "uuid"}}],
    "responses": ok({"type": "object", "required": ["success", "result"], "properties": {"help": {"type": "string"}, "success": {"type": "boolean"}, "result": {"type": "boolean"}}})}}

# Authorisation service: scoped tokens, keys, API keys, groups (shared/api/README.md, "Authorisation as a service").
TAG = ["Authorisation service"]
both = [{"clientCredentials": ["ryd"]}, {"openIdConnect": ["ryd"]}]
def data(schema):
    return {"allOf": [base, {"type": "object", "properties": {"data": schema}}]}
def ckan(result):
    return {"type": "object", "required": ["success", "result"], "properties": {
        "help": {"type": "string"}, "success": {"type": "boolean"}, "result": result}}
def body(schema):
    return {"content": {"application/json": {"schema": schema}}}
conflict = {"409": {"$ref": "#/components/responses/Conflict"}}
unavailable = {"503": {"$ref": "#/components/responses/ServiceUnavailable"}}
S["ScopedToken"] = {"type": "object", "required": ["user_id", "token", "expires_at", "requested_scopes", "granted_scopes"], "properties": {
    "user_id": {"type": "string"}, "token": {"type": "string", "description": "A JWT signed with this application's key."},
    "expires_at": {"type": "string", "format": "date-time"},
    "requested_scopes": {"type": "array", "items": {"type": "string"}},
    "granted_scopes": {"type": "array", "items": {"type": "string"}, "description": "The requested scopes the caller holds now."}}}
scopes_body = body({"type": "object", "required": ["scopes"], "properties": {
    "scopes": {"description": "`<type>[:<id>[:<subscope>][:<actions>]]`, types org, ds, res; a list or one space-separated string.",
               "oneOf": [{"type": "array", "items": {"type": "string"}, "maxItems": 100}, {"type": "string"}]},
    "lifetime": {"type": "integer", "minimum": 1, "description": "Seconds; capped at authz_token_max_lifetime_seconds (900)."}}})
paths["/authz/token"] = {"post": {"tags": TAG, "operationId": "authz_token", "security": user_only, "requestBody": scopes_body,
    "summary": "A scoped token signed by this application: the requested scopes intersected with the permission table.",
    "responses": {**ok(data({"$ref": "#/components/schemas/ScopedToken"})), **errors, **unavailable}}}
paths["/api/3/action/authz_authorize"] = {"servers": [{"url": "/"}], "post": {"tags": TAG, "operationId": "authz_authorize",
    "security": user_only, "requestBody": scopes_body,
    "summary": "ckanext-authz-service's `authorize`, in CKAN's envelope.",
    "responses": {**ok(ckan({"$ref": "#/components/schemas/ScopedToken"})), **errors, **unavailable}}}
verify_result = {"type": "object", "required": ["verified"], "properties": {
    "verified": {"type": "boolean"}, "payload": {"type": "object"}, "message": {"type": "string"}}}
verify_params = [{"name": "token", "in": "query", "required": False, "schema": {"type": "string"}},
                 {"name": "strict", "in": "query", "required": False, "schema": {"type": "boolean"}}]
paths["/api/3/action/authz_verify"] = {"servers": [{"url": "/"}],
    "post": {"tags": TAG, "operationId": "authz_verify", "summary": "Verify a token this application signed (no authentication).",
             "requestBody": body({"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}, "strict": {"type": "boolean", "default": True}}}),
             "responses": {**ok(ckan(verify_result)), "400": errors["400"], "503": unavailable["503"]}},
    "get": {"tags": TAG, "operationId": "authz_verify_get", "summary": "The same, with query parameters.", "parameters": verify_params,
            "responses": {**ok(ckan(verify_result)), "400": errors["400"], "503": unavailable["503"]}}}
paths["/.well-known/jwks.json"] = {"servers": [{"url": "/"}], "get": {"tags": TAG, "operationId": "jwks",
    "summary": "The public keys of scoped tokens: every key still valid during a rotation, the signing key first.",
    "responses": {**ok({"type": "object", "required": ["keys"], "properties": {"keys": {"type": "array", "items": {"type": "object"}}}}), **unavailable}}}
paths["/authz/public_key"] = {"servers": [{"url": "/"}], "get": {"tags": TAG, "operationId": "public_key",
    "summary": "The signing key as PEM (SubjectPublicKeyInfo).",
    "responses": {"200": {"description": "PEM.", "content": {"application/x-pem-file": {"schema": {"type": "string"}}}}, **unavailable}}}
S["ApiKey"] = {"type": "object", "required": ["id", "name", "prefix", "created_at", "status"], "properties": {
    "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}, "prefix": {"type": "string"},
    "created_at": {"type": "string", "format": "date-time"}, "expires_at": {"type": "string", "format": "date-time", "nullable": True},
    "revoked_at": {"type": "string", "format": "date-time", "nullable": True},
    "status": {"type": "string", "enum": ["active", "expired", "revoked"]},
    "api_key": {"type": "string", "description": "The secret: only in the answer that creates it."}}}
key_id = {"name": "key_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
paths["/api-keys"] = {
    "get": {"tags": TAG, "operationId": "list_api_keys", "security": user_only, "summary": "The caller's API keys (never their secrets).",
            "responses": {**ok(data({"type": "object", "properties": {"api_keys": {"type": "array", "items": {"$ref": "#/components/schemas/ApiKey"}}}})), **errors}},
    "post": {"tags": TAG, "operationId": "create_api_key", "security": user_only, "summary": "A new API key for gateways; the secret is shown once.",
             "requestBody": body({"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"}}}),
             "responses": {**ok(data({"$ref": "#/components/schemas/ApiKey"}), "201"), **errors}}}
paths["/api-keys/{key_id}"] = {"delete": {"tags": TAG, "operationId": "revoke_api_key", "security": user_only, "parameters": [key_id],
    "summary": "Revoke one of the caller's keys (superadmins: anyone's).", "responses": {**ok(data({"$ref": "#/components/schemas/ApiKey"})), **errors}}}
paths["/admin/api-keys"] = {"post": {"tags": TAG, "operationId": "import_api_key", "security": user_only,
    "summary": "Import a legacy key for a user (superadmins); its name is prefixed `legacy:`.",
    "requestBody": body({"type": "object", "required": ["user_id", "api_key", "name"], "properties": {
        "user_id": {"type": "string", "format": "uuid"}, "api_key": {"type": "string"}, "name": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"}}}),
    "responses": {**ok(data({"$ref": "#/components/schemas/ApiKey"}), "201"), **errors, **conflict}}}
paths["/api/3/action/validate_api_key"] = {"servers": [{"url": "/"}], "post": {"tags": TAG, "operationId": "validate_api_key", "security": both,
    "summary": "For gateways (superadmins and authz_service_clients): may this key's user call the API `api_id`, and on which usage plan?",
    "requestBody": body({"type": "object", "required": ["api_key", "api_id"], "properties": {"api_key": {"type": "string"}, "api_id": {"type": "string"}}}),
    "responses": {**ok(ckan({"type": "object", "required": ["authorized", "message"], "properties": {
        "authorized": {"type": "boolean"},
        "message": {"type": "string", "description": "Authorized, Invalid token, Invalid api_id, User <name> not allowed to access <api_id>, or No usage plan available."},
        "usage_plan": {"type": "object", "required": ["name", "plan", "rate", "quota", "priority"], "properties": {
            "name": {"type": "string"}, "plan": {"type": "string"}, "rate": {"type": "integer"}, "quota": {"type": "integer"}, "priority": {"type": "integer"}}},
        "app_name": {"type": "string"}}})), **errors}}}
S["Group"] = {"type": "object", "required": ["id", "name", "title", "created_at"], "properties": {
    "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}, "title": {"type": "string"},
    "created_at": {"type": "string", "format": "date-time"}, "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
    "members": {"type": "array", "items": {"type": "object", "properties": {"user_id": {"type": "string"}, "name": {"type": "string"}}}},
    "datasets": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "short_name": {"type": "string"}}}}}}
group = {"name": "group", "in": "path", "required": True, "schema": {"type": "string"}, "description": "The group's id or name."}
dataset_key = {"name": "dataset", "in": "path", "required": True, "schema": {"type": "string"}, "description": "The dataset's id or short name."}
group_answer = ok(data({"$ref": "#/components/schemas/Group"}))
group_body = {"type": "object", "properties": {"title": {"type": "string"},
              "metadata": {"type": "object", "description": "Keys to strings or numbers; on PATCH, null removes a key."}}}
paths["/groups"] = {
    "get": {"tags": TAG, "operationId": "list_groups", "security": user_only, "summary": "Groups (superadmins).",
            "responses": {**ok(data({"type": "object", "properties": {"groups": {"type": "array", "items": {"$ref": "#/components/schemas/Group"}}}})), **errors}},
    "post": {"tags": TAG, "operationId": "create_group", "security": user_only, "summary": "Create a group (superadmins).",
             "requestBody": body({**group_body, "required": ["name"], "properties": {**group_body["properties"], "name": {"type": "string"}}}),
             "responses": {**ok(data({"$ref": "#/components/schemas/Group"}), "201"), **errors, **conflict}}}
paths["/groups/{group}"] = {
    "get": {"tags": TAG, "operationId": "read_group", "security": user_only, "parameters": [group], "summary": "A group with its members, datasets and metadata.", "responses": {**group_answer, **errors}},
    "patch": {"tags": TAG, "operationId": "update_group", "security": user_only, "parameters": [group], "summary": "Change the title or metadata.",
              "requestBody": body(group_body), "responses": {**group_answer, **errors}},
    "delete": {"tags": TAG, "operationId": "delete_group", "security": user_only, "parameters": [group], "summary": "Delete a group.", "responses": {**ok(base), **errors}}}
for sub, param, what in [("members/{uid}", uid, "a user"), ("datasets/{dataset}", dataset_key, "a dataset")]:
    paths["/groups/{group}/" + sub] = {
        "put": {"tags": TAG, "operationId": "add_group_" + sub.split("/")[0], "security": user_only, "parameters": [group, param],
                "summary": f"Add {what} to the group.", "responses": {**group_answer, **errors}},
        "delete": {"tags": TAG, "operationId": "remove_group_" + sub.split("/")[0], "security": user_only, "parameters": [group, param],
                   "summary": f"Remove {what} from the group.", "responses": {**group_answer, **errors}}}

# The data pipeline's facts (superadmins and pipeline_clients).
PIPE_TAG = ["Data pipeline"]
pipe_security = [{"clientCredentials": ["ryd", "ryd:dataset:pipeline"]}, {"openIdConnect": ["ryd", "ryd:dataset:pipeline"]}]
def nullable(schema, description):
    return {**schema, "nullable": True, "description": description}
FACTS = {
    "filetype": nullable({"type": "string", "enum": ["activity", "organisation"]}, "The kind of IATI file."),
    "iati_version": nullable({"type": "string", "enum": ["1.01", "1.02", "1.03", "1.04", "1.05", "2.01", "2.02", "2.03"]}, "IATI's Version codelist."),
    "activity_count": nullable({"type": "integer", "minimum": 0}, "Activities in the file."),
    "country": nullable({"type": "string"}, "The recipient country, IATI's Country codelist."),
    "language": nullable({"type": "string", "pattern": "^[a-z]{2}$"}, "ISO 639-1."),
    "data_updated": nullable({"type": "string"}, "RFC 3339, or YYYY-MM-DD HH:MM:SS in UTC; answered in the second form (CKAN's)."),
    "validation_status": nullable({"type": "string", "enum": ["Critical", "Error", "Warning", "Success"]}, "The IATI Validator's outcome."),
    "resource_hash": nullable({"type": "string", "pattern": "^[0-9a-fA-F]{40}$"}, "SHA-1 of the file (CKAN's resource hash)."),
    "resource_size": nullable({"type": "integer", "minimum": 0}, "Bytes."),
}
S["PipelineFacts"] = {"type": "object", "properties": FACTS,
    "description": "Facts to set: a fact left out keeps its value, null clears it; any other member is refused."}
S["PipelineFactsRead"] = {"type": "object", "required": ["id", "facts"], "properties": {
    "id": {"type": "string", "format": "uuid"},
    "facts": {"type": "object", "required": sorted(FACTS), "properties": FACTS}}}
did_param = {"name": "did", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
paths["/datasets/{did}/pipeline"] = {"put": {"tags": PIPE_TAG, "operationId": "set_pipeline_facts", "security": pipe_security,
    "parameters": [did_param],
    "summary": "What the data pipeline learned from the dataset's file (superadmins and clients in pipeline_clients). "
               "The CKAN extras and search and the Dashboard's filters show it as it commits; audited.",
    "requestBody": body({"$ref": "#/components/schemas/PipelineFacts"}),
    "responses": {**ok(data({"$ref": "#/components/schemas/PipelineFactsRead"})), **errors}}}
paths["/datasets/pipeline"] = {"put": {"tags": PIPE_TAG, "operationId": "set_pipeline_facts_batch", "security": pipe_security,
    "summary": "The same for up to 1000 datasets, all or nothing (an invalid item or unknown dataset refuses the batch, naming it).",
    "requestBody": body({"type": "object", "required": ["datasets"], "properties": {"datasets": {"type": "array", "maxItems": 1000,
        "items": {"allOf": [{"type": "object", "required": ["id"], "properties": {"id": {"type": "string", "format": "uuid"}}},
                            {"$ref": "#/components/schemas/PipelineFacts"}]}}}}),
    "responses": {**ok(data({"type": "object", "required": ["datasets"], "properties": {"datasets": {"type": "array", "items": {"$ref": "#/components/schemas/PipelineFactsRead"}}}})), **errors}}}

# The public change feed (served by the dashboard component; no token).
S["Change"] = {"type": "object", "required": ["kind", "id", "name", "change", "version", "at", "cursor"], "properties": {
    "kind": {"type": "string", "enum": ["dataset", "organisation"]}, "id": {"type": "string", "format": "uuid"},
    "name": {"type": "string", "description": "Its short name (a dataset's or organisation's CKAN name)."},
    "change": {"type": "string", "enum": ["created", "updated", "deleted", "hidden"],
               "description": "created: became public; updated: changed while public; deleted; hidden: no longer public (made private, unapproved)."},
    "version": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
    "cursor": {"type": "string", "description": "Continue after this change."}}}
paths["/changes"] = {"get": {"tags": ["Change feed"], "operationId": "changes", "security": [],
    "summary": "What happened to the public registry, in commit order, for mirrors: fetch what is created or updated, drop what is deleted or hidden.",
    "parameters": [{"name": "since", "in": "query", "required": False, "schema": {"type": "string"},
                    "description": "A cursor from an answer (`next`, `latest` or a change's); omitted: from the beginning."},
                   {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}],
    "responses": {**ok(data({"type": "object", "required": ["changes", "next", "more", "latest"], "properties": {
        "changes": {"type": "array", "items": {"$ref": "#/components/schemas/Change"}},
        "next": {"type": "string"}, "more": {"type": "boolean"},
        "latest": {"type": "string", "description": "The newest change: where a mirror that has just listed everything starts."}}})),
        "400": errors["400"]}}}

# The outbox (infra/README.md, "Email"), for superadmins.
S["Outbox"] = data({"type": "object", "required": ["pending", "retrying", "given_up", "sent", "oldest_pending_at",
    "oldest_pending_seconds", "unsent"], "properties": {
    "pending": {"type": "integer", "description": "Not yet sent nor given up."},
    "retrying": {"type": "integer", "description": "Of those, failed at least once."},
    "given_up": {"type": "integer"}, "sent": {"type": "integer"},
    "oldest_pending_at": {"type": "string", "format": "date-time", "nullable": True},
    "oldest_pending_seconds": {"type": "integer", "nullable": True},
    "unsent": {"type": "array", "items": {"type": "object", "required": ["id", "channel", "event", "recipient", "subject",
        "state", "attempts", "created_at", "next_attempt_at", "given_up_at", "last_error"], "properties": {
        "id": {"type": "string", "description": "The message's id (its Message-ID)."},
        "channel": {"type": "string", "enum": ["email"]}, "event": {"type": "string"},
        "recipient": {"type": "string"}, "subject": {"type": "string"},
        "state": {"type": "string", "enum": ["pending", "retrying", "given_up"]}, "attempts": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"},
        "next_attempt_at": {"type": "string", "format": "date-time", "nullable": True},
        "given_up_at": {"type": "string", "format": "date-time", "nullable": True},
        "last_error": {"type": "string", "nullable": True}}}}}})
paths["/admin/outbox"] = {"get": {"tags": TAG, "operationId": "outbox", "security": user_only,
    "summary": "The outbox: counts, and the unsent emails oldest first with their attempts and last error (superadmins).",
    "parameters": [{"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}],
    "responses": {**ok({"$ref": "#/components/schemas/Outbox"}), **errors}}}
paths["/admin/outbox/deliver"] = {"post": {"tags": TAG, "operationId": "deliver_outbox", "security": both,
    "summary": "Sends up to `limit` due emails through Azure Communication Services Email and marks each sent or failed (superadmins and the clients in outbox_clients; for a scheduler).",
    "parameters": [{"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}}],
    "responses": {**ok(data({"type": "object", "required": ["sent", "retrying", "given_up", "pending"], "properties": {
        "sent": {"type": "integer"}, "retrying": {"type": "integer"}, "given_up": {"type": "integer"},
        "pending": {"type": "integer", "description": "Still waiting after this call (due later, or for the next call)."}}})),
        **errors, "503": {"description": "Azure Communication Services is not configured here.",
                          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BaseResponse"}}}}}}}
# Webhooks (infra/README.md, "Webhooks"): an organisation's admins register endpoints.
wid = {"name": "wid", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
oid_param = {"name": "oid", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
S["Webhook"] = {"type": "object", "required": ["id", "url", "events", "created_at", "created_by", "failures", "enabled",
    "disabled_at", "disabled_reason"], "properties": {
    "id": {"type": "string", "format": "uuid"}, "url": {"type": "string"},
    "events": {"type": "array", "items": {"type": "string"}, "description": "`*`, `<kind>.*` or `<kind>.<event>`; kinds: dataset, organisation (created, updated, hidden, deleted: the change feed's), membership (join_requested, join_approved, join_refused, role_changed, removed)."},
    "created_at": {"type": "string", "format": "date-time"}, "created_by": {"type": "string"},
    "failures": {"type": "integer", "description": "Failed deliveries in a row; at 10 the endpoint is disabled."},
    "enabled": {"type": "boolean"}, "disabled_at": {"type": "string", "format": "date-time", "nullable": True},
    "disabled_reason": {"type": "string", "nullable": True},
    "secret": {"type": "string", "description": "The signing secret (whsec_…): only in the answer that creates it."}}}
webhook_body = body({"type": "object", "properties": {"url": {"type": "string", "description": "https, not loopback nor a private address."},
    "events": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 20}}})
org_admin = [{"openIdConnect": ["ryd"]}]
paths["/reporting-orgs/{oid}/webhooks"] = {
    "get": {"tags": ["Reporting Orgs"], "operationId": "list_webhooks", "security": org_admin, "parameters": [oid_param],
            "summary": "The organisation's webhooks (its admins).",
            "responses": {**ok({"type": "object", "properties": {"status": {"type": "string"},
                "error": {"type": "object", "nullable": True},
                "data": {"type": "array", "items": {"$ref": "#/components/schemas/Webhook"}}}}), **errors}},
    "post": {"tags": ["Reporting Orgs"], "operationId": "create_webhook", "security": org_admin, "parameters": [oid_param],
             "summary": "Registers an endpoint; the answer holds its signing secret, shown once. Deliveries are signed as the Standard Webhooks specification says.",
             "requestBody": webhook_body,
             "responses": {**ok(data({"$ref": "#/components/schemas/Webhook"}), "201", "Created."), **errors}}}
paths["/reporting-orgs/{oid}/webhooks/{wid}"] = {
    "patch": {"tags": ["Reporting Orgs"], "operationId": "update_webhook", "security": org_admin, "parameters": [oid_param, wid],
              "summary": "Changes an endpoint's URL or events, and enables it again if it was disabled.", "requestBody": webhook_body,
              "responses": {**ok(data({"$ref": "#/components/schemas/Webhook"})), **errors}},
    "delete": {"tags": ["Reporting Orgs"], "operationId": "delete_webhook", "security": org_admin, "parameters": [oid_param, wid],
               "summary": "Deletes an endpoint; what it had not received is given up.", "responses": {**ok(data({"nullable": True})), **errors}}}
paths["/reporting-orgs/{oid}/webhooks/{wid}/secret"] = {"post": {"tags": ["Reporting Orgs"], "operationId": "rotate_webhook_secret",
    "security": org_admin, "parameters": [oid_param, wid],
    "summary": "A new signing secret, shown once; the old one keeps signing beside it for a day.",
    "responses": {**ok(data({"type": "object", "required": ["id", "secret", "previous_secret_valid_until"], "properties": {
        "id": {"type": "string"}, "secret": {"type": "string"}, "previous_secret_valid_until": {"type": "string", "format": "date-time"}}})), **errors}}}
paths["/admin/outbox/deliver"]["post"]["parameters"].append({"name": "channel", "in": "query", "required": False,
    "schema": {"type": "string", "enum": ["email", "webhook"], "default": "email"}})

paths["/openapi.json"] = {"get": {"tags": ["Miscellaneous"], "operationId": "openapi", "summary": "This document.",
                                  "responses": ok({"type": "object"})}}
paths["/health"] = {"servers": [{"url": "/"}], "get": {"tags": ["Miscellaneous"], "operationId": "health",
                    "summary": "200 when the database answers, 503 when not (no token).",
                    "responses": {**ok({"$ref": "#/components/schemas/Health"}), "503": {"description": "Database unavailable.",
                                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}}}}

ACCOUNT_PATHS = r'''{
 "/account/backchannel-logout": {
  "servers": [
   {
    "url": "/"
   }
  ],
  "post": {
   "tags": [
    "IATI Account"
   ],
   "operationId": "backchannel_logout",
   "summary": "OpenID Connect Back-Channel Logout 1.0: the Identity Service ends a user's sessions here.",
   "description": "Called by the Identity Service, not by publishing tools. The `logout_token` is a JWT signed with the issuer's keys (`typ` `logout+jwt` when typed), for this console's client (`account_client_id`), with the back-channel logout event, `sid` and/or `sub`, a `jti` accepted once, and no `nonce`. Every IATI Account session with that `sid` (or, with `sub` alone, every session of that subject) ends. Never cached.",
   "requestBody": {
    "required": true,
    "content": {
     "application/x-www-form-urlencoded": {
      "schema": {
       "type": "object",
       "required": [
        "logout_token"
       ],
       "properties": {
        "logout_token": {
         "type": "string"
        }
       }
      }
     }
    }
   },
   "responses": {
    "200": {
     "description": "The sessions are ended (an empty body).",
     "content": {
      "text/plain": {
       "schema": {
        "type": "string"
       }
      }
     }
    },
    "400": {
     "description": "The logout token was refused; `error_description` says why.",
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "error",
         "error_description"
        ],
        "properties": {
         "error": {
          "type": "string",
          "enum": [
           "invalid_request"
          ]
         },
         "error_description": {
          "type": "string"
         }
        }
       }
      }
     }
    },
    "503": {
     "$ref": "#/components/responses/ServiceUnavailable"
    }
   }
  }
 },
 "/account/login": {
  "servers": [
   {
    "url": "/"
   }
  ],
  "get": {
   "tags": [
    "IATI Account"
   ],
   "operationId": "account_login",
   "summary": "Starts signing in to IATI Account: the authorization code flow with PKCE, state and nonce, as a confidential client.",
   "description": "For browsers. The state, PKCE verifier, nonce and return path stay on the server under the id in a short-lived `__Host-` cookie. `return_to` must be a local path; anything else is replaced by `/account`.",
   "parameters": [
    {
     "name": "return_to",
     "in": "query",
     "required": false,
     "schema": {
      "type": "string"
     }
    }
   ],
   "responses": {
    "302": {
     "description": "To the Identity Service (with `Set-Cookie: __Host-ryd-login=…`), or after sign-in to the page asked for (with `Set-Cookie: __Host-ryd-session=…`).",
     "headers": {
      "Location": {
       "schema": {
        "type": "string"
       }
      }
     },
     "content": {
      "text/plain": {
       "schema": {
        "type": "string"
       }
      }
     }
    },
    "400": {
     "description": "Sign-in refused: an HTML page saying why (the provider's own words escaped), with a link to start again.",
     "content": {
      "text/html": {
       "schema": {
        "type": "string"
       }
      }
     }
    },
    "503": {
     "description": "The Identity Service did not answer (the error envelope; retry), or IATI Account is not configured here (an HTML page naming the variables to set).",
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/BaseResponse"
       }
      },
      "text/html": {
       "schema": {
        "type": "string"
       }
      }
     }
    }
   }
  }
 },
 "/account/callback": {
  "servers": [
   {
    "url": "/"
   }
  ],
  "get": {
   "tags": [
    "IATI Account"
   ],
   "operationId": "account_callback",
   "summary": "Where the Identity Service sends the browser back: the code is exchanged, the ID token checked, a new session begun.",
   "description": "Register `https://<host>/account/callback` as the console client's redirect URI. The pending sign-in is used once; `state` must match; the ID token is verified with the issuer's keys and checked as OIDC Core §3.1.3.7 says (iss, aud, azp, exp, iat, nonce). The provider's tokens stay on the server.",
   "parameters": [
    {
     "name": "code",
     "in": "query",
     "required": false,
     "schema": {
      "type": "string"
     }
    },
    {
     "name": "state",
     "in": "query",
     "required": false,
     "schema": {
      "type": "string"
     }
    },
    {
     "name": "error",
     "in": "query",
     "required": false,
     "schema": {
      "type": "string"
     }
    }
   ],
   "responses": {
    "302": {
     "description": "To the Identity Service (with `Set-Cookie: __Host-ryd-login=…`), or after sign-in to the page asked for (with `Set-Cookie: __Host-ryd-session=…`).",
     "headers": {
      "Location": {
       "schema": {
        "type": "string"
       }
      }
     },
     "content": {
      "text/plain": {
       "schema": {
        "type": "string"
       }
      }
     }
    },
    "400": {
     "description": "Sign-in refused: an HTML page saying why (the provider's own words escaped), with a link to start again.",
     "content": {
      "text/html": {
       "schema": {
        "type": "string"
       }
      }
     }
    },
    "503": {
     "description": "The Identity Service did not answer (the error envelope; retry), or IATI Account is not configured here (an HTML page naming the variables to set).",
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/BaseResponse"
       }
      },
      "text/html": {
       "schema": {
        "type": "string"
       }
      }
     }
    }
   }
  }
 }
}'''

# IATI Account's endpoints that other systems call (issue 18; shared/iati-account/README.md), and its
# session-bound API keys.
doc["tags"].append({"name": "IATI Account", "description": "The browser console's endpoints that other systems call (issue 18)."})
S["ApiKey"]["required"].append("session_bound")
S["ApiKey"]["properties"]["session_bound"] = {"type": "boolean",
    "description": "Whether the key works only while the IATI Account sign-in that made it lasts."}
paths["/api-keys"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]["session_bound"] = {
    "type": "boolean", "default": False,
    "description": "Bind the key to the caller's IATI Account session (the console's API-key page only; a bearer token is refused): it stops validating when that session ends."}
paths.update(json.loads(ACCOUNT_PATHS))


with open(OUT, "w") as f:
    json.dump(doc, f, indent=1, ensure_ascii=False)
    f.write("\n")
print("wrote", OUT)
