//! Counters the host keeps, for tests and benchmarks.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub kv_opens: AtomicU64,
    /// Variable reads (each one `block_in_place` on Spin).
    pub variable_reads: AtomicU64,
    pub sqlite_opens: AtomicU64,
    pub traps: AtomicU64,
    /// Sum of instantiation times, in nanoseconds.
    pub instantiate_nanos: AtomicU64,
    pub outbound_denied: AtomicU64,
    /// Outbound requests sent (allowed ones).
    pub outbound_requests: AtomicU64,
    /// Of those, sent while the request held a database transaction open (should be none).
    pub outbound_in_transaction: AtomicU64,
    /// Time inside the handler (instantiation to return), in nanoseconds.
    pub guest_nanos: AtomicU64,
    /// Time the guest's own code ran (between host calls), in nanoseconds.
    pub guest_cpu_nanos: AtomicU64,
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
            guest_cpu_nanos: self.get(&self.guest_cpu_nanos),
            sqlite_nanos: self.get(&self.sqlite_nanos),
            sqlite_statements: self.get(&self.sqlite_statements),
            variable_reads: self.get(&self.variable_reads),
            kv_opens: self.get(&self.kv_opens),
        }
    }

    /// Adds the time since `started` to the time spent inside SQLite host calls.
    pub fn add_sqlite_time(&self, started: std::time::Instant) {
        self.sqlite_nanos.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }
}

/// Some counters at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Snapshot {
    pub requests: u64,
    pub instantiate_nanos: u64,
    pub guest_nanos: u64,
    pub guest_cpu_nanos: u64,
    pub sqlite_nanos: u64,
    pub sqlite_statements: u64,
    pub variable_reads: u64,
    pub kv_opens: u64,
}

/// What one request cost on average between two snapshots.
#[derive(Debug, Clone, Copy)]
pub struct PerRequest {
    pub instantiate_us: f64,
    pub guest_us: f64,
    /// The guest's own code, between host calls.
    pub guest_cpu_us: f64,
    pub sqlite_us: f64,
    pub statements: f64,
    /// Variable reads and key-value opens: the calls Spin makes inside `block_in_place`.
    pub blocking_calls: f64,
}

impl Snapshot {
    pub fn per_request_since(&self, earlier: &Snapshot) -> PerRequest {
        let n = (self.requests - earlier.requests).max(1) as f64;
        let us = |a: u64, b: u64| (a - b) as f64 / n / 1000.0;
        PerRequest {
            instantiate_us: us(self.instantiate_nanos, earlier.instantiate_nanos),
            guest_us: us(self.guest_nanos, earlier.guest_nanos),
            guest_cpu_us: us(self.guest_cpu_nanos, earlier.guest_cpu_nanos),
            sqlite_us: us(self.sqlite_nanos, earlier.sqlite_nanos),
            statements: (self.sqlite_statements - earlier.sqlite_statements) as f64 / n,
            blocking_calls: (self.variable_reads - earlier.variable_reads + self.kv_opens - earlier.kv_opens) as f64
                / n,
        }
    }
}
