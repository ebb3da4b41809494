//! Per-layer sensitivity for a recipe: every Linear quantized alone to every candidate
//! scheme, the mean logits MSE against f32 over a set of sentences, and the bytes.

use serde::{Deserialize, Serialize};

use crate::{metrics, Classifier, Encoding, Error, Result, Scheme};

/// What one scheme costs on one layer.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// The scheme.
    pub scheme: Scheme,
    /// Bytes of the layer stored in it.
    pub bytes: u64,
    /// Mean over the sentences of the logits MSE against f32, with only this layer in
    /// this scheme (0 for f32).
    pub error: f64,
}

/// The options of one Linear layer: f32 first, then every candidate that fits its width.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerCosts {
    /// Checkpoint name.
    pub layer: String,
    /// One entry per scheme the layer can take; the first is always f32.
    pub options: Vec<Cost>,
}

/// Per-layer costs of a whole model, what [`crate::recipe::search`] chooses from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sensitivity {
    /// Bytes no scheme changes: the model's size minus its f32 Linear layers.
    pub fixed_bytes: u64,
    /// Sentences the errors are averaged over.
    pub sentences: usize,
    /// Every Linear layer, in forward order.
    pub layers: Vec<LayerCosts>,
}

impl Sensitivity {
    /// Measures every Linear of the f32 model `f32` in every scheme of `candidates`
    /// (f32 is always an option; a GGML scheme a layer's width cannot take is left out,
    /// see [`Scheme::unfit_reason`]) on `sentences`. `progress(done, total)` is called
    /// after each layer. Costs `layers × candidates × sentences` forwards.
    pub fn measure(
        f32: &Classifier,
        sentences: &[Encoding],
        candidates: &[Scheme],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Self> {
        let reference = reference_logits(f32, sentences)?;
        let names: Vec<String> = f32.linears().into_iter().map(|l| l.name).collect();
        let mut layers = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            layers.push(measure_layer(f32, name, sentences, &reference, candidates)?);
            progress(i + 1, names.len());
        }
        Ok(Self {
            fixed_bytes: fixed_bytes(f32),
            sentences: sentences.len(),
            layers,
        })
    }

    /// The costs of `layer` in `scheme`, if measured.
    pub fn cost(&self, layer: &str, scheme: Scheme) -> Option<Cost> {
        self.layers
            .iter()
            .find(|l| l.layer == layer)?
            .options
            .iter()
            .find(|c| c.scheme == scheme)
            .copied()
    }

    /// Bytes of the model with every layer in its smallest option: the tightest size
    /// budget any recipe meets.
    pub fn min_bytes(&self) -> u64 {
        self.fixed_bytes
            + self
                .layers
                .iter()
                .map(|l| l.options.iter().map(|c| c.bytes).min().unwrap_or(0))
                .sum::<u64>()
    }

    /// Bytes of the model with every layer f32.
    pub fn f32_bytes(&self) -> u64 {
        self.fixed_bytes + self.layers.iter().map(|l| l.options[0].bytes).sum::<u64>()
    }
}

/// The f32 model's logits on each sentence: what every error is measured against.
pub fn reference_logits(f32: &Classifier, sentences: &[Encoding]) -> Result<Vec<Vec<f32>>> {
    sentences.iter().map(|e| f32.logits(e)).collect()
}

/// Bytes of `f32` that are not Linear weights (embeddings, LayerNorms).
pub fn fixed_bytes(f32: &Classifier) -> u64 {
    let linear: u64 = f32.linears().iter().map(|l| l.bytes).sum();
    f32.size().total_bytes - linear
}

/// One layer's costs (a web worker can measure layer by layer and report progress):
/// `reference` holds the f32 logits of `sentences`, from [`reference_logits`].
pub fn measure_layer(
    f32: &Classifier,
    layer: &str,
    sentences: &[Encoding],
    reference: &[Vec<f32>],
    candidates: &[Scheme],
) -> Result<LayerCosts> {
    if f32.scheme() != Scheme::F32 {
        return Err(Error::AlreadyQuantized(f32.scheme().name()));
    }
    if sentences.is_empty() {
        return Err(Error::Recipe(
            "sensitivity needs at least one sentence to measure on".into(),
        ));
    }
    let linear = f32.linear(layer)?;
    let (_, in_features) = linear.dims();
    let mut options = vec![Cost {
        scheme: Scheme::F32,
        bytes: linear.stored_bytes(),
        error: 0.0,
    }];
    for &scheme in candidates {
        if scheme == Scheme::F32 || scheme.unfit_reason(in_features).is_some() {
            continue;
        }
        if options.iter().any(|c| c.scheme == scheme) {
            continue;
        }
        let one = f32.quantize_only(layer, scheme)?;
        let mut sum = 0.0f64;
        for (enc, want) in sentences.iter().zip(reference) {
            sum += f64::from(metrics::mse(want, &one.logits(enc)?)?);
        }
        options.push(Cost {
            scheme,
            bytes: one.linear(layer)?.stored_bytes(),
            error: sum / sentences.len() as f64,
        });
    }
    Ok(LayerCosts {
        layer: layer.to_string(),
        options,
    })
}
