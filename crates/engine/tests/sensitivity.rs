//! Per-layer sensitivity helpers on the tiny fixture: quantizing one Linear at a time
//! changes only that layer, and the weights a layer multiplies with can be read back.

mod common;

use common::tiny;
use engine::{metrics, Error, Scheme};

#[test]
fn quantize_only_changes_exactly_one_layer() {
    let model = tiny();
    let names: Vec<String> = model.linears().into_iter().map(|l| l.name).collect();
    let text = "the movie was fine";
    let reference = model.classify(text).unwrap().logits;
    let mut moved = 0;
    for name in &names {
        let one = model.quantize_only(name, Scheme::Int8Dynamic).unwrap();
        for l in one.linears() {
            let expected = if &l.name == name {
                Scheme::Int8Dynamic
            } else {
                Scheme::F32
            };
            assert_eq!(l.scheme, expected, "{name}: layer {}", l.name);
        }
        assert!(one.size().total_bytes < model.size().total_bytes, "{name}");
        let logits = one.classify(text).unwrap().logits;
        if metrics::mse(&reference, &logits).unwrap() > 0.0 {
            moved += 1;
        }
    }
    assert!(moved > 0, "no single layer moved the logits");
}

#[test]
fn quantize_only_names_the_unknown_layer() {
    let err = tiny()
        .quantize_only("transformer.layer.9.ffn.lin1", Scheme::Q8_0)
        .err()
        .unwrap();
    assert!(matches!(err, Error::UnknownLayer { .. }));
    let text = err.to_string();
    assert!(text.contains("transformer.layer.9.ffn.lin1"), "{text}");
    assert!(text.contains("classifier"), "{text}");
}

#[test]
fn layer_weights_are_read_back_before_and_after() {
    let model = tiny();
    let name = "transformer.layer.0.attention.q_lin";
    let before = model.linear(name).unwrap().dequantized_weight().unwrap();
    let q = model.quantize(Scheme::Int8Dynamic).unwrap();
    let layer = q.linear(name).unwrap();
    let after = layer.dequantized_weight().unwrap();
    let (out, inp) = layer.dims();
    assert_eq!(before.len(), out * inp);
    assert_eq!(after.len(), before.len());
    let grid = layer.grid().unwrap().unwrap();
    let step = grid[1] - grid[0];
    let worst = metrics::max_abs_diff(&before, &after).unwrap();
    assert!(
        worst > 0.0 && worst <= step / 2.0 + 1e-6,
        "{worst} vs step {step}"
    );
}
