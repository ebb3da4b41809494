//! Per-layer int8 parity against torch, from fixture bytes, shared by the native and the
//! wasm tests (the wasm side cannot read files, so everything here takes bytes).
#![allow(dead_code, missing_docs)]

use std::collections::HashMap;

use engine::quant::int8::{Granularity, Int8Linear};

/// The tensors of layers.safetensors as f32 (i8 weights widened), read with the
/// safetensors crate because candle has no i8 dtype.
pub fn layer_tensors(bytes: &[u8]) -> HashMap<String, Vec<f32>> {
    let st = safetensors::SafeTensors::deserialize(bytes).unwrap();
    st.tensors()
        .into_iter()
        .map(|(name, view)| {
            let data = view.data();
            let values = match view.dtype() {
                safetensors::Dtype::F32 => data
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
                safetensors::Dtype::I8 => data.iter().map(|&b| f32::from(b as i8)).collect(),
                other => panic!("{name}: unexpected dtype {other:?}"),
            };
            (name, values)
        })
        .collect()
}

fn granularity(variant: &str) -> Granularity {
    match variant {
        "tensor" => Granularity::PerTensor,
        "channel" => Granularity::PerChannel,
        other => panic!("unknown variant {other}"),
    }
}

pub fn quantized_layer(
    tensors: &HashMap<String, Vec<f32>>,
    meta: &serde_json::Value,
    layer: &str,
    variant: &str,
) -> Int8Linear {
    let info = meta["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == layer)
        .unwrap_or_else(|| panic!("layer {layer} in layers.json"));
    let w = &tensors[info["key_w"].as_str().unwrap()];
    let b = &tensors[info["key_b"].as_str().unwrap()];
    let n = info["out_features"].as_u64().unwrap() as usize;
    let k = info["in_features"].as_u64().unwrap() as usize;
    Int8Linear::quantize(w, n, k, Some(b), granularity(variant))
}

/// Feeds every recorded call's input to our layer and asserts the output is torch's, bit
/// for bit. Returns (calls, outputs) checked.
pub fn assert_layers_bit_exact(
    meta: &serde_json::Value,
    tensors: &HashMap<String, Vec<f32>>,
) -> (usize, usize) {
    let calls = meta["calls"]
        .as_array()
        .unwrap()
        .iter()
        .chain(meta["edge_calls"].as_array().unwrap());
    let (mut n_calls, mut outputs) = (0, 0);
    for call in calls {
        let (variant, layer) = (
            call["variant"].as_str().unwrap(),
            call["layer"].as_str().unwrap(),
        );
        let ours = quantized_layer(tensors, meta, layer, variant);
        let x = &tensors[call["key_x"].as_str().unwrap()];
        let want = &tensors[call["key_y"].as_str().unwrap()];
        let got = ours.forward_rows(x);
        assert_eq!(got.len(), want.len(), "{variant}/{layer}: output length");
        let differ = got
            .iter()
            .zip(want)
            .filter(|(a, b)| a.to_bits() != b.to_bits())
            .count();
        let which = call.get("case").or(call.get("sentence"));
        assert_eq!(
            differ, 0,
            "{variant}/{layer} {which:?}: {differ} outputs differ from torch"
        );
        outputs += got.len();
        n_calls += 1;
    }
    (n_calls, outputs)
}
