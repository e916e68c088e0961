//! `build`: each component's `build.command`, as `spin build` runs them.

use crate::manifest::Manifest;
use anyhow::{bail, Context, Result};
use std::process::Command;

pub fn build(manifest: &Manifest) -> Result<()> {
    for (id, c) in &manifest.components {
        let Some(b) = &c.build else { continue };
        let dir = b.workdir.as_ref().map(|w| manifest.dir.join(w)).unwrap_or_else(|| manifest.dir.clone());
        eprintln!("Building component {id}: {}", b.command);
        let mut cmd = Command::new("sh");
        without_package_env(&mut cmd);
        let status = cmd
            .arg("-c")
            .arg(&b.command)
            .current_dir(&dir)
            .status()
            .with_context(|| format!("running the build command of {id}"))?;
        if !status.success() {
            bail!("the build command of component {id} failed ({status})");
        }
    }
    Ok(())
}

/// Removes what cargo sets for the package it is building or running (`cargo run`, a test):
/// a cargo started with those rebuilds every crate whose build script watches them (ring's
/// watches `CARGO_MANIFEST_DIR`), and the next plain `cargo` rebuilds them back.
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
