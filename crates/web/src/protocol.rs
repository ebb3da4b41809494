//! The messages between the page and the engine's Web Worker: one type each way.
//!
//! Both sides encode them with `serde-wasm-bindgen` (structured clone of plain JS
//! objects; no JSON text in between). Every [`Request`] carries an id; the worker
//! answers with a [`Response`] carrying the same id, zero or more
//! [`ResponseBody::Progress`] first and then exactly one final body, so the bridge
//! knows which pending call to resolve. Id 0 is reserved for messages the worker
//! sends on its own ([`ResponseBody::Started`]).

use serde::{Deserialize, Serialize};

use crate::engine::distill::live::{LiveConfig, LiveEval};
use crate::engine::explain::{ActivationRange, MarginRow};
use crate::engine::recipe::{LayerCosts, Recipe};
use crate::engine::{Comparison, ModelInfo, ModelSize, Scheme};
use crate::figures::messages::{FlipCheck, PackedRows, SeedCodeRun, SoftTargets};
use crate::lab::messages::{
    BatchChunkResult, Bytes, DataSource, ForwardTimes, Histogram, OwnData, SchemeTable,
    Sensitivity, TeacherReady, TeacherTable, UploadedModel,
};
use crate::lab::recipe::{RecipeOutcome, RecipePlan};
use crate::lab::take_home::{Download, DownloadKind, ZipCheck};

/// Identifies one call from the page; unique per worker.
pub type RequestId = u32;

/// The id of messages that answer no request.
pub const UNSOLICITED: RequestId = 0;

/// Page → worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Echoed back in every [`Response`] to this request.
    pub id: RequestId,
    /// What the worker should do.
    pub body: RequestBody,
}

/// What the page asks of the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RequestBody {
    /// Fetch `config.json`, `tokenizer.json`, `model.safetensors` (and the optional
    /// `card.json`) under `base_url`, load the model in f32 and quantize it to
    /// int8-dynamic once. Answered by progress, then [`ResponseBody::ModelReady`].
    /// Asking again for the loaded URL answers at once from the cache.
    LoadModel {
        /// Absolute URL of the model folder, ending in `/`.
        base_url: String,
    },
    /// Run the f32 and the int8 model on `text`. Answered by [`ResponseBody::Classified`].
    Classify {
        /// The learner's sentence, as typed.
        text: String,
    },
    /// Time the f32 and the int8 forward on `text` (a few hundred ms of repeated runs).
    /// Sent after `Classify`, so the logits show before the timing loop starts.
    /// Answered by [`ResponseBody::ForwardsTimed`].
    TimeForwards {
        /// The sentence just classified.
        text: String,
    },
    /// Run f32 and each of `schemes` on `text`. Answered by [`ResponseBody::SchemesCompared`].
    CompareSchemes {
        /// The sentence.
        text: String,
        /// Schemes besides f32 (f32 is always the first row).
        schemes: Vec<Scheme>,
    },
    /// Quantize one Linear at a time to `scheme` and measure the logits' error on `text`.
    /// Answered by [`ResponseBody::SensitivityMeasured`].
    LayerSensitivity {
        /// The sentence.
        text: String,
        /// The scheme applied to each layer in turn.
        scheme: Scheme,
    },
    /// Bin the weights of `layer` before and after `scheme`. Answered by [`ResponseBody::HistogramReady`].
    LayerHistogram {
        /// Checkpoint name of the Linear layer.
        layer: String,
        /// The scheme.
        scheme: Scheme,
        /// Number of bins.
        bins: u32,
    },
    /// Classify held-out sentences `start..start + len` with f32 and each scheme.
    /// Answered by [`ResponseBody::BatchChunkDone`]. The page sends one chunk at a time,
    /// so a cancel takes effect between chunks.
    BatchChunk {
        /// First sentence.
        start: u32,
        /// How many sentences.
        len: u32,
        /// Schemes besides f32.
        schemes: Vec<Scheme>,
        /// The held-out set or the learner's own sentences.
        #[serde(default)]
        source: DataSource,
    },
    /// Read the learner's labelled sentences (TSV or CSV) against the loaded model's class
    /// names and keep them for `BatchChunk`. Answered by [`ResponseBody::OwnDataReady`]; a
    /// file that cannot be used at all leaves the data held before in place.
    LoadOwnData {
        /// The file's name (for messages).
        name: String,
        /// Its bytes.
        bytes: Bytes,
    },
    /// Load a model from files the learner picked. Answered by [`ResponseBody::ModelReady`];
    /// on failure the worker keeps its current model.
    LoadFiles(UploadedModel),
    /// Test hook: the worker panics, as a bug in the engine would, so that browser
    /// tests can check that the page restarts it. Never answered.
    Crash,
    /// Test hook: how big the worker's wasm memory is. Answered by
    /// [`ResponseBody::Memory`] (the soak test watches it grow).
    Memory,
    /// Fetch the teacher under `base_url` (once) and cut a new student of `config`'s shape
    /// from it, replacing any run in progress. Answered by [`ResponseBody::TrainReady`].
    TrainStart {
        /// Absolute URL of the teacher's model folder, ending in `/`.
        base_url: String,
        /// The student's shape, seed and learning rate.
        config: LiveConfig,
        /// Learn from the learner's sentences (`TrainOwnData`) instead of the built-in ones.
        #[serde(default)]
        own_data: bool,
    },
    /// Read the learner's labelled sentences (TSV or CSV) for /train: four fifths become the
    /// transfer text, every fifth is held out. Answered by [`ResponseBody::OwnDataReady`];
    /// a file that cannot be used leaves the sentences held before in place.
    TrainOwnData {
        /// The file's name (for messages).
        name: String,
        /// Its bytes.
        bytes: Bytes,
    },
    /// Take `steps` training steps, then (when `held_out`) measure the held-out loss.
    /// Answered by [`ResponseBody::TrainProgress`]. The page asks chunk by chunk, so the
    /// worker stays free to hear a pause or a reset between chunks.
    TrainSteps {
        /// Steps in this chunk.
        steps: u32,
        /// Whether to measure the held-out loss after them.
        held_out: bool,
    },
    /// Evaluate the teacher, the student and the student quantized to `scheme` on the
    /// held-out sentences. Answered by [`ResponseBody::TrainEvaluated`].
    TrainEvaluate {
        /// The quantized student's scheme.
        scheme: Scheme,
        /// Evaluate the student of the step with the lowest held-out loss, not the last one.
        #[serde(default)]
        best: bool,
    },
    /// Build the lab's teacher from files the learner picked (kept beside the current
    /// model). Answered by [`ResponseBody::TeacherLoaded`]; on failure the worker keeps
    /// the teacher it had.
    LoadTeacherFiles(UploadedModel),
    /// Fetch the lab's teacher under `base_url` (with progress). Answered by
    /// [`ResponseBody::TeacherLoaded`].
    LoadTeacher {
        /// Absolute URL of the teacher's model folder, ending in `/`.
        base_url: String,
    },
    /// Run the lab's teacher, the current model and that model in `scheme` on `text`.
    /// Answered by [`ResponseBody::TeacherCompared`].
    CompareTeacher {
        /// The sentence.
        text: String,
        /// The quantized student's scheme.
        scheme: Scheme,
    },
    /// Fetch a model from the Hugging Face Hub (or the browser's cache of it), with
    /// progress. Answered by [`ResponseBody::ModelReady`]; on failure the worker keeps
    /// its current model.
    LoadHub {
        /// The Hub's base URL, without a trailing `/` (`https://huggingface.co`).
        hub: String,
        /// The model id, e.g. `distilbert-base-uncased-finetuned-sst-2-english`.
        id: String,
    },
    /// Run the seed's program on `text`: tokens, f32 and int8 logits, their MSE.
    /// Answered by [`ResponseBody::SeedCodeRan`].
    SeedCode {
        /// The sentence.
        text: String,
    },
    /// The loaded model (as teacher) and the student's logits on `text`: the /train run's
    /// student when there is one, else a student freshly cut from the teacher.
    /// Answered by [`ResponseBody::SoftTargetsReady`].
    SoftTargets {
        /// The sentence.
        text: String,
    },
    /// What dynamic int8 sees at `layer` for `text`: its input, range, scale and zero point.
    /// Answered by [`ResponseBody::ActivationsMeasured`].
    Activations {
        /// The sentence.
        text: String,
        /// Checkpoint name of the Linear layer.
        layer: String,
        /// Histogram bins.
        bins: u32,
    },
    /// Pack row `row` of `layer` in each of `formats`. Answered by [`ResponseBody::RowPacked`].
    PackRow {
        /// Checkpoint name of the Linear layer.
        layer: String,
        /// The row (output channel).
        row: u32,
        /// GGML schemes to pack it in.
        formats: Vec<Scheme>,
    },
    /// f32 and `scheme` on `text`. Answered by [`ResponseBody::FlipChecked`].
    FlipCheck {
        /// The sentence.
        text: String,
        /// The scheme compared with f32.
        scheme: Scheme,
    },
    /// Tokenize the first `sentences` development sentences and run f32 on them: the start
    /// of measuring a recipe. Answered by [`ResponseBody::RecipePlanned`].
    RecipeStart {
        /// How many development sentences the errors are averaged over.
        sentences: u32,
    },
    /// One Linear alone in each of the lab's candidate schemes, on the development
    /// sentences of the last `RecipeStart`. Answered by [`ResponseBody::RecipeLayerMeasured`].
    RecipeLayer {
        /// Checkpoint name of the Linear layer.
        layer: String,
    },
    /// Build the mixed model of `recipe` and judge it, f32 and every uniform candidate on
    /// the held-out set. Answered by [`ResponseBody::RecipeApplied`].
    RecipeApply {
        /// A scheme for every Linear layer.
        recipe: Recipe,
        /// Store the word embeddings int8 per row.
        int8_embeddings: bool,
    },
    /// [`RequestBody::RecipeApply`] for a recipe file the learner picked, read in the
    /// worker (a bad file is one line naming it).
    RecipeApplyFile {
        /// The file's name.
        name: String,
        /// Its bytes.
        bytes: Bytes,
        /// Store the word embeddings int8 per row.
        int8_embeddings: bool,
    },
    /// Build a zip of the loaded model to download. Answered by [`ResponseBody::DownloadReady`].
    Download(DownloadKind),
    /// The /train student (now, or at its best held-out step) as a Hugging Face folder zip.
    /// Answered by [`ResponseBody::DownloadReady`].
    TrainDownload {
        /// The student of the best held-out step rather than the current one.
        best: bool,
    },
    /// Read a zip the learner saved, run its model on `text` and compare it with the lab's
    /// model stored the same way. Answered by [`ResponseBody::ZipChecked`].
    CheckZip {
        /// The file's name.
        name: String,
        /// Its bytes.
        bytes: Bytes,
        /// The lab's sentence.
        text: String,
    },
    /// The `n` held-out sentences closest to changing label under `scheme`.
    /// Answered by [`ResponseBody::ClosestCallsFound`].
    ClosestCalls {
        /// The scheme compared with f32.
        scheme: Scheme,
        /// How many sentences.
        n: u32,
    },
}

impl RequestBody {
    /// A learner waiting on a click (the lab's run: its logits, then their timing). The
    /// worker answers it ahead of analyses queued before it, and between the steps of one
    /// that is running, so the first click after a model loads does not wait behind the
    /// scheme table the lab computes then.
    pub fn is_interactive(&self) -> bool {
        matches!(self, Self::Classify { .. } | Self::TimeForwards { .. })
    }

    /// An analysis that only reads the loaded model and may run long: an interactive
    /// request may overtake it in the queue. Nothing that loads or changes a model is
    /// overtaken, so a `Classify` never sees a model older than one asked for before it.
    pub fn may_be_overtaken(&self) -> bool {
        matches!(
            self,
            Self::CompareSchemes { .. }
                | Self::LayerSensitivity { .. }
                | Self::LayerHistogram { .. }
                | Self::BatchChunk { .. }
        )
    }
}

/// Worker → page.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Response {
    /// The id of the request this answers, or [`UNSOLICITED`].
    pub id: RequestId,
    /// The answer.
    pub body: ResponseBody,
}

/// What the worker says.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ResponseBody {
    /// The worker's wasm has started and it listens; sent once, with id [`UNSOLICITED`].
    /// Requests posted before this could be lost, so the bridge holds them until then.
    Started {
        /// Threads one forward runs on (1 in the one-thread build).
        threads: u32,
    },
    /// Bytes of the model downloaded so far (not final).
    Progress {
        /// Bytes read so far, over all files.
        loaded: u64,
        /// Sum of the files' Content-Length, when every server reply had one.
        total: Option<u64>,
    },
    /// The model is loaded and quantized (final answer to `LoadModel`).
    ModelReady(ModelReady),
    /// Both forwards of one text (final answer to `Classify`).
    Classified(Classified),
    /// Both forwards timed (final answer to `TimeForwards`).
    ForwardsTimed(ForwardTimes),
    /// Every chosen scheme on one text (final answer to `CompareSchemes`).
    SchemesCompared(SchemeTable),
    /// Error per layer (final answer to `LayerSensitivity`).
    SensitivityMeasured(Sensitivity),
    /// A layer's weights binned (final answer to `LayerHistogram`).
    HistogramReady(Histogram),
    /// Counts for one chunk of the held-out set (final answer to `BatchChunk`).
    BatchChunkDone(BatchChunkResult),
    /// The learner's sentences as read (final answer to `LoadOwnData`).
    OwnDataReady(OwnData),
    /// The worker's wasm linear memory, in bytes (final answer to `Memory`).
    Memory {
        /// `WebAssembly.Memory.buffer.byteLength` inside the worker.
        wasm_bytes: u64,
    },
    /// A new student is ready to train (final answer to `TrainStart`).
    TrainReady(TrainReady),
    /// One chunk of training done (final answer to `TrainSteps`).
    TrainProgress(TrainProgress),
    /// The three models compared (final answer to `TrainEvaluate`).
    TrainEvaluated(LiveEval),
    /// The lab's teacher is loaded (final answer to `LoadTeacher` and `LoadTeacherFiles`).
    TeacherLoaded(TeacherReady),
    /// Teacher, student and quantized student on one text (final answer to `CompareTeacher`).
    TeacherCompared(TeacherTable),
    /// The seed's program on one sentence (final answer to `SeedCode`).
    SeedCodeRan(SeedCodeRun),
    /// Teacher and student logits (final answer to `SoftTargets`).
    SoftTargetsReady(SoftTargets),
    /// One layer's input on one sentence (final answer to `Activations`).
    ActivationsMeasured(ActivationRange),
    /// One weight row in several formats (final answer to `PackRow`).
    RowPacked(PackedRows),
    /// f32 and one scheme on one sentence (final answer to `FlipCheck`).
    FlipChecked(FlipCheck),
    /// Held-out sentences, closest to flipping first (final answer to `ClosestCalls`).
    ClosestCallsFound(Vec<MarginRow>),
    /// Development sentences ready (final answer to `RecipeStart`).
    RecipePlanned(RecipePlan),
    /// One layer's costs (final answer to `RecipeLayer`).
    RecipeLayerMeasured(LayerCosts),
    /// The mixed model judged (final answer to `RecipeApply`).
    RecipeApplied(Box<RecipeOutcome>),
    /// A zip to save (final answer to `Download` and `TrainDownload`).
    DownloadReady(Download),
    /// A saved zip read back (final answer to `CheckZip`).
    ZipChecked(ZipCheck),
    /// The request failed; `message` is one line a learner can read (final).
    Failed {
        /// What went wrong, naming the file or value at fault.
        message: String,
    },
}

/// `card.json` beside the bundled model: where it comes from and whether it was trained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// Short name shown in the status line, e.g. `demo-untrained`.
    pub name: String,
    /// `false` for random weights: the page then says its labels mean nothing.
    pub trained: bool,
    /// One or two sentences about the model.
    #[serde(default)]
    pub summary: String,
    /// Where the weights come from.
    #[serde(default)]
    pub source: String,
}

/// What the page learns once the model is ready.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelReady {
    /// The model folder it was loaded from.
    pub base_url: String,
    /// The model card, when the folder has one.
    pub card: Option<ModelCard>,
    /// Class names in logit order.
    pub labels: Vec<String>,
    /// Layers, width, vocabulary, parameters, max positions.
    pub info: ModelInfo,
    /// The scheme of the quantized copy.
    pub scheme: Scheme,
    /// Bytes of the f32 model as stored.
    pub f32_size: ModelSize,
    /// Bytes of the quantized model as stored.
    pub quantized_size: ModelSize,
    /// Bytes downloaded for the three model files.
    pub downloaded_bytes: u64,
    /// Time to parse the files and build the f32 model, in ms.
    pub load_ms: f64,
    /// Time to quantize it, in ms.
    pub quantize_ms: f64,
}

/// The comparison of one text.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Classified {
    /// The engine's f32-vs-quantized comparison: logits, probabilities, labels, metrics, sizes.
    pub comparison: Comparison,
    /// Tokens the text had before truncation (incl. `[CLS]`/`[SEP]`).
    pub original_tokens: usize,
    /// Milliseconds the worker spent on this comparison (both forwards): a learner's
    /// first click shows whether the warm-up after loading did its job.
    pub worker_ms: f64,
}

/// A student cut from its teacher, before its first step.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainReady {
    /// The settings the worker accepted.
    pub config: LiveConfig,
    /// Weights of the student.
    pub parameters: u64,
    /// Weights of the teacher.
    pub teacher_parameters: u64,
    /// Sentences it trains on.
    pub train_sentences: usize,
    /// Sentences it is tested on.
    pub held_out_sentences: usize,
    /// Held-out loss before training.
    pub held_out_loss: f64,
    /// Time to fetch nothing new, label the sentences and cut the student, in ms.
    pub setup_ms: f64,
}

/// What one chunk of training did.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainProgress {
    /// Training loss of each step in the chunk, in order.
    pub losses: Vec<f64>,
    /// Steps taken since the start, after this chunk.
    pub step: usize,
    /// Held-out loss after the chunk, when asked for.
    pub held_out_loss: Option<f64>,
    /// The step with the lowest held-out loss so far, and that loss.
    #[serde(default)]
    pub best: Option<(usize, f64)>,
    /// Time spent on the steps (not the held-out loss), measured in the worker, in ms.
    pub ms: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_survive_a_serde_round_trip() {
        let requests = [
            Request {
                id: 7,
                body: RequestBody::Classify {
                    text: "I love learning about AI!".into(),
                },
            },
            Request {
                id: 8,
                body: RequestBody::LoadModel {
                    base_url: "http://127.0.0.1:8080/models/default/".into(),
                },
            },
            Request {
                id: 9,
                body: RequestBody::LoadHub {
                    hub: "https://huggingface.co".into(),
                    id: "distilbert-base-uncased-finetuned-sst-2-english".into(),
                },
            },
            Request {
                id: 10,
                body: RequestBody::CompareTeacher {
                    text: "not bad".into(),
                    scheme: Scheme::Q4_0,
                },
            },
        ];
        for request in requests {
            let json = serde_json::to_string(&request).unwrap();
            assert_eq!(serde_json::from_str::<Request>(&json).unwrap(), request);
        }
        let response = Response {
            id: 8,
            body: ResponseBody::Progress {
                loaded: 10,
                total: Some(20),
            },
        };
        // The engine's types have no PartialEq: compare the encodings.
        let json = serde_json::to_string(&response).unwrap();
        let back: Response = serde_json::from_str(&json).unwrap();
        assert_eq!(back.id, 8);
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
    }

    #[test]
    fn card_json_may_omit_summary_and_source() {
        let card: ModelCard =
            serde_json::from_str(r#"{"name":"demo-untrained","trained":false}"#).unwrap();
        assert_eq!(card.name, "demo-untrained");
        assert!(!card.trained);
        assert!(card.summary.is_empty());
    }
}
