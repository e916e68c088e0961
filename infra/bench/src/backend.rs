//! The servers a benchmark loads: the application and its floor on the project's host, on
//! real Spin, or on the host over libSQL and Redis, and the processes they need.

use anyhow::{Context, Result};
use ryd_host::real_spin::SpinProcess;
use ryd_host::stats::Stats;
use ryd_host::RunningHost;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// One server of the application and one of the baselines.
pub struct Backend {
    pub label: &'static str,
    pub app: SocketAddr,
    pub base: SocketAddr,
    /// The host's counters (real Spin has none we can read).
    pub stats: Option<Arc<Stats>>,
    /// The CPU time the servers have spent so far, the load generator's left out.
    pub cpu: Box<dyn Fn() -> Result<Duration>>,
    pub _hosts: Vec<RunningHost>,
    pub _spin: Vec<Arc<SpinProcess>>,
    /// Servers the backend runs on (sqld and Redis), killed when it ends.
    pub _children: Vec<Children>,
    /// Varnish in front of `app`, with the deployment's configuration.
    pub cache: Option<ryd_host::varnish::Varnish>,
}

/// Child processes killed on drop.
pub struct Children(pub Vec<std::process::Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Starts `cmd` and waits until it listens on `port`.
pub fn listening(mut cmd: std::process::Command, port: u16, what: &str) -> Result<std::process::Child> {
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .with_context(|| format!("starting {what}"))?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("{what} exited: {status}");
        }
        anyhow::ensure!(std::time::Instant::now() < deadline, "{what} did not listen on {port}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Ok(child)
}

pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
