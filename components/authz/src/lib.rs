//! The `authz` component: authorisation as a service (checks, revocation); a thin shell
//! over `ryd-api`, sharing its permission table with every other component.
//!
//! The export exists only on wasm32 (see the other components).

#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_component]
fn handle(req: spin_sdk::http::Request) -> spin_sdk::http::Response {
    ryd_spin_adapter::serve(&ryd_spin_adapter::routes::AUTHZ, req)
}
