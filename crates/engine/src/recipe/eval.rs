//! Held-out evaluation of any classifier against the f32 model it came from: accuracy
//! on labelled sentences, agreement with f32's labels, the flips in each direction and
//! the mean logits MSE.

use serde::{Deserialize, Serialize};

use crate::{metrics, Classifier, Encoding, Error, Result};

/// Labelled sentences, tokenized once, with the f32 model's logits on each.
#[derive(Clone, Debug)]
pub struct EvalSet {
    labels: Vec<usize>,
    encodings: Vec<Encoding>,
    reference: Vec<Vec<f32>>,
}

/// How one model did on an [`EvalSet`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Sentences.
    pub n: usize,
    /// Sentences whose label is right.
    pub correct: usize,
    /// `correct / n`.
    pub accuracy: f64,
    /// Sentences whose label equals the f32 model's.
    pub agreeing: usize,
    /// `agreeing / n`.
    pub agreement: f64,
    /// Right under f32, wrong here.
    pub right_to_wrong: usize,
    /// Wrong under f32, right here.
    pub wrong_to_right: usize,
    /// Mean over sentences of the logits MSE against f32.
    pub mean_mse: f64,
    /// The model's stored bytes.
    pub bytes: u64,
}

impl EvalSet {
    /// Tokenizes `examples` (`(label id, text)`) with `f32` and runs it on each: the
    /// reference every later [`EvalSet::evaluate`] compares with.
    pub fn new(f32: &Classifier, examples: &[(usize, String)]) -> Result<Self> {
        if examples.is_empty() {
            return Err(Error::Recipe("the evaluation set is empty".into()));
        }
        let classes = f32.labels().len();
        let mut set = Self {
            labels: Vec::with_capacity(examples.len()),
            encodings: Vec::with_capacity(examples.len()),
            reference: Vec::with_capacity(examples.len()),
        };
        for (label, text) in examples {
            if *label >= classes {
                return Err(Error::Recipe(format!(
                    "label {label} is out of range; the model has {classes} classes"
                )));
            }
            let enc = f32.encode(text)?;
            set.reference.push(f32.logits(&enc)?);
            set.encodings.push(enc);
            set.labels.push(*label);
        }
        Ok(set)
    }

    /// Number of sentences.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are none (never, once built).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The tokenized sentences, e.g. to measure [`super::Sensitivity`] on.
    pub fn encodings(&self) -> &[Encoding] {
        &self.encodings
    }

    /// The f32 model's logits on each sentence.
    pub fn reference(&self) -> &[Vec<f32>] {
        &self.reference
    }

    /// Runs `model` (f32, uniform or mixed, from the same f32 model) on every sentence.
    pub fn evaluate(&self, model: &Classifier) -> Result<Evaluation> {
        let (mut correct, mut agreeing, mut r2w, mut w2r) = (0, 0, 0, 0);
        let mut mse = 0.0f64;
        for ((enc, want), &label) in self.encodings.iter().zip(&self.reference).zip(&self.labels) {
            let logits = model.logits(enc)?;
            mse += f64::from(metrics::mse(want, &logits)?);
            let (ours, f32s) = (metrics::argmax(&logits), metrics::argmax(want));
            correct += usize::from(ours == label);
            agreeing += usize::from(ours == f32s);
            r2w += usize::from(f32s == label && ours != label);
            w2r += usize::from(f32s != label && ours == label);
        }
        let n = self.len();
        Ok(Evaluation {
            n,
            correct,
            accuracy: correct as f64 / n as f64,
            agreeing,
            agreement: agreeing as f64 / n as f64,
            right_to_wrong: r2w,
            wrong_to_right: w2r,
            mean_mse: mse / n as f64,
            bytes: model.size().total_bytes,
        })
    }
}
