//! Downloads in the worker: the lab's model as a Hugging Face folder or in any scheme (or
//! the recipe last applied), each as one zip; and a zip the learner saved, read back and
//! run beside the lab's own model to show it holds the same numbers.

use crate::engine::export::bundle;
use crate::engine::export::hf::Precision;
use crate::engine::recipe::Recipe;
use crate::engine::{metrics, Classifier, QuantizeOptions, Scheme, TokenizerFile};
use crate::lab::messages::Bytes;
use crate::lab::take_home::{Download, DownloadKind, ZipCheck};

use super::models::Loaded;
use super::recipe;

/// Builds the zip of `kind` for the loaded model.
pub fn download(loaded: &Loaded, kind: DownloadKind) -> Result<Download, String> {
    let f32 = loaded.f32();
    let bundle = match kind {
        DownloadKind::HuggingFace { f16 } => {
            let precision = if f16 { Precision::F16 } else { Precision::F32 };
            f32.hf_bundle(loaded.name(), precision, loaded.tokenizer())
        }
        DownloadKind::Quantized {
            scheme,
            int8_embeddings,
        } => f32
            .quantize_with(scheme, QuantizeOptions::int8_embeddings(int8_embeddings))
            .and_then(|m| m.quantized_bundle(loaded.name(), loaded.tokenizer())),
        DownloadKind::Recipe => {
            let mixed = recipe::mixed(loaded)
                .ok_or_else(|| "build a recipe's mixed model first".to_string())?;
            mixed.quantized_bundle(loaded.name(), loaded.tokenizer())
        }
    }
    .map_err(|e| e.to_string())?;
    Ok(Download {
        file_name: bundle.file_name,
        bytes: Bytes(bundle.bytes),
    })
}

/// A student's f32 weights as a Hugging Face folder zip named after `name`.
pub fn student_download(
    student: &Classifier,
    tokenizer: &TokenizerFile,
    name: &str,
) -> Result<Download, String> {
    let bundle = student
        .hf_bundle(name, Precision::F32, tokenizer)
        .map_err(|e| e.to_string())?;
    Ok(Download {
        file_name: bundle.file_name,
        bytes: Bytes(bundle.bytes),
    })
}

/// Reads the zip `bytes`, runs the model in it on `text` and compares its logits with the
/// lab's model stored the same way (same scheme per layer, same embeddings).
pub fn check_zip(
    loaded: &Loaded,
    name: &str,
    bytes: &[u8],
    text: &str,
) -> Result<ZipCheck, String> {
    let fail = |e: crate::engine::Error| format!("{name}: {e}");
    let files = bundle::read(bytes).map_err(fail)?;
    let model = files.load().map_err(fail)?;
    let (kind, reference, compared_with) = match files.kind {
        bundle::BundleKind::HuggingFace => (
            "Hugging Face folder",
            loaded.f32().clone(),
            "the lab's f32 model".to_string(),
        ),
        bundle::BundleKind::Quantized => (
            "quantized",
            same_storage(loaded.f32(), &model)?,
            "the lab's model in the same schemes".to_string(),
        ),
    };
    let enc = model.encode(text).map_err(|e| e.to_string())?;
    let prediction = model.predict(&enc).map_err(|e| e.to_string())?;
    let want = reference
        .logits(&reference.encode(text).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let max_abs_diff =
        metrics::max_abs_diff(&want, &prediction.logits).map_err(|e| e.to_string())?;
    let linears = model.linears();
    let schemes = Scheme::ALL
        .iter()
        .map(|&s| (s, linears.iter().filter(|l| l.scheme == s).count()))
        .filter(|&(_, n)| n > 0)
        .collect();
    Ok(ZipCheck {
        name: name.to_string(),
        folder: files.folder,
        kind: kind.to_string(),
        schemes,
        embeddings: model.embedding_storage().name().to_string(),
        bytes: model.size().total_bytes,
        logits: prediction.logits,
        label: prediction.label,
        compared_with,
        max_abs_diff,
    })
}

/// The lab's f32 model quantized layer by layer as `like` is stored.
fn same_storage(f32: &Classifier, like: &Classifier) -> Result<Classifier, String> {
    let recipe = Recipe::of(like);
    f32.apply_recipe_with(
        &recipe,
        QuantizeOptions {
            embeddings: like.embedding_storage(),
        },
    )
    .map_err(|e| format!("the zip's model does not match the lab's: {e}"))
}
