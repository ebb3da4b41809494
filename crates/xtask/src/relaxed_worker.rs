//! The engine's worker built a second time with relaxed SIMD, beside Trunk's build.
//!
//! Trunk builds `crates/web`'s `worker` binary with simd128 (the CPU features every
//! browser with wasm SIMD has). Relaxed SIMD's 8-bit dot product makes the int8 kernel
//! faster (docs/BENCHMARKS.md), but a module that holds one relaxed instruction fails to
//! compile where the browser lacks the proposal (Safari), and wasm has no per-function
//! detection. So the same binary is also built with the `relaxed-simd` feature (the
//! engine's int8 kernel compiled with that target feature) into `relaxed/` of the staged
//! site (`worker.js`, `worker_bg.wasm` and the same loader shim as Trunk's);
//! the page validates a tiny module with that very instruction and starts this worker
//! only where it compiles (`crates/web/src/worker_bridge.rs`).
//!
//! Only the engine and the web crate differ from Trunk's build: the feature changes
//! their artefacts' hashes, so both builds live side by side in one target folder and
//! the relaxed one reuses every compiled dependency.

use std::path::Path;

use anyhow::{Context, Result};

use crate::cmd;

/// The cargo feature of the relaxed build (`web`'s, which turns on the engine's).
pub const FEATURE: &str = "relaxed-simd";

/// The folder of the staged site that holds the relaxed worker.
pub const FOLDER: &str = "relaxed";

/// The loader Trunk writes for a worker (`data-loader-shim`), written here the same way.
const LOADER: &str = r#"importScripts("./worker.js");wasm_bindgen("./worker_bg.wasm");"#;

/// Builds the relaxed worker (release or debug, as the site) into `site/relaxed/`.
pub fn build(site: &Path, release: bool) -> Result<()> {
    println!("xtask: the worker again with relaxed SIMD (feature {FEATURE}) into {FOLDER}/");
    let mut build = cmd::cargo();
    build.args([
        "build",
        "--offline",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        "web",
        "--bin",
        "worker",
        "--features",
        FEATURE,
    ]);
    if release {
        build.arg("--release");
    }
    cmd::run(&mut build)?;
    let profile = if release { "release" } else { "debug" };
    let wasm = crate::target_dir()
        .join("wasm32-unknown-unknown")
        .join(profile)
        .join("worker.wasm");
    let out = site.join(FOLDER);
    bind_worker(&wasm, &out)?;
    let loader = out.join("worker_loader.js");
    std::fs::write(&loader, LOADER).with_context(|| format!("cannot write {}", loader.display()))
}

/// Runs wasm-bindgen on a worker's `wasm` as Trunk does for its worker (`--target
/// no-modules`, named `worker`), writing `worker.js` and `worker_bg.wasm` into `out`.
pub fn bind_worker(wasm: &Path, out: &Path) -> Result<()> {
    cmd::run(
        cmd::new("wasm-bindgen")
            .args([
                "--target",
                "no-modules",
                "--no-typescript",
                "--out-name",
                "worker",
            ])
            .arg("--out-dir")
            .arg(out)
            .arg(wasm),
    )
}
