//! Tensors from a `model.safetensors`, renamed to the DistilBERT layout the model reads.
//!
//! DistilBERT checkpoints are used as they are, with or without the `distilbert.` prefix.
//! BERT checkpoints become an exactly equivalent DistilBERT for single-segment input
//! (../shared/reference/pytorch-dynamic-int8.md, "BERT checkpoints in the DistilBERT
//! layout"): `token_type_embeddings[0]` is folded into every position embedding, and
//! `encoder.layer.N.*` is renamed to `transformer.layer.N.*`. A BERT classification head
//! (`pooler.dense` + `classifier`) is kept under its own names; the model applies it with
//! BERT's tanh.
//!
//! A quantized export (see [`crate::export`]) also brings layers that are already in a
//! scheme: they are kept whole, by name, and the model takes them instead of quantizing.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};

use crate::config::{Architecture, Config};
use crate::error::CandleContext;
use crate::quant::embedding::WordEmbeddings;
use crate::quant::Linear;
use crate::{Error, Result};

/// A checkpoint's tensors under DistilBERT names: f32 tensors, and (from a quantized
/// export) Linear layers and embedding tables already in their storage.
#[derive(Clone, Debug, Default)]
pub struct Weights {
    tensors: HashMap<String, Tensor>,
    /// Stored Linear layers by name without `.weight`, e.g. `pre_classifier`.
    linears: HashMap<String, Linear>,
    /// Stored embedding tables by name without `.weight`.
    tables: HashMap<String, WordEmbeddings>,
}

impl Weights {
    /// Parses safetensors bytes and renames the tensors into the DistilBERT layout.
    pub fn from_safetensors(bytes: &[u8], config: &Config) -> Result<Self> {
        let raw = parse(bytes)?;
        let tensors = match config.architecture {
            Architecture::DistilBert => raw
                .into_iter()
                .map(|(name, t)| {
                    let name = name
                        .strip_prefix("distilbert.")
                        .unwrap_or(&name)
                        .to_string();
                    (name, t)
                })
                .collect(),
            Architecture::Bert => bert_to_distilbert(raw)?,
        };
        Ok(Self {
            tensors,
            ..Self::default()
        })
    }

    /// Adds an f32 tensor under its DistilBERT name.
    pub fn insert(&mut self, name: impl Into<String>, tensor: Tensor) {
        self.tensors.insert(name.into(), tensor);
    }

    /// Adds a Linear layer as stored, under its name without `.weight`; the model takes it
    /// as it is instead of reading an f32 weight.
    pub fn insert_linear(&mut self, name: impl Into<String>, linear: Linear) {
        self.linears.insert(name.into(), linear);
    }

    /// Adds an embedding table as stored, under its name without `.weight`.
    pub fn insert_table(&mut self, name: impl Into<String>, table: WordEmbeddings) {
        self.tables.insert(name.into(), table);
    }

    /// Adds (or replaces) tensors from a second file, e.g. a classification head trained
    /// apart from its backbone. Its names are DistilBERT names.
    pub fn merge_safetensors(&mut self, bytes: &[u8]) -> Result<()> {
        for (name, t) in parse(bytes)? {
            let name = name
                .strip_prefix("distilbert.")
                .unwrap_or(&name)
                .to_string();
            self.tensors.insert(name, t);
        }
        Ok(())
    }

    /// Whether a tensor of that name exists (a stored Linear counts as its `.weight`).
    pub fn contains(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
            || name
                .strip_suffix(".weight")
                .is_some_and(|l| self.linears.contains_key(l))
    }

    /// The shape of tensor `name`, if present (a stored Linear's `.weight` is `[out, in]`).
    pub fn dims(&self, name: &str) -> Option<Vec<usize>> {
        if let Some(t) = self.tensors.get(name) {
            return Some(t.dims().to_vec());
        }
        let linear = self.linears.get(name.strip_suffix(".weight")?)?;
        let (out, inp) = linear.dims();
        Some(vec![out, inp])
    }

    /// A view whose names are relative to `prefix` (candle's `vb.pp`).
    pub fn pp(&self, prefix: impl AsRef<str>) -> Path<'_> {
        Path {
            weights: self,
            prefix: prefix.as_ref().to_string(),
        }
    }

    /// The tensor `name`, checked to have `shape` and only finite values.
    pub fn get(&self, name: &str, shape: &[usize]) -> Result<Tensor> {
        let t = self.tensors.get(name).ok_or_else(|| Error::MissingTensor {
            name: name.to_string(),
        })?;
        if t.dims() != shape {
            return Err(Error::ShapeMismatch {
                name: name.to_string(),
                expected: shape.to_vec(),
                actual: t.dims().to_vec(),
            });
        }
        let values = t
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .during("reading a weight")?;
        let count = values.iter().filter(|v| !v.is_finite()).count();
        if count > 0 {
            return Err(Error::NonFinite {
                name: name.to_string(),
                count,
            });
        }
        Ok(t.clone())
    }
}

/// A prefix inside [`Weights`], so that each block loads its own tensors by short names.
pub struct Path<'a> {
    weights: &'a Weights,
    prefix: String,
}

impl Path<'_> {
    /// A deeper prefix.
    pub fn pp(&self, name: impl AsRef<str>) -> Path<'_> {
        self.weights.pp(self.join(name.as_ref()))
    }

    /// The tensor `prefix.name` with `shape`.
    pub fn get(&self, name: &str, shape: &[usize]) -> Result<Tensor> {
        self.weights.get(&self.join(name), shape)
    }

    /// Whether `prefix.name` exists.
    pub fn contains(&self, name: &str) -> bool {
        self.weights.contains(&self.join(name))
    }

    /// The Linear layer stored whole under this prefix, checked to be `[out, in]`.
    pub fn stored_linear(&self, out: usize, inp: usize) -> Result<Option<Linear>> {
        let Some(l) = self.weights.linears.get(&self.prefix) else {
            return Ok(None);
        };
        check_dims(&format!("{}.weight", self.prefix), &[out, inp], l.dims())?;
        Ok(Some(l.clone()))
    }

    /// The embedding table stored whole as `prefix.name`, checked to be `[rows, dim]`.
    pub fn stored_table(
        &self,
        name: &str,
        rows: usize,
        dim: usize,
    ) -> Result<Option<WordEmbeddings>> {
        let name = self.join(name);
        let Some(t) = self.weights.tables.get(&name) else {
            return Ok(None);
        };
        check_dims(&format!("{name}.weight"), &[rows, dim], t.dims())?;
        Ok(Some(t.clone()))
    }

    fn join(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }
}

fn check_dims(name: &str, expected: &[usize], (a, b): (usize, usize)) -> Result<()> {
    if expected == [a, b] {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            name: name.to_string(),
            expected: expected.to_vec(),
            actual: vec![a, b],
        })
    }
}

/// Reads every tensor, converting half-precision floats to f32.
fn parse(bytes: &[u8]) -> Result<HashMap<String, Tensor>> {
    let tensors = candle_core::safetensors::load_buffer(bytes, &Device::Cpu)
        .map_err(|e| Error::Safetensors(format!("not a readable safetensors file ({e})")))?;
    tensors
        .into_iter()
        // Integer buffers such as BERT's `embeddings.position_ids` are not weights.
        .filter(|(name, t)| !(name.ends_with("position_ids") && t.dtype().is_int()))
        .map(|(name, t)| {
            let t = match t.dtype() {
                DType::F32 => t,
                DType::F16 | DType::BF16 | DType::F64 => t
                    .to_dtype(DType::F32)
                    .during("converting a weight to f32")?,
                other => {
                    return Err(Error::Safetensors(format!(
                        "tensor `{name}` has dtype {other:?}; expected a float type"
                    )))
                }
            };
            Ok((name, t))
        })
        .collect()
}

/// BERT names → DistilBERT names; token type 0 folded into the position embeddings.
fn bert_to_distilbert(raw: HashMap<String, Tensor>) -> Result<HashMap<String, Tensor>> {
    let mut out = HashMap::new();
    let mut token_type = None;
    for (name, t) in raw {
        let name = name.strip_prefix("bert.").unwrap_or(&name);
        // Old TF-converted checkpoints call LayerNorm parameters gamma and beta.
        let name = name.replace("LayerNorm.gamma", "LayerNorm.weight");
        let name = name.replace("LayerNorm.beta", "LayerNorm.bias");
        if name == "embeddings.token_type_embeddings.weight" {
            token_type = Some(t);
            continue;
        }
        if name.starts_with("embeddings.position_ids") {
            continue;
        }
        out.insert(rename_bert(&name), t);
    }
    if let Some(token_type) = token_type {
        let key = "embeddings.position_embeddings.weight";
        if let Some(pos) = out.get(key) {
            let first = token_type.get(0).during("reading token type 0")?;
            let folded = pos
                .broadcast_add(&first)
                .during("folding token type 0 into positions")?;
            out.insert(key.to_string(), folded);
        }
    }
    Ok(out)
}

fn rename_bert(name: &str) -> String {
    let Some(rest) = name.strip_prefix("encoder.layer.") else {
        return name.to_string();
    };
    let (index, tail) = rest.split_once('.').unwrap_or((rest, ""));
    const RENAMES: [(&str, &str); 8] = [
        ("attention.self.query.", "attention.q_lin."),
        ("attention.self.key.", "attention.k_lin."),
        ("attention.self.value.", "attention.v_lin."),
        ("attention.output.dense.", "attention.out_lin."),
        ("attention.output.LayerNorm.", "sa_layer_norm."),
        ("intermediate.dense.", "ffn.lin1."),
        ("output.dense.", "ffn.lin2."),
        ("output.LayerNorm.", "output_layer_norm."),
    ];
    for (from, to) in RENAMES {
        if let Some(param) = tail.strip_prefix(from) {
            return format!("transformer.layer.{index}.{to}{param}");
        }
    }
    format!("transformer.layer.{index}.{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_every_bert_block_tensor() {
        let cases = [
            (
                "encoder.layer.3.attention.self.query.weight",
                "transformer.layer.3.attention.q_lin.weight",
            ),
            (
                "encoder.layer.0.attention.output.dense.bias",
                "transformer.layer.0.attention.out_lin.bias",
            ),
            (
                "encoder.layer.0.attention.output.LayerNorm.weight",
                "transformer.layer.0.sa_layer_norm.weight",
            ),
            (
                "encoder.layer.11.intermediate.dense.weight",
                "transformer.layer.11.ffn.lin1.weight",
            ),
            (
                "encoder.layer.2.output.dense.weight",
                "transformer.layer.2.ffn.lin2.weight",
            ),
            (
                "encoder.layer.2.output.LayerNorm.bias",
                "transformer.layer.2.output_layer_norm.bias",
            ),
            (
                "embeddings.word_embeddings.weight",
                "embeddings.word_embeddings.weight",
            ),
        ];
        for (bert, distil) in cases {
            assert_eq!(rename_bert(bert), distil);
        }
    }

    #[test]
    fn garbage_is_not_a_safetensors_file() {
        let err = parse(b"definitely not safetensors")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("model.safetensors: not a readable safetensors file"),
            "{err}"
        );
    }
}
