//! Per-layer sensitivity (one Linear at a time in the chosen scheme, the logits'
//! error per layer as bars) and the weight histogram of one layer before and after,
//! with the quantization grid drawn.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::LabCtx;
use crate::engine::Scheme;
use crate::format;
use crate::lab::bridge;
use crate::lab::charts::{max_of, Linear};
use crate::lab::messages::{Histogram, Sensitivity};
use crate::lab::url::pickable;

/// Bins of the weight histogram.
const BINS: u32 = 60;

/// The panel.
#[component]
pub fn LayersPanel(
    /// Shared lab state.
    ctx: LabCtx,
) -> impl IntoView {
    let scheme = RwSignal::new(Scheme::Q4_0);
    let sens = RwSignal::new(None::<Sensitivity>);
    let layer = RwSignal::new(None::<String>);
    let hist = RwSignal::new(None::<Histogram>);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);

    let load_histogram = move || {
        let Some(name) = layer.get_untracked() else {
            return;
        };
        let s = scheme.get_untracked();
        spawn_local(async move {
            match bridge::layer_histogram(name, s, BINS).await {
                Ok(h) => {
                    hist.try_set(Some(h));
                }
                Err(m) => {
                    error.try_set(Some(m));
                }
            }
        });
    };
    let measure = move || {
        if busy.get_untracked() || !ctx.ready() {
            return;
        }
        let text = ctx.text.get_untracked();
        if text.trim().is_empty() {
            error.set(Some("Type a sentence first.".to_string()));
            return;
        }
        busy.set(true);
        error.set(None);
        let s = scheme.get_untracked();
        spawn_local(async move {
            match bridge::layer_sensitivity(text, s).await {
                Ok(result) => {
                    // Show the most sensitive layer's weights unless one is already chosen.
                    let worst = result
                        .layers
                        .iter()
                        .max_by(|a, b| a.mse.total_cmp(&b.mse))
                        .map(|l| l.layer.clone());
                    let keep = layer
                        .try_get_untracked()
                        .flatten()
                        .filter(|l| result.layers.iter().any(|x| &x.layer == l));
                    layer.try_set(keep.or(worst));
                    // The combining lesson's quiz asks which layer moved the logits most.
                    crate::figures::run_store::update(|run| {
                        run.sensitivity = Some(content::run::SensitivityRun {
                            scheme: result.scheme.name().to_string(),
                            text: result.text.clone(),
                            layers: result
                                .layers
                                .iter()
                                .map(|l| (l.layer.clone(), l.mse))
                                .collect(),
                        })
                    });
                    sens.try_set(Some(result));
                    load_histogram();
                }
                Err(m) => {
                    error.try_set(Some(m));
                }
            }
            busy.try_set(false);
        });
    };

    view! {
        <section class="card lab-panel" data-testid="layers-panel">
            <h2>"Which layers mind being quantized?"</h2>
            <p class="muted small">
                "Quantize one Linear layer at a time, keep the rest f32, and measure how far the logits move "
                "on your sentence. Then look at a layer's weights before and after."
            </p>
            <div class="actions">
                <label class="field-label inline" for="sens-scheme">"Scheme"</label>
                <select id="sens-scheme" data-testid="sens-scheme"
                    on:change=move |ev| {
                        if let Ok(s) = event_target_value(&ev).parse::<Scheme>() {
                            scheme.set(s);
                        }
                    }>
                    {pickable().into_iter().map(|s| view! {
                        <option value=s.name() selected=move || scheme.get() == s>{s.name()}</option>
                    }).collect_view()}
                </select>
                <button class="button primary" data-testid="sens-run"
                    disabled=move || busy.get() || !ctx.ready()
                    on:click=move |_| measure()>
                    {move || if busy.get() { "Measuring…" } else { "Measure per layer" }}
                </button>
            </div>
            {move || error.get().map(|m| view! { <p class="error" role="alert" data-testid="layers-error">{m}</p> })}
            {move || sens.get().map(|s| view! { <SensitivityBars sens=s/> })}
            {move || sens.get().map(|s| view! {
                <div class="actions">
                    <label class="field-label inline" for="hist-layer">"Layer"</label>
                    <select id="hist-layer" data-testid="hist-layer"
                        on:change=move |ev| {
                            layer.set(Some(event_target_value(&ev)));
                            load_histogram();
                        }>
                        {s.layers.iter().map(|l| {
                            let value = l.layer.clone();
                            let shown = l.layer.clone();
                            let mine = l.layer.clone();
                            view! { <option value=value selected=move || layer.get().as_deref() == Some(mine.as_str())>{shown}</option> }
                        }).collect_view()}
                    </select>
                </div>
            })}
            {move || hist.get().map(|h| view! { <HistogramChart hist=h/> })}
        </section>
    }
}

const W: f64 = 560.0;

/// Error per layer as horizontal bars (linear in MSE, the value printed beside).
#[component]
fn SensitivityBars(sens: Sensitivity) -> impl IntoView {
    let scale = max_of(sens.layers.iter().map(|l| f64::from(l.mse))).max(f64::MIN_POSITIVE);
    let row = 18.0;
    let left = 250.0;
    let bar_w = W - left - 90.0;
    let height = sens.layers.len() as f64 * row + 8.0;
    view! {
        <figure class="chart wide">
            <svg viewBox=format!("0 0 {W} {height}") role="img" data-testid="sensitivity"
                data-scheme=sens.scheme.name()
                aria-label="MSE of the logits with only one layer quantized, per layer">
                {sens.layers.iter().enumerate().map(|(i, l)| {
                    let y = 4.0 + i as f64 * row;
                    let w = f64::from(l.mse) / scale * bar_w;
                    let value = match &l.stays_f32 {
                        Some(_) => "stays f32".to_string(),
                        None => format::small(l.mse),
                    };
                    view! {
                        <g data-testid="sens-bar" data-layer=l.layer.clone() data-mse=format::f32_json(l.mse)
                            data-max-abs-diff=format::f32_json(l.max_abs_diff)
                            data-stays-f32=l.stays_f32.is_some().to_string()>
                            <title>{l.stays_f32.clone().unwrap_or_else(|| format!("{} × {}", l.dims.0, l.dims.1))}</title>
                            <text x=left - 6.0 y=y + 12.0 text-anchor="end" class="tick">{l.layer.clone()}</text>
                            <rect x=left y=y + 2.0 width=w.max(0.5) height=row - 5.0 class="sens-fill"/>
                            <text x=left + w + 4.0 y=y + 12.0 class="tick">{value}</text>
                        </g>
                    }
                }).collect_view()}
            </svg>
            <figcaption class="small muted">
                {format!("MSE of the logits vs f32 with only that layer in {}.", sens.scheme)}
            </figcaption>
        </figure>
    }
}

/// The weights of one layer before (f32) and after, binned, with the grid's levels.
#[component]
fn HistogramChart(hist: Histogram) -> impl IntoView {
    let h = 220.0;
    let (left, right, top, bottom) = (40.0, 12.0, 10.0, 30.0);
    let x = Linear::new(f64::from(hist.min), f64::from(hist.max), left, W - right);
    let peak = max_of(hist.before.iter().chain(&hist.after).map(|&c| f64::from(c))).max(1.0);
    let y = Linear::new(0.0, peak, h - bottom, top);
    let bins = hist.before.len().max(1);
    let bin_w = (W - right - left) / bins as f64;
    let bars = |counts: &[u32], class: &'static str| {
        counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(i, &c)| {
                let top_y = y.at(f64::from(c));
                view! {
                    <rect x=left + i as f64 * bin_w y=top_y width=bin_w height=h - bottom - top_y class=class/>
                }
            })
            .collect_view()
    };
    let grid: Vec<f32> = hist
        .grid
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|g| *g >= hist.min && *g <= hist.max)
        .collect();
    let grid_count = grid.len();
    view! {
        <figure class="chart wide">
            <svg viewBox=format!("0 0 {W} {h}") role="img" data-testid="histogram"
                data-layer=hist.layer.clone() data-scheme=hist.scheme.name()
                data-count=hist.count.to_string() data-grid=grid_count.to_string()
                data-weight-mse=format::f32_json(hist.weight_mse)
                aria-label="Histogram of the layer's weights before and after quantization">
                {bars(&hist.before, "hist-before")}
                {bars(&hist.after, "hist-after")}
                {grid.into_iter().map(|g| {
                    let gx = x.at(f64::from(g));
                    view! { <line data-testid="grid-line" x1=gx x2=gx y1=h - bottom y2=h - bottom + 6.0 class="grid-tick"/> }
                }).collect_view()}
                <line x1=left x2=W - right y1=h - bottom y2=h - bottom class="zero-rule"/>
                <text x=left y=h - 8.0 class="tick">{format!("{:.3}", hist.min)}</text>
                <text x=W - right y=h - 8.0 text-anchor="end" class="tick">{format!("{:.3}", hist.max)}</text>
                <text x=(left + W - right) / 2.0 y=h - 8.0 text-anchor="middle" class="tick">"weight value"</text>
            </svg>
            <figcaption class="small muted">
                {format!(
                    "{}: {} weights. Blue: f32; orange: as {} stores them (weight MSE {}). ",
                    hist.layer, hist.count, hist.scheme, format::small(hist.weight_mse)
                )}
                {match (&hist.stays_f32, grid_count) {
                    (Some(reason), _) => format!("This layer stays f32: {reason}."),
                    (None, 0) => "This scheme has no coarse grid.".to_string(),
                    (None, n) => format!("Ticks under the axis: the {n} levels of the first quantization group."),
                }}
            </figcaption>
        </figure>
    }
}
