//! Real Spin (`spin up`) as a child process, for the benchmark and the end-to-end tests:
//! the same `spin.toml` and `.wasm` files, measured and tested on the host they deploy to.

use anyhow::{bail, Context, Result};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `spin up`, killed when dropped.
pub struct SpinProcess {
    child: Child,
    pub addr: SocketAddr,
}

impl SpinProcess {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The CPU time Spin has spent so far (`spin up` and the `spin trigger http` it runs).
    pub fn cpu(&self) -> Result<std::time::Duration> {
        crate::cpu::process_group(self.child.id())
    }
}

/// `spin up` runs the application in a child process of its own (`spin trigger http`):
/// killing `spin up` alone leaves that one serving. So `spin up` is started in a process
/// group of its own, and the whole group is stopped: SIGTERM first (Spin shuts down
/// cleanly), SIGKILL after five seconds.
impl Drop for SpinProcess {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let signal = |sig: &str| {
            let _ = Command::new("kill").args([sig, "--", &group]).stderr(Stdio::null()).status();
        };
        signal("-TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        signal("-KILL");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `spin up -f MANIFEST --state-dir STATE` on a free loopback port, with `env` (the
/// `SPIN_VARIABLE_*` values); returns once it accepts connections.
pub fn up<'a>(
    spin: &Path,
    manifest: &Path,
    state: &Path,
    env: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Result<SpinProcess> {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let mut cmd = Command::new(spin);
    cmd.args(["up", "--quiet", "-f"])
        .arg(manifest)
        .arg("--listen")
        .arg(addr.to_string())
        .arg("--state-dir")
        .arg(state)
        .arg("--log-dir")
        .arg(state.join("logs"))
        .envs(env)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .process_group(0);
    let child = cmd.spawn().with_context(|| format!("starting {}", spin.display()))?;
    let mut p = SpinProcess { child, addr };
    // Spin compiles the components on start (a few seconds; it caches them).
    let deadline = Instant::now() + Duration::from_secs(180);
    while Instant::now() < deadline {
        if let Some(status) = p.child.try_wait()? {
            bail!("spin up exited ({status}) before listening");
        }
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(p);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("spin up did not listen on {addr} within 180 s")
}
