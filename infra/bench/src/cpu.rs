//! CPU time, for the benchmarks' cost of a request: the server's, not the load
//! generator's. On a machine whose speed drifts, the CPU a server spends per answer is a
//! steadier measure of what a request costs than requests per second.

use anyhow::{Context, Result};
use std::time::Duration;

fn clock(id: libc::clockid_t) -> Duration {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid, writable timespec; the clock ids used are Linux's own.
    let rc = unsafe { libc::clock_gettime(id, &mut t) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// The calling thread's CPU time (nanosecond precision).
pub fn this_thread() -> Duration {
    clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// This process's CPU time, all threads (nanosecond precision).
pub fn this_process() -> Duration {
    clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// The CPU time of every live process in process group `pgid` (from `/proc`, in clock
/// ticks: 10 ms steps, exact over the seconds a benchmark cell lasts).
pub fn process_group(pgid: u32) -> Result<Duration> {
    let mut total = Duration::ZERO;
    for entry in std::fs::read_dir("/proc").context("reading /proc")? {
        let name = entry?.file_name();
        let Ok(pid) = name.to_string_lossy().parse::<u32>() else { continue };
        // Gone since the listing: nothing to count.
        if let Some(stat) = Stat::of(pid).filter(|s| s.pgrp == pgid) {
            total += stat.cpu;
        }
    }
    Ok(total)
}

/// The CPU time of processes `pids` (those still running).
pub fn processes(pids: &[u32]) -> Duration {
    pids.iter().filter_map(|&p| Stat::of(p)).map(|s| s.cpu).sum()
}

/// What the benchmarks read of `/proc/PID/stat`.
struct Stat {
    pgrp: u32,
    cpu: Duration,
}

impl Stat {
    fn of(pid: u32) -> Option<Stat> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // After the command's closing parenthesis: state, ppid, pgrp, … utime (the
        // line's 14th field), stime (15th), in clock ticks.
        let (_, rest) = stat.rsplit_once(')')?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok());
        // SAFETY: sysconf has no preconditions.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        Some(Stat { pgrp: field(2)? as u32, cpu: Duration::from_secs_f64((field(11)? + field(12)?) as f64 / ticks) })
    }
}
