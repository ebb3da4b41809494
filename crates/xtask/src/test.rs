//! `cargo xtask test`: everything CI checks, in order, stopping at the first
//! failure with one line naming the step and command, then a summary with the
//! time of each step. Never reads stdin, so it runs the same under CI=true.
//!
//! Steps: installs → fmt → clippy native → clippy wasm (web) → `cargo xtask distill
//! --smoke` (the distillation pipeline on the tiny fixture teacher) → native tests →
//! wasm tests in headless Chromium → `trunk build --release` into dist/ →
//! browser end-to-end tests against that dist/ (the e2e binaries the native
//! step built, run with SQUEEZE_DIST set).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::{cmd, disk, install, project_root, relaxed_worker, target_dir};

/// The engine's wasm test file; the wasm step is skipped (with a note) until it exists.
const ENGINE_WASM_TEST: &str = "crates/engine/tests/wasm.rs";

/// A step's work: `Ok(None)` passed, `Ok(Some(note))` skipped with a note.
type Action = Box<dyn Fn() -> Result<Option<String>>>;

/// How a step ended.
enum Outcome {
    Passed,
    Skipped(String),
    Failed(String),
}

struct Step {
    name: &'static str,
    time: Duration,
    outcome: Outcome,
}

/// Runs the job.
pub fn run() -> Result<()> {
    let root = project_root();
    let dist = root.join("dist");
    let plan: Vec<(&'static str, Action)> = vec![
        (
            "installs + cargo fetch",
            Box::new(|| {
                install::all(&install::Needs::everything())?;
                disk::report(&target_dir());
                Ok(None)
            }),
        ),
        (
            "fmt",
            Box::new(|| cargo(&["fmt", "--all", "--", "--check"])),
        ),
        (
            "clippy (native)",
            Box::new(|| {
                cargo(&[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ])
            }),
        ),
        (
            "clippy (wasm, web; and its threaded worker)",
            Box::new(|| {
                let wasm = ["--target", "wasm32-unknown-unknown"];
                let deny = ["--", "-D", "warnings"];
                cargo(&[&["clippy", "-p", "web"][..], &wasm, &deny].concat())?;
                // The relaxed-SIMD worker's engine (crates/xtask/src/relaxed_worker.rs).
                let feature = ["--features", relaxed_worker::FEATURE];
                cargo(&[&["clippy", "-p", "engine"][..], &wasm, &feature, &deny].concat())?;
                // The threaded worker's code compiles on stable too (it links only with
                // the nightly).
                let threads = ["--features", "threads,relaxed-simd"];
                cargo(&[&["clippy", "-p", "web"][..], &wasm, &threads, &deny].concat())
            }),
        ),
        ("distill --smoke (fixture teacher)", Box::new(distill_smoke)),
        ("native tests", Box::new(native_tests)),
        ("wasm tests (headless Chromium)", Box::new(wasm_tests)),
        (
            "trunk build --release",
            Box::new(|| {
                cmd::run(cmd::new("trunk").args(["build", "--release"]))?;
                Ok(None)
            }),
        ),
        (
            "browser end-to-end tests",
            Box::new(move || e2e_tests(&dist)),
        ),
    ];

    let total = Instant::now();
    let mut done: Vec<Step> = Vec::new();
    let mut failed = None;
    for (name, action) in &plan {
        println!("\nxtask test: ── {name} ──");
        let start = Instant::now();
        let outcome = match action() {
            Ok(None) => Outcome::Passed,
            Ok(Some(note)) => Outcome::Skipped(note),
            Err(e) => Outcome::Failed(format!("{e:#}")),
        };
        let is_failure = matches!(outcome, Outcome::Failed(_));
        done.push(Step {
            name,
            time: start.elapsed(),
            outcome,
        });
        if is_failure {
            failed = Some(*name);
            break;
        }
    }
    let not_run: Vec<&str> = plan.iter().skip(done.len()).map(|(n, _)| *n).collect();
    print_summary(&done, &not_run, total.elapsed());
    match failed {
        Some(step) => bail!("test FAILED at step `{step}` (see the summary above)"),
        None => {
            println!("xtask: all test steps passed");
            Ok(())
        }
    }
}

fn cargo(args: &[&str]) -> Result<Option<String>> {
    cmd::run(cmd::cargo().args(args))?;
    Ok(None)
}

/// Native tests of the whole workspace. SQUEEZE_DIST is removed so the browser
/// tests skip here; they run for real in the last step against a fresh build.
fn native_tests() -> Result<Option<String>> {
    cmd::run(
        cmd::cargo()
            .args(["test", "--workspace"])
            .env_remove("SQUEEZE_DIST"),
    )?;
    Ok(None)
}

/// `cargo xtask distill --smoke`, in a child process so that its CANDLE_NUM_THREADS
/// setting does not leak into the later steps.
fn distill_smoke() -> Result<Option<String>> {
    let exe = std::env::current_exe().context("cannot find the xtask executable")?;
    cmd::run(cmd::new(exe).args(["distill", "--smoke"]))?;
    Ok(None)
}

/// The engine's wasm tests, run by wasm-bindgen-test-runner in headless Chromium, once
/// as Trunk builds the worker (simd128) and once with the relaxed-SIMD kernel (the
/// worker the page picks where the browser has it).
fn wasm_tests() -> Result<Option<String>> {
    let root = project_root();
    if !root.join(ENGINE_WASM_TEST).is_file() {
        let note = format!("{ENGINE_WASM_TEST} does not exist yet");
        println!("xtask: NOTE: skipping the wasm tests: {note}");
        return Ok(Some(note));
    }
    // The runner adds headless/no-sandbox itself; these extra flags keep Chromium
    // from dialling out on a machine whose network is closed (SETUP-NOTES).
    let webdriver_json = root.join("target/xtask/webdriver.json");
    write_webdriver_json(&webdriver_json)?;
    let mut c = cmd::cargo();
    c.args([
        "test",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        "engine",
        "--test",
        "wasm",
    ])
    .env("CHROMEDRIVER", install::CHROMEDRIVER)
    .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", &webdriver_json);
    // The runner's default (20 s) is too short for model forwards on a busy 2-core box.
    if std::env::var_os("WASM_BINDGEN_TEST_TIMEOUT").is_none() {
        c.env("WASM_BINDGEN_TEST_TIMEOUT", "300");
    }
    cmd::run(&mut c)?;
    println!(
        "xtask: the same tests with the engine's relaxed-SIMD kernel (feature {})",
        relaxed_worker::FEATURE
    );
    cmd::run(c.args(["--features", relaxed_worker::FEATURE]))?;
    Ok(None)
}

/// Writes the WebDriver capabilities the wasm test runner passes to Chromium.
pub fn write_webdriver_json(path: &Path) -> Result<()> {
    let json = format!(
        r#"{{
  "goog:chromeOptions": {{
    "binary": "{}",
    "args": ["--disable-gpu", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", "--disable-quic"]
  }}
}}
"#,
        install::CHROMIUM
    );
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))
}

/// The browser tests, serving the dist/ the previous step built.
///
/// They run from the binaries the native step built: `cargo test -p e2e` would
/// resolve features for e2e alone, differently from `--workspace`, and rebuild
/// candle and the engine from scratch (~7 min on a fresh clone) for nothing.
/// So this asks the same `cargo test --workspace` for its test executables
/// (`--no-run`, already fresh) and runs those of the e2e package one by one.
fn e2e_tests(dist: &Path) -> Result<Option<String>> {
    if !dist.join("index.html").is_file() {
        bail!("{} has no index.html after the build", dist.display());
    }
    let e2e_dir = project_root().join("tests/e2e");
    let mut build = cmd::cargo();
    build.args([
        "test",
        "--workspace",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ]);
    let line = cmd::display(&build);
    println!("$ {line}");
    let out = build
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot start `{line}`"))?;
    if !out.status.success() {
        bail!("`{line}` failed ({})", out.status);
    }
    let manifest = e2e_dir.join("Cargo.toml");
    let binaries = test_executables(&String::from_utf8_lossy(&out.stdout), &manifest);
    if binaries.is_empty() {
        bail!(
            "`{line}` listed no test executables for {}",
            manifest.display()
        );
    }
    for exe in binaries {
        // As `cargo test` does: run from the package root, one test at a time
        // (each test drives its own Chromium; two at once on 2 cores invites flakes).
        let mut c = cmd::new(&exe);
        c.current_dir(&e2e_dir)
            .arg("--test-threads=1")
            .env("SQUEEZE_DIST", dist);
        cmd::run(&mut c)?;
    }
    Ok(None)
}

/// Paths of the test executables that cargo's JSON messages list for the
/// package whose manifest is `manifest`.
fn test_executables(json_lines: &str, manifest: &Path) -> Vec<PathBuf> {
    json_lines
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .filter(|m| m["manifest_path"].as_str().map(Path::new) == Some(manifest))
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .collect()
}

fn print_summary(done: &[Step], not_run: &[&str], total: Duration) {
    println!("\nxtask test summary");
    for step in done {
        let (mark, note) = match &step.outcome {
            Outcome::Passed => ("ok", String::new()),
            Outcome::Skipped(why) => ("SKIPPED", format!("  ({why})")),
            Outcome::Failed(why) => ("FAILED", format!("\n      {why}")),
        };
        println!(
            "  {mark:<8} {:<32} {:>12}{note}",
            step.name,
            cmd::human(step.time)
        );
    }
    for name in not_run {
        println!("  {:<8} {name}", "not run");
    }
    println!("  {:<8} {:<32} {:>12}", "", "total", cmd::human(total));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_executables_of_one_package() {
        let lines = r#"{"reason":"compiler-artifact","manifest_path":"/r/tests/e2e/Cargo.toml","target":{"kind":["test"]},"executable":"/t/debug/deps/lab-1"}
{"reason":"compiler-artifact","manifest_path":"/r/tests/e2e/Cargo.toml","target":{"kind":["lib"]},"executable":null}
{"reason":"compiler-artifact","manifest_path":"/r/crates/engine/Cargo.toml","target":{"kind":["test"]},"executable":"/t/debug/deps/parity-2"}
{"reason":"build-finished","success":true}
not json
{"reason":"compiler-artifact","manifest_path":"/r/tests/e2e/Cargo.toml","target":{"kind":["lib"]},"executable":"/t/debug/deps/e2e-3"}"#;
        let found = test_executables(lines, Path::new("/r/tests/e2e/Cargo.toml"));
        assert_eq!(
            found,
            [
                PathBuf::from("/t/debug/deps/lab-1"),
                PathBuf::from("/t/debug/deps/e2e-3")
            ]
        );
    }
}
