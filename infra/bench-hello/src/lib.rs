//! Hello world, as small as a Spin HTTP component gets; `/trap` panics (a trap).
//! The export exists only on wasm32 (see the components).

#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_component]
fn handle(req: spin_sdk::http::Request) -> spin_sdk::http::Response {
    if req.path().ends_with("/trap") {
        panic!("trapping on purpose");
    }
    spin_sdk::http::Response::builder().status(200).header("content-type", "text/plain").body("hello").build()
}
