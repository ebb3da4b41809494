//! Bar charts for one model's outputs: logits as bars diverging from zero, and
//! probabilities as bars from 0 to 100 %. Numbers are always printed beside the bars.

use leptos::prelude::*;

use crate::format;
use crate::lab::state::Bar;

/// Logits, one row per class. `scale` is the |logit| that fills half the track;
/// pass the same scale to both models so their bars compare.
#[component]
pub fn LogitBars(
    /// (class name, logit) in class order.
    rows: Vec<(String, f32)>,
    /// The |logit| drawn as a full half-track.
    scale: f32,
) -> impl IntoView {
    rows.into_iter()
        .map(|(label, value)| {
            let bar = Bar::new(value, scale);
            // Half the track is 50 % of its width; the bar starts at the centre line.
            let width = bar.percent / 2.0;
            let style = if bar.negative {
                format!("right: 50%; width: {width:.2}%")
            } else {
                format!("left: 50%; width: {width:.2}%")
            };
            let class = if bar.negative {
                "bar-fill negative"
            } else {
                "bar-fill positive"
            };
            view! {
                <li class="bar-row">
                    <span class="bar-label">{label}</span>
                    <span class="bar-track diverging" aria-hidden="true">
                        <span class=class style=style></span>
                    </span>
                    <span class="bar-value">{format::signed(value, 4)}</span>
                </li>
            }
        })
        .collect_view()
}

/// Probabilities, one row per class.
#[component]
pub fn ProbBars(
    /// (class name, probability) in class order.
    rows: Vec<(String, f32)>,
) -> impl IntoView {
    rows.into_iter()
        .map(|(label, p)| {
            let width = if p.is_finite() {
                (p * 100.0).clamp(0.0, 100.0)
            } else {
                0.0
            };
            view! {
                <li class="bar-row">
                    <span class="bar-label">{label}</span>
                    <span class="bar-track" aria-hidden="true">
                        <span class="bar-fill prob" style=format!("left: 0; width: {width:.2}%")></span>
                    </span>
                    <span class="bar-value">{format::percent(p)}</span>
                </li>
            }
        })
        .collect_view()
}
