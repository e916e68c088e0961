//! What the benchmarks share: [`load`] drives HTTP/1.1 keep-alive clients at a server
//! and measures latency percentiles and throughput; [`cpu`] reads the CPU clocks of
//! threads, processes and Spin's process group, so each cell can say what the server
//! spent per request; [`registry`] builds the data every server starts from, [`backend`]
//! starts the servers, [`scenarios`] says what is asked of them, [`report`] compares and
//! judges. The binaries in `src/bin/` are the benchmarks (`infra/README.md`,
//! "Benchmarks"); `bench` is the runner over these.

pub mod backend;
pub mod cpu;
pub mod load;
pub mod registry;
pub mod report;
pub mod scenarios;
