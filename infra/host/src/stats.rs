//! Counters the host keeps, for tests and benchmarks.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub kv_opens: AtomicU64,
    pub sqlite_opens: AtomicU64,
    pub traps: AtomicU64,
    /// Sum of instantiation times, in nanoseconds.
    pub instantiate_nanos: AtomicU64,
    pub outbound_denied: AtomicU64,
    /// Time inside the handler (instantiation to return), in nanoseconds.
    pub guest_nanos: AtomicU64,
    /// Time inside SQLite host calls (`open` and `execute`, close included), in nanoseconds.
    pub sqlite_nanos: AtomicU64,
    pub sqlite_statements: AtomicU64,
}

impl Stats {
    pub fn get(&self, counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// The counters now, to subtract one snapshot from another (per-scenario figures).
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            requests: self.get(&self.requests),
            instantiate_nanos: self.get(&self.instantiate_nanos),
            guest_nanos: self.get(&self.guest_nanos),
            sqlite_nanos: self.get(&self.sqlite_nanos),
            sqlite_statements: self.get(&self.sqlite_statements),
            sqlite_opens: self.get(&self.sqlite_opens),
        }
    }
}

/// Some counters at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Snapshot {
    pub requests: u64,
    pub instantiate_nanos: u64,
    pub guest_nanos: u64,
    pub sqlite_nanos: u64,
    pub sqlite_statements: u64,
    pub sqlite_opens: u64,
}

impl Snapshot {
    /// Per request between `earlier` and this one: (instantiate µs, guest µs, SQLite µs,
    /// statements, opens).
    pub fn per_request_since(&self, earlier: &Snapshot) -> (f64, f64, f64, f64, f64) {
        let n = (self.requests - earlier.requests).max(1) as f64;
        let us = |a: u64, b: u64| (a - b) as f64 / n / 1000.0;
        (
            us(self.instantiate_nanos, earlier.instantiate_nanos),
            us(self.guest_nanos, earlier.guest_nanos),
            us(self.sqlite_nanos, earlier.sqlite_nanos),
            (self.sqlite_statements - earlier.sqlite_statements) as f64 / n,
            (self.sqlite_opens - earlier.sqlite_opens) as f64 / n,
        )
    }
}
