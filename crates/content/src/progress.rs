//! A learner's progress — lessons opened and quiz answers — as versioned JSON
//! for the browser's localStorage.
//!
//! Storage is not ours to trust: another version of squeeze, an extension or
//! the learner may have written anything there. Anything that is not exactly
//! this version's shape resets to empty progress and says why; it never
//! panics and never half-applies.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::grade::{QuizRun, Score};
use crate::model::{Content, Lesson, Quiz};

/// The localStorage key.
pub const STORAGE_KEY: &str = "squeeze.progress";

/// The format version written by this code. Bump it when the shape changes;
/// older records then reset cleanly instead of being misread.
pub const VERSION: u32 = 1;

/// Everything remembered about one learner.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Progress {
    version: u32,
    /// Slugs of lessons the learner has opened.
    visited: BTreeSet<String>,
    /// Saved quiz state per lesson slug.
    quizzes: BTreeMap<String, QuizRecord>,
}

/// One quiz's saved state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuizRecord {
    /// The quiz's fingerprint when this was saved; a different one means the
    /// quiz changed and the record is ignored.
    fingerprint: String,
    picks: Vec<Option<usize>>,
    shown: Vec<usize>,
    round: u32,
}

/// What [`Progress::load`] found in storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Loaded {
    /// Nothing stored yet.
    Empty,
    /// A record of this version, restored.
    Restored,
    /// Something unusable was stored; progress starts empty. The text says why.
    Reset(String),
}

/// How far a learner is with one lesson.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LessonStatus {
    /// The lesson page was opened.
    pub visited: bool,
    /// The quiz score, once at least one question is answered.
    pub score: Option<Score>,
}

impl LessonStatus {
    /// Opened, and every quiz question answered right.
    pub fn is_complete(&self) -> bool {
        self.visited && self.score.is_some_and(|s| s.is_perfect())
    }
}

impl Progress {
    /// Empty progress of the current version.
    pub fn new() -> Progress {
        Progress {
            version: VERSION,
            ..Progress::default()
        }
    }

    /// Read what storage holds (`None` when the key is absent).
    pub fn load(stored: Option<&str>) -> (Progress, Loaded) {
        load_versioned(stored, VERSION, "progress", Progress::new)
    }

    /// The JSON to store.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("progress is plain data and always serialises")
    }

    /// Remember that a lesson was opened; true when that is news.
    pub fn visit(&mut self, slug: &str) -> bool {
        self.visited.insert(slug.to_string())
    }

    /// Was the lesson opened?
    pub fn visited(&self, slug: &str) -> bool {
        self.visited.contains(slug)
    }

    /// The saved run of a quiz, or a fresh one when nothing (or a record of an
    /// older version of the quiz) is saved.
    pub fn run(&self, slug: &str, quiz: &Quiz) -> QuizRun {
        match self.quizzes.get(slug) {
            Some(r) if r.fingerprint == quiz.fingerprint => {
                QuizRun::restore(quiz, &r.picks, &r.shown, r.round)
            }
            _ => QuizRun::new(quiz),
        }
    }

    /// Save a quiz run.
    pub fn save_run(&mut self, slug: &str, quiz: &Quiz, run: &QuizRun) {
        self.quizzes.insert(
            slug.to_string(),
            QuizRecord {
                fingerprint: quiz.fingerprint.clone(),
                picks: run.picks().to_vec(),
                shown: run.shown().to_vec(),
                round: run.round(),
            },
        );
    }

    /// Where the learner stands with a lesson.
    pub fn status(&self, lesson: &Lesson) -> LessonStatus {
        let score = self.run(&lesson.slug, &lesson.quiz).score();
        LessonStatus {
            visited: self.visited(&lesson.slug),
            score: (score.answered > 0).then_some(score),
        }
    }

    /// How many lessons are complete, out of how many.
    pub fn completed(&self, content: &Content) -> (usize, usize) {
        let done = content
            .lessons
            .iter()
            .filter(|l| self.status(l).is_complete())
            .count();
        (done, content.lessons.len())
    }
}

/// Read a versioned JSON record from storage: `{"version": <version>, …}`
/// of exactly `T`'s shape, or `empty()` and why not. `what` names the record
/// in the reason ("stored progress is not JSON").
pub(crate) fn load_versioned<T: serde::de::DeserializeOwned>(
    stored: Option<&str>,
    version: u32,
    what: &str,
    empty: fn() -> T,
) -> (T, Loaded) {
    let Some(text) = stored else {
        return (empty(), Loaded::Empty);
    };
    let reset = |why: String| (empty(), Loaded::Reset(why));
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return reset(format!("stored {what} is not JSON ({e})")),
    };
    match value.get("version").and_then(serde_json::Value::as_u64) {
        Some(v) if v == u64::from(version) => {}
        Some(v) => return reset(format!("stored {what} has version {v}, expected {version}")),
        None => return reset(format!("stored {what} has no version")),
    }
    match serde_json::from_value::<T>(value) {
        Ok(p) => (p, Loaded::Restored),
        Err(e) => reset(format!("stored {what} is malformed ({e})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::sample;

    #[test]
    fn nothing_stored_is_empty_progress() {
        let (p, how) = Progress::load(None);
        assert_eq!(how, Loaded::Empty);
        assert_eq!(p, Progress::new());
        assert_eq!(p.to_json(), r#"{"version":1,"visited":[],"quizzes":{}}"#);
    }

    #[test]
    fn answers_and_visits_survive_a_round_trip() {
        let content = sample(3);
        let lesson = &content.lessons[1];
        let mut p = Progress::new();
        assert!(p.visit("b"));
        assert!(!p.visit("b"));
        let mut run = p.run("b", &lesson.quiz);
        run.pick(0, 1).unwrap();
        run.pick(2, 0).unwrap();
        p.save_run("b", &lesson.quiz, &run);

        let (back, how) = Progress::load(Some(&p.to_json()));
        assert_eq!(how, Loaded::Restored);
        assert_eq!(back.run("b", &lesson.quiz), run);
        assert_eq!(
            back.status(lesson),
            LessonStatus {
                visited: true,
                score: Some(Score {
                    correct: 1,
                    answered: 2,
                    total: 3
                })
            }
        );
        assert_eq!(
            back.status(&content.lessons[0]),
            LessonStatus {
                visited: false,
                score: None
            }
        );
    }

    #[test]
    fn corrupt_storage_resets_cleanly() {
        for bad in ["", "{", "null", "[1,2]", "\"hello\"", "{\"version\":\"1\"}"] {
            let (p, how) = Progress::load(Some(bad));
            assert!(matches!(how, Loaded::Reset(_)), "{bad:?} gave {how:?}");
            assert_eq!(p, Progress::new());
        }
    }

    #[test]
    fn old_and_future_versions_reset_with_a_reason() {
        let (_, how) = Progress::load(Some(r#"{"done":["a"]}"#));
        assert_eq!(how, Loaded::Reset("stored progress has no version".into()));
        let (_, how) = Progress::load(Some(r#"{"version":0,"visited":["a"]}"#));
        assert_eq!(
            how,
            Loaded::Reset("stored progress has version 0, expected 1".into())
        );
        let (_, how) = Progress::load(Some(r#"{"version":2}"#));
        assert_eq!(
            how,
            Loaded::Reset("stored progress has version 2, expected 1".into())
        );
    }

    #[test]
    fn right_version_with_wrong_shape_resets() {
        let bad = r#"{"version":1,"visited":["a"],"quizzes":{"a":{"picks":"x"}}}"#;
        let (p, how) = Progress::load(Some(bad));
        assert!(
            matches!(&how, Loaded::Reset(why) if why.starts_with("stored progress is malformed"))
        );
        assert!(!p.visited("a"), "nothing half-applied");
        let extra = r#"{"version":1,"visited":[],"quizzes":{},"x":1}"#;
        assert!(matches!(Progress::load(Some(extra)).1, Loaded::Reset(_)));
    }

    #[test]
    fn a_changed_quiz_ignores_its_old_answers() {
        let content = sample(2);
        let mut quiz = content.lessons[0].quiz.clone();
        let mut p = Progress::new();
        let mut run = p.run("a", &quiz);
        run.pick(0, 1).unwrap();
        p.save_run("a", &quiz, &run);
        quiz.fingerprint = "fp-changed".into();
        assert_eq!(p.run("a", &quiz), QuizRun::new(&quiz));
    }

    #[test]
    fn completion_needs_a_visit_and_a_perfect_quiz() {
        let content = sample(1);
        let mut p = Progress::new();
        let quiz = &content.lessons[0].quiz;
        let mut run = p.run("a", quiz);
        run.pick(0, 1).unwrap();
        p.save_run("a", quiz, &run);
        assert_eq!(p.completed(&content), (0, 3), "not visited yet");
        p.visit("a");
        assert_eq!(p.completed(&content), (1, 3));
    }
}
