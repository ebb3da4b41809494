//! Live distillation: a small student, cut out of a teacher classifier, trained step by
//! step on the teacher's logits for a built-in set of sentences. The web page's worker
//! and `squeeze distill` drive the same [`Trainer`], one [`Trainer::step`] at a time, so
//! a run can be paused, drawn and resumed between steps.
//!
//! Everything that varies between runs comes from [`LiveConfig::seed`]: the order of the
//! batches. The same seed gives the same loss curve on every run of one build; native and
//! wasm builds agree up to the order of float sums inside candle's matmuls.
//!
//! No clock and no threads are used here, so the trainer runs unchanged in a Web Worker.

use std::collections::HashMap;

use candle_core::{Device, Tensor, D};
use serde::{Deserialize, Serialize};

use super::net::{Batch, Importance, Net, Shape};
use super::optim::AdamW;
use super::pipeline::{distilbert_config, LABELS};
use super::prune::{cut_student, Selection};
use super::rng::Rng;
use super::text::{augment, parse_tsv, Labelled};
use super::train::predict;
use super::vocab::{PrunedVocab, TeacherTokenizer};
use super::{CandleContext, Error, Result};
use crate::checkpoint::Weights;
use crate::config::Config;
use crate::{metrics, Classifier, ModelFiles, Scheme, TokenizerFile};

/// The training sentences (labels are not used: the teacher's logits are the targets).
const TRAIN_TSV: &str = include_str!("../../../../data/sentiment/train.tsv");
/// The held-out sentences: never trained on, used for the held-out loss and the evaluation.
const HELD_OUT_TSV: &str = include_str!("../../../../data/sentiment/dev.tsv");

/// Training sentences used (the first ones of `train.tsv`).
pub const TRAIN_SENTENCES: usize = 512;
/// Variants of each training sentence added to the transfer text.
pub const VARIANTS_PER_SENTENCE: usize = 4;
/// Seed of the variants (fixed: every run learns from the same text).
const AUGMENT_SEED: u64 = 0x5eed;
/// Held-out sentences whose loss is tracked during training (the first ones of `dev.tsv`).
pub const HELD_OUT_CURVE_SENTENCES: usize = 64;
/// Longest sentence kept, in tokens; also the student's position rows.
pub const MAX_TOKENS: usize = 64;
/// Width of one attention head: the bundled teacher's (256 / 8).
pub const HEAD_DIM: usize = 32;
/// Smallest and largest student width.
pub const DIM_RANGE: (usize, usize) = (64, 256);
/// Smallest and largest learning rate accepted.
pub const LR_RANGE: (f64, f64) = (1e-4, 1e-2);
/// Smallest and largest batch.
pub const BATCH_RANGE: (usize, usize) = (4, 64);

/// The student's `[UNK]` id ([`PrunedVocab`] puts the special tokens first).
const UNK: u32 = 1;

/// What the student is trained to match.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum LiveLoss {
    /// Mean squared error between student and teacher logits (the seed's distillation loss).
    Mse,
    /// KL divergence between the teacher's and the student's softmax at `temperature`,
    /// times temperature² (Hinton et al. 2015), so gradients keep their size as T grows.
    Kl {
        /// Softmax temperature (> 0).
        temperature: f64,
    },
}

/// The student's shape and how it trains.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveConfig {
    /// Transformer blocks, 1 or up to the teacher's.
    pub layers: usize,
    /// Hidden width, a multiple of [`HEAD_DIM`] in [`DIM_RANGE`] and at most the teacher's.
    pub dim: usize,
    /// Seed of the batch order.
    pub seed: u64,
    /// AdamW learning rate (constant: a live run has no planned end).
    pub lr: f64,
    /// Sentences per step.
    pub batch: usize,
    /// The loss.
    pub loss: LiveLoss,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            layers: 1,
            dim: 128,
            seed: 7,
            lr: 5e-4,
            batch: 32,
            loss: LiveLoss::Mse,
        }
    }
}

impl LiveConfig {
    /// Checks the settings against the teacher's shape; the error names the bad value.
    pub fn check(&self, teacher: Shape) -> Result<()> {
        let bad = |m: String| Err(Error::Data(m));
        if teacher.head_dim() != HEAD_DIM {
            return bad(format!(
                "the teacher's heads are {} wide; live training needs {HEAD_DIM}",
                teacher.head_dim()
            ));
        }
        if self.layers == 0 || self.layers > teacher.layers {
            return bad(format!(
                "layers must be 1 to {} (the teacher's), not {}",
                teacher.layers, self.layers
            ));
        }
        let max_dim = DIM_RANGE.1.min(teacher.dim);
        if self.dim < DIM_RANGE.0 || self.dim > max_dim || !self.dim.is_multiple_of(HEAD_DIM) {
            return bad(format!(
                "width must be a multiple of {HEAD_DIM} from {} to {max_dim}, not {}",
                DIM_RANGE.0, self.dim
            ));
        }
        if !(LR_RANGE.0..=LR_RANGE.1).contains(&self.lr) {
            return bad(format!(
                "learning rate must be from {} to {}, not {}",
                LR_RANGE.0, LR_RANGE.1, self.lr
            ));
        }
        if !(BATCH_RANGE.0..=BATCH_RANGE.1).contains(&self.batch) {
            return bad(format!(
                "batch must be from {} to {}, not {}",
                BATCH_RANGE.0, BATCH_RANGE.1, self.batch
            ));
        }
        if let LiveLoss::Kl { temperature } = self.loss {
            if !(0.5..=10.0).contains(&temperature) {
                return bad(format!(
                    "temperature must be from 0.5 to 10, not {temperature}"
                ));
            }
        }
        Ok(())
    }

    /// Teacher layers the student's layers start from: spread over the teacher, last one kept
    /// (it feeds the classifier head the student inherits).
    pub fn teacher_layers(&self, teacher_layers: usize) -> Vec<usize> {
        let (n, m) = (self.layers, teacher_layers);
        (0..n).map(|i| (i + 1) * m / n - 1).collect()
    }
}

/// One sentence: its ids and the teacher's logits for it.
struct Row {
    ids: Vec<u32>,
    target: Vec<f32>,
}

/// The numbers shown after training, on the held-out sentences.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveEval {
    /// Held-out sentences.
    pub n: usize,
    /// One entry each for the teacher, the student and the quantized student, in that order.
    pub models: Vec<ModelEval>,
    /// Mean logit MSE between teacher and student.
    pub mse_teacher_student: f64,
    /// Mean logit MSE between teacher and quantized student.
    pub mse_teacher_quantized: f64,
    /// Mean logit MSE between student and quantized student.
    pub mse_student_quantized: f64,
    /// Every held-out sentence where the student or the quantized student gives another
    /// label than the teacher, the teacher's closest calls first.
    #[serde(default)]
    pub flips: Vec<StudentFlip>,
}

/// A held-out sentence whose label a student changed against the teacher.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StudentFlip {
    /// The sentence.
    pub text: String,
    /// Which model changed it: `student` or `student <scheme>`.
    pub model: String,
    /// The gold label's class name.
    pub gold: String,
    /// The teacher's label.
    pub teacher_label: String,
    /// The student's label.
    pub label: String,
    /// The teacher's top logit minus its runner-up: how sure the teacher was.
    pub teacher_margin: f32,
}

/// One model's row of [`LiveEval`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelEval {
    /// `teacher`, `student` or `student <scheme>`.
    pub name: String,
    /// The storage scheme.
    pub scheme: Scheme,
    /// Share of held-out sentences labelled right.
    pub accuracy: f64,
    /// Share of held-out sentences where its label equals the teacher's.
    pub agreement: f64,
    /// Bytes as stored.
    pub bytes: u64,
    /// Weights.
    pub parameters: u64,
}

/// A student being distilled from a teacher, one step at a time.
pub struct Trainer {
    config: LiveConfig,
    teacher: Classifier,
    tokenizer: Vec<u8>,
    student: Net,
    opt: AdamW,
    rng: Rng,
    train: Vec<Row>,
    held_out: Vec<Row>,
    held_out_text: Vec<Labelled>,
    order: Vec<usize>,
    cursor: usize,
    steps: usize,
    best: Option<BestStep>,
    device: Device,
}

/// The student at its lowest held-out loss so far.
struct BestStep {
    step: usize,
    loss: f64,
    weights: Vec<u8>,
}

/// Fewest sentences a learner's own data must have: enough for a held-out fifth of at
/// least five.
pub const MIN_OWN_SENTENCES: usize = 25;

/// What a run learns from and is tested on.
#[derive(Clone, Debug, PartialEq)]
pub struct Sentences {
    /// The transfer text: the teacher labels it, the student learns its logits.
    pub transfer: Vec<Labelled>,
    /// Never trained on: the held-out loss and the evaluation.
    pub held_out: Vec<Labelled>,
}

impl Sentences {
    /// The built-in sentences: the first [`TRAIN_SENTENCES`] of `train.tsv` and
    /// [`VARIANTS_PER_SENTENCE`] variants of each (words dropped or swapped, windows,
    /// clauses of two sentences joined: `text::augment`), always the same ones; held out,
    /// `dev.tsv`. The variants keep a student from memorising 512 sentences: without them
    /// the held-out loss stops falling after ~30 steps.
    pub fn built_in() -> Result<Self> {
        let train = parse_tsv("data/sentiment/train.tsv", TRAIN_TSV)?;
        Ok(Self {
            transfer: with_variants(&train[..TRAIN_SENTENCES.min(train.len())]),
            held_out: parse_tsv("data/sentiment/dev.tsv", HELD_OUT_TSV)?,
        })
    }

    /// A learner's own labelled sentences: every fifth (the 5th, 10th, …) is held out, the
    /// others and their variants are the transfer text. Their labels only grade the held-out
    /// accuracy; the student learns the teacher's logits. Needs [`MIN_OWN_SENTENCES`].
    pub fn own(rows: &[Labelled]) -> Result<Self> {
        if rows.len() < MIN_OWN_SENTENCES {
            return Err(Error::Data(format!(
                "your data has {} usable sentences; training needs at least {MIN_OWN_SENTENCES} \
                 (four fifths to learn from, one fifth to test on)",
                rows.len()
            )));
        }
        let (held_out, train): (Vec<_>, Vec<_>) =
            rows.iter().enumerate().partition(|(i, _)| i % 5 == 4);
        let unzip =
            |v: Vec<(usize, &Labelled)>| v.into_iter().map(|(_, l)| l.clone()).collect::<Vec<_>>();
        Ok(Self {
            transfer: with_variants(&unzip(train)),
            held_out: unzip(held_out),
        })
    }
}

/// The name of model `m` of an evaluation: teacher, student, quantized student.
fn evals_name(m: usize, scheme: Scheme) -> String {
    match m {
        0 => "teacher".to_string(),
        1 => "student".to_string(),
        _ => format!("student {scheme}"),
    }
}

/// `base` and [`VARIANTS_PER_SENTENCE`] variants of each (fixed seed).
fn with_variants(base: &[Labelled]) -> Vec<Labelled> {
    let texts: Vec<&str> = base.iter().map(|l| l.text.as_str()).collect();
    let variants = augment(&texts, VARIANTS_PER_SENTENCE, &mut Rng::new(AUGMENT_SEED));
    base.iter()
        .cloned()
        .chain(variants.into_iter().map(|text| Labelled { label: 0, text }))
        .collect()
}

/// Encodes `rows` with `teacher`'s tokenizer, dropping empty and over-long sentences.
fn encode(teacher: &Classifier, rows: &[Labelled]) -> Result<Vec<Vec<u32>>> {
    let mut out = Vec::new();
    for r in rows {
        let enc = teacher.encode(&r.text)?;
        if enc.ids.len() <= MAX_TOKENS && !enc.truncated {
            out.push(enc.ids);
        }
    }
    Ok(out)
}

impl Trainer {
    /// Cuts a student of `config`'s shape out of the teacher in `files` (a DistilBERT
    /// classifier with a `tokenizer.json`) and labels the built-in sentences with it.
    pub fn new(files: &ModelFiles, config: LiveConfig) -> Result<Self> {
        Self::with_sentences(files, config, Sentences::built_in()?)
    }

    /// [`Trainer::new`] on `sentences` (e.g. [`Sentences::own`]).
    pub fn with_sentences(
        files: &ModelFiles,
        config: LiveConfig,
        sentences: Sentences,
    ) -> Result<Self> {
        let TokenizerFile::Json(tokenizer) = &files.tokenizer else {
            return Err(Error::Data(
                "live training needs the teacher's tokenizer.json".into(),
            ));
        };
        let device = Device::Cpu;
        let teacher = Classifier::load(files)?;
        let tconfig = Config::from_json(&files.config)?;
        let tshape = Shape::of(&tconfig, LABELS.len());
        if teacher.labels().len() != LABELS.len() {
            return Err(Error::Data(format!(
                "the teacher has {} classes; live training needs {}",
                teacher.labels().len(),
                LABELS.len()
            )));
        }
        config.check(tshape)?;
        let mut tnet = Net::from_weights(
            &Weights::from_safetensors(&files.weights, &tconfig)?,
            tshape,
            tconfig.layer_norm_eps,
        )?;
        tnet.set_trainable(|_| false);

        let Sentences {
            transfer,
            held_out: held_text,
        } = sentences;
        let train_ids = encode(&teacher, &transfer)?;
        let held_ids = encode(&teacher, &held_text)?;
        if held_ids.is_empty() || train_ids.is_empty() {
            return Err(Error::Data(format!(
                "no sentence of the {} fits the student's {MAX_TOKENS} tokens",
                if held_ids.is_empty() {
                    "held-out fifth"
                } else {
                    "transfer text"
                }
            )));
        }
        let label = |seqs: Vec<Vec<u32>>| -> Result<Vec<Row>> {
            let out = predict(&tnet, &seqs, 32)?;
            Ok(seqs
                .into_iter()
                .zip(out)
                .map(|(ids, (target, _))| Row { ids, target })
                .collect())
        };
        let mut train = label(train_ids)?;
        let mut held_out = label(held_ids)?;

        // Keep the units that matter most on the training sentences.
        let mut importance = Importance::default();
        for chunk in train.chunks(32) {
            let seqs: Vec<&[u32]> = chunk.iter().map(|r| r.ids.as_slice()).collect();
            tnet.measure(&Batch::new(&seqs, &device)?, &mut importance)?;
        }
        // Every teacher token is kept (the sentences' own first): the student reads the
        // held-out sentences exactly as the teacher does, only its rows are reordered.
        let ttok = TeacherTokenizer::from_json(tokenizer)?;
        let mut counts = HashMap::new();
        for r in &train {
            for &id in &r.ids {
                *counts.entry(id).or_insert(0.0) += 1.0;
            }
        }
        let vocab = PrunedVocab::new(&ttok, &counts, tshape.vocab)?;
        let to_student: HashMap<u32, u32> = vocab
            .teacher_ids
            .iter()
            .enumerate()
            .map(|(s, &t)| (t, s as u32))
            .collect();
        for r in train.iter_mut().chain(held_out.iter_mut()) {
            for id in &mut r.ids {
                *id = to_student.get(id).copied().unwrap_or(UNK);
            }
        }
        let shape = Shape {
            vocab: vocab.len(),
            dim: config.dim,
            layers: config.layers,
            heads: config.dim / HEAD_DIM,
            hidden: config.dim * tshape.hidden / tshape.dim,
            positions: MAX_TOKENS,
            labels: LABELS.len(),
        };
        let layers = config.teacher_layers(tshape.layers);
        let selection = Selection::choose(tshape, &importance, shape, &layers)?;
        let student = cut_student(&tnet, &selection, &vocab, shape)?;
        let opt = AdamW::new(student.trainable_named(), config.lr, 0.01);
        let mut rng = Rng::new(config.seed);
        let mut order: Vec<usize> = (0..train.len()).collect();
        rng.shuffle(&mut order);
        Ok(Self {
            config,
            teacher,
            tokenizer: vocab.tokenizer_json(),
            student,
            opt,
            rng,
            train,
            held_out,
            held_out_text: held_text,
            order,
            cursor: 0,
            steps: 0,
            best: None,
            device,
        })
    }

    /// The settings of this run.
    pub fn config(&self) -> LiveConfig {
        self.config
    }

    /// Steps taken so far.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The student's shape.
    pub fn shape(&self) -> Shape {
        self.student.shape()
    }

    /// Training and held-out sentences.
    pub fn sentences(&self) -> (usize, usize) {
        (self.train.len(), self.held_out.len())
    }

    /// The teacher.
    pub fn teacher(&self) -> &Classifier {
        &self.teacher
    }

    fn loss(&self, rows: &[&Row]) -> Result<Tensor> {
        let seqs: Vec<&[u32]> = rows.iter().map(|r| r.ids.as_slice()).collect();
        let out = self.student.forward(&Batch::new(&seqs, &self.device)?)?;
        let flat: Vec<f32> = rows.iter().flat_map(|r| r.target.iter().copied()).collect();
        let target = Tensor::from_vec(flat, (rows.len(), LABELS.len()), &self.device)
            .during("live: targets")?;
        match self.config.loss {
            LiveLoss::Mse => candle_nn::loss::mse(&out.logits, &target).during("live: mse"),
            LiveLoss::Kl { temperature } => kl(&out.logits, &target, temperature),
        }
    }

    /// One AdamW step on the next batch; returns that batch's loss before the step.
    pub fn step(&mut self) -> Result<f64> {
        let mut picked = Vec::with_capacity(self.config.batch);
        while picked.len() < self.config.batch {
            if self.cursor == self.order.len() {
                self.rng.shuffle(&mut self.order);
                self.cursor = 0;
            }
            picked.push(&self.train[self.order[self.cursor]]);
            self.cursor += 1;
        }
        let loss = self.loss(&picked)?;
        let value = loss.to_scalar::<f32>().during("live: loss")? as f64;
        if !value.is_finite() {
            return Err(Error::Data(format!(
                "the loss became {value} at step {}: try a smaller learning rate",
                self.steps + 1
            )));
        }
        self.opt.backward_step(&loss)?;
        self.steps += 1;
        Ok(value)
    }

    /// The loss on the first [`HELD_OUT_CURVE_SENTENCES`] held-out sentences (no step taken).
    pub fn held_out_loss(&self) -> Result<f64> {
        let rows: Vec<&Row> = self
            .held_out
            .iter()
            .take(HELD_OUT_CURVE_SENTENCES)
            .collect();
        let mut sum = 0.0;
        for chunk in rows.chunks(32) {
            let loss = self.loss(chunk)?.to_scalar::<f32>().during("live: loss")? as f64;
            sum += loss * chunk.len() as f64;
        }
        Ok(sum / rows.len().max(1) as f64)
    }

    /// [`Trainer::held_out_loss`], remembering the student's weights when it is the
    /// lowest so far (see [`Trainer::best_step`]).
    pub fn measure_held_out(&mut self) -> Result<f64> {
        let loss = self.held_out_loss()?;
        if self.best.as_ref().is_none_or(|b| loss < b.loss) {
            self.best = Some(BestStep {
                step: self.steps,
                loss,
                weights: self.student.to_safetensors()?,
            });
        }
        Ok(loss)
    }

    /// The step with the lowest held-out loss measured by [`Trainer::measure_held_out`],
    /// and that loss.
    pub fn best_step(&self) -> Option<(usize, f64)> {
        self.best.as_ref().map(|b| (b.step, b.loss))
    }

    /// The student's tokenizer (the teacher's, its vocabulary reordered), as a file.
    pub fn tokenizer_file(&self) -> TokenizerFile {
        TokenizerFile::Json(self.tokenizer.clone())
    }

    /// The student as it stands, as a classifier (f32) with the teacher's tokenizer.
    pub fn student(&self) -> Result<Classifier> {
        self.classifier(self.student.to_safetensors()?)
    }

    /// The student as it was at [`Trainer::best_step`] (as it stands when none was measured).
    pub fn best_student(&self) -> Result<Classifier> {
        match &self.best {
            Some(b) => self.classifier(b.weights.clone()),
            None => self.student(),
        }
    }

    fn classifier(&self, weights: Vec<u8>) -> Result<Classifier> {
        Ok(Classifier::load(&ModelFiles {
            config: distilbert_config(self.student.shape()),
            tokenizer: TokenizerFile::Json(self.tokenizer.clone()),
            weights,
        })?)
    }

    /// Teacher, student and the student quantized to `scheme`, on every held-out sentence.
    pub fn evaluate(&self, scheme: Scheme) -> Result<LiveEval> {
        self.evaluate_student(self.student()?, scheme)
    }

    /// [`Trainer::evaluate`] with the student of [`Trainer::best_step`].
    pub fn evaluate_best(&self, scheme: Scheme) -> Result<LiveEval> {
        self.evaluate_student(self.best_student()?, scheme)
    }

    fn evaluate_student(&self, student: Classifier, scheme: Scheme) -> Result<LiveEval> {
        let quantized = student.quantize(scheme)?;
        let models = [&self.teacher, &student, &quantized];
        let mut logits: [Vec<Vec<f32>>; 3] = Default::default();
        let mut labels = Vec::new();
        for row in &self.held_out_text {
            // The student's ids are the teacher's, renumbered: each model reads its own.
            let (t, s) = (self.teacher.encode(&row.text)?, student.encode(&row.text)?);
            for (i, (m, out)) in models.iter().zip(logits.iter_mut()).enumerate() {
                out.push(m.logits(if i == 0 { &t } else { &s })?);
            }
            labels.push(row.label);
        }
        let n = labels.len();
        let share = |k: usize| k as f64 / n.max(1) as f64;
        let argmax: Vec<Vec<usize>> = logits
            .iter()
            .map(|l| l.iter().map(|x| metrics::argmax(x)).collect())
            .collect();
        let names = [0, 1, 2].map(|m| evals_name(m, scheme));
        let evals = models
            .iter()
            .zip(&argmax)
            .zip(names)
            .map(|((m, a), name)| ModelEval {
                name,
                scheme: m.scheme(),
                accuracy: share(a.iter().zip(&labels).filter(|(p, y)| p == y).count()),
                agreement: share(a.iter().zip(&argmax[0]).filter(|(p, t)| p == t).count()),
                bytes: m.size().total_bytes,
                parameters: m.info().parameters,
            })
            .collect();
        let mean_mse = |a: &[Vec<f32>], b: &[Vec<f32>]| -> Result<f64> {
            let mut sum = 0.0;
            for (x, y) in a.iter().zip(b) {
                sum += metrics::mse(x, y)? as f64;
            }
            Ok(sum / n.max(1) as f64)
        };
        let class_names = self.teacher.labels();
        let class = |i: usize| class_names.get(i).cloned().unwrap_or_else(|| i.to_string());
        let mut flips = Vec::new();
        for (k, row) in self.held_out_text.iter().enumerate() {
            for m in 1..3 {
                if argmax[m][k] != argmax[0][k] {
                    flips.push(StudentFlip {
                        text: row.text.clone(),
                        model: evals_name(m, scheme),
                        gold: class(row.label),
                        teacher_label: class(argmax[0][k]),
                        label: class(argmax[m][k]),
                        teacher_margin: metrics::margin(&logits[0][k]),
                    });
                }
            }
        }
        flips.sort_by(|a, b| a.teacher_margin.total_cmp(&b.teacher_margin));
        Ok(LiveEval {
            n,
            models: evals,
            mse_teacher_student: mean_mse(&logits[0], &logits[1])?,
            mse_teacher_quantized: mean_mse(&logits[0], &logits[2])?,
            mse_student_quantized: mean_mse(&logits[1], &logits[2])?,
            flips,
        })
    }
}

/// T² · KL(softmax(teacher / T) ‖ softmax(student / T)), averaged over rows.
fn kl(student: &Tensor, teacher: &Tensor, temperature: f64) -> Result<Tensor> {
    let log_softmax = |x: &Tensor| -> candle_core::Result<Tensor> {
        let x = (x / temperature)?;
        // The max only keeps exp in range; detached, it adds nothing to the gradient.
        let max = x.max_keepdim(D::Minus1)?.detach();
        let shifted = x.broadcast_sub(&max)?;
        let lse = shifted.exp()?.sum_keepdim(D::Minus1)?.log()?;
        shifted.broadcast_sub(&lse)
    };
    let value = || -> candle_core::Result<Tensor> {
        let s = log_softmax(student)?;
        let t = log_softmax(teacher)?;
        let rows = student.dim(0)? as f64;
        (t.exp()? * (t - s)?)?
            .sum_all()?
            .affine(temperature * temperature / rows, 0.0)
    };
    value().during("live: kl")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> ModelFiles {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/models/default/");
        let read = |f: &str| std::fs::read(format!("{dir}{f}")).expect("the bundled model");
        ModelFiles {
            config: read("config.json"),
            tokenizer: TokenizerFile::Json(read("tokenizer.json")),
            weights: read("model.safetensors"),
        }
    }

    fn labelled(n: usize) -> Vec<Labelled> {
        (0..n)
            .map(|i| Labelled {
                label: i % 2,
                text: if i % 2 == 0 {
                    format!("review {i}: dull, slow and far too long")
                } else {
                    format!("review {i}: a warm, funny and lovely film")
                },
            })
            .collect()
    }

    #[test]
    fn own_sentences_hold_out_every_fifth_and_refuse_too_few() {
        let rows = labelled(30);
        let s = Sentences::own(&rows).unwrap();
        let held: Vec<&str> = s.held_out.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(held.len(), 6);
        assert!(held[0].starts_with("review 4:") && held[5].starts_with("review 29:"));
        // 24 learned from, each with its variants; no held-out sentence among them.
        assert_eq!(s.transfer.len(), 24 * (1 + VARIANTS_PER_SENTENCE));
        assert!(s.transfer[..24]
            .iter()
            .all(|t| !held.contains(&t.text.as_str())));
        let err = Sentences::own(&labelled(24)).unwrap_err().to_string();
        assert!(
            err.contains("24 usable sentences") && err.contains("at least 25"),
            "{err}"
        );
    }

    #[test]
    fn a_run_on_own_sentences_tests_on_them_and_lists_the_students_flips() {
        let rows = labelled(40);
        let mut t = Trainer::with_sentences(
            &bundled(),
            LiveConfig::default(),
            Sentences::own(&rows).unwrap(),
        )
        .unwrap();
        assert_eq!(t.sentences().1, 8);
        t.step().unwrap();
        let eval = t.evaluate(Scheme::Q4_0).unwrap();
        assert_eq!(eval.n, 8);
        // Every flip is a held-out sentence the model really labels otherwise.
        let student = t.student().unwrap();
        let quantized = student.quantize(Scheme::Q4_0).unwrap();
        let mut expected = 0;
        for row in &t.held_out_text {
            let teacher = metrics::argmax(&t.teacher().classify(&row.text).unwrap().logits);
            for (name, m) in [("student", &student), ("student q4_0", &quantized)] {
                let label = metrics::argmax(&m.classify(&row.text).unwrap().logits);
                if label != teacher {
                    expected += 1;
                    assert!(
                        eval.flips
                            .iter()
                            .any(|f| f.text == row.text && f.model == name),
                        "{name} flips {:?} but it is not listed",
                        row.text
                    );
                }
            }
        }
        assert_eq!(eval.flips.len(), expected);
        assert!(eval
            .flips
            .windows(2)
            .all(|w| w[0].teacher_margin <= w[1].teacher_margin));
    }

    #[test]
    fn the_best_step_keeps_its_weights() {
        let mut t = Trainer::new(&bundled(), LiveConfig::default()).unwrap();
        assert_eq!(t.best_step(), None);
        let first = t.measure_held_out().unwrap();
        assert_eq!(t.best_step(), Some((0, first)));
        let at_start = t.best_student().unwrap();
        for _ in 0..5 {
            t.step().unwrap();
        }
        let later = t.measure_held_out().unwrap();
        let (step, best) = t.best_step().unwrap();
        assert_eq!(best, first.min(later));
        assert_eq!(step, if later < first { 5 } else { 0 });
        // The best student is the one of that step, not the current one.
        let text = "not bad at all";
        let now = t.student().unwrap().classify(text).unwrap().logits;
        let kept = t.best_student().unwrap().classify(text).unwrap().logits;
        if step == 0 {
            assert_eq!(kept, at_start.classify(text).unwrap().logits);
            assert_ne!(kept, now);
        } else {
            assert_eq!(kept, now);
        }
    }

    #[test]
    fn a_step_lowers_the_loss_on_its_batch_and_a_seed_repeats_its_curve() {
        let files = bundled();
        let config = LiveConfig::default();
        let mut a = Trainer::new(&files, config).unwrap();
        // The same fixed batch before and after one step.
        let batch: Vec<&Row> = a.train.iter().take(16).collect();
        let before = a.loss(&batch).unwrap().to_scalar::<f32>().unwrap();
        let loss = a.loss(&batch).unwrap();
        a.opt.backward_step(&loss).unwrap();
        let batch: Vec<&Row> = a.train.iter().take(16).collect();
        let after = a.loss(&batch).unwrap().to_scalar::<f32>().unwrap();
        assert!(after < before, "loss {before} -> {after}");

        let curve = |seed: u64| -> Vec<f64> {
            let mut t = Trainer::new(&files, LiveConfig { seed, ..config }).unwrap();
            (0..5).map(|_| t.step().unwrap()).collect()
        };
        let (x, y, z) = (curve(3), curve(3), curve(4));
        assert_eq!(x, y, "same seed, same curve");
        assert_ne!(x, z, "another seed draws other batches");
    }

    #[test]
    fn settings_out_of_bounds_are_refused_with_the_value() {
        let teacher = Shape {
            vocab: 100,
            dim: 256,
            layers: 2,
            heads: 8,
            hidden: 512,
            positions: 512,
            labels: 2,
        };
        let ok = LiveConfig::default();
        assert!(ok.check(teacher).is_ok());
        for (bad, word) in [
            (LiveConfig { dim: 96 + 1, ..ok }, "97"),
            (LiveConfig { dim: 512, ..ok }, "512"),
            (LiveConfig { layers: 3, ..ok }, "3"),
            (LiveConfig { lr: 0.5, ..ok }, "0.5"),
        ] {
            let e = bad.check(teacher).unwrap_err().to_string();
            assert!(e.contains(word), "{e}");
        }
        assert_eq!(ok.teacher_layers(2), [1]);
        assert_eq!(LiveConfig { layers: 2, ..ok }.teacher_layers(2), [0, 1]);
    }

    #[test]
    fn kl_is_zero_for_equal_logits_and_positive_otherwise() {
        let dev = Device::Cpu;
        let t = Tensor::new(&[[1f32, -1.0], [0.5, 2.0]], &dev).unwrap();
        let s = Tensor::new(&[[0f32, 0.0], [0.5, 2.0]], &dev).unwrap();
        let same = kl(&t, &t, 2.0).unwrap().to_scalar::<f32>().unwrap();
        let diff = kl(&s, &t, 2.0).unwrap().to_scalar::<f32>().unwrap();
        assert!(same.abs() < 1e-6, "{same}");
        assert!(diff > 1e-3, "{diff}");
    }
}
