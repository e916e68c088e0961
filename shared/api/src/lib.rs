#![warn(missing_docs)]
//! The Register Your Data API, independent of Spin.
//!
//! [`serve`] takes a component's route table ([`routes::Component`]), a [`Request`] and the
//! host's [`Ports`] and answers a [`Response`]: route → token ([`auth`]) → scope
//! (`ryd_authz`'s scope table) → the handler, which asks the permission table about the
//! object. Components are thin shells around it, each naming only its own table, so each
//! `.wasm` holds only its own handlers. [`handle`] serves every route of the API, as the
//! application does (tests).
//!
//! [`dispatch`] is everything after authentication, for a token or a console session
//! ([`Credential`]); IATI Account (`ryd-iati-account`, which depends on this crate, never
//! the other way) reaches the API's routes only through it, by typed [`Call`]s.

pub mod auth;
mod call;
pub mod context;
pub mod error;
mod handlers;
pub mod ids;
mod notify;
pub mod openapi;
pub mod ports;
pub mod routes;
mod serve;
pub mod time;
pub mod validate;
mod views;

pub use context::{Ctx, Reply};
pub use error::{ApiError, ApiResult};
pub use ports::{Fetched, Ports};
pub use ryd_codelists as codelists;
pub use ryd_http as http;
pub use ryd_http::{Request, Response};

pub use auth::Credential;
pub use call::Call;
pub use context::PRIVATE;
pub use serve::{dispatch, handle, respond, serve};

/// Bodies over this size are refused with 413.
pub const MAX_BODY: usize = 64 * 1024;

/// The application's version, reported by `/health`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
