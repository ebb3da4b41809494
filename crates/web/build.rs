//! Build script: validate and render the lessons and quizzes in `lessons/`
//! (through the `content` crate) into `$OUT_DIR/content.json`, which
//! `src/course.rs` embeds. A malformed lesson or quiz stops the build with
//! `lessons/<file>:<line>:<col>: <what was expected>`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let manifest = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let root = manifest.join("../..");
    let lessons = root.join("lessons");
    println!("cargo:rerun-if-changed={}", lessons.display());
    // Run from the repository root so messages say `lessons/x.md:3:1`, a path
    // an editor opens from the terminal.
    if let Err(e) = std::env::set_current_dir(&root) {
        eprintln!("web build: cannot enter {} ({e})", root.display());
        return ExitCode::FAILURE;
    }
    let content = match content::load_dir(Path::new("lessons")) {
        Ok(c) => c,
        Err(errors) => {
            for e in &errors.0 {
                // Shown by cargo as warnings too, so trunk's condensed output keeps them.
                println!("cargo:warning={e}");
                eprintln!("{e}");
            }
            eprintln!(
                "web build: lessons/ has {} problem(s); fix them and build again",
                errors.0.len()
            );
            return ExitCode::FAILURE;
        }
    };
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("content.json");
    if let Err(e) = std::fs::write(&out, content.to_json()) {
        eprintln!("web build: cannot write {} ({e})", out.display());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
