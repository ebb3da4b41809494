//! PyTorch parity: our engine against torch's own numbers (tests/fixtures, made by
//! tools/reference/make_fixtures.py with torch 2.15, x86 quantized engine, 1 thread).
//!
//! Tolerances (from ../shared/reference/pytorch-dynamic-int8.md, "What parity to expect"):
//! - one quantized Linear fed torch's input: bit-exact;
//! - end-to-end f32 logits: within 1e-5 (candle and torch sum in different orders);
//! - end-to-end int8 logits: median |diff| ≤ 1e-6 and every one within 2e-2, because a
//!   last-bit float difference upstream can flip one activation's rounding.

mod common;

use std::collections::HashMap;

use common::{files, fixture, floats, json, median, read, tiny};
use engine::{Classifier, Scheme};

const F32_TOL: f32 = 1e-5;
const INT8_MEDIAN_TOL: f32 = 1e-6;
const INT8_MAX_TOL: f32 = 2e-2;

#[path = "common/layers.rs"]
mod layers;

use layers::{assert_layers_bit_exact, quantized_layer};

fn layer_tensors() -> HashMap<String, Vec<f32>> {
    layers::layer_tensors(&read(fixture("tiny/layers.safetensors")))
}

#[test]
fn parity_int8_weights_and_scales_are_torchs() {
    let meta = json(fixture("tiny/layers.json"));
    let tensors = layer_tensors();
    let mut checked = 0;
    for w in meta["weights"].as_array().unwrap() {
        let (variant, layer) = (w["variant"].as_str().unwrap(), w["layer"].as_str().unwrap());
        let ours = quantized_layer(&tensors, &meta, layer, variant);
        let torch_q = &tensors[w["key_int8"].as_str().unwrap()];
        let ours_q: Vec<f32> = ours.weight().iter().map(|&v| f32::from(v)).collect();
        assert_eq!(&ours_q, torch_q, "{variant}/{layer}: int8 weights");
        let torch_s = &tensors[w["key_scale"].as_str().unwrap()];
        assert_eq!(ours.scales(), &torch_s[..], "{variant}/{layer}: scales");
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} weights checked");
}

#[test]
fn parity_each_quantized_linear_is_bit_exact() {
    let meta = json(fixture("tiny/layers.json"));
    let (n_calls, outputs) = assert_layers_bit_exact(&meta, &layer_tensors());
    assert!(
        n_calls >= 30 && outputs > 10_000,
        "{n_calls} calls, {outputs} outputs"
    );
}

#[test]
fn parity_tokenizer_ids_match_hugging_face() {
    let model = tiny();
    let from_vocab = Classifier::load(&files("tiny", "vocab.txt")).unwrap();
    let fixtures = json(fixture("tiny/logits.json"));
    for s in fixtures["sentences"].as_array().unwrap() {
        let text = s["text"].as_str().unwrap();
        let want: Vec<u32> = s["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        for (which, m) in [("tokenizer.json", &model), ("vocab.txt", &from_vocab)] {
            let enc = m.encode(text).unwrap();
            assert_eq!(enc.ids, want, "{which}: ids of {text:?}");
            assert_eq!(
                enc.truncated,
                s["truncated"].as_bool().unwrap(),
                "{which}: truncated {text:?}"
            );
            assert_eq!(
                enc.original_len as u64,
                s["original_len"].as_u64().unwrap(),
                "{which}: length {text:?}"
            );
        }
    }
}

#[test]
fn parity_f32_logits_within_1e5() {
    let model = tiny();
    let fixtures = json(fixture("tiny/logits.json"));
    let sentences = fixtures["sentences"].as_array().unwrap();
    assert!(sentences.len() >= 30);
    let mut worst = 0.0f32;
    for s in sentences {
        let text = s["text"].as_str().unwrap();
        let got = model.classify(text).unwrap().logits;
        let want = floats(&s["f32_logits"]);
        let diff = engine::metrics::max_abs_diff(&got, &want).unwrap();
        assert!(diff <= F32_TOL, "{text:?}: {got:?} vs torch {want:?}");
        worst = worst.max(diff);
    }
    eprintln!("f32 worst |diff| vs torch: {worst:e}");
}

fn check_int8(scheme: Scheme, key: &str) {
    let model = tiny().quantize(scheme).unwrap();
    let fixtures = json(fixture("tiny/logits.json"));
    let mut diffs = Vec::new();
    for s in fixtures["sentences"].as_array().unwrap() {
        let text = s["text"].as_str().unwrap();
        let got = model.classify(text).unwrap().logits;
        let want = floats(&s[key]);
        for (a, b) in got.iter().zip(&want) {
            let d = (a - b).abs();
            assert!(
                d <= INT8_MAX_TOL,
                "{scheme} {text:?}: {got:?} vs torch {want:?}"
            );
            diffs.push(d);
        }
    }
    let med = median(diffs.clone());
    let exact = diffs.iter().filter(|&&d| d <= 1e-6).count();
    eprintln!(
        "{scheme}: median |diff| {med:e}, {exact}/{} logits within 1e-6",
        diffs.len()
    );
    assert!(med <= INT8_MEDIAN_TOL, "{scheme}: median |diff| {med:e}");
}

#[test]
fn parity_int8_dynamic_logits_match_torch_quantize_dynamic() {
    check_int8(Scheme::Int8Dynamic, "qint8_logits");
}

#[test]
fn parity_int8_per_channel_logits_match_torch() {
    check_int8(Scheme::Int8PerChannel, "qint8_per_channel_logits");
}

#[test]
fn parity_bert_checkpoint_converts_to_distilbert() {
    let dir = fixture("tiny-bert");
    let model = Classifier::load_with_head(
        &files("tiny-bert", "tokenizer.json"),
        Some(&read(dir.join("head.safetensors"))),
    )
    .unwrap();
    let int8 = model.quantize(Scheme::Int8Dynamic).unwrap();
    let expected = json(dir.join("expected.json"));
    for s in expected["sentences"].as_array().unwrap() {
        let text = s["text"].as_str().unwrap();
        let enc = model.encode(text).unwrap();
        let hidden = model.model().hidden_states(&enc.ids).unwrap();
        let cls = hidden
            .get(0)
            .unwrap()
            .get(0)
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let d = engine::metrics::max_abs_diff(&cls, &floats(&s["bert_cls_hidden"])).unwrap();
        assert!(
            d <= F32_TOL,
            "{text:?}: [CLS] hidden differs from BertModel by {d}"
        );
        let d = engine::metrics::max_abs_diff(
            &model.classify(text).unwrap().logits,
            &floats(&s["logits"]),
        )
        .unwrap();
        assert!(d <= F32_TOL, "{text:?}: logits differ by {d}");
        let d = engine::metrics::max_abs_diff(
            &int8.classify(text).unwrap().logits,
            &floats(&s["qint8_logits"]),
        )
        .unwrap();
        assert!(d <= INT8_MAX_TOL, "{text:?}: int8 logits differ by {d}");
    }
}
