//! Real Spin (`spin up`) as a child process, for the benchmark and the end-to-end tests:
//! the same `spin.toml` and `.wasm` files, measured and tested on the host they deploy to.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader};
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

    /// `spin up`'s process id, which is also its process group's (the `spin trigger http`
    /// it runs is in it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// `spin up` runs the application in a child process of its own (`spin trigger http`):
/// killing `spin up` alone leaves that one serving. So `spin up` is started in a process
/// group of its own, and the whole group is stopped: SIGTERM first (Spin shuts down
/// cleanly), SIGKILL after five seconds.
impl Drop for SpinProcess {
    fn drop(&mut self) {
        stop_group(&mut self.child);
    }
}

/// Stops `child`, started with `process_group(0)`, and every process of its group: SIGTERM
/// first (a clean shutdown), SIGKILL after five seconds.
pub(crate) fn stop_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    let signal = |sig: &str| {
        let _ = Command::new("kill").args([sig, "--", &group]).stderr(Stdio::null()).status();
    };
    signal("-TERM");
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    signal("-KILL");
    let _ = child.kill();
    let _ = child.wait();
}

/// `spin up -f MANIFEST --state-dir STATE` on a loopback port Spin chooses itself, with
/// `env` (the `SPIN_VARIABLE_*` values) in its process environment and `guest_env` given to
/// every component (`--env`); returns once it accepts connections, at the
/// address it printed. (A port chosen here and left free until Spin bound it could be
/// taken meanwhile by any other server started on this machine, and the check that Spin
/// listens would then reach that server instead.)
pub fn up<'a>(
    spin: &Path,
    manifest: &Path,
    state: &Path,
    env: impl IntoIterator<Item = (&'a String, &'a String)>,
    guest_env: &[(String, String)],
) -> Result<SpinProcess> {
    up_with(spin, manifest, state, None, env, guest_env)
}

/// [`up`] with Spin's runtime configuration (`--runtime-config-file`: libSQL, Redis).
pub fn up_with<'a>(
    spin: &Path,
    manifest: &Path,
    state: &Path,
    runtime_config: Option<&Path>,
    env: impl IntoIterator<Item = (&'a String, &'a String)>,
    guest_env: &[(String, String)],
) -> Result<SpinProcess> {
    let mut cmd = Command::new(spin);
    cmd.arg("up");
    if let Some(file) = runtime_config {
        cmd.arg("--runtime-config-file").arg(file);
    }
    cmd.args(["--quiet", "-f"])
        .arg(manifest)
        .args(["--listen", "127.0.0.1:0"])
        .arg("--state-dir")
        .arg(state)
        .arg("--log-dir")
        .arg(state.join("logs"))
        .envs(env)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .process_group(0);
    for (k, v) in guest_env {
        cmd.arg("--env").arg(format!("{k}={v}"));
    }
    let mut child = cmd.spawn().with_context(|| format!("starting {}", spin.display()))?;
    let stdout = child.stdout.take().context("spin up's stdout")?;
    // Spin prints `Serving http://ADDR` once it listens (it compiles the components first:
    // a few seconds, cached after); the rest of its output is read and dropped, so that a
    // full pipe never blocks it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines().map_while(std::io::Result::ok) {
            if !sent {
                if let Some(addr) = line.trim().strip_prefix("Serving http://").and_then(|a| a.parse().ok()) {
                    let _ = tx.send(addr);
                    sent = true;
                }
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut p = SpinProcess { child, addr: SocketAddr::from(([127, 0, 0, 1], 0)) };
    while Instant::now() < deadline {
        if let Some(status) = p.child.try_wait()? {
            bail!("spin up exited ({status}) before listening");
        }
        if let Ok(addr) = rx.recv_timeout(Duration::from_millis(50)) {
            p.addr = addr;
            return Ok(p);
        }
    }
    bail!("spin up did not say where it listens within 180 s")
}
