//! Action parameters: a query string (GET), a JSON object body, or a form body (POST).

use crate::CkanError;
use ryd_http::Request;
use serde_json::{Map, Value};

/// An action's parameters: the query string's, or a JSON body's (CKAN takes either).
#[derive(Debug, Clone, Default)]
pub struct Params(Map<String, Value>);

impl Params {
    /// The parameters of a request: the query's, then a form's or a JSON object's body over
    /// them; a JSON body that is not an object is a `Json` error.
    pub fn from_request(req: &Request) -> Result<Self, CkanError> {
        let mut map = Map::new();
        for (k, v) in req.query_pairs() {
            map.insert(k, Value::String(v));
        }
        let body = &req.body;
        if !body.iter().all(u8::is_ascii_whitespace) {
            let form = req.header("content-type").is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
            if form {
                for (k, v) in ryd_http::parse_form(&String::from_utf8_lossy(body)) {
                    map.insert(k, Value::String(v));
                }
            } else {
                match serde_json::from_slice::<Value>(body) {
                    Ok(Value::Object(m)) => map.extend(m),
                    Ok(_) => return Err(CkanError::Json("Request data JSON decoded to a non-object".into())),
                    Err(e) => return Err(CkanError::Json(format!("Error decoding JSON data. Error: {e}"))),
                }
            }
        }
        Ok(Params(map))
    }

    /// A parameter as text (numbers and booleans as written).
    pub fn str(&self, name: &str) -> Option<String> {
        match self.0.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// A boolean parameter (`true`/`1`/`yes`/`on`, `false`/`0`/`no`/`off`), `default` when absent.
    pub fn bool(&self, name: &str, default: bool) -> Result<bool, CkanError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => match v.as_str().map(str::to_ascii_lowercase).as_deref().unwrap_or("") {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" | "" => Ok(false),
                _ => Err(CkanError::Validation(vec![(name.into(), format!("Value must be a boolean: {v}"))])),
            },
        }
    }

    /// An integer parameter; not a number is a validation error.
    pub fn int(&self, name: &str) -> Result<Option<i64>, CkanError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64()),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| CkanError::Validation(vec![(name.into(), "Invalid integer".into())])),
            Some(_) => Err(CkanError::Validation(vec![(name.into(), "Invalid integer".into())])),
        }
    }

    /// A non-negative integer (CKAN's `natural_number_validator`).
    pub fn natural(&self, name: &str) -> Result<Option<i64>, CkanError> {
        match self.int(name)? {
            Some(n) if n < 0 => Err(CkanError::Validation(vec![(name.into(), "Must be a natural number".into())])),
            other => Ok(other),
        }
    }

    /// A list: a JSON array, a JSON-encoded array in a string, or comma-separated.
    pub fn list(&self, name: &str) -> Result<Vec<String>, CkanError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(a)) => {
                Ok(a.iter().map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).collect())
            }
            Some(Value::String(s)) if s.trim_start().starts_with('[') => serde_json::from_str::<Vec<String>>(s)
                .map_err(|_| CkanError::Validation(vec![(name.into(), "Not a list of strings".into())])),
            Some(Value::String(s)) => {
                Ok(s.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect())
            }
            Some(other) => Ok(vec![other.to_string()]),
        }
    }
}
