//! CKAN's error types, with their statuses and bodies.

use serde_json::{json, Value};

/// CKAN's error types, with their statuses.
#[derive(Debug, Clone, PartialEq)]
pub enum CkanError {
    /// No such object (404).
    NotFound(String),
    /// Field → messages.
    Validation(Vec<(String, String)>),
    /// Not allowed (403; every write here).
    Authorization(String),
    /// A search query that cannot be parsed (400).
    SearchQuery(String),
    /// A body that is not JSON (400).
    Json(String),
    /// An action CKAN does not know (400).
    UnknownAction(String),
    /// The database cannot answer now (busy, or libSQL ended the statement): retry.
    Unavailable(String),
    /// Our fault (500); the message is logged, not shown.
    Internal(String),
}

impl CkanError {
    pub(crate) fn status(&self) -> u16 {
        match self {
            CkanError::NotFound(_) => 404,
            CkanError::Validation(_) => 409,
            CkanError::Authorization(_) => 403,
            CkanError::SearchQuery(_) | CkanError::Json(_) | CkanError::UnknownAction(_) => 400,
            CkanError::Unavailable(_) => 503,
            CkanError::Internal(_) => 500,
        }
    }

    pub(crate) fn body(&self) -> Value {
        match self {
            CkanError::NotFound(m) => json!({"__type": "Not Found Error", "message": m}),
            CkanError::Validation(fields) => {
                let mut e = serde_json::Map::new();
                e.insert("__type".into(), "Validation Error".into());
                for (f, m) in fields {
                    e.insert(f.clone(), json!([m]));
                }
                Value::Object(e)
            }
            CkanError::Authorization(m) => json!({"__type": "Authorization Error", "message": m}),
            CkanError::SearchQuery(m) => json!({"__type": "Search Query Error", "message": m}),
            CkanError::Json(m) => json!({"__type": "Bad request - JSON Error", "message": m}),
            CkanError::UnknownAction(name) => {
                json!({"__type": "Bad request - Action Error", "message": format!("Bad request: Action name not known: {name}")})
            }
            CkanError::Unavailable(_) => {
                json!({"__type": "Service Unavailable", "message": "The registry is busy; please retry shortly."})
            }
            CkanError::Internal(_) => {
                json!({"__type": "Internal Server Error", "message": "An internal error occurred"})
            }
        }
    }
}

impl From<ryd_store::SqlError> for CkanError {
    fn from(e: ryd_store::SqlError) -> Self {
        match e.kind {
            ryd_store::SqlErrorKind::Busy => CkanError::Unavailable(e.to_string()),
            _ => CkanError::Internal(e.to_string()),
        }
    }
}
