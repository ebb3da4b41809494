//! Property tests (proptest) for the arithmetic every scheme relies on.
//!
//! For each scheme the bound on `|w − ŵ|` (weight minus its dequantized value) is stated
//! next to the test that checks it, in terms of the block's own scale. The bounds are the
//! exact consequences of how each scheme rounds (read from `quant/` and candle's
//! `k_quants.rs`), plus a few f32 ulps of slack for `x * (1/d)` versus `x / d`:
//!
//! | scheme | per-element bound |
//! |---|---|
//! | int8 per-tensor / per-channel | `s/2`, `s` the tensor's (row's) scale |
//! | f16 | `2⁻¹¹·|w|` (normal range), `2⁻²⁵` (subnormal) |
//! | q8_0 | `d/2 + 127·|d − f16(d)|` |
//! | q4_0, q5_0 | `d/2 + dist(w, levels) + L·|d − f16(d)|` (`L` = 8, 16) |
//! | q4_1 | `d/2 + 15·|d − f16(d)| + |min − f16(min)|` |
//! | q4_k | `d·sc/2 + dist(w, [−dmin·m, −dmin·m + 15·d·sc])` per 32-weight sub-block |
//!
//! `dist(w, range)` is how far `w` lies outside the values the block can represent: 0 for
//! most weights, and at most one step for the one end that q4_0/q5_0's asymmetric levels
//! (−8..7, −16..15) cut off; q4_k's 6-bit sub-block scales can shrink its range.
//!
//! Run: `cargo test -p engine --test properties` (case counts are set per test below).
//! Native only: proptest is a native dev-dependency.
#![cfg(not(target_arch = "wasm32"))]

use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use engine::config::Config;
use engine::metrics::mse;
use engine::quant::f16::F16Linear;
use engine::quant::ggml::GgmlLinear;
use engine::quant::int8::{
    activation_params, quantize_activations, weight_scale, Granularity, Int8Linear,
};
use half::f16;
use proptest::prelude::*;

/// Slack for the f32 rounding of `x * (1/d)` and of `q * d`: a few ulps of the magnitudes.
fn slack(magnitude: f32) -> f32 {
    8.0 * f32::EPSILON * magnitude + f32::MIN_POSITIVE
}

/// A weight matrix: `rows × cols` values in ±`range`, with the range itself drawn so that
/// tiny, ordinary and large weights all occur.
fn matrix(cols: usize) -> impl Strategy<Value = (usize, Vec<f32>)> {
    (
        1usize..=4,
        prop::sample::select(vec![1e-6f32, 1e-2, 1.0, 50.0]),
    )
        .prop_flat_map(move |(rows, range)| {
            (
                Just(rows),
                prop::collection::vec(
                    prop_oneof![
                        8 => -range..=range,
                        1 => Just(0.0f32),
                        1 => Just(range),
                        1 => Just(-range),
                    ],
                    rows * cols,
                ),
            )
        })
}

fn tensor(values: &[f32], rows: usize) -> Tensor {
    let cols = values.len() / rows;
    Tensor::from_slice(values, (rows, cols), &Device::Cpu).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// int8 per-tensor: `s = max|w| / 127.5`, `q = clamp(rne(w/s), −128, 127)`; the largest
    /// weight lands exactly on a half step, so `|w − q·s| ≤ s/2` everywhere.
    #[test]
    fn int8_per_tensor_error_is_at_most_half_a_step(
        (rows, w) in (1usize..=70).prop_flat_map(matrix),
    ) {
        let cols = w.len() / rows;
        let layer = Int8Linear::quantize(&w, rows, cols, None, Granularity::PerTensor);
        let s = layer.scales()[0];
        prop_assert_eq!(s, weight_scale(&w));
        for (&x, &q) in w.iter().zip(layer.weight()) {
            let err = (x - f32::from(q) * s).abs();
            prop_assert!(err <= s / 2.0 + slack(x.abs()), "w {x} q {q} s {s}: error {err}");
        }
    }

    /// int8 per-channel: the same bound with each output row's own scale.
    #[test]
    fn int8_per_channel_error_is_at_most_half_a_row_step(
        (rows, w) in (1usize..=70).prop_flat_map(matrix),
    ) {
        let cols = w.len() / rows;
        let layer = Int8Linear::quantize(&w, rows, cols, None, Granularity::PerChannel);
        prop_assert_eq!(layer.scales().len(), rows);
        for (r, row) in w.chunks_exact(cols).enumerate() {
            let s = layer.scales()[r];
            prop_assert_eq!(s, weight_scale(row));
            let q = &layer.weight()[r * cols..(r + 1) * cols];
            for (&x, &q) in row.iter().zip(q) {
                let err = (x - f32::from(q) * s).abs();
                prop_assert!(err <= s / 2.0 + slack(x.abs()), "row {r}: w {x} q {q} s {s}: error {err}");
            }
        }
    }

    /// f16: round to nearest, so the error is half an f16 ulp: `2⁻¹¹·|w|` for normal
    /// values (|w| ≥ 2⁻¹⁴) and `2⁻²⁵` (half the subnormal spacing) below.
    #[test]
    fn f16_error_is_half_an_ulp(
        w in prop::collection::vec(
            prop_oneof![-65000.0f32..65000.0, -1e-3f32..1e-3, -1e-6f32..1e-6],
            1..=64,
        ),
    ) {
        let layer = F16Linear::from_tensors(&tensor(&w, 1), None).unwrap();
        let back = layer.dequantized_weight().unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        for (&x, &y) in w.iter().zip(&back) {
            let bound = if x.abs() >= 2f32.powi(-14) { x.abs() * 2f32.powi(-11) } else { 2f32.powi(-25) };
            prop_assert!((x - y).abs() <= bound, "w {x} → {y}: bound {bound}");
        }
    }
}

/// One GGML block as stored, decoded far enough to state the bound.
struct Block {
    /// The scale the quantizer divided by, before it was rounded to f16 (recomputed from
    /// the input exactly as candle computes it); `None` for q4_k, which divides by stored values.
    d_f32: Option<f32>,
    d_stored: f32,
}

fn f16_at(bytes: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([bytes[at], bytes[at + 1]]).to_f32()
}

/// The signed value of largest magnitude (candle's `max` for q4_0/q5_0: the first of equals).
fn signed_absmax(xs: &[f32]) -> f32 {
    let (mut amax, mut max) = (0f32, 0f32);
    for &x in xs {
        if amax < x.abs() {
            amax = x.abs();
            max = x;
        }
    }
    max
}

fn dist(x: f32, lo: f32, hi: f32) -> f32 {
    let (lo, hi) = (lo.min(hi), lo.max(hi));
    if x < lo {
        lo - x
    } else if x > hi {
        x - hi
    } else {
        0.0
    }
}

/// The per-element bound for `x` in a block of `dtype` whose bytes are `b` and whose input
/// values are `xs` (the 32 or 256 weights the block encodes); `j` is x's index in the block.
fn ggml_bound(dtype: GgmlDType, b: &[u8], xs: &[f32], j: usize) -> f32 {
    let x = xs[j];
    let block = |d_f32: f32| Block {
        d_f32: Some(d_f32),
        d_stored: f16_at(b, 0),
    };
    match dtype {
        GgmlDType::Q8_0 => {
            let amax = xs.iter().fold(0f32, |m, v| m.max(v.abs()));
            let Block { d_f32, d_stored } = block(amax / 127.0);
            let d = d_f32.unwrap();
            d / 2.0 + 127.0 * (d - d_stored).abs() + slack(x.abs() + 127.0 * d)
        }
        GgmlDType::Q4_0 | GgmlDType::Q5_0 => {
            let levels = if dtype == GgmlDType::Q4_0 { 8.0 } else { 16.0 };
            let Block { d_f32, d_stored } = block(signed_absmax(xs) / -levels);
            let d = d_f32.unwrap();
            // Levels −L..L−1 times d: the end at +L·d is not representable.
            let range = dist(x, -levels * d, (levels - 1.0) * d);
            d.abs() / 2.0
                + range
                + levels * (d - d_stored).abs()
                + slack(x.abs() + levels * d.abs())
        }
        GgmlDType::Q4_1 => {
            let min = xs.iter().copied().fold(f32::INFINITY, f32::min);
            let max = xs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let Block { d_f32, d_stored } = block((max - min) / 15.0);
            let d = d_f32.unwrap();
            let m_stored = f16_at(b, 2);
            d / 2.0
                + 15.0 * (d - d_stored).abs()
                + (min - m_stored).abs()
                + slack(x.abs() + max.abs() + min.abs())
        }
        GgmlDType::Q4K => {
            let d = f16_at(b, 0);
            let dmin = f16_at(b, 2);
            let scales = &b[4..16];
            let sub = j / 32;
            let (sc, m) = if sub < 4 {
                (scales[sub] & 63, scales[sub + 4] & 63)
            } else {
                (
                    (scales[sub + 4] & 0xF) | ((scales[sub - 4] >> 6) << 4),
                    (scales[sub + 4] >> 4) | ((scales[sub] >> 6) << 4),
                )
            };
            let step = d * f32::from(sc);
            let lo = -dmin * f32::from(m);
            step / 2.0 + dist(x, lo, lo + 15.0 * step) + slack(x.abs() + lo.abs() + 15.0 * step)
        }
        other => unreachable!("no bound stated for {other:?}"),
    }
}

/// Quantizes `w` (`rows × cols`) with `dtype` through the engine, checks that the engine's
/// dequantized weight is exactly candle's for the same blocks, and checks every element
/// against its block's bound.
fn check_ggml(dtype: GgmlDType, rows: usize, w: &[f32]) -> Result<(), TestCaseError> {
    let t = tensor(w, rows);
    let engine_layer = GgmlLinear::from_tensors(&t, None, dtype).unwrap();
    let engine_back = engine_layer
        .dequantized_weight()
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let q = QTensor::quantize(&t, dtype).unwrap();
    let back = q
        .dequantize(&Device::Cpu)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    prop_assert_eq!(&engine_back, &back, "the engine stores candle's blocks");
    let bytes = q.data().unwrap();
    let (block, size) = (dtype.block_size(), dtype.type_size());
    prop_assert_eq!(bytes.len(), w.len() / block * size);
    for (i, (xs, ys)) in w
        .chunks_exact(block)
        .zip(back.chunks_exact(block))
        .enumerate()
    {
        let b = &bytes[i * size..(i + 1) * size];
        for j in 0..block {
            let bound = ggml_bound(dtype, b, xs, j);
            let err = (xs[j] - ys[j]).abs();
            prop_assert!(
                err <= bound,
                "{dtype:?} block {i} element {j}: w {} → {}: error {err} > bound {bound}",
                xs[j],
                ys[j]
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// GGML q8_0: `d = max|w|/127`, `q = round(w/d)`, stored `f16(d)`.
    #[test]
    fn q8_0_error_is_bounded_by_its_block_scale((rows, w) in matrix(256)) {
        check_ggml(GgmlDType::Q8_0, rows, &w)?;
    }

    /// GGML q4_0: `d = −max/8` (max the signed weight of largest |w|), levels −8..7.
    #[test]
    fn q4_0_error_is_bounded_by_its_block_scale((rows, w) in matrix(256)) {
        check_ggml(GgmlDType::Q4_0, rows, &w)?;
    }

    /// GGML q5_0: `d = −max/16`, levels −16..15.
    #[test]
    fn q5_0_error_is_bounded_by_its_block_scale((rows, w) in matrix(256)) {
        check_ggml(GgmlDType::Q5_0, rows, &w)?;
    }

    /// GGML q4_1: `d = (max − min)/15`, `ŵ = q·f16(d) + f16(min)`, levels 0..15.
    #[test]
    fn q4_1_error_is_bounded_by_its_block_scale((rows, w) in matrix(256)) {
        check_ggml(GgmlDType::Q4_1, rows, &w)?;
    }

    /// GGML q4_k: per 32-weight sub-block `ŵ = d·sc·q − dmin·m`, with 6-bit `sc`, `m`.
    #[test]
    fn q4_k_error_is_bounded_by_its_sub_block_scale((rows, w) in matrix(256)) {
        check_ggml(GgmlDType::Q4K, rows, &w)?;
    }
}

/// The widest value of `key` that `config.json` accepts, found by bisection on the real
/// parser (so this test follows config.rs if its limits change).
fn largest_accepted(key: &str) -> usize {
    let parse = |v: usize| {
        let mut json = serde_json::json!({"model_type": "distilbert", "vocab_size": 10,
            "dim": 8, "n_layers": 1, "n_heads": 1, "hidden_dim": 8, "max_position_embeddings": 8});
        json[key] = v.into();
        Config::from_json(json.to_string().as_bytes()).is_ok()
    };
    assert!(parse(1), "{key} = 1 must be accepted");
    let (mut ok, mut bad) = (1usize, 1usize << 40);
    assert!(!parse(bad), "{key} must have an upper limit");
    while bad - ok > 1 {
        let mid = ok + (bad - ok) / 2;
        if parse(mid) {
            ok = mid;
        } else {
            bad = mid;
        }
    }
    ok
}

/// The largest input width any accepted config gives a Linear: `dim` (attention, the
/// first FFN layer, the head) or `hidden_dim` (the second FFN layer).
fn widest_accepted_input() -> usize {
    largest_accepted("dim").max(largest_accepted("hidden_dim"))
}

#[test]
fn int8_accumulator_has_room_for_the_widest_accepted_layer() {
    let k = widest_accepted_input();
    assert_eq!(
        k, 32_768,
        "config.rs limits: dim ≤ 8192, hidden_dim ≤ 4·8192"
    );
    // The kernel's operands: activations 0..=255 (u8; the reduce_range levels only reach
    // 127), weights −128..=127. Worst |Σ x·w| over k terms, and the zero-point correction
    // `zp · Σw` with zp ≤ 127, must both fit in i32.
    let worst_dot = 255i64 * 128 * k as i64;
    let worst_correction = 127i64 * 128 * k as i64;
    println!(
        "widest accepted input {k}: worst |dot| {worst_dot}, worst |zp·Σw| {worst_correction}, i32::MAX {}",
        i32::MAX
    );
    assert!(worst_dot <= i64::from(i32::MAX));
    assert!(worst_correction <= i64::from(i32::MAX));
    // (x − zp)·w with x − zp in −127..=255: the corrected sum has the same bound.
    assert!(255i64 * 128 * k as i64 <= i64::from(i32::MAX));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// At the widest accepted input, the int8 layer's output equals the exact integer
    /// result (computed in i64) rescaled: a wrapped i32 would be off by ~2³²·scale.
    /// Weights and inputs are pushed to the extreme levels (all-equal magnitudes and signs).
    #[test]
    fn int8_forward_at_the_widest_input_equals_the_exact_sum(
        rows in 1usize..=3,
        out in 1usize..=4,
        x_sign in prop::sample::select(vec![1.0f32, -1.0]),
        w_sign in prop::sample::select(vec![1.0f32, -1.0]),
        jitter in prop::collection::vec(0.0f32..0.05, 64),
        per_channel in any::<bool>(),
    ) {
        let k = widest_accepted_input();
        // Magnitudes near the maximum, so most levels are ±127/−128 and 0 or 127.
        let x: Vec<f32> = (0..rows * k).map(|i| x_sign * (3.0 - jitter[i % 64])).collect();
        let w: Vec<f32> = (0..out * k).map(|i| w_sign * (0.5 - jitter[(i * 7) % 64])).collect();
        let g = if per_channel { Granularity::PerChannel } else { Granularity::PerTensor };
        let layer = Int8Linear::quantize(&w, out, k, None, g);
        let y = layer.forward_rows(&x);

        let (min, max) = x.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
        let p = activation_params(min, max);
        let xq = quantize_activations(&x, p);
        for r in 0..rows {
            for c in 0..out {
                let exact: i64 = (0..k)
                    .map(|i| (i64::from(xq[r * k + i]) - i64::from(p.zero_point)) * i64::from(layer.weight()[c * k + i]))
                    .sum();
                let s_w = layer.scales()[if per_channel { c } else { 0 }];
                let want = exact as f64 * f64::from(p.scale * s_w);
                let got = f64::from(y[r * out + c]);
                prop_assert!(
                    (got - want).abs() <= 1e-6 * want.abs() + 1e-6,
                    "row {r} col {c}: {got} vs exact {want} (integer sum {exact})"
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// MSE is never negative (nor NaN) for finite inputs, is symmetric, and is exactly 0
    /// for equal inputs, whatever their magnitude.
    #[test]
    fn mse_is_non_negative_and_zero_exactly_for_equal_inputs(
        pairs in prop::collection::vec(
            (
                prop::num::f32::NORMAL | prop::num::f32::SUBNORMAL | prop::num::f32::ZERO,
                prop::num::f32::NORMAL | prop::num::f32::SUBNORMAL | prop::num::f32::ZERO,
            ),
            0..=40,
        ),
    ) {
        let (a, b): (Vec<f32>, Vec<f32>) = pairs.into_iter().unzip();
        let ab = mse(&a, &b).unwrap();
        prop_assert!(ab >= 0.0, "mse {ab}");
        prop_assert_eq!(ab.to_bits(), mse(&b, &a).unwrap().to_bits());
        prop_assert_eq!(mse(&a, &a).unwrap().to_bits(), 0f32.to_bits());
        prop_assert_eq!(mse(&b, &b).unwrap().to_bits(), 0f32.to_bits());
        if a.iter().zip(&b).any(|(x, y)| x != y) {
            prop_assert!(ab > 0.0 || a.iter().zip(&b).all(|(x, y)| ((f64::from(*x) - f64::from(*y)).powi(2) / a.len() as f64) < f64::from(f32::MIN_POSITIVE)),
                "different inputs give a positive mse unless the difference underflows f32");
        }
    }

    /// Inputs of different lengths are an error, not a silently shortened mean.
    #[test]
    fn mse_refuses_different_lengths(a in prop::collection::vec(-1.0f32..1.0, 0..8), extra in 1usize..4) {
        let b = vec![0.0f32; a.len() + extra];
        prop_assert!(mse(&a, &b).is_err());
    }
}
