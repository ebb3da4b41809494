//! Forward latency in a real browser: the bundled model, f32 against every scheme, for an
//! 8-token and a 64-token input, timed in the page with `performance.now()`. Each scheme
//! is timed in interleaved rounds so that the ratios come from one run.
//!
//! `cargo test --release --target wasm32-unknown-unknown -p engine --test wasm_bench -- --nocapture`
//! (what `cargo xtask bench` runs). It asserts only that every scheme produced finite
//! logits; its product is the printed table.
#![cfg(target_arch = "wasm32")]

use engine::{Classifier, Encoding, ModelFiles, Scheme, TokenizerFile};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const CONFIG: &[u8] = include_bytes!("../../../www/models/default/config.json");
const TOKENIZER: &[u8] = include_bytes!("../../../www/models/default/tokenizer.json");
const WEIGHTS: &[u8] = include_bytes!("../../../www/models/default/model.safetensors");

/// Timer resolution in a page that is not cross-origin isolated is 0.1 ms, so each
/// sample times a batch of forwards.
const BATCH: usize = 5;
const ROUNDS: usize = 15;

fn now_ms() -> f64 {
    let global = js_sys::global();
    let perf = js_sys::Reflect::get(&global, &"performance".into()).expect("performance");
    let now: js_sys::Function = js_sys::Reflect::get(&perf, &"now".into())
        .expect("performance.now")
        .dyn_into()
        .expect("a function");
    now.call0(&perf).expect("now()").as_f64().expect("a number")
}

fn input_of(model: &Classifier, n: usize) -> Encoding {
    let mut text = String::from("I love learning about AI!");
    while model.encode(&text).unwrap().ids.len() < n {
        text.push_str(" learning");
    }
    let mut enc = model.encode(&text).unwrap();
    let sep = *enc.ids.last().unwrap();
    enc.ids.truncate(n - 1);
    enc.ids.push(sep);
    enc
}

#[wasm_bindgen_test]
fn browser_forward_latency_per_scheme() {
    let f32_model = Classifier::load(&ModelFiles {
        config: CONFIG.to_vec(),
        tokenizer: TokenizerFile::Json(TOKENIZER.to_vec()),
        weights: WEIGHTS.to_vec(),
    })
    .expect("bundled model loads");
    let models: Vec<(Scheme, Classifier)> = Scheme::ALL
        .iter()
        .map(|&s| (s, f32_model.quantize(s).unwrap()))
        .collect();
    console_log!("browser forward latency (median of {ROUNDS} rounds of {BATCH} forwards; ratios from this run)");
    console_log!(
        "{:<8} {:<18} {:>10} {:>12}",
        "tokens",
        "scheme",
        "median ms",
        "f32 / scheme"
    );
    for n in [8, 64] {
        let enc = input_of(&f32_model, n);
        let mut times = vec![Vec::new(); models.len()];
        for (_, m) in &models {
            let logits = m.logits(&enc).unwrap();
            assert!(logits.iter().all(|v| v.is_finite()));
        }
        for _ in 0..ROUNDS {
            for (i, (_, m)) in models.iter().enumerate() {
                let start = now_ms();
                for _ in 0..BATCH {
                    m.logits(&enc).unwrap();
                }
                times[i].push((now_ms() - start) / BATCH as f64);
            }
        }
        let medians: Vec<f64> = times
            .iter_mut()
            .map(|t| {
                t.sort_by(f64::total_cmp);
                t[t.len() / 2]
            })
            .collect();
        for ((s, _), m) in models.iter().zip(&medians) {
            console_log!(
                "{n:<8} {:<18} {m:>10.3} {:>11.2}x",
                s.name(),
                medians[0] / m
            );
        }
    }
}
