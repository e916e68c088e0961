#![warn(missing_docs)]
//! Who is calling and what they may do: the one place every component asks.
//!
//! - [`token`]: access-token verification (header, key, signature, claims) into
//!   [`VerifiedClaims`], then a [`Principal`].
//! - [`jwks`]: the issuer's key set.
//! - [`scopes`]: the scopes each endpoint needs (shared/authz/README.md §2), as one table.
//! - [`permissions`]: the permission table (shared/authz/README.md §4), as data, and [`decide`], which
//!   answers with a [`Decision`] that carries its reason.
//! - [`scoped`] and [`keyring`]: the scoped tokens this application signs itself
//!   (shared/api/README.md, "Authorisation as a service"), their scope syntax and the keys that sign them.
//!
//! Nothing here knows about Spin, HTTP or SQL: callers bring the time, the keys and the
//! facts from the database.

// Inside wasm, RSA and P-256 verification are 30–40% slower on crypto-bigint's default 64-bit
// limbs (wasm multiplies 32×32→64 natively, 64×64→128 not). `.cargo/config.toml` sets the
// cfg for wasm32-wasip2; a RUSTFLAGS variable replaces that setting, so say how to keep it.
#[cfg(all(target_arch = "wasm32", not(cpubits = "32")))]
compile_error!(
    "build for wasm with `--cfg cpubits=\"32\"` (set in .cargo/config.toml; a RUSTFLAGS variable \
     replaces it: add `--cfg cpubits=\"32\"` to it)"
);

pub mod config;
pub mod jwks;
pub mod keyring;
pub mod permissions;
pub mod principal;
pub mod scoped;
pub mod scopes;
pub mod signing;
pub mod token;

pub use config::{AuthConfig, ConfigError};
pub use jwks::{KeySet, KeySetError};
pub use keyring::{KeyRing, KeyRingError};
pub use permissions::{decide, Authorisation, Decision, OrgStanding, Role, RoleTable};
pub use principal::Principal;
pub use scopes::{
    check_about_user, check_caller, check_scopes, every_scope, Callers, Endpoint, ScopeRule, ScopeVerdict, SCOPE_TABLE,
};
pub use signing::{jwks_document, SigningError, SigningKey};
pub use token::{
    check_claims, decode_verified, lookup_path, verify_payload, verify_signature, TokenError, VerifiedClaims,
    ACCESS_TOKEN_TYPES, ID_TOKEN_TYPES, LOGOUT_TOKEN_TYPES,
};
