//! The `dashboard` component: the IATI Dashboard's read API; everything else is in
//! `ryd-dashboard`.
//!
//! The export exists only on wasm32 (see the other components).

#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_component]
fn handle(req: spin_sdk::http::Request) -> spin_sdk::http::Response {
    ryd_spin_adapter::serve_dashboard(req)
}
