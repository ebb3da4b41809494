//! The folder an export is written to: created if missing, refused if it holds anything,
//! so that no earlier model's files are mixed into (or overwritten by) a new one.

use std::path::Path;

use anyhow::{bail, Context};

/// Refuses `dir` if it is a file or a folder with anything in it (checked before the
/// model is loaded, so a mistake costs nothing).
pub fn check(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        if !dir.is_dir() {
            bail!("{}: exists and is not a folder", dir.display());
        }
        let mut entries = std::fs::read_dir(dir).with_context(|| format!("{}", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "{}: the folder is not empty; choose a new or empty folder",
                dir.display()
            );
        }
    }
    Ok(())
}

/// Refuses a `--zip` path that already exists (checked before the model is loaded).
pub fn check_file(path: &Path) -> anyhow::Result<()> {
    if path.exists() {
        bail!("{}: already exists; choose a new file name", path.display());
    }
    Ok(())
}

/// Creates `dir` (and its parents) if missing, after [`check`].
pub fn create(dir: &Path) -> anyhow::Result<()> {
    check(dir)?;
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create it", dir.display()))
}

/// Writes `bytes` to `dir/name`.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).with_context(|| format!("{}: cannot write it", path.display()))
}

/// Copies the model's tokenizer file (tokenizer.json, else vocab.txt) from `from` into
/// `dir`; returns its name.
pub fn copy_tokenizer(from: &Path, dir: &Path) -> anyhow::Result<&'static str> {
    for name in ["tokenizer.json", "vocab.txt"] {
        let src = from.join(name);
        if src.exists() {
            std::fs::copy(&src, dir.join(name))
                .with_context(|| format!("{}: cannot copy it", src.display()))?;
            return Ok(name);
        }
    }
    bail!("{}: no tokenizer.json or vocab.txt", from.display())
}
