//! `SchemeReport`, the row `squeeze compare` and the lab's table share, on the tiny
//! fixture (dim 64, FFN 128).

mod common;

use common::tiny;
use engine::{metrics, Scheme, SchemeReport};

#[test]
fn f32_against_itself_is_exact_and_whole() {
    let model = tiny();
    let enc = model.encode("the movie was fine").unwrap();
    let reference = model.predict(&enc).unwrap();
    let bytes = model.size().total_bytes;
    let r = SchemeReport::measure(&model, &enc, &reference, bytes).unwrap();
    assert_eq!(r.scheme, Scheme::F32);
    assert_eq!((r.bytes, r.compression), (bytes, 1.0));
    assert_eq!((r.mse, r.max_abs_diff), (0.0, 0.0));
    assert!(r.agrees);
    assert_eq!(r.layers_quantized, r.layers_total);
    assert!(r.stays_f32.is_empty());
    assert_eq!(r.prediction, reference);
}

#[test]
fn a_quantized_model_reports_its_error_size_and_the_layers_left_f32() {
    let model = tiny();
    let enc = model.encode("the movie was fine").unwrap();
    let reference = model.predict(&enc).unwrap();
    let bytes = model.size().total_bytes;

    let int8 = model.quantize(Scheme::Int8Dynamic).unwrap();
    let r = SchemeReport::measure(&int8, &enc, &reference, bytes).unwrap();
    let logits = int8.predict(&enc).unwrap().logits;
    assert_eq!(r.scheme, Scheme::Int8Dynamic);
    assert_eq!(r.mse, metrics::mse(&reference.logits, &logits).unwrap());
    assert!(r.mse > 0.0, "int8 moved no logit");
    assert_eq!(r.bytes, int8.size().total_bytes);
    assert_eq!(r.compression, bytes as f64 / r.bytes as f64);
    assert!(r.compression > 1.0);
    assert_eq!(r.layers_quantized, r.layers_total);

    // q4_k needs inputs in whole 256-wide blocks: every layer of this model stays f32.
    let q4k = model.quantize(Scheme::Q4K).unwrap();
    let r = SchemeReport::measure(&q4k, &enc, &reference, bytes).unwrap();
    assert_eq!(r.layers_quantized, 0);
    assert_eq!(r.stays_f32.len(), r.layers_total);
    assert!(
        r.stays_f32.iter().all(|s| s.reason.contains("256")),
        "{:?}",
        r.stays_f32
    );
    assert_eq!(r.mse, 0.0);
}
