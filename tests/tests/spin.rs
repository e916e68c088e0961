//! The end-to-end suites once more, on real Spin (`spin up` with the same spin.toml and
//! `.wasm` files): every endpoint and its refusals, the CKAN API and its callers, the
//! authorisation service, the Dashboard's read API, IATI Account's validate_cookie and
//! back-channel logout, the public reads through Varnish (`spin up --env` gives the
//! components their freshness), and the emails the outbox holds (over SMTP, and through
//! Azure Communication Services from the `outbox` component) and its signed webhooks. `serve!` starts real Spin
//! for them (their module path starts with `spin::`). The Spin binary is `RYD_SPIN`, else `../shared/tools/spin/spin`; with
//! neither, `build.rs` leaves these out and the one test below says so.

#[cfg(real_spin)]
#[path = "e2e.rs"]
mod e2e;

#[cfg(real_spin)]
#[path = "ckan.rs"]
mod ckan;

#[cfg(real_spin)]
#[path = "service.rs"]
mod service;

#[cfg(real_spin)]
#[path = "dashboard.rs"]
mod dashboard;

#[cfg(real_spin)]
#[path = "account.rs"]
mod account;

#[cfg(real_spin)]
#[path = "cache.rs"]
mod cache;

#[cfg(real_spin)]
#[path = "email.rs"]
mod email;

#[cfg(real_spin)]
#[path = "acs.rs"]
mod acs;

#[cfg(real_spin)]
#[path = "webhooks.rs"]
mod webhooks;

#[cfg(real_spin)]
#[path = "outbox_cost.rs"]
mod outbox_cost;

#[cfg(not(real_spin))]
#[test]
fn real_spin_suites_skipped_no_spin_binary() {
    eprintln!("No Spin binary (set RYD_SPIN, or put Spin 4 at ../shared/tools/spin/spin): the real-Spin suites were not built.");
}
