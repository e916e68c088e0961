//! One module per resource; each handler is a few calls into the context and the store.

pub(crate) mod api_keys;
pub(crate) mod authz;
pub(crate) mod datasets;
pub(crate) mod groups;
pub(crate) mod misc;
pub(crate) mod orgs;
pub(crate) mod outbox;
pub(crate) mod pipeline;
pub(crate) mod scoped_tokens;
pub(crate) mod tools;
pub(crate) mod users;
pub(crate) mod webhooks;
