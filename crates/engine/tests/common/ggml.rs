//! The engine's GGML kernel against candle's generic block product (`k_quants::matmul`,
//! which `QMatMul` runs on CPUs without VNNI), on the same quantized weights,
//! shared by the native test (the scalar reference path) and the wasm test (simd128).
//!
//! Tolerance: both sides quantize each activation block of 32 (256 for Q4_K) to i8 the
//! same way (candle's own `from_float` formulas, reproduced), so every per-block integer
//! dot product is the same exact integer and the results differ only by the order of the
//! f32 block sums (and, for Q4_1, by candle rounding `Σ q_x · d_x` to f16 for the minimum
//! term). The error is measured relative to the largest `|y|` of the whole output.
#![allow(dead_code, missing_docs)]

use candle_core::quantized::GgmlDType;
use candle_core::{Device, Tensor};
use engine::quant::ggml::GgmlLinear;

/// Relative tolerance per format: f32 summation order alone for the formats whose
/// activation quantization is exactly candle's; Q4_1's minimum term goes through f16 in
/// candle (relative error up to 2⁻¹¹ of that term).
pub fn tolerance(dtype: GgmlDType) -> f32 {
    match dtype {
        GgmlDType::Q4_1 => 2e-3,
        _ => 1e-5,
    }
}

/// Every format the kernel reads.
pub const FORMATS: [GgmlDType; 5] = [
    GgmlDType::Q8_0,
    GgmlDType::Q4_0,
    GgmlDType::Q4_1,
    GgmlDType::Q5_0,
    GgmlDType::Q4K,
];

/// `(tokens, in, out)`: the student's Linear shapes (in 256 and 512; out 256, 512 and
/// the head's 2) at 1..=64 tokens, and odd row counts for the tiles' remainders.
pub const SHAPES: [(usize, usize, usize); 9] = [
    (1, 256, 256),
    (8, 256, 512),
    (64, 512, 256),
    (64, 256, 256),
    (3, 512, 512),
    (7, 256, 2),
    (1, 512, 2),
    (13, 512, 512),
    (64, 256, 512),
];

/// Deterministic values in (-1, 1) with a few larger outliers (transformer activations
/// have them; they stress the per-block scales).
pub fn values(len: usize, seed: u32) -> Vec<f32> {
    let mut s = seed;
    (0..len)
        .map(|i| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let v = ((s >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 2.0;
            if i % 97 == 5 {
                v * 12.0
            } else {
                v
            }
        })
        .collect()
}

/// The largest `|ours - candle| / max|candle|` over every format and shape, per format;
/// panics past [`tolerance`].
pub fn assert_kernel_matches_candle() -> Vec<(GgmlDType, f32)> {
    let dev = Device::Cpu;
    let mut worst = Vec::new();
    for dtype in FORMATS {
        let mut format_worst = 0f32;
        for (i, &(m, k, n)) in SHAPES.iter().enumerate() {
            let w = Tensor::from_vec(values(n * k, 11 + i as u32), (n, k), &dev).unwrap();
            let w = (w * 0.1).unwrap();
            let x = Tensor::from_vec(values(m * k, 101 + i as u32), (1, m, k), &dev).unwrap();
            let layer = GgmlLinear::from_tensors(&w, None, dtype).unwrap();
            let ours = layer.forward_kernel(&x).unwrap().expect("a kernel format");
            assert_eq!(ours.dims(), &[1, m, n], "{dtype:?} shape");
            let ours: Vec<f32> = ours.flatten_all().unwrap().to_vec1().unwrap();
            let theirs: Vec<f32> = layer
                .forward_candle_reference(&x)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let top = theirs.iter().fold(0f32, |a, v| a.max(v.abs()));
            let err = ours
                .iter()
                .zip(&theirs)
                .fold(0f32, |a, (p, q)| a.max((p - q).abs()))
                / top;
            assert!(
                err <= tolerance(dtype),
                "{dtype:?} ({m} × {k} → {n}): max |diff| / max |y| = {err:e}"
            );
            format_worst = format_worst.max(err);
        }
        worst.push((dtype, format_worst));
    }
    worst
}
