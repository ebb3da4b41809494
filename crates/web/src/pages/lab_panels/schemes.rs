//! Scheme picker → the comparison table of `squeeze compare`, the size-vs-error
//! (Pareto) plot and the logits of every scheme as bars.

use super::panel_run::PanelRun;
use super::LabCtx;
use crate::engine::Scheme;
use crate::format;
use crate::lab::bridge;
use crate::lab::charts::{max_of, palette, pareto_front, Linear, LogAxis};
use crate::lab::messages::SchemeTable;
use crate::lab::url::pickable;
use leptos::prelude::*;

/// The picker, the table and the charts.
#[component]
pub fn SchemesPanel(
    /// Shared lab state.
    ctx: LabCtx,
) -> impl IntoView {
    let state = PanelRun::<SchemeTable>::new();
    let (table, running, error, runs) = (state.table, state.running, state.error, state.runs);

    let run = move || {
        let Some(text) = state.begin(&ctx) else {
            return;
        };
        // A run asked for meanwhile reruns with what is ticked then.
        state.send(
            bridge::compare_schemes(text, ctx.schemes.get_untracked()),
            move || ctx.compare_gen.update(|n| *n += 1),
        );
    };
    // Runs when a model becomes ready and whenever the lab asks for a new comparison.
    Effect::new(move |_| {
        ctx.compare_gen.track();
        ctx.model_gen.track();
        run();
    });

    let toggle = move |scheme: Scheme, on: bool| {
        ctx.schemes.update(|list| {
            list.retain(|s| *s != scheme);
            if on {
                list.push(scheme);
            }
            list.sort_by_key(|s| Scheme::ALL.iter().position(|a| a == s));
        });
        ctx.compare_gen.update(|n| *n += 1);
    };

    view! {
        <section class="card lab-panel" data-testid="schemes-panel">
            <h2>"Every scheme side by side"</h2>
            <p class="muted small">
                "Tick the schemes to compare with f32. Sizes count every stored byte; a layer whose "
                "shape a scheme cannot take stays f32, and the table says which and why."
            </p>
            <fieldset class="scheme-picker">
                <legend>"Schemes"</legend>
                {pickable().into_iter().map(|scheme| view! {
                    <label class="scheme-option" title=scheme.description()>
                        <input
                            type="checkbox"
                            data-testid="scheme-pick"
                            data-scheme=scheme.name()
                            prop:checked=move || ctx.schemes.with(|l| l.contains(&scheme))
                            on:change=move |ev| toggle(scheme, event_target_checked(&ev))
                        />
                        " " {scheme.name()}
                    </label>
                }).collect_view()}
            </fieldset>
            <div class="actions">
                <button
                    class="button primary"
                    data-testid="schemes-run"
                    disabled=move || running.get() || !ctx.ready()
                    on:click=move |_| ctx.compare_gen.update(|n| *n += 1)
                >
                    {move || if running.get() { "Comparing…" } else { "Compare schemes" }}
                </button>
                {move || running.get().then(|| view! {
                    <span class="spinner" role="status">"Quantizing and timing each scheme in the worker…"</span>
                })}
            </div>
            {move || error.get().map(|m| view! { <p class="error" role="alert" data-testid="schemes-error">{m}</p> })}
            {move || table.get().map(|t| view! { <SchemeResults table=t run=runs.get()/> })}
        </section>
    }
}

/// The table and both charts for one answer.
#[component]
fn SchemeResults(table: SchemeTable, run: u32) -> impl IntoView {
    let rows = table.rows.clone();
    let tokens = table.tokens;
    let notes: Vec<String> = rows
        .iter()
        .filter(|r| !r.report.stays_f32.is_empty())
        .map(|r| {
            let layers: Vec<String> = r
                .report
                .stays_f32
                .iter()
                .map(|s| format!("{} ({})", s.layer, s.reason))
                .collect();
            format!(
                "{}: {} of {} Linear layers stay f32: {}",
                r.report.scheme,
                r.report.stays_f32.len(),
                r.report.layers_total,
                layers.join("; ")
            )
        })
        .collect();
    view! {
        <div data-testid="scheme-results" data-run=run.to_string() data-tokens=tokens.to_string()>
            <div class="table-scroll">
                <table class="scheme-table" data-testid="scheme-table">
                    <thead>
                        <tr>
                            <th>"scheme"</th><th>"size"</th><th>"ratio"</th><th>"ms / forward"</th>
                            <th>"logits"</th><th>"probabilities"</th><th>"label"</th>
                            <th>"MSE vs f32"</th><th>"max |diff|"</th><th>"agrees"</th><th>"quantized layers"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows.into_iter().map(|r| {
                            let p = &r.report.prediction;
                            view! {
                                <tr
                                    data-testid="scheme-row"
                                    data-scheme=r.report.scheme.name()
                                    data-bytes=r.report.bytes.to_string()
                                    data-ratio=format!("{:?}", r.report.compression)
                                    data-ms=format!("{:?}", r.time.ms)
                                    data-logits=format::f32_json_array(&p.logits)
                                    data-probs=format::f32_json_array(&p.probabilities)
                                    data-label=p.label.clone()
                                    data-mse=format::f32_json(r.report.mse)
                                    data-max-abs-diff=format::f32_json(r.report.max_abs_diff)
                                    data-agrees=r.report.agrees.to_string()
                                    data-layers-quantized=r.report.layers_quantized.to_string()
                                    data-stays-f32=r.report.stays_f32.len().to_string()
                                    data-quantized-now=r.quantized_now.to_string()
                                >
                                    <th scope="row" title=r.report.scheme.description()>{r.report.scheme.name()}</th>
                                    <td>{format::size(r.report.bytes)}</td>
                                    <td>{format!("{:.2}×", r.report.compression)}</td>
                                    <td>{format::ms(r.time.ms)}</td>
                                    <td class="mono">{vector(&p.logits, 4)}</td>
                                    <td class="mono">{vector(&p.probabilities, 3)}</td>
                                    <td>{p.label.clone()}</td>
                                    <td class="mono">{format::small(r.report.mse)}</td>
                                    <td class="mono">{format::small(r.report.max_abs_diff)}</td>
                                    <td>{if r.report.agrees { "yes" } else { "NO" }}</td>
                                    <td>{format!("{}/{}", r.report.layers_quantized, r.report.layers_total)}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            {(!notes.is_empty()).then(|| view! {
                <ul class="stays-f32 small" data-testid="stays-f32">
                    {notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}
                </ul>
            })}
            <div class="chart-pair">
                <ParetoPlot table=table.clone()/>
                <LogitsChart table=table/>
            </div>
        </div>
    }
}

/// A vector with `decimals` places, e.g. `[0.1234, -0.5678]`.
pub(super) fn vector(v: &[f32], decimals: usize) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:.decimals$}")).collect();
    format!("[{}]", parts.join(", "))
}

const W: f64 = 520.0;
const H: f64 = 300.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 44.0;

/// Size (x) against MSE of the logits (log y): the front is what no scheme beats on both.
#[component]
fn ParetoPlot(table: SchemeTable) -> impl IntoView {
    let rows = table.rows;
    let mses: Vec<f64> = rows.iter().map(|r| f64::from(r.report.mse)).collect();
    let axis = LogAxis::covering(&mses);
    // The x axis spans the sizes shown (not from zero), so close schemes separate.
    let sizes: Vec<f64> = rows.iter().map(|r| r.report.bytes as f64 / 1e6).collect();
    let max_mb = max_of(sizes.iter().copied());
    let min_mb = sizes.iter().copied().fold(max_mb, f64::min);
    let pad = ((max_mb - min_mb) * 0.08).max(0.05 * max_mb.max(0.01));
    let (x_lo, x_hi) = ((min_mb - pad).max(0.0), max_mb + pad);
    let x = Linear::new(x_lo, x_hi, LEFT, W - RIGHT);
    let y = Linear::new(axis.lo, axis.hi, H - BOTTOM, TOP);
    let points: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| (r.report.bytes as f64, f64::from(r.report.mse)))
        .collect();
    let front = pareto_front(&points);
    let mut front_pts: Vec<(f64, f64)> = rows
        .iter()
        .zip(&front)
        .filter(|(_, on)| **on)
        .map(|(r, _)| {
            (
                x.at(r.report.bytes as f64 / 1e6),
                y.at(axis.position(f64::from(r.report.mse))),
            )
        })
        .collect();
    front_pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let polyline: Vec<String> = front_pts
        .iter()
        .map(|(a, b)| format!("{a:.1},{b:.1}"))
        .collect();
    let mb_ticks: Vec<f64> = {
        let step = if max_mb > 20.0 {
            5.0
        } else if max_mb > 8.0 {
            2.0
        } else {
            1.0
        };
        (0..=(max_mb / step) as usize)
            .map(|i| i as f64 * step)
            .collect()
    };
    view! {
        <figure class="chart">
            <svg
                viewBox=format!("0 0 {W} {H}")
                role="img"
                aria-label="Model size against the MSE of its logits, one point per scheme"
                data-testid="pareto"
            >
                {axis.decades().into_iter().map(|k| {
                    let py = y.at(f64::from(k));
                    view! {
                        <line x1=LEFT x2=W - RIGHT y1=py y2=py class="grid-rule"/>
                        <text x=LEFT - 6.0 y=py + 4.0 text-anchor="end" class="tick">{format!("1e{k}")}</text>
                    }
                }).collect_view()}
                {mb_ticks.into_iter().map(|t| {
                    let px = x.at(t);
                    view! {
                        <text x=px y=H - BOTTOM + 16.0 text-anchor="middle" class="tick">{format!("{t}")}</text>
                    }
                }).collect_view()}
                <text x=(LEFT + W - RIGHT) / 2.0 y=H - 6.0 text-anchor="middle" class="axis-label">"size (MB)"</text>
                <text x=14.0 y=(TOP + H - BOTTOM) / 2.0 text-anchor="middle" class="axis-label"
                    transform=format!("rotate(-90 14 {})", (TOP + H - BOTTOM) / 2.0)>"MSE vs f32 (log)"</text>
                <polyline points=polyline.join(" ") class="front"/>
                {rows.iter().zip(front).enumerate().map(|(i, (r, on))| {
                    let px = x.at(r.report.bytes as f64 / 1e6);
                    let py = y.at(axis.position(f64::from(r.report.mse)));
                    view! {
                        <g data-testid="pareto-point" data-scheme=r.report.scheme.name() data-front=on.to_string()>
                            <circle cx=px cy=py r=if on { 6.0 } else { 4.5 } fill=palette(i)/>
                            <text x=px + 8.0 y=py - 6.0 class="point-label">{r.report.scheme.name()}</text>
                        </g>
                    }
                }).collect_view()}
            </svg>
            <figcaption class="small muted">
                "Lower left is better: small and faithful. The line joins the schemes no other beats on both. "
                "f32 has zero error and sits on the floor."
            </figcaption>
        </figure>
    }
}

/// The logits of every scheme, grouped by class, as bars from zero.
#[component]
fn LogitsChart(table: SchemeTable) -> impl IntoView {
    let rows = table.rows.clone();
    let classes = rows.first().map_or(0, |r| r.report.prediction.logits.len());
    let labels: Vec<String> = (0..classes)
        .map(|c| {
            table
                .labels
                .get(c)
                .cloned()
                .unwrap_or_else(|| format!("class {c}"))
        })
        .collect();
    let scale = max_of(rows.iter().flat_map(|r| {
        r.report
            .prediction
            .logits
            .iter()
            .map(|v| f64::from(v.abs()))
    }))
    .max(1e-6);
    let bar_h = 9.0;
    let group_h = rows.len() as f64 * bar_h + 24.0;
    let height = TOP + classes as f64 * group_h + 8.0;
    let mid = (LEFT + 40.0 + W - RIGHT) / 2.0;
    let half = (W - RIGHT - LEFT - 40.0) / 2.0;
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {W} {height}") role="img"
                aria-label="Logits of each scheme, per class" data-testid="logit-chart">
                <line x1=mid x2=mid y1=TOP - 4.0 y2=height - 4.0 class="zero-rule"/>
                {(0..classes).map(|c| {
                    let top = TOP + c as f64 * group_h;
                    view! {
                        <text x=4.0 y=top + 10.0 class="axis-label">{labels[c].clone()}</text>
                        {rows.iter().enumerate().map(|(i, r)| {
                            let v = f64::from(r.report.prediction.logits.get(c).copied().unwrap_or(0.0));
                            let w = v.abs() / scale * half;
                            let by = top + 18.0 + i as f64 * bar_h;
                            let bx = if v < 0.0 { mid - w } else { mid };
                            view! {
                                <g data-testid="logit-bar" data-scheme=r.report.scheme.name() data-class=c.to_string()
                                    data-value=format::f32_json(v as f32)>
                                    <text x=LEFT + 34.0 y=by + 7.5 text-anchor="end" class="tick">{r.report.scheme.name()}</text>
                                    <rect x=bx y=by width=w.max(0.5) height=bar_h - 2.0 fill=palette(i)/>
                                </g>
                            }
                        }).collect_view()}
                    }
                }).collect_view()}
            </svg>
            <figcaption class="small muted">
                "Logits per class, f32 on top, one bar per scheme; bars left of the line are negative."
            </figcaption>
        </figure>
    }
}
