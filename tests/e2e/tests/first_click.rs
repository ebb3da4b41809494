//! The learner's first click (issue 14, item 6): right after a model loads, the worker
//! runs a few forwards while the learner reads, so that the browser has compiled and
//! optimised the engine's code before the first real question.
//!
//! The test checks the mechanism, which does not depend on the machine's load: `?warmup=0`
//! on the page reaches its worker, which then skips the warm-up (the speed card has no
//! forwards after load), while the default page warms up (three of each); either way the
//! first click reports the worker's own time for it (`lab-results data-worker-ms`).
//!
//! Whether the warm-up makes that first click *faster* is a timing, so it is a benchmark,
//! not a pass/fail test: `SQUEEZE_FIRST_CLICK_BENCH=1` runs
//! [`bench_first_click_with_and_without_the_warm_up`], which prints the figures.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use e2e::lab::Lab;
use e2e::{Session, Site};

/// What a learner takes to read the page before clicking (the warm-up's window).
const READING: Duration = Duration::from_millis(1500);

const TEXT: &str = "A quiet, patient film that rewards anyone willing to sit with it.";

/// Opens the lab with `query`, waits as a reader would, runs [`TEXT`] once and returns
/// the lab, with the result on screen.
fn first_click<'s>(site: &'s Site, query: &str) -> Result<Lab<'s>> {
    let lab = Lab::open(site, query)?;
    std::thread::sleep(READING);
    lab.set_text(TEXT)?;
    lab.run()?;
    Ok(lab)
}

/// The worker's time for the shown comparison, checked to be a real duration.
fn worker_ms(lab: &Lab) -> Result<f64> {
    let ms = lab.number("lab-results", "data-worker-ms")?;
    ensure!(
        ms.is_finite() && ms > 0.0,
        "lab-results data-worker-ms {ms} is not a duration"
    );
    Ok(ms)
}

/// How many warm-up forwards of each model the speed card lists (f32, int8).
fn after_load_counts(lab: &Lab) -> Result<(usize, usize)> {
    lab.wait_timed()?;
    let count = |attr: &str| -> Result<usize> {
        let raw = lab.attr("speed", attr)?;
        Ok(raw.split(',').filter(|x| !x.trim().is_empty()).count())
    };
    Ok((
        count("data-after-load-f32")?,
        count("data-after-load-int8")?,
    ))
}

#[test]
fn warmup_0_reaches_the_worker_and_the_first_click_reports_its_time() -> Result<()> {
    let Some(site) =
        Site::start("warmup_0_reaches_the_worker_and_the_first_click_reports_its_time")?
    else {
        return Ok(());
    };
    let cold = first_click(&site, "?warmup=0")?;
    let cold_ms = worker_ms(&cold)?;
    let cold_counts = after_load_counts(&cold)?;
    ensure!(
        cold_counts == (0, 0),
        "with ?warmup=0 the worker still warmed up: the speed card lists {cold_counts:?} forwards after load"
    );

    let warm = first_click(&site, "")?;
    let warm_ms = worker_ms(&warm)?;
    let warm_counts = after_load_counts(&warm)?;
    ensure!(
        warm_counts == (3, 3),
        "the default page should warm up and list 3 + 3 forwards after load, not {warm_counts:?}"
    );
    eprintln!("first click, worker ms: {cold_ms:.1} without the warm-up, {warm_ms:.1} with it");
    Ok(())
}

/// The benchmark: fresh browsers (a new profile each, so no compiled code is cached from an
/// earlier page: each is a learner's first visit), alternately with the warm-up and with
/// `?warmup=0`; the same pause for reading, the same sentence. Prints the worker's time
/// for each first click and the ratio of the medians. `SQUEEZE_FIRST_CLICK_ROUNDS` pages
/// each way (default 5).
#[test]
fn bench_first_click_with_and_without_the_warm_up() -> Result<()> {
    if std::env::var_os("SQUEEZE_FIRST_CLICK_BENCH").is_none() {
        eprintln!("first_click bench: skipped (set SQUEEZE_FIRST_CLICK_BENCH=1 to run it)");
        return Ok(());
    }
    let Some(mut site) = Site::start("bench_first_click_with_and_without_the_warm_up")? else {
        return Ok(());
    };
    let rounds: usize = match std::env::var("SQUEEZE_FIRST_CLICK_ROUNDS") {
        Ok(n) => n.parse().context("SQUEEZE_FIRST_CLICK_ROUNDS")?,
        Err(_) => 5,
    };
    let (mut warm, mut cold) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        for (query, out) in [("", &mut warm), ("?warmup=0", &mut cold)] {
            site.browser = Session::start()?;
            out.push(worker_ms(&first_click(&site, query)?)?);
        }
    }
    let list = |v: &[f64]| {
        let ms: Vec<String> = v.iter().map(|x| format!("{x:.1}")).collect();
        ms.join(" / ")
    };
    let (w, c) = (e2e::median(warm.clone()), e2e::median(cold.clone()));
    println!(
        "first click on a first visit, worker ms (f32 + int8 forwards, a {}-word sentence): \
         with the warm-up {} (median {w:.1}), without {} (median {c:.1}): \
         the warm-up makes it {:.2}x as fast",
        TEXT.split_whitespace().count(),
        list(&warm),
        list(&cold),
        c / w
    );
    Ok(())
}
