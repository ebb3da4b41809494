//! The models the worker holds: the f32 classifier and its int8-dynamic copy,
//! quantized once at load; and the timed comparison of one text.

use std::cell::RefCell;

use crate::engine::{self, Classifier, ModelFiles, Scheme, TokenizerFile};
use crate::lab::messages::{AfterLoad, ForwardTimes};
use crate::protocol::{Classified, ModelCard, ModelReady};

use super::fetch;
use super::timing::{self, now_ms};

/// The scheme the lab compares against f32.
const SCHEME: Scheme = Scheme::Int8Dynamic;

/// What the warm-up runs: a short sentence, as a learner's first one is.
const WARM_UP_TEXT: &str = "I love learning about AI!";

/// Forwards of each model in the warm-up; the first [`AFTER_LOAD_SHOWN`] are reported.
const WARM_UP_RUNS: usize = 6;

/// Warm-up forwards shown in the speed card.
pub const AFTER_LOAD_SHOWN: usize = 3;

/// A loaded model folder.
pub struct Loaded {
    /// What the page was told about it.
    pub ready: ModelReady,
    f32: Classifier,
    quantized: Classifier,
    /// The tokenizer file it came with, for downloads.
    tokenizer: TokenizerFile,
    /// The first forwards after load, once warmed up.
    after_load: RefCell<AfterLoad>,
}

/// Downloads the folder at `base_url`, builds the f32 model and quantizes it.
pub async fn load(
    base_url: &str,
    progress: impl FnMut(u64, Option<u64>),
) -> Result<Loaded, String> {
    let card = match fetch::fetch_optional_text(&format!("{base_url}card.json")).await? {
        Some(text) => Some(
            serde_json::from_str::<ModelCard>(&text)
                .map_err(|e| format!("{base_url}card.json: {e}"))?,
        ),
        None => None,
    };
    let (files, downloaded_bytes) = fetch::model_folder(base_url, progress).await?;
    build(base_url.to_string(), card, &files, downloaded_bytes)
}

/// Builds the f32 model from `files` and quantizes it; `source` names where they came from.
pub fn build(
    source: String,
    card: Option<ModelCard>,
    files: &ModelFiles,
    downloaded_bytes: u64,
) -> Result<Loaded, String> {
    let start = now_ms();
    let f32 = Classifier::load(files).map_err(|e| e.to_string())?;
    let load_ms = now_ms() - start;
    let start = now_ms();
    let quantized = f32.quantize(SCHEME).map_err(|e| e.to_string())?;
    let quantize_ms = now_ms() - start;

    let ready = ModelReady {
        base_url: source,
        card,
        labels: f32.labels().to_vec(),
        info: f32.info(),
        scheme: SCHEME,
        f32_size: f32.size(),
        quantized_size: quantized.size(),
        downloaded_bytes,
        load_ms,
        quantize_ms,
    };
    Ok(Loaded {
        ready,
        f32,
        quantized,
        tokenizer: files.tokenizer.clone(),
        after_load: RefCell::default(),
    })
}

impl Loaded {
    /// The f32 model.
    pub fn f32(&self) -> &Classifier {
        &self.f32
    }

    /// The tokenizer file the model was loaded with.
    pub fn tokenizer(&self) -> &TokenizerFile {
        &self.tokenizer
    }

    /// A short name for the model's downloads: its card's name, else `model`.
    pub fn name(&self) -> &str {
        self.ready
            .card
            .as_ref()
            .map_or("model", |c| c.name.as_str())
    }

    /// The quantized (int8-dynamic) copy.
    pub fn quantized(&self) -> &Classifier {
        &self.quantized
    }

    /// Compares both models on `text` (the engine's numbers, as the CLI prints them).
    pub fn classify(&self, text: &str) -> engine::Result<Classified> {
        let start = now_ms();
        let comparison = engine::compare(&self.f32, &self.quantized, text)?;
        let worker_ms = now_ms() - start;
        Ok(Classified {
            comparison,
            original_tokens: self.f32.encode(text)?.original_len,
            worker_ms,
        })
    }

    /// Runs each model [`WARM_UP_RUNS`] times on a short sentence, right after loading:
    /// the browser compiles wasm in tiers and optimises the hot functions after their
    /// first runs, so these forwards are slower than later ones. Doing them here, while
    /// the learner reads, spares the first click; the first ones are kept to show.
    pub fn warm_up(&self) {
        if !self.after_load.borrow().f32.is_empty() {
            return;
        }
        let Ok(enc) = self.f32.encode(WARM_UP_TEXT) else {
            return;
        };
        let mut times = AfterLoad::default();
        for _ in 0..WARM_UP_RUNS {
            for (model, out) in [
                (&self.f32, &mut times.f32),
                (&self.quantized, &mut times.quantized),
            ] {
                let start = now_ms();
                if model.logits(&enc).is_err() {
                    return;
                }
                out.push(now_ms() - start);
            }
        }
        times.f32.truncate(AFTER_LOAD_SHOWN);
        times.quantized.truncate(AFTER_LOAD_SHOWN);
        *self.after_load.borrow_mut() = times;
    }

    /// Times each model's forward on `text`, their samples in turn (after `classify`, so
    /// the code is warm).
    pub fn time_forwards(&self, text: &str) -> engine::Result<ForwardTimes> {
        let encoding = self.f32.encode(text)?;
        let [f32, quantized] = timing::time_interleaved(
            now_ms,
            timing::SPEED_CARD_SAMPLES,
            [&mut || self.f32.logits(&encoding).map(drop), &mut || {
                self.quantized.logits(&encoding).map(drop)
            }],
        )?;
        Ok(ForwardTimes {
            f32,
            quantized,
            after_load: self.after_load.borrow().clone(),
        })
    }
}
