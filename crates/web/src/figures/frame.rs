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

/// The state of a figure that runs the worker on the learner's sentence: the sentence
/// box, the last answer, the last error and whether a request is in flight.
pub struct SentenceRun<T: Send + Sync + 'static> {
    /// The sentence box.
    pub text: RwSignal<String>,
    /// The last answer.
    pub result: RwSignal<Option<T>>,
    /// The last failure (an empty box included), shown under the controls.
    pub error: RwSignal<Option<String>>,
    /// A request is in flight.
    pub busy: RwSignal<bool>,
}

impl<T: Send + Sync + 'static> Clone for SentenceRun<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for SentenceRun<T> {}

impl<T: Send + Sync + 'static> SentenceRun<T> {
    /// Starts with `text` in the box and nothing run.
    pub fn new(text: String) -> Self {
        Self {
            text: RwSignal::new(text),
            result: RwSignal::new(None),
            error: RwSignal::new(None),
            busy: RwSignal::new(false),
        }
    }

    /// Checks the sentence (an empty one is said, not sent), asks `call` for it, and keeps
    /// the answer (after `on_ok`) or its message. The learner may have left the lesson:
    /// disposed signals then take nothing.
    pub fn start<Fut>(
        self,
        call: impl FnOnce(String) -> Fut + 'static,
        on_ok: impl FnOnce(&T) + 'static,
    ) where
        Fut: std::future::Future<Output = Result<T, String>> + 'static,
    {
        let sentence = self.text.get_untracked();
        if let Err(message) = crate::lab::state::check_input(&sentence) {
            self.error.set(Some(message.to_string()));
            return;
        }
        self.busy.set(true);
        spawn_local(async move {
            let outcome = call(sentence).await;
            self.busy.try_set(false);
            match outcome {
                Ok(answer) => {
                    on_ok(&answer);
                    self.error.try_set(None);
                    self.result.try_set(Some(answer));
                }
                Err(message) => {
                    self.error.try_set(Some(message));
                }
            }
        });
    }
}
