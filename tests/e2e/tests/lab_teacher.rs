//! Teacher vs student vs quantized student: without a teacher the panel says how to
//! get one; a teacher picked from files (the tiny fixture stands in for the real
//! MiniLM teacher: any classifier with the same two labels will do) gives three rows
//! whose logits, and the MSE of each pair, equal the native engine's within the
//! issue's tolerances (1e-5 for f32 pairs, 2e-2 once int8 is involved).

use anyhow::{ensure, Result};
use e2e::lab::{testid, Lab};
use e2e::panels::{attr, floats, model_dir, native_model, number};
use e2e::{encode_query_value, repo_root, Site, RUN_TIMEOUT};
use engine::{metrics, Classifier, Scheme};

const TEXT: &str = "I love learning about AI!";

/// Waits for the panel's results with `data-run` above `after` in `scheme`; returns the run.
fn wait_results(lab: &Lab<'_>, after: u64, scheme: &str) -> Result<u64> {
    Ok(lab
        .browser
        .wait_for("the teacher comparison", RUN_TIMEOUT, |s| {
            let Some(el) = s.try_find(&testid("teacher-results"))? else {
                return Ok(None);
            };
            let run: u64 = el
                .attr("data-run")?
                .unwrap_or_default()
                .parse()
                .unwrap_or(0);
            let same = el.attr("data-scheme")?.as_deref() == Some(scheme);
            Ok((run > after && same).then_some(run))
        })?)
}

/// The page's logits of `role` and the three losses.
fn read_page(lab: &Lab<'_>) -> Result<(Vec<Vec<f32>>, [f64; 3])> {
    let mut logits = Vec::new();
    for role in ["teacher", "student", "quantized"] {
        let row = lab
            .browser
            .find(&format!("[data-testid=teacher-row][data-role=\"{role}\"]"))?;
        logits.push(floats(&row, "data-logits", role)?);
    }
    let mut mse = [0.0; 3];
    for (m, id) in mse.iter_mut().zip([
        "mse-teacher-student",
        "mse-teacher-quantized",
        "mse-student-quantized",
    ]) {
        *m = number(&lab.element(id)?, "data-value", id)?;
    }
    Ok((logits, mse))
}

/// Checks the page against the native engine with the student quantized to `scheme`.
fn check(lab: &Lab<'_>, teacher: &Classifier, student: &Classifier, scheme: Scheme) -> Result<()> {
    let quantized = student.quantize(scheme)?;
    let native = [
        teacher.classify(TEXT)?.logits,
        student.classify(TEXT)?.logits,
        quantized.classify(TEXT)?.logits,
    ];
    let (page, mse) = read_page(lab)?;
    for (role, (p, n)) in ["teacher", "student", "quantized"]
        .iter()
        .zip(page.iter().zip(&native))
    {
        let tol = if *role == "quantized" { 2e-2 } else { 1e-5 };
        let diff = metrics::max_abs_diff(p, n)?;
        println!("{role} ({scheme}): page {p:?} native {n:?} diff {diff:e}");
        ensure!(diff <= tol, "{role} logits differ by {diff} > {tol}");
    }
    let pairs = [(0, 1, 1e-5), (0, 2, 2e-2), (1, 2, 2e-2)];
    for ((a, b, tol), shown) in pairs.into_iter().zip(mse) {
        let native_mse = f64::from(metrics::mse(&native[a], &native[b])?);
        let own = f64::from(metrics::mse(&page[a], &page[b])?);
        println!("mse {a}-{b}: page {shown} native {native_mse} (of the page's logits {own})");
        ensure!(
            (shown - native_mse).abs() <= tol,
            "MSE {a}-{b}: page {shown} vs native {native_mse}"
        );
        // The number shown is the MSE of the logits shown.
        ensure!(
            (shown - own).abs() <= 1e-6 * own.max(1e-6),
            "MSE {a}-{b}: shown {shown} but the shown logits give {own}"
        );
    }
    ensure!(
        mse[0] > 0.0,
        "a different teacher must disagree with the student"
    );
    Ok(())
}

#[test]
fn lab_teacher_from_files_matches_the_native_engine() -> Result<()> {
    let Some(site) = Site::start("lab_teacher_from_files_matches_the_native_engine")? else {
        return Ok(());
    };
    let lab = Lab::open(&site, &format!("?text={}", encode_query_value(TEXT)))?;
    let none = lab.element("teacher-none")?.text()?;
    ensure!(
        none.contains("cargo xtask distill") && none.contains("Load as teacher"),
        "the panel does not say how to get a teacher: {none}"
    );
    ensure!(!lab.has("teacher-results")?, "results without a teacher");

    // The server has no teacher: fetching says so and nothing changes.
    lab.element("teacher-fetch")?.click()?;
    let error = lab
        .browser
        .wait_for("the missing-teacher message", RUN_TIMEOUT, |s| {
            s.try_find(&testid("teacher-error"))?
                .map(|e| e.text())
                .transpose()
        })?;
    ensure!(error.contains("models/teacher/"), "{error}");
    ensure!(lab.has("teacher-none")?, "the how-to went away");

    // The tiny fixture as the teacher, from files.
    let tiny = repo_root().join("tests/fixtures/tiny");
    for (id, name) in [
        ("upload-config", "config.json"),
        ("upload-tokenizer", "tokenizer.json"),
        ("upload-weights", "model.safetensors"),
    ] {
        lab.element(id)?
            .send_keys(&tiny.join(name).display().to_string())?;
    }
    lab.element("upload-teacher")?.click()?;
    let status = lab
        .browser
        .wait_for("the teacher to load", RUN_TIMEOUT, |s| {
            s.try_find(&testid("teacher-status"))?
                .map(|e| e.text())
                .transpose()
        })?;
    println!("teacher: {status}");
    ensure!(status.contains("2 layers, width 64"), "{status}");
    // The lab's model is still the bundled student.
    ensure!(
        lab.attr("model-status", "data-state")? == "ready",
        "the model status changed"
    );

    let teacher = native_model(&tiny)?;
    let student = native_model(&model_dir())?;
    let run = wait_results(&lab, 0, "int8-dynamic")?;
    check(&lab, &teacher, &student, Scheme::Int8Dynamic)?;

    // Another scheme for the quantized student.
    lab.browser
        .find("[data-testid=teacher-scheme] option[value=\"q4_0\"]")?
        .click()?;
    wait_results(&lab, run, "q4_0")?;
    let labels: Vec<String> = lab
        .browser
        .find_all("[data-testid=teacher-row]")?
        .iter()
        .map(|r| attr(r, "data-label", "teacher-row"))
        .collect::<Result<_, _>>()?;
    ensure!(labels.len() == 3, "rows: {labels:?}");
    check(&lab, &teacher, &student, Scheme::Q4_0)?;
    Ok(())
}
