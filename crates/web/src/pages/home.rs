//! The home page: what squeeze is, and the way into the lab.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::lesson_path::LessonPath;

/// `/`: the pitch, the two techniques, the lab link, and the path through the lessons.
#[component]
pub fn Home() -> impl IntoView {
    view! {
        <section class="hero">
            <h1>"squeeze"</h1>
            <p class="lede">
                "Language models are big and slow. Learn how people make them smaller and faster, "
                "then do it yourself, live, in this browser tab. Nothing to install."
            </p>
            <A href=crate::site::path("/lab") attr:class="button primary" attr:data-testid="nav-lab">
                "Open the quantization lab"
            </A>
        </section>

        <section class="card-grid" aria-label="The two techniques">
            <article class="card">
                <h2>"Distillation"</h2>
                <p>
                    "Train a small student model to copy a large teacher. The student learns from "
                    "the teacher's outputs (its logits) by shrinking the mean squared error between "
                    "them, and ends up with a fraction of the layers doing most of the job."
                </p>
            </article>
            <article class="card">
                <h2>"Quantization"</h2>
                <p>
                    "Store each weight in 8 bits instead of 32: a scale maps the floats to the "
                    "integers −128…127. The quantized layers get four times smaller and can run on "
                    "integer arithmetic; the price is a little rounding error you can measure."
                </p>
            </article>
            <article class="card">
                <h2>"Live, in your browser"</h2>
                <p>
                    "A real DistilBERT runs here, in WebAssembly, on your own machine. Type a "
                    "sentence and compare the logits of the 32-bit model with its 8-bit copy."
                </p>
            </article>
        </section>

        <section class="card" id="lessons" data-testid="lessons">
            <h2>"Lessons"</h2>
            <p class="muted">
                {crate::format::count_word(crate::course::content().lessons.len())}
                " short lessons, each with a quiz. Your progress stays in this browser."
            </p>
            <LessonPath/>
        </section>
    }
}
