//! Batch evaluation of the held-out set in the page: progress, a Cancel that really
//! stops the worker's work, and finished counts equal to the native engine's.

use std::time::Duration;

use anyhow::{ensure, Result};
use e2e::lab::{testid, Lab};
use e2e::panels::{self, attr, model_dir, native_model, number};
use e2e::{repo_root, Site};
use engine::{metrics, Scheme};

const BATCH_TIMEOUT: Duration = Duration::from_secs(180);

fn panel_state(lab: &Lab<'_>) -> e2e::Result<String> {
    attr(&lab.element("batch-panel")?, "data-state", "batch-panel")
}

fn progress(lab: &Lab<'_>, name: &str) -> e2e::Result<u64> {
    Ok(number(&lab.element("batch-progress")?, name, "batch-progress")? as u64)
}

#[test]
fn lab_batch_shows_progress_and_cancel_stops_it() -> Result<()> {
    let Some(site) = Site::start("lab_batch_shows_progress_and_cancel_stops_it")? else {
        return Ok(());
    };
    // Every scheme: the slowest batch, so Cancel lands in the middle.
    let lab = Lab::open(&site, "")?;
    panels::wait_for_table(&lab, 0)?;
    lab.element("batch-run")?.click()?;
    lab.browser
        .wait_for("a first batch chunk", BATCH_TIMEOUT, |_| {
            Ok((progress(&lab, "data-done")? > 0).then_some(()))
        })?;
    lab.element("batch-cancel")?.click()?;
    lab.browser
        .wait_for("the batch to stop", BATCH_TIMEOUT, |_| {
            Ok((panel_state(&lab)? == "cancelled").then_some(()))
        })?;
    let done = progress(&lab, "data-done")?;
    let total = progress(&lab, "data-total")?;
    ensure!(done < total, "cancel came too late: {done} of {total} done");
    std::thread::sleep(Duration::from_millis(1500));
    ensure!(
        progress(&lab, "data-done")? == done && panel_state(&lab)? == "cancelled",
        "work went on after Cancel"
    );
    for row in lab.browser.find_all("[data-testid=batch-row]")? {
        let seen = number(&row, "data-seen", "batch-row")? as u64;
        ensure!(
            seen == done,
            "a row saw {seen} sentences, progress says {done}"
        );
    }
    println!("cancelled after {done} of {total} sentences");
    Ok(())
}

#[test]
fn lab_batch_counts_match_the_native_engine() -> Result<()> {
    let Some(site) = Site::start("lab_batch_counts_match_the_native_engine")? else {
        return Ok(());
    };
    let lab = Lab::open(&site, "?schemes=int8-dynamic")?;
    panels::wait_for_table(&lab, 0)?;
    lab.element("batch-run")?.click()?;
    lab.browser
        .wait_for("the batch to finish", BATCH_TIMEOUT, |_| {
            Ok((panel_state(&lab)? == "done").then_some(()))
        })?;

    let f32_model = native_model(&model_dir())?;
    let int8 = f32_model.quantize(Scheme::Int8Dynamic)?;
    let tsv = std::fs::read_to_string(repo_root().join("data/sentiment/test.tsv"))?;
    let (mut n, mut f32_correct, mut int8_correct, mut agree) = (0u64, 0u64, 0u64, 0u64);
    for line in tsv.lines().skip(1) {
        let Some((gold, text)) = line.split_once('\t') else {
            continue;
        };
        let gold: usize = gold.trim().parse()?;
        let a = metrics::argmax(&f32_model.classify(text)?.logits);
        let b = metrics::argmax(&int8.classify(text)?.logits);
        n += 1;
        f32_correct += u64::from(a == gold);
        int8_correct += u64::from(b == gold);
        agree += u64::from(a == b);
    }
    ensure!(
        progress(&lab, "data-total")? == n,
        "page total vs {n} sentences"
    );
    let row = |scheme: &str| {
        lab.browser.find(&format!(
            "{}[data-scheme=\"{scheme}\"]",
            testid("batch-row")
        ))
    };
    let f32_row = row("f32")?;
    let int8_row = row("int8-dynamic")?;
    let get = |el: &e2e::Element<'_>, name: &str| -> Result<u64> {
        Ok(number(el, name, "batch-row")? as u64)
    };
    ensure!(get(&f32_row, "data-seen")? == n && get(&int8_row, "data-seen")? == n);
    // f32 labels match exactly unless a logit pair sits within float noise; int8
    // activations may round one step differently in wasm: allow one sentence each.
    let page = (
        get(&f32_row, "data-correct")?,
        get(&int8_row, "data-correct")?,
        get(&int8_row, "data-agree")?,
    );
    println!("page correct f32/int8, agree: {page:?}; native: {f32_correct}/{int8_correct}, {agree} of {n}");
    ensure!(
        page.0.abs_diff(f32_correct) <= 1,
        "f32 correct {} vs {f32_correct}",
        page.0
    );
    ensure!(
        page.1.abs_diff(int8_correct) <= 1,
        "int8 correct {} vs {int8_correct}",
        page.1
    );
    ensure!(
        page.2.abs_diff(agree) <= 1,
        "agreement {} vs {agree}",
        page.2
    );
    // The flip finder lists exactly the sentences int8 labelled differently, least sure
    // first, each a link into the lab with its text.
    let flips = lab.browser.find(&testid("batch-flips"))?;
    let count = number(&flips, "data-count", "batch-flips")? as u64;
    ensure!(
        count == page.2.abs_diff(n),
        "{count} flips listed, {} disagreements counted",
        n - page.2
    );
    let listed = lab.browser.execute(
        "return [...document.querySelectorAll('[data-testid=batch-flip]')]\
           .map(li => [li.querySelector('a').textContent, Number(li.dataset.margin)]);",
        vec![],
    )?;
    let mut last = f64::NEG_INFINITY;
    for item in listed.as_array().cloned().unwrap_or_default() {
        let text = item[0].as_str().unwrap_or_default().to_string();
        let margin = item[1].as_f64().unwrap_or(f64::NAN);
        let a = metrics::argmax(&f32_model.classify(&text)?.logits);
        let b = metrics::argmax(&int8.classify(&text)?.logits);
        ensure!(margin >= last, "flips not sorted by margin");
        last = margin;
        println!("flip: {text:?} f32 {a} int8 {b} margin {margin}");
        ensure!(
            a != b || margin < 1e-3,
            "`{text}` is listed as a flip, natively f32 and int8 agree"
        );
    }
    Ok(())
}
