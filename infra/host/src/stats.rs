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
}

impl Stats {
    pub fn get(&self, counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
