//! A tokenizer and a model together: text in, logits, probabilities and a label out.
//! This is what the CLI, the web worker and the tests all call.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::checkpoint::Weights;
use crate::config::Config;
use crate::metrics;
use crate::models::distilbert::{DistilBertForSequenceClassification, LinearInfo};
use crate::quant::embedding::EmbeddingStorage;
use crate::quant::{QuantizeOptions, Scheme};
use crate::tokenize::{Encoding, TextEncoder};
use crate::{Error, Result};

/// A tokenizer file: `tokenizer.json`, or a BERT `vocab.txt`.
#[derive(Clone, Debug)]
pub enum TokenizerFile {
    /// Contents of `tokenizer.json`.
    Json(Vec<u8>),
    /// Contents of `vocab.txt`.
    Vocab(Vec<u8>),
}

/// The files of a Hugging Face model, as bytes: the engine never touches disk or network.
#[derive(Clone, Debug)]
pub struct ModelFiles {
    /// Contents of `config.json`.
    pub config: Vec<u8>,
    /// The tokenizer.
    pub tokenizer: TokenizerFile,
    /// Contents of `model.safetensors`.
    pub weights: Vec<u8>,
}

/// The result of classifying one text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Raw scores, one per class.
    pub logits: Vec<f32>,
    /// Softmax of the logits.
    pub probabilities: Vec<f32>,
    /// Index of the largest logit.
    pub label_id: usize,
    /// Its name from `id2label`.
    pub label: String,
    /// Tokens fed to the model, [CLS] and [SEP] included.
    pub tokens: usize,
    /// Whether the text was cut to the model's maximum length.
    pub truncated: bool,
}

/// Bytes of a model as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelSize {
    /// Everything.
    pub total_bytes: u64,
    /// The Linear layers, in the model's scheme.
    pub linear_bytes: u64,
    /// Everything outside the Linear layers: the embedding tables as stored (f32, or an
    /// int8 word table with its row scales) and the f32 LayerNorms.
    pub float_bytes: u64,
    /// Of `float_bytes`, the word and position embedding tables as stored.
    #[serde(default)]
    pub embedding_bytes: u64,
}

/// The shape of a loaded model, for display.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Transformer blocks.
    pub layers: usize,
    /// Hidden width.
    pub dim: usize,
    /// Attention heads.
    pub heads: usize,
    /// Feed-forward width.
    pub hidden_dim: usize,
    /// Vocabulary rows.
    pub vocab_size: usize,
    /// Longest input in tokens.
    pub max_positions: usize,
    /// Number of weights.
    pub parameters: u64,
    /// Class names.
    pub labels: Vec<String>,
}

/// A DistilBERT sequence classifier, f32 or quantized. Cheap to clone.
#[derive(Clone)]
pub struct Classifier {
    encoder: Arc<TextEncoder>,
    model: Arc<DistilBertForSequenceClassification>,
    config: Arc<Config>,
    labels: Arc<Vec<String>>,
    scheme: Scheme,
}

impl Classifier {
    /// Loads an f32 classifier. BERT checkpoints are converted on load.
    pub fn load(files: &ModelFiles) -> Result<Self> {
        Self::load_with_head(files, None)
    }

    /// Loads an f32 classifier whose head (`pre_classifier.*`, `classifier.*`) comes from
    /// a second safetensors file, e.g. a bare BERT encoder and a head trained for it.
    pub fn load_with_head(files: &ModelFiles, head: Option<&[u8]>) -> Result<Self> {
        let config = Config::from_json(&files.config)?;
        let encoder = Self::encoder(files, &config)?;
        let mut weights = Weights::from_safetensors(&files.weights, &config)?;
        if let Some(head) = head {
            weights.merge_safetensors(head)?;
        }
        Self::from_weights(config, encoder, &weights, Scheme::F32)
    }

    /// Loads a classifier exported by [`Classifier::export_quantized`]: `files.weights` is
    /// that file, whose layers are used as stored (bit for bit), not quantized again.
    pub fn load_quantized(files: &ModelFiles) -> Result<Self> {
        let config = Config::from_json(&files.config)?;
        let encoder = Self::encoder(files, &config)?;
        let (weights, scheme) = crate::export::read::quantized(&files.weights, &config)?;
        Self::from_weights(config, encoder, &weights, scheme)
    }

    fn encoder(files: &ModelFiles, config: &Config) -> Result<TextEncoder> {
        let encoder = match &files.tokenizer {
            TokenizerFile::Json(b) => TextEncoder::from_json(b, config.max_position_embeddings)?,
            TokenizerFile::Vocab(b) => TextEncoder::from_vocab(b, config.max_position_embeddings)?,
        };
        if encoder.vocab_size() > config.vocab_size {
            return Err(Error::Config(format!(
                "the tokenizer has {} tokens but vocab_size is {}: they belong to different models",
                encoder.vocab_size(),
                config.vocab_size
            )));
        }
        Ok(encoder)
    }

    fn from_weights(
        config: Config,
        encoder: TextEncoder,
        weights: &Weights,
        scheme: Scheme,
    ) -> Result<Self> {
        let n_labels = match config.labels.len() {
            0 => head_rows(weights)?,
            n => n,
        };
        let model = DistilBertForSequenceClassification::load(weights, &config, n_labels)?;
        let labels = if config.labels.is_empty() {
            (0..n_labels).map(|i| format!("LABEL_{i}")).collect()
        } else {
            config.labels.clone()
        };
        Ok(Self {
            encoder: Arc::new(encoder),
            model: Arc::new(model),
            config: Arc::new(config),
            labels: Arc::new(labels),
            scheme,
        })
    }

    /// A new classifier with the same tokenizer and this model's Linear weights in
    /// `scheme`; everything else stays f32. Same as [`Classifier::quantize_with`] with
    /// default options.
    pub fn quantize(&self, scheme: Scheme) -> Result<Self> {
        self.quantize_with(scheme, QuantizeOptions::default())
    }

    /// A new classifier with the Linear weights in `scheme` and the word-embedding table
    /// stored as `options` say (e.g. [`EmbeddingStorage::Int8PerRow`], which works with
    /// every scheme, f32 included). Only the f32 model can be quantized.
    pub fn quantize_with(&self, scheme: Scheme, options: QuantizeOptions) -> Result<Self> {
        if self.scheme != Scheme::F32 {
            return Err(Error::AlreadyQuantized(self.scheme.name()));
        }
        if self.embedding_storage() != EmbeddingStorage::F32 {
            return Err(Error::AlreadyQuantized("int8-per-row embeddings"));
        }
        let model = self
            .model
            .map_linears(|_, l| l.quantize(scheme))?
            .with_embeddings(options.embeddings)?;
        Ok(Self {
            model: Arc::new(model),
            scheme,
            ..self.clone()
        })
    }

    /// A copy whose word-embedding table is stored as `storage`, the Linear layers kept as
    /// they are: int8 embeddings for a model already quantized or mixed by a recipe. Only
    /// an f32 table converts ([`Error::AlreadyQuantized`] for an int8 one).
    pub fn with_embeddings(&self, storage: EmbeddingStorage) -> Result<Self> {
        Ok(Self {
            model: Arc::new(self.model.with_embeddings(storage)?),
            ..self.clone()
        })
    }

    /// This (f32) model as a Hugging Face folder's `config.json` and `model.safetensors`
    /// (see [`crate::export::hf`]).
    pub fn export_hf(
        &self,
        precision: crate::export::hf::Precision,
    ) -> Result<crate::export::hf::HfFiles> {
        crate::export::hf::folder(self, precision)
    }

    /// This model, in whatever scheme and embedding storage, as one safetensors file in the
    /// layout of [`crate::export::quantized`]; [`Classifier::load_quantized`] reads it back.
    pub fn export_quantized(&self) -> Result<Vec<u8>> {
        crate::export::quantized::write(self)
    }

    /// The `config.json` to write beside an export (DistilBERT layout, this model's labels).
    pub fn export_config(&self) -> Vec<u8> {
        crate::export::hf::config_json(
            &self.config,
            &self.labels,
            crate::export::hf::Precision::F32,
        )
    }

    /// How the word-embedding table is stored.
    pub fn embedding_storage(&self) -> EmbeddingStorage {
        self.model.embedding_storage()
    }

    /// The model's shape and labels, as read from `config.json`.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A copy where only the Linear layer `layer` is in `scheme` and every other one
    /// stays f32: per-layer sensitivity. The copy still reports [`Scheme::F32`] as its
    /// scheme (most of it is), so it cannot be quantized again as a whole.
    pub fn quantize_only(&self, layer: &str, scheme: Scheme) -> Result<Self> {
        if self.scheme != Scheme::F32 || self.embedding_storage() != EmbeddingStorage::F32 {
            return Err(Error::AlreadyQuantized(self.scheme.name()));
        }
        self.linear(layer)?;
        let model = self.model.map_linears(|name, l| {
            if name == layer {
                l.quantize(scheme)
            } else {
                Ok(l.clone())
            }
        })?;
        Ok(Self {
            model: Arc::new(model),
            ..self.clone()
        })
    }

    /// The Linear layer named `name` (as [`Classifier::linears`] names them).
    pub fn linear(&self, name: &str) -> Result<&crate::quant::Linear> {
        let all = self.model.linears();
        let known = all
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        match all.iter().find(|(n, _)| n == name) {
            Some((_, l)) => Ok(*l),
            None => Err(Error::UnknownLayer {
                given: name.to_string(),
                known,
            }),
        }
    }

    /// The scheme the Linear layers are stored in.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Tokenizes a text for this model.
    pub fn encode(&self, text: &str) -> Result<Encoding> {
        self.encoder.encode(text)
    }

    /// One forward pass: the logits.
    pub fn logits(&self, enc: &Encoding) -> Result<Vec<f32>> {
        self.model.logits(&enc.ids)
    }

    /// One forward pass, with probabilities and the label.
    pub fn predict(&self, enc: &Encoding) -> Result<Prediction> {
        let logits = self.logits(enc)?;
        let label_id = metrics::argmax(&logits);
        Ok(Prediction {
            probabilities: metrics::softmax(&logits),
            label: self.labels.get(label_id).cloned().unwrap_or_default(),
            label_id,
            logits,
            tokens: enc.ids.len(),
            truncated: enc.truncated,
        })
    }

    /// Tokenizes and classifies one text.
    pub fn classify(&self, text: &str) -> Result<Prediction> {
        self.predict(&self.encode(text)?)
    }

    /// Class names by id.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Bytes as stored in this scheme.
    pub fn size(&self) -> ModelSize {
        let total = self.model.stored_bytes();
        let float = self.model.float_bytes();
        ModelSize {
            total_bytes: total,
            linear_bytes: total - float,
            float_bytes: float,
            embedding_bytes: self.model.embedding_bytes(),
        }
    }

    /// Every Linear layer with its shape, scheme and bytes; a layer that stayed f32 under
    /// a quantized scheme says why.
    pub fn linears(&self) -> Vec<LinearInfo> {
        self.model
            .linears()
            .into_iter()
            .map(|(name, l)| {
                let (out_features, in_features) = l.dims();
                LinearInfo {
                    name,
                    in_features,
                    out_features,
                    scheme: l.scheme(),
                    bytes: l.stored_bytes(),
                    stays_f32_because: self.scheme.unfit_reason(in_features),
                }
            })
            .collect()
    }

    /// The model's shape.
    pub fn info(&self) -> ModelInfo {
        let c = &self.config;
        let linear_params: u64 = self
            .linears()
            .iter()
            .map(|l| (l.in_features * l.out_features + l.out_features) as u64)
            .sum();
        let float_params = self.model.float_parameters();
        ModelInfo {
            layers: c.n_layers,
            dim: c.dim,
            heads: c.n_heads,
            hidden_dim: c.hidden_dim,
            vocab_size: c.vocab_size,
            max_positions: c.max_position_embeddings,
            parameters: linear_params + float_params,
            labels: self.labels.to_vec(),
        }
    }

    /// The underlying model, for tests and tools that look inside.
    pub fn model(&self) -> &DistilBertForSequenceClassification {
        &self.model
    }
}

/// Without `id2label`, the classifier's row count says how many classes there are.
fn head_rows(w: &Weights) -> Result<usize> {
    match w.dims("classifier.weight").as_deref() {
        Some([rows, _]) => Ok(*rows),
        Some(other) => Err(Error::ShapeMismatch {
            name: "classifier.weight".into(),
            expected: vec![0, 0],
            actual: other.to_vec(),
        }),
        None => Err(Error::MissingTensor {
            name: "classifier.weight (no classification head: this checkpoint is a bare encoder)"
                .into(),
        }),
    }
}

/// f32 against a quantized model on one text: what the lab shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The scheme of the quantized side.
    pub scheme: Scheme,
    /// The f32 model's prediction.
    pub f32: Prediction,
    /// The quantized model's prediction.
    pub quantized: Prediction,
    /// Mean squared error between the two logit vectors (the seed's distillation loss).
    pub mse: f32,
    /// Largest absolute difference between the logits.
    pub max_abs_diff: f32,
    /// Bytes of the f32 model.
    pub f32_size: ModelSize,
    /// Bytes of the quantized model.
    pub quantized_size: ModelSize,
}

/// A Linear layer a scheme could not take, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaysF32 {
    /// The layer's checkpoint name.
    pub layer: String,
    /// The reason, e.g. the input width is not a whole number of blocks.
    pub reason: String,
}

/// One scheme of a model against its f32 original on one input, timing aside: a row of
/// `squeeze compare` and of the lab's scheme table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchemeReport {
    /// The scheme.
    pub scheme: Scheme,
    /// Bytes of the whole model as stored.
    pub bytes: u64,
    /// f32 bytes over these bytes.
    pub compression: f64,
    /// Logits, probabilities and label.
    pub prediction: Prediction,
    /// MSE of the logits against f32.
    pub mse: f32,
    /// Largest |logit difference| against f32.
    pub max_abs_diff: f32,
    /// Same label as f32.
    pub agrees: bool,
    /// Linear layers stored in the scheme.
    pub layers_quantized: usize,
    /// All Linear layers.
    pub layers_total: usize,
    /// Linear layers that stayed f32, with the reason.
    pub stays_f32: Vec<StaysF32>,
}

impl SchemeReport {
    /// Runs `model` on `enc` and sets it against `reference`, the f32 model's prediction
    /// on the same encoding; `f32_bytes` is the f32 model's stored size.
    pub fn measure(
        model: &Classifier,
        enc: &Encoding,
        reference: &Prediction,
        f32_bytes: u64,
    ) -> Result<Self> {
        let prediction = model.predict(enc)?;
        let linears = model.linears();
        let stays_f32: Vec<StaysF32> = linears
            .iter()
            .filter_map(|l| {
                let reason = l.stays_f32_because.clone()?;
                Some(StaysF32 {
                    layer: l.name.clone(),
                    reason,
                })
            })
            .collect();
        let bytes = model.size().total_bytes;
        Ok(Self {
            scheme: model.scheme(),
            bytes,
            compression: f32_bytes as f64 / bytes.max(1) as f64,
            mse: metrics::mse(&reference.logits, &prediction.logits)?,
            max_abs_diff: metrics::max_abs_diff(&reference.logits, &prediction.logits)?,
            agrees: prediction.label_id == reference.label_id,
            layers_quantized: linears.len() - stays_f32.len(),
            layers_total: linears.len(),
            stays_f32,
            prediction,
        })
    }
}

/// Runs both models on `text` and measures how far apart their logits are.
pub fn compare(f32_model: &Classifier, quantized: &Classifier, text: &str) -> Result<Comparison> {
    let enc = f32_model.encode(text)?;
    let a = f32_model.predict(&enc)?;
    let b = quantized.predict(&enc)?;
    Ok(Comparison {
        scheme: quantized.scheme(),
        mse: metrics::mse(&a.logits, &b.logits)?,
        max_abs_diff: metrics::max_abs_diff(&a.logits, &b.logits)?,
        f32: a,
        quantized: b,
        f32_size: f32_model.size(),
        quantized_size: quantized.size(),
    })
}
