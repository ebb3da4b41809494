//! The lab's payloads in the worker protocol ([`crate::protocol`] holds the variants
//! that carry them): the scheme table, per-layer sensitivity, a layer's weight
//! histogram, batch evaluation chunks, the bytes of an uploaded model and the
//! teacher comparison.

use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::engine::{Prediction, Scheme, SchemeReport};

/// Bytes that cross to the worker as one `Uint8Array` (serde's bytes type), not as a
/// JS array of numbers; printed by length only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({} bytes)", self.0.len())
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct BytesVisitor;
        impl<'de> Visitor<'de> for BytesVisitor {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Bytes, E> {
                Ok(Bytes(v.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Bytes, E> {
                Ok(Bytes(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Bytes, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(b) = seq.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(Bytes(out))
            }
        }
        d.deserialize_byte_buf(BytesVisitor)
    }
}

/// The files of a model the learner picked, read on the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UploadedModel {
    /// What the status line calls it (the weights file's name).
    pub name: String,
    /// `config.json`.
    pub config: Bytes,
    /// `tokenizer.json` or `vocab.txt`.
    pub tokenizer: Bytes,
    /// True for `tokenizer.json`, false for `vocab.txt`.
    pub tokenizer_is_json: bool,
    /// `model.safetensors`.
    pub weights: Bytes,
}

pub use crate::engine::StaysF32;

/// One scheme on one text: the engine's report (what `squeeze compare` prints per row),
/// timed in the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchemeRow {
    /// Size, error against f32, prediction and the layers left f32.
    pub report: SchemeReport,
    /// Forward time in the worker.
    pub time: ForwardTime,
    /// True when this answer quantized the weights (false: a cached copy, or f32).
    pub quantized_now: bool,
}

/// Every chosen scheme on one text (answer to `CompareSchemes`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchemeTable {
    /// The text.
    pub text: String,
    /// Tokens fed (with `[CLS]`/`[SEP]`).
    pub tokens: usize,
    /// Whether the text was cut to the model's length.
    pub truncated: bool,
    /// Class names in logit order.
    pub labels: Vec<String>,
    /// f32 first, then the chosen schemes in [`Scheme::ALL`] order.
    pub rows: Vec<SchemeRow>,
}

/// The error one quantized Linear causes on its own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerError {
    /// The layer's checkpoint name.
    pub layer: String,
    /// `(out, in)`.
    pub dims: (usize, usize),
    /// MSE of the logits against f32 with only this layer quantized.
    pub mse: f32,
    /// Largest |logit difference| against f32.
    pub max_abs_diff: f32,
    /// Set when the scheme cannot take this layer (it then stays f32 and causes no error).
    pub stays_f32: Option<String>,
}

/// Per-layer sensitivity of one scheme on one text (answer to `LayerSensitivity`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sensitivity {
    /// The scheme applied to one layer at a time.
    pub scheme: Scheme,
    /// The text.
    pub text: String,
    /// Every Linear layer, in forward order.
    pub layers: Vec<LayerError>,
}

/// A layer's weights before and after quantization, binned (answer to `LayerHistogram`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// The layer's checkpoint name.
    pub layer: String,
    /// The scheme.
    pub scheme: Scheme,
    /// Smallest weight (either side): the left edge of the first bin.
    pub min: f32,
    /// Largest weight: the right edge of the last bin.
    pub max: f32,
    /// Counts of the f32 weights per bin.
    pub before: Vec<u32>,
    /// Counts of the weights the quantized layer multiplies with.
    pub after: Vec<u32>,
    /// The levels of the first quantization group (see `engine::quant::Linear::grid`).
    pub grid: Option<Vec<f32>>,
    /// Weights in the layer.
    pub count: usize,
    /// Mean squared difference between the weights before and after.
    pub weight_mse: f32,
    /// Set when the scheme cannot take this layer.
    pub stays_f32: Option<String>,
}

/// Correct and agreeing answers of one scheme over some sentences.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchCounts {
    /// The scheme.
    pub scheme: Scheme,
    /// Sentences seen.
    pub seen: u32,
    /// Predictions equal to the gold label.
    pub correct: u32,
    /// Predictions equal to the f32 model's.
    pub agree: u32,
}

/// One chunk of the held-out set through each scheme (answer to `BatchChunk`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchChunkResult {
    /// Sentences in the whole set.
    pub total: u32,
    /// First sentence of this chunk.
    pub start: u32,
    /// Sentences in this chunk.
    pub len: u32,
    /// One entry per scheme (f32 included), counts for this chunk only.
    pub counts: Vec<BatchCounts>,
    /// Every sentence of this chunk where a scheme's label differs from f32's.
    #[serde(default)]
    pub flips: Vec<Flip>,
}

/// Which sentences a batch evaluation reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataSource {
    /// The held-out sentiment set built into the worker.
    #[default]
    HeldOut,
    /// The learner's own sentences (`LoadOwnData`).
    Own,
}

/// A sentence whose label a scheme changed against f32.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Flip {
    /// Position of the sentence in its set.
    pub index: u32,
    /// The sentence.
    pub text: String,
    /// The scheme that changed it.
    pub scheme: Scheme,
    /// The gold label (class name).
    pub gold: String,
    /// f32's label.
    pub f32_label: String,
    /// The scheme's label.
    pub label: String,
    /// f32's margin (top logit minus the runner-up): how unsure f32 was.
    pub f32_margin: f32,
}

/// The learner's sentences as the worker read them (answer to `LoadOwnData`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OwnData {
    /// The file's name.
    pub name: String,
    /// Sentences kept.
    pub rows: u32,
    /// Sentences per class, in the model's class order.
    pub per_label: Vec<(String, u32)>,
    /// Rows left out, with their line and why (at most [`MAX_PROBLEMS_SHOWN`]).
    pub skipped: Vec<(u32, String)>,
    /// Rows left out in all.
    pub skipped_total: u32,
}

/// Most skipped rows listed by name (the count says how many in all).
pub const MAX_PROBLEMS_SHOWN: usize = 50;

impl OwnData {
    /// The summary of `set`, read against the class names `labels`.
    pub fn of(set: &crate::engine::dataset::LabelledSet, labels: &[String]) -> Self {
        let counts = set.counts(labels.len());
        Self {
            name: set.name.clone(),
            rows: set.rows.len() as u32,
            per_label: labels
                .iter()
                .cloned()
                .zip(counts.into_iter().map(|c| c as u32))
                .collect(),
            skipped: set
                .skipped
                .iter()
                .take(MAX_PROBLEMS_SHOWN)
                .map(|p| (p.line as u32, p.message.clone()))
                .collect(),
            skipped_total: set.skipped.len() as u32,
        }
    }
}

/// The lab's teacher once loaded (answer to `LoadTeacher` and `LoadTeacherFiles`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeacherReady {
    /// Where it came from: a URL or `upload:<weights file name>`.
    pub source: String,
    /// Class names in logit order.
    pub labels: Vec<String>,
    /// Layers of the teacher.
    pub layers: usize,
    /// Hidden width.
    pub dim: usize,
    /// Weights of the teacher.
    pub parameters: u64,
    /// Bytes of the teacher as stored (f32).
    pub bytes: u64,
}

/// One of the three models of the teacher comparison on one text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeacherRow {
    /// `teacher`, `student` or `quantized`.
    pub role: String,
    /// Logits, probabilities and label.
    pub prediction: Prediction,
    /// Bytes of the model as stored.
    pub bytes: u64,
}

/// Teacher vs student vs quantized student on one text, with the MSE distillation
/// loss of each pair (answer to `CompareTeacher`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeacherTable {
    /// The text.
    pub text: String,
    /// The quantized student's scheme.
    pub scheme: Scheme,
    /// Class names in logit order (the student's).
    pub labels: Vec<String>,
    /// Teacher, student, quantized student.
    pub rows: Vec<TeacherRow>,
    /// MSE of the logits, teacher vs student.
    pub mse_teacher_student: f32,
    /// MSE of the logits, teacher vs quantized student.
    pub mse_teacher_quantized: f32,
    /// MSE of the logits, student vs quantized student.
    pub mse_student_quantized: f32,
}

/// Both models' forward times on one text, measured in the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForwardTimes {
    /// The f32 model.
    pub f32: ForwardTime,
    /// The quantized model.
    pub quantized: ForwardTime,
    /// The first forwards after the model loaded.
    #[serde(default)]
    pub after_load: AfterLoad,
}

/// The first forwards after a model loaded (the worker's warm-up, before the learner's
/// first click), in ms: what a cold start costs, next to the medians.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AfterLoad {
    /// f32 forwards, in order.
    pub f32: Vec<f64>,
    /// Quantized forwards, in order.
    pub quantized: Vec<f64>,
}

/// How long one forward takes, as measured in the worker with `performance.now()`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForwardTime {
    /// Median over the samples of the mean time per forward, in ms.
    pub ms: f64,
    /// Samples taken.
    pub samples: u32,
    /// Forwards run back to back in each sample (so the 0.1 ms clock can see them).
    pub forwards_per_sample: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_survive_json_and_print_short() {
        let b = Bytes(vec![0, 1, 255]);
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(serde_json::from_str::<Bytes>(&json).unwrap(), b);
        assert_eq!(format!("{b:?}"), "Bytes(3 bytes)");
    }
}
