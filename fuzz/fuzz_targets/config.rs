//! libFuzzer entry for the `config` target; the body is in src/engine_targets.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| squeeze_fuzz::engine_targets::config(data));
