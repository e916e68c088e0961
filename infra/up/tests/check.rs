//! `cargo up`'s checks against toolchains made to lack the wasm target: with rustup they
//! add it, without it they fail at once in one line (the binary too, before any build).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A fresh directory under the test's target tmpdir.
fn dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("up-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A rustc whose wasm32-wasip2 standard library lives at `libdir` (which may not exist).
fn fake_rustc(d: &Path, libdir: &Path) -> PathBuf {
    let rustc = d.join("rustc");
    script(&rustc, &format!("echo {}", libdir.display()));
    rustc
}

#[test]
fn without_the_target_and_without_rustup_it_says_so_in_one_line() {
    let d = dir("no-rustup");
    let tools = ryd_up::Tools { rustc: fake_rustc(&d, &d.join("absent")), rustup: None, cc: "true".into() };
    let missing = ryd_up::check(&tools).unwrap_err().to_string();
    assert!(missing.contains("wasm32-wasip2") && !missing.contains('\n'), "{missing}");
}

#[test]
fn without_the_target_it_is_added_through_rustup() {
    let d = dir("rustup");
    let libdir = d.join("lib/rustlib/wasm32-wasip2/lib");
    let rustup = d.join("rustup");
    // rustup records what it was asked and installs the target's library directory.
    script(&rustup, &format!("echo \"$@\" > {}\nmkdir -p {}", d.join("asked").display(), libdir.display()));
    let tools = ryd_up::Tools { rustc: fake_rustc(&d, &libdir), rustup: Some(rustup.clone()), cc: "true".into() };
    assert_eq!(ryd_up::check(&tools).unwrap(), vec!["added the Rust target wasm32-wasip2".to_string()]);
    assert_eq!(std::fs::read_to_string(d.join("asked")).unwrap().trim(), "target add wasm32-wasip2");
    // Present now: nothing more to do, rustup not asked again.
    std::fs::remove_file(d.join("asked")).unwrap();
    assert!(ryd_up::check(&tools).unwrap().is_empty());
    assert!(!d.join("asked").exists());
}

#[test]
fn a_rustup_that_cannot_add_it_and_a_missing_c_compiler_are_named() {
    let d = dir("failing");
    let rustup = d.join("rustup");
    script(&rustup, "exit 1");
    let tools = ryd_up::Tools { rustc: fake_rustc(&d, &d.join("absent")), rustup: Some(rustup), cc: "true".into() };
    assert!(ryd_up::check(&tools).unwrap_err().to_string().contains("rustup target add wasm32-wasip2"));
    let present = d.join("present");
    std::fs::create_dir_all(&present).unwrap();
    let no_cc = ryd_up::Tools { rustc: fake_rustc(&d, &present), rustup: None, cc: d.join("no-cc") };
    assert!(ryd_up::check(&no_cc).unwrap_err().to_string().contains("C compiler"));
}

#[test]
fn cargo_up_fails_within_seconds_before_building_anything() {
    let d = dir("binary");
    let started = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ryd-up"))
        .env("RUSTC", fake_rustc(&d, &d.join("absent")))
        .env("PATH", &d) // no rustup, no cargo: it must stop before needing either
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(said.starts_with("error: cargo up: ") && said.contains("wasm32-wasip2"), "{said}");
}

#[test]
fn the_real_toolchain_passes() {
    // The toolchain this test was built with has the target (the components need it).
    assert!(ryd_up::check(&ryd_up::Tools::from_env()).is_ok());
}
