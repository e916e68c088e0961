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

/// Removes what cargo sets for the package it is building or running (one definition,
/// `cargo up`'s).
pub use ryd_up::without_package_env;
