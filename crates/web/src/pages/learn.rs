//! `/learn`: the path through the lessons, with progress.

use leptos::prelude::*;

use crate::components::lesson_path::LessonPath;
use crate::course::forget_progress;

/// The lessons page.
#[component]
pub fn Learn() -> impl IntoView {
    // Bumped by "forget my progress" so the path re-reads storage.
    let generation = RwSignal::new(0u32);
    let forget = move |_| {
        forget_progress();
        generation.update(|g| *g += 1);
    };
    view! {
        <section class="learn">
            <h1>"Lessons"</h1>
            <p class="lede">
                {crate::format::count_word(crate::course::content().lessons.len())}
                " short lessons, from why models need slimming down to distilling and "
                "quantizing one yourself. Each ends with a quiz; your answers stay in this browser."
            </p>
            {move || {
                generation.get();
                view! { <LessonPath/> }
            }}
            <p class="actions">
                <button type="button" class="button" data-testid="progress-forget" on:click=forget>
                    "Forget my progress"
                </button>
            </p>
        </section>
    }
}
