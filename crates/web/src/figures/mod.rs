//! The lessons' live figures: Leptos components placed in a lesson by a
//! ```` ```figure <name> ```` block (see `lessons/README.md`). Each one runs the real
//! engine on the bundled model — in the worker for anything model-sized, on the page
//! only for a handful of numbers — and records what the learner measured in the
//! [`run_store`], where the quizzes read it.

pub mod activations;
pub mod block_formats;
pub mod bridge;
pub mod flip_it;
pub mod frame;
pub mod messages;
pub mod quantize_tensor;
pub mod run_store;
pub mod seed_code;
pub mod soft;
pub mod temperature;

use leptos::prelude::*;

use content::Figure;

/// One figure of a lesson, by its directive.
#[component]
pub fn FigureView(
    /// The directive's id, unique in its lesson: the anchor is `#figure-<id>`.
    id: &'static str,
    /// The validated directive from the lesson.
    figure: &'static Figure,
) -> impl IntoView {
    let id = id.to_string();
    match figure {
        Figure::QuantizeTensor(f) => {
            view! { <quantize_tensor::QuantizeTensor id=id settings=f/> }.into_any()
        }
        Figure::SeedCode(f) => view! { <seed_code::SeedCode id=id settings=f/> }.into_any(),
        Figure::Temperature(f) => view! { <temperature::Temperature id=id settings=f/> }.into_any(),
        Figure::ActivationRanges(f) => {
            view! { <activations::ActivationRanges id=id settings=f/> }.into_any()
        }
        Figure::BlockFormats(f) => {
            view! { <block_formats::BlockFormats id=id settings=f/> }.into_any()
        }
        Figure::FlipIt(f) => view! { <flip_it::FlipIt id=id settings=f/> }.into_any(),
    }
}
