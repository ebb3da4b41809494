//! The peer in `cargo xtask bench`: onnxruntime-web (npm, pinned in tools/ort-bench/) and
//! each model's ONNX files (tools/reference/export_onnx.py, into .cache/onnx/<model>/).
//! Each is made ready when it is missing and the tools to make it are there; otherwise the
//! reason comes back as a note, the bench says what it skips, and squeeze's rows come out
//! alone.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::{cmd, project_root};

/// The npm project that pins onnxruntime-web.
const ORT_PROJECT: &str = "tools/ort-bench";
/// ORT's browser files inside it, once installed.
const ORT_DIST: &str = "node_modules/onnxruntime-web/dist";
/// The bundle the page imports (wasm execution provider only), and its wasm.
const ORT_FILES: [&str; 3] = [
    "ort.wasm.min.mjs",
    "ort-wasm-simd-threaded.mjs",
    "ort-wasm-simd-threaded.wasm",
];
/// What export_onnx.py writes.
const ONNX_FILES: [&str; 2] = ["model.onnx", "model_int8.onnx"];
const EXPORT_SCRIPT: &str = "tools/reference/export_onnx.py";
/// The virtualenv tools/reference/README.md sets up, when SQUEEZE_PYTHON does not name one.
const DEFAULT_VENV_PYTHON: &str = "/work/venv/bin/python";

/// ORT's dist/ folder, installed with `npm ci` when missing; else why it cannot be.
pub fn ort_dist() -> Result<PathBuf, String> {
    let project = project_root().join(ORT_PROJECT);
    let dist = project.join(ORT_DIST);
    let ready = || ORT_FILES.iter().all(|f| dist.join(f).is_file());
    if ready() {
        return Ok(dist);
    }
    if cmd::probe(cmd::new("npm").arg("--version")).is_none() {
        return Err("onnxruntime-web is not installed and npm is not on PATH".into());
    }
    println!(
        "xtask: installing onnxruntime-web (pinned in {ORT_PROJECT}/package-lock.json) with npm ci — seconds"
    );
    let mut npm = cmd::new("npm");
    npm.args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
        .current_dir(&project);
    if let Err(e) = cmd::run(&mut npm) {
        return Err(format!("cannot install onnxruntime-web: {e:#}"));
    }
    if ready() {
        Ok(dist)
    } else {
        Err(format!(
            "npm ci left no {} in {}",
            ORT_FILES.join(", "),
            dist.display()
        ))
    }
}

/// The folder with `name`'s ONNX files, exported from the model folder `dir` when they
/// are missing or older than its weights; else why they cannot be.
pub fn onnx_dir(name: &str, dir: &Path) -> Result<PathBuf, String> {
    let out = project_root().join(".cache/onnx").join(name);
    let weights = modified(&dir.join("model.safetensors"));
    let fresh = || {
        ONNX_FILES
            .iter()
            .all(|f| modified(&out.join(f)).is_some_and(|t| Some(t) >= weights))
    };
    if fresh() {
        return Ok(out);
    }
    let python = python();
    let probe = "import torch, transformers, onnx, onnxruntime";
    if cmd::probe(cmd::new(&python).args(["-c", probe])).is_none() {
        return Err(format!(
            "no ONNX files for {name} in {} and {} cannot import torch, transformers, onnx and \
             onnxruntime (pip install torch transformers onnx onnxruntime; SQUEEZE_PYTHON names the interpreter)",
            out.display(),
            python.display()
        ));
    }
    println!(
        "xtask: exporting {name} to ONNX f32 and int8 for onnxruntime-web ({EXPORT_SCRIPT}) — about 15 s"
    );
    let mut export = cmd::new(&python);
    export
        .arg(EXPORT_SCRIPT)
        .arg("--model")
        .arg(dir)
        .arg("--out")
        .arg(&out);
    match cmd::run(&mut export) {
        Ok(()) if fresh() => Ok(out),
        Ok(()) => Err(format!(
            "{EXPORT_SCRIPT} left no fresh {} in {}",
            ONNX_FILES.join(", "),
            out.display()
        )),
        Err(e) => Err(format!("the ONNX export of {name} failed: {e:#}")),
    }
}

/// SQUEEZE_PYTHON, else the reference scripts' virtualenv when it exists, else python3.
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("SQUEEZE_PYTHON") {
        return p.into();
    }
    let venv = PathBuf::from(DEFAULT_VENV_PYTHON);
    if venv.is_file() {
        venv
    } else {
        "python3".into()
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}
