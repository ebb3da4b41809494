//! The lessons' live figures: opening one as a learner does (the lesson's URL with the
//! figure's anchor), waiting for what it computes, and the native side to check it by.

use std::time::Duration;

use engine::distill::live::{LiveConfig, Trainer};
use engine::{ModelFiles, TokenizerFile};

use crate::console::ConsoleWatch;
use crate::lab::testid;
use crate::panels::model_dir;
use crate::{Element, Error, Result, Session, Site, MODEL_READY_TIMEOUT, UI_TIMEOUT};

/// How long a figure may take from opening to its first numbers (model download,
/// quantization and the figure's own work in the worker, on a busy 2-core machine).
pub const FIGURE_TIMEOUT: Duration = Duration::from_secs(90);

/// Opens `/learn/<slug>#figure-<id>` and waits for the figure's frame.
pub fn open(site: &Site, slug: &str, id: &str) -> Result<()> {
    site.browser
        .goto(&site.url(&format!("/learn/{slug}#figure-{id}")))?;
    site.browser
        .wait_for_element(&testid(&format!("figure-{id}")), MODEL_READY_TIMEOUT)?;
    Ok(())
}

/// Waits until `css` exists and its attribute `name` differs from `before` (any value
/// when `before` is `None`); fails at once when the figure shows an error.
pub fn wait_attr_change(
    browser: &Session,
    css: &str,
    name: &str,
    before: Option<&str>,
) -> Result<String> {
    browser.wait_for(&format!("{css} {name} to change"), FIGURE_TIMEOUT, |s| {
        if let Some(e) = s.try_find(&testid("figure-error"))? {
            return Err(Error(format!("the figure failed: {}", e.text()?)));
        }
        let Some(el) = s.try_find(css)? else {
            return Ok(None);
        };
        Ok(el.attr(name)?.filter(|v| Some(v.as_str()) != before))
    })
}

/// An attribute parsed as `f32`.
pub fn f32_attr(el: &Element<'_>, name: &str) -> Result<f32> {
    let raw = el
        .attr(name)?
        .ok_or_else(|| Error(format!("no {name} attribute")))?;
    raw.parse()
        .map_err(|_| Error(format!("{name} `{raw}` is not a number")))
}

/// The bundled model's files, as the worker fetches them.
pub fn model_files() -> Result<ModelFiles> {
    let dir = model_dir();
    let read = |f: &str| {
        std::fs::read(dir.join(f)).map_err(|e| Error(format!("{}: {e}", dir.join(f).display())))
    };
    Ok(ModelFiles {
        config: read("config.json")?,
        tokenizer: TokenizerFile::Json(read("tokenizer.json")?),
        weights: read("model.safetensors")?,
    })
}

/// The student the temperature figure shows before any /train run: cut from the
/// bundled model with /train's default settings, not trained.
pub fn fresh_student() -> Result<Trainer> {
    Trainer::new(&model_files()?, LiveConfig::default())
        .map_err(|e| Error(format!("native trainer: {e}")))
}

/// Collects the console after `page` and fails on any problem.
pub fn console_clean(browser: &Session, page: &str) -> Result<()> {
    let mut watch = ConsoleWatch::default();
    watch.collect(browser, page)?;
    watch.ensure_clean(page)
}

/// Waits for ordinary UI reactions.
pub fn wait_element<'s>(browser: &'s Session, id: &str) -> Result<Element<'s>> {
    browser.wait_for_element(&testid(id), UI_TIMEOUT)
}
