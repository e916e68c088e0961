//! `cargo up [ARGS]`: the checks of [`ryd_up::check`], then
//! `cargo run --release -p ryd-host -- up --build --dev ARGS`.
//! `--check` alone runs the checks and stops.

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match ryd_up::check(&ryd_up::Tools::from_env()) {
        Ok(done) => done.iter().for_each(|d| eprintln!("cargo up: {d}")),
        Err(missing) => {
            eprintln!("error: cargo up: {missing}");
            return ExitCode::FAILURE;
        }
    }
    if args.iter().any(|a| a == "--check") {
        return ExitCode::SUCCESS;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    ryd_up::without_package_env(&mut cmd).args(["run", "--release", "-p", "ryd-host", "--", "up", "--build", "--dev"]);
    // In place of this process (as `cargo run` runs its binary), so that stopping
    // `cargo up` (Ctrl-C, a test's kill) stops the host, not only a parent of it.
    let e = cmd.args(&args).exec();
    eprintln!("error: cargo up: cannot run cargo: {e}");
    ExitCode::FAILURE
}
