//! A local Spin-compatible host for this application (infra/README.md).
//!
//! It reads `spin.toml`, builds the components with their build commands, compiles each
//! once, and serves HTTP, instantiating a fresh instance per request with WASI 0.2,
//! `wasi:http` and `fermyon:spin/{sqlite,key-value,variables}@2.0.0`, storing data in
//! `.spin/` as Spin does. [`start`] runs it in-process (the end-to-end tests do);
//! `ryd-host up` is the command line.

pub mod build;
pub mod deliver;
pub mod dev;
pub mod dev_idp;
pub mod import;
pub mod manifest;
pub mod outbound;
mod output;
pub mod real_spin;
pub mod router;
pub mod runtime;
pub mod runtime_config;
pub mod sample;
mod spin;
pub mod stats;
pub mod varnish;

use anyhow::{Context, Result};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use runtime::App;
pub use spin::disable_sqlite_memstatus;
pub use stats::Stats;

/// How to run the application.
#[derive(Debug, Clone)]
pub struct HostOptions {
    pub manifest: PathBuf,
    pub listen: SocketAddr,
    /// Where Spin keeps state: `.spin/` beside the manifest unless set.
    pub data_dir: Option<PathBuf>,
    /// Development identity: a signing key in `.spin/`, its JWKS and issuer as defaults.
    pub dev: bool,
    /// SQL run against the default database before serving (`--sqlite`).
    pub sqlite: Vec<String>,
    /// With `dev`: load the sample registry into an empty database ([`sample`]).
    pub sample: bool,
    /// `SPIN_VARIABLE_*` values; the process environment when `None`.
    pub env: Option<BTreeMap<String, String>>,
    /// Spin's runtime configuration file (`--runtime-config-file`): where the databases and
    /// key-value stores live.
    pub runtime_config: Option<PathBuf>,
    /// Serve only these components and their routes (`--component-id`, Spin's selective
    /// deployment); all when empty.
    pub components: Vec<String>,
    /// Environment variables for every component (`--env`, as `spin up --env`), over
    /// spin.toml's `environment`.
    pub guest_env: Vec<(String, String)>,
}

impl HostOptions {
    pub fn new(manifest: impl Into<PathBuf>) -> Self {
        HostOptions {
            manifest: manifest.into(),
            listen: "127.0.0.1:3000".parse().expect("a valid address"),
            data_dir: None,
            dev: false,
            sqlite: Vec::new(),
            sample: false,
            env: None,
            runtime_config: None,
            components: Vec::new(),
            guest_env: Vec::new(),
        }
    }

    pub fn data_dir(&self, manifest: &manifest::Manifest) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(|| manifest.dir.join(".spin"))
    }

    /// Where the databases and stores live: the runtime config file over Spin's defaults.
    pub fn runtime_config(&self, manifest: &manifest::Manifest) -> Result<runtime_config::RuntimeConfig> {
        let data_dir = self.data_dir(manifest);
        match &self.runtime_config {
            Some(file) => runtime_config::RuntimeConfig::load(file, &data_dir),
            None => Ok(runtime_config::RuntimeConfig::defaults(&data_dir)),
        }
    }

    fn env_lookup(&self) -> impl Fn(&str) -> Option<String> + '_ {
        move |k: &str| match &self.env {
            Some(map) => map.get(k).cloned(),
            None => std::env::var(k).ok(),
        }
    }
}

/// A running host.
pub struct RunningHost {
    pub addr: SocketAddr,
    pub stats: Arc<Stats>,
    pub dev: Option<dev::DevIdentity>,
    /// The sample registry, when this start loaded it.
    pub sample: Option<sample::Sample>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningHost {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving and waits for the server thread.
    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Blocks until the server thread ends (Ctrl-C for `up`).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for RunningHost {
    fn drop(&mut self) {
        self.stop_inner();
    }
}

/// Loads the application and serves it on a thread of its own.
pub fn start(opts: &HostOptions) -> Result<RunningHost> {
    let manifest = manifest::Manifest::load(&opts.manifest)?;
    let data_dir = opts.data_dir(&manifest);
    std::fs::create_dir_all(&data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let env = opts.env_lookup();
    // The development identity is one set (its issuer with its pinned keys): naming another
    // issuer (`SPIN_VARIABLE_OIDC_ISSUER`) turns all of it off, so that issuer's own keys
    // are found (pinned development keys beside a real issuer refuse every token it signs).
    let other_issuer = env("SPIN_VARIABLE_OIDC_ISSUER").is_some();
    // Bound first: the development issuer is this host's own address.
    let std_listener =
        std::net::TcpListener::bind(opts.listen).with_context(|| format!("listening on {}", opts.listen))?;
    std_listener.set_nonblocking(true)?;
    let addr = std_listener.local_addr()?;
    let dev = match opts.dev && !other_issuer {
        true => Some(dev::DevIdentity::serving_at(&data_dir, addr.port())?),
        false => None,
    };
    let overrides = dev.as_ref().map(|d| d.variable_defaults()).unwrap_or_default();
    let variables = manifest::resolve_variables(&manifest.variables, &env, &overrides)?;
    // The dev identity is only offered when it is the issuer actually in force.
    let dev = dev.filter(|d| {
        variables.get("oidc_issuer") == Some(&d.issuer) && variables.get("oidc_jwks").is_some_and(|j| *j == d.jwks)
    });
    // Only with the development identity in force: its superadmin and members see the data.
    let config = opts.runtime_config(&manifest)?;
    // The sample and `--sqlite` write the database file directly: a local one only (a
    // shared database is the deployment's, loaded with its own tools).
    let local = config.local_default_database().map(Path::to_path_buf);
    let sample = match (&dev, &local) {
        (Some(_), Some(db)) if opts.sample => sample::load_if_empty(db)?,
        _ => None,
    };
    let stats = Arc::new(Stats::default());
    let app = Arc::new(App::load(
        &manifest,
        &variables,
        &data_dir,
        config,
        &opts.components,
        &opts.guest_env,
        stats.clone(),
    )?);
    if !opts.sqlite.is_empty() {
        let Some(db) = &local else {
            anyhow::bail!("--sqlite runs against a local default database; the runtime config names a remote one");
        };
        let conn = rusqlite::Connection::open(db)?;
        for s in &opts.sqlite {
            let sql = match s.strip_prefix('@') {
                Some(file) => std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?,
                None => s.clone(),
            };
            conn.execute_batch(&sql).with_context(|| format!("--sqlite {s}"))?;
        }
    }
    // The development Identity Service, for the console's client as the variables name it.
    let idp = dev.as_ref().map(|d| {
        let var = |n: &str| variables.get(n).cloned().unwrap_or_default();
        Arc::new(dev_idp::DevIdp::new(
            d.clone(),
            addr.port(),
            &var("oidc_audience"),
            &var("account_client_id"),
            &var("account_client_secret"),
        ))
    });
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new().name("ryd-host".into()).spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).expect("a listener");
            let mut rx = rx;
            loop {
                tokio::select! {
                    _ = &mut rx => break,
                    accepted = listener.accept() => {
                        let Ok((stream, client)) = accepted else { continue };
                        // Spin leaves Nagle's algorithm on (its trigger never sets
                        // TCP_NODELAY): so does this host, so that a response written in
                        // pieces costs here what it costs there.
                        let (app, idp) = (app.clone(), idp.clone());
                        tokio::spawn(async move {
                            let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                                let (app, idp) = (app.clone(), idp.clone());
                                async move {
                                    let response = match idp.filter(|_| dev_idp::serves(req.uri().path())) {
                                        Some(idp) => dev_idp::serve(&idp, req).await,
                                        None => app.handle(req, client).await,
                                    };
                                    Ok::<_, std::convert::Infallible>(response)
                                }
                            });
                            let _ = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service).await;
                        });
                    }
                }
            }
        });
    })?;
    Ok(RunningHost { addr, stats, dev, sample, shutdown: Some(tx), thread: Some(thread) })
}
