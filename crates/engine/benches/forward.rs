//! Forward latency natively, f32 against each quantized scheme, for an 8-token and a
//! 64-token input. Criterion measures each case; a closing table times the schemes
//! interleaved (engine::bench) and prints their ratios, so that every ratio comes from
//! one run on one machine state. Its `bench-row` lines are what `cargo xtask bench` reads.
//!
//! `cargo bench -p engine --bench forward` (model: SQUEEZE_MODEL or www/models/default;
//! its label in the table: SQUEEZE_BENCH_NAME, default "student").

// criterion_group! generates public functions without docs.
#![allow(missing_docs)]
// Native only (criterion is a native dev-dependency; the browser bench is
// tests/wasm_bench.rs): for wasm32 this is an empty crate without a main, so that
// `cargo clippy --target wasm32-unknown-unknown --all-targets` passes.
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use engine::bench::{self, Row};
use engine::{Classifier, Encoding, ModelFiles, Scheme, TokenizerFile};

/// Interleaved rounds of the closing table.
const ROUNDS: usize = 31;

fn model_dir() -> PathBuf {
    std::env::var_os("SQUEEZE_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../www/models/default")
        })
}

fn load() -> Classifier {
    let dir = model_dir();
    let read = |f: &str| {
        std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{}/{f}: {e}", dir.display()))
    };
    Classifier::load(&ModelFiles {
        config: read("config.json"),
        tokenizer: TokenizerFile::Json(read("tokenizer.json")),
        weights: read("model.safetensors"),
    })
    .expect("model loads")
}

fn now_ms() -> f64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1e3
}

fn run(c: &mut Criterion) {
    let f32_model = load();
    let models: Vec<(Scheme, Classifier)> = Scheme::ALL
        .iter()
        .map(|&s| (s, f32_model.quantize(s).unwrap()))
        .collect();
    let inputs: Vec<(usize, Encoding)> = [8, 64]
        .iter()
        .map(|&n| (n, bench::input_of(&f32_model, n).unwrap()))
        .collect();
    for (n, enc) in &inputs {
        let mut group = c.benchmark_group(format!("forward/{n}-tokens"));
        for (scheme, model) in &models {
            group.bench_function(scheme.name(), |b| b.iter(|| model.logits(enc).unwrap()));
        }
        group.finish();
    }
    let name = std::env::var("SQUEEZE_BENCH_NAME").unwrap_or_else(|_| "student".into());
    println!(
        "\nratios in one run (median of {ROUNDS} interleaved rounds, model {}):",
        model_dir().display()
    );
    let mut rows = Vec::new();
    for (n, enc) in &inputs {
        let medians = bench::interleaved_medians(&models, enc, ROUNDS, 1.0, &now_ms).unwrap();
        let flops = bench::forward_flops(&f32_model, *n);
        rows.extend(Row::from_run("native", &name, *n, flops, &models, &medians));
    }
    print!("{}", bench::markdown(&rows));
    for r in &rows {
        println!("{}", r.line());
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(1));
    targets = run
}
criterion_main!(benches);
