#![warn(missing_docs)]
//! What the tests share, so a test says only what it is about:
//! - [`Who`]: someone calling (a user, a superadmin, a machine client), and their claims;
//! - [`bodies`]: the request bodies the scenarios create organisations and datasets with;
//! - [`world`]: the API natively, on real SQLite with real signed tokens, for the crates'
//!   tests (the end-to-end suites in `tests/` call the real `.wasm` over HTTP instead).

pub mod bodies;
pub mod who;
pub mod world;

pub use bodies::{dataset_body, org_body};
pub use who::{uid, Who, APP};
pub use world::{expect, signing_key, Cast, TestPorts, World, AUD, ISS, T0};
