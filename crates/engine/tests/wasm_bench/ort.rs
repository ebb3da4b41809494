//! onnxruntime-web beside squeeze in the same page: the same model (exported by
//! tools/reference/export_onnx.py), f32 and dynamic int8, on the bench's 8- and 64-token
//! inputs (the same token ids), timed in interleaved rounds (squeeze f32, ORT f32, squeeze
//! int8, ORT int8, …) after a warm-up, with ORT on one thread and then on all the cores the
//! browser reports. squeeze runs on one thread throughout.
//!
//! `cargo xtask bench` serves ORT's dist/ folder and the ONNX files and builds this test
//! with SQUEEZE_ORT_URL and SQUEEZE_ONNX_URL (read at compile time); without them the test
//! only prints a note. ORT's threads need a cross-origin isolated page (SharedArrayBuffer):
//! wasm-bindgen-test's server sends COOP/COEP unless WASM_BINDGEN_TEST_NO_ORIGIN_ISOLATION
//! is set; when the page is not isolated the all-threads run is skipped with a note. The
//! product is the printed `bench-row`, `bench-first` and `bench-note` lines
//! (engine::bench::versus).

use engine::bench::versus::{self, First};
use engine::bench::{self, median, Row};
use engine::{Classifier, Encoding, Scheme};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::{console_log, wasm_bindgen_test};

use super::{breathe, model_files, now_ms, FIRST_FORWARDS, MIN_SAMPLE_MS, ROUNDS};

/// ORT's dist/ folder and the model's ONNX files, over HTTP (read at compile time).
const ORT_URL: Option<&str> = option_env!("SQUEEZE_ORT_URL");
const ONNX_URL: Option<&str> = option_env!("SQUEEZE_ONNX_URL");
/// The files export_onnx.py writes.
const F32_FILE: &str = "model.onnx";
const INT8_FILE: &str = "model_int8.onnx";
/// Forwards of every runtime, round robin, before each input length's timed rounds; the
/// first length after a copy of ORT is loaded gets [`FIRST_WARM_UP_MS`]: V8 starts a new
/// wasm module on its baseline compiler and optimises hot functions in the background,
/// and ORT's module is big (a run with one second of warm-up, under load 3–5, timed ORT's
/// 1-thread copy 2.6x slower than the 2-thread copy loaded after it, which shares its
/// compiled code, on the student's 8-token f32 forward, where threads gain 1.3x at most).
const WARM_UP_MS: f64 = 1000.0;
const FIRST_WARM_UP_MS: f64 = 4000.0;
/// Interleaved rounds per input length: twice the page's other tables, for steadier
/// medians on a shared machine.
const VERSUS_ROUNDS: usize = 2 * ROUNDS;
/// Largest |ORT f32 − squeeze f32| logit accepted: both run the same f32 model.
const F32_TOLERANCE: f32 = 1e-3;

#[wasm_bindgen(module = "/tests/wasm_bench/ort.js")]
extern "C" {
    #[wasm_bindgen(js_name = ortLoad, catch)]
    async fn ort_load(base: &str, threads: u32) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = ortSession, catch)]
    async fn ort_session(ort: &JsValue, url: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = ortFeeds)]
    fn ort_feeds(ort: &JsValue, ids: &[i64]) -> JsValue;
    #[wasm_bindgen(js_name = ortRun, catch)]
    async fn ort_run(session: &JsValue, feeds: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = ortRelease, catch)]
    async fn ort_release(session: &JsValue) -> Result<JsValue, JsValue>;
    fn isolated() -> bool;
    fn cores() -> u32;
}

/// One runtime's forward on one input.
enum Job<'a> {
    Squeeze(&'a Classifier, &'a Encoding),
    Ort(&'a JsValue, JsValue),
}

impl Job<'_> {
    async fn logits(&self) -> Vec<f32> {
        match self {
            Job::Squeeze(model, enc) => model.logits(enc).expect("squeeze forward"),
            Job::Ort(session, feeds) => {
                let out = ort_run(session, feeds)
                    .await
                    .unwrap_or_else(|e| panic!("ORT forward: {e:?}"));
                js_sys::Float32Array::from(out).to_vec()
            }
        }
    }

    /// One forward, its result dropped (ORT's stays in JS: nothing copied).
    async fn forward(&self) {
        match self {
            Job::Squeeze(model, enc) => drop(model.logits(enc).expect("squeeze forward")),
            Job::Ort(session, feeds) => drop(ort_run(session, feeds).await.expect("ORT forward")),
        }
    }

    /// The first forwards after load, one by one.
    async fn firsts(&self) -> Vec<f64> {
        let mut ms = Vec::new();
        for _ in 0..FIRST_FORWARDS {
            let start = now_ms();
            self.forward().await;
            ms.push(now_ms() - start);
        }
        ms
    }
}

fn note(text: &str) {
    console_log!("{}", versus::note_line(text));
}

/// Median ms per forward of each job: `warm_up_ms` of forwards, then [`VERSUS_ROUNDS`]
/// interleaved rounds of batches lasting at least `MIN_SAMPLE_MS` (batch size from two
/// forwards per job).
async fn interleaved(jobs: &[Job<'_>], warm_up_ms: f64) -> Vec<f64> {
    let start = now_ms();
    while now_ms() - start < warm_up_ms {
        for job in jobs {
            job.forward().await;
        }
    }
    breathe().await;
    let mut batches = Vec::new();
    for job in jobs {
        let start = now_ms();
        job.forward().await;
        job.forward().await;
        let once = ((now_ms() - start) / 2.0).max(1e-3);
        batches.push(((MIN_SAMPLE_MS / once).ceil() as usize).clamp(1, 200));
    }
    let mut times = vec![Vec::new(); jobs.len()];
    for _ in 0..VERSUS_ROUNDS {
        for ((job, all), &batch) in jobs.iter().zip(&mut times).zip(&batches) {
            let start = now_ms();
            for _ in 0..batch {
                job.forward().await;
            }
            all.push((now_ms() - start) / batch as f64);
        }
        breathe().await;
    }
    times.into_iter().map(median).collect()
}

/// The largest |a − b| of two logit vectors of the same length.
fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "logit counts differ");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[wasm_bindgen_test]
async fn browser_forward_latency_against_onnxruntime_web() {
    let name = option_env!("SQUEEZE_BENCH_NAME").unwrap_or("student");
    let (Some(ort_url), Some(onnx_url)) = (ORT_URL, ONNX_URL) else {
        note(&format!(
            "{name}: onnxruntime-web not timed (SQUEEZE_ORT_URL and SQUEEZE_ONNX_URL unset at build time; `cargo xtask bench` sets them)"
        ));
        return;
    };
    let sq_f32 = Classifier::load(&model_files().await).expect("model loads");
    let sq_int8 = sq_f32.quantize(Scheme::Int8Dynamic).unwrap();
    let encs = [8, 64].map(|n| bench::input_of(&sq_f32, n).unwrap());
    let mut firsts = Vec::new();
    for (scheme, model) in [(Scheme::F32, &sq_f32), (Scheme::Int8Dynamic, &sq_int8)] {
        firsts.push(First {
            place: versus::place(1),
            model: name.into(),
            scheme: scheme.name().into(),
            ms: Job::Squeeze(model, &encs[0]).firsts().await,
        });
    }
    breathe().await;

    let mut threads = vec![1];
    let all = cores();
    if !isolated() {
        note(&format!("{name}: onnxruntime-web on all threads skipped: the page is not cross-origin isolated (no SharedArrayBuffer)"));
    } else if all < 2 {
        note(&format!(
            "{name}: onnxruntime-web on all threads skipped: the browser reports {all} core"
        ));
    } else {
        threads.push(all);
    }
    let mut rows = Vec::new();
    for t in threads {
        let place = versus::place(t as usize);
        let ort = ort_load(ort_url, t)
            .await
            .unwrap_or_else(|e| panic!("onnxruntime-web from {ort_url}: {e:?}"));
        let mut sessions = Vec::new();
        for (scheme, file) in [(versus::ORT_F32, F32_FILE), (versus::ORT_INT8, INT8_FILE)] {
            let url = format!("{onnx_url}/{file}");
            let session = ort_session(&ort, &url)
                .await
                .unwrap_or_else(|e| panic!("ORT session on {url}: {e:?}"));
            let feeds = ort_feeds(&ort, &ids(&encs[0]));
            firsts.push(First {
                place: place.clone(),
                model: name.into(),
                scheme: scheme.into(),
                ms: Job::Ort(&session, feeds).firsts().await,
            });
            sessions.push(session);
            breathe().await;
        }
        for (i, enc) in encs.iter().enumerate() {
            let n = enc.ids.len();
            let feeds = ort_feeds(&ort, &ids(enc));
            let jobs = [
                Job::Squeeze(&sq_f32, enc),
                Job::Ort(&sessions[0], feeds.clone()),
                Job::Squeeze(&sq_int8, enc),
                Job::Ort(&sessions[1], feeds),
            ];
            let logits = [
                jobs[0].logits().await,
                jobs[1].logits().await,
                jobs[2].logits().await,
                jobs[3].logits().await,
            ];
            let f32_diff = max_diff(&logits[0], &logits[1]);
            assert!(
                f32_diff <= F32_TOLERANCE,
                "{name}, {n} tokens: ORT f32 logits {:?} vs squeeze {:?}: is the ONNX file stale?",
                logits[1],
                logits[0]
            );
            console_log!(
                "{name}, {n} tokens, ORT on {t} thread(s): max |logit diff| ORT vs squeeze f32 {f32_diff:.2e}, int8 {:.2e}",
                max_diff(&logits[2], &logits[3])
            );
            let warm_up = if i == 0 { FIRST_WARM_UP_MS } else { WARM_UP_MS };
            let ms = interleaved(&jobs, warm_up).await;
            let flops = bench::forward_flops(&sq_f32, n);
            let schemes = [
                (Scheme::F32.name(), ms[0], ms[0]),
                (versus::ORT_F32, ms[1], ms[1]),
                (Scheme::Int8Dynamic.name(), ms[2], ms[0]),
                (versus::ORT_INT8, ms[3], ms[1]),
            ];
            rows.extend(schemes.map(|(scheme, median_ms, f32_ms)| Row {
                place: place.clone(),
                model: name.into(),
                tokens: n,
                scheme: scheme.into(),
                median_ms,
                vs_f32: f32_ms / median_ms,
                flops,
            }));
            breathe().await;
        }
        for session in &sessions {
            ort_release(session).await.expect("ORT releases a session");
        }
    }
    console_log!("squeeze against onnxruntime-web, {name} (median of {VERSUS_ROUNDS} interleaved rounds; squeeze on 1 thread)");
    console_log!("{}", versus::markdown(&rows, &[]));
    console_log!("first forwards after load, {name}, 8 tokens");
    console_log!("{}", versus::firsts_markdown(&firsts, &rows));
    for r in &rows {
        console_log!("{}", r.line());
    }
    for f in &firsts {
        console_log!("{}", f.line());
    }
}

/// Token ids as ONNX wants them.
fn ids(enc: &Encoding) -> Vec<i64> {
    enc.ids.iter().map(|&id| i64::from(id)).collect()
}
