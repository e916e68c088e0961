//! A small load generator for the benchmarks: keep-alive HTTP/1.1 over loopback, one
//! thread per connection, latencies per request.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One keep-alive HTTP/1.1 connection.
pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

pub struct Answer {
    pub status: u16,
    pub auth_ms: Option<f64>,
    /// From `Server-Timing: auth;desc=…`: whether the token came from the cache.
    pub cache_hit: Option<bool>,
    pub etag: Option<String>,
    /// A shared cache's `Age` (seconds since the origin answered).
    pub age: Option<u64>,
    pub body: Vec<u8>,
}

impl Conn {
    pub fn open(addr: SocketAddr) -> Result<Self> {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        Ok(Conn { reader: BufReader::new(s.try_clone()?), writer: s })
    }

    pub fn send(&mut self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Result<Answer> {
        self.send_with(method, path, token, &[], body)
    }

    /// [`Conn::send`] with more request headers.
    pub fn send_with(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Result<Answer> {
        let mut req = format!("{method} {path} HTTP/1.1\r\nhost: bench\r\n");
        if let Some(t) = token {
            req.push_str(&format!("authorization: Bearer {t}\r\n"));
        }
        for (name, value) in headers {
            req.push_str(&format!("{name}: {value}\r\n"));
        }
        let body = body.unwrap_or("");
        req.push_str(&format!("content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len()));
        self.writer.write_all(req.as_bytes())?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 = line.split(' ').nth(1).context("a status line")?.parse()?;
        let (mut length, mut chunked, mut auth_ms, mut cache_hit, mut etag, mut age) =
            (None, false, None, None, None, None);
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (name, value) = l.split_once(':').unwrap_or((l, ""));
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse::<usize>().ok(),
                "transfer-encoding" => chunked = value.contains("chunked"),
                "etag" => etag = Some(value.trim().to_string()),
                "age" => age = value.trim().parse().ok(),
                "server-timing" => {
                    auth_ms = value.split("dur=").nth(1).and_then(|d| d.split(';').next()?.trim().parse().ok());
                    cache_hit = value.split("desc=").nth(1).map(|d| d.trim_matches('"').starts_with("token cache hit"));
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.reader.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim(), 16)?;
                let mut chunk = vec![0; size + 2];
                self.reader.read_exact(&mut chunk)?;
                if size == 0 {
                    break;
                }
                out.extend_from_slice(&chunk[..size]);
            }
        } else if let Some(n) = length {
            out.resize(n, 0);
            self.reader.read_exact(&mut out)?;
        }
        Ok(Answer { status, auth_ms, cache_hit, etag, age, body: out })
    }
}

/// A request to make; `token` is called for each request (a fixed or a new token).
pub struct Scenario {
    pub name: &'static str,
    pub method: &'static str,
    /// `{n}` in it becomes a number no earlier request of this process had (a path not
    /// asked before).
    pub path: String,
    pub body: Option<String>,
    pub token: Arc<dyn Fn(u64) -> Option<String> + Send + Sync>,
    /// More request headers (a browser's cookie).
    pub headers: Vec<(String, String)>,
    /// The status every answer must have.
    pub expect: u16,
    /// Count `503` answers (the API's "retry shortly") instead of stopping at the first:
    /// for servers that answer so under load (libSQL ends transactions it held too long).
    pub count_unavailable: bool,
}

pub struct Measured {
    pub rps: f64,
    pub p50: f64,
    pub p99: f64,
    pub auth_ms: Option<f64>,
    /// Answers whose token came from the verified-token cache, and those verified in full.
    pub cache_hits: usize,
    pub cache_misses: usize,
    /// `503` answers, with `count_unavailable`.
    pub unavailable: usize,
}

/// One answered request, as the load thread saw it.
struct Sample {
    latency: Duration,
    auth_ms: Option<f64>,
    cache_hit: Option<bool>,
    unavailable: bool,
}

/// The numbers `{n}` becomes.
static FRESH: AtomicU64 = AtomicU64::new(0);

/// CPU time of every load thread so far (ns): this process's CPU less this is the host's,
/// when the host runs in the same process.
static CLIENT_CPU_NS: AtomicU64 = AtomicU64::new(0);

/// The CPU time the load generator's threads have spent so far, in this process.
pub fn client_cpu() -> Duration {
    Duration::from_nanos(CLIENT_CPU_NS.load(Ordering::Relaxed))
}

pub fn run(addr: SocketAddr, s: &Scenario, concurrency: usize, total: usize) -> Result<Measured> {
    let per = total.div_ceil(concurrency);
    let started = Instant::now();
    let mut handles = Vec::new();
    for worker in 0..concurrency {
        let (method, path, body, token, expect) = (s.method, s.path.clone(), s.body.clone(), s.token.clone(), s.expect);
        let count_unavailable = s.count_unavailable;
        let headers = s.headers.clone();
        handles.push(std::thread::spawn(move || -> Result<Vec<Sample>> {
            let mut conn = Conn::open(addr)?;
            let mut samples = Vec::with_capacity(per);
            for i in 0..per {
                let t = token((worker * per + i) as u64);
                let path = path.replace("{n}", &FRESH.fetch_add(1, Ordering::Relaxed).to_string());
                let t0 = Instant::now();
                let extra: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
                let a = conn.send_with(method, &path, t.as_deref(), &extra, body.as_deref())?;
                let latency = t0.elapsed();
                let unavailable = count_unavailable && a.status == 503;
                if a.status != expect && !unavailable {
                    bail!("{method} {path}: status {} {}", a.status, String::from_utf8_lossy(&a.body));
                }
                samples.push(Sample { latency, auth_ms: a.auth_ms, cache_hit: a.cache_hit, unavailable });
            }
            CLIENT_CPU_NS.fetch_add(crate::cpu::this_thread().as_nanos() as u64, Ordering::Relaxed);
            Ok(samples)
        }));
    }
    let mut samples = Vec::new();
    for h in handles {
        samples.extend(h.join().map_err(|_| anyhow::anyhow!("a load thread panicked"))??);
    }
    let mut lat: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
    let mut auth: Vec<f64> = samples.iter().filter_map(|s| s.auth_ms).collect();
    let cache_hits = samples.iter().filter(|s| s.cache_hit == Some(true)).count();
    let cache_misses = samples.iter().filter(|s| s.cache_hit == Some(false)).count();
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)].as_secs_f64() * 1000.0;
    auth.sort_by(|a, b| a.total_cmp(b));
    Ok(Measured {
        rps: lat.len() as f64 / elapsed,
        p50: pct(0.50),
        p99: pct(0.99),
        auth_ms: (!auth.is_empty()).then(|| auth[auth.len() / 2]),
        cache_hits,
        cache_misses,
        unavailable: samples.iter().filter(|s| s.unavailable).count(),
    })
}
