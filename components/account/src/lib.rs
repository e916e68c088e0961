//! The `account` component: IATI Account, the console people use in the browser (issue 18).
//! So far the endpoint the Identity Service calls to end a user's sessions (Back-Channel
//! Logout); a thin shell over `ryd-api`, on the same authorisation crate and store as every
//! other component.
//!
//! The export exists only on wasm32 (see the other components).

#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_component]
fn handle(req: spin_sdk::http::Request) -> spin_sdk::http::Response {
    ryd_spin_adapter::serve(&ryd_spin_adapter::routes::ACCOUNT, req)
}
