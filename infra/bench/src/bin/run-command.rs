//! Runs a `wasi:cli` command component (WASI 0.2) with the process's arguments and stdio,
//! on the same engine settings as the host: for measuring code inside wasm (e.g. crypto).
//!
//! `cargo run --release -p ryd-bench --bin run-command -- FILE.wasm [ARGS...]`

use anyhow::{Context, Result};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::p2::bindings::sync::Command;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

struct State {
    ctx: WasiCtx,
    table: ResourceTable,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.ctx, table: &mut self.table }
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let file = args.first().context("usage: run-command FILE.wasm [ARGS...]")?;
    let engine = Engine::new(&Config::new())?;
    let component = Component::from_file(&engine, file)?;
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    let ctx = WasiCtx::builder().inherit_stdio().args(&args).build();
    let mut store = Store::new(&engine, State { ctx, table: ResourceTable::new() });
    let command = Command::instantiate(&mut store, &component, &linker)?;
    command.wasi_cli_run().call_run(&mut store)?.map_err(|()| anyhow::anyhow!("the command failed"))
}
