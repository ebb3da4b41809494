//! One model's side of the comparison: its label, logits, probabilities, size and
//! forward time, with the `data-testid`s of the DOM contract (`*-f32`, `*-int8`).

use leptos::prelude::*;

use crate::components::logit_bars::{LogitBars, ProbBars};
use crate::engine::{ModelSize, Prediction};
use crate::format;

/// A model's results. `suffix` ends every test id (`f32` or `int8`).
#[component]
pub fn ModelPanel(
    /// Heading, e.g. "f32 (original)".
    title: &'static str,
    /// Test-id suffix: `f32` or `int8`.
    suffix: &'static str,
    /// Class names in logit order.
    labels: Vec<String>,
    /// The model's prediction.
    prediction: Prediction,
    /// The model's stored size.
    size: ModelSize,
    /// Median forward time in ms, once measured.
    #[prop(into)]
    ms: Signal<Option<f64>>,
    /// Shared bar scale (largest |logit| of both models).
    scale: f32,
) -> impl IntoView {
    let logit_rows: Vec<(String, f32)> = labels
        .iter()
        .cloned()
        .zip(prediction.logits.iter().copied())
        .collect();
    let prob_rows: Vec<(String, f32)> = labels
        .iter()
        .cloned()
        .zip(prediction.probabilities.iter().copied())
        .collect();
    let logits_json = format::f32_json_array(&prediction.logits);
    let probs_json = format::f32_json_array(&prediction.probabilities);
    view! {
        <section class=format!("panel panel-{suffix}") data-testid=format!("panel-{suffix}")>
            <h3>{title}</h3>
            <p class="panel-label">
                "Label: " <strong data-testid=format!("label-{suffix}")>{prediction.label.clone()}</strong>
            </p>
            <h4>"Logits"</h4>
            <ul class="bars" data-testid=format!("logits-{suffix}") data-values=logits_json>
                <LogitBars rows=logit_rows scale=scale/>
            </ul>
            <h4>"Probabilities (softmax)"</h4>
            <ul class="bars" data-testid=format!("probs-{suffix}") data-values=probs_json>
                <ProbBars rows=prob_rows/>
            </ul>
            <dl class="facts">
                <div>
                    <dt>"Size"</dt>
                    <dd data-testid=format!("size-{suffix}") data-bytes=size.total_bytes.to_string()>
                        {format::size(size.total_bytes)}
                    </dd>
                </div>
                <div>
                    <dt>"Forward time"</dt>
                    <dd
                        data-testid=format!("time-{suffix}")
                        data-ms=move || ms.get().map(|v| format!("{v:?}"))
                    >
                        {move || ms.get().map_or_else(|| "timing…".to_string(), format::ms)}
                    </dd>
                </div>
            </dl>
        </section>
    }
}
