//! Quiz questions graded from the learner's measurements (`from_run` and
//! `when`): what loads, and the exact message for each mistake.

use std::collections::BTreeMap;

use content::{load_files, Content, Measurement};

const LESSON: &str = "+++\ntitle = \"Alpha\"\nsummary = \"S.\"\n+++\nText.\n";

/// A from_run question on `flip`, one option per outcome.
const QUIZ: &str = r#"[[question]]
id = "one"
from_run = "flip"
prompt = "Did yours flip?"
explanation = "E"

[[question.option]]
text = "Kept"
when = "kept"
feedback = "F"

[[question.option]]
text = "Flipped"
when = "flipped"
feedback = "F"
"#;

fn load(quiz: &str) -> Result<Content, Vec<String>> {
    let files: BTreeMap<String, String> = [
        ("index.toml", "lessons = [\"alpha\"]\n"),
        ("alpha.md", LESSON),
        ("alpha.quiz.toml", quiz),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    load_files("lessons", &files).map_err(|e| e.0.iter().map(ToString::to_string).collect())
}

fn errors(quiz: &str) -> Vec<String> {
    load(quiz).expect_err("expected errors")
}

#[test]
fn a_from_run_question_loads_unresolved() {
    let content = load(QUIZ).unwrap();
    let q = &content.lessons[0].quiz.questions[0];
    assert_eq!(q.from_run, Some(Measurement::Flip));
    assert_eq!(q.answer, None);
    let when: Vec<Option<&str>> = q.choices.iter().map(|c| c.when.as_deref()).collect();
    assert_eq!(when, [Some("kept"), Some("flipped")]);
    // The fingerprint follows the `when`s.
    let swapped = QUIZ
        .replace("when = \"kept\"", "when = \"x\"")
        .replace("when = \"flipped\"", "when = \"kept\"")
        .replace("when = \"x\"", "when = \"flipped\"");
    let other = load(&swapped).unwrap();
    assert_ne!(
        other.lessons[0].quiz.fingerprint,
        content.lessons[0].quiz.fingerprint
    );
}

#[test]
fn unknown_measurement() {
    assert_eq!(
        errors(&QUIZ.replace("from_run = \"flip\"", "from_run = \"flips\"")),
        ["lessons/alpha.quiz.toml:3:12: unknown measurement `flips` in `from_run`, expected one of: lab-size, quantize-tensor, temperature, seed-code, block-formats, flip, sensitivity"]
    );
}

#[test]
fn correct_in_a_from_run_question() {
    assert_eq!(
        errors(&QUIZ.replace("when = \"kept\"", "when = \"kept\"\ncorrect = true")),
        ["lessons/alpha.quiz.toml:10:11: expected no `correct` in question `one`: with `from_run` the learner's measurement decides; give each option a `when`"]
    );
}

#[test]
fn when_in_a_fixed_question() {
    let quiz = QUIZ
        .replace("from_run = \"flip\"\n", "")
        .replace("when = \"flipped\"", "correct = true");
    assert_eq!(
        errors(&quiz),
        ["lessons/alpha.quiz.toml:8:8: expected `when` only in a question with `from_run`; mark the right option of `one` with correct = true"]
    );
}

#[test]
fn unknown_outcome() {
    assert_eq!(
        errors(&QUIZ.replace("when = \"flipped\"", "when = \"flip\"")),
        [
            "lessons/alpha.quiz.toml:1:1: expected an option for every outcome of `flip` in question `one`, missing: flipped",
            "lessons/alpha.quiz.toml:14:8: unknown outcome `flip` of measurement `flip`, expected one of: kept, flipped",
        ]
    );
}

#[test]
fn option_without_when() {
    assert_eq!(
        errors(&QUIZ.replace("when = \"flipped\"\n", "")),
        [
            "lessons/alpha.quiz.toml:1:1: expected an option for every outcome of `flip` in question `one`, missing: flipped",
            "lessons/alpha.quiz.toml:12:1: expected `when` on every option of question `one` (from_run = \"flip\"), one of: kept, flipped",
        ]
    );
}

#[test]
fn duplicate_outcome() {
    assert_eq!(
        errors(&QUIZ.replace("when = \"flipped\"", "when = \"kept\"")),
        [
            "lessons/alpha.quiz.toml:1:1: expected an option for every outcome of `flip` in question `one`, missing: flipped",
            "lessons/alpha.quiz.toml:14:8: duplicate outcome `kept` in question `one`; expected each outcome on one option",
        ]
    );
}

#[test]
fn a_figure_in_quiz_text_is_refused() {
    let quiz = QUIZ.replace(
        "explanation = \"E\"",
        "explanation = \"\"\"\nSee:\n\n```figure flip-it\n```\n\"\"\"",
    );
    assert_eq!(
        errors(&quiz),
        ["lessons/alpha.quiz.toml:5:15: expected figures only in lesson bodies, not in quiz text"]
    );
}
