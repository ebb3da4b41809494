//! squeeze's own tooling, run as `cargo xtask <job>` (alias in `.cargo/config.toml`,
//! the cargo-xtask convention): one module per job, few dependencies (anyhow; the engine for `distill`).
//!
//! - `serve`: install what is missing, build the site in release mode and serve it
//!   on http://127.0.0.1:8080/ (offline), rebuilding on changes.
//! - `dist`: a release build for any static host (public URL, 404.html, _headers, sw.js).
//! - `postbuild`: Trunk's post_build hook (404.html, .nojekyll, the threaded worker in
//!   threads/, the service worker).
//! - `test`: everything CI checks, in order, stopping at the first failure.
//! - `install`: only the installs (wasm target, wasm-bindgen-cli, trunk, Chromium).
//! - `bench`: forward latency of every scheme, native and in Chromium, and onnxruntime-web
//!   beside squeeze in the same page (docs/BENCHMARKS.md).
//! - `distill`: make the bundled model (crates/engine/src/distill, MODEL_CARD.md).
//! - `fuzz`: run the cargo-fuzz targets under fuzz/ and print executions per target.

mod bench;
mod cmd;
mod disk;
mod dist;
mod distill;
mod fuzz;
mod install;
mod postbuild;
mod relaxed_worker;
mod serve;
mod test;
mod threads;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <job>

jobs:
  serve     [--port N] [--address A]: install what is missing, build the site
            (release) into dist/ and serve it on http://127.0.0.1:8080/ offline,
            with the headers of its _headers file; rebuilds when a source changes;
            Ctrl-C stops it
  dist      [--public-url /sub/path/] [--out DIR]: a release build for any static
            host (default: dist/ at /): every URL relative to the public URL,
            404.html for deep links, _headers, a service worker for offline use
  test      fmt check, clippy (native + wasm), native tests, wasm tests in headless
            Chromium, release site build, browser end-to-end tests; stops at the
            first failure and prints a summary with timings
  distill   make the bundled model: fetch the teacher and text, fine-tune, distil,
            evaluate, write www/models/default/ and MODEL_CARD.md (--smoke: seconds,
            writes only under .cache/distill/smoke/; --help for more)
  bench     forward latency of every scheme on the student (and the teacher when
            present: SQUEEZE_TEACHER or .cache/distill/teacher), 8 and 64 tokens,
            natively (criterion) and in headless Chromium; one table with ratios,
            and per model each Linear's f32 / int8 time beside the whole forward;
            in the same page onnxruntime-web (npm ci in tools/ort-bench; ONNX files
            from tools/reference/export_onnx.py when the venv has torch + onnxruntime)
            side by side with squeeze, or a note saying what is skipped; --relaxed:
            the browser pages with the relaxed-SIMD int8 kernel (bench-relaxed.md)
  fuzz      [--runs N] [--seconds S] [TARGET...]: run the cargo-fuzz targets under
            fuzz/ (default: all, 1000000 runs each, no time cap) on the stable
            toolchain without sanitizers, installing cargo-fuzz if missing; prints
            executions, exec/s and the result per target; fails on a crash
  install   install only what is missing: wasm32 target, wasm-bindgen-cli (the
            version in Cargo.lock), trunk 0.21.14, the pinned nightly with rust-src
            (the threaded worker), Chromium + chromedriver
  postbuild [--dir DIR]: Trunk's post_build hook (Trunk.toml): builds the worker
            again with relaxed SIMD into relaxed/ and, on release builds, threaded
            (with relaxed SIMD) into threads/; writes 404.html, .nojekyll and sw.js
            into the staged build (TRUNK_STAGING_DIR; --dir: only the files)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve::run(&args[1..]),
        Some("dist") => dist::run(&args[1..]),
        Some("postbuild") => postbuild::run(&args[1..]),
        Some("test") if args.len() == 1 => test::run(),
        Some("install") if args.len() == 1 => install::all(&install::Needs::everything()),
        Some("distill") => distill::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The `--flag value` pairs of a job's arguments, in order; an error names a flag
/// that has no value.
pub fn flag_values(args: &[String]) -> anyhow::Result<Vec<(&str, &str)>> {
    let mut pairs = Vec::new();
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let Some(value) = rest.next() else {
            anyhow::bail!("`{flag}` needs a value");
        };
        pairs.push((flag.as_str(), value.as_str()));
    }
    Ok(pairs)
}

/// Command-line words as the jobs receive them (for the jobs' argument tests).
#[cfg(test)]
pub fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|a| a.to_string()).collect()
}

/// Where cargo writes: `CARGO_TARGET_DIR`, else `target/` in the project.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_root().join("target"))
}

/// The repository root: xtask lives at crates/xtask. `cargo run` tells the binary
/// where its manifest is; that comes first, because cargo's fingerprints do not include
/// the checkout's path, so two checkouts sharing a target directory share one xtask
/// binary, and the path it was compiled at may be the other checkout's.
pub fn project_root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.ends_with("crates/xtask"))
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest
        .ancestors()
        .nth(2)
        .expect("crates/xtask has two parents")
        .to_path_buf()
}
