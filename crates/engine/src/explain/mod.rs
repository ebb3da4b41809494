//! The numbers behind the lessons' live figures: pure functions of a tensor, a weight row,
//! a sentence or a set of sentences, each computed exactly as the lessons teach it.
//!
//! - [`tensor`]: scale, zero point and rounding of a small tensor (lessons/quantization.md).
//! - [`blocks`]: one weight row packed in GGML blocks and read back (lessons/lab-formats.md).
//! - [`activations`]: what dynamic int8 sees at one Linear layer for one sentence.
//! - [`margins`]: how close a prediction is to flipping.
//!
//! Every result derives `Serialize` so the web worker can hand it to the page as is.

pub mod activations;
pub mod blocks;
pub mod margins;
pub mod tensor;

pub use activations::{activation_range, ActivationRange, Histogram, OutlierEffect};
pub use blocks::{pack_row, weight_row, BlockView, PackedRow, SuperBlock};
pub use margins::{closest_calls, margin, MarginRow};
pub use tensor::{
    quantize_tensor, Granularity, Group, Mapping, QuantizedTensor, QuantizedValue, RangeSource,
    TensorSpec,
};

use crate::Error;

/// An [`Error::Explain`] with this message.
fn invalid(message: impl Into<String>) -> Error {
    Error::Explain(message.into())
}

/// The bundled model (www/models/default), loaded once for all of explain's tests.
#[cfg(test)]
pub(crate) fn bundled() -> &'static crate::Classifier {
    static MODEL: std::sync::OnceLock<crate::Classifier> = std::sync::OnceLock::new();
    MODEL.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/models/default/");
        let read = |f: &str| std::fs::read(format!("{dir}{f}")).expect("the bundled model");
        let files = crate::ModelFiles {
            config: read("config.json"),
            tokenizer: crate::TokenizerFile::Json(read("tokenizer.json")),
            weights: read("model.safetensors"),
        };
        crate::Classifier::load(&files).expect("the bundled model loads")
    })
}
