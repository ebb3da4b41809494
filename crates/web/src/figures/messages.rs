//! The figures' payloads in the worker protocol ([`crate::protocol`] holds the variants
//! that carry them). The engine's own explanation types (`engine::explain`) travel as
//! they are; these add what a figure needs around them.

use serde::{Deserialize, Serialize};

use crate::engine::explain::PackedRow;
use crate::engine::Scheme;

/// The seed's program, run on one sentence: what each of its lines produces.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SeedCodeRun {
    /// The sentence.
    pub text: String,
    /// `tokenizer(text)["input_ids"]`.
    pub ids: Vec<u32>,
    /// The tokens those ids stand for.
    pub tokens: Vec<String>,
    /// Whether the sentence was cut at the model's length.
    pub truncated: bool,
    /// Class names in logit order.
    pub labels: Vec<String>,
    /// `model(**inputs).logits`.
    pub f32_logits: Vec<f32>,
    /// `quantized_model(**inputs).logits`.
    pub int8_logits: Vec<f32>,
    /// `MSELoss()(quantized_logits, original_logits)`.
    pub mse: f32,
    /// Linear layers `quantize_dynamic` replaced.
    pub linears: usize,
    /// Bytes of the f32 model as stored.
    pub f32_bytes: u64,
    /// Bytes of the int8 model as stored.
    pub int8_bytes: u64,
    /// Transformer layers and width, for the "load the model" line.
    pub layers: usize,
    /// Hidden width.
    pub dim: usize,
    /// Parameters of the f32 model.
    pub parameters: u64,
}

/// Teacher and student logits on one sentence, for the temperature figure.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SoftTargets {
    /// The sentence.
    pub text: String,
    /// Class names in logit order.
    pub labels: Vec<String>,
    /// The bundled model's logits (the teacher).
    pub teacher: Vec<f32>,
    /// The student's logits.
    pub student: Vec<f32>,
    /// Training steps the student has had (0: freshly cut from the teacher).
    pub student_steps: usize,
    /// The student's layers.
    pub student_layers: usize,
    /// The student's width.
    pub student_dim: usize,
}

/// One weight row packed in each asked format.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PackedRows {
    /// The layer's checkpoint name.
    pub layer: String,
    /// The row (output channel).
    pub row: usize,
    /// Rows the layer has.
    pub rows: usize,
    /// The row's f32 weights.
    pub weights: Vec<f32>,
    /// The row in each format that fits it.
    pub packed: Vec<PackedRow>,
    /// Formats that do not fit this row, with why.
    pub unfit: Vec<(Scheme, String)>,
}

/// f32 and one scheme on one sentence, for "Flip it".
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FlipCheck {
    /// The sentence.
    pub text: String,
    /// The scheme compared with f32.
    pub scheme: Scheme,
    /// Class names in logit order.
    pub labels: Vec<String>,
    /// f32 logits.
    pub f32_logits: Vec<f32>,
    /// The scheme's logits.
    pub other_logits: Vec<f32>,
}
