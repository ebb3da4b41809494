//! A small card holding one headline number with its caption.

use leptos::prelude::*;

/// One metric: a caption, the value as text, and an optional line of detail.
/// `testid` and the `data-*` attribute set by the caller carry the exact value for tests.
#[component]
pub fn MetricCard(
    /// What the number is, e.g. "MSE (distillation loss)".
    title: &'static str,
    /// The number, formatted.
    value: String,
    /// A line under the number.
    #[prop(optional, into)]
    detail: String,
    /// Extra text for assistive tech and tooltips: what the number means.
    #[prop(optional)]
    hint: &'static str,
) -> impl IntoView {
    view! {
        <div class="metric" title=hint>
            <div class="metric-title">{title}</div>
            <div class="metric-value">{value}</div>
            <div class="metric-detail">{detail}</div>
        </div>
    }
}
