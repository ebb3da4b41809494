//! Download bundles: an export as one zip file, for the browser, which can save a file but
//! not a folder. Each bundle holds one folder with the files the matching folder export
//! has:
//!
//! | bundle | files in `squeeze-<name>-<variant>/` | made by |
//! |---|---|---|
//! | Hugging Face (`hf-f32`, `hf-f16`) | `config.json`, `model.safetensors`, the tokenizer | [`Classifier::hf_bundle`] |
//! | quantized (`int8-dynamic`, `q4_k-int8-embeddings`, `recipe`, …) | `config.json`, `quantized.safetensors`, the tokenizer | [`Classifier::quantized_bundle`] |
//!
//! The tokenizer is `tokenizer.json` or `vocab.txt`, whichever the model was loaded with:
//! the engine keeps the parsed tokenizer, not its bytes, so the caller passes the
//! [`TokenizerFile`] it loaded the model from. Every file is byte for byte what the
//! folder export writes (`squeeze export`, `squeeze quantize`), and the zip is stored, not
//! compressed (safetensors weights barely compress), see [`zip`].
//!
//! [`read`] (or [`Classifier::load_zip`]) takes such a zip back: it finds `config.json`,
//! the tokenizer and `model.safetensors` (loaded as the f32 model, f16 widened) or
//! `quantized.safetensors` (loaded bit for bit by [`Classifier::load_quantized`]).

pub mod zip;

#[cfg(test)]
mod tests;

use super::hf::Precision;
use super::QUANTIZED_FILE;
use crate::quant::embedding::EmbeddingStorage;
use crate::{Classifier, Error, ModelFiles, Result, TokenizerFile};

/// The Hugging Face weights file.
pub const HF_FILE: &str = "model.safetensors";
/// The config file of both bundles.
pub const CONFIG_FILE: &str = "config.json";

/// A zip ready to download: the name to save it under and its bytes.
#[derive(Clone, Debug)]
pub struct Bundle {
    /// `squeeze-<name>-<variant>.zip` (see [`file_name`]).
    pub file_name: String,
    /// The zip.
    pub bytes: Vec<u8>,
}

/// Which export a bundle holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BundleKind {
    /// `model.safetensors`: a Hugging Face folder (f32 or f16).
    HuggingFace,
    /// `quantized.safetensors`: any scheme, recipe or embedding storage.
    Quantized,
}

/// The files of a bundle, read back.
#[derive(Clone, Debug)]
pub struct BundleFiles {
    /// The folder the files were in (`""` when they were at the top of the zip).
    pub folder: String,
    /// Which weights file it held.
    pub kind: BundleKind,
    /// `config.json`, the tokenizer and the weights file (`model.safetensors` or
    /// `quantized.safetensors`, as `kind` says).
    pub files: ModelFiles,
}

impl BundleFiles {
    /// The classifier: [`Classifier::load`] for a Hugging Face bundle,
    /// [`Classifier::load_quantized`] for a quantized one.
    pub fn load(&self) -> Result<Classifier> {
        match self.kind {
            BundleKind::HuggingFace => Classifier::load(&self.files),
            BundleKind::Quantized => Classifier::load_quantized(&self.files),
        }
    }
}

impl TokenizerFile {
    /// The name the file goes by: `tokenizer.json` or `vocab.txt`.
    pub fn file_name(&self) -> &'static str {
        match self {
            TokenizerFile::Json(_) => "tokenizer.json",
            TokenizerFile::Vocab(_) => "vocab.txt",
        }
    }

    /// Its contents.
    pub fn bytes(&self) -> &[u8] {
        match self {
            TokenizerFile::Json(b) | TokenizerFile::Vocab(b) => b,
        }
    }
}

/// The variant of a Hugging Face bundle: `hf-f32` or `hf-f16`.
pub fn hf_variant(precision: Precision) -> &'static str {
    match precision {
        Precision::F32 => "hf-f32",
        Precision::F16 => "hf-f16",
    }
}

/// The variant of a quantized bundle of `model`: its scheme (`int8-dynamic`, `q4_k`, …),
/// or `recipe` when its Linear layers are in different schemes, followed by
/// `-int8-embeddings` when the word embeddings are int8.
pub fn quantized_variant(model: &Classifier) -> String {
    let mixed = model
        .linears()
        .iter()
        .any(|l| l.scheme != model.scheme() && l.stays_f32_because.is_none());
    let base = if mixed {
        "recipe"
    } else {
        model.scheme().name()
    };
    match model.embedding_storage() {
        EmbeddingStorage::F32 => base.to_string(),
        EmbeddingStorage::Int8PerRow => format!("{base}-int8-embeddings"),
    }
}

/// The folder inside a bundle: `squeeze-<name>-<variant>`, with `name` cut down to
/// letters, digits, `.`, `_` and `-` (anything else becomes `-`; `student` if nothing
/// is left) and a leading `squeeze-` not repeated.
pub fn folder_name(model_name: &str, variant: &str) -> String {
    let mut name = String::new();
    for c in model_name.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            c
        } else {
            '-'
        };
        if !(c == '-' && name.ends_with('-')) {
            name.push(c);
        }
    }
    let name = name.trim_matches(|c| c == '-' || c == '.');
    let name = name.strip_prefix("squeeze-").unwrap_or(name);
    let name = if name.is_empty() { "student" } else { name };
    format!("squeeze-{name}-{variant}")
}

/// The file a bundle is saved as: [`folder_name`] + `.zip`, e.g.
/// `file_name("student", "int8-dynamic") == "squeeze-student-int8-dynamic.zip"`.
pub fn file_name(model_name: &str, variant: &str) -> String {
    format!("{}.zip", folder_name(model_name, variant))
}

/// A zip of `files` (name, contents) inside the folder `folder`.
fn zip_folder(folder: &str, files: &[(&str, &[u8])]) -> Result<Vec<u8>> {
    let dir = format!("{folder}/");
    let paths: Vec<String> = files.iter().map(|(n, _)| format!("{dir}{n}")).collect();
    let mut entries: Vec<(&str, &[u8])> = vec![(&dir, &[])];
    entries.extend(paths.iter().zip(files).map(|(p, (_, d))| (p.as_str(), *d)));
    zip::write(&entries)
}

/// `model` (f32) as a zipped Hugging Face folder (see [`Classifier::hf_bundle`]).
pub fn hf(
    model: &Classifier,
    model_name: &str,
    precision: Precision,
    tokenizer: &TokenizerFile,
) -> Result<Bundle> {
    let files = model.export_hf(precision)?;
    let folder = folder_name(model_name, hf_variant(precision));
    let bytes = zip_folder(
        &folder,
        &[
            (CONFIG_FILE, &files.config),
            (HF_FILE, &files.weights),
            (tokenizer.file_name(), tokenizer.bytes()),
        ],
    )?;
    Ok(Bundle {
        file_name: format!("{folder}.zip"),
        bytes,
    })
}

/// `model`, in any scheme, as a zipped quantized folder (see
/// [`Classifier::quantized_bundle`]).
pub fn quantized(
    model: &Classifier,
    model_name: &str,
    tokenizer: &TokenizerFile,
) -> Result<Bundle> {
    let weights = model.export_quantized()?;
    let folder = folder_name(model_name, &quantized_variant(model));
    let bytes = zip_folder(
        &folder,
        &[
            (CONFIG_FILE, &model.export_config()),
            (QUANTIZED_FILE, &weights),
            (tokenizer.file_name(), tokenizer.bytes()),
        ],
    )?;
    Ok(Bundle {
        file_name: format!("{folder}.zip"),
        bytes,
    })
}

/// Splits a path into its folder (`""` at the top) and file name.
fn split(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

/// The files of a bundle zip (ours, or any stored zip holding one model folder: macOS's
/// `__MACOSX/` copies are ignored). One clear error when it is not a zip we can read (see
/// [`zip::read`]), holds no model or several, or lacks a file.
pub fn read(bytes: &[u8]) -> Result<BundleFiles> {
    let entries: Vec<zip::Entry<'_>> = zip::read(bytes)?
        .into_iter()
        .filter(|e| !e.name.starts_with("__MACOSX/") && !split(&e.name).1.starts_with("._"))
        .collect();
    let configs: Vec<&str> = entries
        .iter()
        .filter(|e| split(&e.name).1 == CONFIG_FILE)
        .map(|e| split(&e.name).0)
        .collect();
    let folder = match configs.as_slice() {
        [one] => *one,
        [] => {
            return Err(Error::Bundle(format!(
                "this zip has no {CONFIG_FILE}: a squeeze download holds {CONFIG_FILE}, a tokenizer and {HF_FILE} or {QUANTIZED_FILE}"
            )))
        }
        [a, b, ..] => {
            return Err(Error::Bundle(format!(
                "this zip holds more than one model ({CONFIG_FILE} in `{a}/` and `{b}/`); unzip it and pick one model's files"
            )))
        }
    };
    let file = |name: &str| {
        entries
            .iter()
            .find(|e| split(&e.name) == (folder, name))
            .map(|e| e.data.to_vec())
    };
    let beside = if folder.is_empty() {
        String::new()
    } else {
        format!(" in `{folder}/`")
    };
    let tokenizer = match (file("tokenizer.json"), file("vocab.txt")) {
        (Some(json), _) => TokenizerFile::Json(json),
        (None, Some(vocab)) => TokenizerFile::Vocab(vocab),
        (None, None) => {
            return Err(Error::Bundle(format!(
                "this zip has no tokenizer.json or vocab.txt beside {CONFIG_FILE}{beside}"
            )))
        }
    };
    let (kind, weights) = match (file(HF_FILE), file(QUANTIZED_FILE)) {
        (Some(w), None) => (BundleKind::HuggingFace, w),
        (None, Some(w)) => (BundleKind::Quantized, w),
        (Some(_), Some(_)) => {
            return Err(Error::Bundle(format!(
                "this zip holds both {HF_FILE} and {QUANTIZED_FILE}{beside}; keep one"
            )))
        }
        (None, None) => {
            return Err(Error::Bundle(format!(
                "this zip has no {HF_FILE} or {QUANTIZED_FILE} beside {CONFIG_FILE}{beside}"
            )))
        }
    };
    Ok(BundleFiles {
        folder: folder.to_string(),
        kind,
        files: ModelFiles {
            config: file(CONFIG_FILE).expect("found above"),
            tokenizer,
            weights,
        },
    })
}

impl Classifier {
    /// This f32 model as a zipped Hugging Face folder `squeeze-<model_name>-hf-f32/` (or
    /// `-hf-f16/`) holding `config.json`, `model.safetensors` and `tokenizer` (the file the
    /// model was loaded with): exactly the files of [`Classifier::export_hf`].
    pub fn hf_bundle(
        &self,
        model_name: &str,
        precision: Precision,
        tokenizer: &TokenizerFile,
    ) -> Result<Bundle> {
        hf(self, model_name, precision, tokenizer)
    }

    /// This model, in whatever scheme, recipe and embedding storage, as a zipped folder
    /// `squeeze-<model_name>-<variant>/` (see [`quantized_variant`]) holding
    /// `config.json`, `quantized.safetensors` and `tokenizer`: exactly the files of
    /// [`Classifier::export_config`] and [`Classifier::export_quantized`].
    pub fn quantized_bundle(&self, model_name: &str, tokenizer: &TokenizerFile) -> Result<Bundle> {
        quantized(self, model_name, tokenizer)
    }

    /// Loads a bundle zip written by [`Classifier::hf_bundle`] or
    /// [`Classifier::quantized_bundle`] (see [`read`] and [`BundleFiles::load`]).
    pub fn load_zip(bytes: &[u8]) -> Result<Classifier> {
        read(bytes)?.load()
    }
}
