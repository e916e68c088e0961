//! What `cargo up` checks before the long build, and how it starts the host.
//!
//! The host takes minutes to compile on a small machine; a prerequisite found missing only
//! after that (the components' `wasm32-wasip2` target, when the pinned toolchain was
//! installed without it and so rustup added nothing) wastes them. This crate has no
//! dependencies: it builds in about a second and checks first.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The target the components are built for (`spin.toml`'s build commands).
pub const WASM_TARGET: &str = "wasm32-wasip2";

/// A prerequisite and what to do about it, said in one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing(pub String);

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The tools the checks run, so that tests can point them elsewhere.
#[derive(Debug, Clone)]
pub struct Tools {
    /// `rustc` as cargo would run it (`$RUSTC`, else `rustc` on the PATH).
    pub rustc: PathBuf,
    /// `rustup`, when it is installed.
    pub rustup: Option<PathBuf>,
    /// The C compiler the host's SQLite is built with (`$CC`, else `cc`).
    pub cc: PathBuf,
}

impl Tools {
    /// As cargo would find them from this environment.
    pub fn from_env() -> Tools {
        let var = |name: &str, default: &str| std::env::var_os(name).map_or_else(|| default.into(), PathBuf::from);
        Tools { rustc: var("RUSTC", "rustc"), rustup: on_path("rustup"), cc: var("CC", "cc") }
    }
}

/// Where `program` is on the PATH.
fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(program)).find(|p| p.is_file())
}

fn runs(program: &Path, args: &[&str]) -> bool {
    Command::new(program).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Whether `rustc` has the standard library for `target`: its target libdir exists.
pub fn has_target(rustc: &Path, target: &str) -> Result<bool, Missing> {
    let out = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", target])
        .stderr(Stdio::null())
        .output()
        .map_err(|e| {
            Missing(format!("cannot run {} ({e}): install Rust with rustup (https://rustup.rs)", rustc.display()))
        })?;
    if !out.status.success() {
        // A rustc that does not know the target at all.
        return Ok(false);
    }
    let libdir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok(!libdir.is_empty() && Path::new(&libdir).is_dir())
}

/// Every check, fixing what rustup can fix (`rustup target add`, into the toolchain
/// `rust-toolchain.toml` pins, which rustup picks from the working directory). `Ok` lists
/// what was done; `Err` is the first thing missing, in one line.
pub fn check(tools: &Tools) -> Result<Vec<String>, Missing> {
    let mut done = Vec::new();
    if !has_target(&tools.rustc, WASM_TARGET)? {
        let Some(rustup) = &tools.rustup else {
            return Err(Missing(format!(
                "the Rust target {WASM_TARGET} is not installed and there is no rustup to add it: install it with your Rust (its rust-std for {WASM_TARGET}), or use rustup"
            )));
        };
        eprintln!("Adding the Rust target {WASM_TARGET} (rustup target add {WASM_TARGET}) …");
        if !runs(rustup, &["target", "add", WASM_TARGET]) || !has_target(&tools.rustc, WASM_TARGET)? {
            return Err(Missing(format!(
                "the Rust target {WASM_TARGET} is missing and `rustup target add {WASM_TARGET}` did not add it: run it yourself to see why"
            )));
        }
        done.push(format!("added the Rust target {WASM_TARGET}"));
    }
    if !runs(&tools.cc, &["--version"]) {
        return Err(Missing(format!(
            "no C compiler ({}): the host builds SQLite from C; install one (apt install gcc, or set CC)",
            tools.cc.display()
        )));
    }
    Ok(done)
}

/// Removes what cargo sets for the package it is building or running (`cargo run`, a test):
/// a cargo started with those rebuilds every crate whose build script watches them, and
/// the next plain `cargo` rebuilds them back.
pub fn without_package_env(cmd: &mut Command) -> &mut Command {
    const SET_PER_PACKAGE: &[&str] = &["CARGO_PKG_", "CARGO_CRATE_", "CARGO_BIN_", "CARGO_MANIFEST_"];
    const SET_EXACTLY: &[&str] = &["CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR", "OUT_DIR"];
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if SET_PER_PACKAGE.iter().any(|p| k.starts_with(p)) || SET_EXACTLY.contains(&k.as_ref()) {
            cmd.env_remove(k.as_ref());
        }
    }
    cmd
}
