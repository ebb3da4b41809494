//! Reads a file written by [`super::quantized::write`] back into [`Weights`] whose Linear
//! layers and embedding table are the stored ones, byte for byte (nothing is re-quantized).

use std::collections::{HashMap, HashSet};

use candle_core::{Device, Tensor};
use safetensors::{tensor::TensorView, Dtype, SafeTensors};

use super::engine_name;
use super::quantized::{FORMAT, FORMAT_VERSION};
use crate::checkpoint::Weights;
use crate::config::Config;
use crate::error::CandleContext;
use crate::quant::embedding::{EmbeddingStorage, Int8Rows, WordEmbeddings};
use crate::quant::f16::F16Linear;
use crate::quant::ggml::GgmlLinear;
use crate::quant::int8::Int8Linear;
use crate::quant::{Linear, Scheme};
use crate::{Error, Result};

/// Metadata keys that are not Linear layer names.
const FIXED_KEYS: [&str; 4] = ["format", "format_version", "scheme", "embeddings"];

fn bad(message: impl Into<String>) -> Error {
    Error::Quantized(message.into())
}

/// The weights of a quantized export and the scheme it was written in. `config` is the
/// `config.json` written beside it; shapes are checked when the model is built.
pub fn quantized(bytes: &[u8], config: &Config) -> Result<(Weights, Scheme)> {
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|e| bad(format!("not a readable safetensors file ({e})")))?;
    let meta = header.metadata().clone().unwrap_or_default();
    if meta.get("format").map(String::as_str) != Some(FORMAT) {
        return Err(bad(format!(
            "not a squeeze quantized export (its __metadata__ has no `format: {FORMAT}`)"
        )));
    }
    if meta.get("format_version").map(String::as_str) != Some(FORMAT_VERSION) {
        return Err(bad(format!(
            "format_version {:?} is not the {FORMAT_VERSION} this squeeze reads",
            meta.get("format_version")
        )));
    }
    let scheme: Scheme = meta.get("scheme").map_or("", String::as_str).parse()?;
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| bad(format!("not a readable safetensors file ({e})")))?;
    let mut weights = Weights::default();
    let mut used = HashSet::new();
    for (name, value) in &meta {
        if FIXED_KEYS.contains(&name.as_str()) || name.ends_with(".shape") {
            continue;
        }
        let layer_scheme: Scheme = value.parse()?;
        let l = linear(&st, &meta, name, layer_scheme, &mut used)?;
        weights.insert_linear(engine_name(name), l);
    }
    let storage = match meta.get("embeddings").map(String::as_str) {
        Some("f32") | None => EmbeddingStorage::F32,
        Some("int8-per-row") => EmbeddingStorage::Int8PerRow,
        Some(other) => return Err(bad(format!("unknown embeddings storage `{other}`"))),
    };
    if storage == EmbeddingStorage::Int8PerRow {
        let n = "distilbert.embeddings.word_embeddings";
        let values = i8s(&view(&st, &format!("{n}.weight"), Dtype::I8, &mut used)?);
        let scales = f32s(&view(&st, &format!("{n}.scale"), Dtype::F32, &mut used)?);
        let table = Int8Rows::from_parts(values, scales, config.vocab_size, config.dim)?;
        weights.insert_table(engine_name(n), WordEmbeddings::Int8(table));
    }
    for (name, v) in st.iter() {
        if used.contains(name) {
            continue;
        }
        if v.dtype() != Dtype::F32 {
            return Err(bad(format!(
                "tensor `{name}` is {:?} but no layer in __metadata__ claims it",
                v.dtype()
            )));
        }
        weights.insert(engine_name(name), f32_tensor(&v)?);
    }
    Ok((weights, scheme))
}

/// The Linear layer `name` (a Hugging Face name without `.weight`) in `scheme`.
fn linear(
    st: &SafeTensors<'_>,
    meta: &HashMap<String, String>,
    name: &str,
    scheme: Scheme,
    used: &mut HashSet<String>,
) -> Result<Linear> {
    let bias_name = format!("{name}.bias");
    let bias = if st.names().contains(&bias_name.as_str()) {
        Some(f32s(&view(st, &bias_name, Dtype::F32, used)?))
    } else {
        None
    };
    let bias_tensor = || {
        bias.clone()
            .map(|b| Tensor::new(b, &Device::Cpu))
            .transpose()
            .during("export: bias")
    };
    let weight_name = format!("{name}.weight");
    let dims2 = |v: &TensorView<'_>| match v.shape() {
        [out, inp] => Ok((*out, *inp)),
        other => Err(bad(format!(
            "`{weight_name}` has shape {other:?}; expected [out, in]"
        ))),
    };
    Ok(match scheme {
        Scheme::F32 => {
            let w = view(st, &weight_name, Dtype::F32, used)?;
            Linear::f32(f32_tensor(&w)?, bias_tensor()?)
        }
        Scheme::F16 => {
            let w = view(st, &weight_name, Dtype::F16, used)?;
            let values: Vec<half::f16> = w
                .data()
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]))
                .collect();
            let t = Tensor::from_vec(values, w.shape(), &Device::Cpu).during("export: f16")?;
            Linear::F16(F16Linear::from_f16(t, bias_tensor()?)?)
        }
        Scheme::Int8Dynamic | Scheme::Int8PerChannel => {
            let w = view(st, &weight_name, Dtype::I8, used)?;
            let (out, inp) = dims2(&w)?;
            let scales = f32s(&view(st, &format!("{name}.scale"), Dtype::F32, used)?);
            let expected = if scheme == Scheme::Int8Dynamic {
                1
            } else {
                out
            };
            if scales.len() != expected {
                return Err(bad(format!(
                    "`{name}.scale` has {} values; {scheme} needs {expected}",
                    scales.len()
                )));
            }
            Linear::Int8(Int8Linear::from_parts(i8s(&w), scales, bias, out, inp)?)
        }
        Scheme::Q8_0 | Scheme::Q5_0 | Scheme::Q4_1 | Scheme::Q4_0 | Scheme::Q4K => {
            let dtype = scheme.ggml_dtype().expect("a GGML scheme");
            let w = view(st, &weight_name, Dtype::U8, used)?;
            let shape = meta.get(&format!("{name}.shape")).ok_or_else(|| {
                bad(format!(
                    "no `{name}.shape` in __metadata__ for a {scheme} layer"
                ))
            })?;
            let (out, inp) = match serde_json::from_str::<Vec<usize>>(shape).as_deref() {
                Ok([out, inp]) => (*out, *inp),
                _ => {
                    return Err(bad(format!(
                        "`{name}.shape` is {shape:?}; expected [out,in]"
                    )))
                }
            };
            Linear::Ggml(GgmlLinear::from_blocks(
                dtype,
                w.data(),
                out,
                inp,
                bias_tensor()?,
            )?)
        }
    })
}

/// Tensor `name`, checked to be `dtype`, marked as used.
fn view<'a>(
    st: &SafeTensors<'a>,
    name: &str,
    dtype: Dtype,
    used: &mut HashSet<String>,
) -> Result<TensorView<'a>> {
    let v = st
        .tensor(name)
        .map_err(|_| bad(format!("missing tensor `{name}`")))?;
    if v.dtype() != dtype {
        return Err(bad(format!(
            "tensor `{name}` is {:?}; expected {dtype:?}",
            v.dtype()
        )));
    }
    used.insert(name.to_string());
    Ok(v)
}

fn f32s(v: &TensorView<'_>) -> Vec<f32> {
    v.data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn i8s(v: &TensorView<'_>) -> Vec<i8> {
    v.data().iter().map(|&b| b as i8).collect()
}

fn f32_tensor(v: &TensorView<'_>) -> Result<Tensor> {
    Tensor::from_vec(f32s(v), v.shape(), &Device::Cpu).during("export: f32 tensor")
}
