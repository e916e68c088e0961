//! Compiles `tests/spin.rs`'s suites (the end-to-end tests on real Spin) only where a Spin
//! binary exists: `RYD_SPIN`, or `../shared/tools/spin/spin` beside the project.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(real_spin)");
    println!("cargo::rerun-if-env-changed=RYD_SPIN");
    let beside = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/tools/spin/spin");
    println!("cargo::rerun-if-changed={}", beside.display());
    let given = std::env::var_os("RYD_SPIN").map(std::path::PathBuf::from);
    if given.as_deref().unwrap_or(&beside).is_file() {
        println!("cargo::rustc-cfg=real_spin");
    }
}
