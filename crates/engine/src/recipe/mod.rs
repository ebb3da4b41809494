//! A recipe for a budget: one scheme per Linear layer, chosen from measured per-layer
//! sensitivity so that the mixed model fits a size budget (or an error budget) while
//! moving the logits as little as the measurements predict.
//!
//! Three steps, each its own module:
//!
//! 1. [`sensitivity`]: quantize each Linear *alone* to each candidate scheme (the rest
//!    stays f32) and record the mean logits MSE against f32 over a set of sentences,
//!    and the bytes the layer takes in that scheme. Measure on a development set, never
//!    on the set you report on.
//! 2. [`search`]: treat the errors as additive — the predicted error of a mix is the sum
//!    of its layers' errors — and find, for every reachable size, the least predicted
//!    error (an exact Pareto frontier, see [`search::Frontier`]). A size budget picks the
//!    least-error point that fits; an error budget picks the smallest point within it.
//! 3. [`Classifier::apply_recipe`](crate::Classifier::apply_recipe) builds the mixed
//!    model, and [`eval`] measures what the prediction was worth: accuracy and agreement
//!    with f32 on held-out sentences.
//!
//! # Why an exact frontier and not a greedy pass
//!
//! Choosing one option per layer under a byte limit is a multiple-choice knapsack. The
//! greedy rule "take the step with the least error per byte saved" is optimal only when
//! each layer's options lie on a convex curve of error against bytes, and measured
//! quantization errors need not (a 5-bit layer can be worse per byte than a 4-bit one
//! with a better grid, and f16 and int8 may cost almost nothing). A model has tens of
//! Linear layers and at most nine options each, so merging the layers one at a time and
//! discarding every partial mix that another beats on both bytes and error is cheap and
//! exact for the additive model. It also yields the whole size–error curve at once, and
//! tighter budgets can then never give bigger models.
//!
//! The additive model is a prediction, not a measurement: errors from different layers
//! can compound or cancel. That is why the CLI reports the mixed model's *measured*
//! held-out accuracy and agreement next to the prediction.
//!
//! # File format (version 1)
//!
//! [`Recipe::to_json`] writes one JSON object:
//!
//! ```json
//! {
//!   "format": "squeeze-recipe",
//!   "version": 1,
//!   "bytes": 7421336,
//!   "predicted_error": 0.00042,
//!   "budget": { "max_bytes": 7500000 },
//!   "layers": [
//!     { "layer": "transformer.layer.0.attention.q_lin", "scheme": "q4_k",
//!       "bytes": 37888, "predicted_error": 0.000012 }
//!   ]
//! }
//! ```
//!
//! - `format` is always `"squeeze-recipe"`; `version` is 1. A reader refuses other values.
//! - `bytes`: the whole model as stored (embeddings, LayerNorms and every Linear in its
//!   scheme), as [`Classifier::size`](crate::Classifier::size) reports it once applied.
//! - `predicted_error`: the sum of the layers' `predicted_error`, each the mean logits
//!   MSE against f32 when that layer alone is in its scheme.
//! - `budget`: what the recipe was searched for, `{"max_bytes": n}` or
//!   `{"max_error": e}`; absent for a recipe written by hand.
//! - `layers`: every Linear of the model, by checkpoint name, with its scheme (the names
//!   of [`Scheme::name`]), bytes and predicted error. Only `layer` and `scheme` are read
//!   when a recipe is applied; the rest documents the choice.

pub mod eval;
pub mod search;
pub mod sensitivity;

mod apply;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::{Error, Result, Scheme};

pub use eval::{EvalSet, Evaluation};
pub use search::{search, Budget, Frontier};
pub use sensitivity::{Cost, LayerCosts, Sensitivity};

/// One layer of a recipe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecipeLayer {
    /// The Linear's checkpoint name, e.g. `transformer.layer.0.ffn.lin1`.
    pub layer: String,
    /// Its scheme.
    pub scheme: Scheme,
    /// Bytes the layer takes in that scheme.
    #[serde(default)]
    pub bytes: u64,
    /// Mean logits MSE against f32 with this layer alone in its scheme.
    #[serde(default)]
    pub predicted_error: f64,
}

/// A scheme for every Linear layer of one model, with what it is predicted to cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    /// Every Linear layer, in the model's forward order.
    pub layers: Vec<RecipeLayer>,
    /// Sum of the layers' predicted errors.
    pub predicted_error: f64,
    /// Bytes of the whole model as stored with this recipe applied.
    pub bytes: u64,
    /// The budget it was searched for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
}

/// The recipe file's header and body (see the module docs for the format).
#[derive(Serialize, Deserialize)]
struct File {
    format: String,
    version: u32,
    #[serde(flatten)]
    recipe: Recipe,
}

/// Only the header, read first so a wrong file gets a message about what it is.
#[derive(Deserialize)]
struct Header {
    format: Option<String>,
    version: Option<serde_json::Value>,
}

impl Recipe {
    /// The `format` field of every recipe file.
    pub const FORMAT: &'static str = "squeeze-recipe";
    /// The file format version this engine writes and reads.
    pub const VERSION: u32 = 1;

    /// The recipe as pretty-printed JSON, in the documented file format.
    pub fn to_json(&self) -> String {
        let file = File {
            format: Self::FORMAT.to_string(),
            version: Self::VERSION,
            recipe: self.clone(),
        };
        serde_json::to_string_pretty(&file).expect("a recipe serialises")
    }

    /// Reads a recipe file, refusing other formats and versions with a clear message.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let bad = |why: String| Error::Recipe(format!("not a recipe file: {why}"));
        let header: Header = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        match header.format.as_deref() {
            Some(Self::FORMAT) => {}
            Some(other) => {
                return Err(bad(format!(
                    "format is {other:?}, expected {:?}",
                    Self::FORMAT
                )))
            }
            None => return Err(bad(format!("no \"format\": {:?} field", Self::FORMAT))),
        }
        match header.version {
            Some(v) if v.as_u64() == Some(u64::from(Self::VERSION)) => {}
            Some(v) => {
                return Err(Error::Recipe(format!(
                    "recipe file version {v} is not supported; this squeeze reads version {}",
                    Self::VERSION
                )))
            }
            None => return Err(bad("no \"version\" field".into())),
        }
        let file: File = serde_json::from_slice(bytes)
            .map_err(|e| Error::Recipe(format!("recipe file: {e}")))?;
        Ok(file.recipe)
    }

    /// A recipe written by hand: a scheme per layer, nothing predicted, no budget.
    pub fn by_hand(layers: impl IntoIterator<Item = (String, Scheme)>) -> Self {
        Self {
            layers: layers
                .into_iter()
                .map(|(layer, scheme)| RecipeLayer {
                    layer,
                    scheme,
                    bytes: 0,
                    predicted_error: 0.0,
                })
                .collect(),
            predicted_error: 0.0,
            bytes: 0,
            budget: None,
        }
    }

    /// The recipe `model` is stored in: each Linear's scheme as it stands.
    pub fn of(model: &crate::Classifier) -> Self {
        Self::by_hand(model.linears().into_iter().map(|l| (l.name, l.scheme)))
    }

    /// The scheme the recipe gives `layer`, if it names it.
    pub fn scheme_of(&self, layer: &str) -> Option<Scheme> {
        self.layers
            .iter()
            .find(|l| l.layer == layer)
            .map(|l| l.scheme)
    }

    /// How many layers take each scheme, in [`Scheme::ALL`] order, schemes unused left out.
    pub fn counts(&self) -> Vec<(Scheme, usize)> {
        Scheme::ALL
            .iter()
            .map(|&s| (s, self.layers.iter().filter(|l| l.scheme == s).count()))
            .filter(|&(_, n)| n > 0)
            .collect()
    }
}
