//! *Activation ranges*: what dynamic int8 sees at one real Linear for the learner's
//! sentence — the layer's input as a histogram, the range taken from it on this very
//! call, the scale and zero point on reduce_range's 7-bit grid, and what its largest
//! value (the outlier) costs every other value.

use leptos::prelude::*;

use content::figure as settings;

use super::bridge;
use super::frame::{bundled_model, ErrorLine, FigureFrame, ModelLine, SentenceRun};
use crate::engine::explain::ActivationRange;
use crate::format;
use crate::lab::state::ModelStatus;

/// The figure.
#[component]
pub fn ActivationRanges(
    /// The figure's id in its lesson.
    id: String,
    /// Its settings from the lesson.
    settings: &'static settings::ActivationRanges,
) -> impl IntoView {
    let state = SentenceRun::<ActivationRange>::new(settings.text.clone());
    let SentenceRun {
        text,
        result,
        error,
        busy,
    } = state;
    let layer = RwSignal::new(settings.layer.clone());
    let bins = settings.bins;
    let run = move || {
        state.start(
            move |sentence| bridge::activations(sentence, layer.get_untracked(), bins),
            |_| {},
        )
    };
    let status = bundled_model(run);
    let layer_names = move || {
        status.with(|s| match s {
            ModelStatus::Ready(ready) => linear_names(ready.info.layers),
            _ => vec![layer.get_untracked()],
        })
    };

    view! {
        <FigureFrame id=id title="Activation ranges"
            caption="A real layer's input for your sentence: dynamic int8 takes its range from these very numbers, on every call.">
            <ModelLine status=status/>
            <form class="figure-controls" on:submit=move |ev| { ev.prevent_default(); run(); }>
                <label class="grow">"Sentence "
                    <input type="text" class="figure-text" data-testid="act-text" maxlength="2000"
                        prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))/>
                </label>
                <label>"Layer "
                    <select data-testid="act-layer" on:change=move |ev| { layer.set(event_target_value(&ev)); run(); }>
                        {move || layer_names().into_iter().map(|name| {
                            let selected = name == layer.get_untracked();
                            view! { <option value=name.clone() selected=selected>{short(&name).to_string()}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <button class="button primary small" type="submit" data-testid="act-run"
                    disabled=move || busy.get() || !status.with(|s| s.is_ready())>"Run"</button>
            </form>
            <ErrorLine error=error.into()/>
            {move || result.get().map(|r| view! { <RangeView r=r/> })}
        </FigureFrame>
    }
}

#[component]
fn RangeView(r: ActivationRange) -> impl IntoView {
    let scale = r.params.scale;
    let zero = r.params.zero_point;
    let (lo, hi) = (r.min.min(0.0), r.max.max(0.0));
    let numbers = format!(
        "{} tokens × {} inputs = {} numbers, from {} to {}. Range {} … {} (0 always inside) → scale s = ({} − {}) / {} = {}, zero point z = {} (reduce_range: integers {} … {}).",
        r.tokens,
        r.in_features,
        format::thousands(r.values.len() as u64),
        num(r.min),
        num(r.max),
        num(lo),
        num(hi),
        num(hi),
        num(lo),
        r.q_max - r.q_min,
        format::small(scale),
        zero,
        r.q_min,
        r.q_max
    );
    let finer = r.outlier.scale_with / r.outlier.scale_without.max(f32::MIN_POSITIVE);
    let outlier = format!(
        "The largest value, {}, sets the range: without it the step would be {} — {:.1}× finer for every other number. Mean rounding error on this call: {}.",
        num(r.outlier.largest),
        format::small(r.outlier.scale_without),
        finer,
        format::small(r.mean_abs_error)
    );
    view! {
        <p class="figure-numbers" data-testid="act-numbers" data-min=r.min.to_string() data-max=r.max.to_string()
            data-scale=scale.to_string() data-zero-point=zero.to_string() data-tokens=r.tokens.to_string()
            data-layer=r.layer.clone()>{numbers}</p>
        <Histogram r=r.clone()/>
        <p class="figure-summary" data-testid="act-outlier" data-scale-without=r.outlier.scale_without.to_string()>{outlier}</p>
    }
}

/// A value with 3 decimals.
fn num(x: f32) -> String {
    format!("{x:.3}")
}

/// The histogram of the layer's input with the range's ends and 0 marked; its bins as a
/// table for screen readers and anyone who wants the numbers.
#[component]
fn Histogram(r: ActivationRange) -> impl IntoView {
    const W: f64 = 600.0;
    const H: f64 = 140.0;
    const PAD: f64 = 20.0;
    let counts = r.histogram.counts.clone();
    let edge = |i: usize| f64::from(r.histogram.edges.get(i).copied().unwrap_or(0.0));
    let (lo, hi) = (edge(0), edge(r.histogram.edges.len().saturating_sub(1)));
    let span = (hi - lo).max(1e-9);
    let at = move |x: f64| PAD + (x - lo) / span * (W - 2.0 * PAD);
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let width = (W - 2.0 * PAD) / counts.len().max(1) as f64;
    let bars = counts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let h = (*c as f64 / top).sqrt() * (H - 2.0 * PAD);
            view! { <rect class="hist-bar" x=PAD + i as f64 * width y=H - PAD - h width=(width - 1.0).max(1.0) height=h/> }
        })
        .collect_view();
    let zero = at(0.0);
    let rows = counts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (a, b) = (edge(i), edge(i + 1));
            view! { <tr><td>{format!("{a:.3} … {b:.3}")}</td><td>{*c}</td></tr> }
        })
        .collect_view();
    view! {
        <svg class="act-hist" viewBox="0 0 600 140" role="img"
            aria-label=format!("Histogram of {} activations from {:.3} to {:.3}; most lie near 0, the range is set by the extremes", r.values.len(), r.min, r.max)>
            {bars}
            <line class="chart-axis" x1=PAD x2=W - PAD y1=H - PAD y2=H - PAD/>
            <line class="act-zero" x1=zero x2=zero y1=PAD y2=H - PAD/>
            <line class="act-edge" x1=at(f64::from(r.min)) x2=at(f64::from(r.min)) y1=PAD y2=H - PAD/>
            <line class="act-edge" x1=at(f64::from(r.max)) x2=at(f64::from(r.max)) y1=PAD y2=H - PAD/>
            <text class="chart-label" x=PAD y=H - 4.0>{format!("{:.2}", r.min)}</text>
            <text class="chart-label" x=W - PAD y=H - 4.0 text-anchor="end">{format!("{:.2}", r.max)}</text>
            <text class="chart-label" x=PAD y="14">"count (square-root scale)"</text>
        </svg>
        <details class="figure-details">
            <summary>"The histogram as a table"</summary>
            <table class="figure-table">
                <thead><tr><th scope="col">"values"</th><th scope="col">"count"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </details>
    }
}

/// Every Linear of a DistilBERT with `layers` blocks, in checkpoint order.
pub fn linear_names(layers: usize) -> Vec<String> {
    let mut names = Vec::new();
    for n in 0..layers {
        for part in [
            "attention.q_lin",
            "attention.k_lin",
            "attention.v_lin",
            "attention.out_lin",
            "ffn.lin1",
            "ffn.lin2",
        ] {
            names.push(format!("transformer.layer.{n}.{part}"));
        }
    }
    names.extend(["pre_classifier".to_string(), "classifier".to_string()]);
    names
}

/// `layer.0.attention.q_lin` instead of the full checkpoint name.
pub fn short(name: &str) -> &str {
    name.strip_prefix("transformer.").unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_linear_is_named() {
        let names = linear_names(2);
        assert_eq!(names.len(), 14);
        assert_eq!(names[0], "transformer.layer.0.attention.q_lin");
        assert_eq!(short(&names[11]), "layer.1.ffn.lin2");
        assert_eq!(short("classifier"), "classifier");
    }
}
