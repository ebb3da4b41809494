//! The lessons' live figures (issue 15) in real headless Chromium. Each test opens the
//! lesson at the figure's anchor, drives the figure the way a learner does — by
//! keyboard where it has controls — and checks every number it shows against the
//! engine run natively on the same bundled model. The console stays clean throughout.

use anyhow::{ensure, Context, Result};
use e2e::figures::{console_clean, f32_attr, fresh_student, open, wait_attr_change, wait_element};
use e2e::lab::testid;
use e2e::panels::{model_dir, native_model};
use e2e::quiz::{course_as_written, option_css, question_css};
use e2e::webdriver::keys;
use e2e::{parse_f32_list, png_size, Site, UI_TIMEOUT};
use engine::explain::{
    activation_range, closest_calls, margin, pack_row, quantize_tensor, weight_row, Granularity,
    Mapping, RangeSource, TensorSpec,
};
use engine::{metrics, Classifier, Scheme};

/// f32 numbers, page vs native: wasm (simd128) and x86_64 kernels group float
/// additions differently (see tests/lab.rs).
const F32_TOL: f32 = 1e-5;
/// int8 logits, page vs native: one activation may round to the neighbouring step.
const INT8_TOL: f32 = 2e-2;

fn close(page: &[f32], native: &[f32], tol: f32, what: &str) -> Result<()> {
    ensure!(
        page.len() == native.len() && page.iter().zip(native).all(|(a, b)| (a - b).abs() <= tol),
        "{what}: page {page:?}, native {native:?} (tolerance {tol})"
    );
    Ok(())
}

fn bundled() -> Result<(Classifier, Classifier)> {
    let f32 = native_model(&model_dir())?;
    let int8 = f32.quantize(Scheme::Int8Dynamic)?;
    Ok((f32, int8))
}

/// One value of the quantize-tensor figure: `(x, q, back, error, clipped)`.
type ValueRow = (f32, i32, f32, f32, bool);

/// The quantize-tensor figure's rows.
fn tensor_rows(site: &Site) -> Result<Vec<ValueRow>> {
    site.browser
        .find_all(&testid("qt-value-row"))?
        .iter()
        .map(|row| {
            let q = row.attr("data-q")?.unwrap_or_default();
            Ok((
                f32_attr(row, "data-x")?,
                q.parse().with_context(|| format!("q `{q}`"))?,
                f32_attr(row, "data-back")?,
                f32_attr(row, "data-error")?,
                row.attr("data-clipped")?.as_deref() == Some("true"),
            ))
        })
        .collect()
}

/// The page's rows equal `quantize_tensor(rows, spec)` run natively.
fn check_tensor(site: &Site, rows: &[Vec<f32>], spec: &TensorSpec) -> Result<()> {
    let native = quantize_tensor(rows, spec)?;
    let want: Vec<_> = native
        .groups
        .iter()
        .flat_map(|g| g.values.iter())
        .map(|v| (v.x, v.q, v.back, v.error, v.clipped))
        .collect();
    let got = tensor_rows(site)?;
    ensure!(
        got.len() == want.len(),
        "rows: page {got:?}, native {want:?}"
    );
    for (g, w) in got.iter().zip(&want) {
        ensure!(
            g.1 == w.1 && g.4 == w.4 && (g.2 - w.2).abs() < 1e-6 && (g.3 - w.3).abs() < 1e-6,
            "value {}: page {g:?}, native {w:?}",
            w.0
        );
    }
    let group = site.browser.find(&testid("qt-group-0"))?;
    ensure!(
        (f32_attr(&group, "data-scale")? - native.groups[0].scale).abs() < 1e-7,
        "scale: native {}",
        native.groups[0].scale
    );
    Ok(())
}

/// Waits until the first group's scale is no longer `before`.
fn next_scale(site: &Site, before: &str) -> Result<String> {
    Ok(wait_attr_change(
        &site.browser,
        &testid("qt-group-0"),
        "data-scale",
        Some(before),
    )?)
}

#[test]
fn quantize_tensor_is_the_lessons_worked_example_and_follows_the_keyboard() -> Result<()> {
    let Some(site) = Site::start("quantize_tensor_is_the_lessons_worked_example")? else {
        return Ok(());
    };
    open(&site, "quantization", "quantize-tensor")?;
    let scale = wait_attr_change(&site.browser, &testid("qt-group-0"), "data-scale", None)?;
    let mut values = vec![vec![0.5, 0.123, 0.0, 2.0]];
    let mut spec = TensorSpec {
        bits: 8,
        mapping: Mapping::Affine,
        granularity: Granularity::PerTensor,
        range: RangeSource::Fixed {
            min: -1.0,
            max: 1.55,
        },
    };
    // The lesson's table: s = 0.01, z = 100, q = 150, 112, 100, 255 (2.0 clamped).
    check_tensor(&site, &values, &spec)?;
    let q: Vec<i32> = tensor_rows(&site)?.iter().map(|r| r.1).collect();
    ensure!(
        q == [150, 112, 100, 255],
        "the lesson's q values, got {q:?}"
    );

    // 4 bits, by keyboard: the next option of the bits list.
    wait_element(&site.browser, "qt-bits")?.send_keys(keys::ARROW_DOWN)?;
    let scale = next_scale(&site, &scale)?;
    spec.bits = 4;
    check_tensor(&site, &values, &spec)?;

    // The range from the values: Space on the checkbox. Nothing is clipped any more.
    wait_element(&site.browser, "qt-fixed")?.send_keys(keys::SPACE)?;
    let scale = next_scale(&site, &scale)?;
    spec.range = RangeSource::FromValues;
    check_tensor(&site, &values, &spec)?;
    let summary = site.browser.find(&testid("qt-summary"))?;
    ensure!(summary.attr("data-clipped")?.as_deref() == Some("0"));

    // An outlier typed into the last cell stretches the step for every value.
    let cell = site.browser.find(&testid("qt-value-0-3"))?;
    cell.click()?;
    cell.select_all_and_delete()?;
    cell.send_keys(&format!("10{}", keys::TAB))?;
    next_scale(&site, &scale)?;
    values[0][3] = 10.0;
    check_tensor(&site, &values, &spec)?;

    // Not a number: one clear message naming the cell, and the last good figure stays.
    cell.click()?;
    cell.select_all_and_delete()?;
    cell.send_keys(&format!("ten{}", keys::TAB))?;
    let error = site
        .browser
        .wait_for_element(&testid("figure-error"), UI_TIMEOUT)?
        .text()?;
    ensure!(
        error.contains("row 1, value 4") && error.contains("ten"),
        "error message: {error}"
    );
    console_clean(&site.browser, "/learn/quantization")?;
    Ok(())
}

#[test]
fn seed_code_prints_the_engines_tokens_logits_and_mse() -> Result<()> {
    let Some(site) = Site::start("seed_code_prints_the_engines_tokens_logits_and_mse")? else {
        return Ok(());
    };
    let (f32, int8) = bundled()?;
    open(&site, "hands-on", "seed-code")?;
    let mut before = None;
    for text in ["I love learning about AI!", "Das Essen war schrecklich 😡"] {
        if before.is_some() {
            let input = site.browser.find(&testid("seed-text"))?;
            input.click()?;
            input.select_all_and_delete()?;
            input.send_keys(&format!("{text}{}", keys::ENTER))?;
        }
        let mse = wait_attr_change(
            &site.browser,
            &testid("seed-numbers"),
            "data-mse",
            before.as_deref(),
        )?;
        let numbers = site.browser.find(&testid("seed-numbers"))?;
        let enc = f32.encode(text)?;
        let ids = numbers.attr("data-ids")?.unwrap_or_default();
        ensure!(
            ids == format!("{:?}", enc.ids),
            "ids: page {ids}, native {:?}",
            enc.ids
        );
        let native_f32 = f32.logits(&enc)?;
        let native_int8 = int8.logits(&enc)?;
        let page_f32 = parse_f32_list(&numbers.attr("data-f32")?.unwrap_or_default())
            .map_err(anyhow::Error::msg)?;
        let page_int8 = parse_f32_list(&numbers.attr("data-int8")?.unwrap_or_default())
            .map_err(anyhow::Error::msg)?;
        close(&page_f32, &native_f32, F32_TOL, "f32 logits")?;
        close(&page_int8, &native_int8, INT8_TOL, "int8 logits")?;
        // The MSE is the page's own logits' MSE, exactly as the engine computes it.
        let page_mse: f32 = mse.parse()?;
        let of_page = metrics::mse(&page_int8, &page_f32)?;
        ensure!(
            (page_mse - of_page).abs() <= 1e-7 * of_page.max(1.0),
            "mse {page_mse} vs {of_page}"
        );
        // int8 really is int8 (not the f32 model twice): the MSE is the engine's, within
        // half of it (one activation rounding to the other int8 step moves it that little).
        let native_mse = metrics::mse(&native_int8, &native_f32)?;
        println!("{text}: mse page {page_mse}, native {native_mse}");
        ensure!(
            native_mse > 0.0 && (page_mse - native_mse).abs() <= 0.5 * native_mse,
            "mse: page {page_mse}, native {native_mse}"
        );
        before = Some(mse);
    }
    console_clean(&site.browser, "/learn/hands-on")?;
    Ok(())
}

/// `T² · KL(teacher ‖ student)` written out independently of the page's code.
fn kl_t2(student: &[f32], teacher: &[f32], t: f32) -> f32 {
    let soft = |z: &[f32]| {
        let m = z.iter().fold(f32::NEG_INFINITY, |a, b| a.max(*b / t));
        let e: Vec<f32> = z.iter().map(|x| (x / t - m).exp()).collect();
        let s: f32 = e.iter().sum();
        e.into_iter().map(|x| x / s).collect::<Vec<f32>>()
    };
    let (p, q) = (soft(teacher), soft(student));
    p.iter().zip(&q).map(|(p, q)| p * (p / q).ln()).sum::<f32>() * t * t
}

#[test]
fn temperature_softens_the_teacher_and_measures_both_losses() -> Result<()> {
    let Some(site) = Site::start("temperature_softens_the_teacher_and_measures_both_losses")?
    else {
        return Ok(());
    };
    let trainer = fresh_student()?;
    let text = "I love learning about AI!";
    let teacher = trainer.teacher();
    let native_teacher = teacher.logits(&teacher.encode(text)?)?;
    let student = trainer.student()?;
    let native_student = student.logits(&student.encode(text)?)?;

    open(&site, "distillation", "temperature")?;
    let losses = testid("temp-losses");
    wait_attr_change(&site.browser, &losses, "data-kl", None)?;
    let el = site.browser.find(&losses)?;
    let page_teacher = parse_f32_list(&el.attr("data-teacher")?.unwrap_or_default())
        .map_err(anyhow::Error::msg)?;
    let page_student = parse_f32_list(&el.attr("data-student")?.unwrap_or_default())
        .map_err(anyhow::Error::msg)?;
    close(&page_teacher, &native_teacher, F32_TOL, "teacher logits")?;
    close(&page_student, &native_student, F32_TOL, "student logits")?;
    ensure!(
        f32_attr(&el, "data-t")? == 2.0,
        "starts at the lesson's T = 2"
    );
    let mse = metrics::mse(&native_student, &native_teacher)?;
    ensure!(
        (f32_attr(&el, "data-mse")? - mse).abs() <= 1e-4 * mse.max(1.0),
        "mse vs native {mse}"
    );
    ensure!(
        (f32_attr(&el, "data-kl")? - kl_t2(&native_student, &native_teacher, 2.0)).abs() < 1e-4
    );

    // Five steps right on the slider: T = 2.5; MSE does not move, KL follows.
    let slider = site.browser.find(&testid("temp-slider"))?;
    slider.send_keys(&keys::ARROW_RIGHT.repeat(5))?;
    site.browser.wait_for("T = 2.5", UI_TIMEOUT, |s| {
        let el = s.find(&testid("temp-losses"))?;
        Ok((el.attr("data-t")?.as_deref() == Some("2.5")).then_some(()))
    })?;
    let el = site.browser.find(&losses)?;
    ensure!(
        (f32_attr(&el, "data-mse")? - mse).abs() <= 1e-4 * mse.max(1.0),
        "MSE has no temperature"
    );
    let want = kl_t2(&page_student, &page_teacher, 2.5);
    ensure!(
        (f32_attr(&el, "data-kl")? - want).abs() < 1e-5,
        "kl at 2.5: want {want}"
    );
    // The teacher's top probability falls as T rises (the text alternative's table).
    let top = |t: f32| {
        let z: Vec<f32> = page_teacher.iter().map(|x| x / t).collect();
        metrics::softmax(&z).into_iter().fold(0.0, f32::max)
    };
    ensure!(top(1.0) > top(2.5) && top(2.5) > top(8.0));
    console_clean(&site.browser, "/learn/distillation")?;
    Ok(())
}

#[test]
fn activation_ranges_show_the_int8_layers_own_range() -> Result<()> {
    let Some(site) = Site::start("activation_ranges_show_the_int8_layers_own_range")? else {
        return Ok(());
    };
    let (f32, _) = bundled()?;
    let text = "I love learning about AI!";
    open(&site, "lab-formats", "activation-ranges")?;
    let numbers = testid("act-numbers");
    let mut before = wait_attr_change(&site.browser, &numbers, "data-layer", None)?;
    for step in 0..2 {
        if step == 1 {
            // The previous layer in the list, by keyboard.
            site.browser
                .find(&testid("act-layer"))?
                .send_keys(keys::ARROW_UP)?;
            before = wait_attr_change(&site.browser, &numbers, "data-layer", Some(&before))?;
        }
        let native = activation_range(&f32, text, &before, 40)?;
        let el = site.browser.find(&numbers)?;
        ensure!(el.attr("data-tokens")?.as_deref() == Some(native.tokens.to_string().as_str()));
        for (name, want) in [("data-min", native.min), ("data-max", native.max)] {
            let got = f32_attr(&el, name)?;
            ensure!(
                (got - want).abs() <= 1e-4 * want.abs().max(1.0),
                "{before} {name}: page {got}, native {want}"
            );
        }
        let scale = f32_attr(&el, "data-scale")?;
        ensure!(
            (scale - native.params.scale).abs() <= 1e-4 * native.params.scale,
            "{before} scale: page {scale}, native {}",
            native.params.scale
        );
        let zp: i32 = el.attr("data-zero-point")?.unwrap_or_default().parse()?;
        ensure!(
            (zp - native.params.zero_point).abs() <= 1,
            "{before} zero point {zp} vs {}",
            native.params.zero_point
        );
    }
    console_clean(&site.browser, "/learn/lab-formats")?;
    Ok(())
}

#[test]
fn block_formats_unpack_a_real_row_as_candle_stores_it() -> Result<()> {
    let Some(site) = Site::start("block_formats_unpack_a_real_row_as_candle_stores_it")? else {
        return Ok(());
    };
    let (f32, _) = bundled()?;
    let layer = "transformer.layer.0.attention.q_lin";
    open(&site, "lab-formats", "block-formats")?;
    let card = |name: &str| testid(&format!("blocks-{name}"));
    let mut before = wait_attr_change(&site.browser, &card("q4_0"), "data-mse", None)?;
    for row in [0usize, 5] {
        if row == 5 {
            let input = site.browser.find(&testid("blocks-row"))?;
            input.click()?;
            input.select_all_and_delete()?;
            input.send_keys(&format!("5{}", keys::ENTER))?;
            before = wait_attr_change(&site.browser, &card("q4_0"), "data-mse", Some(&before))?;
        }
        let weights = weight_row(&f32, layer, row)?;
        for (name, scheme) in [
            ("q8_0", Scheme::Q8_0),
            ("q4_0", Scheme::Q4_0),
            ("q4_k", Scheme::Q4K),
        ] {
            let native = pack_row(&weights, scheme)?;
            let el = site.browser.find(&card(name))?;
            let mse = f32_attr(&el, "data-mse")?;
            ensure!(
                (mse - native.mse).abs() <= 1e-6 * native.mse.max(1e-12),
                "{name} row {row} mse: page {mse}, native {}",
                native.mse
            );
            ensure!(f32_attr(&el, "data-bits")? == native.bits_per_weight);
            ensure!(
                el.attr("data-blocks")?.as_deref()
                    == Some(native.blocks.len().to_string().as_str())
            );
            // The blocks' table has one row per block.
            let shown = site
                .browser
                .find_all(&format!("{} [data-testid=blocks-block]", card(name)))?
                .len();
            ensure!(
                shown == native.blocks.len(),
                "{name}: {shown} block rows, {} blocks",
                native.blocks.len()
            );
        }
    }
    console_clean(&site.browser, "/learn/lab-formats")?;
    Ok(())
}

#[test]
fn flip_it_predicts_then_reveals_margins_and_hints_the_closest_calls() -> Result<()> {
    let Some(site) = Site::start("flip_it_predicts_then_reveals_margins_and_hints")? else {
        return Ok(());
    };
    let (f32, int8) = bundled()?;
    open(&site, "lab-measuring", "flip-it")?;
    // Nothing is shown before the learner predicts.
    wait_element(&site.browser, "flip-hidden")?;
    wait_element(&site.browser, "flip-guess-keeps")?.send_keys(keys::SPACE)?;
    let result = testid("flip-result");
    let mut before = wait_attr_change(&site.browser, &result, "data-f32", None)?;
    for text in ["not bad at all", "It was fine, I guess."] {
        if text != "not bad at all" {
            let area = site.browser.find(&testid("flip-text"))?;
            area.click()?;
            area.select_all_and_delete()?;
            area.send_keys(text)?;
            before = wait_attr_change(&site.browser, &result, "data-f32", Some(&before))?;
        }
        let enc = f32.encode(text)?;
        let (nf, ni) = (f32.logits(&enc)?, int8.logits(&enc)?);
        let el = site.browser.find(&result)?;
        let pf = parse_f32_list(&before).map_err(anyhow::Error::msg)?;
        let pi = parse_f32_list(&el.attr("data-other")?.unwrap_or_default())
            .map_err(anyhow::Error::msg)?;
        close(&pf, &nf, F32_TOL, "f32 logits")?;
        close(&pi, &ni, INT8_TOL, "int8 logits")?;
        ensure!(pf != pi, "the quantized logits are the f32 ones: {pf:?}");
        ensure!((f32_attr(&el, "data-f32-margin")? - margin(&pf)).abs() < 1e-6);
        ensure!((f32_attr(&el, "data-other-margin")? - margin(&pi)).abs() < 1e-6);
        let flipped = metrics::argmax(&pf) != metrics::argmax(&pi);
        ensure!(el.attr("data-flipped")?.as_deref() == Some(flipped.to_string().as_str()));
    }
    // The hint: the held-out sentences closest to flipping, as the engine ranks them.
    wait_element(&site.browser, "flip-hints")?.click()?;
    site.browser.wait_for("the hints", UI_TIMEOUT * 4, |s| {
        Ok((s.find_all(&testid("flip-hint"))?.len() == 5).then_some(()))
    })?;
    let held_out: Vec<String> =
        std::fs::read_to_string(e2e::repo_root().join("data/sentiment/test.tsv"))?
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once('\t').map(|(_, t)| t.to_string()))
            .collect();
    let native = closest_calls(&f32, &int8, &held_out, 10)?;
    for hint in site
        .browser
        .find_all(&format!("{} .hint-text", testid("flip-hint")))?
    {
        let text = hint.text()?;
        ensure!(
            native.iter().any(|r| r.text.trim() == text.trim()),
            "hint `{text}` is not among the engine's 10 closest calls"
        );
    }
    console_clean(&site.browser, "/learn/lab-measuring")?;
    Ok(())
}

/// Every figure: where it lives and the attribute that appears once it has numbers.
const FIGURES: [(&str, &str, &str, &str); 6] = [
    (
        "quantization",
        "quantize-tensor",
        "qt-group-0",
        "data-scale",
    ),
    ("hands-on", "seed-code", "seed-numbers", "data-mse"),
    ("distillation", "temperature", "temp-losses", "data-kl"),
    (
        "lab-formats",
        "activation-ranges",
        "act-numbers",
        "data-scale",
    ),
    ("lab-formats", "block-formats", "blocks-q4_0", "data-mse"),
    ("lab-measuring", "flip-it", "flip-hidden", "class"),
];

/// At 1280 and at 375 px (a phone) every figure fits its column — the page never
/// scrolls sideways — and its charts carry text (an `aria-label` or a table). With
/// `SQUEEZE_SCREENSHOTS=1` each figure is saved as docs/screenshots/figure-<id>-<width>.png.
#[test]
fn figures_fit_a_phone_and_have_screenshots() -> Result<()> {
    let Some(site) = Site::start("figures_fit_a_phone_and_have_screenshots")? else {
        return Ok(());
    };
    let write = std::env::var_os("SQUEEZE_SCREENSHOTS").is_some();
    for width in [1280u32, 375] {
        // Tall enough that the longest figure fits the viewport whole.
        site.browser.set_window_size(width, 2400)?;
        std::thread::sleep(std::time::Duration::from_millis(500));
        for (slug, id, ready, attr) in FIGURES {
            open(&site, slug, id)?;
            wait_attr_change(&site.browser, &testid(ready), attr, None)?;
            if id == "flip-it" {
                wait_element(&site.browser, "flip-guess-flips")?.send_keys(keys::SPACE)?;
                wait_attr_change(&site.browser, &testid("flip-result"), "data-f32", None)?;
            }
            // Let charts settle after the last answer.
            std::thread::sleep(std::time::Duration::from_millis(300));
            let overflow = site.browser.execute(
                "const f = document.querySelector(arguments[0]).getBoundingClientRect();\
                 return [document.documentElement.scrollWidth, window.innerWidth, f.left, f.right];",
                vec![serde_json::json!(testid(&format!("figure-{id}")))],
            )?;
            let n = |i: usize| overflow[i].as_f64().unwrap_or(f64::NAN);
            ensure!(
                n(0) <= n(1) && n(2) >= 0.0 && n(3) <= n(1),
                "{id} at {width} px: page {} wide in a {} px window, figure {}…{}",
                n(0),
                n(1),
                n(2),
                n(3)
            );
            for svg in site
                .browser
                .find_all(&format!("{} svg", testid(&format!("figure-{id}"))))?
            {
                let label = svg.attr("aria-label")?.unwrap_or_default();
                ensure!(
                    svg.attr("role")?.as_deref() == Some("img") && !label.is_empty(),
                    "{id}: a chart without a text alternative"
                );
            }
            let figure = site.browser.find(&testid(&format!("figure-{id}")))?;
            site.browser.execute(
                "document.querySelector(arguments[0]).scrollIntoView({block: 'start'});",
                vec![serde_json::json!(testid(&format!("figure-{id}")))],
            )?;
            std::thread::sleep(std::time::Duration::from_millis(300));
            let png = figure.screenshot_png()?;
            let (w, h) = png_size(&png).context("not a PNG")?;
            ensure!(
                w <= width && w > width / 3,
                "{id} at {width} px: screenshot {w}×{h}"
            );
            if write {
                let path =
                    e2e::repo_root().join(format!("docs/screenshots/figure-{id}-{width}.png"));
                std::fs::create_dir_all(path.parent().unwrap())?;
                std::fs::write(&path, &png)?;
                println!("wrote {} ({w}×{h})", path.display());
            }
        }
    }
    console_clean(&site.browser, "every figure at 1280 and 375 px")?;
    Ok(())
}

/// The option of `q` that stands for `outcome`.
fn option_for(q: &content::Question, outcome: &str) -> Result<usize> {
    q.choices
        .iter()
        .position(|c| c.when.as_deref() == Some(outcome))
        .with_context(|| format!("`{}` has no option for `{outcome}`", q.id))
}

/// Waits for question `id`'s `data-state` to be `state`.
fn wait_question_state(site: &Site, id: &str, state: &str) -> Result<()> {
    let css = question_css(id);
    site.browser
        .wait_for(&format!("`{id}` to be {state}"), UI_TIMEOUT, |s| {
            let Some(q) = s.try_find(&css)? else {
                return Ok(None);
            };
            Ok((q.attr("data-state")?.as_deref() == Some(state)).then_some(()))
        })?;
    Ok(())
}

/// A question about the learner's own run: unanswerable (with a link to where to
/// measure) until measured, then graded from the numbers the figure or the lab saved
/// in this browser, with an explanation built from them.
#[test]
fn quizzes_grade_questions_from_the_learners_own_run() -> Result<()> {
    let Some(site) = Site::start("quizzes_grade_questions_from_the_learners_own_run")? else {
        return Ok(());
    };
    let course = course_as_written()?;
    let question = |slug: &str, id: &str| -> Result<content::Question> {
        course
            .lesson(slug)
            .and_then(|l| l.quiz.questions.iter().find(|q| q.id == id))
            .cloned()
            .with_context(|| format!("{slug} has no question {id}"))
    };

    // Nothing measured: the question says where to measure and takes no pick.
    let tensor_q = question("quantization", "your-largest-error")?;
    site.browser.goto(&site.url("/quiz/quantization"))?;
    wait_question_state(&site, &tensor_q.id, "unmeasured")?;
    site.browser.find(&option_css(&tensor_q.id, 0))?.click()?;
    std::thread::sleep(std::time::Duration::from_millis(300));
    wait_question_state(&site, &tensor_q.id, "unmeasured")?;
    let link = site.browser.find(&format!(
        "{} {}",
        question_css(&tensor_q.id),
        testid("quiz-measure-link")
    ))?;
    ensure!(
        link.attr("href")?
            .unwrap_or_default()
            .ends_with("/learn/quantization#figure-quantize-tensor"),
        "measure link {:?}",
        link.attr("href")?
    );

    // Measure it: the lesson's figure as it opens (the range fixed in advance, 2.0 clipped).
    link.click()?;
    wait_attr_change(&site.browser, &testid("qt-group-0"), "data-scale", None)?;
    site.browser.goto(&site.url("/quiz/quantization"))?;
    wait_question_state(&site, &tensor_q.id, "open")?;
    site.browser
        .find(&option_css(&tensor_q.id, option_for(&tensor_q, "clipped")?))?
        .click()?;
    wait_question_state(&site, &tensor_q.id, "correct")?;
    let measured = site
        .browser
        .find(&format!(
            "{} {}",
            question_css(&tensor_q.id),
            testid("quiz-measured")
        ))?
        .text()?;
    ensure!(
        measured.contains("0.45"),
        "the explanation gives the measured error: {measured}"
    );

    // The lab measures the model's sizes; the first lesson's quiz grades from them.
    let size_q = question("why-optimise", "your-size-ratio")?;
    e2e::lab::Lab::open(&site, "")?;
    let (f32, int8) = bundled()?;
    let ratio = f32.size().total_bytes as f64 / int8.size().total_bytes as f64;
    let outcome = match ratio {
        r if r < 2.0 => "under-2x",
        r if r < 3.0 => "2x-to-3x",
        r if r < 4.0 => "3x-to-4x",
        _ => "over-4x",
    };
    site.browser.goto(&site.url("/quiz/why-optimise"))?;
    wait_question_state(&site, &size_q.id, "open")?;
    // A wrong pick is graded wrong, from the same numbers.
    let wrong = (option_for(&size_q, outcome)? + 1) % size_q.choices.len();
    site.browser.find(&option_css(&size_q.id, wrong))?.click()?;
    wait_question_state(&site, &size_q.id, "wrong")?;
    let measured = site
        .browser
        .find(&format!(
            "{} {}",
            question_css(&size_q.id),
            testid("quiz-measured")
        ))?
        .text()?;
    ensure!(
        measured.contains(&format!("{:.1}", ratio)) || measured.contains(&format!("{:.2}", ratio)),
        "the explanation gives the measured ratio {ratio:.2}: {measured}"
    );
    console_clean(&site.browser, "quizzes about the learner's run")?;
    Ok(())
}
