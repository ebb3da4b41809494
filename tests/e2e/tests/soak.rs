//! Soak: 1,000 consecutive classify/quantize cycles through the lab, watching both
//! wasm memories. Each cycle does what a learner does: types a sentence and runs
//! f32 and int8 (two forwards, activations quantized afresh), then swaps the scheme
//! ticked in the schemes panel (untick the current one, tick the next), which makes
//! the worker quantize the whole model's weights to the new scheme (unticking freed
//! its copy) and compare it with f32. The table row says `data-quantized-now=true`,
//! checked every cycle, so no cycle is served from a cache.
//!
//! Ignored by default (minutes). Run it with:
//! `SQUEEZE_DIST=$PWD/dist cargo test -p e2e --test soak -- --ignored --nocapture`
//! (`SQUEEZE_SOAK_CYCLES=<n>` runs fewer cycles, for a quick look; the bounds still hold.)

use anyhow::{ensure, Result};
use e2e::lab::{testid, Lab};
use e2e::panels::{self, attr, row, row_schemes, table_run};
use e2e::{Site, RUN_TIMEOUT};
use serde_json::{json, Value};

const CYCLES: usize = 1000;

/// The schemes ticked in turn, one at a time (every pickable one).
const SCHEMES: [&str; 8] = [
    "f16",
    "int8-dynamic",
    "int8-per-channel",
    "q8_0",
    "q5_0",
    "q4_1",
    "q4_0",
    "q4_k",
];

/// Allowed growth of the worker's wasm memory over the cycles after warm-up. Every cycle
/// frees what it allocates (the previous scheme's copy included), so growth past the
/// warm-up high-water mark would be a leak; 16 MiB leaves room for allocator
/// fragmentation (copies of different sizes come and go) without hiding a per-cycle
/// leak (1,000 cycles × even 16 KiB = 16 MiB).
const MAX_WORKER_GROWTH: f64 = 16.0 * 1024.0 * 1024.0;

/// Allowed growth of the page's wasm memory over the cycles after warm-up. The page
/// keeps one result and one table, replaced each cycle; what one cycle renders (the
/// 300-word sentence, the table and two charts) is well under 64 KiB, and wasm memory
/// grows in 64 KiB pages, so a non-leaking page may add a few pages of allocator slack
/// but no more. 512 KiB over 1,000 cycles fails any leak of ≥ 0.5 KiB per cycle (the
/// router's URL stack leaked ~2 KiB per cycle before crate::address replaced it).
const MAX_PAGE_GROWTH: f64 = 512.0 * 1024.0;

fn memory(site: &Site) -> Result<(f64, f64)> {
    let v: Value = site
        .browser
        .execute("return window.squeezeMemory();", vec![])?;
    let get = |k: &str| {
        v[k].as_f64()
            .ok_or_else(|| anyhow::anyhow!("squeezeMemory: {v}"))
    };
    Ok((get("page")?, get("worker")?))
}

fn mib(b: f64) -> String {
    format!("{:.2} MiB", b / 1024.0 / 1024.0)
}

/// Unticks `from` and ticks `to` as a learner would, then waits for the table that
/// compares f32 with `to` alone and checks its weights were quantized for it.
fn swap_scheme(lab: &Lab<'_>, from: &str, to: &str) -> Result<()> {
    let before = table_run(lab)?;
    let pick = |s: &str| format!("[data-testid=scheme-pick][data-scheme=\"{s}\"]");
    lab.browser.find(&pick(from))?.click()?;
    lab.browser.find(&pick(to))?.click()?;
    let want = vec!["f32".to_string(), to.to_string()];
    lab.browser
        .wait_for(&format!("the table of f32 and {to}"), RUN_TIMEOUT, |s| {
            let enabled = s.find(&testid("schemes-run"))?.is_enabled()?;
            let done = enabled && table_run(lab)? > before && row_schemes(lab)? == want;
            Ok(done.then_some(()))
        })?;
    let fresh = attr(&row(lab, to)?, "data-quantized-now", "scheme-row")?;
    ensure!(
        fresh == "true",
        "{to}: the table came from a cached copy, not a fresh quantization"
    );
    Ok(())
}

#[test]
#[ignore = "takes minutes: run with --ignored"]
fn a_thousand_cycles_keep_memory_bounded() -> Result<()> {
    let Some(site) = Site::start("a_thousand_cycles_keep_memory_bounded")? else {
        return Ok(());
    };
    let cycles = match std::env::var("SQUEEZE_SOAK_CYCLES") {
        Ok(n) => n.parse()?,
        Err(_) => CYCLES,
    };
    let lab = Lab::open(&site, &format!("?schemes={}", SCHEMES[0]))?;
    panels::wait_for_table(&lab, 0)?;
    let long = "long text ".repeat(300);
    let texts = [
        "I love learning about AI!",
        "This was a waste of time.",
        "这个模型很好 😀",
        long.as_str(),
    ];
    let set = |t: &str| {
        site.browser.execute(
            "const b = document.querySelector('[data-testid=lab-text]');
             b.value = arguments[0]; b.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![json!(t)],
        )
    };
    let mut ticked = 0;
    let mut cycle = |i: usize| -> Result<()> {
        set(texts[i % texts.len()])?;
        lab.run()?;
        ensure!(
            !lab.has("lab-error")?,
            "cycle {i}: {}",
            lab.element("lab-error")?.text()?
        );
        let next = (ticked + 1) % SCHEMES.len();
        swap_scheme(&lab, SCHEMES[ticked], SCHEMES[next])
            .map_err(|e| anyhow::anyhow!("cycle {i}: {e}"))?;
        ticked = next;
        Ok(())
    };
    // Warm-up: every scheme once (so every text twice), so both allocators reach
    // their working size.
    for i in 0..SCHEMES.len() {
        cycle(i)?;
    }
    let (page0, worker0) = memory(&site)?;
    let start = std::time::Instant::now();
    let mut samples = Vec::new();
    for i in 0..cycles {
        cycle(i)?;
        if (i + 1) % 100 == 0 {
            let (p, w) = memory(&site)?;
            samples.push((i + 1, p, w));
        }
    }
    let took = start.elapsed();
    let (page1, worker1) = memory(&site)?;
    println!(
        "soak: {cycles} classify/quantize cycles in {:.1} s ({:.1} ms per cycle)",
        took.as_secs_f64(),
        took.as_secs_f64() * 1000.0 / cycles.max(1) as f64
    );
    println!(
        "soak: worker wasm memory {} → {} (growth {}), page {} → {} (growth {})",
        mib(worker0),
        mib(worker1),
        mib(worker1 - worker0),
        mib(page0),
        mib(page1),
        mib(page1 - page0)
    );
    for (n, p, w) in &samples {
        println!(
            "soak: after {n:4} cycles: worker {} page {}",
            mib(*w),
            mib(*p)
        );
    }
    ensure!(
        worker1 - worker0 <= MAX_WORKER_GROWTH,
        "worker memory grew by {} (bound {})",
        mib(worker1 - worker0),
        mib(MAX_WORKER_GROWTH)
    );
    ensure!(
        page1 - page0 <= MAX_PAGE_GROWTH,
        "page memory grew by {} (bound {})",
        mib(page1 - page0),
        mib(MAX_PAGE_GROWTH)
    );
    Ok(())
}
