//! libFuzzer entry for the `lesson` target; the body is in src/content_targets.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| squeeze_fuzz::content_targets::lesson(data));
