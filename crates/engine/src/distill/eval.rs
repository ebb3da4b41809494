//! Accuracy on a labelled set through the engine's own inference path (one unpadded
//! sentence at a time), and how often a quantized model's label agrees with its f32
//! source: the numbers `squeeze eval` prints and the model card's held-out table holds.

use serde::Serialize;

use super::text::Labelled;
use super::Result;
use crate::Classifier;

/// The result of running a model over a labelled set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Eval {
    /// Sentences.
    pub n: usize,
    /// Sentences classified right.
    pub correct: usize,
    /// `correct / n`.
    pub accuracy: f64,
    /// For a quantized model: share of sentences where its label equals the f32 model's.
    pub agreement_with_f32: Option<f64>,
    /// Bytes of the model as stored in its scheme.
    pub bytes: u64,
}

/// Runs `model` over `rows`; with `f32_model`, also counts agreement with it.
pub fn evaluate(
    model: &Classifier,
    f32_model: Option<&Classifier>,
    rows: &[Labelled],
) -> Result<Eval> {
    let (mut correct, mut agree) = (0, 0);
    for row in rows {
        let enc = model.encode(&row.text)?;
        let label = model.predict(&enc)?.label_id;
        correct += usize::from(label == row.label);
        if let Some(f) = f32_model {
            agree += usize::from(f.predict(&enc)?.label_id == label);
        }
    }
    let n = rows.len();
    let share = |k: usize| if n == 0 { 0.0 } else { k as f64 / n as f64 };
    Ok(Eval {
        n,
        correct,
        accuracy: share(correct),
        agreement_with_f32: f32_model.map(|_| share(agree)),
        bytes: model.size().total_bytes,
    })
}
