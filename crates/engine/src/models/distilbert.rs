//! DistilBERT for sequence classification, with Linear layers that can be quantized.
//!
//! - Paper: "DistilBERT, a distilled version of BERT: smaller, faster, cheaper and
//!   lighter", Sanh et al. 2019, <https://arxiv.org/abs/1910.01108>.
//! - Follows Hugging Face's `DistilBertForSequenceClassification`: the [CLS] row of the
//!   last hidden state → `pre_classifier` → ReLU → `classifier`. A BERT checkpoint's
//!   head (`pooler.dense` → tanh → `classifier`) is supported too.
//!
//! candle-transformers has a DistilBERT backbone, but its Linear layers are fixed to
//! candle's float Linear and its GELU is the tanh approximation; PyTorch parity needs the
//! exact (erf) GELU and swappable Linear layers, so the blocks are written here in the
//! same shape and with the same tensor names. Inputs are single, unpadded sequences,
//! so no attention mask is needed.

use candle_core::{Device, Tensor};

use crate::checkpoint::{Path, Weights};
use crate::config::{Activation, Config};
use crate::error::CandleContext;
use crate::ops::{self, LayerNorm};
use crate::quant::embedding::{EmbeddingStorage, WordEmbeddings};
use crate::quant::{Linear, Scheme};
use crate::{Error, Result};

fn linear(p: Path<'_>, in_dim: usize, out_dim: usize) -> Result<Linear> {
    if let Some(stored) = p.stored_linear(out_dim, in_dim)? {
        return Ok(stored);
    }
    let weight = p.get("weight", &[out_dim, in_dim])?;
    let bias = p.get("bias", &[out_dim])?;
    Ok(Linear::f32(weight, Some(bias)))
}

fn layer_norm(p: Path<'_>, dim: usize, eps: f64) -> Result<LayerNorm> {
    LayerNorm::new(p.get("weight", &[dim])?, p.get("bias", &[dim])?, eps)
}

fn norm(ln: &LayerNorm, x: &Tensor) -> Result<Tensor> {
    ln.forward(x)
}

/// `f` of three tensors' values (q, k and v), read in place ([`ops::with_values`]).
fn with_values3<R>(
    [a, b, c]: [&Tensor; 3],
    f: impl FnOnce(&[f32], &[f32], &[f32]) -> R,
) -> Result<R> {
    let what = "attention: q, k, v";
    ops::with_values(a, what, |a| {
        ops::with_values(b, what, |b| ops::with_values(c, what, |c| f(a, b, c)))
    })??
}

fn layer_norm_bytes(ln: &LayerNorm) -> u64 {
    4 * (ln.weight().elem_count() + ln.bias().elem_count()) as u64
}

#[derive(Clone, Debug)]
struct Embeddings {
    word_embeddings: WordEmbeddings,
    position_embeddings: Tensor,
    layer_norm: LayerNorm,
}

impl Embeddings {
    fn load(p: Path<'_>, cfg: &Config) -> Result<Self> {
        let (rows, dim) = (cfg.vocab_size, cfg.dim);
        let word_embeddings = match p.stored_table("word_embeddings", rows, dim)? {
            Some(table) => table,
            None => WordEmbeddings::F32(p.get("word_embeddings.weight", &[rows, dim])?),
        };
        Ok(Self {
            word_embeddings,
            position_embeddings: p.get(
                "position_embeddings.weight",
                &[cfg.max_position_embeddings, cfg.dim],
            )?,
            layer_norm: layer_norm(p.pp("LayerNorm"), cfg.dim, cfg.layer_norm_eps)?,
        })
    }

    fn forward(&self, ids: &[u32]) -> Result<Tensor> {
        let device = self.position_embeddings.device();
        let words = self.word_embeddings.lookup(ids, device)?;
        let positions = self
            .position_embeddings
            .narrow(0, 0, ids.len())
            .during("embeddings: positions")?;
        let x = (words + positions).during("embeddings: sum")?;
        norm(&self.layer_norm, &x.unsqueeze(0).during("embeddings")?)
    }

    /// Bytes of the two tables as stored.
    fn table_bytes(&self) -> u64 {
        self.word_embeddings.stored_bytes() + 4 * self.position_embeddings.elem_count() as u64
    }

    fn stored_bytes(&self) -> u64 {
        self.table_bytes() + layer_norm_bytes(&self.layer_norm)
    }

    fn parameters(&self) -> u64 {
        (self.word_embeddings.elem_count() + self.position_embeddings.elem_count()) as u64
            + layer_norm_bytes(&self.layer_norm) / 4
    }

    fn parts<'a>(&'a self, out: &mut Vec<(String, Part<'a>)>) {
        out.push((
            "embeddings.word_embeddings".into(),
            Part::WordEmbeddings(&self.word_embeddings),
        ));
        out.push((
            "embeddings.position_embeddings.weight".into(),
            Part::Tensor(&self.position_embeddings),
        ));
        layer_norm_parts("embeddings.LayerNorm", &self.layer_norm, out);
    }
}

fn layer_norm_parts<'a>(name: &str, ln: &'a LayerNorm, out: &mut Vec<(String, Part<'a>)>) {
    out.push((format!("{name}.weight"), Part::Tensor(ln.weight())));
    out.push((format!("{name}.bias"), Part::Tensor(ln.bias())));
}

/// One stored piece of the model, for exporters (see [`DistilBertForSequenceClassification::parts`]).
#[derive(Clone, Copy, Debug)]
pub enum Part<'a> {
    /// An f32 tensor kept as it is (position embeddings, LayerNorm weights and biases).
    Tensor(&'a Tensor),
    /// A Linear layer in its scheme, weight and bias.
    Linear(&'a Linear),
    /// The word-embedding table in its storage.
    WordEmbeddings(&'a WordEmbeddings),
}

#[derive(Clone, Debug)]
struct MultiHeadSelfAttention {
    q_lin: Linear,
    k_lin: Linear,
    v_lin: Linear,
    out_lin: Linear,
    n_heads: usize,
    head_dim: usize,
}

impl MultiHeadSelfAttention {
    fn load(p: Path<'_>, cfg: &Config) -> Result<Self> {
        let d = cfg.dim;
        Ok(Self {
            q_lin: linear(p.pp("q_lin"), d, d)?,
            k_lin: linear(p.pp("k_lin"), d, d)?,
            v_lin: linear(p.pp("v_lin"), d, d)?,
            out_lin: linear(p.pp("out_lin"), d, d)?,
            n_heads: cfg.n_heads,
            head_dim: cfg.head_dim(),
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, s, width) = x.dims3().during("attention: input")?;
        let [q, k, v] = Linear::forward_all([&self.q_lin, &self.k_lin, &self.v_lin], x)?;
        let context = with_values3([&q, &k, &v], |q, k, v| {
            ops::self_attention(q, k, v, s, self.n_heads, self.head_dim)
        })?;
        let context =
            Tensor::from_vec(context, (b, s, width), x.device()).during("attention: context")?;
        self.out_lin.forward(&context)
    }

    fn linears(&self) -> [(&'static str, &Linear); 4] {
        [
            ("attention.q_lin", &self.q_lin),
            ("attention.k_lin", &self.k_lin),
            ("attention.v_lin", &self.v_lin),
            ("attention.out_lin", &self.out_lin),
        ]
    }
}

/// What GELU costs per element, in multiply-adds of the int8 kernel (as
/// `crate::parallel` counts work): an `erfc` polynomial and an `exp` per value, measured
/// in Chromium at 5.6 ns a value against 0.041 ns an int8 multiply-add (docs/BENCHMARKS.md,
/// session 12).
const GELU_COST: usize = 136;

#[derive(Clone, Debug)]
struct Ffn {
    lin1: Linear,
    lin2: Linear,
    activation: Activation,
}

impl Ffn {
    fn load(p: Path<'_>, cfg: &Config) -> Result<Self> {
        Ok(Self {
            lin1: linear(p.pp("lin1"), cfg.dim, cfg.hidden_dim)?,
            lin2: linear(p.pp("lin2"), cfg.hidden_dim, cfg.dim)?,
            activation: cfg.activation,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.lin2.forward(&self.hidden(x)?)
    }

    /// `lin1`, then the activation: the input of `lin2`.
    fn hidden(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.lin1.forward(x)?;
        match self.activation {
            Activation::Gelu => {
                // Element-wise: the same bits however the slice is cut; each part copies
                // its own share of the input.
                let values = ops::with_values(&h, "ffn: activation", |src| {
                    let mut out = vec![0f32; src.len()];
                    let work = src.len() * GELU_COST;
                    crate::parallel::chunks_mut(&mut out, 4, work, |start, chunk| {
                        chunk.copy_from_slice(&src[start..start + chunk.len()]);
                        ops::gelu_in_place(chunk)
                    });
                    out
                })?;
                Tensor::from_vec(values, h.shape(), h.device())
            }
            Activation::Relu => h.relu(),
        }
        .during("ffn: activation")
    }
}

#[derive(Clone, Debug)]
struct TransformerBlock {
    attention: MultiHeadSelfAttention,
    sa_layer_norm: LayerNorm,
    ffn: Ffn,
    output_layer_norm: LayerNorm,
}

impl TransformerBlock {
    fn load(p: Path<'_>, cfg: &Config) -> Result<Self> {
        Ok(Self {
            attention: MultiHeadSelfAttention::load(p.pp("attention"), cfg)?,
            sa_layer_norm: layer_norm(p.pp("sa_layer_norm"), cfg.dim, cfg.layer_norm_eps)?,
            ffn: Ffn::load(p.pp("ffn"), cfg)?,
            output_layer_norm: layer_norm(p.pp("output_layer_norm"), cfg.dim, cfg.layer_norm_eps)?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let attended = (self.attention.forward(x)? + x).during("block: residual")?;
        let h = norm(&self.sa_layer_norm, &attended)?;
        let fed = (self.ffn.forward(&h)? + &h).during("block: residual")?;
        norm(&self.output_layer_norm, &fed)
    }

    /// The first row of [`Self::forward`] (`[1, 1, dim]`), bit for bit: all a classifier
    /// reads of the last block. Where every layer after the keys and values treats rows
    /// apart, only [CLS]'s query, attention row, projection and feed-forward are computed;
    /// a dynamic int8 layer takes its scale from every row, so then only `lin2` is cut.
    fn forward_first_row(&self, x: &Tensor) -> Result<Tensor> {
        let a = &self.attention;
        let x0 = x.narrow(1, 0, 1).during("block: first row")?;
        let row_by_row = [&a.q_lin, &a.out_lin, &self.ffn.lin1, &self.ffn.lin2]
            .iter()
            .all(|l| l.rows_independent());
        let (fed, h0) = if row_by_row {
            let tokens = x.dim(1).during("block: tokens")?;
            let [k, v] = Linear::forward_all([&a.k_lin, &a.v_lin], x)?;
            let q0 = a.q_lin.forward(&x0)?;
            let context = with_values3([&q0, &k, &v], |q0, k, v| {
                ops::first_query_attention(q0, k, v, tokens, a.n_heads, a.head_dim)
            })?;
            let context =
                Tensor::from_vec(context, x0.shape(), x.device()).during("attention: context")?;
            let attended = (a.out_lin.forward(&context)? + &x0).during("block: residual")?;
            let h0 = norm(&self.sa_layer_norm, &attended)?;
            (self.ffn.forward(&h0)?, h0)
        } else {
            let attended = (a.forward(x)? + x).during("block: residual")?;
            let h = norm(&self.sa_layer_norm, &attended)?;
            let fed = self.ffn.lin2.forward_first_row(&self.ffn.hidden(&h)?)?;
            (fed, h.narrow(1, 0, 1).during("block: first row")?)
        };
        norm(
            &self.output_layer_norm,
            &(fed + h0).during("block: residual")?,
        )
    }

    fn linears(&self) -> Vec<(&'static str, &Linear)> {
        let mut all = self.attention.linears().to_vec();
        all.push(("ffn.lin1", &self.ffn.lin1));
        all.push(("ffn.lin2", &self.ffn.lin2));
        all
    }

    fn stored_bytes(&self) -> u64 {
        self.linears()
            .iter()
            .map(|(_, l)| l.stored_bytes())
            .sum::<u64>()
            + layer_norm_bytes(&self.sa_layer_norm)
            + layer_norm_bytes(&self.output_layer_norm)
    }
}

/// The classification head on the [CLS] row.
#[derive(Clone, Debug)]
enum Head {
    /// DistilBERT: `pre_classifier` → ReLU → `classifier`.
    PreClassifier {
        pre_classifier: Linear,
        classifier: Linear,
    },
    /// BERT: `pooler.dense` → tanh → `classifier`.
    Pooler { dense: Linear, classifier: Linear },
}

impl Head {
    fn load(w: &Weights, cfg: &Config, labels: usize) -> Result<Self> {
        let d = cfg.dim;
        if w.contains("pre_classifier.weight") {
            Ok(Head::PreClassifier {
                pre_classifier: linear(w.pp("pre_classifier"), d, d)?,
                classifier: linear(w.pp("classifier"), d, labels)?,
            })
        } else if w.contains("pooler.dense.weight") && w.contains("classifier.weight") {
            Ok(Head::Pooler {
                dense: linear(w.pp("pooler.dense"), d, d)?,
                classifier: linear(w.pp("classifier"), d, labels)?,
            })
        } else {
            Err(Error::MissingTensor {
                name: "pre_classifier.weight (no classification head: this checkpoint is a bare encoder)"
                    .into(),
            })
        }
    }

    fn forward(&self, cls: &Tensor) -> Result<Tensor> {
        match self {
            Head::PreClassifier {
                pre_classifier,
                classifier,
            } => {
                let h = pre_classifier.forward(cls)?.relu().during("head: relu")?;
                classifier.forward(&h)
            }
            Head::Pooler { dense, classifier } => {
                let h = dense.forward(cls)?.tanh().during("head: tanh")?;
                classifier.forward(&h)
            }
        }
    }

    fn linears(&self) -> [(&'static str, &Linear); 2] {
        match self {
            Head::PreClassifier {
                pre_classifier,
                classifier,
            } => [
                ("pre_classifier", pre_classifier),
                ("classifier", classifier),
            ],
            Head::Pooler { dense, classifier } => {
                [("pooler.dense", dense), ("classifier", classifier)]
            }
        }
    }
}

/// One Linear layer of the model, by its checkpoint name.
#[derive(Clone, Debug)]
pub struct LinearInfo {
    /// Hugging Face name without `.weight`, e.g. `transformer.layer.0.attention.q_lin`.
    pub name: String,
    /// Input width.
    pub in_features: usize,
    /// Output width.
    pub out_features: usize,
    /// The scheme it is stored in.
    pub scheme: Scheme,
    /// Bytes as stored.
    pub bytes: u64,
    /// Why the layer stayed f32 under a scheme that could not take its shape.
    pub stays_f32_because: Option<String>,
}

/// `DistilBertForSequenceClassification`.
#[derive(Clone, Debug)]
pub struct DistilBertForSequenceClassification {
    embeddings: Embeddings,
    layers: Vec<TransformerBlock>,
    head: Head,
    labels: usize,
}

impl DistilBertForSequenceClassification {
    /// Builds the model from checkpoint tensors; `labels` is the number of classes.
    pub fn load(w: &Weights, cfg: &Config, labels: usize) -> Result<Self> {
        let embeddings = Embeddings::load(w.pp("embeddings"), cfg)?;
        let layers = (0..cfg.n_layers)
            .map(|i| TransformerBlock::load(w.pp(format!("transformer.layer.{i}")), cfg))
            .collect::<Result<Vec<_>>>()?;
        let head = Head::load(w, cfg, labels)?;
        Ok(Self {
            embeddings,
            layers,
            head,
            labels,
        })
    }

    /// The last hidden state `[1, seq, dim]` for one unpadded sequence of ids.
    pub fn hidden_states(&self, ids: &[u32]) -> Result<Tensor> {
        // One forward: every pool thread stays awake for its splits (`parallel`).
        crate::parallel::one_forward(self.work(ids.len()), || {
            let mut x = self.embeddings.forward(ids)?;
            for layer in &self.layers {
                x = layer.forward(&x)?;
            }
            Ok(x)
        })
    }

    /// The [CLS] row of the last hidden state, `[1, 1, dim]`: [`Self::hidden_states`]'
    /// first row, bit for bit, without the last block's work on the other rows.
    pub fn cls_hidden_state(&self, ids: &[u32]) -> Result<Tensor> {
        crate::parallel::one_forward(self.work(ids.len()), || {
            let mut x = self.embeddings.forward(ids)?;
            let Some((last, first)) = self.layers.split_last() else {
                return x.narrow(1, 0, 1).during("head: [CLS] row");
            };
            for layer in first {
                x = layer.forward(&x)?;
            }
            last.forward_first_row(&x)
        })
    }

    /// Multiply-adds of the Linear layers over `tokens` rows: a forward's size, as
    /// `crate::parallel` counts work.
    fn work(&self, tokens: usize) -> usize {
        let per_token: usize = self
            .linears()
            .iter()
            .map(|(_, l)| l.dims().0 * l.dims().1)
            .sum();
        tokens * per_token
    }

    /// Logits for one unpadded sequence of ids.
    pub fn logits(&self, ids: &[u32]) -> Result<Vec<f32>> {
        let cls = self
            .cls_hidden_state(ids)?
            .squeeze(1)
            .during("head: [CLS] row")?;
        let logits = self.head.forward(&cls)?;
        logits
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .during("head: logits")
    }

    /// Number of classes.
    pub fn num_labels(&self) -> usize {
        self.labels
    }

    /// Every Linear layer, in forward order, with its checkpoint name.
    pub fn linears(&self) -> Vec<(String, &Linear)> {
        let mut all = Vec::new();
        for (i, layer) in self.layers.iter().enumerate() {
            for (name, l) in layer.linears() {
                all.push((format!("transformer.layer.{i}.{name}"), l));
            }
        }
        for (name, l) in self.head.linears() {
            all.push((name.to_string(), l));
        }
        all
    }

    /// A copy whose Linear layers are replaced by `f(name, layer)`.
    pub fn map_linears(&self, f: impl Fn(&str, &Linear) -> Result<Linear>) -> Result<Self> {
        let mut out = self.clone();
        for (i, layer) in out.layers.iter_mut().enumerate() {
            let name = |n: &str| format!("transformer.layer.{i}.{n}");
            let a = &mut layer.attention;
            a.q_lin = f(&name("attention.q_lin"), &a.q_lin)?;
            a.k_lin = f(&name("attention.k_lin"), &a.k_lin)?;
            a.v_lin = f(&name("attention.v_lin"), &a.v_lin)?;
            a.out_lin = f(&name("attention.out_lin"), &a.out_lin)?;
            layer.ffn.lin1 = f(&name("ffn.lin1"), &layer.ffn.lin1)?;
            layer.ffn.lin2 = f(&name("ffn.lin2"), &layer.ffn.lin2)?;
        }
        out.head = match &out.head {
            Head::PreClassifier {
                pre_classifier,
                classifier,
            } => Head::PreClassifier {
                pre_classifier: f("pre_classifier", pre_classifier)?,
                classifier: f("classifier", classifier)?,
            },
            Head::Pooler { dense, classifier } => Head::Pooler {
                dense: f("pooler.dense", dense)?,
                classifier: f("classifier", classifier)?,
            },
        };
        Ok(out)
    }

    /// Bytes of every weight as stored in this model's scheme(s).
    pub fn stored_bytes(&self) -> u64 {
        self.embeddings.stored_bytes()
            + self
                .layers
                .iter()
                .map(TransformerBlock::stored_bytes)
                .sum::<u64>()
            + self
                .head
                .linears()
                .iter()
                .map(|(_, l)| l.stored_bytes())
                .sum::<u64>()
    }

    /// Every stored piece by DistilBERT name (no `distilbert.` prefix), in forward order:
    /// a [`Part::Tensor`] is named with its `.weight`/`.bias`, a Linear layer or an embedding
    /// table without it (`transformer.layer.0.attention.q_lin`, `embeddings.word_embeddings`).
    pub fn parts(&self) -> Vec<(String, Part<'_>)> {
        let mut out = Vec::new();
        self.embeddings.parts(&mut out);
        for (i, layer) in self.layers.iter().enumerate() {
            let name = |n: &str| format!("transformer.layer.{i}.{n}");
            for (n, l) in layer.attention.linears() {
                out.push((name(n), Part::Linear(l)));
            }
            layer_norm_parts(&name("sa_layer_norm"), &layer.sa_layer_norm, &mut out);
            out.push((name("ffn.lin1"), Part::Linear(&layer.ffn.lin1)));
            out.push((name("ffn.lin2"), Part::Linear(&layer.ffn.lin2)));
            layer_norm_parts(
                &name("output_layer_norm"),
                &layer.output_layer_norm,
                &mut out,
            );
        }
        for (n, l) in self.head.linears() {
            out.push((n.to_string(), Part::Linear(l)));
        }
        out
    }

    /// How the word-embedding table is stored.
    pub fn embedding_storage(&self) -> EmbeddingStorage {
        self.embeddings.word_embeddings.storage()
    }

    /// A copy whose word-embedding table is in `storage` (only an f32 table converts).
    pub fn with_embeddings(&self, storage: EmbeddingStorage) -> Result<Self> {
        let mut out = self.clone();
        out.embeddings.word_embeddings = self.embeddings.word_embeddings.convert(storage)?;
        Ok(out)
    }

    /// Bytes of the word and position embedding tables as stored.
    pub fn embedding_bytes(&self) -> u64 {
        self.embeddings.table_bytes()
    }

    /// Number of weights outside the Linear layers (embeddings, LayerNorms), whatever
    /// their storage.
    pub fn float_parameters(&self) -> u64 {
        self.embeddings.parameters()
            + self
                .layers
                .iter()
                .map(|l| {
                    (layer_norm_bytes(&l.sa_layer_norm) + layer_norm_bytes(&l.output_layer_norm))
                        / 4
                })
                .sum::<u64>()
    }

    /// Bytes outside the Linear layers as stored: the embedding tables (f32, or int8 with
    /// row scales) and the f32 LayerNorms.
    pub fn float_bytes(&self) -> u64 {
        self.embeddings.stored_bytes()
            + self
                .layers
                .iter()
                .map(|l| {
                    layer_norm_bytes(&l.sa_layer_norm) + layer_norm_bytes(&l.output_layer_norm)
                })
                .sum::<u64>()
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        self.embeddings.position_embeddings.device()
    }
}
