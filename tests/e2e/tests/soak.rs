//! Soak: 1,000 consecutive classify cycles (f32 forward + int8 forward with fresh
//! activation quantization) through the lab, watching both wasm memories.
//!
//! Ignored by default (a few minutes). Run it with:
//! `SQUEEZE_DIST=$PWD/dist cargo test -p e2e --test soak -- --ignored --nocapture`

use anyhow::{ensure, Result};
use e2e::lab::Lab;
use e2e::Site;
use serde_json::{json, Value};

const CYCLES: usize = 1000;

/// Allowed growth of the worker's wasm memory over the cycles after warm-up. Every cycle
/// frees what it allocates, so growth past the warm-up high-water mark would be a leak;
/// 16 MiB leaves room for allocator fragmentation without hiding a per-cycle leak
/// (1,000 cycles × even 16 KiB = 16 MiB).
const MAX_GROWTH: f64 = 16.0 * 1024.0 * 1024.0;

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
    format!("{:.1} MiB", b / 1024.0 / 1024.0)
}

#[test]
#[ignore = "takes minutes: run with --ignored"]
fn a_thousand_cycles_keep_memory_bounded() -> Result<()> {
    let Some(site) = Site::start("a_thousand_cycles_keep_memory_bounded")? else {
        return Ok(());
    };
    let lab = Lab::open(&site, "")?;
    let texts = [
        "I love learning about AI!",
        "This was a waste of time.",
        "这个模型很好 😀",
        &"long text ".repeat(300),
    ];
    let set = |t: &str| {
        site.browser.execute(
            "const b = document.querySelector('[data-testid=lab-text]');
             b.value = arguments[0]; b.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![json!(t)],
        )
    };
    // Warm-up: every text once, so the allocator reaches its working size.
    for t in &texts {
        set(t)?;
        lab.run()?;
    }
    let (page0, worker0) = memory(&site)?;
    let start = std::time::Instant::now();
    let mut samples = Vec::new();
    for i in 0..CYCLES {
        set(texts[i % texts.len()])?;
        lab.run()?;
        ensure!(
            !lab.has("lab-error")?,
            "cycle {i}: {}",
            lab.element("lab-error")?.text()?
        );
        if (i + 1) % 100 == 0 {
            let (p, w) = memory(&site)?;
            samples.push((i + 1, p, w));
        }
    }
    let took = start.elapsed();
    let (page1, worker1) = memory(&site)?;
    println!(
        "soak: {CYCLES} cycles in {:.1} s ({:.1} ms per cycle)",
        took.as_secs_f64(),
        took.as_secs_f64() * 1000.0 / CYCLES as f64
    );
    println!(
        "soak: worker wasm memory {} → {} (growth {}), page {} → {}",
        mib(worker0),
        mib(worker1),
        mib(worker1 - worker0),
        mib(page0),
        mib(page1)
    );
    for (n, p, w) in &samples {
        println!(
            "soak: after {n:4} cycles: worker {} page {}",
            mib(*w),
            mib(*p)
        );
    }
    ensure!(
        worker1 - worker0 <= MAX_GROWTH,
        "worker memory grew by {}",
        mib(worker1 - worker0)
    );
    ensure!(
        page1 - page0 <= MAX_GROWTH,
        "page memory grew by {}",
        mib(page1 - page0)
    );
    Ok(())
}
