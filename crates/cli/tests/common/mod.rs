//! What every test of the `squeeze` binary needs: run it from the project root, find the
//! fixtures, read its stderr.
#![allow(dead_code)] // each test file uses its own subset

pub mod lessons;

use std::path::PathBuf;
use std::process::{Command, Output};

/// The project root (fixtures and data paths are relative to it).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `squeeze args…` in the project root and waits for it.
pub fn squeeze(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_squeeze"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("squeeze runs")
}

/// The tiny fixture model (a DistilBERT with PyTorch reference outputs).
pub fn tiny() -> PathBuf {
    root().join("tests/fixtures/tiny")
}

/// The process's stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
