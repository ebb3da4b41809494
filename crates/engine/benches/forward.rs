//! Forward latency of the bundled model, f32 against each quantized scheme, for a short
//! (8-token) and a longer (64-token) input. Criterion measures each case; a closing table
//! times the schemes interleaved in one loop and prints their ratios, so that every ratio
//! comes from one run on one machine state.
//!
//! `cargo bench -p engine --bench forward` (model: SQUEEZE_MODEL or www/models/default).

// criterion_group! generates public functions without docs.
#![allow(missing_docs)]

use std::path::PathBuf;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use engine::{Classifier, Encoding, ModelFiles, Scheme, TokenizerFile};

/// "I love learning about AI!" is 8 tokens with [CLS] and [SEP].
const SHORT: &str = "I love learning about AI!";

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

/// A text of exactly `n` tokens, [CLS] and [SEP] included.
fn input_of(model: &Classifier, n: usize) -> Encoding {
    let mut text = String::from(SHORT);
    while model.encode(&text).unwrap().ids.len() < n {
        text.push_str(" learning");
    }
    let mut enc = model.encode(&text).unwrap();
    enc.ids.truncate(n - 1);
    enc.ids
        .push(*model.encode(SHORT).unwrap().ids.last().unwrap());
    enc
}

fn bench(c: &mut Criterion) {
    let f32_model = load();
    let models: Vec<(Scheme, Classifier)> = Scheme::ALL
        .iter()
        .map(|&s| (s, f32_model.quantize(s).unwrap()))
        .collect();
    let inputs: Vec<(usize, Encoding)> = [8, 64]
        .iter()
        .map(|&n| (n, input_of(&f32_model, n)))
        .collect();
    for (n, enc) in &inputs {
        let mut group = c.benchmark_group(format!("forward/{n}-tokens"));
        for (scheme, model) in &models {
            group.bench_function(scheme.name(), |b| b.iter(|| model.logits(enc).unwrap()));
        }
        group.finish();
    }
    ratio_table(&models, &inputs);
}

/// Median of interleaved runs per scheme and its ratio to f32.
fn ratio_table(models: &[(Scheme, Classifier)], inputs: &[(usize, Encoding)]) {
    const ROUNDS: usize = 50;
    println!(
        "\nratios in one run (median of {ROUNDS} interleaved forwards, model {}):",
        model_dir().display()
    );
    println!(
        "{:<8} {:<18} {:>10} {:>12}",
        "tokens", "scheme", "median ms", "f32 / scheme"
    );
    for (n, enc) in inputs {
        let mut times = vec![Vec::with_capacity(ROUNDS); models.len()];
        for _ in 0..ROUNDS {
            for (i, (_, model)) in models.iter().enumerate() {
                let start = Instant::now();
                model.logits(enc).unwrap();
                times[i].push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
        let medians: Vec<f64> = times
            .iter_mut()
            .map(|t| {
                t.sort_by(f64::total_cmp);
                t[t.len() / 2]
            })
            .collect();
        for ((scheme, _), m) in models.iter().zip(&medians) {
            println!(
                "{n:<8} {:<18} {m:>10.3} {:>11.2}x",
                scheme.name(),
                medians[0] / m
            );
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
