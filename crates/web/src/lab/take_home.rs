//! "Take it home": the payloads of the lab's downloads (a zip the learner saves) and of
//! reading such a zip back to check it, plus the wording the panel shows.

use serde::{Deserialize, Serialize};

use crate::engine::Scheme;
use crate::lab::messages::Bytes;

/// What the learner asks to download.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DownloadKind {
    /// The f32 model as a Hugging Face folder (`f16`: every tensor rounded to f16).
    HuggingFace {
        /// Half precision.
        f16: bool,
    },
    /// The model in one scheme, as squeeze's quantized safetensors.
    Quantized {
        /// The scheme of every Linear.
        scheme: Scheme,
        /// Word embeddings int8 per row.
        int8_embeddings: bool,
    },
    /// The mixed model of the recipe last applied in the lab.
    Recipe,
}

/// A zip to save (answer to `Download` and `TrainDownload`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Download {
    /// The name to save it under.
    pub file_name: String,
    /// The zip.
    pub bytes: Bytes,
}

/// A downloaded zip read back in the worker (answer to `CheckZip`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZipCheck {
    /// The zip's name.
    pub name: String,
    /// The folder inside it.
    pub folder: String,
    /// `Hugging Face folder` or `quantized`.
    pub kind: String,
    /// Linear layers per scheme, in the table's scheme order.
    pub schemes: Vec<(Scheme, usize)>,
    /// `f32` or `int8-per-row`.
    pub embeddings: String,
    /// The model's stored bytes.
    pub bytes: u64,
    /// Its logits on the lab's sentence.
    pub logits: Vec<f32>,
    /// Its label there.
    pub label: String,
    /// What it was compared with, e.g. `the lab's model in the same schemes`.
    pub compared_with: String,
    /// Largest |logit difference| against that (0 when bit-exact).
    pub max_abs_diff: f32,
}

/// The sentence the panel prints about a check.
pub fn verdict(check: &ZipCheck) -> String {
    if check.max_abs_diff == 0.0 {
        format!(
            "Same logits, bit for bit, as {}: the file holds exactly the model you saw.",
            check.compared_with
        )
    } else {
        format!(
            "Largest logit difference from {}: {:.2e}.",
            check.compared_with, check.max_abs_diff
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verdict_says_bit_exact_only_for_zero() {
        let mut c = ZipCheck {
            name: "m.zip".into(),
            folder: "m".into(),
            kind: "quantized".into(),
            schemes: vec![(Scheme::Int8Dynamic, 14)],
            embeddings: "f32".into(),
            bytes: 1,
            logits: vec![0.5, -0.5],
            label: "POSITIVE".into(),
            compared_with: "the lab's model in the same schemes".into(),
            max_abs_diff: 0.0,
        };
        assert!(verdict(&c).starts_with("Same logits, bit for bit"));
        c.max_abs_diff = 1.5e-3;
        assert_eq!(
            verdict(&c),
            "Largest logit difference from the lab's model in the same schemes: 1.50e-3."
        );
    }
}
