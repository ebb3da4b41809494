//! Helpers for the lab's panels (schemes table, batch, layers, upload): waiting for
//! them and reading their data attributes, plus the bundled model loaded natively.

use std::path::{Path, PathBuf};

use engine::{Classifier, ModelFiles, TokenizerFile};

use crate::lab::{testid, Lab};
use crate::{parse_f32_list, repo_root, Element, Error, Result, RUN_TIMEOUT};

/// The bundled model's folder.
pub fn model_dir() -> PathBuf {
    repo_root().join("www/models/default")
}

/// The model in `dir` (config.json, tokenizer.json or vocab.txt, model.safetensors),
/// loaded by the native engine as the page's worker loads it.
pub fn native_model(dir: &Path) -> Result<Classifier> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|e| Error(format!("cannot read {}: {e}", path.display())))
    };
    let tokenizer = if dir.join("tokenizer.json").is_file() {
        TokenizerFile::Json(read("tokenizer.json")?)
    } else {
        TokenizerFile::Vocab(read("vocab.txt")?)
    };
    let files = ModelFiles {
        config: read("config.json")?,
        tokenizer,
        weights: read("model.safetensors")?,
    };
    Classifier::load(&files).map_err(|e| Error(format!("native engine: {}: {e}", dir.display())))
}

/// A required attribute of `el`, named `what` in errors.
pub fn attr(el: &Element<'_>, name: &str, what: &str) -> Result<String> {
    el.attr(name)?
        .ok_or_else(|| Error(format!("{what} has no {name} attribute")))
}

/// A `{:?}` float list attribute of `el`, parsed exactly.
pub fn floats(el: &Element<'_>, name: &str, what: &str) -> Result<Vec<f32>> {
    parse_f32_list(&attr(el, name, what)?).map_err(|e| Error(format!("{what} {name}: {e}")))
}

/// A numeric attribute of `el`.
pub fn number(el: &Element<'_>, name: &str, what: &str) -> Result<f64> {
    let raw = attr(el, name, what)?;
    raw.parse()
        .map_err(|_| Error(format!("{what} {name} `{raw}` is not a number")))
}

/// Waits until the schemes panel shows a table whose `data-run` is above `after`;
/// returns that run number.
pub fn wait_for_table(lab: &Lab<'_>, after: u64) -> Result<u64> {
    let sel = testid("scheme-results");
    lab.browser
        .wait_for("the scheme table (scheme-results)", RUN_TIMEOUT, |s| {
            let Some(el) = s.try_find(&sel)? else {
                return Ok(None);
            };
            let run: u64 = el
                .attr("data-run")?
                .unwrap_or_default()
                .parse()
                .unwrap_or(0);
            Ok((run > after).then_some(run))
        })
}

/// The `data-run` of the scheme table now (0 before the first).
pub fn table_run(lab: &Lab<'_>) -> Result<u64> {
    match lab.browser.try_find(&testid("scheme-results"))? {
        None => Ok(0),
        Some(el) => Ok(el
            .attr("data-run")?
            .unwrap_or_default()
            .parse()
            .unwrap_or(0)),
    }
}

/// The scheme names of the table's rows, in order.
pub fn row_schemes(lab: &Lab<'_>) -> Result<Vec<String>> {
    lab.browser
        .find_all("[data-testid=scheme-row]")?
        .iter()
        .map(|r| attr(r, "data-scheme", "scheme-row"))
        .collect()
}

/// The row of `scheme` in the table.
pub fn row<'s>(lab: &Lab<'s>, scheme: &str) -> Result<Element<'s>> {
    lab.browser.find(&format!(
        "[data-testid=scheme-row][data-scheme=\"{scheme}\"]"
    ))
}

/// The ticked schemes of the picker, in order.
pub fn ticked(lab: &Lab<'_>) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for el in lab.browser.find_all("[data-testid=scheme-pick]")? {
        if el.property("checked")?.as_bool() == Some(true) {
            out.push(attr(&el, "data-scheme", "scheme-pick")?);
        }
    }
    Ok(out)
}
