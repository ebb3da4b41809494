//! The engine's GGML kernel (natively: its scalar reference path) against candle's
//! `QMatMul` for every format the kernel reads, on the student's Linear shapes.

#[path = "common/ggml.rs"]
mod ggml;

#[test]
fn ggml_kernel_matches_candles_quantized_matmul() {
    for (dtype, err) in ggml::assert_kernel_matches_candle() {
        eprintln!("{dtype:?}: max |ours - candle| / max |y| = {err:e}");
    }
}
