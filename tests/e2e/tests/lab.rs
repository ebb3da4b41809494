//! The Quantization lab in real headless Chromium, checked against the native
//! engine: the page's f32 and int8-dynamic logits (computed by the engine compiled
//! to wasm, in the page's worker) must match `engine::Classifier` run natively on
//! the same bundled model files. Also: empty input, deep links, the default text.

use anyhow::{ensure, Context, Result};
use e2e::lab::Lab;
use e2e::panels::native_model;
use e2e::{encode_query_value, repo_root, Site, UI_TIMEOUT};
use engine::{metrics, Classifier, Prediction, Scheme};

/// f32 logits, page vs native: the same candle ops in the same order, but wasm
/// (simd128) and x86_64 kernels group float additions differently, which moves
/// logits of magnitude ~1 by ~1e-7. 1e-5 absolute is the bound.
const F32_TOL: f32 = 1e-5;

/// int8-dynamic logits, page vs native: activations are quantized with a scale
/// taken from their own min/max, so a last-bit f32 difference can round one
/// activation to the neighbouring int8 step and move a logit by about one step
/// times its weights. 2e-2 absolute per logit is the int8 tolerance (the
/// same bound the parity tests hold the engine to against PyTorch).
const INT8_TOL: f32 = 2e-2;

/// The model the site bundles by default.
const MODEL_DIR: &str = "www/models/default";

/// The page's default sentence (DOM contract).
const DEFAULT_TEXT: &str = "I love learning about AI!";

fn load_native() -> Result<(Classifier, Classifier)> {
    let f32_model = native_model(&repo_root().join(MODEL_DIR))?;
    let int8_model = f32_model
        .quantize(Scheme::Int8Dynamic)
        .context("native engine: quantizing to int8-dynamic")?;
    Ok((f32_model, int8_model))
}

fn assert_close(what: &str, page: &[f32], native: &[f32], tol: f32) -> Result<()> {
    ensure!(
        page.len() == native.len(),
        "{what}: page has {} logits, native {}",
        page.len(),
        native.len()
    );
    let worst = metrics::max_abs_diff(page, native)?;
    ensure!(
        worst <= tol,
        "{what}: max |page - native| = {worst:e} > {tol:e}\n  page:   {page:?}\n  native: {native:?}"
    );
    Ok(())
}

/// `a` and `b` are the same f32 value, or differ only in the last bits of one
/// rounding: for numbers the page computes from the logits it shows.
fn assert_same(what: &str, page: f64, native: f32) -> Result<()> {
    let tol = 1e-6 * f64::from(native.abs()).max(1e-6);
    ensure!(
        (page - f64::from(native)).abs() <= tol,
        "{what}: page {page} vs {native} computed from the page's own logits"
    );
    Ok(())
}

/// The label is compared only when f32 noise cannot flip the argmax.
fn clear_margin(p: &Prediction) -> bool {
    let mut sorted = p.logits.clone();
    sorted.sort_by(|a, b| b.total_cmp(a));
    sorted.len() < 2 || sorted[0] - sorted[1] > 10.0 * F32_TOL
}

fn check_run(lab: &Lab, text: &str, native: &(Classifier, Classifier)) -> Result<()> {
    let want_f32 = native.0.classify(text)?;
    let want_int8 = native.1.classify(text)?;

    let page_f32 = lab.values("logits-f32")?;
    let page_int8 = lab.values("logits-int8")?;
    assert_close(
        &format!("f32 logits for `{text}`"),
        &page_f32,
        &want_f32.logits,
        F32_TOL,
    )?;
    assert_close(
        &format!("int8-dynamic logits for `{text}`"),
        &page_int8,
        &want_int8.logits,
        INT8_TOL,
    )?;

    println!(
        "lab `{text}`: max |page - native| f32 {:e}, int8 {:e}; page mse(f32, int8) {:e}",
        metrics::max_abs_diff(&page_f32, &want_f32.logits)?,
        metrics::max_abs_diff(&page_int8, &want_int8.logits)?,
        metrics::mse(&page_f32, &page_int8)?
    );

    // MSE and max abs diff shown must be those of the logits shown.
    assert_same(
        "mse",
        lab.number("mse", "data-value")?,
        metrics::mse(&page_f32, &page_int8)?,
    )?;
    assert_same(
        "max-abs-diff",
        lab.number("max-abs-diff", "data-value")?,
        metrics::max_abs_diff(&page_f32, &page_int8)?,
    )?;
    assert_close(
        "f32 probabilities",
        &lab.values("probs-f32")?,
        &metrics::softmax(&page_f32),
        1e-6,
    )?;
    assert_close(
        "int8 probabilities",
        &lab.values("probs-int8")?,
        &metrics::softmax(&page_int8),
        1e-6,
    )?;

    let tokens = lab.number("tokens", "data-count")?;
    ensure!(
        tokens == want_f32.tokens as f64,
        "tokens: page {tokens}, native {}",
        want_f32.tokens
    );
    if clear_margin(&want_f32) {
        let label = lab.element("label-f32")?.text()?;
        ensure!(
            label.trim() == want_f32.label,
            "label-f32: page `{label}`, native `{}`",
            want_f32.label
        );
    }
    if clear_margin(&want_int8) {
        let label = lab.element("label-int8")?.text()?;
        ensure!(
            label.trim() == want_int8.label,
            "label-int8: page `{label}`, native `{}`",
            want_int8.label
        );
    }

    // Sizes come from the same engine function on the same weights: exact.
    let size_f32 = lab.number("size-f32", "data-bytes")?;
    let size_int8 = lab.number("size-int8", "data-bytes")?;
    ensure!(
        size_f32 == native.0.size().total_bytes as f64,
        "size-f32: page {size_f32}, native {}",
        native.0.size().total_bytes
    );
    ensure!(
        size_int8 == native.1.size().total_bytes as f64,
        "size-int8: page {size_int8}, native {}",
        native.1.size().total_bytes
    );
    ensure!(
        size_int8 < size_f32,
        "int8 model ({size_int8} B) is not smaller than f32 ({size_f32} B)"
    );

    lab.wait_timed()?;
    for id in ["time-f32", "time-int8"] {
        let ms = lab.number(id, "data-ms")?;
        ensure!(
            ms.is_finite() && ms >= 0.0,
            "{id}: data-ms {ms} is not a duration"
        );
    }
    // The cold start beside the medians: the worker's three warm-up forwards after load
    // (issue 14, item 6), each a real duration.
    for attr in ["data-after-load-f32", "data-after-load-int8"] {
        let raw = lab.attr("speed", attr)?;
        let times: Vec<f64> = raw
            .split(',')
            .map(|x| x.parse::<f64>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| anyhow::anyhow!("speed {attr} `{raw}`: {e}"))?;
        ensure!(
            times.len() == 3 && times.iter().all(|t| t.is_finite() && *t >= 0.0),
            "speed {attr}: {times:?}"
        );
        eprintln!("lab: {attr} {times:?} ms");
    }
    ensure!(
        !lab.has("lab-error")?,
        "lab-error shown after a successful run"
    );
    Ok(())
}

#[test]
fn lab_logits_match_the_native_engine() -> Result<()> {
    let Some(site) = Site::start("lab_logits_match_the_native_engine")? else {
        return Ok(());
    };
    let native = load_native()?;
    let lab = Lab::open(&site, "")?;

    let first = "This film was not bad at all, I would happily watch it again.";
    lab.set_text(first)?;
    let run1 = lab.run()?;
    check_run(&lab, first, &native)?;

    // A second sentence: the numbers must follow the text, not stick to the first run.
    let second = "The soup was cold and the waiter ignored us.";
    lab.set_text(second)?;
    let run2 = lab.run()?;
    ensure!(run2 > run1, "data-run did not grow: {run1} then {run2}");
    check_run(&lab, second, &native)?;
    Ok(())
}

#[test]
fn lab_empty_input_shows_an_error() -> Result<()> {
    let Some(site) = Site::start("lab_empty_input_shows_an_error")? else {
        return Ok(());
    };
    let lab = Lab::open(&site, "")?;
    lab.set_text("")?;
    let runs_before = lab.run_count()?;
    lab.click_run()?;
    let message = site
        .browser
        .wait_for("lab-error for empty input", UI_TIMEOUT, |_| {
            match lab.browser.try_find("[data-testid=lab-error]")? {
                Some(el) => Ok(Some(el.text()?)),
                None => Ok(None),
            }
        })?;
    ensure!(!message.trim().is_empty(), "lab-error is present but empty");
    ensure!(
        lab.run_count()? == runs_before,
        "an empty input produced a result"
    );

    // Typing a sentence and running clears the error.
    lab.set_text("Much better now.")?;
    lab.run()?;
    ensure!(
        !lab.has("lab-error")?,
        "lab-error still shown after a good run"
    );
    Ok(())
}

#[test]
fn lab_deep_link_prefills_the_text_and_survives_reload() -> Result<()> {
    let Some(site) = Site::start("lab_deep_link_prefills_the_text_and_survives_reload")? else {
        return Ok(());
    };
    // Without a query the box holds the default sentence.
    let lab = Lab::open(&site, "")?;
    ensure!(
        lab.text()? == DEFAULT_TEXT,
        "default text is `{}`",
        lab.text()?
    );

    // Spaces, punctuation, an ampersand and non-ASCII all survive the URL.
    let text = "Deep links keep this: café & crème brûlée, 100% tasty?";
    let lab = Lab::open(&site, &format!("?text={}", encode_query_value(text)))?;
    ensure!(lab.text()? == text, "deep link gave `{}`", lab.text()?);
    site.browser.refresh()?;
    lab.wait_until_ready()?;
    ensure!(
        lab.text()? == text,
        "after reload the box holds `{}`",
        lab.text()?
    );
    Ok(())
}
