//! Varnish (Debian's `varnish`) as a child process in front of a server, with the
//! deployment's own configuration (`infra/deploy/varnish/register-your-data.vcl`): the
//! shared cache the end-to-end tests and the benchmark put in front of the public reads.

use crate::real_spin::stop_group;
use anyhow::{bail, Context, Result};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A running `varnishd`, stopped (with its cache process) when dropped.
pub struct Varnish {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Varnish {
    /// `varnishd` with `vcl` (whose backend, `127.0.0.1:3000` as shipped, becomes
    /// `backend`), its working files under `dir`, on a loopback port it chooses itself;
    /// returns once it says where it listens.
    pub fn start(vcl: &Path, backend: SocketAddr, dir: &Path) -> Result<Varnish> {
        let shipped = std::fs::read_to_string(vcl).with_context(|| format!("reading {}", vcl.display()))?;
        let pointed = shipped
            .replace(".host = \"127.0.0.1\";", &format!(".host = \"{}\";", backend.ip()))
            .replace(".port = \"3000\";", &format!(".port = \"{}\";", backend.port()));
        if pointed == shipped {
            bail!("{} names no backend at 127.0.0.1:3000 to point at {backend}", vcl.display());
        }
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let file = dir.join("register-your-data.vcl");
        std::fs::write(&file, pointed)?;
        let work = dir.join("work");
        let log = std::fs::File::create(dir.join("varnishd.log"))?;
        let mut child = Command::new("varnishd")
            .args(["-F", "-a", "127.0.0.1:0", "-f"])
            .arg(&file)
            .arg("-n")
            .arg(&work)
            .args(["-s", "malloc,256m"])
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .context("starting varnishd (apt install varnish)")?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait()? {
                bail!("varnishd exited ({status}); see {}", dir.join("varnishd.log").display());
            }
            // `a0 127.0.0.1 PORT` once the cache process listens.
            let said = Command::new("varnishadm").arg("-n").arg(&work).arg("debug.listen_address").output();
            let port = said.ok().and_then(|o| {
                String::from_utf8_lossy(&o.stdout).split_whitespace().nth(2).and_then(|p| p.parse::<u16>().ok())
            });
            if let Some(port) = port {
                return Ok(Varnish { child, addr: SocketAddr::from(([127, 0, 0, 1], port)) });
            }
            if Instant::now() > deadline {
                stop_group(&mut child);
                bail!("varnishd did not say where it listens within 30 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Varnish {
    fn drop(&mut self) {
        stop_group(&mut self.child);
    }
}
