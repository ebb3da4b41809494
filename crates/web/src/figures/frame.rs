//! What every figure shares: its frame (anchor, title, caption, status line) and
//! the bundled model, loaded in the worker once for all figures of a page.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::lab::state::ModelStatus;
use crate::worker_bridge::{self, DEFAULT_MODEL_DIR};

/// A figure in a lesson: `<figure id="figure-<id>">` with a numbered kicker, a title and
/// a one-line caption, so a quiz or a link can point at `#figure-<id>`.
#[component]
pub fn FigureFrame(
    /// The directive's id (unique in its lesson).
    id: String,
    /// What the figure shows, a few words.
    title: &'static str,
    /// One sentence: what to do with it.
    caption: &'static str,
    /// The figure's body.
    children: Children,
) -> impl IntoView {
    let heading = format!("figure-{id}-title");
    let labelled_by = heading.clone();
    view! {
        <figure class="figure card" id=content::figure::anchor(&id) data-testid=format!("figure-{id}")
            aria-labelledby=labelled_by>
            <figcaption class="figure-head">
                <span class="figure-kicker">"Live figure"</span>
                <strong class="figure-title" id=heading>{title}</strong>
                <span class="figure-caption">{caption}</span>
            </figcaption>
            {children()}
        </figure>
    }
}

/// Loads the bundled model in the worker (a no-op there when it holds it already) and
/// reports where it is; `on_ready` runs once it is ready.
pub fn bundled_model(on_ready: impl Fn() + 'static) -> RwSignal<ModelStatus> {
    let status = RwSignal::new(ModelStatus::Loading {
        loaded: 0,
        total: None,
    });
    spawn_local(async move {
        let outcome = match worker_bridge::document_url(DEFAULT_MODEL_DIR) {
            Ok(url) => {
                worker_bridge::load_model(url, move |loaded, total| {
                    status.try_set(ModelStatus::Loading { loaded, total });
                })
                .await
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok(ready) => {
                // The learner may have left the lesson: a disposed signal takes no value.
                if status
                    .try_set(ModelStatus::Ready(Box::new(ready)))
                    .is_none()
                {
                    on_ready();
                }
            }
            Err(message) => {
                status.try_set(ModelStatus::Error(message));
            }
        }
    });
    status
}

/// The model's status line while it is not ready (nothing once it is).
#[component]
pub fn ModelLine(
    /// From [`bundled_model`].
    status: RwSignal<ModelStatus>,
) -> impl IntoView {
    move || {
        status.with(|s| {
            (!s.is_ready()).then(|| {
                view! {
                    <p class="status figure-status" data-state=s.state() role="status">{s.message()}</p>
                }
            })
        })
    }
}

/// An error line under a figure's controls (`role="alert"`), or nothing.
#[component]
pub fn ErrorLine(
    /// The message, when there is one.
    error: Signal<Option<String>>,
) -> impl IntoView {
    move || {
        error.get().map(|message| {
            view! { <p class="error figure-error" role="alert" data-testid="figure-error">{message}</p> }
        })
    }
}
