//! The `ckan-compat` component: the read-only CKAN API; everything else is in `ryd-ckan`.
//!
//! The export exists only on wasm32 (see the other components).

#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_component]
fn handle(req: spin_sdk::http::Request, out: spin_sdk::http::ResponseOutparam) {
    ryd_spin_adapter::serve_ckan(req, out)
}
