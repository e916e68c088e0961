//! The `outbox` component: the outbox for operators (its backlog) and delivery of its due
//! email through Azure Communication Services. The one component holding ACS's endpoint as
//! an outbound host and its access key; a thin shell over `ryd-api`.
//!
//! The export exists only on wasm32 (see the other components).

#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_component]
fn handle(req: spin_sdk::http::Request) -> spin_sdk::http::Response {
    ryd_spin_adapter::serve(&ryd_spin_adapter::routes::OUTBOX, req)
}
