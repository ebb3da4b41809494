//! The fuzz smoke run for lessons and quizzes: replays fuzz/seeds and fuzz/regressions
//! through the fuzz target bodies, plus 200 deterministic mutations of each input, under
//! plain `cargo test`. Real fuzzing: `cargo xtask fuzz`.

#[path = "../../../fuzz/src/content_targets.rs"]
mod content_targets;
#[path = "../../../fuzz/src/replay.rs"]
mod replay;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const PER_SEED: usize = 200;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn lesson_files() {
    let runs = replay::replay(&root(), "lesson", PER_SEED, content_targets::lesson);
    println!("lesson: {runs} inputs");
}

#[test]
fn quiz_files() {
    let runs = replay::replay(&root(), "quiz", PER_SEED, content_targets::quiz);
    println!("quiz: {runs} inputs");
}

/// The fixed halves the targets pair fuzzed files with do load, so a fuzzed lesson is
/// judged on its own faults.
#[test]
fn the_fixed_lesson_and_quiz_load() {
    let files: BTreeMap<String, String> = [
        ("index.toml", "lessons = [\"x\"]\n"),
        ("x.md", content_targets::GOOD_LESSON),
        ("x.quiz.toml", content_targets::GOOD_QUIZ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let content = content::load_files("lessons", &files).expect("loads");
    assert_eq!(content.lessons[0].title, "X");
}
