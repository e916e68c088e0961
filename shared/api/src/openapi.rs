//! The OpenAPI document.
use serde_json::Value;
use std::sync::OnceLock;

/// Our OpenAPI document: the reference specification with our additions.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::from_str(include_str!("../openapi.json")).unwrap_or(Value::Null))
}
