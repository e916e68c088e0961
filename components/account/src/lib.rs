//! The `account` component: IATI Account, where people manage their organisations in the
//! browser (sign-in, sessions, single sign-out, the console's pages); a thin shell over
//! `ryd-iati-account`, on the same authorisation crate and store as every other component.
//!
//! The export exists only on wasm32 (see the other components).

#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_component]
fn handle(req: spin_sdk::http::Request) -> spin_sdk::http::Response {
    ryd_spin_adapter::serve_account(req)
}
