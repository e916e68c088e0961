//! The benchmarks' baselines, as small as Spin HTTP components get: hello-world, and the
//! physical floor of any request that touches SQLite (`/select`: open the `default`
//! database, one `SELECT` on a one-table database, answer the value). `/trap` panics (a
//! trap). The export exists only on wasm32 (see the components).

#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_component]
fn handle(req: spin_sdk::http::Request) -> spin_sdk::http::Response {
    let text = |status: u16, body: String| {
        spin_sdk::http::Response::builder().status(status).header("content-type", "text/plain").body(body).build()
    };
    if req.path().ends_with("/trap") {
        panic!("trapping on purpose");
    }
    if req.path().ends_with("/select") {
        use spin_sdk::sqlite::{Connection, Value};
        let answer = Connection::open_default()
            .and_then(|c| c.execute("SELECT x FROM t WHERE id = ?", &[Value::Integer(1)]))
            .map(|r| r.rows.first().and_then(|row| row.get::<i64>(0)).unwrap_or(0));
        return match answer {
            Ok(x) => text(200, x.to_string()),
            Err(e) => text(500, e.to_string()),
        };
    }
    text(200, "hello".into())
}
