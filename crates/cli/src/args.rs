//! Command-line arguments. The `///` comment on each field is its `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use engine::Scheme;

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
