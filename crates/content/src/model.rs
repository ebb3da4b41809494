//! The validated content as plain data: what the build script writes out as
//! JSON and what the web app reads back in.
//!
//! Every `*_html` field was rendered from Markdown at build time with raw HTML
//! escaped (see `load::markdown`), so the page may insert it as HTML. Nothing a
//! learner types ever ends up in these fields.

use serde::{Deserialize, Serialize};

use crate::figure::Figure;
use crate::run::{resolve, Measurement, Resolution, RunRecord};

/// All lessons, in the order of `lessons/index.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Content {
    /// The lessons, first to last.
    pub lessons: Vec<Lesson>,
}

/// One lesson page and its quiz.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lesson {
    /// URL name, also the file name: `lessons/<slug>.md`.
    pub slug: String,
    /// Heading shown on the page and in the path.
    pub title: String,
    /// One or two sentences for the path through the lessons.
    pub summary: String,
    /// Estimated reading time in minutes.
    pub minutes: u32,
    /// The body, split so code blocks can get their own copy button.
    pub blocks: Vec<Block>,
    /// The quiz from `lessons/<slug>.quiz.toml`.
    pub quiz: Quiz,
}

/// A piece of a lesson body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Block {
    /// Rendered Markdown (paragraphs, lists, headings, tables, inline code).
    Html {
        /// Sanitised HTML.
        html: String,
    },
    /// A fenced code block.
    Code(CodeBlock),
    /// An interactive figure, from a ```` ```figure <name> ```` fence. The page
    /// gives it the HTML id [`crate::figure::anchor`]`(id)`.
    Figure {
        /// Unique in the lesson: lowercase letters, digits and hyphens; the
        /// figure's name unless the fence sets `id`.
        id: String,
        /// Which figure, with every setting filled in.
        figure: Figure,
    },
}

/// A fenced code block, kept both as text (to copy) and highlighted (to show).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CodeBlock {
    /// The fence's language tag, lowercase (`python`, `rust`, `text`, …); empty when none.
    pub lang: String,
    /// The code exactly as written, for the clipboard.
    pub code: String,
    /// The code HTML-escaped, with `<span class="tok-…">` around highlighted tokens.
    pub html: String,
}

/// A lesson's questions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quiz {
    /// Changes whenever a question, its options or its answer change, so saved
    /// answers from an older version of the quiz are not applied to a new one.
    pub fingerprint: String,
    /// The questions, in file order.
    pub questions: Vec<Question>,
}

/// Where a question comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// One of the seed document's five practice questions.
    Seed,
    /// Written for squeeze.
    Own,
}

/// One multiple-choice question with a single right answer: fixed in the
/// quiz file, or — for a `from_run` question — decided by the learner's own
/// measurement (see [`Question::resolved`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Question {
    /// Unique within its quiz; used as the key for saved answers.
    pub id: String,
    /// Seed or own question.
    pub origin: Origin,
    /// The question, rendered.
    pub prompt_html: String,
    /// The options in display order.
    pub choices: Vec<Choice>,
    /// Index into `choices` of the right one. `None` for a `from_run`
    /// question until [`Question::resolved`] fills it in; such a question
    /// cannot be graded (see [`crate::PickError::Unresolved`]).
    pub answer: Option<usize>,
    /// The measurement that decides the answer (`from_run` in the quiz file).
    pub from_run: Option<Measurement>,
    /// Why the right answer is right, shown after any answer.
    pub explanation_html: String,
    /// The worked solution, one rendered step each (may be empty).
    pub steps_html: Vec<String>,
    /// A one-line memory hook (may be absent).
    pub quick_check_html: Option<String>,
    /// A lab link that lets the learner find the answer by experiment.
    pub lab: Option<String>,
    /// Escaped HTML built from the learner's numbers, saying why the answer
    /// is right; set by [`Question::resolved`], `None` in the build output.
    pub measured_html: Option<String>,
}

/// One option of a question.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// The option text, rendered inline (no surrounding paragraph).
    pub html: String,
    /// Shown when the learner picks this option.
    pub feedback_html: String,
    /// For a `from_run` question: the measurement outcome that makes this
    /// option the right one (one of [`Measurement::outcomes`]).
    pub when: Option<String>,
}

impl Content {
    /// The lesson with this slug.
    pub fn lesson(&self, slug: &str) -> Option<&Lesson> {
        self.lessons.iter().find(|l| l.slug == slug)
    }

    /// Position of the lesson with this slug in the path.
    pub fn position(&self, slug: &str) -> Option<usize> {
        self.lessons.iter().position(|l| l.slug == slug)
    }

    /// The lessons before and after `slug` in the path.
    pub fn neighbours(&self, slug: &str) -> (Option<&Lesson>, Option<&Lesson>) {
        match self.position(slug) {
            None => (None, None),
            Some(i) => (
                i.checked_sub(1).and_then(|p| self.lessons.get(p)),
                self.lessons.get(i + 1),
            ),
        }
    }

    /// Parse the JSON the build script wrote.
    pub fn from_json(json: &str) -> Result<Content, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// The JSON form embedded in the web app.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("content is plain data and always serialises")
    }

    /// A copy with every quiz [resolved](Quiz::resolved) against the
    /// learner's measurements, for grading and progress.
    pub fn resolved(&self, run: &RunRecord) -> Content {
        Content {
            lessons: self
                .lessons
                .iter()
                .map(|l| Lesson {
                    quiz: l.quiz.resolved(run),
                    ..l.clone()
                })
                .collect(),
        }
    }
}

impl Quiz {
    /// A copy in which every `from_run` question the learner has measured
    /// has its answer; unmeasured ones stay unresolved. The fingerprint is
    /// unchanged, so saved picks still apply.
    pub fn resolved(&self, run: &RunRecord) -> Quiz {
        Quiz {
            fingerprint: self.fingerprint.clone(),
            questions: self
                .questions
                .iter()
                .map(|q| q.resolved(run).unwrap_or_else(|| q.clone()))
                .collect(),
        }
    }
}

impl Question {
    /// Is `choice` the right option? Always false while unresolved.
    pub fn is_correct(&self, choice: usize) -> bool {
        self.answer == Some(choice)
    }

    /// This question ready to grade: a copy with the answer (and
    /// `measured_html`) filled in from `run`, or `None` when its measurement
    /// is missing. A question without `from_run` is returned as it is.
    pub fn resolved(&self, run: &RunRecord) -> Option<Question> {
        if self.from_run.is_none() {
            return Some(self.clone());
        }
        match resolve(self, run) {
            Resolution::Measured {
                answer,
                explanation_html,
            } => Some(Question {
                answer: Some(answer),
                measured_html: Some(explanation_html),
                ..self.clone()
            }),
            Resolution::NotMeasured { .. } => None,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small content value for unit tests: lessons `a`, `b`, `c`, each with
    /// a quiz of `n` questions whose right answer is option 1 of 3.
    pub(crate) fn sample(n: usize) -> Content {
        let lesson = |slug: &str| Lesson {
            slug: slug.into(),
            title: slug.to_uppercase(),
            summary: String::new(),
            minutes: 1,
            blocks: vec![Block::Html {
                html: "<p>x</p>".into(),
            }],
            quiz: Quiz {
                fingerprint: format!("fp-{slug}"),
                questions: (0..n)
                    .map(|i| Question {
                        id: format!("q{i}"),
                        origin: Origin::Own,
                        prompt_html: "?".into(),
                        choices: (0..3)
                            .map(|c| Choice {
                                html: c.to_string(),
                                feedback_html: String::new(),
                                when: None,
                            })
                            .collect(),
                        answer: Some(1),
                        from_run: None,
                        explanation_html: "because".into(),
                        steps_html: vec![],
                        quick_check_html: None,
                        lab: None,
                        measured_html: None,
                    })
                    .collect(),
            },
        };
        Content {
            lessons: vec![lesson("a"), lesson("b"), lesson("c")],
        }
    }

    #[test]
    fn neighbours_follow_the_index_order() {
        let c = sample(1);
        let slugs = |(p, n): (Option<&Lesson>, Option<&Lesson>)| {
            (p.map(|l| l.slug.clone()), n.map(|l| l.slug.clone()))
        };
        assert_eq!(slugs(c.neighbours("a")), (None, Some("b".into())));
        assert_eq!(
            slugs(c.neighbours("b")),
            (Some("a".into()), Some("c".into()))
        );
        assert_eq!(slugs(c.neighbours("c")), (Some("b".into()), None));
        assert_eq!(slugs(c.neighbours("zz")), (None, None));
    }

    #[test]
    fn json_round_trip_keeps_everything() {
        let c = sample(2);
        let back = Content::from_json(&c.to_json()).unwrap();
        assert_eq!(back, c);
    }
}
