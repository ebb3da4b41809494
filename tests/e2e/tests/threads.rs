//! All cores: the served site is cross-origin isolated, so the lab starts the threaded
//! engine worker (`dist/threads/`), which runs each forward on every core, and gives
//! the same logits, bit for bit, as the one-thread worker (`?threads=1`): the engine
//! splits a Linear layer's output columns, never a sum.
//!
//! `SQUEEZE_THREADS_BENCH=1` also times the teacher (`SQUEEZE_TEACHER` or
//! `.cache/distill/teacher`, served as a same-origin fake Hub) and the student on one
//! and on all threads, interleaved round by round with onnxruntime-web on the same
//! models' ONNX exports (`tests/e2e/ort-page/bench.html`; what `cargo xtask bench`
//! installs and exports, skipped with a note when missing), and prints the medians.

use anyhow::{ensure, Context, Result};
use e2e::lab::Lab;
use e2e::panels;
use e2e::{dist_or_skip, repo_root, ServeOptions, Site, TempDir};
use serde_json::Value;

/// A sentence of a few words (8 tokens with [CLS] and [SEP]).
const SHORT: &str = "a gentle and moving little film";

fn is_isolated(site: &Site) -> Result<bool> {
    let v = site
        .browser
        .execute("return self.crossOriginIsolated === true;", vec![])?;
    Ok(v == Value::Bool(true))
}

fn cores(site: &Site) -> Result<u64> {
    let v = site
        .browser
        .execute("return navigator.hardwareConcurrency;", vec![])?;
    v.as_u64().context("hardwareConcurrency is not a number")
}

/// The lab's `data-threads` once its worker said how many it runs on.
fn threads(lab: &Lab<'_>) -> Result<u64> {
    let raw = lab.browser.wait_for(
        "the thread count (data-testid=threads)",
        e2e::UI_TIMEOUT,
        |s| match s.try_find(&e2e::lab::testid("threads"))? {
            Some(el) => el.attr("data-threads"),
            None => Ok(None),
        },
    )?;
    raw.parse().with_context(|| format!("data-threads `{raw}`"))
}

/// Runs `text` and returns (f32 logits, int8 logits).
fn logits(lab: &Lab<'_>, text: &str) -> Result<(Vec<f32>, Vec<f32>)> {
    lab.set_text(text)?;
    lab.run()?;
    Ok((lab.values("logits-f32")?, lab.values("logits-int8")?))
}

/// Every scheme's logits in the scheme table (GGML formats included) of the lab opened
/// on `text`, plus `extra` in its query.
fn table(site: &Site, text: &str, extra: &str) -> Result<Vec<(String, Vec<f32>)>> {
    let query = format!("?text={}{extra}", e2e::encode_query_value(text));
    let lab = Lab::open(site, &query)?;
    panels::wait_for_table(&lab, 0)?;
    let mut rows = Vec::new();
    for scheme in panels::row_schemes(&lab)? {
        let el = panels::row(&lab, &scheme)?;
        let values = panels::floats(&el, "data-logits", &scheme)?;
        rows.push((scheme, values));
    }
    Ok(rows)
}

#[test]
fn lab_runs_on_every_core_with_the_one_thread_logits() -> Result<()> {
    let Some(site) = Site::start("lab_runs_on_every_core_with_the_one_thread_logits")? else {
        return Ok(());
    };
    let sentences = [
        SHORT.to_string(),
        "the plot is thin and the jokes are tired, but the two leads carry every scene \
         with warmth, wit and a timing that makes even the weakest lines land"
            .to_string(),
    ];
    let lab = Lab::open(&site, "")?;
    ensure!(
        is_isolated(&site)?,
        "the served lab is not cross-origin isolated"
    );
    let cores = cores(&site)?;
    let mut many = Vec::new();
    for text in &sentences {
        many.push(logits(&lab, text)?);
    }
    let n = threads(&lab)?;
    let note = lab.element("threads")?.text()?;
    println!("isolated; {cores} cores; the lab runs on {n} threads: {note}");
    ensure!(
        n == cores.clamp(1, 8),
        "the lab runs on {n} threads on {cores} cores"
    );
    // 64 tokens: every Linear is split, in every scheme of the table.
    let long = "word ".repeat(62);
    let many_table = table(&site, &long, "")?;

    let lab = Lab::open(&site, "?threads=1")?;
    for (text, threaded) in sentences.iter().zip(&many) {
        let one = logits(&lab, text)?;
        ensure!(
            &one == threaded,
            "`{text}`: one thread {one:?}, {n} threads {threaded:?}"
        );
    }
    ensure!(threads(&lab)? == 1, "?threads=1 still runs threaded");
    let note = lab.element("threads")?.text()?;
    ensure!(
        note.contains("threads=1"),
        "the note does not say why: {note}"
    );
    let one_table = table(&site, &long, "&threads=1")?;
    ensure!(
        one_table == many_table && many_table.len() >= 5,
        "scheme table, one thread {one_table:?}\n{n} threads {many_table:?}"
    );
    println!(
        "same logits on 1 and {n} threads for {} sentences and {} schemes at 64 tokens",
        sentences.len(),
        many_table.len()
    );
    Ok(())
}

#[test]
fn a_host_without_headers_is_isolated_by_the_service_worker_from_the_second_visit() -> Result<()> {
    let Some(dist) = dist_or_skip(
        "a_host_without_headers_is_isolated_by_the_service_worker_from_the_second_visit",
    ) else {
        return Ok(());
    };
    // A plain static host: no `_headers`, so no COOP/COEP from the server.
    let site = Site::serve(dist.clone(), ServeOptions::new(&dist))?;
    let lab = Lab::open(&site, "")?;
    ensure!(!is_isolated(&site)?, "isolated without the headers");
    logits(&lab, SHORT)?;
    ensure!(threads(&lab)? == 1, "threaded without isolation");
    let note = lab.element("threads")?.text()?;
    ensure!(note.contains("not cross-origin isolated"), "{note}");
    // Once the service worker controls the page, it answers with the site's headers.
    site.browser.wait_for(
        "the service worker to control the page",
        std::time::Duration::from_secs(60),
        |s| {
            let v = s.execute(
                "return !!(navigator.serviceWorker && navigator.serviceWorker.controller);",
                vec![],
            )?;
            Ok((v == Value::Bool(true)).then_some(()))
        },
    )?;
    let lab = Lab::open(&site, "")?;
    ensure!(
        is_isolated(&site)?,
        "the second visit is not isolated by the service worker"
    );
    logits(&lab, SHORT)?;
    let n = threads(&lab)?;
    ensure!(
        n == cores(&site)?.clamp(1, 8),
        "second visit on {n} threads"
    );
    println!("plain host: first visit 1 thread, second visit (service worker) {n} threads");
    Ok(())
}

/// One timing: (int8 ms, f32 ms) of the lab's speed card for `text`.
fn speed(lab: &Lab<'_>, text: &str) -> Result<(f64, f64)> {
    lab.set_text(text)?;
    lab.run()?;
    lab.wait_timed()?;
    Ok((
        lab.number("speed", "data-ms-int8")?,
        lab.number("speed", "data-ms-f32")?,
    ))
}

/// int8 and f32 milliseconds, one entry per page load.
type Samples = (Vec<f64>, Vec<f64>);

#[test]
fn threads_bench() -> Result<()> {
    if std::env::var_os("SQUEEZE_THREADS_BENCH").is_none() {
        println!("SKIPPED: set SQUEEZE_THREADS_BENCH=1 to time one and all threads");
        return Ok(());
    }
    let teacher = std::env::var_os("SQUEEZE_TEACHER")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".cache/distill/teacher"));
    let hub = TempDir::new("e2e-threads-hub")?;
    let folder = hub.path().join("local/teacher/resolve/main");
    std::fs::create_dir_all(&folder)?;
    let has_teacher = teacher.join("model.safetensors").is_file();
    if has_teacher {
        for name in ["config.json", "tokenizer.json", "model.safetensors"] {
            std::fs::copy(teacher.join(name), folder.join(name))?;
        }
    }
    let mut mounts = vec![("/fake-hub/".to_string(), hub.path().to_path_buf())];
    // The peer, onnxruntime-web, in the same browser on the same origin (so isolated too).
    let peer = ort_files();
    match &peer {
        Ok(m) => mounts.extend(m.iter().cloned()),
        Err(why) => println!("bench-note: onnxruntime-web skipped: {why}"),
    }
    let Some(site) = Site::start_with("threads_bench", mounts)? else {
        return Ok(());
    };
    let long = "word ".repeat(62);
    let texts = [("8", SHORT.to_string()), ("64", long)];
    let student = repo_root().join("www/models/default");
    let mut models = vec![("student", String::new(), student)];
    if has_teacher {
        models.push((
            "teacher",
            "&hub=/fake-hub&model=hub&id=local%2Fteacher".to_string(),
            teacher.clone(),
        ));
    }
    let rounds: usize = std::env::var("SQUEEZE_THREADS_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    // The one-thread relaxed build, the threaded build held to one thread (what the
    // build itself costs), and the threaded build on every core.
    let ways = [
        ("one-thread build", "threads=1"),
        ("threaded build, pool=1", "pool=1"),
        ("threaded build, all cores", "x=1"),
    ];
    let cores = cores(&site)?;
    let ort_ways = [
        ("onnxruntime-web, 1 thread", 1),
        ("onnxruntime-web, all cores", cores),
    ];
    for (model, _, _) in &models {
        if peer.is_ok() && !has_export(model) {
            println!("bench-note: onnxruntime-web skipped for the {model}: no .cache/onnx/{model}/ (`cargo xtask bench` writes it)");
        }
    }
    for (model, query, dir) in &models {
        // (way, tokens) → int8 ms, f32 ms per round.
        let mut times: std::collections::BTreeMap<(usize, &str), Samples> = Default::default();
        let ids: Vec<Vec<u32>> = texts
            .iter()
            .map(|(_, text)| token_ids(dir, text))
            .collect::<Result<_>>()?;
        for _ in 0..rounds {
            for (way, (name, q)) in ways.iter().enumerate() {
                let lab = Lab::open(&site, &format!("?{q}{query}"))?;
                lab_tokens(&lab, SHORT)?;
                let n = threads(&lab)?;
                for (tokens, text) in &texts {
                    let tokens_shown = lab_tokens(&lab, text)?;
                    let (int8, f32) = speed(&lab, text)?;
                    let e = times.entry((way, tokens)).or_default();
                    e.0.push(int8);
                    e.1.push(f32);
                    println!("{model} {name} ({n} thr) {tokens} ({tokens_shown}) tokens: int8 {int8:.2} ms, f32 {f32:.2} ms");
                }
            }
            if peer.is_err() || !has_export(model) {
                continue;
            }
            for (i, (name, n)) in ort_ways.iter().enumerate() {
                let rows = ort_times(&site, model, *n, &ids)?;
                for ((tokens, _), (int8, f32)) in texts.iter().zip(rows) {
                    let e = times.entry((ways.len() + i, tokens)).or_default();
                    e.0.push(int8);
                    e.1.push(f32);
                    println!("{model} {name} ({n} thr) {tokens} tokens: int8 {int8:.2} ms, f32 {f32:.2} ms");
                }
            }
        }
        let name = |way: usize| {
            ways.get(way)
                .map_or_else(|| ort_ways[way - ways.len()].0, |w| w.0)
        };
        for ((way, tokens), (int8, f32)) in &times {
            println!(
                "MEDIAN {model} {} {tokens} tokens: int8 {:.2} ms, f32 {:.2} ms ({} runs)",
                name(*way),
                e2e::median(int8.clone()),
                e2e::median(f32.clone()),
                int8.len()
            );
        }
    }
    Ok(())
}

/// Tokens the lab fed for `text` (after one run).
fn lab_tokens(lab: &Lab<'_>, text: &str) -> Result<u64> {
    lab.set_text(text)?;
    lab.run()?;
    Ok(lab.number("tokens", "data-count")? as u64)
}

/// ORT's dist/ folder and the ONNX exports, as the bench page's mounts, or why not.
fn ort_files() -> Result<Vec<(String, std::path::PathBuf)>> {
    let root = repo_root();
    let ort = root.join("tools/ort-bench/node_modules/onnxruntime-web/dist");
    let onnx = root.join(".cache/onnx");
    ensure!(
        ort.join("ort.wasm.min.mjs").is_file(),
        "no {} (`cargo xtask bench` installs it)",
        ort.display()
    );
    ensure!(
        onnx.join("student/model_int8.onnx").is_file(),
        "no ONNX exports in {} (`cargo xtask bench` writes them)",
        onnx.display()
    );
    Ok(vec![
        ("/ort/".to_string(), ort),
        ("/onnx/".to_string(), onnx),
        ("/ort-page/".to_string(), root.join("tests/e2e/ort-page")),
    ])
}

/// Whether `cargo xtask bench` exported `model` to ONNX (f32 and int8).
fn has_export(model: &str) -> bool {
    let dir = repo_root().join(".cache/onnx").join(model);
    dir.join("model.onnx").is_file() && dir.join("model_int8.onnx").is_file()
}

/// The token ids the lab feeds the model in `dir` for `text`.
fn token_ids(dir: &std::path::Path, text: &str) -> Result<Vec<u32>> {
    let json = std::fs::read(dir.join("tokenizer.json"))
        .with_context(|| format!("{}/tokenizer.json", dir.display()))?;
    let encoder = engine::tokenize::TextEncoder::from_json(&json, 512)?;
    Ok(encoder.encode(text)?.ids)
}

/// onnxruntime-web's median ms per input (int8, f32) on `threads` threads, from the bench
/// page (tests/e2e/ort-page/bench.html).
fn ort_times(site: &Site, model: &str, threads: u64, ids: &[Vec<u32>]) -> Result<Vec<(f64, f64)>> {
    let ids = serde_json::to_string(ids)?;
    let url = site.url(&format!(
        "/ort-page/bench.html?model={model}&threads={threads}&ids={}",
        e2e::encode_query_value(&ids)
    ));
    site.browser.goto(&url)?;
    let raw = site.browser.wait_for(
        "onnxruntime-web's times (body[data-result])",
        std::time::Duration::from_secs(300),
        |s| {
            let body = s.find("body")?;
            if let Some(error) = body.attr("data-error")? {
                return Err(e2e::Error(format!("the ORT page failed: {error}")));
            }
            body.attr("data-result")
        },
    )?;
    let result: Value = serde_json::from_str(&raw)?;
    ensure!(
        result["isolated"] == Value::Bool(true),
        "the ORT page is not isolated"
    );
    let ms = |file: &str, tokens: usize| {
        result["rows"]
            .as_array()
            .and_then(|rows| {
                rows.iter()
                    .find(|r| r["file"] == file && r["tokens"] == tokens)
            })
            .and_then(|r| r["ms"].as_f64())
            .with_context(|| format!("no {file} row for {tokens} tokens in {raw}"))
    };
    let input_lengths = serde_json::from_str::<Vec<Vec<u32>>>(&ids)?;
    input_lengths
        .iter()
        .map(|i| Ok((ms("model_int8.onnx", i.len())?, ms("model.onnx", i.len())?)))
        .collect()
}
