//! The path through the lessons with the learner's progress: used by
//! `/learn` and by the home page.

use leptos::prelude::*;

use content::{LessonStatus, Route};

use crate::components::progress_notice::ProgressNotice;
use crate::course::{content, load_progress};
use crate::figures::run_store;

/// The lessons in order, each with its reading time and quiz score, and how
/// many are complete.
#[component]
pub fn LessonPath() -> impl IntoView {
    let (progress, loaded) = load_progress();
    // Questions about the learner's own run count once they can be graded.
    let resolved = content().resolved(&run_store::load());
    let (done, total) = progress.completed(&resolved);
    let course = content();
    let items = course
        .lessons
        .iter()
        .enumerate()
        .map(|(i, lesson)| {
            let status = progress.status(&resolved.lessons[i]);
            let questions = lesson.quiz.questions.len();
            let quiz_text = quiz_status(&status, questions);
            let complete = status.is_complete();
            view! {
                <li
                    class="path-item"
                    class:complete=complete
                    class:visited=status.visited
                    data-testid="lesson-path-item"
                    data-slug=lesson.slug.as_str()
                    data-visited=status.visited.to_string()
                    data-complete=complete.to_string()
                >
                    <span class="path-step" aria-hidden="true">
                        {if complete { "✓".to_string() } else { (i + 1).to_string() }}
                    </span>
                    <div class="path-body">
                        <a
                            class="path-title"
                            href={crate::site::path(&Route::Lesson(lesson.slug.clone()).href())}
                            data-testid="lesson-link"
                        >
                            {lesson.title.as_str()}
                        </a>
                        <p class="path-summary">{lesson.summary.as_str()}</p>
                        <p class="path-meta">
                            <span>{format!("{} min read", lesson.minutes)}</span>
                            {status.visited.then(|| view! { <span>"Read"</span> })}
                            <a href={crate::site::path(&Route::Quiz(lesson.slug.clone()).href())} data-testid="quiz-link">
                                {quiz_text}
                            </a>
                        </p>
                    </div>
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="lesson-path-wrap">
            <ProgressNotice loaded=loaded/>
            <p
                class="course-progress"
                data-testid="course-progress"
                data-done=done.to_string()
                data-total=total.to_string()
            >
                <span>{format!("{done} of {total} lessons complete")}</span>
                <progress max=total.to_string() value=done.to_string() aria-label="Lessons complete"></progress>
            </p>
            <ol class="lesson-path" data-testid="lesson-path">
                {items}
            </ol>
        </div>
    }
}

/// "Quiz: 6 questions" before starting, "Quiz: 3 / 6 correct" after.
fn quiz_status(status: &LessonStatus, questions: usize) -> String {
    match status.score {
        None => format!("Quiz: {questions} questions"),
        Some(s) if s.is_perfect() => format!("Quiz: all {} correct", s.total),
        Some(s) => format!("Quiz: {} / {} correct", s.correct, s.total),
    }
}
