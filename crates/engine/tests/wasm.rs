//! The engine inside a real browser (wasm32, headless Chromium via wasm-bindgen-test):
//! the same PyTorch parity checks as `parity.rs`, on the bytes the page would fetch.
//! Run with `cargo test --target wasm32-unknown-unknown -p engine --test wasm`.
#![cfg(target_arch = "wasm32")]

use engine::{Classifier, ModelFiles, Scheme, TokenizerFile};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const CONFIG: &[u8] = include_bytes!("../../../tests/fixtures/tiny/config.json");
const TOKENIZER: &[u8] = include_bytes!("../../../tests/fixtures/tiny/tokenizer.json");
const WEIGHTS: &[u8] = include_bytes!("../../../tests/fixtures/tiny/model.safetensors");
const LOGITS: &str = include_str!("../../../tests/fixtures/tiny/logits.json");
const LAYERS: &[u8] = include_bytes!("../../../tests/fixtures/tiny/layers.safetensors");
const LAYERS_JSON: &str = include_str!("../../../tests/fixtures/tiny/layers.json");

#[path = "common/layers.rs"]
mod layers;

#[path = "common/ggml.rs"]
mod ggml;

fn model() -> Classifier {
    Classifier::load(&ModelFiles {
        config: CONFIG.to_vec(),
        tokenizer: TokenizerFile::Json(TOKENIZER.to_vec()),
        weights: WEIGHTS.to_vec(),
    })
    .expect("tiny fixture loads in wasm")
}

fn floats(v: &serde_json::Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

#[wasm_bindgen_test]
fn wasm_parity_f32_and_int8_logits_match_torch() {
    let f32_model = model();
    let int8 = f32_model.quantize(Scheme::Int8Dynamic).unwrap();
    let fixtures: serde_json::Value = serde_json::from_str(LOGITS).unwrap();
    let mut int8_diffs = Vec::new();
    for s in fixtures["sentences"].as_array().unwrap() {
        let text = s["text"].as_str().unwrap();
        let got = f32_model.classify(text).unwrap().logits;
        let d = engine::metrics::max_abs_diff(&got, &floats(&s["f32_logits"])).unwrap();
        assert!(d <= 1e-5, "f32 {text:?}: {d}");
        let got = int8.classify(text).unwrap().logits;
        for (a, b) in got.iter().zip(floats(&s["qint8_logits"])) {
            assert!((a - b).abs() <= 2e-2, "int8 {text:?}: {a} vs {b}");
            int8_diffs.push((a - b).abs());
        }
    }
    int8_diffs.sort_by(f32::total_cmp);
    let median = int8_diffs[int8_diffs.len() / 2];
    assert!(median <= 1e-6, "int8 median |diff| {median}");
}

/// The simd128 integer kernel must give torch's outputs bit for bit, as the AVX2 and
/// scalar paths do natively.
#[wasm_bindgen_test]
fn wasm_parity_each_quantized_linear_is_bit_exact() {
    let meta: serde_json::Value = serde_json::from_str(LAYERS_JSON).unwrap();
    let (calls, outputs) = layers::assert_layers_bit_exact(&meta, &layers::layer_tensors(LAYERS));
    assert!(
        calls >= 30 && outputs > 10_000,
        "{calls} calls, {outputs} outputs"
    );
}

#[wasm_bindgen_test]
fn wasm_errors_are_values_not_panics() {
    let err = Classifier::load(&ModelFiles {
        config: CONFIG.to_vec(),
        tokenizer: TokenizerFile::Json(TOKENIZER.to_vec()),
        weights: b"garbage".to_vec(),
    })
    .err()
    .unwrap();
    assert!(err.to_string().starts_with("model.safetensors:"), "{err}");
    assert!(matches!(
        model().classify(" "),
        Err(engine::Error::EmptyInput)
    ));
}

/// The simd128 slice paths (four lanes at a time) give the scalar formula's bits.
#[wasm_bindgen_test]
fn wasm_vector_gelu_and_exp_equal_the_scalar_bits() {
    let x: Vec<f32> = (-4_003..4_000).map(|i| i as f32 / 97.0).collect();
    let mut g = x.clone();
    engine::ops::gelu_in_place(&mut g);
    let mut e = x.clone();
    engine::ops::exp_shifted_in_place(&mut e, 3.0);
    for (i, &v) in x.iter().enumerate() {
        assert_eq!(g[i].to_bits(), engine::ops::gelu(v).to_bits(), "gelu({v})");
        assert_eq!(
            e[i].to_bits(),
            engine::ops::exp(v - 3.0).to_bits(),
            "exp({v} - 3)"
        );
    }
}

/// The simd128 GGML kernel against candle's `QMatMul` (same tolerance as natively).
#[wasm_bindgen_test]
fn wasm_ggml_kernel_matches_candles_quantized_matmul() {
    for (dtype, err) in ggml::assert_kernel_matches_candle() {
        wasm_bindgen_test::console_log!("{dtype:?}: max |ours - candle| / max |y| = {err:e}");
    }
}

/// The simd128 f32 kernel: every output the module's fixed-order dot product, bit for
/// bit, on the row-major weight and on the packed one, and within float rounding of
/// candle's f32 Linear (which it replaces here).
#[wasm_bindgen_test]
fn wasm_f32_kernel_gives_the_fixed_order_bits_and_candles_values() {
    use candle_core::{Device, Module, Tensor};
    let fill = |len: usize, seed: u32| -> Vec<f32> {
        (0..len as u32)
            .map(|i| ((i.wrapping_mul(2_654_435_761) ^ seed) % 2001) as f32 / 1000.0 - 1.0)
            .collect()
    };
    // The order the kernel documents: four lanes, (l0 + l2) + (l1 + l3), then the tail.
    let dot = |a: &[f32], b: &[f32]| -> f32 {
        let body = a.len() - a.len() % 4;
        let mut l = [0f32; 4];
        for i in 0..body {
            l[i % 4] += a[i] * b[i];
        }
        let mut s = (l[0] + l[2]) + (l[1] + l[3]);
        for i in body..a.len() {
            s += a[i] * b[i];
        }
        s
    };
    for (m, n, k) in [
        (1, 2, 256),
        (8, 512, 256),
        (13, 7, 384),
        (64, 6, 1536),
        (3, 5, 7),
        (2, 3, 2),
        (3, 6, 1),
    ] {
        let (x, w, b) = (fill(m * k, 1), fill(n * k, 2), fill(n, 3));
        let y = engine::quant::f32_kernel::matmul(&x, &w, k, Some(&b));
        // The packed weight the browser's f32 layers hold: the same bits.
        let packed = engine::quant::f32_kernel::Packed::new(&w, k);
        let yp = engine::quant::f32_kernel::matmul_packed(&x, &packed, Some(&b));
        assert!(
            y.iter().zip(&yp).all(|(a, b)| a.to_bits() == b.to_bits()),
            "{m}x{n}x{k}: packed and row-major differ"
        );
        for r in 0..m {
            for c in 0..n {
                let want = dot(&x[r * k..(r + 1) * k], &w[c * k..(c + 1) * k]) + b[c];
                assert_eq!(
                    y[r * n + c].to_bits(),
                    want.to_bits(),
                    "{m}x{n}x{k} [{r}][{c}]"
                );
            }
        }
        let t = |v: &[f32], shape: (usize, usize)| {
            Tensor::from_vec(v.to_vec(), shape, &Device::Cpu).unwrap()
        };
        let candle = candle_nn::Linear::new(
            t(&w, (n, k)),
            Some(Tensor::new(&b[..], &Device::Cpu).unwrap()),
        )
        .forward(&t(&x, (m, k)))
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
        let worst = y
            .iter()
            .zip(&candle)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(
            worst <= 1e-5 * (k as f32).sqrt(),
            "{m}x{n}x{k}: max |ours - candle| {worst}"
        );
    }
}

/// The int8 layer against its own formula in plain integers, on inputs whose quantized
/// maximum is 128 (range [-1, 1]: zero point 64, 1.0 → 64 + 64) and on ordinary ones:
/// whichever kernel this build has (simd128's i16 dot, or relaxed SIMD's 7-bit dot with
/// the values above 127 put right afterwards) must give the same bits.
#[wasm_bindgen_test]
fn wasm_int8_kernel_is_exact_with_activations_of_128() {
    use engine::quant::int8::{self, Granularity, Int8Linear};
    let (n, k) = (6, 40);
    let w: Vec<f32> = (0..n * k)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 60.0)
        .collect();
    let layer = Int8Linear::quantize(&w, n, k, None, Granularity::PerTensor);
    let mut x: Vec<f32> = (0..3 * k)
        .map(|i| ((i * 53 % 97) as f32 - 48.0) / 48.0)
        .collect();
    x[5] = 1.0;
    x[k + 17] = 1.0;
    x[2 * k] = -1.0;
    let p = int8::activation_params(-1.0, 1.0);
    let q = int8::quantize_activations(&x, p);
    assert!(
        q.iter().filter(|&&v| v == 128).count() >= 2,
        "the case under test"
    );
    let y = layer.forward_rows(&x);
    let scale = f64::from(p.scale * layer.scales()[0]);
    for r in 0..3 {
        for c in 0..n {
            let dot: i32 = (0..k)
                .map(|i| {
                    (i32::from(q[r * k + i]) - p.zero_point) * i32::from(layer.weight()[c * k + i])
                })
                .sum();
            let want = (f64::from(dot) * scale) as f32;
            assert_eq!(y[r * n + c].to_bits(), want.to_bits(), "[{r}][{c}]");
        }
    }
}

/// The last block computes only the [CLS] row a classifier reads; in the browser every
/// f32 Linear runs on the engine's row-by-row kernel, so that path is taken for f32 too
/// (natively candle's gemm keeps f32 on the full path: `tests/cls_row.rs`). Every scheme
/// must give the full forward's first row bit for bit.
#[wasm_bindgen_test]
fn wasm_the_cls_row_is_the_full_forwards_first_row() {
    let f32_model = model();
    let bits = |t: candle_core::Tensor| -> Vec<u32> {
        let v = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        v.into_iter().map(f32::to_bits).collect()
    };
    for &scheme in Scheme::ALL {
        let m = f32_model.quantize(scheme).unwrap();
        for text in [
            "wonderful",
            "a quiet, lovely little film that I will watch again",
        ] {
            let ids = m.encode(text).unwrap().ids;
            let full = m.model().hidden_states(&ids).unwrap();
            let want = bits(full.narrow(1, 0, 1).unwrap());
            let got = bits(m.model().cls_hidden_state(&ids).unwrap());
            assert_eq!(got, want, "{scheme:?}, {} tokens", ids.len());
        }
    }
}
