//! The page budget, in real headless Chromium on localhost with a cold cache: the
//! size of the built wasm (raw and gzip), and the time from navigation to /lab until the
//! first logits of the bundled student are on screen. The lab waits for a click on "run";
//! the test clicks as soon as the model is ready, but its polling and WebDriver round trips
//! add a few hundred ms a learner's page does not cost. So the budget holds the page's own
//! time: navigation → model ready, plus click → logits on screen, both read from the page's
//! clock. The raw figure (test's reaction included) is printed too. Fails when the page's
//! time exceeds [`FIRST_LOGITS_BUDGET_MS`] or the wasm outgrows [`WASM_GZIP_BUDGET`].

use std::path::Path;
use std::process::Command;

use anyhow::{ensure, Context, Result};
use e2e::lab::Lab;
use e2e::Site;

/// Navigation → first logits on localhost (page time), the issue's budget. Measured
/// 0.93–1.0 s on the 2-core machine (2026-12-07, the threaded worker): model ready at
/// 0.85–0.94 s (the page starts the worker before drawing itself), then 60–120 ms from
/// the click. This test clicks the moment the model is ready, while the worker computes
/// the lab's scheme table; the click's request is answered between two schemes
/// (`worker::let_interactive_through`), not after the table (that cost ~0.35–0.44 s, and
/// a CI run 1.54 s in all). docs/BENCHMARKS.md, "Page budget", has the runs.
const FIRST_LOGITS_BUDGET_MS: f64 = 1500.0;

/// All wasm of the site, gzip -9, in bytes. 3.21 MB on 2026-12-06 (page 1.30 MB, worker
/// 1.91 MB: candle, the tokenizer, exports and zips, the recipe search and live training);
/// 3.5 MB leaves room for the next feature without letting growth go unnoticed.
const WASM_GZIP_BUDGET: u64 = 3_500_000;

/// Installed before the model is ready: stamps `performance.now()` (ms since navigation
/// started) at the first click on "run" and the moment results first appear.
const WATCH_RESULTS: &str = r#"
window.__firstLogits = null;
window.__runClick = null;
document.addEventListener('click', (e) => {
  if (window.__runClick === null && e.target.closest('[data-testid=lab-run]')) {
    window.__runClick = performance.now();
  }
}, true);
const seen = () => {
  if (window.__firstLogits === null && document.querySelector('[data-testid=lab-results]')) {
    window.__firstLogits = performance.now();
  }
};
new MutationObserver(seen).observe(document.body, { subtree: true, childList: true, attributes: true });
seen();
return performance.now();
"#;

fn gzip_len(path: &Path) -> Result<u64> {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .with_context(|| format!("cannot run gzip on {}", path.display()))?;
    ensure!(out.status.success(), "gzip failed on {}", path.display());
    Ok(out.stdout.len() as u64)
}

/// `(name, raw bytes, gzip bytes)` of every .wasm in the built site.
fn wasm_sizes(dist: &Path) -> Result<Vec<(String, u64, u64)>> {
    let mut sizes = Vec::new();
    for entry in
        std::fs::read_dir(dist).with_context(|| format!("cannot list {}", dist.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "wasm") {
            let raw = std::fs::metadata(&path)?.len();
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            sizes.push((name, raw, gzip_len(&path)?));
        }
    }
    sizes.sort();
    Ok(sizes)
}

/// `(ready ms after navigation, quantize ms)` from the line the lab logs when the model
/// is ready: "squeeze: model ready N ms after navigation (load N ms, quantize N ms)".
fn ready_line(log: &[String]) -> Option<(f64, f64)> {
    let line = log.iter().find(|l| l.contains("squeeze: model ready"))?;
    let number_after = |key: &str| -> Option<f64> {
        let rest = &line[line.find(key)? + key.len()..];
        rest.trim_start()
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .next()?
            .parse()
            .ok()
    };
    Some((number_after("model ready")?, number_after("quantize")?))
}

#[test]
fn page_budget_wasm_size_and_first_logits() -> Result<()> {
    let Some(site) = Site::start("page_budget_wasm_size_and_first_logits")? else {
        return Ok(());
    };
    let sizes = wasm_sizes(site.dist())?;
    ensure!(!sizes.is_empty(), "no .wasm in {}", site.dist().display());
    for (name, raw, gz) in &sizes {
        println!("budget: {name}: {raw} bytes raw, {gz} bytes gzip -9");
    }
    let total_gz: u64 = sizes.iter().map(|s| s.2).sum();
    let total_raw: u64 = sizes.iter().map(|s| s.1).sum();
    println!("budget: all wasm: {total_raw} bytes raw, {total_gz} bytes gzip -9");

    // goto returns at the load event, long before the worker has built the model.
    site.browser.goto(&site.url("/lab"))?;
    let watched_at = site.browser.execute(WATCH_RESULTS, vec![])?;
    let lab = Lab {
        browser: &site.browser,
    };
    lab.wait_until_ready()?;
    lab.run()?;
    let stamp = |name: &str| -> Result<f64> {
        site.browser
            .execute(&format!("return window.{name};"), vec![])?
            .as_f64()
            .with_context(|| format!("the page never stamped {name}"))
    };
    let first = stamp("__firstLogits")?;
    let click = stamp("__runClick")?;
    let forward = |id: &str| lab.number(id, "data-ms");
    lab.wait_timed()?;
    let log = site.browser.browser_log();
    let (ready, quantize) = ready_line(&log).with_context(|| {
        format!(
            "the lab logged no `model ready` line; console:\n  {}",
            log.join("\n  ")
        )
    })?;
    ensure!(
        click >= ready && first >= click,
        "stamps out of order: ready {ready}, click {click}, logits {first}"
    );
    let page = ready + (first - click);
    println!(
        "budget: navigation → model ready {ready:.0} ms (quantize to int8 {quantize:.0} ms); click → logits on screen {:.0} ms \
         (forward f32 {:.1} ms, int8 {:.1} ms); navigation → first logits {page:.0} ms page time, {first:.0} ms with the \
         test's reaction (watcher installed at {:.0} ms)",
        first - click,
        forward("time-f32")?,
        forward("time-int8")?,
        watched_at.as_f64().unwrap_or(f64::NAN),
    );
    ensure!(
        page <= FIRST_LOGITS_BUDGET_MS,
        "first logits {page:.0} ms after navigation (page time) > budget {FIRST_LOGITS_BUDGET_MS} ms"
    );
    ensure!(
        total_gz <= WASM_GZIP_BUDGET,
        "wasm is {total_gz} bytes gzip > budget {WASM_GZIP_BUDGET}"
    );
    ensure!(lab.has("logits-int8")?, "no int8 logits shown");
    // The first forwards run in V8's baseline tier; later runs show the optimised code.
    for run in 2..=3 {
        lab.run()?;
        lab.wait_timed()?;
        println!(
            "budget: run {run}: forward f32 {:.1} ms, int8 {:.1} ms",
            forward("time-f32")?,
            forward("time-int8")?
        );
    }
    Ok(())
}
