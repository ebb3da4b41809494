//! How much a second thread gives one forward, second by second, natively: the same
//! int8-dynamic 64-token forward on a pool of one thread and on a pool of two (a
//! `parallel::one_forward` team), interleaved for a minute, summarised per two-second
//! window. It tells whether the machine gives two full cores now and for how long; the
//! browser's `threads_bench` measures the same engine with the same team on the same
//! cores, so a page that ran in a slow window shows it there too. As a control, the pool
//! of two also runs two sentences at once, one per thread (`parallel::map`, no team,
//! nothing shared but the weights): if that slows in the same windows, the cause is
//! below the team.
//!
//! Runs only with `SQUEEZE_SCALING_BENCH=1` (a minute of two busy cores is no test):
//! `SQUEEZE_SCALING_BENCH=1 cargo test --release -p engine --test two_threads_over_time -- --nocapture`.
//! The model is the teacher (`SQUEEZE_TEACHER`, else `.cache/distill/teacher`, written by
//! `cargo xtask bench`) when present, else the bundled student; `SQUEEZE_SCALING_SECS`
//! sets the length (60 s).
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};
use std::time::Instant;

use engine::bench::median;
use engine::{Classifier, ModelFiles, Scheme, TokenizerFile};

/// Forwards timed back to back for one sample on each pool.
const FORWARDS: u32 = 5;

/// Seconds summarised per line.
const WINDOW_SECS: f64 = 2.0;

fn load(dir: &Path) -> Classifier {
    let read = |f: &str| {
        std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(f).display()))
    };
    Classifier::load(&ModelFiles {
        config: read("config.json"),
        tokenizer: TokenizerFile::Json(read("tokenizer.json")),
        weights: read("model.safetensors"),
    })
    .expect("the model loads")
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
}

/// The 10th, 50th and 90th percentiles of `xs` (not empty).
fn percentiles(mut xs: Vec<f64>) -> [f64; 3] {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    [xs[n / 10], xs[n / 2], xs[n * 9 / 10]]
}

#[test]
fn a_second_thread_over_a_minute() {
    if std::env::var_os("SQUEEZE_SCALING_BENCH").is_none() {
        println!("SKIPPED: set SQUEEZE_SCALING_BENCH=1 to time one and two threads for a minute");
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let teacher = std::env::var_os("SQUEEZE_TEACHER")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".cache/distill/teacher"));
    let (name, dir) = if teacher.join("model.safetensors").is_file() {
        ("teacher", teacher)
    } else {
        ("student", root.join("www/models/default"))
    };
    let secs: f64 = std::env::var("SQUEEZE_SCALING_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60.0);
    let model = load(&dir).quantize(Scheme::Int8Dynamic).expect("quantizes");
    let enc = model.encode(&"word ".repeat(62)).expect("encodes");
    let (one, two) = (pool(1), pool(2));
    let time = |p: &rayon::ThreadPool| {
        let start = Instant::now();
        for _ in 0..FORWARDS {
            p.install(|| model.logits(&enc)).expect("forward");
        }
        start.elapsed().as_secs_f64() * 1e3 / f64::from(FORWARDS)
    };
    println!(
        "{name}, int8-dynamic, {} tokens, {FORWARDS} forwards a sample, medians per {WINDOW_SECS} s:",
        enc.ids.len()
    );
    // Two sentences at once on the pool of two: ms per sentence.
    let pair = [enc.clone(), enc.clone()];
    let batch = || {
        let start = Instant::now();
        for _ in 0..FORWARDS {
            two.install(|| engine::parallel::map(&pair, |e| model.logits(e).map(drop)))
                .into_iter()
                .collect::<engine::Result<Vec<()>>>()
                .expect("forwards");
        }
        start.elapsed().as_secs_f64() * 1e3 / f64::from(2 * FORWARDS)
    };
    // Each sample: ms per forward on one thread, on two, and per sentence two at once.
    let start = Instant::now();
    let mut samples: Vec<[f64; 3]> = Vec::new();
    let (mut window_start, mut window_end) = (0, WINDOW_SECS);
    while start.elapsed().as_secs_f64() < secs {
        samples.push([time(&one), time(&two), batch()]);
        if start.elapsed().as_secs_f64() >= window_end {
            let window = &samples[window_start..];
            let [a, b, c] = std::array::from_fn(|i| median(window.iter().map(|s| s[i]).collect()));
            println!(
                "{window_end:5.0} s: 1 thread {a:6.2} ms, 2 threads {b:6.2} ms, {:.2}x; two sentences at once {c:6.2} ms each, {:.2}x",
                a / b,
                a / c
            );
            (window_start, window_end) = (samples.len(), window_end + WINDOW_SECS);
        }
    }
    let n = samples.len();
    assert!(n > 0, "no sample in {secs} s");
    let team: Vec<f64> = samples.iter().map(|[a, b, _]| a / b).collect();
    let pair: Vec<f64> = samples.iter().map(|[a, _, c]| a / c).collect();
    let slow = team.iter().filter(|r| **r < 1.5).count();
    let [p10, p50, p90] = percentiles(pair);
    println!(
        "SCALING {name} two sentences at once: p10 {p10:.2}x, median {p50:.2}x, p90 {p90:.2}x"
    );
    let [p10, p50, p90] = percentiles(team);
    println!(
        "SCALING {name}: {n} samples, 2 threads vs 1: p10 {p10:.2}x, median {p50:.2}x, p90 {p90:.2}x; under 1.5x: {slow} ({:.0}%)",
        100.0 * slow as f64 / n as f64
    );
}
