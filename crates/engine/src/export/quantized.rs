//! A classifier in any scheme, with or without int8 embeddings, as one safetensors file
//! (`quantized.safetensors`, written beside a DistilBERT `config.json`).
//!
//! # Layout (format `squeeze-quantized`, version 1)
//!
//! Tensor names are Hugging Face's (`distilbert.` before the backbone, the head at the top
//! level), so everything that stays f32 is where `transformers` looks for it. Each Linear
//! layer `<L>` (e.g. `distilbert.transformer.layer.0.attention.q_lin`, `pre_classifier`)
//! is stored in its own scheme, named by the metadata key `<L>` (see below):
//!
//! | layer scheme | `<L>.weight` | other tensors |
//! |---|---|---|
//! | `f32` | F32 `[out, in]` | |
//! | `f16` | F16 `[out, in]` | |
//! | `int8-dynamic` | I8 `[out, in]`, `w ≈ q · scale` | `<L>.scale` F32 `[1]` |
//! | `int8-per-channel` | I8 `[out, in]`, row `r`: `w ≈ q · scale[r]` | `<L>.scale` F32 `[out]` |
//! | `q8_0`, `q5_0`, `q4_1`, `q4_0`, `q4_k` | U8 `[out, in / B · T]`: GGML blocks, row after row | |
//!
//! Every layer also has `<L>.bias` F32 `[out]` (biases stay f32 in every scheme). A GGML row
//! holds `in / B` blocks of `T` bytes (B = 32 weights and T = 34, 22, 20, 18 bytes for Q8_0,
//! Q5_0, Q4_1, Q4_0; B = 256, T = 144 for Q4_K), exactly as ggml/llama.cpp lays them out
//! (`block_q8_0` …: f16 scale first, then the packed values). Int8 weights are symmetric
//! (zero point 0) and follow PyTorch's `quantize_dynamic` rounding.
//!
//! The word-embedding table `distilbert.embeddings.word_embeddings.weight` is F32
//! `[vocab, dim]`, or with int8 embeddings I8 `[vocab, dim]` plus
//! `distilbert.embeddings.word_embeddings.scale` F32 `[vocab]` (row `r`: `w ≈ q · scale[r]`;
//! see [`crate::quant::embedding`]). Position embeddings and LayerNorms are F32.
//!
//! `__metadata__` (all values are strings, as safetensors requires):
//!
//! | key | value |
//! |---|---|
//! | `format` | `squeeze-quantized` |
//! | `format_version` | `1` |
//! | `scheme` | the model's scheme, e.g. `int8-dynamic` (`f32` for a model mixed by a recipe) |
//! | `embeddings` | `f32` or `int8-per-row` |
//! | `<L>` (one per Linear) | that layer's scheme (a layer a GGML scheme cannot take stays `f32`) |
//! | `<L>.shape` (GGML layers only) | the logical weight shape, `[out, in]` as JSON |

use std::collections::HashMap;

use super::hf_name;
use super::raw::{serialize, Raw};
use crate::models::distilbert::Part;
use crate::quant::embedding::WordEmbeddings;
use crate::quant::Linear;
use crate::{Classifier, Error, Result};

/// `__metadata__["format"]`.
pub const FORMAT: &str = "squeeze-quantized";
/// `__metadata__["format_version"]`.
pub const FORMAT_VERSION: &str = "1";

/// Writes `model` in the layout above.
pub fn write(model: &Classifier) -> Result<Vec<u8>> {
    let mut tensors: Vec<(String, Raw)> = Vec::new();
    let mut meta: HashMap<String, String> = HashMap::from([
        ("format".into(), FORMAT.into()),
        ("format_version".into(), FORMAT_VERSION.into()),
        ("scheme".into(), model.scheme().name().into()),
        ("embeddings".into(), model.embedding_storage().name().into()),
    ]);
    for (name, part) in model.model().parts() {
        match part {
            Part::Tensor(t) => tensors.push((hf_name(&name), Raw::tensor(t, false)?)),
            Part::WordEmbeddings(table) => {
                let n = hf_name(&name);
                match table {
                    WordEmbeddings::F32(t) => {
                        tensors.push((format!("{n}.weight"), Raw::tensor(t, false)?))
                    }
                    WordEmbeddings::Int8(q) => {
                        let (rows, dim) = table.dims();
                        tensors.push((format!("{n}.weight"), Raw::i8(q.values(), &[rows, dim])));
                        tensors.push((format!("{n}.scale"), Raw::f32(q.scales(), &[rows])));
                    }
                }
            }
            Part::Linear(l) => {
                let n = hf_name(&name);
                linear(&n, l, &mut tensors, &mut meta)?;
            }
        }
    }
    serialize(&tensors, Some(meta))
}

fn linear(
    n: &str,
    l: &Linear,
    tensors: &mut Vec<(String, Raw)>,
    meta: &mut HashMap<String, String>,
) -> Result<()> {
    let (out, inp) = l.dims();
    meta.insert(n.to_string(), l.scheme().name().to_string());
    let weight = format!("{n}.weight");
    match l {
        Linear::Tap(t) => return linear(n, t.inner(), tensors, meta),
        Linear::F32(f) => tensors.push((weight, Raw::tensor(f.weight(), false)?)),
        Linear::F16(f) => tensors.push((weight, Raw::tensor(f.weight(), true)?)),
        Linear::Int8(q) => {
            tensors.push((weight, Raw::i8(q.weight(), &[out, inp])));
            let scales = q.scales();
            tensors.push((format!("{n}.scale"), Raw::f32(scales, &[scales.len()])));
        }
        Linear::Ggml(g) => {
            let blocks = g.blocks()?;
            let row_bytes = blocks.len().checked_div(out).unwrap_or(0);
            if row_bytes * out != blocks.len() {
                return Err(Error::Export(format!(
                    "{n}: GGML blocks do not split into {out} rows"
                )));
            }
            tensors.push((weight, Raw::u8(blocks, &[out, row_bytes])));
            meta.insert(format!("{n}.shape"), format!("[{out},{inp}]"));
        }
    }
    if let Some(b) = l.bias()? {
        tensors.push((format!("{n}.bias"), Raw::f32(&b, &[b.len()])));
    }
    Ok(())
}
