//! The `users` component: a thin shell; everything else is in `ryd-api`.
//!
//! The export exists only on wasm32: natively (`cargo test --workspace`) this crate is
//! empty, since a native cdylib cannot carry WIT export names.

#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_component]
fn handle(req: spin_sdk::http::Request) -> spin_sdk::http::Response {
    ryd_spin_adapter::serve(&ryd_spin_adapter::routes::USERS, req)
}
