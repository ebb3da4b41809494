//! libFuzzer entry for the `tokenizer_json` target; the body is in src/engine_targets.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| squeeze_fuzz::engine_targets::tokenizer_json(data));
