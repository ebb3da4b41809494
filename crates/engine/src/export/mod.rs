//! Writing a classifier out as bytes, and reading a quantized one back.
//!
//! - [`hf`]: the f32 model (or an f16 copy) as a Hugging Face folder's `config.json` and
//!   `model.safetensors`, which `transformers`' `DistilBertForSequenceClassification`
//!   loads as it is.
//! - [`quantized`]: any scheme, with or without int8 embeddings, as one safetensors file
//!   whose layout is documented there (and in docs/EXPORT.md); [`read`] loads it back bit
//!   for bit.
//! - [`bundle`]: either export as one stored zip (a folder inside), for the browser to
//!   download and read back.
//!
//! Like the rest of the engine, nothing here touches the disk: bytes out, bytes in.

pub mod bundle;
pub mod hf;
pub mod quantized;
mod raw;
pub mod read;

/// The file name the quantized export is written under, beside `config.json`.
pub const QUANTIZED_FILE: &str = "quantized.safetensors";

/// Hugging Face's name for a DistilBERT tensor or layer: the backbone under `distilbert.`,
/// the head (`pre_classifier`, `classifier`) at the top level.
pub fn hf_name(name: &str) -> String {
    if is_head(name) {
        name.to_string()
    } else {
        format!("distilbert.{name}")
    }
}

/// The engine's name for a Hugging Face name (the inverse of [`hf_name`]).
pub fn engine_name(hf: &str) -> &str {
    hf.strip_prefix("distilbert.").unwrap_or(hf)
}

fn is_head(name: &str) -> bool {
    ["pre_classifier", "classifier", "pooler."]
        .iter()
        .any(|head| name.starts_with(head))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_stays_at_the_top_level() {
        assert_eq!(hf_name("classifier.weight"), "classifier.weight");
        assert_eq!(hf_name("pre_classifier"), "pre_classifier");
        assert_eq!(
            hf_name("transformer.layer.0.ffn.lin1"),
            "distilbert.transformer.layer.0.ffn.lin1"
        );
        assert_eq!(
            engine_name("distilbert.embeddings.LayerNorm.bias"),
            "embeddings.LayerNorm.bias"
        );
        assert_eq!(engine_name("classifier.bias"), "classifier.bias");
    }
}
