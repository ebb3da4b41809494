//! Forward latency in a real browser, f32 against every scheme, for an 8-token and a
//! 64-token input, timed in the page with `performance.now()` and interleaved round by
//! round (engine::bench) so that the ratios come from one run.
//!
//! `cargo test --release --target wasm32-unknown-unknown -p engine --test wasm_bench -- --nocapture`
//! times the bundled student. `cargo xtask bench` also runs it on the teacher: it serves
//! that model's files over HTTP and builds this test with SQUEEZE_BENCH_URL (read at
//! compile time; files are fetched at run time) and SQUEEZE_BENCH_NAME. The test asserts
//! that every scheme gives finite logits; its product is the printed `bench-row` lines.
#![cfg(target_arch = "wasm32")]

use engine::bench::{self, Row};
use engine::{Classifier, ModelFiles, Scheme, TokenizerFile};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const CONFIG: &[u8] = include_bytes!("../../../www/models/default/config.json");
const TOKENIZER: &[u8] = include_bytes!("../../../www/models/default/tokenizer.json");
const WEIGHTS: &[u8] = include_bytes!("../../../www/models/default/model.safetensors");

/// Interleaved rounds per input length.
const ROUNDS: usize = 15;
/// Shortest sample: 20 ticks of the page's 0.1 ms clock.
const MIN_SAMPLE_MS: f64 = 2.0;

fn global(name: &str) -> wasm_bindgen::JsValue {
    js_sys::Reflect::get(&js_sys::global(), &name.into()).expect(name)
}

fn now_ms() -> f64 {
    let perf = global("performance");
    let now: js_sys::Function = js_sys::Reflect::get(&perf, &"now".into())
        .expect("performance.now")
        .dyn_into()
        .expect("a function");
    now.call0(&perf).expect("now()").as_f64().expect("a number")
}

/// The bytes at `url`, with the browser's own fetch.
async fn fetch(url: &str) -> Vec<u8> {
    let fetch: js_sys::Function = global("fetch").dyn_into().expect("fetch");
    let promise: js_sys::Promise = fetch.call1(&js_sys::global(), &url.into()).unwrap().into();
    let response = JsFuture::from(promise)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e:?}"));
    let status = js_sys::Reflect::get(&response, &"status".into()).unwrap();
    assert_eq!(status.as_f64(), Some(200.0), "{url}: HTTP status");
    let buffer: js_sys::Function = js_sys::Reflect::get(&response, &"arrayBuffer".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    let promise: js_sys::Promise = buffer.call0(&response).unwrap().into();
    js_sys::Uint8Array::new(&JsFuture::from(promise).await.unwrap()).to_vec()
}

async fn model_files() -> ModelFiles {
    match option_env!("SQUEEZE_BENCH_URL") {
        Some(base) => ModelFiles {
            config: fetch(&format!("{base}/config.json")).await,
            tokenizer: TokenizerFile::Json(fetch(&format!("{base}/tokenizer.json")).await),
            weights: fetch(&format!("{base}/model.safetensors")).await,
        },
        None => ModelFiles {
            config: CONFIG.to_vec(),
            tokenizer: TokenizerFile::Json(TOKENIZER.to_vec()),
            weights: WEIGHTS.to_vec(),
        },
    }
}

#[wasm_bindgen_test]
async fn browser_forward_latency_per_scheme() {
    let name = option_env!("SQUEEZE_BENCH_NAME").unwrap_or("student");
    let f32_model = Classifier::load(&model_files().await).expect("model loads");
    let models: Vec<(Scheme, Classifier)> = Scheme::ALL
        .iter()
        .map(|&s| (s, f32_model.quantize(s).unwrap()))
        .collect();
    let mut rows = Vec::new();
    for n in [8, 64] {
        let enc = bench::input_of(&f32_model, n).unwrap();
        for (_, m) in &models {
            assert!(m.logits(&enc).unwrap().iter().all(|v| v.is_finite()));
        }
        let medians =
            bench::interleaved_medians(&models, &enc, ROUNDS, MIN_SAMPLE_MS, &now_ms).unwrap();
        let flops = bench::forward_flops(&f32_model, n);
        rows.extend(Row::from_run("wasm", name, n, flops, &models, &medians));
    }
    console_log!("browser forward latency, {name} (median of {ROUNDS} interleaved rounds)");
    console_log!("{}", bench::markdown(&rows));
    for r in &rows {
        console_log!("{}", r.line());
    }
}
