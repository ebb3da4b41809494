//! Forward latency in a real browser, f32 against every scheme, for an 8-token and a
//! 64-token input, timed in the page with `performance.now()` and interleaved round by
//! round (engine::bench) so that the ratios come from one run.
//!
//! `cargo test --release --target wasm32-unknown-unknown -p engine --test wasm_bench -- --nocapture`
//! times the bundled student. `cargo xtask bench` also runs it on the teacher: it serves
//! that model's files over HTTP and builds this test with SQUEEZE_BENCH_URL (read at
//! compile time; files are fetched at run time) and SQUEEZE_BENCH_NAME. The test asserts
//! that every scheme gives finite logits; its product is the printed `bench-row` lines.
//! It also prints the first three forwards of each scheme right after its model is built
//! (what a learner's first click waits for), next to the 8-token median.
//! A second test prints where the time goes: each Linear alone, f32 against int8-dynamic
//! (engine::bench::layers), next to the whole forwards. [`ort`] times onnxruntime-web on
//! the same model in the same page, interleaved with squeeze.
#![cfg(target_arch = "wasm32")]

#[path = "wasm_bench/ort.rs"]
mod ort;

use engine::bench::{self, layers, median, Row};
use engine::{Classifier, ModelFiles, Scheme, TokenizerFile};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const CONFIG: &[u8] = include_bytes!("../../../www/models/default/config.json");
const TOKENIZER: &[u8] = include_bytes!("../../../www/models/default/tokenizer.json");
const WEIGHTS: &[u8] = include_bytes!("../../../www/models/default/model.safetensors");

/// Interleaved rounds per input length: 15, or SQUEEZE_BENCH_ROUNDS (read at compile
/// time) for steadier medians on a busy machine.
const ROUNDS: usize = match option_env!("SQUEEZE_BENCH_ROUNDS") {
    Some(n) => parse(n),
    None => 15,
};

/// A decimal number, at compile time.
const fn parse(s: &str) -> usize {
    let (b, mut i, mut n) = (s.as_bytes(), 0, 0);
    while i < b.len() {
        assert!(b[i].is_ascii_digit(), "SQUEEZE_BENCH_ROUNDS: digits only");
        n = 10 * n + (b[i] - b'0') as usize;
        i += 1;
    }
    assert!(n > 0, "SQUEEZE_BENCH_ROUNDS: at least 1");
    n
}
/// Shortest sample: 20 ticks of the page's 0.1 ms clock.
const MIN_SAMPLE_MS: f64 = 2.0;
/// Forwards timed one by one right after a model is built: the learner's first clicks.
const FIRST_FORWARDS: usize = 3;
/// Forwards before the per-Linear table's first sample.
const WARM_UP_MS: f64 = 500.0;

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

/// Lets the page's event loop run: the test runner talks to the page over WebDriver, and
/// Chromium gives up on a renderer that stays busy for 30 s (the teacher's schemes do).
async fn breathe() {
    let set_timeout: js_sys::Function = global("setTimeout").dyn_into().expect("setTimeout");
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        set_timeout
            .call2(&js_sys::global(), &resolve, &0.into())
            .expect("setTimeout()");
    });
    JsFuture::from(promise).await.expect("a timer");
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
    let mut models: Vec<(Scheme, Classifier)> = Vec::new();
    // The first click: the first three forwards of each model right after it is built,
    // on the 8-token sentence (models built and timed in table order, so code shared with
    // an earlier scheme is already compiled).
    let first_enc = bench::input_of(&f32_model, 8).unwrap();
    let mut firsts = Vec::new();
    for &s in Scheme::ALL {
        let model = f32_model.quantize(s).unwrap();
        let times: Vec<f64> = (0..FIRST_FORWARDS)
            .map(|_| {
                let start = now_ms();
                model.logits(&first_enc).unwrap();
                now_ms() - start
            })
            .collect();
        firsts.push(times);
        models.push((s, model));
        breathe().await;
    }
    let mut rows = Vec::new();
    for n in [8, 64] {
        let enc = bench::input_of(&f32_model, n).unwrap();
        for (_, m) in &models {
            assert!(m.logits(&enc).unwrap().iter().all(|v| v.is_finite()));
            breathe().await;
        }
        // Rounds one at a time with a breath between; medians over all samples.
        let mut samples = vec![Vec::new(); models.len()];
        for _ in 0..ROUNDS {
            let one = bench::interleaved_medians(&models, &enc, 1, MIN_SAMPLE_MS, &now_ms).unwrap();
            for (all, t) in samples.iter_mut().zip(one) {
                all.push(t);
            }
            breathe().await;
        }
        let medians: Vec<f64> = samples.into_iter().map(median).collect();
        let flops = bench::forward_flops(&f32_model, n);
        rows.extend(Row::from_run("wasm", name, n, flops, &models, &medians));
    }
    console_log!("browser forward latency, {name} (median of {ROUNDS} interleaved rounds)");
    console_log!("{}", bench::markdown(&rows));
    let mut table = String::from(
        "| scheme | 1st forward ms | 2nd | 3rd | median (8 tokens) |\n|---|---:|---:|---:|---:|\n",
    );
    for ((scheme, _), times) in models.iter().zip(&firsts) {
        let median = rows
            .iter()
            .find(|r| r.tokens == 8 && r.scheme == scheme.name())
            .map_or(f64::NAN, |r| r.median_ms);
        table.push_str(&format!(
            "| {scheme} | {:.2} | {:.2} | {:.2} | {median:.3} |\n",
            times[0], times[1], times[2]
        ));
    }
    console_log!("first forwards after load, {name}, 8 tokens (the page's clock: 0.1 ms steps)");
    console_log!("{table}");
    for r in &rows {
        console_log!("{}", r.line());
    }
}

#[wasm_bindgen_test]
async fn browser_linear_latency_f32_vs_int8() {
    let name = option_env!("SQUEEZE_BENCH_NAME").unwrap_or("student");
    let f32_model = Classifier::load(&model_files().await).expect("model loads");
    let int8 = f32_model.quantize(Scheme::Int8Dynamic).unwrap();
    breathe().await;
    let models = [(Scheme::F32, f32_model), (Scheme::Int8Dynamic, int8)];
    // Half a second of forwards first, so V8 has optimised the code before the first sample.
    let warm = bench::input_of(&models[0].1, 64).unwrap();
    let start = now_ms();
    while now_ms() - start < WARM_UP_MS {
        for (_, m) in &models {
            m.logits(&warm).unwrap();
        }
    }
    breathe().await;
    for n in [8, 64] {
        let enc = bench::input_of(&models[0].1, n).unwrap();
        let forward =
            bench::interleaved_medians(&models, &enc, ROUNDS, MIN_SAMPLE_MS, &now_ms).unwrap();
        breathe().await;
        let times = layers::linear_medians(
            &models[0].1,
            &models[1].1,
            n,
            ROUNDS,
            MIN_SAMPLE_MS,
            &now_ms,
        )
        .unwrap();
        assert!(times.iter().all(|t| t.f32_ms > 0.0 && t.quantized_ms > 0.0));
        console_log!(
            "where the time goes, {name}, {n} tokens (wasm, median of {ROUNDS} interleaved rounds)"
        );
        console_log!(
            "{}",
            layers::markdown(&times, "int8-dynamic", Some([forward[0], forward[1]]))
        );
        breathe().await;
        let others =
            layers::other_medians(&models[0].1, n, ROUNDS, MIN_SAMPLE_MS, &now_ms).unwrap();
        for (what, count, ms) in &others {
            assert!(*ms > 0.0, "{what}: no time measured");
            console_log!("other-work\t{name}\t{n}\t{what}\t×{count}\t{ms:.3} ms per forward");
        }
        let sum: f64 = others.iter().map(|o| o.2).sum();
        console_log!("other-work\t{name}\t{n}\tall of it\t\t{sum:.3} ms per forward");
        breathe().await;
    }
}

/// Every Linear alone, f32 against each GGML scheme (the engine's kernel): the sum over
/// a forward's Linears, 8 and 64 tokens. Isolates the kernels from the rest of a forward.
#[wasm_bindgen_test]
async fn browser_linear_latency_f32_vs_ggml() {
    let name = option_env!("SQUEEZE_BENCH_NAME").unwrap_or("student");
    let f32_model = Classifier::load(&model_files().await).expect("model loads");
    let ggml = [
        Scheme::Q8_0,
        Scheme::Q5_0,
        Scheme::Q4_1,
        Scheme::Q4_0,
        Scheme::Q4K,
    ];
    let warm = bench::input_of(&f32_model, 64).unwrap();
    for n in [8, 64] {
        for s in ggml {
            let q = f32_model.quantize(s).unwrap();
            let start = now_ms();
            while now_ms() - start < WARM_UP_MS / 5.0 {
                f32_model.logits(&warm).unwrap();
                q.logits(&warm).unwrap();
            }
            breathe().await;
            let times =
                layers::linear_medians(&f32_model, &q, n, ROUNDS, MIN_SAMPLE_MS, &now_ms).unwrap();
            let f: f64 = times.iter().map(|t| t.f32_ms).sum();
            let g: f64 = times.iter().map(|t| t.quantized_ms).sum();
            console_log!(
                "ggml-linears\t{name}\t{n}\t{s}\tf32 {f:.3} ms\t{s} {g:.3} ms\t{:.2}x",
                f / g
            );
            breathe().await;
        }
    }
}

/// Every f32 Linear alone, candle's f32 matmul against the engine's f32 kernel (which the
/// f32 and f16 models use in the browser), 8 and 64 tokens: per layer and the sum.
#[wasm_bindgen_test]
async fn browser_linear_latency_f32_kernel_vs_candle() {
    let name = option_env!("SQUEEZE_BENCH_NAME").unwrap_or("student");
    let model = Classifier::load(&model_files().await).expect("model loads");
    let warm = bench::input_of(&model, 64).unwrap();
    for n in [8, 64] {
        let start = now_ms();
        while now_ms() - start < WARM_UP_MS {
            model.logits(&warm).unwrap();
        }
        breathe().await;
        let times =
            layers::f32_kernel_vs_candle(&model, n, ROUNDS, MIN_SAMPLE_MS, &now_ms).unwrap();
        for (layer, rows, candle, ours) in &times {
            console_log!(
                "f32-kernel-linear\t{name}\t{n}\t{layer}\t{rows} rows\tcandle {candle:.4} ms\tkernel {ours:.4} ms\t{:.2}x",
                candle / ours
            );
        }
        let c: f64 = times.iter().map(|t| t.2).sum();
        let k: f64 = times.iter().map(|t| t.3).sum();
        console_log!(
            "f32-kernel-linears\t{name}\t{n}\tcandle {c:.3} ms\tkernel {k:.3} ms\t{:.2}x",
            c / k
        );
        breathe().await;
    }
}
