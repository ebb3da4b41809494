//! squeeze's learning content: lessons (Markdown) and quizzes (TOML) from
//! `lessons/`, listed in order by `lessons/index.toml`.
//!
//! Two halves:
//! - with the `load` feature (default), [`load_dir`] reads, validates and
//!   renders a content directory; every problem is reported as
//!   `path:line:col: what was expected`. The web crate's build script runs
//!   it, so a bad file fails the build.
//! - always: the rendered [`Content`] as plain serde data, quiz grading
//!   ([`QuizRun`]), the learner's [`Progress`] and measurements
//!   ([`RunRecord`], for questions graded from them: [`resolve`]) as
//!   versioned JSON for localStorage, the lessons' [`Figure`] settings and
//!   the site's [`Route`]s. These compile to wasm without
//!   TOML or Markdown parsers and are tested natively.

pub mod figure;
pub mod grade;
mod html;
#[cfg(feature = "load")]
pub mod load;
pub mod model;
pub mod progress;
pub mod routes;
pub mod run;

pub use figure::Figure;
pub use grade::{PickError, QuizRun, Score, Verdict};
#[cfg(feature = "load")]
pub use load::{load_dir, load_files, Error, Errors};
pub use model::{Block, Choice, CodeBlock, Content, Lesson, Origin, Question, Quiz};
pub use progress::{LessonStatus, Loaded, Progress};
pub use routes::Route;
pub use run::{resolve, Measurement, Resolution, RunRecord};
