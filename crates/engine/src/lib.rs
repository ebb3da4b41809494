//! squeeze's engine: a DistilBERT sequence classifier in candle, its quantization schemes
//! (PyTorch-exact dynamic int8 first) and the metrics that compare them.
//!
//! Bytes in, numbers out, on every target: the engine never reads files or the network,
//! and never reads a clock (`std::time` panics in wasm); the CLI and the web worker do.
//!
//! ```no_run
//! # fn main() -> engine::Result<()> {
//! # let files: engine::ModelFiles = unimplemented!();
//! let f32_model = engine::Classifier::load(&files)?;
//! let int8 = f32_model.quantize(engine::Scheme::Int8Dynamic)?;
//! let c = engine::compare(&f32_model, &int8, "I love learning about AI!")?;
//! println!("{:?} vs {:?}: mse {}", c.f32.logits, c.quantized.logits, c.mse);
//! # Ok(()) }
//! ```

pub mod bench;
pub mod checkpoint;
mod classifier;
pub mod config;
pub mod dataset;
pub mod distill;
mod error;
pub mod explain;
pub mod export;
pub mod metrics;
pub mod models;
pub mod ops;
pub mod parallel;
pub mod quant;
pub mod recipe;
pub mod tokenize;

pub use classifier::{
    compare, Classifier, Comparison, ModelFiles, ModelInfo, ModelSize, Prediction, SchemeReport,
    StaysF32, TokenizerFile,
};
pub use config::Config;
pub use error::{Error, Result};
pub use quant::embedding::EmbeddingStorage;
pub use quant::{QuantizeOptions, Scheme};
pub use tokenize::Encoding;
