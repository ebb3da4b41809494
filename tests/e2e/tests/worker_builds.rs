//! The three builds of the engine's worker (issue 14, items 4 and 5): Chromium has relaxed
//! SIMD and the site is cross-origin isolated, so the page must start the threaded build
//! (`threads/worker_loader.js`, relaxed SIMD too) when the site has it, and say so in the
//! lab's speed card; `?worker=relaxed-simd` starts the one-thread relaxed build and
//! `?worker=simd128` Trunk's simd128 build. Every kernel is exact integer arithmetic or a
//! fixed-order f32 sum, split by output columns only, so the page must show the very same
//! logits with any build.

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
fn lab_runs_the_fastest_worker_and_every_build_gives_the_same_numbers() -> Result<()> {
    let Some(site) =
        Site::start("lab_runs_the_fastest_worker_and_every_build_gives_the_same_numbers")?
    else {
        return Ok(());
    };
    let want = if site.dist().join("threads/worker_loader.js").is_file() {
        "threads"
    } else {
        "relaxed-simd"
    };
    let (fastest, f32_t, int8_t) = run(&site, "")?;
    ensure!(
        fastest == want,
        "the page is isolated and Chromium has relaxed SIMD: the lab should run the `{want}` worker, not `{fastest}`"
    );
    let (relaxed, f32_r, int8_r) = run(&site, "?worker=relaxed-simd")?;
    ensure!(
        relaxed == "relaxed-simd",
        "?worker=relaxed-simd ran the `{relaxed}` worker"
    );
    ensure!(
        (&f32_t, &int8_t) == (&f32_r, &int8_r),
        "logits differ between the {fastest} and relaxed builds: f32 {f32_t:?} vs {f32_r:?}, int8 {int8_t:?} vs {int8_r:?}"
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
