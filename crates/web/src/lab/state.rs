//! The lab's logic without a DOM: the sentence in the URL, the model status line,
//! input checks and what a result shows. Components only render these.

use crate::format;
use crate::lab::messages::AfterLoad;
use crate::protocol::{Classified, ModelReady};

/// The sentence the lab starts with when the URL names none.
pub const DEFAULT_TEXT: &str = "I love learning about AI!";

/// Shown instead of running when the box is empty or holds only whitespace.
pub const EMPTY_INPUT: &str = "Type a sentence first.";

/// Shown when the model card says the weights are random.
pub const UNTRAINED_NOTE: &str =
    "This demo model has random weights: its labels mean nothing yet; the quantization maths is real.";

/// The lab's route.
pub const LAB_PATH: &str = "/lab";

/// The sentence to prefill from the `text` query parameter (already percent-decoded).
pub fn initial_text(query_text: Option<&str>) -> String {
    match query_text {
        Some(text) if !text.trim().is_empty() => text.to_string(),
        _ => DEFAULT_TEXT.to_string(),
    }
}

/// Longest echo of the learner's sentence above the results, in characters.
pub const ECHO_CHARS: usize = 160;

/// The sentence as the results header quotes it: whole when short, else its first
/// [`ECHO_CHARS`] characters and an ellipsis (the box above still holds all of it).
pub fn echo(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(ECHO_CHARS) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}…", text[..cut].trim_end()),
    }
}

/// `Err` with the message to show when `text` cannot be sent to the model.
pub fn check_input(text: &str) -> Result<(), &'static str> {
    if text.trim().is_empty() {
        Err(EMPTY_INPUT)
    } else {
        Ok(())
    }
}

/// Where the model is, as the status line shows it.
#[derive(Clone, Debug)]
pub enum ModelStatus {
    /// Downloading (or parsing, once every byte is in).
    Loading {
        /// Bytes read so far.
        loaded: u64,
        /// Bytes expected, when known.
        total: Option<u64>,
    },
    /// Loaded and quantized.
    Ready(Box<ModelReady>),
    /// Could not load; the message says why.
    Error(String),
}

impl ModelStatus {
    /// The `data-state` attribute: `loading`, `ready` or `error`.
    pub fn state(&self) -> &'static str {
        match self {
            ModelStatus::Loading { .. } => "loading",
            ModelStatus::Ready(_) => "ready",
            ModelStatus::Error(_) => "error",
        }
    }

    /// The status line.
    pub fn message(&self) -> String {
        match self {
            ModelStatus::Loading { loaded: 0, .. } => "Loading model…".to_string(),
            ModelStatus::Loading { loaded, total } => {
                if total.is_some_and(|t| *loaded >= t) {
                    "Model downloaded; building and quantizing it…".to_string()
                } else {
                    format!("Loading model… {}", format::progress(*loaded, *total))
                }
            }
            ModelStatus::Ready(ready) => {
                let (name, trained) = match &ready.card {
                    Some(card) => (card.name.as_str(), card.trained),
                    None => ("model", true),
                };
                let kind = if trained {
                    "trained"
                } else {
                    "untrained: random weights"
                };
                format!("Model ready: {name} ({kind})")
            }
            ModelStatus::Error(message) => format!("Could not load the model: {message}"),
        }
    }

    /// True when the lab can run.
    pub fn is_ready(&self) -> bool {
        matches!(self, ModelStatus::Ready(_))
    }

    /// True when the card says the weights are random.
    pub fn is_untrained(&self) -> bool {
        matches!(self, ModelStatus::Ready(r) if r.card.as_ref().is_some_and(|c| !c.trained))
    }
}

/// One class in the results table.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelRow {
    /// Class name.
    pub label: String,
    /// f32 logit.
    pub f32_logit: f32,
    /// Quantized logit.
    pub quantized_logit: f32,
    /// f32 probability.
    pub f32_prob: f32,
    /// Quantized probability.
    pub quantized_prob: f32,
}

/// A diverging bar drawn from the centre line: which side, and how much of that side.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bar {
    /// Drawn to the left of the centre.
    pub negative: bool,
    /// Share of the half-width, in percent (0–100).
    pub percent: f32,
}

impl Bar {
    /// The bar for `value` when `scale` fills a half-width.
    pub fn new(value: f32, scale: f32) -> Bar {
        let percent = if scale > 0.0 && value.is_finite() {
            (value.abs() / scale * 100.0).min(100.0)
        } else {
            0.0
        };
        Bar {
            negative: value < 0.0,
            percent,
        }
    }
}

/// What a finished run shows, derived once from the worker's reply.
#[derive(Clone, Debug)]
pub struct ResultView {
    /// The sentence these numbers belong to.
    pub text: String,
    /// The worker's reply.
    pub classified: Classified,
    /// One row per class.
    pub rows: Vec<LabelRow>,
    /// The largest |logit| of either model, so both sets of bars share one scale.
    pub scale: f32,
}

impl ResultView {
    /// Builds the view of `classified`, the answer for `text`; `labels` names the
    /// classes in logit order (a class without a name is shown as `class i`).
    pub fn new(text: String, labels: &[String], classified: Classified) -> ResultView {
        let c = &classified.comparison;
        let rows = (0..c.f32.logits.len())
            .map(|i| LabelRow {
                label: labels
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("class {i}")),
                f32_logit: c.f32.logits[i],
                quantized_logit: c.quantized.logits.get(i).copied().unwrap_or(f32::NAN),
                f32_prob: c.f32.probabilities.get(i).copied().unwrap_or(f32::NAN),
                quantized_prob: c
                    .quantized
                    .probabilities
                    .get(i)
                    .copied()
                    .unwrap_or(f32::NAN),
            })
            .collect();
        let scale = c
            .f32
            .logits
            .iter()
            .chain(&c.quantized.logits)
            .filter(|x| x.is_finite())
            .fold(0.0_f32, |m, x| m.max(x.abs()));
        ResultView {
            text,
            classified,
            rows,
            scale,
        }
    }

    /// Whether both models pick the same class.
    pub fn labels_agree(&self) -> bool {
        let c = &self.classified.comparison;
        c.f32.label_id == c.quantized.label_id
    }

    /// The plain note shown when the text was cut to the model's length, else `None`.
    pub fn truncation_note(&self) -> Option<String> {
        let c = &self.classified.comparison;
        if !c.f32.truncated {
            return None;
        }
        Some(format!(
            "Your text has {} tokens but this model reads at most {}, so only the first {} \
             (counting [CLS] and [SEP]) were fed to it; the rest was cut off.",
            self.classified.original_tokens, c.f32.tokens, c.f32.tokens
        ))
    }
}

/// The cold start in words: the first forwards after load, e.g. `first forwards after
/// load (…): f32 34.2, 6.10, 5.90 ms · int8 …`; empty before the warm-up ran.
pub fn after_load_note(a: &AfterLoad) -> String {
    if a.f32.is_empty() {
        return String::new();
    }
    let list = |v: &[f64]| {
        v.iter()
            .map(|&ms| format::ms(ms).trim_end_matches(" ms").to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "first forwards after load (a warm-up before your first click): f32 {} ms · int8 {} ms",
        list(&a.f32),
        list(&a.quantized)
    )
}

/// Below this ratio of f32 time to int8 time the speed card says why int8 gains little.
pub const SMALL_GAIN: f64 = 1.25;

/// Why int8 is not clearly faster than f32 on this input; `None` when int8 runs at least
/// [`SMALL_GAIN`] times as fast (or a time is missing).
pub fn speed_note(f32_ms: f64, int8_ms: f64) -> Option<&'static str> {
    (int8_ms > 0.0 && f32_ms > 0.0 && f32_ms / int8_ms < SMALL_GAIN).then_some(
        "Why int8 gains little here: the classifier reads only the [CLS] row of the last \
         block, so the f32 model computes only that row there. Dynamic int8 cannot skip the \
         other rows: each layer's activation scale comes from all rows of its input (as in \
         PyTorch), so only its very last layer runs on one row. In a model with few blocks \
         that saving is as large as what 8-bit arithmetic buys; the deeper the model, the \
         further int8 pulls ahead.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_speed_note_comes_only_when_int8_gains_little() {
        assert!(speed_note(3.2, 3.3).is_some(), "int8 slower");
        assert!(speed_note(1.2, 1.0).is_some(), "1.2x");
        assert!(speed_note(1.25, 1.0).is_none(), "1.25x");
        assert!(speed_note(6.3, 3.4).is_none(), "1.85x");
        assert!(speed_note(0.0, 1.0).is_none() && speed_note(1.0, 0.0).is_none());
    }

    #[test]
    fn text_comes_from_the_url_or_the_default() {
        assert_eq!(initial_text(None), DEFAULT_TEXT);
        assert_eq!(initial_text(Some("  ")), DEFAULT_TEXT);
        assert_eq!(initial_text(Some("not bad")), "not bad");
    }

    #[test]
    fn long_sentences_are_echoed_shortened() {
        assert_eq!(echo("  short  "), "short");
        let exact = "é".repeat(ECHO_CHARS);
        assert_eq!(echo(&exact), exact);
        let long = "ab ".repeat(100);
        let shown = echo(&long);
        assert!(shown.ends_with('…'));
        assert_eq!(shown.chars().count(), ECHO_CHARS + 1);
        assert!(long.starts_with(shown.trim_end_matches('…')));
    }

    #[test]
    fn empty_or_blank_input_is_refused() {
        assert_eq!(check_input(""), Err(EMPTY_INPUT));
        assert_eq!(check_input(" \n\t"), Err(EMPTY_INPUT));
        assert_eq!(check_input("ok"), Ok(()));
    }

    #[test]
    fn status_lines() {
        let loading = ModelStatus::Loading {
            loaded: 3_100_000,
            total: Some(11_200_000),
        };
        assert_eq!(loading.state(), "loading");
        assert_eq!(loading.message(), "Loading model… 3.1 / 11.2 MB");
        let done = ModelStatus::Loading {
            loaded: 5,
            total: Some(5),
        };
        assert!(done.message().contains("quantizing"));
        let failed = ModelStatus::Error("config.json: missing field `dim`".into());
        assert_eq!(failed.state(), "error");
        assert!(!failed.is_ready());
        assert_eq!(
            failed.message(),
            "Could not load the model: config.json: missing field `dim`"
        );
    }

    #[test]
    fn the_cold_start_is_listed_per_model() {
        assert_eq!(after_load_note(&AfterLoad::default()), "");
        let a = AfterLoad {
            f32: vec![34.25, 6.1, 5.9],
            quantized: vec![12.0, 4.0, 3.8],
        };
        assert_eq!(
            after_load_note(&a),
            "first forwards after load (a warm-up before your first click): \
             f32 34.2, 6.10, 5.90 ms · int8 12.0, 4.00, 3.80 ms"
        );
    }

    #[test]
    fn bars_scale_and_clamp() {
        assert_eq!(
            Bar::new(-1.0, 4.0),
            Bar {
                negative: true,
                percent: 25.0
            }
        );
        assert_eq!(Bar::new(8.0, 4.0).percent, 100.0);
        assert_eq!(Bar::new(1.0, 0.0).percent, 0.0);
        assert_eq!(Bar::new(f32::NAN, 1.0).percent, 0.0);
    }
}
