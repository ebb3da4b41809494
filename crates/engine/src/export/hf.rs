//! An f32 classifier as a Hugging Face folder: `config.json` and `model.safetensors` with
//! the names `transformers`' `DistilBertForSequenceClassification` expects (backbone under
//! `distilbert.`, `pre_classifier` and `classifier` at the top level). The tokenizer file
//! is the caller's to copy: the engine keeps the parsed tokenizer, not its bytes.
//!
//! A BERT checkpoint loaded in the DistilBERT layout exports as the DistilBERT it became
//! (token type 0 already folded into the positions), so long as its head is DistilBERT's:
//! BERT's pooler head (tanh) has no place in `DistilBertForSequenceClassification`.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::hf_name;
use super::raw::{serialize, Raw};
use crate::config::{Activation, Config};
use crate::models::distilbert::Part;
use crate::quant::embedding::{EmbeddingStorage, WordEmbeddings};
use crate::quant::{Linear, Scheme};
use crate::{Classifier, Error, Result};

/// The float width of the exported tensors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// Every tensor as the model holds it.
    #[default]
    F32,
    /// Every tensor rounded to f16 (half the bytes; `config.json` says `"dtype": "float16"`).
    F16,
}

/// The two files of the folder.
#[derive(Clone, Debug)]
pub struct HfFiles {
    /// `config.json`.
    pub config: Vec<u8>,
    /// `model.safetensors`.
    pub weights: Vec<u8>,
}

/// LayerNorm epsilon `DistilBertForSequenceClassification` hard-codes.
const HF_LAYER_NORM_EPS: f64 = 1e-12;

/// Writes `model` (which must be f32: Linear layers and embeddings) as a Hugging Face folder.
pub fn folder(model: &Classifier, precision: Precision) -> Result<HfFiles> {
    if model.scheme() != Scheme::F32 || model.embedding_storage() != EmbeddingStorage::F32 {
        return Err(Error::Export(format!(
            "a Hugging Face folder holds the f32 model; this one is {} (write quantized models with `export::quantized`)",
            model.scheme()
        )));
    }
    let config = model.config();
    if config.layer_norm_eps != HF_LAYER_NORM_EPS {
        return Err(Error::Export(format!(
            "layer_norm_eps is {}; DistilBERT in transformers always uses 1e-12",
            config.layer_norm_eps
        )));
    }
    let half = precision == Precision::F16;
    let mut tensors = Vec::new();
    for (name, part) in model.model().parts() {
        match part {
            Part::Tensor(t) => tensors.push((hf_name(&name), Raw::tensor(t, half)?)),
            Part::WordEmbeddings(WordEmbeddings::F32(t)) => {
                tensors.push((hf_name(&format!("{name}.weight")), Raw::tensor(t, half)?));
            }
            Part::WordEmbeddings(WordEmbeddings::Int8(_)) => {
                unreachable!("checked above: the embeddings are f32")
            }
            Part::Linear(l) => {
                if name.starts_with("pooler.") {
                    return Err(Error::Export(
                        "BERT's pooler head (dense + tanh) has no equivalent in DistilBertForSequenceClassification".into(),
                    ));
                }
                let Linear::F32(f) = unwrap_tap(l) else {
                    unreachable!("checked above: the model is f32")
                };
                tensors.push((
                    hf_name(&format!("{name}.weight")),
                    Raw::tensor(f.weight(), half)?,
                ));
                if let Some(b) = f.bias() {
                    tensors.push((hf_name(&format!("{name}.bias")), Raw::tensor(b, half)?));
                }
            }
        }
    }
    Ok(HfFiles {
        config: config_json(config, model.labels(), precision),
        weights: serialize(&tensors, Some([("format".into(), "pt".into())].into()))?,
    })
}

fn unwrap_tap(l: &Linear) -> &Linear {
    match l {
        Linear::Tap(t) => unwrap_tap(t.inner()),
        other => other,
    }
}

/// A DistilBERT `config.json` for `config` with class names `labels`.
pub fn config_json(config: &Config, labels: &[String], precision: Precision) -> Vec<u8> {
    let id2label: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (i.to_string(), json!(l)))
        .collect();
    let label2id: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.clone(), json!(i)))
        .collect();
    let value = json!({
        "activation": match config.activation {
            Activation::Gelu => "gelu",
            Activation::Relu => "relu",
        },
        "architectures": ["DistilBertForSequenceClassification"],
        "attention_dropout": 0.1,
        "dim": config.dim,
        "dropout": 0.1,
        "dtype": match precision {
            Precision::F32 => "float32",
            Precision::F16 => "float16",
        },
        "hidden_dim": config.hidden_dim,
        "id2label": id2label,
        "initializer_range": 0.02,
        "label2id": label2id,
        "max_position_embeddings": config.max_position_embeddings,
        "model_type": "distilbert",
        "n_heads": config.n_heads,
        "n_layers": config.n_layers,
        "pad_token_id": 0,
        "qa_dropout": 0.1,
        "seq_classif_dropout": 0.2,
        "sinusoidal_pos_embds": false,
        "tie_weights_": true,
        "vocab_size": config.vocab_size,
    });
    let mut bytes = serde_json::to_vec_pretty(&value).expect("a JSON value always serializes");
    bytes.push(b'\n');
    bytes
}
