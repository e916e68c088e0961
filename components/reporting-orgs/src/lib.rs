//! The `reporting-orgs` component: a thin shell; everything else is in `ryd-api`.

use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> Response {
    ryd_spin_adapter::serve(req)
}
