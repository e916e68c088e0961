//! Why a request gets no answer, in DRF's words and statuses.

use serde_json::{json, Value};

/// Why a request gets no list or record, as DRF words it.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// No such record (or not public).
    NotFound,
    /// A page that is not a number, below 1 or past the end.
    InvalidPage,
    /// Query parameters django-filter refuses: parameter → its messages.
    Filters(Vec<(String, String)>),
    /// A method other than GET or HEAD (405).
    MethodNotAllowed(String),
    /// The database cannot answer now (busy, or libSQL ended the statement): retry.
    Unavailable(String),
    /// Our fault (500); the message is logged, not shown.
    Internal(String),
}

impl Error {
    pub(crate) fn status(&self) -> u16 {
        match self {
            Error::NotFound | Error::InvalidPage => 404,
            Error::Filters(_) => 400,
            Error::MethodNotAllowed(_) => 405,
            Error::Unavailable(_) => 503,
            Error::Internal(_) => 500,
        }
    }

    pub(crate) fn body(&self) -> Value {
        match self {
            Error::NotFound => json!({"detail": "Not found."}),
            Error::InvalidPage => json!({"detail": "Invalid page."}),
            Error::Filters(fields) => {
                let mut body = serde_json::Map::new();
                for (field, message) in fields {
                    body.insert(field.clone(), json!([message]));
                }
                Value::Object(body)
            }
            Error::MethodNotAllowed(m) => json!({"detail": format!("Method \"{m}\" not allowed.")}),
            Error::Unavailable(_) => json!({"detail": "Service temporarily unavailable, try again later."}),
            Error::Internal(_) => json!({"detail": "A server error occurred."}),
        }
    }
}

impl From<ryd_store::SqlError> for Error {
    fn from(e: ryd_store::SqlError) -> Self {
        match e.kind {
            ryd_store::SqlErrorKind::Busy => Error::Unavailable(e.to_string()),
            _ => Error::Internal(e.to_string()),
        }
    }
}
