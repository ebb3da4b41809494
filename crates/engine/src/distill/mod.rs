//! Distillation: the pieces that turn a pretrained BERT teacher into the small DistilBERT
//! student that squeeze bundles, trained with candle's autograd on the CPU.
//!
//! - [`net`]: a trainable, batched DistilBERT with the engine's tensor names;
//! - [`vocab`]: the student's pruned WordPiece vocabulary and its `tokenizer.json`;
//! - [`prune`]: the student's start, cut out of the teacher;
//! - [`train`]: fine-tuning on labels and distillation on the teacher's logits;
//! - [`optim`]: AdamW without per-step temporaries;
//! - [`text`]: labelled TSV files and fortune-cookie transfer text;
//! - [`live`]: a student trained step by step for the web page and `squeeze distill`;
//! - [`rng`]: the seeded generator that makes a run reproducible.
//!
//! Like the rest of the engine this module only sees bytes: fetching the teacher and the
//! text, timing and writing files is `cargo xtask distill`'s job (crates/xtask/src/distill.rs).

pub mod card;
pub mod eval;
pub mod live;
pub mod net;
pub mod optim;
pub mod pipeline;
pub mod prune;
pub mod rng;
pub mod text;
pub mod train;
pub mod vocab;

#[cfg(test)]
mod tests;

/// What can go wrong while distilling.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The engine refused a model file.
    #[error(transparent)]
    Engine(#[from] crate::Error),

    /// Input data or settings that cannot work, said in one line.
    #[error("{0}")]
    Data(String),

    /// An error inside candle, with the step that raised it.
    #[error("{op}: {source}")]
    Candle {
        /// What was being done.
        op: &'static str,
        /// candle's own error.
        #[source]
        source: candle_core::Error,
    },
}

/// This module's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// Attaches the step name to a candle error.
pub(crate) trait CandleContext<T> {
    /// Wraps a candle error as [`Error::Candle`] naming `op`.
    fn during(self, op: &'static str) -> Result<T>;
}

impl<T> CandleContext<T> for candle_core::Result<T> {
    fn during(self, op: &'static str) -> Result<T> {
        self.map_err(|source| Error::Candle { op, source })
    }
}
