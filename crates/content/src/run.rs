//! What the learner measured in the lessons' figures and the lab, and the
//! quiz questions graded from it (`from_run = "<measurement>"` in a quiz).
//!
//! The page saves a [`RunRecord`] in localStorage (versioned JSON, read like
//! [`crate::Progress`]: anything unreadable resets to empty and says why).
//! [`resolve`] turns a `from_run` question plus the record into the index of
//! the right option and an explanation built from the learner's numbers.

use serde::{Deserialize, Serialize};

use crate::figure::{anchor, LayerKind};
use crate::html::escape;
use crate::model::Question;
use crate::progress::{load_versioned, Loaded};
use crate::routes::Route;

/// The localStorage key.
pub const RUN_STORAGE_KEY: &str = "squeeze.run";

/// The format version written by this code; other versions reset.
pub const RUN_VERSION: u32 = 1;

/// The learner's latest measurements, one slot per kind; a new measurement
/// replaces the old one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRecord {
    version: u32,
    /// The lab's model sizes.
    pub lab_size: Option<LabSize>,
    /// The `quantize-tensor` figure.
    pub tensor: Option<TensorRun>,
    /// The `temperature` figure.
    pub temperature: Option<TemperatureRun>,
    /// The `seed-code` figure.
    pub seed_code: Option<SeedCodeRun>,
    /// The `block-formats` figure.
    pub block_formats: Option<BlockFormatsRun>,
    /// The `flip-it` figure.
    pub flip: Option<FlipRun>,
    /// The lab's per-layer sensitivity check.
    pub sensitivity: Option<SensitivityRun>,
}

/// A model's size in the lab, in f32 and quantized to int8.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabSize {
    /// The model's name as the lab shows it.
    pub model: String,
    /// Bytes in f32.
    pub f32_bytes: u64,
    /// Bytes with int8 weights.
    pub int8_bytes: u64,
}

/// One run of the `quantize-tensor` figure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TensorRun {
    /// Bits per value.
    pub bits: u8,
    /// `affine` or `symmetric`.
    pub mapping: String,
    /// The scale (of the row with the largest error, for per-row runs).
    pub scale: f32,
    /// The zero point that goes with `scale`.
    pub zero_point: i32,
    /// The largest |x − dequantize(quantize(x))|.
    pub max_error: f32,
    /// How many values fell outside the range and were clipped.
    pub clipped: usize,
    /// How many values there were.
    pub values: usize,
}

/// One run of the `temperature` figure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemperatureRun {
    /// The sentence.
    pub text: String,
    /// The temperature chosen.
    pub temperature: f32,
    /// The label names, in logit order.
    pub labels: Vec<String>,
    /// The teacher's logits (before dividing by the temperature).
    pub teacher_logits: Vec<f32>,
    /// The teacher's largest probability at `temperature`.
    pub teacher_top_prob: f32,
}

/// One run of the `seed-code` figure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedCodeRun {
    /// The sentence.
    pub text: String,
    /// Logits of the f32 model.
    pub f32_logits: Vec<f32>,
    /// Logits of the int8 (`quantize_dynamic`) model.
    pub int8_logits: Vec<f32>,
    /// Mean squared error between the two.
    pub mse: f32,
}

/// One run of the `block-formats` figure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockFormatsRun {
    /// The Linear layer.
    pub layer: String,
    /// The weight row.
    pub row: u32,
    /// Format name (`q8_0`, `q4_0`, `q4_k`) and the row's MSE in it.
    pub errors: Vec<(String, f32)>,
}

/// One run of the `flip-it` figure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlipRun {
    /// The sentence.
    pub text: String,
    /// The scheme compared with f32 (`int8-dynamic`, `q4_0`).
    pub scheme: String,
    /// The f32 model's label.
    pub f32_label: String,
    /// The quantized model's label.
    pub other_label: String,
    /// The f32 model's margin (top logit minus the runner-up).
    pub f32_margin: f32,
    /// The quantized model's margin.
    pub other_margin: f32,
}

/// One run of the lab's per-layer sensitivity check: each Linear quantized
/// alone, the rest left in f32.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensitivityRun {
    /// The scheme applied to one layer at a time.
    pub scheme: String,
    /// The sentence.
    pub text: String,
    /// Layer name and the logits MSE with only that layer quantized.
    pub layers: Vec<(String, f32)>,
}

impl RunRecord {
    /// An empty record of the current version.
    pub fn new() -> RunRecord {
        RunRecord {
            version: RUN_VERSION,
            ..RunRecord::default()
        }
    }

    /// Read what storage holds under [`RUN_STORAGE_KEY`] (`None` when absent).
    pub fn load(stored: Option<&str>) -> (RunRecord, Loaded) {
        load_versioned(stored, RUN_VERSION, "measurements", RunRecord::new)
    }

    /// The JSON to store.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a run record is plain data and always serialises")
    }
}

/// A kind of measurement a quiz question can be graded from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Measurement {
    /// The lab's f32/int8 size ratio.
    LabSize,
    /// Whether the `quantize-tensor` run clipped any value.
    QuantizeTensor,
    /// The teacher's top probability in the `temperature` figure.
    Temperature,
    /// The f32/int8 logits MSE in the `seed-code` figure.
    SeedCode,
    /// The format with the largest row error in the `block-formats` figure.
    BlockFormats,
    /// Whether the `flip-it` figure's sentence changed label.
    Flip,
    /// The kind of layer the lab's sensitivity check found most sensitive.
    Sensitivity,
}

impl Measurement {
    /// Every measurement.
    pub const ALL: &'static [Measurement] = &[
        Measurement::LabSize,
        Measurement::QuantizeTensor,
        Measurement::Temperature,
        Measurement::SeedCode,
        Measurement::BlockFormats,
        Measurement::Flip,
        Measurement::Sensitivity,
    ];

    /// The name used in `from_run`.
    pub fn name(self) -> &'static str {
        self.table().0
    }

    /// The measurement called `name`.
    pub fn from_name(name: &str) -> Option<Measurement> {
        Measurement::ALL.iter().copied().find(|m| m.name() == name)
    }

    /// The outcomes a `from_run` question's options name in `when`, in order.
    pub fn outcomes(self) -> &'static [&'static str] {
        self.table().1
    }

    /// Where on the site it is measured: a lesson's figure
    /// (`/learn/<slug>#figure-<id>`) or the lab.
    pub fn measure_at(self) -> String {
        match self.table().2 {
            Place::Lab => Route::Lab { text: None }.href(),
            Place::Figure(slug, id) => {
                format!("{}#{}", Route::Lesson(slug.into()).href(), anchor(id))
            }
        }
    }

    /// What the learner has to do to measure it, as a phrase ("run the … figure").
    pub fn what(self) -> &'static str {
        self.table().3
    }

    fn table(self) -> (&'static str, &'static [&'static str], Place, &'static str) {
        use Place::{Figure, Lab};
        match self {
            Measurement::LabSize => (
                "lab-size",
                &["under-2x", "2x-to-3x", "3x-to-4x", "over-4x"],
                Lab,
                "load a model in the lab and quantize it",
            ),
            Measurement::QuantizeTensor => (
                "quantize-tensor",
                &["rounding-only", "clipped"],
                Figure("quantization", "quantize-tensor"),
                "run the “Quantize a tensor” figure",
            ),
            Measurement::Temperature => (
                "temperature",
                &["under-0.6", "0.6-to-0.9", "over-0.9"],
                Figure("distillation", "temperature"),
                "run the “Temperature” figure",
            ),
            Measurement::SeedCode => (
                "seed-code",
                &["under-1e-6", "1e-6-to-1e-4", "1e-4-to-1e-2", "over-1e-2"],
                Figure("hands-on", "seed-code"),
                "run the “Seed code” figure",
            ),
            Measurement::BlockFormats => (
                "block-formats",
                &["q8_0", "q4_0", "q4_k"],
                Figure("lab-formats", "block-formats"),
                "run the “Block formats” figure",
            ),
            Measurement::Flip => (
                "flip",
                &["kept", "flipped"],
                Figure("lab-measuring", "flip-it"),
                "run the “Flip it” figure",
            ),
            Measurement::Sensitivity => (
                "sensitivity",
                &["attention", "feed-forward", "head"],
                Lab,
                "run the per-layer sensitivity check in the lab",
            ),
        }
    }
}

/// Where a measurement is taken.
enum Place {
    Lab,
    /// Lesson slug and figure id.
    Figure(&'static str, &'static str),
}

/// A `from_run` question judged against the learner's record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// Nothing (usable) measured yet: the question cannot be graded.
    NotMeasured {
        /// Site href of the place to measure it.
        measure_at: String,
        /// What to do there ("run the “Quantize a tensor” figure").
        what: String,
    },
    /// The right option for the learner's numbers.
    Measured {
        /// Index into the question's choices.
        answer: usize,
        /// Escaped HTML: what was measured and why that makes this option right.
        explanation_html: String,
    },
}

/// The right option of `question` for the numbers in `run`. A question
/// without `from_run` resolves to its fixed answer with no explanation.
pub fn resolve(question: &Question, run: &RunRecord) -> Resolution {
    let Some(m) = question.from_run else {
        return Resolution::Measured {
            answer: question.answer.unwrap_or_default(),
            explanation_html: String::new(),
        };
    };
    let found = outcome(m, run).and_then(|(outcome, text)| {
        let answer = question
            .choices
            .iter()
            .position(|c| c.when.as_deref() == Some(outcome))?;
        Some(Resolution::Measured {
            answer,
            explanation_html: text,
        })
    });
    found.unwrap_or_else(|| Resolution::NotMeasured {
        measure_at: m.measure_at(),
        what: m.what().to_string(),
    })
}

/// The outcome of measurement `m` in `run` and an escaped sentence saying
/// why; `None` when not measured or the numbers are unusable (not finite).
fn outcome(m: Measurement, run: &RunRecord) -> Option<(&'static str, String)> {
    match m {
        Measurement::LabSize => {
            let s = run.lab_size.as_ref().filter(|s| s.int8_bytes > 0)?;
            let ratio = s.f32_bytes as f64 / s.int8_bytes as f64;
            let (o, says) = bucket(
                ratio,
                &[(2.0, "under-2x"), (3.0, "2x-to-3x"), (4.0, "3x-to-4x")],
                "over-4x",
                "×",
            );
            let shown = floor_to(ratio, 2);
            Some((
                o,
                format!(
                    "Your lab loaded {}: f32 {}, int8 {} — {shown}× smaller, {says}.",
                    escape(&s.model),
                    size(s.f32_bytes),
                    size(s.int8_bytes),
                ),
            ))
        }
        Measurement::QuantizeTensor => {
            let t = run.tensor.as_ref()?;
            finite(&[t.scale, t.max_error])?;
            let head = format!(
                "Your tensor: {} values at {} bits, {}, scale {}, zero point {}.",
                t.values,
                t.bits,
                escape(&t.mapping),
                num(t.scale.into()),
                t.zero_point
            );
            let half = num(f64::from(t.scale) / 2.0);
            Some(if t.clipped == 0 {
                ("rounding-only", format!("{head} No value was clipped: the largest error, {}, is within half a step ({half}), so rounding is the only error.", num(t.max_error.into())))
            } else {
                ("clipped", format!("{head} {} of {} values fell outside the range and were clipped; the largest error is {} (half a step is {half}).", t.clipped, t.values, num(t.max_error.into())))
            })
        }
        Measurement::Temperature => {
            let t = run.temperature.as_ref()?;
            finite(&[t.temperature, t.teacher_top_prob])?;
            let p = f64::from(t.teacher_top_prob);
            let (o, says) = bucket(
                p,
                &[(0.6, "under-0.6"), (0.9, "0.6-to-0.9")],
                "over-0.9",
                "",
            );
            let top = argmax(t.teacher_logits.iter().copied().enumerate())
                .and_then(|(i, _)| t.labels.get(i))
                .map(|l| format!(" (“{}”)", escape(l)))
                .unwrap_or_default();
            Some((
                o,
                format!(
                    "At T = {} the teacher gave its top label{top} probability {} for “{}”: {says}.",
                    num(t.temperature.into()),
                    floor_to(p, 3),
                    escape(&t.text)
                ),
            ))
        }
        Measurement::SeedCode => {
            let s = run.seed_code.as_ref()?;
            finite(&[s.mse]).filter(|_| s.mse >= 0.0)?;
            let mse = f64::from(s.mse);
            let (o, says) = bucket(
                mse,
                &[
                    (1e-6, "under-1e-6"),
                    (1e-4, "1e-6-to-1e-4"),
                    (1e-2, "1e-4-to-1e-2"),
                ],
                "over-1e-2",
                "",
            );
            Some((
                o,
                format!(
                    "For “{}” the f32 logits were {} and the int8 logits {}: MSE {}, {says}.",
                    escape(&s.text),
                    list(&s.f32_logits),
                    list(&s.int8_logits),
                    sci(mse)
                ),
            ))
        }
        Measurement::BlockFormats => {
            let b = run.block_formats.as_ref()?;
            let known = b.errors.iter().filter(|(f, e)| {
                e.is_finite() && Measurement::BlockFormats.outcomes().contains(&f.as_str())
            });
            let (name, _) = argmax(known.clone().map(|(f, e)| (f, *e)))?;
            let o = Measurement::BlockFormats
                .outcomes()
                .iter()
                .find(|x| *x == name)?;
            let each: Vec<String> = known
                .map(|(f, e)| format!("{} {}", escape(f), sci((*e).into())))
                .collect();
            Some((
                o,
                format!(
                    "Row {} of {}: MSE {}. The largest is {}.",
                    b.row,
                    escape(&b.layer),
                    each.join(", "),
                    escape(name)
                ),
            ))
        }
        Measurement::Flip => {
            let f = run.flip.as_ref()?;
            let kept = f.f32_label == f.other_label;
            Some((
                if kept { "kept" } else { "flipped" },
                format!(
                    "For “{}” f32 said {} (margin {}) and {} said {} (margin {}): the label {}.",
                    escape(&f.text),
                    escape(&f.f32_label),
                    num(f.f32_margin.into()),
                    escape(&f.scheme),
                    escape(&f.other_label),
                    num(f.other_margin.into()),
                    if kept { "stayed the same" } else { "flipped" }
                ),
            ))
        }
        Measurement::Sensitivity => {
            let s = run.sensitivity.as_ref()?;
            let known = s
                .layers
                .iter()
                .filter_map(|(l, e)| Some(((l, LayerKind::of(l)?), *e)))
                .filter(|(_, e)| e.is_finite());
            let ((layer, kind), e) = argmax(known)?;
            Some((
                kind.name(),
                format!(
                    "Quantizing one layer at a time with {} on “{}”, the largest logits MSE ({}) came from {}, a {} layer.",
                    escape(&s.scheme),
                    escape(&s.text),
                    sci(e.into()),
                    escape(layer),
                    kind.name()
                ),
            ))
        }
    }
}

/// The outcome of `x` for half-open buckets: below the first bound → its
/// name, …, at or above the last bound → `top`. Also says where `x` fell.
/// `unit` follows each bound in the text (`×`).
fn bucket(
    x: f64,
    bounds: &[(f64, &'static str)],
    top: &'static str,
    unit: &str,
) -> (&'static str, String) {
    let text = |b: f64| {
        if b < 0.01 {
            format!("{b:e}{unit}")
        } else {
            format!("{}{unit}", num(b))
        }
    };
    let mut lower: Option<f64> = None;
    for &(bound, name) in bounds {
        if x < bound {
            let says = match lower {
                None => format!("under {}", text(bound)),
                Some(lo) => format!("between {} and {}", text(lo), text(bound)),
            };
            return (name, says);
        }
        lower = Some(bound);
    }
    let last = lower.map_or(String::new(), text);
    (top, format!("{last} or more"))
}

fn finite(xs: &[f32]) -> Option<()> {
    xs.iter().all(|x| x.is_finite()).then_some(())
}

/// The item with the largest value (the first of equals).
fn argmax<T>(items: impl Iterator<Item = (T, f32)>) -> Option<(T, f32)> {
    items.fold(None, |best, (t, v)| match best {
        Some((_, b)) if b >= v => best,
        _ if v.is_nan() => best,
        _ => Some((t, v)),
    })
}

/// `x` cut (not rounded) to `decimals` places, so the shown number is on the
/// same side of a bucket bound as the number itself.
fn floor_to(x: f64, decimals: i32) -> String {
    let f = 10f64.powi(decimals);
    format!("{:.*}", decimals as usize, (x * f).floor() / f)
}

/// Scientific notation with a cut two-decimal mantissa (`2.31e-5`).
fn sci(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let mut e = x.abs().log10().floor() as i32;
    let mut m = x / 10f64.powi(e);
    if m.abs() >= 10.0 {
        e += 1;
        m /= 10.0;
    }
    format!("{}e{e}", floor_to(m, 2))
}

/// A readable number: four decimals for everyday sizes, else scientific.
fn num(x: f64) -> String {
    if x == 0.0 || (0.001..100_000.0).contains(&x.abs()) {
        let s = format!("{x:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    } else {
        sci(x)
    }
}

fn list(xs: &[f32]) -> String {
    let items: Vec<String> = xs.iter().map(|&x| format!("{x:.4}")).collect();
    format!("[{}]", items.join(", "))
}

/// Bytes as B, kB or MB (decimal units, one decimal).
fn size(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
mod tests;
