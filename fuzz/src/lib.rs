//! The bodies of squeeze's fuzz targets. Each takes arbitrary bytes, feeds them to the
//! parser that reads that kind of file, and asserts what must hold for any input: no
//! panic, and for input that is accepted, the invariants the rest of squeeze relies on.
//!
//! The same files are compiled into the main workspace's tests
//! (crates/engine/tests/fuzz_replay.rs, crates/content/tests/fuzz_replay.rs) with
//! `#[path]`, so the seeds and every crash ever found replay under plain `cargo test`.

pub mod content_targets;
pub mod engine_targets;
