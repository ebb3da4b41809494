//! The whole recipe, on bytes: fine-tune the teacher, gather and label transfer text,
//! cut the student out of the teacher, distil it, and hand back the files of both.
//! `cargo xtask distill` feeds it the downloaded teacher and text and writes what comes out.

use std::cell::RefCell;
use std::collections::HashMap;

use candle_core::{Device, Tensor};
use serde_json::json;

use super::net::{Importance, Net, Shape};
use super::prune::{cut_student, Selection};
use super::rng::Rng;
use super::text::{augment, fortune_sentences, Labelled};
use super::train::{self, Example, LogLine, Objective, Schedule};
use super::vocab::{count_tokens, PrunedVocab, TeacherTokenizer};
use super::{CandleContext, Error, Result};
use crate::checkpoint::Weights;
use crate::config::Config;
use crate::tokenize::TextEncoder;

/// Class names, by id.
pub const LABELS: [&str; 2] = ["NEGATIVE", "POSITIVE"];

/// The bundled model may not be bigger than this in f32, whatever the teacher.
pub const MAX_STUDENT_BYTES: u64 = 16_000_000;

/// The student's shape before its vocabulary is known.
#[derive(Clone, Debug)]
pub struct StudentSpec {
    /// Hidden width.
    pub dim: usize,
    /// Attention heads (the teacher's head width must divide `dim` into exactly these).
    pub heads: usize,
    /// Feed-forward width.
    pub hidden: usize,
    /// Position-embedding rows.
    pub positions: usize,
    /// Per student layer, the teacher layer it starts from.
    pub teacher_layers: Vec<usize>,
}

/// Every choice of a run.
#[derive(Clone, Debug)]
pub struct Recipe {
    /// Seed of every random choice (head initialisation, sampling, batch order).
    pub seed: u64,
    /// How many of the teacher's top layers are fine-tuned with its new head.
    pub teacher_tuned_layers: usize,
    /// Teacher fine-tuning.
    pub teacher_schedule: Schedule,
    /// At most this many fortune sentences (a seeded sample).
    pub fortune_sentences: usize,
    /// Augmented variants per training sentence.
    pub augment_per_sentence: usize,
    /// Sentences used to measure which teacher units matter.
    pub importance_sentences: usize,
    /// The student.
    pub student: StudentSpec,
    /// The student's bytes in f32 may be at most this share of the teacher's.
    pub max_share_of_teacher: f64,
    /// At most this many vocabulary rows even when the byte limit allows more.
    pub max_vocab_rows: Option<usize>,
    /// Distillation.
    pub student_schedule: Schedule,
    /// Weight of the [CLS] hidden-state MSE beside the logit MSE.
    pub hidden_weight: f64,
    /// Sentences per forward when only predicting.
    pub predict_batch: usize,
    /// Log a loss line every this many steps.
    pub log_every: usize,
}

impl Recipe {
    /// The recipe of the bundled model.
    pub fn full() -> Self {
        Self {
            seed: 20_251_125,
            teacher_tuned_layers: 6,
            teacher_schedule: Schedule {
                epochs: 4,
                batch: 16,
                lr: 5e-5,
                weight_decay: 0.01,
                warmup: 0.1,
                seed: 1,
                max_steps: None,
            },
            fortune_sentences: 8_000,
            augment_per_sentence: 14,
            importance_sentences: 512,
            student: StudentSpec {
                dim: 256,
                heads: 8,
                hidden: 512,
                positions: 512,
                teacher_layers: vec![1, 5],
            },
            max_share_of_teacher: 0.125,
            max_vocab_rows: None,
            student_schedule: Schedule {
                epochs: 6,
                batch: 32,
                lr: 5e-4,
                weight_decay: 0.01,
                warmup: 0.05,
                seed: 2,
                max_steps: None,
            },
            hidden_weight: 0.1,
            predict_batch: 32,
            log_every: 50,
        }
    }

    /// The same code path in seconds, for CI: a few sentences, steps and units, sized for
    /// the 2-layer, dim-64 BERT of `tests/fixtures/tiny-bert` (head width 32).
    pub fn smoke() -> Self {
        let full = Self::full();
        Self {
            teacher_tuned_layers: 1,
            teacher_schedule: Schedule {
                epochs: 1,
                max_steps: Some(3),
                batch: 8,
                ..full.teacher_schedule
            },
            fortune_sentences: 48,
            augment_per_sentence: 1,
            importance_sentences: 16,
            student: StudentSpec {
                dim: 32,
                heads: 1,
                hidden: 64,
                positions: 32,
                teacher_layers: vec![1],
            },
            // The fixture's 357 tokens, the student's layer and the file header do not fit
            // in 1/8 of a teacher that small.
            max_share_of_teacher: 0.5,
            student_schedule: Schedule {
                epochs: 2,
                max_steps: Some(12),
                batch: 8,
                lr: 1e-3,
                ..full.student_schedule
            },
            log_every: 2,
            ..full
        }
    }
}

/// What the pipeline reads.
pub struct Sources {
    /// The teacher's `config.json` (BERT or DistilBERT).
    pub teacher_config: Vec<u8>,
    /// The teacher's `tokenizer.json` (WordPiece).
    pub teacher_tokenizer: Vec<u8>,
    /// The teacher's `model.safetensors`.
    pub teacher_weights: Vec<u8>,
    /// Labelled training sentences.
    pub train: Vec<Labelled>,
    /// Labelled sentences for choices (best epoch).
    pub dev: Vec<Labelled>,
    /// Contents of fortune-cookie files.
    pub fortunes: Vec<String>,
    /// Cap on sentences of `train`/`dev` used (smoke runs); `None` uses all.
    pub limit: Option<usize>,
}

/// Progress, for the caller to print.
pub enum Event<'a> {
    /// A stage begins.
    Stage(&'a str),
    /// A fact worth logging.
    Note(String),
    /// A training loss line.
    Loss(&'a str, &'a LogLine),
}

/// The files of a Hugging Face DistilBERT classifier.
pub struct ModelBytes {
    /// `config.json`.
    pub config: Vec<u8>,
    /// `tokenizer.json`.
    pub tokenizer: Vec<u8>,
    /// `model.safetensors`.
    pub weights: Vec<u8>,
}

/// Numbers of a run, for the model card.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Report {
    /// Teacher dev accuracy after each fine-tuning epoch.
    pub teacher_dev: Vec<f64>,
    /// The epoch kept.
    pub teacher_epoch: usize,
    /// Teacher parameters.
    pub teacher_parameters: u64,
    /// Teacher f32 weight bytes.
    pub teacher_bytes: u64,
    /// Fortune sentences used.
    pub fortune_sentences: usize,
    /// Fortune sentences available before sampling.
    pub fortune_available: usize,
    /// Training sentences used as transfer text.
    pub train_sentences: usize,
    /// Augmented variants.
    pub augmented_sentences: usize,
    /// Teacher tokens in the transfer text.
    pub transfer_tokens: usize,
    /// Student vocabulary rows.
    pub vocab_rows: usize,
    /// Character pieces among them.
    pub vocab_char_pieces: usize,
    /// Share of the transfer text's teacher tokens the student vocabulary keeps.
    pub vocab_coverage: f64,
    /// Student shape: dim, layers, heads, hidden, positions.
    pub student_shape: [usize; 5],
    /// Teacher layers the student started from.
    pub student_teacher_layers: Vec<usize>,
    /// Student parameters.
    pub student_parameters: u64,
    /// Student f32 weight bytes.
    pub student_bytes: u64,
    /// The byte limit the student had to meet.
    pub student_limit: u64,
    /// Student dev accuracy and agreement with the teacher before distillation.
    pub student_dev_initial: (f64, f64),
    /// Student dev accuracy and agreement with the teacher after each epoch.
    pub student_dev: Vec<(f64, f64)>,
    /// The epoch kept.
    pub student_epoch: usize,
    /// Distillation loss lines: (step, loss, logit MSE).
    pub loss: Vec<(usize, f64, f64)>,
    /// Distillation steps in all.
    pub student_steps: usize,
}

/// A fine-tuned teacher.
pub struct Teacher {
    /// The network.
    pub net: Net,
    /// Its tokenizer.
    pub tokenizer: TeacherTokenizer,
    tokenizer_json: Vec<u8>,
}

/// A distilled student.
pub struct Student {
    /// The network.
    pub net: Net,
    /// Its vocabulary.
    pub vocab: PrunedVocab,
}

fn limited(rows: &[Labelled], limit: Option<usize>) -> &[Labelled] {
    &rows[..limit.unwrap_or(rows.len()).min(rows.len())]
}

fn normal(rng: &mut Rng, n: usize, std: f64) -> Vec<f32> {
    // Box–Muller: two uniforms give one normal.
    (0..n)
        .map(|_| {
            let (u1, u2) = (rng.unit().max(1e-12), rng.unit());
            ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos() * std) as f32
        })
        .collect()
}

fn layer_of(name: &str) -> Option<usize> {
    name.strip_prefix("transformer.layer.")?
        .split('.')
        .next()?
        .parse()
        .ok()
}

/// Loads the teacher with a fresh 2-label head and fine-tunes it on `train`, keeping the
/// epoch with the best `dev` accuracy.
pub fn fine_tune_teacher(
    src: &Sources,
    recipe: &Recipe,
    report: &mut Report,
    on: &mut dyn FnMut(Event),
) -> Result<Teacher> {
    on(Event::Stage("teacher: load and fine-tune"));
    let device = Device::Cpu;
    let config = Config::from_json(&src.teacher_config)?;
    let weights = Weights::from_safetensors(&src.teacher_weights, &config)?;
    let shape = Shape::of(&config, LABELS.len());
    let mut rng = Rng::new(recipe.seed);
    // Hugging Face initialises a new head with N(0, 0.02) weights and zero biases.
    let mut net = Net::from_tensors(shape, config.layer_norm_eps, |name, dims| {
        if name.starts_with("pre_classifier") || name.starts_with("classifier") {
            let n = dims.iter().product();
            let v = if name.ends_with("weight") {
                normal(&mut rng, n, 0.02)
            } else {
                vec![0.0; n]
            };
            Tensor::from_vec(v, dims, &device).during("teacher head")
        } else {
            Ok(weights.get(name, dims)?)
        }
    })?;
    let first = shape.layers.saturating_sub(recipe.teacher_tuned_layers);
    net.set_trainable(|n| {
        n.starts_with("pre_classifier")
            || n.starts_with("classifier")
            || layer_of(n).is_some_and(|i| i >= first)
    });
    report.teacher_parameters = shape.parameters();
    report.teacher_bytes = shape.f32_bytes();
    on(Event::Note(format!(
        "teacher: {} layers, dim {}, {} heads, vocab {}: {} parameters ({} bytes f32); \
         fine-tuning layers {first}..{} and the head",
        shape.layers,
        shape.dim,
        shape.heads,
        shape.vocab,
        shape.parameters(),
        shape.f32_bytes(),
        shape.layers
    )));
    let tokenizer = TeacherTokenizer::from_json(&src.teacher_tokenizer)?;
    let encode = |rows: &[Labelled]| -> Result<Vec<Example>> {
        rows.iter()
            .map(|r| {
                Ok(Example {
                    ids: tokenizer.encode(&r.text)?,
                    label: r.label,
                    logits: vec![],
                    cls: vec![],
                })
            })
            .collect()
    };
    let train_ex = encode(limited(&src.train, src.limit))?;
    let dev_rows = limited(&src.dev, src.limit);
    let dev_ids: Vec<Vec<u32>> = dev_rows
        .iter()
        .map(|r| tokenizer.encode(&r.text))
        .collect::<Result<_>>()?;
    let dev_y: Vec<usize> = dev_rows.iter().map(|r| r.label).collect();
    let mut best: Option<Best> = None;
    // Both callbacks print; a RefCell lets them share `on`.
    let shared = RefCell::new(&mut *on);
    train::train(
        &net,
        &train_ex,
        Objective::Labels,
        &recipe.teacher_schedule,
        recipe.log_every,
        &mut |l| (shared.borrow_mut())(Event::Loss("teacher", l)),
        &mut |epoch, net| {
            let acc = train::accuracy(net, &dev_ids, &dev_y, recipe.predict_batch)?;
            report.teacher_dev.push(acc);
            (shared.borrow_mut())(Event::Note(format!(
                "teacher: epoch {epoch}: dev accuracy {acc:.4}"
            )));
            if best.as_ref().is_none_or(|b| acc > b.0) {
                best = Some((acc, epoch, snapshot(net, |n| !n.starts_with("embeddings"))?));
            }
            Ok(true)
        },
    )?;
    if let Some((acc, epoch, tensors)) = best {
        restore(&mut net, &tensors)?;
        report.teacher_epoch = epoch;
        on(Event::Note(format!(
            "teacher: kept epoch {epoch} (dev accuracy {acc:.4})"
        )));
    }
    net.set_trainable(|_| false);
    Ok(Teacher {
        net,
        tokenizer,
        tokenizer_json: unpadded_tokenizer(&src.teacher_tokenizer)?,
    })
}

/// The best epoch so far: its dev accuracy, number and weights.
type Best = (f64, usize, Vec<(String, Tensor)>);

fn snapshot(net: &Net, keep: impl Fn(&str) -> bool) -> Result<Vec<(String, Tensor)>> {
    net.tensors()
        .filter(|(n, _)| keep(n))
        .map(|(n, t)| Ok((n.to_string(), t.copy().during("snapshot")?)))
        .collect()
}

fn restore(net: &mut Net, tensors: &[(String, Tensor)]) -> Result<()> {
    for (n, t) in tensors {
        net.set(n, t)?;
    }
    Ok(())
}

fn unpadded_tokenizer(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut json: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| Error::Data(format!("teacher tokenizer.json: not JSON ({e})")))?;
    json["padding"] = serde_json::Value::Null;
    json["truncation"] = serde_json::Value::Null;
    Ok(serde_json::to_vec(&json).expect("a JSON value always serializes"))
}

/// A Hugging Face `config.json` for a DistilBERT classifier of `shape`.
pub fn distilbert_config(shape: Shape) -> Vec<u8> {
    let id2label: serde_json::Map<String, serde_json::Value> = LABELS
        .iter()
        .enumerate()
        .map(|(i, l)| (i.to_string(), json!(l)))
        .collect();
    let label2id: serde_json::Map<String, serde_json::Value> = LABELS
        .iter()
        .enumerate()
        .map(|(i, l)| (l.to_string(), json!(i)))
        .collect();
    let config = json!({
        "activation": "gelu",
        "architectures": ["DistilBertForSequenceClassification"],
        "attention_dropout": 0.1,
        "dim": shape.dim,
        "dropout": 0.1,
        "hidden_dim": shape.hidden,
        "id2label": id2label,
        "initializer_range": 0.02,
        "label2id": label2id,
        "max_position_embeddings": shape.positions,
        "model_type": "distilbert",
        "n_heads": shape.heads,
        "n_layers": shape.layers,
        "pad_token_id": 0,
        "qa_dropout": 0.1,
        "seq_classif_dropout": 0.2,
        "sinusoidal_pos_embds": false,
        "tie_weights_": true,
        "vocab_size": shape.vocab,
    });
    serde_json::to_vec_pretty(&config).expect("a JSON value always serializes")
}

impl Teacher {
    /// The fine-tuned teacher as a DistilBERT model directory's files.
    pub fn files(&self) -> Result<ModelBytes> {
        Ok(ModelBytes {
            config: distilbert_config(self.net.shape()),
            tokenizer: self.tokenizer_json.clone(),
            weights: self.net.to_safetensors()?,
        })
    }
}

impl Teacher {
    /// Loads a teacher written by [`Teacher::files`].
    pub fn load(files: &ModelBytes) -> Result<Self> {
        let config = Config::from_json(&files.config)?;
        let weights = Weights::from_safetensors(&files.weights, &config)?;
        let shape = Shape::of(&config, LABELS.len());
        let mut net = Net::from_weights(&weights, shape, config.layer_norm_eps)?;
        net.set_trainable(|_| false);
        Ok(Self {
            net,
            tokenizer: TeacherTokenizer::from_json(&files.tokenizer)?,
            tokenizer_json: files.tokenizer.clone(),
        })
    }
}

impl Labels {
    /// The teacher's outputs as safetensors (`logits` and `cls`, one row per sentence), so
    /// that a later run on the same teacher and text can skip labelling.
    pub fn to_safetensors(&self) -> Result<Vec<u8>> {
        let device = Device::Cpu;
        let rows = self.logits.len();
        let t = |v: &[Vec<f32>]| {
            let width = v.first().map_or(0, Vec::len);
            Tensor::from_vec(v.concat(), (rows, width), &device).during("labels")
        };
        let (logits, cls) = (t(&self.logits)?, t(&self.cls)?);
        safetensors::serialize([("logits", &logits), ("cls", &cls)], None)
            .map_err(|e| Error::Data(format!("cannot write labels ({e})")))
    }

    /// Reads labels written by [`Labels::to_safetensors`] for sentences whose teacher ids
    /// are `ids`.
    pub fn from_safetensors(bytes: &[u8], ids: Vec<Vec<u32>>) -> Result<Self> {
        let t = candle_core::safetensors::load_buffer(bytes, &Device::Cpu)
            .map_err(|e| Error::Data(format!("labels: not a safetensors file ({e})")))?;
        let get = |name: &str| -> Result<Vec<Vec<f32>>> {
            t.get(name)
                .ok_or_else(|| Error::Data(format!("labels: no `{name}` tensor")))?
                .to_vec2::<f32>()
                .during("labels")
        };
        let (logits, cls) = (get("logits")?, get("cls")?);
        if logits.len() != ids.len() || cls.len() != ids.len() {
            return Err(Error::Data(format!(
                "labels: {} rows for {} sentences",
                logits.len(),
                ids.len()
            )));
        }
        Ok(Self { ids, logits, cls })
    }
}

impl Student {
    /// The student as a DistilBERT model directory's files.
    pub fn files(&self) -> Result<ModelBytes> {
        Ok(ModelBytes {
            config: distilbert_config(self.net.shape()),
            tokenizer: self.vocab.tokenizer_json(),
            weights: self.net.to_safetensors()?,
        })
    }
}

/// The unlabelled transfer text: a seeded sample of fortune sentences, the training
/// sentences, and augmented variants of them.
pub fn transfer_text(
    src: &Sources,
    recipe: &Recipe,
    report: &mut Report,
    on: &mut dyn FnMut(Event),
) -> Vec<String> {
    on(Event::Stage("transfer text"));
    let mut seen = std::collections::HashSet::new();
    let mut fortunes: Vec<String> = src
        .fortunes
        .iter()
        .flat_map(|f| fortune_sentences(f))
        .filter(|s| seen.insert(s.to_lowercase()))
        .collect();
    report.fortune_available = fortunes.len();
    let mut rng = Rng::new(recipe.seed ^ 0xF0);
    rng.shuffle(&mut fortunes);
    fortunes.truncate(recipe.fortune_sentences);
    let train: Vec<&str> = limited(&src.train, src.limit)
        .iter()
        .map(|r| r.text.as_str())
        .collect();
    let variants = augment(&train, recipe.augment_per_sentence, &mut rng);
    report.fortune_sentences = fortunes.len();
    report.train_sentences = train.len();
    report.augmented_sentences = variants.len();
    on(Event::Note(format!(
        "transfer text: {} fortune sentences (of {} available), {} training sentences, {} augmented variants",
        fortunes.len(),
        report.fortune_available,
        train.len(),
        variants.len()
    )));
    let mut all = fortunes;
    all.extend(train.iter().map(|s| s.to_string()));
    all.extend(variants);
    all
}

/// Teacher outputs on the transfer text: (teacher ids, logits, [CLS] state) per sentence.
pub struct Labels {
    /// Teacher token ids per sentence.
    pub ids: Vec<Vec<u32>>,
    /// Teacher logits per sentence.
    pub logits: Vec<Vec<f32>>,
    /// Teacher [CLS] hidden state per sentence.
    pub cls: Vec<Vec<f32>>,
}

/// The transfer text in the teacher's ids; sentences longer than the teacher's positions,
/// or that tokenize to nothing, are dropped.
pub fn teacher_ids(teacher: &Teacher, text: &[String]) -> Result<(Vec<String>, Vec<Vec<u32>>)> {
    let max = teacher.net.shape().positions;
    let mut kept = Vec::new();
    let mut ids = Vec::new();
    for s in text {
        let t = teacher.tokenizer.encode(s)?;
        if t.len() > 2 && t.len() <= max {
            kept.push(s.clone());
            ids.push(t);
        }
    }
    Ok((kept, ids))
}

/// The teacher labels the transfer text (ids from [`teacher_ids`]).
pub fn label(
    teacher: &Teacher,
    ids: Vec<Vec<u32>>,
    recipe: &Recipe,
    report: &mut Report,
    on: &mut dyn FnMut(Event),
) -> Result<Labels> {
    on(Event::Stage("teacher labels the transfer text"));
    report.transfer_tokens = ids.iter().map(Vec::len).sum();
    on(Event::Note(format!(
        "labelling {} sentences, {} teacher tokens",
        ids.len(),
        report.transfer_tokens
    )));
    let out = train::predict(&teacher.net, &ids, recipe.predict_batch)?;
    let (logits, cls) = out.into_iter().unzip();
    Ok(Labels { ids, logits, cls })
}

/// How many vocabulary rows a student of `spec` can have within `limit` bytes.
pub fn vocab_rows(spec: &StudentSpec, limit: u64) -> Result<usize> {
    let shape = |vocab| Shape {
        vocab,
        dim: spec.dim,
        layers: spec.teacher_layers.len(),
        heads: spec.heads,
        hidden: spec.hidden,
        positions: spec.positions,
        labels: LABELS.len(),
    };
    let fixed = shape(0).f32_bytes();
    // Leave room for the safetensors header, so that the file meets the limit too.
    let room = limit.saturating_sub(fixed + 16 * 1024);
    let rows = (room / (4 * spec.dim as u64)) as usize;
    if rows == 0 {
        return Err(Error::Data(format!(
            "a student of {fixed} bytes without a vocabulary is over the {limit}-byte limit"
        )));
    }
    Ok(rows)
}

/// Builds the student's vocabulary, cuts the student out of the teacher and distils it on
/// the labelled transfer text, keeping the epoch with the best dev accuracy.
pub fn distil(
    teacher: &Teacher,
    text: &[String],
    labels: &Labels,
    src: &Sources,
    recipe: &Recipe,
    report: &mut Report,
    on: &mut dyn FnMut(Event),
) -> Result<Student> {
    on(Event::Stage("student: vocabulary"));
    let spec = &recipe.student;
    let teacher_shape = teacher.net.shape();
    let limit = ((teacher_shape.f32_bytes() as f64 * recipe.max_share_of_teacher) as u64)
        .min(MAX_STUDENT_BYTES);
    let rows = vocab_rows(spec, limit)?.min(recipe.max_vocab_rows.unwrap_or(usize::MAX));
    let mut counts = HashMap::new();
    for ids in &labels.ids {
        for &id in ids {
            *counts.entry(id).or_default() += 1.0;
        }
    }
    // The dev sentences are only used to measure; their words count once, like any text.
    count_tokens(
        &teacher.tokenizer,
        limited(&src.dev, src.limit).iter().map(|r| r.text.as_str()),
        0.0,
        &mut counts,
    )?;
    counts.retain(|_, c| *c > 0.0);
    let vocab = PrunedVocab::new(&teacher.tokenizer, &counts, rows.min(teacher_shape.vocab))?;
    report.vocab_rows = vocab.len();
    report.vocab_char_pieces = vocab.char_pieces;
    report.vocab_coverage = vocab.coverage;
    report.student_limit = limit;
    on(Event::Note(format!(
        "vocabulary: {} rows ({} character pieces), covering {:.2}% of the transfer text's tokens",
        vocab.len(),
        vocab.char_pieces,
        100.0 * vocab.coverage
    )));

    on(Event::Stage("student: cut from the teacher"));
    let mut importance = Importance::default();
    let device = Device::Cpu;
    let sample: Vec<&Vec<u32>> = labels
        .ids
        .iter()
        .take(recipe.importance_sentences)
        .collect();
    for chunk in sample.chunks(recipe.predict_batch.max(1)) {
        let seqs: Vec<&[u32]> = chunk.iter().map(|s| s.as_slice()).collect();
        teacher
            .net
            .measure(&super::net::Batch::new(&seqs, &device)?, &mut importance)?;
    }
    let shape = Shape {
        vocab: vocab.len(),
        dim: spec.dim,
        layers: spec.teacher_layers.len(),
        heads: spec.heads,
        hidden: spec.hidden,
        positions: spec.positions,
        labels: LABELS.len(),
    };
    let selection = Selection::choose(teacher_shape, &importance, shape, &spec.teacher_layers)?;
    let net = cut_student(&teacher.net, &selection, &vocab, shape)?;
    report.student_shape = [
        shape.dim,
        shape.layers,
        shape.heads,
        shape.hidden,
        shape.positions,
    ];
    report.student_teacher_layers = spec.teacher_layers.clone();
    report.student_parameters = shape.parameters();
    report.student_bytes = shape.f32_bytes();
    on(Event::Note(format!(
        "student: {} layers (from teacher layers {:?}), dim {}, {} heads, hidden {}, vocab {}: \
         {} parameters, {} bytes f32 (limit {limit})",
        shape.layers,
        spec.teacher_layers,
        shape.dim,
        shape.heads,
        shape.hidden,
        shape.vocab,
        shape.parameters(),
        shape.f32_bytes()
    )));
    if shape.f32_bytes() > limit {
        return Err(Error::Data(format!(
            "the student has {} bytes, over its {limit}-byte limit",
            shape.f32_bytes()
        )));
    }

    on(Event::Stage("student: distil"));
    let encoder = TextEncoder::from_json(&vocab.tokenizer_json(), shape.positions)?;
    let dims: Vec<usize> = selection.dims.iter().map(|&d| d as usize).collect();
    let mut examples = Vec::new();
    for (i, s) in text.iter().enumerate() {
        let ids = encoder.encode(s)?.ids;
        let cls = if recipe.hidden_weight > 0.0 {
            dims.iter().map(|&d| labels.cls[i][d]).collect()
        } else {
            Vec::new()
        };
        examples.push(Example {
            ids,
            label: crate::metrics::argmax(&labels.logits[i]),
            logits: labels.logits[i].clone(),
            cls,
        });
    }
    let dev_rows = limited(&src.dev, src.limit);
    let dev_ids: Vec<Vec<u32>> = dev_rows
        .iter()
        .map(|r| Ok(encoder.encode(&r.text)?.ids))
        .collect::<Result<_>>()?;
    let teacher_dev_ids: Vec<Vec<u32>> = dev_rows
        .iter()
        .map(|r| teacher.tokenizer.encode(&r.text))
        .collect::<Result<_>>()?;
    let teacher_dev: Vec<usize> =
        train::predict(&teacher.net, &teacher_dev_ids, recipe.predict_batch)?
            .iter()
            .map(|(l, _)| crate::metrics::argmax(l))
            .collect();
    let dev_y: Vec<usize> = dev_rows.iter().map(|r| r.label).collect();
    let score = |net: &Net| -> Result<(f64, f64)> {
        let p: Vec<usize> = train::predict(net, &dev_ids, recipe.predict_batch)?
            .iter()
            .map(|(l, _)| crate::metrics::argmax(l))
            .collect();
        let n = p.len().max(1) as f64;
        let acc = p.iter().zip(&dev_y).filter(|(a, b)| a == b).count() as f64 / n;
        let agree = p.iter().zip(&teacher_dev).filter(|(a, b)| a == b).count() as f64 / n;
        Ok((acc, agree))
    };
    let mut student = Student { net, vocab };
    report.student_dev_initial = score(&student.net)?;
    on(Event::Note(format!(
        "student before distillation: dev accuracy {:.4}, agreement with the teacher {:.4}",
        report.student_dev_initial.0, report.student_dev_initial.1
    )));
    let mut best: Option<Best> = None;
    let objective = Objective::Teacher {
        hidden: recipe.hidden_weight,
    };
    let shared = RefCell::new((&mut *on, &mut *report));
    train::train(
        &student.net,
        &examples,
        objective,
        &recipe.student_schedule,
        recipe.log_every,
        &mut |l| {
            let (on, report) = &mut *shared.borrow_mut();
            report.loss.push((l.step, l.loss, l.logit_mse));
            report.student_steps = l.steps;
            on(Event::Loss("student", l));
        },
        &mut |epoch, net| {
            let (acc, agree) = score(net)?;
            let (on, report) = &mut *shared.borrow_mut();
            report.student_dev.push((acc, agree));
            on(Event::Note(format!(
                "student: epoch {epoch}: dev accuracy {acc:.4}, agreement with the teacher {agree:.4}"
            )));
            if best.as_ref().is_none_or(|b| acc > b.0) {
                best = Some((acc, epoch, snapshot(net, |_| true)?));
            }
            Ok(true)
        },
    )?;
    if let Some((acc, epoch, tensors)) = best {
        restore(&mut student.net, &tensors)?;
        report.student_epoch = epoch;
        on(Event::Note(format!(
            "student: kept epoch {epoch} (dev accuracy {acc:.4})"
        )));
    }
    Ok(student)
}
