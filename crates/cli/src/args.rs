//! Command-line arguments. The `///` comment on each field is its `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use engine::{QuantizeOptions, Scheme};

/// See how quantization changes a DistilBERT classifier: logits, error, size and speed.
#[derive(Parser, Debug)]
#[command(name = "squeeze", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Classify texts: logits, probabilities and label (and, when quantized, the f32
    /// logits and the MSE between the two).
    Classify(ClassifyArgs),
    /// Accuracy on a labelled TSV (header `label<TAB>text`, label = class id).
    Eval(EvalArgs),
    /// One text through several schemes: size, latency, logits and error against f32.
    Compare(CompareArgs),
    /// Quantize a model and write it as one safetensors file (layout: docs/EXPORT.md) with
    /// its config.json and tokenizer; prints the sizes.
    Quantize(QuantizeArgs),
    /// Write the f32 model (or an f16 copy) as a Hugging Face folder that transformers'
    /// DistilBertForSequenceClassification loads.
    Export(ExportArgs),
    /// Distil a small student from a teacher on built-in sentences, printing the loss per
    /// step (the same run the /train page makes in the browser).
    Distill(DistillArgs),
    /// Choose a scheme per Linear layer for a size or error budget from per-layer
    /// sensitivity on a dev set, then judge the mixed model on a held-out set.
    Recipe(RecipeArgs),
}

/// Where the model is and how it is loaded.
#[derive(Args, Debug)]
pub struct ModelArgs {
    /// Model folder with config.json, tokenizer.json (or vocab.txt) and model.safetensors.
    #[arg(long, default_value = "www/models/default", env = "SQUEEZE_MODEL")]
    pub model: PathBuf,
    /// Extra safetensors with the classification head, for a bare BERT/DistilBERT encoder.
    #[arg(long)]
    pub head: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ClassifyArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Scheme: f32, int8-dynamic or int8-per-channel.
    #[arg(long, default_value = "f32")]
    pub scheme: Scheme,
    /// Also store the word-embedding table as int8 with one scale per row.
    #[arg(long)]
    pub int8_embeddings: bool,
    /// Print JSON (one object per text, in an array) instead of text.
    #[arg(long)]
    pub json: bool,
    /// The texts to classify.
    #[arg(required = true)]
    pub texts: Vec<String>,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Scheme: f32, int8-dynamic or int8-per-channel.
    #[arg(long, default_value = "f32")]
    pub scheme: Scheme,
    /// Also store the word-embedding table as int8 with one scale per row.
    #[arg(long)]
    pub int8_embeddings: bool,
    /// TSV file with a header line `label<TAB>text`.
    #[arg(long)]
    pub data: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Comma-separated schemes; f32 is always measured as the reference.
    #[arg(long, value_delimiter = ',', default_values_t = Scheme::ALL.to_vec())]
    pub schemes: Vec<Scheme>,
    /// Forward passes timed per scheme (the median is reported).
    #[arg(long, default_value_t = 20)]
    pub runs: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The text.
    pub text: String,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("layers").required(true).args(["scheme", "recipe"])))]
#[command(group(clap::ArgGroup::new("dest").required(true).multiple(true).args(["out", "zip"])))]
pub struct QuantizeArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Scheme of every Linear layer (f32, f16, int8-dynamic, int8-per-channel, q8_0, q5_0,
    /// q4_1, q4_0, q4_k).
    #[arg(long)]
    pub scheme: Option<Scheme>,
    /// A recipe file (from `squeeze recipe --out`, or written by hand): one scheme per
    /// Linear layer.
    #[arg(long)]
    pub recipe: Option<PathBuf>,
    /// Also store the word-embedding table as int8 with one scale per row.
    #[arg(long)]
    pub int8_embeddings: bool,
    /// Folder to write (created if missing; must be empty if it exists).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also (or instead) write the same files as one zip, the bundle the web page
    /// downloads (must not exist yet).
    #[arg(long)]
    pub zip: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("dest").required(true).multiple(true).args(["out", "zip"])))]
pub struct ExportArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Write every tensor as f16 (half the bytes) instead of f32.
    #[arg(long)]
    pub f16: bool,
    /// Folder to write (created if missing; must be empty if it exists).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also (or instead) write the same files as one zip, the bundle the web page
    /// downloads (must not exist yet).
    #[arg(long)]
    pub zip: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DistillArgs {
    /// Teacher model folder (a DistilBERT classifier with tokenizer.json).
    #[arg(long, default_value = "www/models/default", env = "SQUEEZE_MODEL")]
    pub teacher: PathBuf,
    /// Training steps.
    #[arg(long, default_value_t = 30)]
    pub steps: usize,
    /// Seed of the batch order: the same seed gives the same loss curve.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Student transformer blocks (1 to the teacher's).
    #[arg(long, default_value_t = 1)]
    pub layers: usize,
    /// Student width: a multiple of 32 from 64 to 256.
    #[arg(long, default_value_t = 128)]
    pub dim: usize,
    /// AdamW learning rate (1e-4 to 1e-2).
    #[arg(long, default_value_t = 5e-4)]
    pub lr: f64,
    /// Sentences per step.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Train on temperature-T KL divergence instead of logit MSE.
    #[arg(long)]
    pub temperature: Option<f64>,
    /// Held-out loss every this many steps (and after the last).
    #[arg(long, default_value_t = 10)]
    pub held_out_every: usize,
    /// Scheme of the quantized student in the final comparison.
    #[arg(long, default_value = "int8-dynamic")]
    pub scheme: Scheme,
    /// Save the trained student here as a Hugging Face folder (config.json,
    /// model.safetensors, tokenizer.json), as the /train page's download holds it.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The quantize options an `--int8-embeddings` flag asks for.
pub fn quantize_options(int8_embeddings: bool) -> QuantizeOptions {
    QuantizeOptions::int8_embeddings(int8_embeddings)
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("budget").required(true)))]
pub struct RecipeArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Size budget: the whole model in at most this many MB (10^6 bytes).
    #[arg(long, group = "budget")]
    pub budget_mb: Option<f64>,
    /// Size budget: no larger than the model uniformly in this scheme.
    #[arg(long, group = "budget")]
    pub no_larger_than: Option<Scheme>,
    /// Error budget: summed predicted logits MSE against f32 at most this.
    #[arg(long, group = "budget")]
    pub max_error: Option<f64>,
    /// Comma-separated schemes a layer may take (f32 always may).
    #[arg(long, value_delimiter = ',', default_values_t = Scheme::ALL.to_vec())]
    pub schemes: Vec<Scheme>,
    /// Labelled TSV the per-layer errors are measured on (choosing).
    #[arg(long, default_value = "data/sentiment/dev.tsv")]
    pub dev: PathBuf,
    /// Labelled TSV the recipe is judged on (held out: never used for choosing).
    #[arg(long, default_value = "data/sentiment/test.tsv")]
    pub test: PathBuf,
    /// Write the recipe JSON here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Per-layer sensitivity as JSON: read from this file if it exists (it must have been
    /// measured on the same model), else measured on --dev and written here.
    #[arg(long)]
    pub sensitivity: Option<PathBuf>,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
}
