//! The model's shape and labels, read from a Hugging Face `config.json`.
//!
//! Two layouts are accepted: DistilBERT (`model_type: "distilbert"`, keys `dim`, `n_layers`,
//! `n_heads`, `hidden_dim`) and BERT (`model_type: "bert"`, keys `hidden_size`,
//! `num_hidden_layers`, `num_attention_heads`, `intermediate_size`). A BERT config describes
//! a checkpoint that is converted to the DistilBERT layout on load (see `checkpoint.rs`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The activation of the feed-forward block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// Exact GELU (erf form), what Hugging Face's `"gelu"` means.
    Gelu,
    /// ReLU.
    Relu,
}

/// Which checkpoint layout the config describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    /// Hugging Face DistilBERT names (`distilbert.transformer.layer.N.attention.q_lin` …).
    DistilBert,
    /// Hugging Face BERT names (`bert.encoder.layer.N.attention.self.query` …).
    Bert,
}

/// The shape of a DistilBERT classifier, whatever layout its checkpoint uses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// The layout of the checkpoint this config came with.
    pub architecture: Architecture,
    /// Rows of the word-embedding table.
    pub vocab_size: usize,
    /// Hidden width.
    pub dim: usize,
    /// Transformer blocks.
    pub n_layers: usize,
    /// Attention heads per block.
    pub n_heads: usize,
    /// Width of the feed-forward block.
    pub hidden_dim: usize,
    /// Longest input the position embeddings allow, special tokens included.
    pub max_position_embeddings: usize,
    /// Feed-forward activation.
    pub activation: Activation,
    /// LayerNorm epsilon (1e-12 in both layouts).
    pub layer_norm_eps: f64,
    /// Label names by class id, from `id2label`; empty when the config has none
    /// (the classifier's row count then decides and names are `LABEL_i`).
    pub labels: Vec<String>,
}

/// `config.json` as written for either layout; unknown keys are ignored because real
/// configs carry many fields that do not change the forward pass.
#[derive(Deserialize)]
struct RawConfig {
    model_type: Option<String>,
    vocab_size: Option<usize>,
    // DistilBERT names
    dim: Option<usize>,
    n_layers: Option<usize>,
    n_heads: Option<usize>,
    hidden_dim: Option<usize>,
    activation: Option<String>,
    // BERT names
    hidden_size: Option<usize>,
    num_hidden_layers: Option<usize>,
    num_attention_heads: Option<usize>,
    intermediate_size: Option<usize>,
    hidden_act: Option<String>,
    layer_norm_eps: Option<f64>,
    // both
    max_position_embeddings: Option<usize>,
    id2label: Option<BTreeMap<String, String>>,
}

/// Largest sizes accepted, so that a hostile config cannot ask for terabytes.
const MAX_DIM: usize = 8192;
const MAX_LAYERS: usize = 64;
const MAX_VOCAB: usize = 1_000_000;
const MAX_POSITIONS: usize = 8192;

impl Config {
    /// Parses `config.json`.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let raw: RawConfig = serde_json::from_slice(bytes)
            .map_err(|e| Error::Config(format!("not valid JSON: {e}")))?;
        let architecture = match raw.model_type.as_deref() {
            Some("distilbert") => Architecture::DistilBert,
            Some("bert") => Architecture::Bert,
            Some(other) => {
                return Err(Error::Config(format!(
                    "model_type `{other}` is not supported; expected `distilbert` or `bert`"
                )))
            }
            None if raw.dim.is_some() => Architecture::DistilBert,
            None if raw.hidden_size.is_some() => Architecture::Bert,
            None => {
                return Err(Error::Config(
                    "no `model_type`, `dim` or `hidden_size`: not a DistilBERT or BERT config"
                        .into(),
                ))
            }
        };
        let need = |v: Option<usize>, key: &str| {
            v.ok_or_else(|| Error::Config(format!("missing `{key}`")))
        };
        let (dim, n_layers, n_heads, hidden_dim, act) = match architecture {
            Architecture::DistilBert => (
                need(raw.dim, "dim")?,
                need(raw.n_layers, "n_layers")?,
                need(raw.n_heads, "n_heads")?,
                need(raw.hidden_dim, "hidden_dim")?,
                raw.activation.unwrap_or_else(|| "gelu".into()),
            ),
            Architecture::Bert => (
                need(raw.hidden_size, "hidden_size")?,
                need(raw.num_hidden_layers, "num_hidden_layers")?,
                need(raw.num_attention_heads, "num_attention_heads")?,
                need(raw.intermediate_size, "intermediate_size")?,
                raw.hidden_act.unwrap_or_else(|| "gelu".into()),
            ),
        };
        let activation = match act.as_str() {
            "gelu" => Activation::Gelu,
            "relu" => Activation::Relu,
            other => {
                return Err(Error::Config(format!(
                    "activation `{other}` is not supported; expected `gelu` or `relu`"
                )))
            }
        };
        let config = Config {
            architecture,
            vocab_size: need(raw.vocab_size, "vocab_size")?,
            dim,
            n_layers,
            n_heads,
            hidden_dim,
            max_position_embeddings: need(raw.max_position_embeddings, "max_position_embeddings")?,
            activation,
            layer_norm_eps: raw.layer_norm_eps.unwrap_or(1e-12),
            labels: labels_from(raw.id2label)?,
        };
        config.validate()?;
        Ok(config)
    }

    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.dim / self.n_heads
    }

    fn validate(&self) -> Result<()> {
        let bounded = |v: usize, max: usize, key: &str| {
            if v == 0 || v > max {
                Err(Error::Config(format!("`{key}` = {v} is outside 1..={max}")))
            } else {
                Ok(())
            }
        };
        bounded(self.vocab_size, MAX_VOCAB, "vocab_size")?;
        bounded(self.dim, MAX_DIM, "dim")?;
        bounded(self.n_layers, MAX_LAYERS, "n_layers")?;
        bounded(self.n_heads, MAX_DIM, "n_heads")?;
        bounded(self.hidden_dim, 4 * MAX_DIM, "hidden_dim")?;
        bounded(
            self.max_position_embeddings,
            MAX_POSITIONS,
            "max_position_embeddings",
        )?;
        if !self.dim.is_multiple_of(self.n_heads) {
            return Err(Error::Config(format!(
                "dim {} is not divisible by n_heads {}",
                self.dim, self.n_heads
            )));
        }
        if self.max_position_embeddings < 3 {
            return Err(Error::Config(
                "max_position_embeddings must leave room for [CLS] and [SEP]".into(),
            ));
        }
        Ok(())
    }
}

/// `id2label` maps "0", "1", … to names; the ids must be exactly 0..n.
fn labels_from(map: Option<BTreeMap<String, String>>) -> Result<Vec<String>> {
    let Some(map) = map else {
        return Ok(Vec::new());
    };
    let n = map.len();
    let mut labels = vec![String::new(); n];
    for (id, name) in map {
        let index: usize = id
            .parse()
            .map_err(|_| Error::Config(format!("id2label key `{id}` is not a class id")))?;
        let slot = labels
            .get_mut(index)
            .ok_or_else(|| Error::Config(format!("id2label ids must be 0..{n}; found {index}")))?;
        *slot = name;
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DISTILBERT: &str = r#"{"model_type":"distilbert","vocab_size":100,"dim":64,"n_layers":2,
        "n_heads":2,"hidden_dim":128,"max_position_embeddings":64,"activation":"gelu",
        "id2label":{"0":"NEGATIVE","1":"POSITIVE"}}"#;

    #[test]
    fn reads_a_distilbert_config() {
        let c = Config::from_json(DISTILBERT.as_bytes()).unwrap();
        assert_eq!(c.architecture, Architecture::DistilBert);
        assert_eq!(
            (c.dim, c.n_layers, c.n_heads, c.hidden_dim),
            (64, 2, 2, 128)
        );
        assert_eq!(c.labels, ["NEGATIVE", "POSITIVE"]);
        assert_eq!(c.head_dim(), 32);
    }

    #[test]
    fn reads_a_bert_config() {
        let json = r#"{"model_type":"bert","vocab_size":30522,"hidden_size":384,
            "num_hidden_layers":6,"num_attention_heads":12,"intermediate_size":1536,
            "max_position_embeddings":512,"hidden_act":"gelu","layer_norm_eps":1e-12}"#;
        let c = Config::from_json(json.as_bytes()).unwrap();
        assert_eq!(c.architecture, Architecture::Bert);
        assert_eq!((c.dim, c.n_layers, c.hidden_dim), (384, 6, 1536));
        assert!(c.labels.is_empty());
    }

    #[test]
    fn explains_what_is_wrong() {
        let msg = |json: &str| Config::from_json(json.as_bytes()).unwrap_err().to_string();
        assert!(msg("{nope").starts_with("config.json: not valid JSON"));
        assert_eq!(
            msg(r#"{"model_type":"gpt2"}"#),
            "config.json: model_type `gpt2` is not supported; expected `distilbert` or `bert`"
        );
        assert_eq!(
            msg(&DISTILBERT.replace(r#""n_heads":2"#, r#""n_heads":3"#)),
            "config.json: dim 64 is not divisible by n_heads 3"
        );
        assert_eq!(
            msg(&DISTILBERT.replace(r#""dim":64,"#, "")),
            "config.json: missing `dim`"
        );
        assert_eq!(
            msg(&DISTILBERT.replace(r#""dim":64"#, r#""dim":999999999"#)),
            "config.json: `dim` = 999999999 is outside 1..=8192"
        );
    }
}
