//! One module per resource; each handler is a few calls into the context and the store.

pub mod api_keys;
pub mod authz;
pub mod datasets;
pub mod groups;
pub mod misc;
pub mod orgs;
pub mod pipeline;
pub mod scoped_tokens;
pub mod tools;
pub mod users;
