//! Tells the learner when saved progress could not be read and was reset.

use leptos::prelude::*;

use content::Loaded;

/// Nothing, unless `loaded` is a reset.
#[component]
pub fn ProgressNotice(
    /// What loading the stored progress found.
    loaded: Loaded,
) -> impl IntoView {
    match loaded {
        Loaded::Reset(why) => Some(view! {
            <p class="banner info" role="status" data-testid="progress-reset-notice">
                "Your saved progress could not be read (" {why} "), so it starts afresh."
            </p>
        }),
        Loaded::Empty | Loaded::Restored => None,
    }
}
