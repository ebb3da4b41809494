//! `cargo xtask bench`: forward latency of every scheme, natively (criterion, then an
//! interleaved ratio table) and in headless Chromium, on the bundled student and, when its
//! files are present, the teacher; 8- and 64-token inputs. Prints one Markdown table
//! (median ms, tokens/s, GFLOP/s, f32 / scheme from the same run) and writes it to
//! target/xtask/bench.md, and the raw rows to target/xtask/bench-rows.tsv. The browser
//! step also prints, per model, where the time goes: every Linear alone, f32 against
//! int8-dynamic, next to the whole forward (engine::bench::layers).
//!
//! Everything runs on one thread (natively RAYON_NUM_THREADS=1), as the page does.
//!
//! The teacher is SQUEEZE_TEACHER or .cache/distill/teacher (a DistilBERT-layout dir, as
//! `cargo xtask distill` leaves it). The browser cannot read files, so its files are served
//! over HTTP from a thread here, with a CORS header for the test page's origin.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{bail, Context, Result};
use engine::bench::{markdown, Row};

use crate::{cmd, install, project_root, test};

/// Runs the job.
pub fn run(args: &[String]) -> Result<()> {
    if let Some(a) = args.first() {
        bail!("bench takes no arguments (got `{a}`)");
    }
    let root = project_root();
    let mut models = vec![("student", root.join("www/models/default"))];
    let teacher = std::env::var_os("SQUEEZE_TEACHER")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".cache/distill/teacher"));
    if teacher.join("model.safetensors").is_file() {
        models.push(("teacher", teacher));
    } else {
        println!(
            "xtask: NOTE: no teacher at {} (set SQUEEZE_TEACHER or run `cargo xtask distill`); student only",
            teacher.display()
        );
    }
    let load_before = load_average();
    let mut rows = Vec::new();
    for (name, dir) in &models {
        rows.extend(native(name, dir)?);
    }
    for (name, dir) in &models {
        rows.extend(browser(name, dir)?);
    }
    let load_after = load_average();
    let table = format!(
        "load average (1 min) before: {load_before}, after: {load_after}\n\n{}\n{}",
        markdown(&rows),
        summary(&rows)
    );
    println!("\n{table}");
    let out = root.join("target/xtask/bench.md");
    std::fs::create_dir_all(out.parent().expect("a parent"))?;
    std::fs::write(&out, &table).with_context(|| format!("cannot write {}", out.display()))?;
    let raw: String = rows.iter().map(|r| r.line() + "\n").collect();
    let raw_path = root.join("target/xtask/bench-rows.tsv");
    std::fs::write(&raw_path, raw)
        .with_context(|| format!("cannot write {}", raw_path.display()))?;
    println!(
        "xtask: table written to {}, rows to {} (tools/reference/time_pytorch.py --ours reads them)",
        out.display(),
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
    rows_of(&mut c, "native", name)
}

/// The browser bench on one model: the bundled student is compiled in, any other model is
/// served from `dir`.
fn browser(name: &str, dir: &Path) -> Result<Vec<Row>> {
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
        "--",
        "--nocapture",
    ])
    .env("CHROMEDRIVER", install::CHROMEDRIVER)
    .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", &webdriver_json)
    .env("WASM_BINDGEN_TEST_TIMEOUT", "1800")
    .env("SQUEEZE_BENCH_NAME", name);
    if name == "student" {
        c.env_remove("SQUEEZE_BENCH_URL");
        return rows_of(&mut c, "wasm", name);
    }
    let url = serve(dir)?;
    c.env("SQUEEZE_BENCH_URL", url);
    rows_of(&mut c, "wasm", name)
}

/// Runs `c`, echoing its output, and returns the rows it printed.
fn rows_of(c: &mut std::process::Command, place: &str, name: &str) -> Result<Vec<Row>> {
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
    let rows: Vec<Row> = stdout.lines().filter_map(Row::parse).collect();
    if rows.is_empty() {
        bail!("`{line}` printed no bench rows for {place}/{name}");
    }
    Ok(rows)
}

/// Serves the files of `dir` on an ephemeral localhost port until the process ends;
/// returns the base URL.
fn serve(dir: &Path) -> Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot bind a local port")?;
    let url = format!("http://{}", listener.local_addr()?);
    let dir = dir.to_path_buf();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            // One request per connection; a failed one only fails that fetch.
            let _ = answer(stream, &dir);
        }
    });
    Ok(url)
}

fn answer(mut stream: TcpStream, dir: &Path) -> std::io::Result<()> {
    let mut request = String::new();
    BufReader::new(&stream).read_line(&mut request)?;
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let name = path.trim_start_matches('/');
    // Only plain file names of the model dir: no traversal.
    let body = if !name.is_empty() && !name.contains(['/', '\\']) && !name.starts_with('.') {
        std::fs::read(dir.join(name)).ok()
    } else {
        None
    };
    let (status, body) = match body {
        Some(b) => ("200 OK", b),
        None => ("404 Not Found", b"not found".to_vec()),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n\
         Access-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body)
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
