//! `cargo xtask bench`: forward latency of every scheme, natively (criterion, then an
//! interleaved ratio table) and in headless Chromium, on the bundled student and, when its
//! files are present, the teacher; 8- and 64-token inputs. Prints one Markdown table
//! (median ms, tokens/s, GFLOP/s, f32 / scheme from the same run) and writes it to
//! target/xtask/bench.md, and the raw rows to target/xtask/bench-rows.tsv. The browser
//! step also prints, per model, where the time goes: every Linear alone, f32 against
//! int8-dynamic, next to the whole forward (engine::bench::layers).
//!
//! The peer: in the same Chromium page, onnxruntime-web runs the same model (ONNX f32 and
//! ONNX Runtime's dynamic int8) interleaved with squeeze's f32 and int8-dynamic, ORT on one
//! thread and on all cores ([`peer`] installs it and exports the ONNX files, or says what
//! it skips); a side-by-side section of the table compares them (engine::bench::versus).
//!
//! squeeze runs on one thread (natively RAYON_NUM_THREADS=1), as the page does.
//!
//! `--relaxed` builds the browser pages with the engine's relaxed-SIMD int8 kernel (the
//! worker Chromium gets, crates/xtask/src/relaxed_worker.rs) and writes `bench-relaxed.md`
//! (and `bench-relaxed-rows.tsv`) instead; the native rows are the same code either way.
//!
//! The teacher is SQUEEZE_TEACHER or .cache/distill/teacher (a DistilBERT-layout dir, as
//! `cargo xtask distill` leaves it). The browser cannot read files, so the model's files,
//! ORT's and the ONNX files are served over HTTP from a thread here, with CORS and
//! Cross-Origin-Resource-Policy headers: the test page is cross-origin isolated (COEP).

mod peer;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{bail, Context, Result};
use engine::bench::versus::{self, First};
use engine::bench::{markdown, Row};
use site_server::StaticServer;

use crate::{cmd, install, project_root, test};

/// What a bench command printed for the table.
#[derive(Default)]
struct Printed {
    rows: Vec<Row>,
    firsts: Vec<First>,
    notes: Vec<String>,
}

impl Printed {
    fn extend(&mut self, other: Printed) {
        self.rows.extend(other.rows);
        self.firsts.extend(other.firsts);
        self.notes.extend(other.notes);
    }

    /// A note of the bench itself, printed now and again under the table.
    fn note(&mut self, text: String) {
        println!("xtask: NOTE: {text}");
        self.notes.push(text);
    }
}

/// Runs the job.
pub fn run(args: &[String]) -> Result<()> {
    let relaxed = match args {
        [] => false,
        [flag] if flag == "--relaxed" => true,
        [a, ..] => bail!("bench takes only --relaxed (got `{a}`)"),
    };
    let root = project_root();
    let mut models = vec![("student", root.join("www/models/default"))];
    let teacher = std::env::var_os("SQUEEZE_TEACHER")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".cache/distill/teacher"));
    let mut out = Printed::default();
    if teacher.join("model.safetensors").is_file() {
        models.push(("teacher", teacher));
    } else {
        out.note(format!(
            "no teacher at {} (set SQUEEZE_TEACHER or run `cargo xtask distill`); student only",
            teacher.display()
        ));
    }
    let load_before = load_average();
    for (name, dir) in &models {
        out.rows.extend(native(name, dir)?);
    }
    let ort = peer::ort_dist();
    let mut loads = Vec::new();
    for (name, dir) in &models {
        let ready = match &ort {
            Ok(dist) => peer::onnx_dir(name, dir).map(|onnx| (dist.as_path(), onnx)),
            Err(why) => Err(why.clone()),
        };
        let peer = ready
            .map_err(|why| out.note(format!("{name}: onnxruntime-web skipped: {why}")))
            .ok();
        out.extend(browser(name, dir, peer, relaxed)?);
        loads.push((name.to_string(), load_average()));
    }
    let load_after = load_average();
    let rows = &out.rows;
    let kernel = if relaxed {
        "browser int8 kernel: relaxed SIMD (the relaxed/ worker)"
    } else {
        "browser int8 kernel: simd128 (Trunk's worker)"
    };
    let mut table = format!(
        "load average (1 min) before: {load_before}, after: {load_after}; {kernel}\n\n{}\n{}",
        markdown(rows),
        summary(rows)
    );
    if rows.iter().any(|r| versus::threads_of(&r.place).is_some()) {
        table.push_str(&format!(
            "\nsqueeze against onnxruntime-web (same page, interleaved rounds; median ms; load average when each model's page ended):\n\n{}",
            versus::markdown(rows, &loads)
        ));
    } else {
        table.push_str("\nsqueeze against onnxruntime-web: not timed (see the notes)\n");
    }
    if !out.firsts.is_empty() {
        table.push_str(&format!(
            "\nfirst forwards after load (8 tokens, ms):\n\n{}",
            versus::firsts_markdown(&out.firsts, rows)
        ));
    }
    for n in &out.notes {
        table.push_str(&format!("\nnote: {n}\n"));
    }
    println!("\n{table}");
    let stem = if relaxed { "bench-relaxed" } else { "bench" };
    let out_path = root.join(format!("target/xtask/{stem}.md"));
    std::fs::create_dir_all(out_path.parent().expect("a parent"))?;
    std::fs::write(&out_path, &table)
        .with_context(|| format!("cannot write {}", out_path.display()))?;
    let raw: String = rows.iter().map(|r| r.line() + "\n").collect();
    let raw_path = root.join(format!("target/xtask/{stem}-rows.tsv"));
    std::fs::write(&raw_path, raw)
        .with_context(|| format!("cannot write {}", raw_path.display()))?;
    println!(
        "xtask: table written to {}, rows to {} (tools/reference/time_pytorch.py --ours reads them)",
        out_path.display(),
        raw_path.display()
    );
    Ok(())
}

/// The native criterion bench on one model; its closing table's rows.
fn native(name: &str, dir: &Path) -> Result<Vec<Row>> {
    let mut c = cmd::cargo();
    c.args(["bench", "-p", "engine", "--bench", "forward"])
        // One thread, like the browser and the PyTorch comparison: candle's f32 and GGML
        // matmuls otherwise spread over rayon threads, and on a shared 2-core machine those
        // threads wait on each other (20 ms for an 8-token f32 forward that takes 1 ms).
        .env("RAYON_NUM_THREADS", "1")
        .env("SQUEEZE_MODEL", dir)
        .env("SQUEEZE_BENCH_NAME", name);
    Ok(rows_of(&mut c, "native", name)?.rows)
}

/// The browser bench on one model: the bundled student is compiled in, any other model is
/// served from `dir`; with `peer` (ORT's dist/ folder, the model's ONNX folder) the page
/// also times onnxruntime-web; `relaxed` builds it with the relaxed-SIMD int8 kernel.
fn browser(
    name: &str,
    dir: &Path,
    peer: Option<(&Path, PathBuf)>,
    relaxed: bool,
) -> Result<Printed> {
    let webdriver_json = project_root().join("target/xtask/webdriver.json");
    test::write_webdriver_json(&webdriver_json)?;
    let mut c = cmd::cargo();
    c.args([
        "test",
        "--release",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        "engine",
        "--test",
        "wasm_bench",
    ]);
    if relaxed {
        c.args(["--features", crate::relaxed_worker::FEATURE]);
    }
    c.args(["--", "--nocapture"])
        .env("CHROMEDRIVER", install::CHROMEDRIVER)
        .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", &webdriver_json)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "1800")
        .env("SQUEEZE_BENCH_NAME", name);
    let mut mounts = Vec::new();
    if let Some((dist, onnx)) = &peer {
        mounts.push(("/ort/".to_string(), dist.to_path_buf()));
        mounts.push(("/onnx/".to_string(), onnx.clone()));
    }
    // The page is cross-origin isolated (wasm-bindgen-test sends COOP/COEP): what it loads
    // from this other origin needs CORS (fetch, module imports) or CORP.
    let headers = vec![
        ("Access-Control-Allow-Origin".to_string(), "*".to_string()),
        (
            "Cross-Origin-Resource-Policy".to_string(),
            "cross-origin".to_string(),
        ),
    ];
    let server = StaticServer::start_with(dir, mounts, headers)
        .with_context(|| format!("cannot serve {}", dir.display()))?;
    let base = format!("http://{}", server.addr());
    if name == "student" {
        c.env_remove("SQUEEZE_BENCH_URL");
    } else {
        c.env("SQUEEZE_BENCH_URL", &base);
    }
    if peer.is_some() {
        c.env("SQUEEZE_ORT_URL", format!("{base}/ort"))
            .env("SQUEEZE_ONNX_URL", format!("{base}/onnx"));
    } else {
        c.env_remove("SQUEEZE_ORT_URL")
            .env_remove("SQUEEZE_ONNX_URL");
    }
    let printed = rows_of(&mut c, "wasm", name);
    drop(server);
    printed
}

/// Runs `c`, echoing its output, and returns the rows, first forwards and notes it printed.
fn rows_of(c: &mut std::process::Command, place: &str, name: &str) -> Result<Printed> {
    let line = cmd::display(c);
    println!("$ {line}");
    let out = c
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot start `{line}`"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    if !out.status.success() {
        bail!("`{line}` failed ({})", out.status);
    }
    let printed = Printed {
        rows: stdout.lines().filter_map(Row::parse).collect(),
        firsts: stdout.lines().filter_map(First::parse).collect(),
        notes: stdout.lines().filter_map(versus::parse_note).collect(),
    };
    if printed.rows.is_empty() {
        bail!("`{line}` printed no bench rows for {place}/{name}");
    }
    Ok(printed)
}

/// The 1-minute load average, as the kernel reports it.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// The figures the issue asks about: int8 vs f32 in each place, and wasm vs native.
fn summary(rows: &[Row]) -> String {
    let find = |place: &str, model: &str, tokens: usize, scheme: &str| {
        rows.iter().find(|r| {
            r.place == place && r.model == model && r.tokens == tokens && r.scheme == scheme
        })
    };
    let mut out = String::from(
        "| model | tokens | wasm f32 / int8-dynamic (same run) | native f32 / int8-dynamic (same run) | wasm / native int8 (two runs) |\n\
         |---|---:|---:|---:|---:|\n",
    );
    let mut seen = Vec::new();
    for r in rows {
        let key = (r.model.clone(), r.tokens);
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let ratio = |place: &str| {
            find(place, &r.model, r.tokens, "int8-dynamic")
                .map_or("—".into(), |x| format!("{:.2}x", x.vs_f32))
        };
        let cross = match (
            find("wasm", &r.model, r.tokens, "int8-dynamic"),
            find("native", &r.model, r.tokens, "int8-dynamic"),
        ) {
            (Some(w), Some(n)) => format!("{:.2}x", w.median_ms / n.median_ms),
            _ => "—".into(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {cross} |\n",
            r.model,
            r.tokens,
            ratio("wasm"),
            ratio("native")
        ));
    }
    out
}
