//! One module per resource; each handler is a few calls into the context and the store.

pub mod authz;
pub mod datasets;
pub mod misc;
pub mod orgs;
pub mod tools;
pub mod users;
