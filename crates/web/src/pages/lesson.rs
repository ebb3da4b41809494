//! `/learn/<slug>`: one lesson, rendered from the build-time HTML, with
//! copyable code blocks, live figures, the way to its quiz and previous/next links.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use content::{Block, Lesson, Route};

use crate::components::code_block::CodeView;
use crate::components::progress_notice::ProgressNotice;
use crate::course::{content, load_progress, save_progress};
use crate::figures::FigureView;

/// The lesson named by the `slug` route parameter.
#[component]
pub fn LessonPage() -> impl IntoView {
    let params = use_params_map();
    // Moving from one lesson to the next keeps this component and changes the
    // parameter, so the view is rebuilt per slug.
    move || {
        let slug = params.read().get("slug").unwrap_or_default();
        match content().lesson(&slug) {
            Some(lesson) => view! { <LessonView lesson=lesson/> }.into_any(),
            None => view! { <Missing slug=slug/> }.into_any(),
        }
    }
}

#[component]
fn LessonView(lesson: &'static Lesson) -> impl IntoView {
    // A deep link to a lesson may be the first page that finds corrupt
    // progress: it resets it, so it must also say so (it is never said again).
    let (mut progress, loaded) = load_progress();
    if progress.visit(&lesson.slug) {
        save_progress(&progress);
    }
    let course = content();
    let position = course.position(&lesson.slug).unwrap_or(0) + 1;
    let (prev, next) = course.neighbours(&lesson.slug);
    let blocks = lesson
        .blocks
        .iter()
        .map(|block| match block {
            Block::Html { html } => {
                view! { <div class="prose" inner_html=html.as_str()></div> }.into_any()
            }
            Block::Code(code) => view! { <CodeView block=code/> }.into_any(),
            Block::Figure { id, figure } => {
                view! { <FigureView id=id.as_str() figure=figure/> }.into_any()
            }
        })
        .collect_view();
    let questions = lesson.quiz.questions.len();
    view! {
        <article class="lesson" data-testid="lesson" data-slug=lesson.slug.as_str()>
            <header class="lesson-head">
                <p class="eyebrow">
                    <a href={crate::site::path(&Route::Learn.href())}>"Lessons"</a>
                    {format!(" · Lesson {position} of {} · {} min read", course.lessons.len(), lesson.minutes)}
                </p>
                <h1>{lesson.title.as_str()}</h1>
                <p class="lede">{lesson.summary.as_str()}</p>
                <ProgressNotice loaded=loaded/>
            </header>
            <div class="lesson-body">{blocks}</div>
            <aside class="lesson-quiz card" aria-label="Quiz">
                <h2>"Check what you learned"</h2>
                <p>{format!("{questions} questions, with feedback on every answer.")}</p>
                <a class="button primary" href={crate::site::path(&Route::Quiz(lesson.slug.clone()).href())} data-testid="lesson-quiz">
                    "Take the quiz"
                </a>
            </aside>
            <nav class="lesson-nav" aria-label="Previous and next lesson">
                {prev.map(|p| view! {
                    <a class="lesson-nav-link prev" rel="prev" href={crate::site::path(&Route::Lesson(p.slug.clone()).href())} data-testid="lesson-prev">
                        <span class="lesson-nav-dir">"← Previous"</span>
                        <span class="lesson-nav-title">{p.title.as_str()}</span>
                    </a>
                })}
                {match next {
                    Some(n) => view! {
                        <a class="lesson-nav-link next" rel="next" href={crate::site::path(&Route::Lesson(n.slug.clone()).href())} data-testid="lesson-next">
                            <span class="lesson-nav-dir">"Next →"</span>
                            <span class="lesson-nav-title">{n.title.as_str()}</span>
                        </a>
                    }.into_any(),
                    None => view! {
                        <a class="lesson-nav-link next" href={crate::site::path(&Route::Learn.href())} data-testid="lesson-all">
                            <span class="lesson-nav-dir">"Finished →"</span>
                            <span class="lesson-nav-title">"Back to all lessons"</span>
                        </a>
                    }.into_any(),
                }}
            </nav>
        </article>
    }
}

/// A slug that names no lesson.
#[component]
pub fn Missing(
    /// The slug from the URL (shown as text).
    slug: String,
) -> impl IntoView {
    view! {
        <section class="card" data-testid="lesson-missing">
            <h1>"No such lesson"</h1>
            <p>
                "There is no lesson called “" {slug} "”. "
                <a href={crate::site::path(&Route::Learn.href())}>"See all lessons"</a> "."
            </p>
        </section>
    }
}
