#![warn(missing_docs)]
//! The Spin edge, and nothing else: Spin's SQLite, key-value store, variables and
//! outbound HTTP as `ryd_api::Ports`, and Spin's request and response types converted to
//! and from `ryd_api`'s. Every component is `serve(request)`.
//!
//! Stores are opened lazily: a request that never needs the key-value store never opens
//! it (on real Spin, opening it costs the worker thread; shared/authz/README.md §1, item 5).

#[cfg(feature = "api")]
pub use ryd_api::routes;
#[cfg(feature = "api")]
use ryd_api::{Fetched, Ports};
use ryd_store::{Rows, Sql, SqlError, Value};
#[cfg(any(feature = "api", feature = "dashboard"))]
use spin_sdk::http::Response;
use spin_sdk::http::{Method, Request};
use spin_sdk::sqlite;
#[cfg(feature = "api")]
use spin_sdk::{key_value, variables};
use std::cell::{Cell, OnceCell};

/// Spin's SQLite connection (`default` database), opened on first use.
#[derive(Default)]
pub struct SpinSql {
    conn: OnceCell<Result<sqlite::Connection, String>>,
    /// Set once the database refused a setting (libSQL): later ones are not sent.
    refuses_settings: Cell<bool>,
}

fn to_spin(v: &Value) -> sqlite::Value {
    match v {
        Value::Null => sqlite::Value::Null,
        Value::Integer(n) => sqlite::Value::Integer(*n),
        Value::Real(n) => sqlite::Value::Real(*n),
        Value::Text(s) => sqlite::Value::Text(s.clone()),
        Value::Blob(b) => sqlite::Value::Blob(b.clone()),
    }
}

fn from_spin(v: sqlite::Value) -> Value {
    match v {
        sqlite::Value::Null => Value::Null,
        sqlite::Value::Integer(n) => Value::Integer(n),
        sqlite::Value::Real(n) => Value::Real(n),
        sqlite::Value::Text(s) => Value::Text(s),
        sqlite::Value::Blob(b) => Value::Blob(b),
    }
}

impl Sql for SpinSql {
    fn execute(&self, statement: &str, params: &[Value]) -> Result<Rows, SqlError> {
        let conn = self
            .conn
            .get_or_init(|| {
                sqlite::Connection::open_default().map_err(|e| format!("opening the default database: {e}"))
            })
            .as_ref()
            .map_err(|e| SqlError::other(e.clone()))?;
        let params: Vec<sqlite::Value> = params.iter().map(to_spin).collect();
        let result = conn.execute(statement, &params).map_err(|e| match e {
            sqlite::Error::Io(message) => SqlError::from_message(message),
            other => SqlError::other(other.to_string()),
        })?;
        Ok(Rows {
            columns: result.columns,
            rows: result.rows.into_iter().map(|r| r.values.into_iter().map(from_spin).collect()).collect(),
        })
    }

    fn refuses_settings(&self) -> bool {
        self.refuses_settings.get()
    }

    fn settings_refused(&self) {
        self.refuses_settings.set(true);
    }
}

/// `ryd_api::Ports` on Spin.
#[cfg(feature = "api")]
#[derive(Default)]
pub struct SpinPorts {
    sql: SpinSql,
    kv: OnceCell<Option<key_value::Store>>,
}

#[cfg(feature = "api")]
impl SpinPorts {
    fn kv(&self) -> Option<&key_value::Store> {
        self.kv
            .get_or_init(|| match key_value::Store::open_default() {
                Ok(s) => Some(s),
                Err(e) => {
                    eprintln!("key-value store unavailable: {e}");
                    None
                }
            })
            .as_ref()
    }
}

#[cfg(feature = "api")]
impl Ports for SpinPorts {
    fn sql(&self) -> &dyn Sql {
        &self.sql
    }

    fn variable(&self, name: &str) -> Option<String> {
        variables::get(name).ok().filter(|v| !v.trim().is_empty())
    }

    fn environment(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn kv_get(&self, key: &str) -> Option<Vec<u8>> {
        self.kv()?.get(key).ok().flatten()
    }

    fn kv_set(&self, key: &str, value: &[u8]) {
        if let Some(store) = self.kv() {
            if let Err(e) = store.set(key, value) {
                eprintln!("key-value write of {key} failed: {e}");
            }
        }
    }

    fn http_get(&self, url: &str, bearer: Option<&str>) -> Result<Fetched, String> {
        let mut builder = Request::builder();
        builder.method(Method::Get).uri(url).header("accept", "application/json");
        if let Some(token) = bearer {
            builder.header("authorization", format!("Bearer {token}"));
        }
        let response: Response =
            spin_sdk::http::run(spin_sdk::http::send(builder.build())).map_err(|e| format!("GET {url}: {e}"))?;
        Ok(Fetched { status: *response.status(), body: response.into_body() })
    }

    fn http_post_form(&self, url: &str, body: &str, authorization: Option<&str>) -> Result<Fetched, String> {
        let mut builder = Request::builder();
        builder
            .method(Method::Post)
            .uri(url)
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(a) = authorization {
            builder.header("authorization", a);
        }
        builder.body(body.as_bytes().to_vec());
        let response: Response =
            spin_sdk::http::run(spin_sdk::http::send(builder.build())).map_err(|e| format!("POST {url}: {e}"))?;
        Ok(Fetched { status: *response.status(), body: response.into_body() })
    }

    fn http_post(&self, url: &str, headers: &[(String, String)], body: &[u8]) -> Result<Fetched, String> {
        let mut builder = Request::builder();
        builder.method(Method::Post).uri(url);
        for (name, value) in headers {
            builder.header(name.as_str(), value.as_str());
        }
        builder.body(body.to_vec());
        let response: Response =
            spin_sdk::http::run(spin_sdk::http::send(builder.build())).map_err(|e| format!("POST {url}: {e}"))?;
        Ok(Fetched { status: *response.status(), body: response.into_body() })
    }

    fn now_millis(&self) -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
    }

    fn log(&self, message: &str) {
        eprintln!("{message}");
    }
}

/// Converts Spin's request, answers it with one component of the Register Your Data API
/// (only that component's handlers are linked into its `.wasm`), converts back.
#[cfg(feature = "api")]
pub fn serve(component: &ryd_api::routes::Component, req: Request) -> Response {
    let api_req = to_api_request(req);
    to_spin_response(ryd_api::serve(component, &api_req, &SpinPorts::default()))
}

/// The same for IATI Account (the `account` component).
#[cfg(feature = "account")]
pub fn serve_account(req: Request) -> Response {
    let api_req = to_api_request(req);
    to_spin_response(ryd_iati_account::serve(&api_req, &SpinPorts::default()))
}

/// The same for the CKAN-compatible API, which needs SQLite only. Its long lists leave
/// page by page ([`send_streamed`]).
#[cfg(feature = "ckan")]
pub fn serve_ckan(req: Request, out: spin_sdk::http::ResponseOutparam) {
    let api_req = to_api_request(req);
    let sql = SpinSql::default();
    send_streamed(ryd_ckan::handle_streamed(&api_req, &sql, &|m| eprintln!("{m}"), &freshness()), out);
}

/// The least a streamed answer writes at a time (its last write aside). Small writes
/// after the first wait on the client's delayed acknowledgement (Nagle's algorithm, which
/// Spin leaves on, holds a small segment while an earlier one is unacknowledged): ~40 ms
/// each on a kept-alive connection. Most answers are smaller than this and leave in one
/// write; the whole registry leaves in writes of this size, mostly full segments.
#[cfg(feature = "ckan")]
const WRITE_SIZE: usize = 1024 * 1024;

/// `bytes` written whole, in as few writes as the stream takes, then flushed once.
/// (`blocking_write_and_flush` takes at most 4,096 bytes a call: one small write each.)
#[cfg(feature = "ckan")]
fn write_all(stream: &wasi::io::streams::OutputStream, bytes: &[u8]) -> Result<(), String> {
    let mut left = bytes;
    while !left.is_empty() {
        let allowed = stream.check_write().map_err(|e| format!("{e:?}"))?;
        if allowed == 0 {
            stream.subscribe().block();
            continue;
        }
        let (now, later) = left.split_at(usize::try_from(allowed).unwrap_or(usize::MAX).min(left.len()));
        stream.write(now).map_err(|e| format!("{e:?}"))?;
        left = later;
    }
    stream.blocking_flush().map_err(|e| format!("{e:?}"))
}

/// Writes an answer as its parts are read, a write each time [`WRITE_SIZE`] bytes are
/// gathered; no part is read before the ones before it have been written or gathered. A
/// part that fails ends the body without finishing it, so the client sees the answer cut
/// (wasi:http: an outgoing body dropped unfinished is an error), never a short one passed
/// as whole.
#[cfg(feature = "ckan")]
fn send_streamed(answer: ryd_http::stream::Answer<'_>, out: spin_sdk::http::ResponseOutparam) {
    use spin_sdk::http::{Fields, OutgoingBody, OutgoingResponse};
    let ryd_http::stream::Answer { head, rest } = answer;
    let entries: Vec<(String, Vec<u8>)> = head.headers.into_iter().map(|(n, v)| (n, v.into_bytes())).collect();
    let (status, fields) = match Fields::from_list(&entries) {
        Ok(fields) => (head.status, fields),
        Err(e) => {
            eprintln!("answer headers refused: {e:?}");
            (500, Fields::new())
        }
    };
    let response = OutgoingResponse::new(fields);
    let _ = response.set_status_code(status);
    let Ok(body) = response.body() else {
        eprintln!("answer body unavailable");
        return;
    };
    out.set(response);
    let Ok(stream) = body.write() else {
        eprintln!("answer body not writable");
        return;
    };
    let mut pending: Vec<u8> = Vec::new();
    let parts = std::iter::once(Ok(head.body)).chain(rest.into_iter().flatten());
    for part in parts {
        let written = part.and_then(|bytes| {
            pending.extend_from_slice(&bytes);
            if pending.len() < WRITE_SIZE {
                return Ok(());
            }
            write_all(&stream, &std::mem::take(&mut pending))
        });
        if let Err(e) = written {
            eprintln!("answer cut: {e}");
            return;
        }
    }
    if let Err(e) = write_all(&stream, &pending) {
        eprintln!("answer cut: {e}");
        return;
    }
    drop(stream);
    if let Err(e) = OutgoingBody::finish(body, None) {
        eprintln!("finishing the answer: {e:?}");
    }
}

/// The same for the Dashboard's read API, which needs SQLite only.
#[cfg(feature = "dashboard")]
pub fn serve_dashboard(req: Request) -> Response {
    let api_req = to_api_request(req);
    let sql = SpinSql::default();
    to_spin_response(ryd_dashboard::handle(&api_req, &sql, &|m| eprintln!("{m}"), &freshness()))
}

/// How long caches may keep the public reads: the component's environment
/// (`RYD_PUBLIC_*`, spin.toml's `environment` or `spin up --env`), read from the instance
/// with no host call, unlike a Spin variable.
#[cfg(any(feature = "ckan", feature = "dashboard"))]
fn freshness() -> ryd_http::cache::Freshness {
    ryd_http::cache::Freshness::configured(|name| std::env::var(name).ok(), &|m| eprintln!("{m}"))
}

fn to_api_request(req: Request) -> ryd_http::Request {
    let method = match req.method() {
        Method::Get => "GET",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Patch => "PATCH",
        Method::Delete => "DELETE",
        Method::Head => "HEAD",
        Method::Options => "OPTIONS",
        Method::Connect => "CONNECT",
        Method::Trace => "TRACE",
        Method::Other(m) => m.as_str(),
    }
    .to_string();
    let headers: Vec<(String, String)> =
        req.headers().filter_map(|(n, v)| Some((n.to_ascii_lowercase(), v.as_str()?.to_string()))).collect();
    let full_url = req.header("spin-full-url").and_then(|v| v.as_str()).unwrap_or("").to_string();
    let base_url = full_url
        .split_once("://")
        .map(|(scheme, rest)| format!("{scheme}://{}", rest.split('/').next().unwrap_or("")))
        .unwrap_or_default();
    ryd_http::Request {
        method,
        path: req.path().to_string(),
        query: req.query().to_string(),
        headers,
        body: req.into_body(),
        base_url,
    }
}

#[cfg(any(feature = "api", feature = "dashboard"))]
fn to_spin_response(answer: ryd_http::Response) -> Response {
    let mut builder = Response::builder();
    builder.status(answer.status);
    for (name, value) in answer.headers {
        builder.header(name, value);
    }
    builder.body(answer.body).build()
}
