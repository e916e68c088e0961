//! Errors at the API boundary, answered in the reference envelope (shared/api/README.md).

use crate::http::Response;
use ryd_authz::{Authorisation, Decision, TokenError};
use ryd_store::{SqlError, SqlErrorKind};
use serde_json::{json, Map, Value};

/// The realm of `WWW-Authenticate` challenges.
pub const REALM: &str = "register-your-data";

/// An error answer: status, message and what the envelope adds.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The message shown to the caller (`error_msg`).
    pub message: String,
    /// Extra members of the `error` object (`fields`, `required_scope`, …).
    pub extra: Map<String, Value>,
    /// Extra response headers (lower-case names).
    pub headers: Vec<(String, String)>,
    /// Logged, never shown (internal errors).
    pub log: Option<String>,
}

impl ApiError {
    /// An error with this status and message.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), extra: Map::new(), headers: Vec::new(), log: None }
    }

    /// One more member of the `error` object.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }

    /// One more response header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// A `400`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    /// One field's validation error.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::invalid_fields(vec![(field.into(), message.into())])
    }

    /// A 400 naming each invalid field.
    pub fn invalid_fields(fields: Vec<(String, String)>) -> Self {
        let summary: Vec<String> = fields.iter().map(|(f, m)| format!("{f}: {m}")).collect();
        let map: Map<String, Value> = fields.into_iter().map(|(f, m)| (f, Value::String(m))).collect();
        Self::new(400, format!("Invalid request: {}", summary.join("; "))).with("fields", Value::Object(map))
    }

    /// The `404` for an organisation the caller cannot see.
    pub fn org_not_found() -> Self {
        Self::new(404, "Organisation UUID is not known in the registry.")
    }

    /// The `404` for a dataset the caller cannot see.
    pub fn dataset_not_found() -> Self {
        Self::new(404, "Dataset UUID is not known in the registry.")
    }

    /// A `404` naming what was not found.
    pub fn not_found(what: &str) -> Self {
        Self::new(404, format!("{what} is not known in the registry."))
    }

    /// 403 naming the missing authorisation and the reason from the decision.
    pub fn lacks(auth: Authorisation, decision: &Decision) -> Self {
        Self::new(403, format!("No authorisation to perform this operation on this resource: {}.", decision.reason))
            .with("missing_authorisation", auth.as_str())
    }

    /// A `403` with this message.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, message)
    }

    /// A `409` with this message.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, message)
    }

    /// The `401` without a token, with its `WWW-Authenticate` challenge.
    pub fn no_token() -> Self {
        Self::new(
            401,
            "No authorisation information provided. Send an access token as `Authorization: Bearer <token>`.",
        )
        .header("www-authenticate", format!("Bearer realm=\"{REALM}\""))
    }

    /// The `401` for a refused token, with `error="invalid_token"`.
    pub fn invalid_token(e: &TokenError) -> Self {
        let d = e.description().replace('"', "'");
        Self::new(401, format!("The access token is not valid: {d}.")).header(
            "www-authenticate",
            format!("Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{d}\""),
        )
    }

    /// The `403` for missing scopes, with `error="insufficient_scope"`.
    pub fn insufficient_scope(required: &str, missing: &[&str]) -> Self {
        Self::new(403, format!("The access token lacks the scope this operation needs: {}.", missing.join(" ")))
            .with("required_scope", required)
            .header(
                "www-authenticate",
                format!("Bearer realm=\"{REALM}\", error=\"insufficient_scope\", scope=\"{required}\""),
            )
    }

    /// The `412` for a stale `If-Match`, with the current version.
    pub fn precondition_failed(current: i64) -> Self {
        Self::new(412, format!("The resource has changed: If-Match does not match the current ETag \"{current}\"."))
            .with("current_version", current)
    }

    /// A `500` that shows nothing of its cause; `log` is logged.
    pub fn internal(log: impl Into<String>) -> Self {
        let mut e = Self::new(500, "An internal error occurred. If this persists please report it to IATI Support.");
        e.log = Some(log.into());
        e
    }

    /// The same error in CKAN's envelope (`success: false`, `error.__type`).
    pub fn into_ckan_response(self, base_url: &str, action: &str) -> Response {
        let kind = match self.status {
            401 | 403 => "Authorization Error",
            404 => "Not Found Error",
            400 | 409 | 422 => "Validation Error",
            _ => "Internal Server Error",
        };
        let mut error = Map::new();
        error.insert("__type".into(), kind.into());
        error.insert("message".into(), self.message.into());
        if let Some(fields) = self.extra.get("fields").and_then(Value::as_object) {
            for (f, m) in fields {
                error.insert(f.clone(), json!([m]));
            }
        }
        let help = format!("{base_url}/api/3/action/help_show?name={action}");
        let mut r =
            Response::json(self.status, &json!({"help": help, "success": false, "error": Value::Object(error)}));
        for (n, v) in self.headers {
            r.set_header(&n, v);
        }
        r
    }

    /// The HTTP response, in the reference envelope.
    pub fn into_response(self) -> Response {
        let mut error = Map::new();
        error.insert("status_code".into(), self.status.into());
        error.insert("error_msg".into(), self.message.into());
        error.extend(self.extra);
        let mut r =
            Response::json(self.status, &json!({"status": "failed", "data": null, "error": Value::Object(error)}));
        for (n, v) in self.headers {
            r.set_header(&n, v);
        }
        r
    }
}

impl From<SqlError> for ApiError {
    fn from(e: SqlError) -> Self {
        if e.kind == SqlErrorKind::Busy {
            let mut err = ApiError::new(503, "The registry is busy; please retry shortly.").header("retry-after", "1");
            err.log = Some(e.to_string());
            return err;
        }
        ApiError::internal(e.to_string())
    }
}

/// A handler's result.
pub type ApiResult<T> = Result<T, ApiError>;
