//! The application at run time: one engine, each component compiled once and
//! pre-instantiated, and a fresh instance per request, as Spin does.

use crate::manifest::{expand, Manifest};
use crate::outbound::{AllowedHost, OutboundPolicy};
use crate::router::Router;
use crate::runtime_config::RuntimeConfig;
use crate::spin::{AppStores, ComponentGrants, OpenDatabases, SpinCtx};
use crate::stats::Stats;
use anyhow::{bail, Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{CallHook, Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

/// Everything one request's instance can reach.
pub struct RequestState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: Hooks,
    spin: SpinCtx,
    /// When the guest last started running (the call hook's CPU-time accounting).
    guest_entered: Option<Instant>,
}

impl WasiView for RequestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for RequestState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.hooks }
    }
}

/// Outgoing HTTP, refused unless the component's `allowed_outbound_hosts` allows it.
struct Hooks {
    component: Arc<str>,
    policy: Arc<OutboundPolicy>,
    stats: Arc<Stats>,
    /// This request's databases: a call out while one holds a transaction is counted.
    open: OpenDatabases,
}

type SendResult = wasmtime_wasi_http::Result<(
    http::Response<wasmtime_wasi_http::WasiBody>,
    Box<dyn std::future::Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
)>;

impl WasiHttpHooks for Hooks {
    fn send_request(
        &mut self,
        request: http::Request<wasmtime_wasi_http::WasiBody>,
        options: Option<wasmtime_wasi_http::RequestOptions>,
        fut: Box<dyn std::future::Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> Box<dyn std::future::Future<Output = SendResult> + Send> {
        drop(fut);
        if !self.policy.allows_uri(request.uri()) {
            self.stats.outbound_denied.fetch_add(1, Ordering::Relaxed);
            eprintln!(
                "[{}] outbound request to {} denied: not in allowed_outbound_hosts",
                self.component,
                request.uri()
            );
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        self.stats.outbound_requests.fetch_add(1, Ordering::Relaxed);
        if self.open.in_transaction() {
            self.stats.outbound_in_transaction.fetch_add(1, Ordering::Relaxed);
            eprintln!("[{}] outbound request to {} with a database transaction open", self.component, request.uri());
        }
        Box::new(async move {
            let (res, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((res.map(BodyExt::boxed_unsync), Box::new(io) as Box<dyn std::future::Future<Output = _> + Send>))
        })
    }
}

struct LoadedComponent {
    id: Arc<str>,
    pre: ProxyPre<RequestState>,
    grants: Arc<ComponentGrants>,
    policy: Arc<OutboundPolicy>,
    /// Its WASI environment: spin.toml's `environment`, then `--env`.
    environment: Arc<Vec<(String, String)>>,
}

pub struct App {
    engine: Engine,
    router: Router,
    /// Route index → component index.
    route_component: Vec<usize>,
    components: Vec<LoadedComponent>,
    stores: Arc<AppStores>,
    pub stats: Arc<Stats>,
}

pub fn engine() -> Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    // Instances come from preallocated slots: instantiation is a few microseconds.
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(256).total_core_instances(512).total_memories(256).total_tables(512);
    pool.max_memory_size(512 << 20);
    // As Spin's engine: reset the first pages of a memory and table by writing zeros
    // rather than returning them to the kernel, whose madvise costs every core a TLB
    // flush per request (seen in `perf`: 2-5% of a benchmark's time).
    pool.linear_memory_keep_resident(2 << 20).table_keep_resident(512 << 10);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    // As Spin's engine: epoch interruption (a check at every loop and call, which Spin
    // uses to bound a request's time; a ticker thread advances the epoch every 10 ms).
    config.epoch_interruption(true);
    // `RYD_HOST_PROFILE=perfmap` names the guests' compiled functions for `perf report`.
    if std::env::var("RYD_HOST_PROFILE").as_deref() == Ok("perfmap") {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    let engine = Engine::new(&config)?;
    let weak = engine.weak();
    std::thread::Builder::new().name("epoch-ticker".into()).spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_millis(10));
        match weak.upgrade() {
            Some(engine) => engine.increment_epoch(),
            None => break,
        }
    })?;
    Ok(engine)
}

/// Compiles a component, or loads the copy compiled before for the same engine and bytes.
fn compile(engine: &Engine, path: &Path, cache_dir: &Path) -> Result<Component> {
    let bytes =
        std::fs::read(path).with_context(|| format!("reading component {} (run the build first)", path.display()))?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    bytes.hash(&mut h);
    let cached = cache_dir.join(format!("{:016x}.cwasm", h.finish()));
    if cached.exists() {
        // SAFETY: the file was written by `precompile_component` of an engine with the
        // same compatibility hash, in the application's own `.spin/` directory.
        if let Ok(c) = unsafe { Component::deserialize_file(engine, &cached) } {
            return Ok(c);
        }
    }
    let compiled = engine
        .precompile_component(&bytes)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("compiling {}", path.display()))?;
    std::fs::create_dir_all(cache_dir).ok();
    let tmp = cached.with_extension("tmp");
    if std::fs::write(&tmp, &compiled).is_ok() {
        std::fs::rename(&tmp, &cached).ok();
    }
    // SAFETY: the bytes were produced just above by this engine.
    Ok(unsafe { Component::deserialize(engine, &compiled) }?)
}

impl App {
    pub fn load(
        manifest: &Manifest,
        variables: &BTreeMap<String, String>,
        data_dir: &Path,
        config: RuntimeConfig,
        only: &[String],
        guest_env: &[(String, String)],
        stats: Arc<Stats>,
    ) -> Result<App> {
        for id in only {
            if !manifest.components.contains_key(id) {
                bail!("--component-id {id}: the manifest has no such component");
            }
        }
        let serves = |id: &str| only.is_empty() || only.iter().any(|o| o == id);
        let engine = engine()?;
        let mut linker = Linker::<RequestState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        crate::spin::add_to_linker(&mut linker, |s: &mut RequestState| &mut s.spin)?;
        std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
        let stores = Arc::new(AppStores::new(config, stats.clone()));
        let mut components = Vec::new();
        let mut index = BTreeMap::new();
        for (id, c) in manifest.components.iter().filter(|(id, _)| serves(id)) {
            let component = compile(&engine, &c.source, &data_dir.join("cache"))?;
            let pre = linker
                .instantiate_pre(&component)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("component `{id}` imports something this host does not provide"))?;
            let pre = ProxyPre::new(pre)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("component `{id}` is not a wasi:http component"))?;
            let mut vars = BTreeMap::new();
            for (name, template) in &c.variables {
                vars.insert(
                    name.clone(),
                    expand(template, variables).with_context(|| format!("component `{id}`, variable `{name}`"))?,
                );
            }
            let mut allowed = Vec::new();
            for h in &c.allowed_outbound_hosts {
                let expanded =
                    expand(h, variables).with_context(|| format!("component `{id}`, allowed_outbound_hosts"))?;
                allowed.push(AllowedHost::parse(&expanded).with_context(|| format!("component `{id}`"))?);
            }
            let mut environment = c.environment.clone();
            environment.extend(guest_env.iter().cloned());
            index.insert(id.clone(), components.len());
            components.push(LoadedComponent {
                id: Arc::from(id.as_str()),
                pre,
                grants: Arc::new(ComponentGrants {
                    sqlite_databases: c.sqlite_databases.clone(),
                    key_value_stores: c.key_value_stores.clone(),
                    variables: vars,
                }),
                policy: Arc::new(OutboundPolicy { allowed }),
                environment: Arc::new(environment.into_iter().collect()),
            });
        }
        let routes: Vec<_> = manifest.routes.iter().filter(|r| serves(&r.component)).collect();
        let router = Router::new(routes.iter().map(|r| r.route.as_str()));
        let route_component = routes.iter().map(|r| index[&r.component]).collect();
        if routes.is_empty() {
            bail!("the manifest has no [[trigger.http]] routes");
        }
        Ok(App { engine, router, route_component, components, stores, stats })
    }

    /// Answers one request: route, set Spin's headers, instantiate, call the handler. A
    /// trap answers 500 and the host keeps serving.
    pub async fn handle(
        self: Arc<Self>,
        mut req: hyper::Request<hyper::body::Incoming>,
        client: SocketAddr,
    ) -> hyper::Response<HyperOutgoingBody> {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let path = req.uri().path().to_string();
        let Some(m) = self.router.route(&path) else {
            return plain(404, "Not Found");
        };
        let component = &self.components[self.route_component[m.index]];
        let pattern = self.router.pattern(m.index).raw.clone();
        let host =
            req.headers().get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost").to_string();
        let path_and_query = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| path.clone());
        let full_url = format!("http://{host}{path_and_query}");
        let component_route = pattern.strip_suffix("/...").unwrap_or(&pattern).to_string();
        let h = req.headers_mut();
        let mut set = |name: &str, value: &str| {
            if let (Ok(n), Ok(v)) = (http::HeaderName::from_bytes(name.as_bytes()), http::HeaderValue::from_str(value))
            {
                h.insert(n, v);
            }
        };
        set("spin-full-url", &full_url);
        set("spin-path-info", &m.path_info);
        set("spin-matched-route", &pattern);
        set("spin-raw-component-route", &pattern);
        set("spin-component-route", &component_route);
        set("spin-base-path", "/");
        set("spin-client-addr", &client.to_string());
        for (name, value) in &m.params {
            // As Spin names them: `:path_segment` → `spin-path-match-path-segment`.
            set(&format!("spin-path-match-{}", name.replace('_', "-").to_ascii_lowercase()), value);
        }
        // The guest sees an absolute URI, as under Spin.
        if let Ok(uri) = full_url.parse() {
            *req.uri_mut() = uri;
        }
        match self.clone().run(component, req).await {
            Ok(resp) => resp,
            Err(e) => {
                self.stats.traps.fetch_add(1, Ordering::Relaxed);
                eprintln!("[{}] request failed: {e:?}", component.id);
                plain(500, "Internal Server Error")
            }
        }
    }

    async fn run(
        self: Arc<Self>,
        component: &LoadedComponent,
        req: hyper::Request<hyper::body::Incoming>,
    ) -> Result<hyper::Response<HyperOutgoingBody>> {
        let id = component.id.clone();
        let wasi = WasiCtxBuilder::new()
            .envs(&component.environment)
            .stdout(crate::output::Prefixed::new(&id, false))
            .stderr(crate::output::Prefixed::new(&id, true))
            .build();
        let open = OpenDatabases::default();
        let state = RequestState {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: Hooks {
                component: id.clone(),
                policy: component.policy.clone(),
                stats: self.stats.clone(),
                open: open.clone(),
            },
            spin: SpinCtx {
                grants: component.grants.clone(),
                stores: self.stores.clone(),
                table: ResourceTable::new(),
                open,
            },
            guest_entered: None,
        };
        let mut store = Store::new(&self.engine, state);
        // As Spin: no deadline in practice, and (Spin's default `cpu-time-metrics`) a hook
        // on every crossing between guest and host that adds up the guest's CPU time.
        store.set_epoch_deadline(u64::MAX / 2);
        store.call_hook(|mut ctx, hook| {
            let state = ctx.data_mut();
            match hook {
                CallHook::CallingWasm | CallHook::ReturningFromHost => state.guest_entered = Some(Instant::now()),
                CallHook::ReturningFromWasm | CallHook::CallingHost => {
                    if let Some(t) = state.guest_entered.take() {
                        state
                            .spin
                            .stores
                            .stats
                            .guest_cpu_nanos
                            .fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
                    }
                }
            }
            Ok(())
        });
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let req = store
            .data_mut()
            .http()
            .new_incoming_request(wasmtime_wasi_http::p2::bindings::http::types::Scheme::Http, req)?;
        let out = store.data_mut().http().new_response_outparam(sender)?;
        let pre = component.pre.clone();
        let stats = self.stats.clone();
        let task = tokio::task::spawn(async move {
            let started = Instant::now();
            let proxy = pre.instantiate_async(&mut store).await?;
            stats.instantiate_nanos.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
            let result = proxy.wasi_http_incoming_handler().call_handle(&mut store, req, out).await;
            stats.guest_nanos.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
            result
        });
        match receiver.await {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(code)) => bail!("the component answered with an error: {code:?}"),
            Err(_) => match task.await {
                Ok(Ok(())) => bail!("the component returned without setting a response"),
                Ok(Err(e)) => Err(anyhow::Error::from(e).context("guest trapped")),
                Err(e) => Err(anyhow::anyhow!("guest task failed: {e}")),
            },
        }
    }

    /// The interfaces a component imports (for tests and `ryd-host imports`).
    pub fn imports_of(engine: &Engine, path: &Path) -> Result<Vec<String>> {
        let component = Component::from_file(engine, path)?;
        Ok(component.component_type().imports(engine).map(|(name, _)| name.to_string()).collect())
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

fn plain(status: u16, body: &'static str) -> hyper::Response<HyperOutgoingBody> {
    let body = Full::new(Bytes::from_static(body.as_bytes())).map_err(|never| match never {}).boxed_unsync();
    let mut r = hyper::Response::new(body);
    *r.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain"));
    r
}
