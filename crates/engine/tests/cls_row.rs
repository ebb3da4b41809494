//! A classifier reads only the [CLS] row of the last hidden state, so the last block
//! computes only what that row needs (`DistilBertForSequenceClassification::cls_hidden_state`).
//! It must be the full forward's first row bit for bit: every scheme, models with one
//! int8 layer among f32 ones (row-coupled: dynamic int8 takes its scale from every row),
//! 3 (one word), 8 and 72 tokens, on one thread and on a team.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::bundled;
use engine::{Classifier, Scheme};

fn bits(t: candle_core::Tensor) -> Vec<u32> {
    t.flatten_all()
        .and_then(|t| t.to_vec1::<f32>())
        .expect("values")
        .into_iter()
        .map(f32::to_bits)
        .collect()
}

fn assert_first_row(model: &Classifier, what: &str) {
    let texts = [
        "wonderful",
        "a quiet, lovely little film",
        "the plot wanders for an hour, the jokes land once in a while, and yet the two \
         leads carry every scene with such warmth that by the end I had forgiven the \
         script almost everything it asked of me, even the ending, which arrives late, says \
         too little, and leaves the audience wondering why nobody cut twenty minutes",
    ];
    let team = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .expect("a thread pool");
    for text in texts {
        let ids = model.encode(text).expect("encodes").ids;
        let net = model.model();
        let full = net.hidden_states(&ids).expect("full forward");
        let full = full.narrow(1, 0, 1).expect("first row");
        let cls = net.cls_hidden_state(&ids).expect("[CLS] forward");
        assert_eq!(cls.dims(), [1, 1, model.config().dim], "{what}");
        let want = bits(full);
        assert_eq!(bits(cls), want, "{what}, {} tokens", ids.len());
        let on_team = team.install(|| net.cls_hidden_state(&ids)).expect("team");
        assert_eq!(bits(on_team), want, "{what}, {} tokens, team", ids.len());
    }
}

#[test]
fn the_cls_row_is_the_full_forwards_first_row_in_every_scheme() {
    let f32 = bundled();
    for &scheme in Scheme::ALL {
        assert_first_row(&f32.quantize(scheme).expect("quantizes"), scheme.name());
    }
}

#[test]
fn one_int8_layer_among_f32_ones_keeps_the_first_row() {
    let f32 = bundled();
    let last = f32.config().n_layers - 1;
    for layer in [
        "attention.q_lin",
        "attention.out_lin",
        "ffn.lin1",
        "ffn.lin2",
    ] {
        let name = format!("transformer.layer.{last}.{layer}");
        let model = f32
            .quantize_only(&name, Scheme::Int8Dynamic)
            .expect("quantizes one layer");
        assert_first_row(&model, &name);
    }
}
