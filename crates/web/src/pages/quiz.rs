//! `/quiz/<slug>`: a lesson's quiz. Immediate feedback per answer, the
//! score, "retry the wrong ones", and every pick saved to localStorage so a
//! reload finds the quiz as it was left.
//!
//! The grading lives in [`content::QuizRun`] (tested natively); this page
//! renders it and forwards picks. Questions about the learner's own run
//! (`from_run`) are resolved from the measurements saved in this browser when
//! the page opens; until measured they say where to measure and take no pick.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use content::run::{resolve, Resolution};
use content::{Lesson, QuizRun, Route};

use crate::components::progress_notice::ProgressNotice;
use crate::components::quiz_question::QuizQuestion;
use crate::course::{content, load_progress, save_progress};
use crate::figures::run_store;
use crate::pages::lesson::Missing;

/// Where to measure what a question needs (a site path) and what to do there.
type Measure = (String, String);

/// The quiz of the lesson named by the `slug` route parameter.
#[component]
pub fn QuizPage() -> impl IntoView {
    let params = use_params_map();
    move || {
        let slug = params.read().get("slug").unwrap_or_default();
        match content().lesson(&slug) {
            Some(lesson) => view! { <QuizView lesson=lesson/> }.into_any(),
            None => view! { <Missing slug=slug/> }.into_any(),
        }
    }
}

#[component]
fn QuizView(lesson: &'static Lesson) -> impl IntoView {
    let (progress, loaded) = load_progress();
    let record = run_store::load();
    let quiz = lesson.quiz.resolved(&record);
    let run = RwSignal::new(progress.run(&lesson.slug, &quiz));
    // Where to measure what each question needs, for those not measured yet.
    let questions: Vec<(Arc<content::Question>, Option<Measure>)> = lesson
        .quiz
        .questions
        .iter()
        .zip(&quiz.questions)
        .map(|(original, resolved)| {
            let measure = match resolve(original, &record) {
                Resolution::NotMeasured { measure_at, what } => Some((measure_at, what)),
                Resolution::Measured { .. } => None,
            };
            (Arc::new(resolved.clone()), measure)
        })
        .collect();
    let quiz = StoredValue::new(quiz);
    let progress = StoredValue::new(progress);
    let save = move || {
        run.with_untracked(|r| {
            quiz.with_value(|quiz| {
                progress.update_value(|p| {
                    p.save_run(&lesson.slug, quiz, r);
                    save_progress(p);
                })
            })
        })
    };
    let on_pick = Callback::new(move |(question, option): (usize, usize)| {
        run.update(|r| {
            // A refused pick (already answered) changes nothing, by design.
            let _ = r.pick(question, option);
        });
        save();
    });
    let retry = move |_| {
        run.update(|r| {
            r.retry_wrong();
        });
        save();
    };
    let reset = move |_| {
        run.update(QuizRun::reset);
        save();
    };

    let score = Memo::new(move |_| run.with(QuizRun::score));
    let shown = Memo::new(move |_| run.with(|r| r.shown().to_vec()));
    let round = Memo::new(move |_| run.with(QuizRun::round));
    let finished = Memo::new(move |_| run.with(QuizRun::round_finished));
    let wrong = Memo::new(move |_| run.with(|r| r.wrong().len()));
    let next = content().neighbours(&lesson.slug).1;

    view! {
        <article class="quiz" data-testid="quiz" data-slug=lesson.slug.as_str()>
            <header class="quiz-head">
                <p class="eyebrow">
                    <a href={crate::site::path(&Route::Lesson(lesson.slug.clone()).href())} data-testid="quiz-lesson">
                        "← Lesson: " {lesson.title.as_str()}
                    </a>
                </p>
                <h1>"Quiz: " {lesson.title.as_str()}</h1>
                <p
                    class="quiz-score"
                    data-testid="quiz-score"
                    data-correct=move || score.get().correct.to_string()
                    data-answered=move || score.get().answered.to_string()
                    data-total=move || score.get().total.to_string()
                    aria-live="polite"
                >
                    {move || {
                        let s = score.get();
                        format!("Score: {} / {} correct · {} of {} answered", s.correct, s.total, s.answered, s.total)
                    }}
                </p>
                {move || (round.get() > 1).then(|| view! {
                    <p class="banner info" data-testid="quiz-round" data-round=round.get().to_string()>
                        {format!(
                            "Round {}: only the questions you missed are shown. Your right answers are kept.",
                            round.get()
                        )}
                    </p>
                })}
                <ProgressNotice loaded=loaded/>
                <p class="hint">
                    "Choose with a click or a tap; with the keyboard, Tab into the options, "
                    "move with the arrow keys and choose with Space or Enter. Answers are final "
                    "until you retry."
                </p>
            </header>
            <For
                each=move || shown.get()
                key=|q| *q
                children=move |q| {
                    let (question, measure) = questions[q].clone();
                    view! {
                        <QuizQuestion
                            index=q
                            number=q + 1
                            question=question
                            measure=measure
                            run=run
                            on_pick=on_pick
                        />
                    }
                }
            />
            <footer class="quiz-end card" data-testid="quiz-end">
                {move || {
                    let s = score.get();
                    if !finished.get() {
                        let left = run.with(QuizRun::remaining);
                        view! { <p class="muted">{format!("{left} to go in this round.")}</p> }.into_any()
                    } else if s.is_perfect() {
                        view! { <p class="quiz-done" data-testid="quiz-done">"All correct — well done!"</p> }.into_any()
                    } else {
                        view! {
                            <p class="quiz-done" data-testid="quiz-done">
                                {format!("You got {} of {} right.", s.correct, s.total)}
                            </p>
                        }.into_any()
                    }
                }}
                <div class="actions">
                    {move || (finished.get() && wrong.get() > 0).then(|| view! {
                        <button type="button" class="button primary" data-testid="quiz-retry" on:click=retry>
                            {format!("Retry the wrong ones ({})", wrong.get())}
                        </button>
                    })}
                    <button type="button" class="button" data-testid="quiz-reset" on:click=reset>
                        "Start over"
                    </button>
                    {match next {
                        Some(n) => view! {
                            <a class="button" href={crate::site::path(&Route::Lesson(n.slug.clone()).href())} data-testid="quiz-next">
                                "Next lesson: " {n.title.as_str()}
                            </a>
                        }.into_any(),
                        None => view! {
                            <a class="button" href={crate::site::path(&Route::Learn.href())} data-testid="quiz-next">"All lessons"</a>
                        }.into_any(),
                    }}
                </div>
            </footer>
        </article>
    }
}
