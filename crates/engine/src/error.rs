//! The engine's one error type. Every message is a single lowercase line that names
//! the file, tensor, shape or value at fault, so the CLI and the page can show it as is.

/// Everything that can go wrong between bytes in and logits out.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// config.json is not JSON or lacks what a DistilBERT/BERT config must have.
    #[error("config.json: {0}")]
    Config(String),

    /// tokenizer.json or vocab.txt could not be used.
    #[error("{file}: {reason}")]
    Tokenizer {
        /// `tokenizer.json` or `vocab.txt`.
        file: &'static str,
        /// What was wrong with it.
        reason: String,
    },

    /// model.safetensors could not be parsed at all.
    #[error("model.safetensors: {0}")]
    Safetensors(String),

    /// A tensor the model needs is absent.
    #[error("model.safetensors: missing tensor `{name}`")]
    MissingTensor {
        /// The Hugging Face name of the tensor.
        name: String,
    },

    /// A tensor has a shape other than the config implies.
    #[error(
        "model.safetensors: tensor `{name}` has shape {actual:?}, config.json implies {expected:?}"
    )]
    ShapeMismatch {
        /// The Hugging Face name of the tensor.
        name: String,
        /// The shape the config implies.
        expected: Vec<usize>,
        /// The shape found in the file.
        actual: Vec<usize>,
    },

    /// A tensor holds NaN or infinite values.
    #[error("model.safetensors: tensor `{name}` holds {count} NaN or infinite values")]
    NonFinite {
        /// The Hugging Face name of the tensor.
        name: String,
        /// How many values are not finite.
        count: usize,
    },

    /// The text is empty or only whitespace.
    #[error("the text is empty: type a sentence")]
    EmptyInput,

    /// A scheme name that the engine does not know.
    #[error("unknown scheme `{given}`; expected one of: {known}")]
    UnknownScheme {
        /// What was asked for.
        given: String,
        /// The valid names, comma separated.
        known: String,
    },

    /// Quantizing needs the f32 model as its source.
    #[error("cannot quantize a model that is already {0}: quantize the f32 model")]
    AlreadyQuantized(&'static str),

    /// A layer name that is not one of the model's Linear layers.
    #[error("no Linear layer named `{given}`; the model has: {known}")]
    UnknownLayer {
        /// The name asked for.
        given: String,
        /// The model's Linear layers, comma-separated.
        known: String,
    },

    /// A recipe (per-layer schemes) that cannot be read, searched or applied.
    #[error("{0}")]
    Recipe(String),

    /// Two vectors that should have had one length did not.
    #[error("{what}: lengths differ ({left} vs {right})")]
    LengthMismatch {
        /// What was being compared.
        what: &'static str,
        /// Length of the first.
        left: usize,
        /// Length of the second.
        right: usize,
    },

    /// A model that cannot be written in the format asked for (see [`crate::export`]).
    #[error("export: {0}")]
    Export(String),

    /// A quantized export that cannot be read back (see [`crate::export::read`]).
    #[error("quantized.safetensors: {0}")]
    Quantized(String),

    /// A download bundle (zip) that cannot be written or read (see [`crate::export::bundle`]).
    #[error("{0}")]
    Bundle(String),

    /// An input a figure's numbers cannot be computed from (see [`crate::explain`]).
    #[error("{0}")]
    Explain(String),

    /// An error inside candle, with the operation that raised it.
    #[error("{op}: {source}")]
    Candle {
        /// What the engine was doing.
        op: &'static str,
        /// candle's own error.
        #[source]
        source: candle_core::Error,
    },
}

/// The engine's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// Attaches the operation name to a candle error.
pub(crate) trait CandleContext<T> {
    /// Wraps a candle error as [`Error::Candle`] naming `op`.
    fn during(self, op: &'static str) -> Result<T>;
}

impl<T> CandleContext<T> for candle_core::Result<T> {
    fn during(self, op: &'static str) -> Result<T> {
        self.map_err(|source| Error::Candle { op, source })
    }
}
