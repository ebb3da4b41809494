//! The lab's heavy work in the worker: every scheme on one text, per-layer
//! sensitivity, weight histograms, held-out chunks and models from the learner's files.
//!
//! Quantized copies are cached per scheme for the loaded model, so ticking one more
//! scheme or running the next batch chunk does not quantize again. A comparison keeps
//! only the schemes it asks for: unticking a scheme frees its copy, and ticking it
//! again quantizes the weights afresh.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::engine::{
    dataset, metrics, Classifier, ModelFiles, Scheme, SchemeReport, TokenizerFile,
};
use crate::lab::messages::{
    BatchChunkResult, BatchCounts, DataSource, Flip, Histogram, LayerError, OwnData, SchemeRow,
    SchemeTable, Sensitivity, UploadedModel,
};
use crate::protocol::{ModelCard, RequestBody, ResponseBody};

use super::models::{self, Loaded};
use super::timing::{self, now_ms};

/// The held-out sentiment set, `label<TAB>text` under a header line, built into the worker.
const TEST_TSV: &str = include_str!("../../../../data/sentiment/test.tsv");

/// Most bins a histogram may ask for.
const MAX_BINS: u32 = 200;

thread_local! {
    /// Quantized copies of the loaded model: (its source, scheme → copy).
    static CACHE: RefCell<(String, HashMap<Scheme, Classifier>)> = RefCell::new(Default::default());
    static TEST_SET: Vec<(usize, String)> = parse_tsv(TEST_TSV);
    /// The learner's own labelled sentences, once given (`LoadOwnData`).
    static OWN_SET: RefCell<Vec<(usize, String)>> = const { RefCell::new(Vec::new()) };
}

/// Reads the learner's file against the loaded model's classes and keeps its rows
/// for batch evaluation; a file that cannot be used keeps the rows held before.
fn load_own_data(loaded: &Loaded, name: &str, bytes: &[u8]) -> Result<OwnData, String> {
    let labels = loaded.f32().labels();
    let set = dataset::parse_labelled(name, bytes, labels)?;
    let data = OwnData::of(&set, labels);
    OWN_SET
        .with(|own| *own.borrow_mut() = set.rows.into_iter().map(|r| (r.label, r.text)).collect());
    Ok(data)
}

/// `(gold label, text)` rows of a `label<TAB>text` file with a header.
pub fn parse_tsv(tsv: &str) -> Vec<(usize, String)> {
    tsv.lines()
        .skip(1)
        .filter_map(|line| {
            let (label, text) = line.split_once('\t')?;
            Some((label.trim().parse().ok()?, text.to_string()))
        })
        .collect()
}

/// The held-out sentences with their gold labels, in file order.
pub fn held_out_set() -> Vec<(usize, String)> {
    TEST_SET.with(Clone::clone)
}

/// The held-out sentences' texts, in file order.
pub fn held_out_texts() -> Vec<String> {
    TEST_SET.with(|set| set.iter().map(|(_, text)| text.clone()).collect())
}

/// The loaded model in `scheme`, quantized once per model.
pub fn in_scheme(loaded: &Loaded, scheme: Scheme) -> Result<Classifier, String> {
    cached_or_quantized(loaded, scheme).map(|(model, _)| model)
}

/// [`in_scheme`], and whether the weights were quantized for this call (not cached).
fn cached_or_quantized(loaded: &Loaded, scheme: Scheme) -> Result<(Classifier, bool), String> {
    if scheme == Scheme::F32 {
        return Ok((loaded.f32().clone(), false));
    }
    let source = &loaded.ready.base_url;
    if let Some(hit) = CACHE.with(|c| {
        let c = c.borrow();
        (c.0 == *source)
            .then(|| c.1.get(&scheme).cloned())
            .flatten()
    }) {
        return Ok((hit, false));
    }
    let model = loaded.f32().quantize(scheme).map_err(|e| e.to_string())?;
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.0 != *source {
            *c = (source.clone(), HashMap::new());
        }
        c.1.insert(scheme, model.clone());
    });
    Ok((model, true))
}

/// Drops the cached copies of every scheme not in `schemes`.
fn keep_only(schemes: &[Scheme]) {
    CACHE.with(|c| c.borrow_mut().1.retain(|s, _| schemes.contains(s)));
}

/// f32 first, then `schemes` in table order, without repeats.
fn with_f32(schemes: &[Scheme]) -> Vec<Scheme> {
    Scheme::ALL
        .iter()
        .copied()
        .filter(|s| *s == Scheme::F32 || schemes.contains(s))
        .collect()
}

/// Answers a lab request against the loaded model.
pub fn handle(loaded: &Loaded, body: RequestBody) -> ResponseBody {
    let result = match body {
        RequestBody::LayerSensitivity { text, scheme } => {
            sensitivity(loaded, &text, scheme).map(ResponseBody::SensitivityMeasured)
        }
        RequestBody::LayerHistogram {
            layer,
            scheme,
            bins,
        } => histogram(loaded, &layer, scheme, bins).map(ResponseBody::HistogramReady),
        RequestBody::BatchChunk {
            start,
            len,
            schemes,
            source,
        } => batch_chunk(loaded, start, len, &schemes, source).map(ResponseBody::BatchChunkDone),
        RequestBody::LoadOwnData { name, bytes } => {
            load_own_data(loaded, &name, &bytes.0).map(ResponseBody::OwnDataReady)
        }
        other => Err(format!("the lab does not handle {other:?}")),
    };
    result.unwrap_or_else(|message| ResponseBody::Failed { message })
}

/// f32 and each of `schemes` on `text`: size, error and time. The lab asks for it the
/// moment a model is ready, when a learner may click "run" too: it lets such a click
/// through before each scheme (see [`super::let_interactive_through`]).
pub async fn compare(
    loaded: &Loaded,
    text: &str,
    schemes: &[Scheme],
) -> Result<SchemeTable, String> {
    let f32 = loaded.f32();
    let enc = f32.encode(text).map_err(|e| e.to_string())?;
    let reference = f32.predict(&enc).map_err(|e| e.to_string())?;
    let f32_bytes = f32.size().total_bytes;
    keep_only(schemes);
    let mut rows = Vec::new();
    for scheme in with_f32(schemes) {
        super::let_interactive_through().await;
        let (model, quantized_now) = cached_or_quantized(loaded, scheme)?;
        let report = SchemeReport::measure(&model, &enc, &reference, f32_bytes)
            .map_err(|e| e.to_string())?;
        let time = timing::time_forward(now_ms, || model.logits(&enc).map(drop))
            .map_err(|e| e.to_string())?;
        rows.push(SchemeRow {
            report,
            time,
            quantized_now,
        });
    }
    Ok(SchemeTable {
        text: text.to_string(),
        tokens: enc.ids.len(),
        truncated: enc.truncated,
        labels: f32.labels().to_vec(),
        rows,
    })
}

fn sensitivity(loaded: &Loaded, text: &str, scheme: Scheme) -> Result<Sensitivity, String> {
    let f32 = loaded.f32();
    let enc = f32.encode(text).map_err(|e| e.to_string())?;
    let reference = f32.logits(&enc).map_err(|e| e.to_string())?;
    let mut layers = Vec::new();
    for info in f32.linears() {
        let stays_f32 = scheme.unfit_reason(info.in_features);
        let logits = f32
            .quantize_only(&info.name, scheme)
            .and_then(|m| m.logits(&enc))
            .map_err(|e| e.to_string())?;
        layers.push(LayerError {
            dims: (info.out_features, info.in_features),
            mse: metrics::mse(&reference, &logits).map_err(|e| e.to_string())?,
            max_abs_diff: metrics::max_abs_diff(&reference, &logits).map_err(|e| e.to_string())?,
            layer: info.name,
            stays_f32,
        });
    }
    Ok(Sensitivity {
        scheme,
        text: text.to_string(),
        layers,
    })
}

fn histogram(loaded: &Loaded, layer: &str, scheme: Scheme, bins: u32) -> Result<Histogram, String> {
    let bins = bins.clamp(1, MAX_BINS) as usize;
    let f32 = loaded.f32();
    let original = f32.linear(layer).map_err(|e| e.to_string())?;
    let quantized = original.quantize(scheme).map_err(|e| e.to_string())?;
    let before = original.dequantized_weight().map_err(|e| e.to_string())?;
    let after = quantized.dequantized_weight().map_err(|e| e.to_string())?;
    let grid = quantized.grid().map_err(|e| e.to_string())?;
    let (min, max) = before
        .iter()
        .chain(&after)
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let count_bins = |values: &[f32]| {
        let mut counts = vec![0u32; bins];
        let width = (max - min).max(f32::MIN_POSITIVE);
        for &v in values {
            let i = (((v - min) / width) * bins as f32) as usize;
            counts[i.min(bins - 1)] += 1;
        }
        counts
    };
    Ok(Histogram {
        layer: layer.to_string(),
        scheme,
        min,
        max,
        before: count_bins(&before),
        after: count_bins(&after),
        grid,
        count: before.len(),
        weight_mse: metrics::mse(&before, &after).map_err(|e| e.to_string())?,
        stays_f32: scheme.unfit_reason(original.dims().1),
    })
}

fn batch_chunk(
    loaded: &Loaded,
    start: u32,
    len: u32,
    schemes: &[Scheme],
    source: DataSource,
) -> Result<BatchChunkResult, String> {
    let take = |set: &[(usize, String)]| -> (Vec<(usize, String)>, u32) {
        let rows = set
            .iter()
            .skip(start as usize)
            .take(len as usize)
            .cloned()
            .collect();
        (rows, set.len() as u32)
    };
    let (rows, total) = match source {
        DataSource::HeldOut => TEST_SET.with(|set| take(set)),
        DataSource::Own => OWN_SET.with(|set| take(&set.borrow())),
    };
    if source == DataSource::Own && total == 0 {
        return Err("no sentences of yours are loaded: add a TSV or CSV file first".into());
    }
    let labels = loaded.f32().labels();
    let name = |i: usize| labels.get(i).cloned().unwrap_or_else(|| i.to_string());
    let mut flips = Vec::new();
    let models = with_f32(schemes)
        .into_iter()
        .map(|s| in_scheme(loaded, s).map(|m| (s, m)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut counts: Vec<BatchCounts> = models
        .iter()
        .map(|(scheme, _)| BatchCounts {
            scheme: *scheme,
            seen: 0,
            correct: 0,
            agree: 0,
        })
        .collect();
    // Every sentence's logits in every scheme, sentences spread over the threads (the
    // threaded build; one after another otherwise), then counted in order.
    let tokenizer = loaded.f32();
    let all_logits = crate::engine::parallel::map(&rows, |(_, text)| {
        let enc = tokenizer.encode(text).map_err(|e| e.to_string())?;
        models
            .iter()
            .map(|(_, model)| model.logits(&enc).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()
    });
    for (i, ((gold, text), logits)) in rows.iter().zip(all_logits).enumerate() {
        let logits = logits?;
        let mut reference = None;
        for (((scheme, _), c), logits) in models.iter().zip(&mut counts).zip(&logits) {
            let label = metrics::argmax(logits);
            // f32 comes first, so its label and margin are known before any other scheme's.
            let (f32_label, f32_margin) =
                *reference.get_or_insert((label, metrics::margin(logits)));
            c.seen += 1;
            c.correct += u32::from(label == *gold);
            c.agree += u32::from(label == f32_label);
            if label != f32_label {
                flips.push(Flip {
                    index: start + i as u32,
                    text: text.clone(),
                    scheme: *scheme,
                    gold: name(*gold),
                    f32_label: name(f32_label),
                    label: name(label),
                    f32_margin,
                });
            }
        }
    }
    Ok(BatchChunkResult {
        total,
        start,
        len: rows.len() as u32,
        counts,
        flips,
    })
}

/// The engine's view of the learner's files, and their total bytes.
pub fn upload_files(upload: UploadedModel) -> (ModelFiles, u64) {
    let bytes = (upload.config.0.len() + upload.tokenizer.0.len() + upload.weights.0.len()) as u64;
    let files = ModelFiles {
        config: upload.config.0,
        tokenizer: if upload.tokenizer_is_json {
            TokenizerFile::Json(upload.tokenizer.0)
        } else {
            TokenizerFile::Vocab(upload.tokenizer.0)
        },
        weights: upload.weights.0,
    };
    (files, bytes)
}

/// Builds a model from the learner's files; the caller keeps the old one on `Err`.
pub fn load_upload(upload: UploadedModel) -> Result<Loaded, String> {
    let card = ModelCard {
        name: upload.name.clone(),
        trained: true,
        summary: String::new(),
        source: "your files".to_string(),
    };
    let source = format!("upload:{}", upload.name);
    let (files, downloaded) = upload_files(upload);
    models::build(source, Some(card), &files, downloaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_set_is_built_in_and_parsed() {
        let rows = parse_tsv(TEST_TSV);
        assert_eq!(rows.len(), TEST_TSV.lines().count() - 1);
        assert!(rows
            .iter()
            .all(|(label, text)| *label <= 1 && !text.is_empty()));
    }

    #[test]
    fn f32_leads_and_order_is_the_tables() {
        assert_eq!(
            with_f32(&[Scheme::Q4_0, Scheme::F16, Scheme::F32]),
            vec![Scheme::F32, Scheme::F16, Scheme::Q4_0]
        );
    }
}
