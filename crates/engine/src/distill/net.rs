//! A DistilBERT sequence classifier made of candle `Var`s, so that it can be trained.
//!
//! The same network as `models::distilbert` (Hugging Face `DistilBertForSequenceClassification`,
//! exact-erf GELU, the [CLS] row → `pre_classifier` → ReLU → `classifier`) and the same tensor
//! names, but batched: sentences are right-padded and an additive mask keeps padding out of
//! attention, which leaves every real position's numbers as in an unpadded forward. Only
//! ops with a backward pass are used: candle-nn's fused LayerNorm and `softmax_last_dim`
//! have none, so both are written out here.

use std::collections::{BTreeMap, BTreeSet};

use candle_core::{DType, Device, Tensor, Var, D};

use super::{CandleContext, Error, Result};
use crate::checkpoint::Weights;

/// The shape of a DistilBERT classifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Rows of the word-embedding table.
    pub vocab: usize,
    /// Hidden width.
    pub dim: usize,
    /// Transformer blocks.
    pub layers: usize,
    /// Attention heads per block.
    pub heads: usize,
    /// Feed-forward width.
    pub hidden: usize,
    /// Position-embedding rows (the longest input).
    pub positions: usize,
    /// Classes.
    pub labels: usize,
}

impl Shape {
    /// The shape a checkpoint's `config` describes, with a head of `labels` classes.
    pub fn of(config: &crate::Config, labels: usize) -> Self {
        Shape {
            vocab: config.vocab_size,
            dim: config.dim,
            layers: config.n_layers,
            heads: config.n_heads,
            hidden: config.hidden_dim,
            positions: config.max_position_embeddings,
            labels,
        }
    }

    /// Every tensor of the model with its DistilBERT name (no `distilbert.` prefix) and shape.
    pub fn tensors(&self) -> Vec<(String, Vec<usize>)> {
        let (d, h) = (self.dim, self.hidden);
        let mut out = vec![
            (
                "embeddings.word_embeddings.weight".to_string(),
                vec![self.vocab, d],
            ),
            (
                "embeddings.position_embeddings.weight".to_string(),
                vec![self.positions, d],
            ),
            ("embeddings.LayerNorm.weight".to_string(), vec![d]),
            ("embeddings.LayerNorm.bias".to_string(), vec![d]),
        ];
        for i in 0..self.layers {
            let p = |n: &str| format!("transformer.layer.{i}.{n}");
            for lin in ["q_lin", "k_lin", "v_lin", "out_lin"] {
                out.push((p(&format!("attention.{lin}.weight")), vec![d, d]));
                out.push((p(&format!("attention.{lin}.bias")), vec![d]));
            }
            out.push((p("sa_layer_norm.weight"), vec![d]));
            out.push((p("sa_layer_norm.bias"), vec![d]));
            out.push((p("ffn.lin1.weight"), vec![h, d]));
            out.push((p("ffn.lin1.bias"), vec![h]));
            out.push((p("ffn.lin2.weight"), vec![d, h]));
            out.push((p("ffn.lin2.bias"), vec![d]));
            out.push((p("output_layer_norm.weight"), vec![d]));
            out.push((p("output_layer_norm.bias"), vec![d]));
        }
        out.push(("pre_classifier.weight".into(), vec![d, d]));
        out.push(("pre_classifier.bias".into(), vec![d]));
        out.push(("classifier.weight".into(), vec![self.labels, d]));
        out.push(("classifier.bias".into(), vec![self.labels]));
        out
    }

    /// Number of weights.
    pub fn parameters(&self) -> u64 {
        self.tensors()
            .iter()
            .map(|(_, s)| s.iter().product::<usize>() as u64)
            .sum()
    }

    /// Bytes of the weights in f32 (what `model.safetensors` holds, less its header).
    pub fn f32_bytes(&self) -> u64 {
        4 * self.parameters()
    }

    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.dim / self.heads
    }
}

/// Right-padded token ids of several sentences and the mask that hides the padding.
pub struct Batch {
    ids: Tensor,
    mask: Tensor,
    valid: Tensor,
    rows: usize,
    len: usize,
}

impl Batch {
    /// Pads `seqs` (each `[CLS] … [SEP]`, non-empty) to the longest one.
    pub fn new(seqs: &[&[u32]], device: &Device) -> Result<Self> {
        let rows = seqs.len();
        let len = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
        if rows == 0 || len == 0 {
            return Err(Error::Data(
                "a batch needs at least one non-empty sentence".into(),
            ));
        }
        let mut ids = vec![0u32; rows * len];
        let mut valid = vec![0f32; rows * len];
        for (r, s) in seqs.iter().enumerate() {
            ids[r * len..r * len + s.len()].copy_from_slice(s);
            valid[r * len..r * len + s.len()].fill(1.0);
        }
        // Hugging Face fills masked scores with the dtype's minimum; a large negative
        // bias gives the same softmax (exp underflows to exactly 0) and keeps gradients finite.
        let mask: Vec<f32> = valid.iter().map(|v| (v - 1.0) * 1e9).collect();
        Ok(Self {
            ids: Tensor::from_vec(ids, (rows, len), device).during("batch ids")?,
            mask: Tensor::from_vec(mask, (rows, 1, 1, len), device).during("batch mask")?,
            valid: Tensor::from_vec(valid, (rows * len, 1), device).during("batch mask")?,
            rows,
            len,
        })
    }

    /// Sentences in the batch.
    pub fn rows(&self) -> usize {
        self.rows
    }
}

/// What one forward pass gives.
pub struct Output {
    /// `[rows, labels]`.
    pub logits: Tensor,
    /// The last hidden state's [CLS] row, `[rows, dim]`.
    pub cls: Tensor,
}

/// Per-unit importance measured on real text, to choose what a smaller student keeps
/// (see `prune.rs`). Sums over real (unpadded) tokens; divide by `tokens` for means.
#[derive(Clone, Debug, Default)]
pub struct Importance {
    /// Real tokens seen.
    pub tokens: f64,
    /// Sentences seen.
    pub sentences: f64,
    /// Per hidden dimension: squared LayerNorm outputs, summed over every LayerNorm.
    pub dims: Vec<f64>,
    /// Per layer, per head: the norm of what the head writes into the residual stream.
    pub heads: Vec<Vec<f64>>,
    /// Per layer, per feed-forward unit: |GELU output| × the norm of its `lin2` column.
    pub neurons: Vec<Vec<f64>>,
    /// Per `pre_classifier` unit: its ReLU output × the norm of its `classifier` column.
    pub pre_classifier: Vec<f64>,
}

/// A trainable DistilBERT classifier.
pub struct Net {
    shape: Shape,
    eps: f64,
    params: BTreeMap<String, Var>,
    trainable: BTreeSet<String>,
}

impl Net {
    /// Builds the net from named tensors (DistilBERT names, f32, any device); every one
    /// that `shape` implies must be there with that shape. Everything starts trainable.
    pub fn from_tensors(
        shape: Shape,
        eps: f64,
        mut get: impl FnMut(&str, &[usize]) -> Result<Tensor>,
    ) -> Result<Self> {
        let mut params = BTreeMap::new();
        for (name, dims) in shape.tensors() {
            let t = get(&name, &dims)?;
            if t.dims() != dims.as_slice() {
                return Err(Error::Data(format!(
                    "tensor `{name}` has shape {:?}, expected {dims:?}",
                    t.dims()
                )));
            }
            let t = t.to_dtype(DType::F32).during("net: weight to f32")?;
            params.insert(name, Var::from_tensor(&t).during("net: weight")?);
        }
        let trainable = params.keys().cloned().collect();
        Ok(Self {
            shape,
            eps,
            params,
            trainable,
        })
    }

    /// Builds the net from engine checkpoint weights (BERT already converted).
    pub fn from_weights(w: &Weights, shape: Shape, eps: f64) -> Result<Self> {
        Self::from_tensors(shape, eps, |name, dims| Ok(w.get(name, dims)?))
    }

    /// The model's shape.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// LayerNorm epsilon.
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// Trains only the tensors whose names `keep` accepts; the rest are constants.
    pub fn set_trainable(&mut self, keep: impl Fn(&str) -> bool) {
        self.trainable = self.params.keys().filter(|n| keep(n)).cloned().collect();
    }

    /// The tensors being trained, for an optimiser.
    pub fn trainable_vars(&self) -> Vec<Var> {
        self.trainable
            .iter()
            .filter_map(|n| self.params.get(n).cloned())
            .collect()
    }

    /// The tensors being trained, with their names.
    pub fn trainable_named(&self) -> Vec<(String, Var)> {
        self.trainable
            .iter()
            .filter_map(|n| self.params.get(n).map(|v| (n.clone(), v.clone())))
            .collect()
    }

    /// Tensor `name` as it stands (a copy of the handle, not of the data).
    pub fn tensor(&self, name: &str) -> Result<Tensor> {
        self.params
            .get(name)
            .map(|v| v.as_tensor().clone())
            .ok_or_else(|| Error::Data(format!("the net has no tensor `{name}`")))
    }

    /// Every tensor by name.
    pub fn tensors(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.params.iter().map(|(n, v)| (n.as_str(), v.as_tensor()))
    }

    /// Overwrites tensor `name` with `value` (same shape).
    pub fn set(&mut self, name: &str, value: &Tensor) -> Result<()> {
        let var = self
            .params
            .get(name)
            .ok_or_else(|| Error::Data(format!("the net has no tensor `{name}`")))?;
        var.set(value).during("net: set a weight")
    }

    /// The weights as a `model.safetensors` in Hugging Face's layout (`distilbert.` prefix on
    /// the backbone, the head at the top level), as `transformers` writes it.
    pub fn to_safetensors(&self) -> Result<Vec<u8>> {
        let named: Vec<(String, Tensor)> = self
            .params
            .iter()
            .map(|(n, v)| {
                let name = if n.starts_with("pre_classifier") || n.starts_with("classifier") {
                    n.clone()
                } else {
                    format!("distilbert.{n}")
                };
                (name, v.as_tensor().clone())
            })
            .collect();
        safetensors::serialize(named.iter().map(|(n, t)| (n.as_str(), t)), None)
            .map_err(|e| Error::Data(format!("cannot write model.safetensors ({e})")))
    }

    fn p(&self, name: &str) -> Result<Tensor> {
        let var = self
            .params
            .get(name)
            .ok_or_else(|| Error::Data(format!("the net has no tensor `{name}`")))?;
        // Frozen weights are detached so that backward stops at the trained ones.
        Ok(if self.trainable.contains(name) {
            var.as_tensor().clone()
        } else {
            var.as_tensor().detach()
        })
    }

    fn linear(&self, prefix: &str, x: &Tensor) -> Result<Tensor> {
        let w = self.p(&format!("{prefix}.weight"))?;
        let b = self.p(&format!("{prefix}.bias"))?;
        x.matmul(&w.t().during("linear")?)
            .and_then(|y| y.broadcast_add(&b))
            .during("linear")
    }

    fn layer_norm(&self, prefix: &str, x: &Tensor) -> Result<Tensor> {
        let w = self.p(&format!("{prefix}.weight"))?;
        let b = self.p(&format!("{prefix}.bias"))?;
        layer_norm(x, &w, &b, self.eps)
    }

    /// Logits and the [CLS] hidden state for a batch.
    pub fn forward(&self, batch: &Batch) -> Result<Output> {
        self.run(batch, None)
    }

    /// A forward pass that also adds what it sees to `importance` (no gradients needed).
    pub fn measure(&self, batch: &Batch, importance: &mut Importance) -> Result<()> {
        let s = self.shape;
        if importance.dims.is_empty() {
            importance.dims = vec![0.0; s.dim];
            importance.heads = vec![vec![0.0; s.heads]; s.layers];
            importance.neurons = vec![vec![0.0; s.hidden]; s.layers];
            importance.pre_classifier = vec![0.0; s.dim];
        }
        self.run(batch, Some(importance)).map(|_| ())
    }

    fn run(&self, batch: &Batch, mut stats: Option<&mut Importance>) -> Result<Output> {
        let s = self.shape;
        let (b, n, d) = (batch.rows, batch.len, s.dim);
        if n > s.positions {
            return Err(Error::Data(format!(
                "a sentence of {n} tokens is longer than the model's {} positions",
                s.positions
            )));
        }
        if let Some(st) = stats.as_deref_mut() {
            st.tokens += batch
                .valid
                .sum_all()
                .and_then(|t| t.to_scalar::<f32>())
                .during("stats")? as f64;
            st.sentences += b as f64;
        }
        let words = self
            .p("embeddings.word_embeddings.weight")?
            .index_select(&batch.ids.flatten_all().during("embeddings")?, 0)
            .during("embeddings: words")?;
        let positions = self
            .p("embeddings.position_embeddings.weight")?
            .narrow(0, 0, n)
            .during("embeddings: positions")?;
        let x = words
            .reshape((b, n, d))
            .and_then(|w| w.broadcast_add(&positions))
            .and_then(|x| x.reshape((b * n, d)))
            .during("embeddings: sum")?;
        let mut x = self.layer_norm("embeddings.LayerNorm", &x)?;
        if let Some(st) = stats.as_deref_mut() {
            add_dim_stats(st, &x, &batch.valid)?;
        }
        for i in 0..s.layers {
            x = self.block(i, &x, batch, stats.as_deref_mut())?;
        }
        let cls = x
            .reshape((b, n, d))
            .and_then(|h| h.narrow(1, 0, 1))
            .and_then(|h| h.squeeze(1))
            .during("head: [CLS] row")?;
        let pre = self
            .linear("pre_classifier", &cls)?
            .relu()
            .during("head: relu")?;
        if let Some(st) = stats {
            let col_norms = column_norms(&self.p("classifier.weight")?)?;
            let act = pre
                .sum(0)
                .and_then(|t| t.to_vec1::<f32>())
                .during("stats")?;
            for (k, a) in act.iter().enumerate() {
                st.pre_classifier[k] += f64::from(*a) * col_norms[k];
            }
        }
        let logits = self.linear("classifier", &pre)?;
        Ok(Output { logits, cls })
    }

    fn block(
        &self,
        i: usize,
        x: &Tensor,
        batch: &Batch,
        mut stats: Option<&mut Importance>,
    ) -> Result<Tensor> {
        let s = self.shape;
        let (b, n, d, hd) = (batch.rows, batch.len, s.dim, s.head_dim());
        let p = |name: &str| format!("transformer.layer.{i}.{name}");
        let heads = |t: Tensor| {
            t.reshape((b, n, s.heads, hd))
                .and_then(|t| t.transpose(1, 2))
                .and_then(|t| t.contiguous())
                .during("attention: split heads")
        };
        let q = heads(self.linear(&p("attention.q_lin"), x)?)?;
        let k = heads(self.linear(&p("attention.k_lin"), x)?)?;
        let v = heads(self.linear(&p("attention.v_lin"), x)?)?;
        // Hugging Face scales q before the product, as the engine does.
        let q = (q / (hd as f64).sqrt()).during("attention: scale")?;
        let scores = q
            .matmul(&k.t().and_then(|t| t.contiguous()).during("attention: kᵀ")?)
            .and_then(|sc| sc.broadcast_add(&batch.mask))
            .during("attention: scores")?;
        let weights = softmax_last(&scores)?;
        let context = weights
            .matmul(&v)
            .and_then(|c| c.transpose(1, 2))
            .and_then(|c| c.reshape((b * n, d)))
            .during("attention: context")?;
        if let Some(st) = stats.as_deref_mut() {
            add_head_stats(
                st,
                i,
                &context,
                &self.p(&p("attention.out_lin.weight"))?,
                s,
                &batch.valid,
            )?;
        }
        let attended =
            (self.linear(&p("attention.out_lin"), &context)? + x).during("block: residual")?;
        let h = self.layer_norm(&p("sa_layer_norm"), &attended)?;
        let inner = self
            .linear(&p("ffn.lin1"), &h)?
            .gelu_erf()
            .during("ffn: gelu")?;
        if let Some(st) = stats.as_deref_mut() {
            add_dim_stats(st, &h, &batch.valid)?;
            let col_norms = column_norms(&self.p(&p("ffn.lin2.weight"))?)?;
            let act = inner
                .abs()
                .and_then(|a| a.broadcast_mul(&batch.valid))
                .and_then(|a| a.sum(0))
                .and_then(|a| a.to_vec1::<f32>())
                .during("stats")?;
            for (k, a) in act.iter().enumerate() {
                st.neurons[i][k] += f64::from(*a) * col_norms[k];
            }
        }
        let fed = (self.linear(&p("ffn.lin2"), &inner)? + &h).during("block: residual")?;
        let out = self.layer_norm(&p("output_layer_norm"), &fed)?;
        if let Some(st) = stats {
            add_dim_stats(st, &out, &batch.valid)?;
        }
        Ok(out)
    }
}

/// LayerNorm over the last dimension from plain ops (mean, variance, scale, shift).
pub fn layer_norm(x: &Tensor, w: &Tensor, b: &Tensor, eps: f64) -> Result<Tensor> {
    let mean = x.mean_keepdim(D::Minus1).during("layer norm: mean")?;
    let centred = x.broadcast_sub(&mean).during("layer norm: centre")?;
    let var = centred
        .sqr()
        .and_then(|c| c.mean_keepdim(D::Minus1))
        .during("layer norm: variance")?;
    centred
        .broadcast_div(
            &(var + eps)
                .and_then(|v| v.sqrt())
                .during("layer norm: std")?,
        )
        .and_then(|y| y.broadcast_mul(w))
        .and_then(|y| y.broadcast_add(b))
        .during("layer norm: affine")
}

/// Softmax over the last dimension from plain ops; the shift by the maximum is a constant
/// (softmax does not depend on it), so no gradient flows through it.
pub fn softmax_last(x: &Tensor) -> Result<Tensor> {
    let max = x.max_keepdim(D::Minus1).during("softmax: max")?.detach();
    let e = x
        .broadcast_sub(&max)
        .and_then(|t| t.exp())
        .during("softmax: exp")?;
    let sum = e.sum_keepdim(D::Minus1).during("softmax: sum")?;
    e.broadcast_div(&sum).during("softmax: divide")
}

fn column_norms(w: &Tensor) -> Result<Vec<f64>> {
    let n = w
        .sqr()
        .and_then(|t| t.sum(0))
        .and_then(|t| t.sqrt())
        .and_then(|t| t.to_vec1::<f32>())
        .during("stats: column norms")?;
    Ok(n.into_iter().map(f64::from).collect())
}

fn add_dim_stats(st: &mut Importance, x: &Tensor, valid: &Tensor) -> Result<()> {
    let sq = x
        .sqr()
        .and_then(|t| t.broadcast_mul(valid))
        .and_then(|t| t.sum(0))
        .and_then(|t| t.to_vec1::<f32>())
        .during("stats: dims")?;
    for (acc, v) in st.dims.iter_mut().zip(sq) {
        *acc += f64::from(v);
    }
    Ok(())
}

fn add_head_stats(
    st: &mut Importance,
    layer: usize,
    context: &Tensor,
    out_w: &Tensor,
    s: Shape,
    valid: &Tensor,
) -> Result<()> {
    let hd = s.head_dim();
    for h in 0..s.heads {
        let part = context
            .narrow(1, h * hd, hd)
            .and_then(|c| c.matmul(&out_w.narrow(1, h * hd, hd)?.t()?))
            .and_then(|y| y.sqr()?.sum_keepdim(1)?.sqrt())
            .and_then(|y| y.broadcast_mul(valid)?.sum_all()?.to_scalar::<f32>())
            .during("stats: heads")?;
        st.heads[layer][h] += f64::from(part);
    }
    Ok(())
}
