//! Harness for the end-to-end tests: builds the real components with their spin.toml
//! build commands, checks the `.wasm` files are fresh, starts the local host (or real
//! Spin, for the suites `tests/spin.rs` includes) on an ephemeral port with a test
//! Identity Service's keys, and talks HTTP to it.

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
pub const APP: &str = "publisher-app";

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

/// The application being served: by the project's host, or by real Spin.
pub enum Server {
    Host(Box<RunningHost>),
    Spin(SpinProcess),
}

impl Server {
    pub fn url(&self) -> String {
        match self {
            Server::Host(h) => h.url(),
            Server::Spin(s) => s.url(),
        }
    }

    /// The host's counters; real Spin has none to read.
    pub fn stats(&self) -> Option<&Stats> {
        match self {
            Server::Host(h) => Some(&h.stats),
            Server::Spin(_) => None,
        }
    }

    pub fn stop(self) {
        match self {
            Server::Host(h) => (*h).stop(),
            Server::Spin(s) => drop(s),
        }
    }
}

/// Real Spin for the suites included by `tests/spin.rs`: `RYD_SPIN`, else the copy
/// beside the project (`../shared/tools/spin/spin`); `build.rs` compiles those suites
/// only when one exists.
pub fn spin_binary() -> Option<PathBuf> {
    std::env::var_os("RYD_SPIN")
        .map(PathBuf::from)
        .or_else(|| Some(root().join("../shared/tools/spin/spin")))
        .filter(|p| p.is_file())
}

/// Starts the application's real components: in real Spin when called from a suite that
/// `tests/spin.rs` includes (its module path starts with `spin::`), else in the host.
/// Use it as `serve!(data, env)`.
pub fn serve_in(module: &str, data: &Path, env: BTreeMap<String, String>) -> Server {
    built(&app_manifest());
    if module.starts_with("spin::") {
        let spin = spin_binary().expect("a Spin binary (RYD_SPIN or ../shared/tools/spin/spin)");
        return Server::Spin(
            ryd_host::real_spin::up(&spin, &app_manifest(), data, env.iter()).expect("spin up starts"),
        );
    }
    let mut opts = HostOptions::new(app_manifest());
    opts.listen = "127.0.0.1:0".parse().expect("an address");
    opts.data_dir = Some(data.to_path_buf());
    opts.env = Some(env);
    Server::Host(Box::new(start(&opts).expect("the host starts")))
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

/// Someone calling the API.
#[derive(Debug, Clone)]
pub struct Who {
    pub uid: String,
    pub sub: String,
    pub client_id: String,
    pub roles: Vec<String>,
    pub scopes: String,
    pub name: String,
}

pub fn uid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

impl Who {
    pub fn user(n: u32, name: &str) -> Self {
        Who {
            uid: uid(n),
            sub: format!("sub-{n}"),
            client_id: APP.into(),
            roles: vec!["iati_register_your_data".into()],
            scopes: ryd_authz::every_scope().join(" "),
            name: name.into(),
        }
    }
    pub fn superadmin(n: u32) -> Self {
        let mut w = Self::user(n, "Super");
        w.roles.push("iati_superadmin".into());
        w
    }
    pub fn machine(client_id: &str) -> Self {
        Who {
            uid: String::new(),
            sub: client_id.into(),
            client_id: client_id.into(),
            roles: vec![],
            scopes: ryd_authz::every_scope().join(" "),
            name: String::new(),
        }
    }
    pub fn via(mut self, client_id: &str) -> Self {
        self.client_id = client_id.into();
        self
    }
    pub fn scopes(mut self, s: &str) -> Self {
        self.scopes = s.into();
        self
    }

    pub fn claims(&self) -> Value {
        let now = now();
        let mut c = json!({"iss": ISS, "aud": AUD, "sub": self.sub, "client_id": self.client_id, "scope": self.scopes,
                           "iat": now - 1, "exp": now + 600, "jti": format!("{}-{now}", self.sub)});
        if !self.uid.is_empty() {
            c["iatiRegistryId"] = json!(self.uid);
            c["roles"] = json!(self.roles);
            c["name"] = json!(self.name);
            c["email"] = json!(format!("{}@example.org", self.name.to_lowercase()));
        }
        c
    }

    pub fn token(&self) -> String {
        sign(&self.claims())
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
}

impl Client {
    pub fn new(host: &Server) -> Self {
        Self::at(&host.url())
    }

    pub fn at(base: &str) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        Client { base: base.to_string(), agent }
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
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        Answer { status, headers, text }
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
const PYTHON_CLIENTS: &[&str] = &["ckanapi==4.*", "PyJWT[crypto]==2.*"];

/// Python with the clients the tests drive (`ckanapi`, `PyJWT`): a virtual environment
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
