//! Email in the end-to-end tests: a real SMTP server (aiosmtpd, `tests/smtp_sink.py`) that
//! records what it accepted, and `ryd-host deliver` as an operator runs it.

use crate::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const FROM: &str = "IATI Registry <no-reply@registry.test>";

/// A real SMTP server writing each accepted message to `dir` as JSON.
pub struct Sink {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Sink {
    pub fn start(dir: &Path, delay_seconds: f64) -> Sink {
        Self::start_on(dir, delay_seconds, None)
    }

    /// On `port` when given (a relay that comes up where the worker already looks).
    pub fn start_on(dir: &Path, delay_seconds: f64, port: Option<u16>) -> Sink {
        std::fs::create_dir_all(dir).expect("the sink's directory");
        let python = python();
        let command = |port: u16| {
            let mut cmd = Command::new(&python);
            cmd.arg(root().join("tests/smtp_sink.py"))
                .arg(port.to_string())
                .arg(dir)
                .arg(delay_seconds.to_string())
                .stdout(Stdio::null());
            cmd
        };
        let (child, port) = match port {
            Some(p) => {
                let child = command(p).spawn().expect("the SMTP server starts");
                wait_for(Duration::from_secs(20), "the SMTP server to listen", || {
                    std::net::TcpStream::connect(("127.0.0.1", p)).is_ok()
                });
                (child, p)
            }
            None => start_on_free_port("aiosmtpd (the tests' Python)", command),
        };
        Sink { child, port, dir: dir.to_path_buf() }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// What it accepted, in order.
    pub fn messages(&self) -> Vec<Value> {
        records(&self.dir)
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a test server recorded in `dir`, oldest first: its JSON files named by the time
/// they were written (`<nanoseconds>….json`; a file being written starts with a dot, and
/// `secrets.json` is the webhook receiver's input).
fn records(dir: &Path) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the server's directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.') || n == "secrets.json")
        })
        .collect();
    files.sort();
    files.iter().map(|f| serde_json::from_str(&std::fs::read_to_string(f).expect("a record")).expect("JSON")).collect()
}

pub fn wait_for(within: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "waited {within:?} for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `ryd-host`, built once per test process (a worker must be a process of its own: the
/// fault tests kill it).
pub fn ryd_host() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let status = cargo().args(["build", "--release", "--quiet", "-p", "ryd-host"]).status().expect("cargo");
            assert!(status.success(), "ryd-host builds");
            root().join("target/release/ryd-host")
        })
        .clone()
}

/// `ryd-host deliver` on `data`'s database (or `runtime_config`'s) and `smtp`, with `extra`
/// options.
pub fn deliver(data: &Path, runtime_config: Option<&Path>, smtp: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new(ryd_host());
    cmd.current_dir(root())
        .args(["deliver", "--state-dir"])
        .arg(data)
        .args(["--smtp", smtp, "--from", FROM])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(data.join(format!("deliver-{}.log", now_nanos()))).expect("a log"));
    if let Some(f) = runtime_config {
        cmd.arg("--runtime-config-file").arg(f);
    }
    cmd
}

pub fn now_nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_nanos()
}

/// Runs one `deliver --once`; what it printed.
pub fn deliver_once(data: &Path, runtime_config: Option<&Path>, smtp: &str, extra: &[&str]) -> String {
    let out = deliver(data, runtime_config, smtp, &[&["--once"], extra].concat()).output().expect("ryd-host runs");
    assert!(out.status.success(), "deliver --once failed (see {}/deliver-*.log)", data.display());
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub fn join(c: &Client, who: &Who, oid: &str) {
    c.call(who, "POST", &format!("/api/v1/users/{}/reporting-org", who.uid), Some(json!({"oid": oid}))).expect(200);
}

pub fn text_of(m: &Value, field: &str) -> String {
    m[field].as_str().unwrap_or_default().to_string()
}

/// Every Message-ID the sink received, with how many times.
pub fn received_ids(sink: &Sink) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for m in sink.messages() {
        *seen.entry(text_of(&m, "message_id")).or_insert(0) += 1;
    }
    seen
}

/// A stand-in for Azure Communication Services Email that verifies each request's HMAC
/// signature with the access key, as ACS does (`tests/acs_receiver.py`): HTTP for the
/// application, HTTPS for Azure's SDK.
pub struct AcsReceiver {
    child: Child,
    pub http_port: u16,
    pub https_port: u16,
    dir: PathBuf,
}

impl AcsReceiver {
    pub fn start(dir: &Path, access_key: &str) -> AcsReceiver {
        std::fs::create_dir_all(dir).expect("the receiver's directory");
        let (http_port, https_port) = (free_port(), free_port());
        let child = Command::new(python())
            .arg(root().join("tests/acs_receiver.py"))
            .args([http_port.to_string(), https_port.to_string(), access_key.to_string()])
            .arg(dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("the ACS receiver starts");
        wait_for(Duration::from_secs(30), "the ACS receiver to listen", || {
            std::net::TcpStream::connect(("127.0.0.1", http_port)).is_ok()
                && std::net::TcpStream::connect(("127.0.0.1", https_port)).is_ok()
        });
        AcsReceiver { child, http_port, https_port, dir: dir.to_path_buf() }
    }

    /// What it received, in order: path, headers, body, and whether (and why not) it verified.
    pub fn requests(&self) -> Vec<Value> {
        records(&self.dir)
    }

    /// Sends `message` (ACS's JSON) with Azure's own SDK to the HTTPS side, signed with `key`;
    /// what the script printed (`sent`, or `refused: …`).
    pub fn send_with_azure_sdk(&self, key: &str, message: &Value) -> String {
        let out = Command::new(python())
            .arg(root().join("tests/acs_sdk_send.py"))
            .arg(format!("https://127.0.0.1:{}", self.https_port))
            .arg(key)
            .arg(message.to_string())
            .output()
            .expect("the SDK's script runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for AcsReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tool's webhook endpoint that checks every delivery with the Standard Webhooks reference
/// library (`tests/webhook_receiver.py`) against the secrets it is given.
pub struct WebhookReceiver {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl WebhookReceiver {
    pub fn start(dir: &Path) -> WebhookReceiver {
        std::fs::create_dir_all(dir).expect("the receiver's directory");
        let python = python();
        let (child, port) = start_on_free_port("the webhook receiver (the tests' Python)", |port| {
            let mut cmd = Command::new(&python);
            cmd.arg(root().join("tests/webhook_receiver.py")).arg(port.to_string()).arg(dir).stdout(Stdio::null());
            cmd
        });
        WebhookReceiver { child, port, dir: dir.to_path_buf() }
    }

    /// The secrets deliveries are checked against, by name.
    pub fn trust(&self, secrets: &[(&str, &str)]) {
        let map: serde_json::Map<String, Value> =
            secrets.iter().map(|(n, s)| (n.to_string(), Value::from(*s))).collect();
        std::fs::write(self.dir.join("secrets.json"), Value::Object(map).to_string()).expect("secrets written");
    }

    /// What it received, in order: headers, body, and the names of the secrets it verified with.
    pub fn deliveries(&self) -> Vec<Value> {
        records(&self.dir)
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
