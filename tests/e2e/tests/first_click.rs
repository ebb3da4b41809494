//! The learner's first click (issue 14, item 6): right after a model loads, the worker
//! runs a few forwards while the learner reads, so that the browser has compiled and
//! optimised the engine's code before the first real question. Measured, not assumed:
//! fresh pages alternately with the warm-up and with `?warmup=0` (the page passes it to
//! its worker), the same pause for reading, the same sentence; the worker's time for the
//! first comparison (`lab-results data-worker-ms`, both models' forwards) must be lower
//! with the warm-up, by the median over the rounds.

use std::time::Duration;

use anyhow::{ensure, Result};
use e2e::lab::Lab;
use e2e::Site;

/// Pages per way of starting.
const ROUNDS: usize = 4;

/// What a learner takes to read the page before clicking (the warm-up's window).
const READING: Duration = Duration::from_millis(1500);

const TEXT: &str = "A quiet, patient film that rewards anyone willing to sit with it.";

fn first_click_ms(site: &Site, query: &str) -> Result<f64> {
    let lab = Lab::open(site, query)?;
    std::thread::sleep(READING);
    lab.set_text(TEXT)?;
    lab.run()?;
    Ok(lab.number("lab-results", "data-worker-ms")?)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
fn the_warm_up_makes_the_first_click_faster() -> Result<()> {
    let Some(site) = Site::start("the_warm_up_makes_the_first_click_faster")? else {
        return Ok(());
    };
    let (mut warm, mut cold) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        warm.push(first_click_ms(&site, "")?);
        cold.push(first_click_ms(&site, "?warmup=0")?);
    }
    let (w, c) = (median(warm.clone()), median(cold.clone()));
    println!(
        "first click, worker ms (f32 + int8 forwards): with the warm-up {warm:?} (median {w:.1}), without {cold:?} (median {c:.1}): {:.1}x",
        c / w
    );
    ensure!(
        w < c,
        "the warm-up did not speed up the first click: median {w:.1} ms with it, {c:.1} ms without"
    );
    Ok(())
}
