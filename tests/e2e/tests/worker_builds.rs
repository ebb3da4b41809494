//! The two builds of the engine's worker (issue 14, item 5): Chromium has relaxed SIMD, so
//! the page must start the relaxed build (`relaxed/worker_loader.js`) and say so in the
//! lab's speed card; `?worker=simd128` starts Trunk's simd128 build instead. Both kernels
//! are exact integer arithmetic and share the f32 code, so the page must show the very
//! same logits with either build.

use anyhow::{ensure, Result};
use e2e::figures::console_clean;
use e2e::lab::Lab;
use e2e::Site;

const TEXT: &str = "The plot was thin, but the actors carried it with real warmth.";

/// Runs the lab on [`TEXT`] with `query`; returns the build it names and the logits.
fn run(site: &Site, query: &str) -> Result<(String, Vec<f32>, Vec<f32>)> {
    let lab = Lab::open(site, query)?;
    lab.set_text(TEXT)?;
    lab.run()?;
    lab.wait_timed()?;
    let build = lab.attr("speed", "data-worker-build")?;
    let detail = lab.element("speed")?.text()?;
    println!("lab{query}: worker build {build}: {detail}");
    console_clean(&site.browser, &format!("/lab{query}"))?;
    Ok((build, lab.values("logits-f32")?, lab.values("logits-int8")?))
}

#[test]
fn lab_runs_the_relaxed_simd_worker_with_the_same_numbers() -> Result<()> {
    let Some(site) = Site::start("lab_runs_the_relaxed_simd_worker_with_the_same_numbers")? else {
        return Ok(());
    };
    let (relaxed, f32_r, int8_r) = run(&site, "")?;
    ensure!(
        relaxed == "relaxed-simd",
        "Chromium has relaxed SIMD, but the lab ran the `{relaxed}` worker"
    );
    let (plain, f32_p, int8_p) = run(&site, "?worker=simd128")?;
    ensure!(
        plain == "simd128",
        "?worker=simd128 ran the `{plain}` worker"
    );
    ensure!(
        f32_r == f32_p,
        "f32 logits differ between builds: {f32_r:?} vs {f32_p:?}"
    );
    ensure!(
        int8_r == int8_p,
        "int8 logits differ between builds: {int8_r:?} vs {int8_p:?}"
    );
    Ok(())
}
