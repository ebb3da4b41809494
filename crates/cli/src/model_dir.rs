//! Reads a model folder into the bytes the engine takes, refusing what cannot be a model
//! before reading it all.

use std::path::Path;

use anyhow::{bail, Context};
use engine::{Classifier, ModelFiles, TokenizerFile};

use crate::args::ModelArgs;

/// Files larger than this are refused unread: no classifier squeeze runs comes near it.
const MAX_FILE_BYTES: u64 = 1 << 30;

/// Loads the f32 classifier described by `--model` (and `--head`).
pub fn load(args: &ModelArgs) -> anyhow::Result<Classifier> {
    let dir = &args.model;
    let files = files(dir)?;
    let head = args.head.as_deref().map(read).transpose()?;
    Classifier::load_with_head(&files, head.as_deref())
        .with_context(|| format!("{}: cannot load the model", dir.display()))
}

/// Reads the three files of the model folder `dir`.
pub fn files(dir: &Path) -> anyhow::Result<ModelFiles> {
    if !dir.is_dir() {
        bail!(
            "{}: not a model folder (expected config.json, tokenizer.json and model.safetensors)",
            dir.display()
        );
    }
    Ok(ModelFiles {
        config: read(&dir.join("config.json"))?,
        tokenizer: tokenizer(dir)?,
        weights: read(&dir.join("model.safetensors"))?,
    })
}

/// The tokenizer file of the model folder `dir`: tokenizer.json, else vocab.txt.
pub fn tokenizer(dir: &Path) -> anyhow::Result<TokenizerFile> {
    if dir.join("tokenizer.json").exists() {
        Ok(TokenizerFile::Json(read(&dir.join("tokenizer.json"))?))
    } else if dir.join("vocab.txt").exists() {
        Ok(TokenizerFile::Vocab(read(&dir.join("vocab.txt"))?))
    } else {
        bail!("{}: no tokenizer.json or vocab.txt", dir.display());
    }
}

/// The name bundles call the model by: its folder's name (`default` for
/// `www/models/default`).
pub fn name(dir: &Path) -> String {
    std::fs::canonicalize(dir)
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

/// Reads one file, refusing it unread when it is over [`MAX_FILE_BYTES`].
pub fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    let meta = std::fs::metadata(path).with_context(|| format!("{}", path.display()))?;
    if meta.len() > MAX_FILE_BYTES {
        bail!(
            "{}: {} bytes is over the 1 GiB limit; refusing to read it",
            path.display(),
            meta.len()
        );
    }
    std::fs::read(path).with_context(|| format!("{}", path.display()))
}
