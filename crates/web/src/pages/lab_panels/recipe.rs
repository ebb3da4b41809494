//! A recipe for a budget: measure how much each Linear minds each scheme on development
//! sentences, pick a size budget, and let the engine choose a scheme per layer (the least
//! predicted error that fits). The worker builds that mixed model and judges it on the
//! held-out sentences beside f32 and every uniform scheme; the chart puts it among them.
//! The recipe downloads as JSON (the format `squeeze quantize --recipe` reads), and a
//! recipe file can be loaded back.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen_futures::JsFuture;

use super::LabCtx;
use crate::engine::recipe::{Frontier, LayerCosts, Recipe, Sensitivity};
use crate::engine::Scheme;
use crate::format;
use crate::lab::bridge;
use crate::lab::charts::{label_rows, palette, Linear, LogAxis};
use crate::lab::recipe::{
    self as plan, for_budget, int8_embedding_saving, percent, uniform_bytes, RecipeOutcome,
    RecipePlan, DEFAULT_DEV_SENTENCES, DEV_SIZES,
};
use crate::lab::state::ModelStatus;

/// Largest recipe file read (a real one is a few KB).
const MAX_RECIPE_BYTES: f64 = 1e6;

/// A request that builds and judges a mixed model.
type BuildRequest = Pin<Box<dyn Future<Output = Result<RecipeOutcome, String>>>>;

/// Where the measuring is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    Measuring,
    Measured,
    Applying,
}

/// The panel.
#[component]
pub fn RecipePanel(
    /// Shared lab state.
    ctx: LabCtx,
) -> impl IntoView {
    let phase = RwSignal::new(Phase::Idle);
    let sentences = RwSignal::new(DEFAULT_DEV_SENTENCES);
    let measured = RwSignal::new(0usize);
    let layer_count = RwSignal::new(0usize);
    let cancel = RwSignal::new(false);
    let sens = RwSignal::new(None::<Sensitivity>);
    let budget = RwSignal::new(0u64);
    let int8_embeddings = RwSignal::new(false);
    let outcome = RwSignal::new(None::<RecipeOutcome>);
    // Outcomes shown so far (`data-runs`): a test waits for the next one.
    let runs = RwSignal::new(0u32);
    let error = RwSignal::new(None::<String>);
    let file = NodeRef::<Input>::new();

    // A new model makes the measurements and the outcome stale.
    Effect::new(move |first: Option<()>| {
        ctx.model_gen.track();
        if first.is_some() {
            sens.set(None);
            outcome.set(None);
            phase.set(Phase::Idle);
        }
    });

    // Bytes int8 embeddings save on this model (0 until a model is ready).
    let saving_of = |s: &ModelStatus| match s {
        ModelStatus::Ready(r) => int8_embedding_saving(r.info.vocab_size, r.info.dim),
        _ => 0,
    };
    let saving = move || ctx.status.with(saving_of);
    // What int8 embeddings take off the whole model (0 when they stay f32). The budget is
    // the whole model's size as shown; the search counts f32 embeddings, so it sees the
    // budget plus this.
    let emb_saving = move || if int8_embeddings.get() { saving() } else { 0 };
    let search_budget = move || budget.get() + emb_saving();
    // The frontier of the measured costs, computed once per measurement (synchronously:
    // the Build button is enabled in the same tick as the measurements arrive).
    let frontier = Memo::new_with_compare(
        move |_| sens.with(|s| s.as_ref().and_then(|s| Frontier::new(s).ok()).map(Arc::new)),
        |old: Option<&Option<Arc<Frontier>>>, new: Option<&Option<Arc<Frontier>>>| match (
            old.and_then(Option::as_ref),
            new.and_then(Option::as_ref),
        ) {
            (Some(a), Some(b)) => !Arc::ptr_eq(a, b),
            (a, b) => a.is_some() != b.is_some(),
        },
    );
    let preview = Memo::new(move |_| {
        let budget = search_budget();
        frontier.with(|f| f.as_ref().map(|f| for_budget(f, budget)))
    });

    let measure = move |_| {
        if phase.get_untracked() == Phase::Measuring || !ctx.ready_untracked() {
            return;
        }
        phase.set(Phase::Measuring);
        cancel.set(false);
        error.set(None);
        outcome.set(None);
        sens.set(None);
        measured.set(0);
        let n = sentences.get_untracked();
        spawn_local(async move {
            let p: RecipePlan = match bridge::recipe_start(n).await {
                Ok(p) => p,
                Err(m) => {
                    error.try_set(Some(m));
                    phase.try_set(Phase::Idle);
                    return;
                }
            };
            layer_count.try_set(p.layers.len());
            let mut costs: Vec<LayerCosts> = Vec::with_capacity(p.layers.len());
            for layer in &p.layers {
                // Checked between layers: nothing more is sent after Cancel.
                if cancel.try_get_untracked() != Some(false) {
                    phase.try_set(Phase::Idle);
                    return;
                }
                match bridge::recipe_layer(layer.clone()).await {
                    Ok(c) => costs.push(c),
                    Err(m) => {
                        error.try_set(Some(m));
                        phase.try_set(Phase::Idle);
                        return;
                    }
                }
                measured.try_set(costs.len());
            }
            let s = plan::sensitivity(&p, costs);
            // Start at "no larger than int8-dynamic", the budget the issue of every
            // practitioner begins with.
            let off = if int8_embeddings.get_untracked() {
                ctx.status.with_untracked(saving_of)
            } else {
                0
            };
            budget.try_set(uniform_bytes(&s, Scheme::Int8Dynamic) - off);
            sens.try_set(Some(s));
            phase.try_set(Phase::Measured);
        });
    };

    // Sends a build request and shows its outcome; the phase returns to where it was.
    let send = move |request: BuildRequest| {
        phase.set(Phase::Applying);
        error.set(None);
        spawn_local(async move {
            match request.await {
                Ok(o) => {
                    outcome.try_set(Some(o));
                    runs.try_update(|n| *n += 1);
                }
                Err(m) => {
                    error.try_set(Some(m));
                }
            }
            let back = if sens.try_get_untracked().flatten().is_some() {
                Phase::Measured
            } else {
                Phase::Idle
            };
            phase.try_set(back);
        });
    };
    let apply = move |recipe: Recipe| {
        send(Box::pin(bridge::recipe_apply(
            recipe,
            int8_embeddings.get_untracked(),
        )))
    };
    let apply_preview = move |_| match preview.get_untracked() {
        Some(Ok(r)) => apply(r),
        Some(Err(m)) => error.set(Some(m)),
        None => error.set(Some("measure the layers first".to_string())),
    };
    let load_file = move |_| {
        let Some(picked) = file
            .get_untracked()
            .and_then(|el| el.files())
            .and_then(|files| files.get(0))
        else {
            return;
        };
        error.set(None);
        if picked.size() > MAX_RECIPE_BYTES {
            error.set(Some(format!(
                "{} is {:.1} MB; a recipe file is a few KB, so it was not read",
                picked.name(),
                picked.size() / 1e6
            )));
            return;
        }
        spawn_local(async move {
            let bytes = match JsFuture::from(picked.array_buffer()).await {
                Ok(buffer) => js_sys::Uint8Array::new(&buffer).to_vec(),
                Err(e) => {
                    error.try_set(Some(format!("cannot read {}: {e:?}", picked.name())));
                    return;
                }
            };
            // Read in the worker: the engine's file checks stay out of the page's wasm.
            send(Box::pin(bridge::recipe_apply_file(
                picked.name(),
                bytes,
                int8_embeddings.get_untracked(),
            )));
        });
    };
    let download = move |_| {
        if let Some(o) = outcome.get_untracked() {
            let name = plan::file_name(o.recipe.bytes);
            if let Err(m) =
                crate::download::save(&name, o.recipe.to_json().as_bytes(), "application/json")
            {
                error.set(Some(m));
            }
        }
    };

    view! {
        <section class="card lab-panel" data-testid="recipe-panel"
            data-phase=move || format!("{:?}", phase.get()).to_lowercase()
            data-runs=move || runs.get().to_string()>
            <h2>"A recipe for your budget"</h2>
            <p class="muted small">
                "Not every layer minds being squeezed equally. Measure each Linear alone in each scheme "
                "on development sentences, choose a size, and squeeze picks a scheme per layer: the least "
                "predicted error that fits. The mixed model is then built here and judged on the held-out "
                "sentences, which the choice never saw."
            </p>
            <div class="actions">
                <label class="field-label inline" for="recipe-sentences">"Development sentences"</label>
                <select id="recipe-sentences" data-testid="recipe-sentences"
                    on:change=move |ev| {
                        if let Ok(n) = event_target_value(&ev).parse() {
                            sentences.set(n);
                        }
                    }>
                    {DEV_SIZES.into_iter().map(|n| view! {
                        <option value=n.to_string() selected=move || sentences.get() == n>{n.to_string()}</option>
                    }).collect_view()}
                </select>
                <button class="button primary" data-testid="recipe-measure"
                    disabled=move || matches!(phase.get(), Phase::Measuring | Phase::Applying) || !ctx.ready()
                    on:click=measure>
                    "Measure every layer"
                </button>
                {move || (phase.get() == Phase::Measuring).then(|| view! {
                    <button class="button" data-testid="recipe-cancel" on:click=move |_| cancel.set(true)>"Cancel"</button>
                    <span class="spinner" role="status">
                        {move || format!("layer {} of {}…", measured.get(), layer_count.get())}
                    </span>
                })}
            </div>
            {move || error.get().map(|m| view! { <p class="error" role="alert" data-testid="recipe-error">{m}</p> })}
            {move || sens.get().map(|s| {
                // In the current embedding storage: the range and the uniform schemes' sizes.
                let off = emb_saving();
                let lo = s.min_bytes() - off;
                let hi = s.f32_bytes() - off;
                let marks: Vec<(Scheme, u64)> = [Scheme::Int8Dynamic, Scheme::Q8_0, Scheme::Q4K]
                    .into_iter()
                    .map(|sc| (sc, uniform_bytes(&s, sc) - off))
                    .collect();
                view! {
                    <div class="recipe-budget" data-testid="recipe-budget"
                        data-min=lo.to_string() data-max=hi.to_string()>
                        <label class="field-label" for="recipe-budget-range">
                            {move || format!("Size budget: {} (Linear layers and everything else)", format::size(budget.get()))}
                        </label>
                        <input type="range" id="recipe-budget-range" data-testid="recipe-budget-range"
                            min=lo.to_string() max=hi.to_string() step="1000"
                            prop:value=move || budget.get().to_string()
                            on:input=move |ev| {
                                if let Ok(v) = event_target_value(&ev).parse::<u64>() {
                                    budget.set(v);
                                }
                            }/>
                        <div class="actions">
                            {marks.into_iter().map(|(sc, bytes)| view! {
                                <button class="button small" data-testid="recipe-as-small-as" data-scheme=sc.name()
                                    on:click=move |_| budget.set(bytes)>
                                    {format!("as small as {sc}")}
                                </button>
                            }).collect_view()}
                            <label class="recipe-option">
                                <input type="checkbox" data-testid="recipe-int8-embeddings"
                                    prop:checked=move || int8_embeddings.get()
                                    on:change=move |ev| {
                                        // The same Linear allotment, minus (or plus) what the
                                        // embeddings save: the budget follows the storage.
                                        let on = event_target_checked(&ev);
                                        let delta = ctx.status.with_untracked(saving_of);
                                        budget.update(|b| *b = if on { b.saturating_sub(delta) } else { *b + delta });
                                        int8_embeddings.set(on);
                                    }/>
                                " int8 embeddings (one scale per row)"
                            </label>
                        </div>
                    </div>
                }
            })}
            {move || preview.get().map(|p| match p {
                Ok(r) => view! { <Preview recipe=r saved=emb_saving()/> }.into_any(),
                Err(m) => view! { <p class="banner warning" data-testid="recipe-none">{m}</p> }.into_any(),
            })}
            <div class="actions">
                <button class="button primary" data-testid="recipe-apply"
                    disabled=move || phase.get() != Phase::Measured || !matches!(preview.get(), Some(Ok(_)))
                    on:click=apply_preview>
                    {move || if phase.get() == Phase::Applying { "Building and judging…" } else { "Build this mixed model" }}
                </button>
                <label class="small">"or load a recipe file "
                    <input type="file" accept=".json,application/json"
                        data-testid="recipe-file" node_ref=file
                        disabled=move || !ctx.ready() || phase.get() == Phase::Applying
                        on:change=load_file/>
                </label>
                {move || outcome.with(Option::is_some).then(|| view! {
                    <button class="button" data-testid="recipe-download" on:click=download>"Download the recipe (JSON)"</button>
                })}
            </div>
            {move || outcome.get().map(|o| view! { <Outcome outcome=o/> })}
        </section>
    }
}

/// The recipe the budget picks, before it is built: bytes, predicted error, schemes used.
#[component]
fn Preview(recipe: Recipe, saved: u64) -> impl IntoView {
    let counts: Vec<String> = recipe
        .counts()
        .into_iter()
        .map(|(s, n)| format!("{n} × {s}"))
        .collect();
    view! {
        <p class="small" data-testid="recipe-preview"
            data-bytes=(recipe.bytes - saved).to_string()
            data-predicted-error=format!("{:?}", recipe.predicted_error)>
            {format!(
                "Picked: {} · predicted logits MSE {} (the per-layer errors added) · {}",
                format::size(recipe.bytes - saved),
                format::small(recipe.predicted_error as f32),
                counts.join(", ")
            )}
        </p>
    }
}

/// The mixed model judged, in a table and on the size–error chart.
#[component]
fn Outcome(outcome: RecipeOutcome) -> impl IntoView {
    let o = outcome;
    let f32_acc = o.f32.accuracy;
    let accuracy_gap = 100.0 * (o.mixed.accuracy - f32_acc);
    // With int8 embeddings every quantized row has them: like is compared with like.
    let emb = if o.int8_embeddings { " + int8 emb" } else { "" };
    let mut rows = vec![("f32".to_string(), o.f32.clone(), false)];
    rows.push((format!("recipe{emb}"), o.mixed.clone(), true));
    rows.extend(
        o.uniform
            .iter()
            .map(|(s, e)| (format!("{}{emb}", s.name()), e.clone(), false)),
    );
    let layers = o.recipe.layers.clone();
    view! {
        <div data-testid="recipe-outcome"
            data-bytes=o.mixed.bytes.to_string()
            data-accuracy=format!("{:?}", o.mixed.accuracy)
            data-f32-accuracy=format!("{:?}", f32_acc)
            data-agreement=format!("{:?}", o.mixed.agreement)
            data-mean-mse=format!("{:?}", o.mixed.mean_mse)
            data-int8-embeddings=o.int8_embeddings.to_string()
            data-n=o.mixed.n.to_string()>
            <p class="small">
                {format!(
                    "The mixed model: {}, held-out accuracy {} ({:+.1} points against f32's {}), \
                     same label as f32 on {} of {} sentences ({}).",
                    format::size(o.mixed.bytes),
                    percent(o.mixed.accuracy),
                    accuracy_gap,
                    percent(f32_acc),
                    o.mixed.agreeing,
                    o.mixed.n,
                    percent(o.mixed.agreement),
                )}
                {o.int8_embeddings.then_some(" Word embeddings int8, one scale per row.")}
            </p>
            <div class="table-scroll">
                <table class="scheme-table" data-testid="recipe-table">
                    <thead><tr>
                        <th>"model"</th><th>"size"</th><th>"held-out accuracy"</th>
                        <th>"agrees with f32"</th><th>"mean MSE vs f32"</th>
                    </tr></thead>
                    <tbody>
                        {rows.iter().map(|(name, e, mine)| view! {
                            <tr data-testid="recipe-row" data-model=name.clone() data-bytes=e.bytes.to_string()
                                data-accuracy=format!("{:?}", e.accuracy) data-agreement=format!("{:?}", e.agreement)
                                class:mine=*mine>
                                <th scope="row">{name.clone()}</th>
                                <td>{format::size(e.bytes)}</td>
                                <td>{percent(e.accuracy)}</td>
                                <td>{percent(e.agreement)}</td>
                                <td class="mono">{format::small(e.mean_mse as f32)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <RecipeChart rows=rows.into_iter().map(|(n, e, m)| (n, e.bytes, e.mean_mse, m)).collect()/>
            <details>
                <summary>"The scheme of every layer"</summary>
                <div class="table-scroll">
                <table class="scheme-table small" data-testid="recipe-layers">
                    <thead><tr><th>"layer"</th><th>"scheme"</th><th>"bytes"</th><th>"predicted error"</th></tr></thead>
                    <tbody>
                        {layers.into_iter().map(|l| view! {
                            <tr data-testid="recipe-layer" data-layer=l.layer.clone() data-scheme=l.scheme.name()>
                                <td class="mono">{l.layer.clone()}</td>
                                <td>{l.scheme.name()}</td>
                                <td>{format::size(l.bytes)}</td>
                                <td class="mono">{format::small(l.predicted_error as f32)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
            </details>
        </div>
    }
}

const W: f64 = 520.0;
const H: f64 = 280.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 44.0;

/// Size against held-out mean logits MSE: the recipe among the uniform schemes.
#[component]
fn RecipeChart(
    /// (name, bytes, mean MSE, is the recipe)
    rows: Vec<(String, u64, f64, bool)>,
) -> impl IntoView {
    let axis = LogAxis::covering(&rows.iter().map(|r| r.2).collect::<Vec<_>>());
    // The x axis spans the sizes shown (not from zero), so close models separate.
    let sizes: Vec<f64> = rows.iter().map(|r| r.1 as f64 / 1e6).collect();
    let max_mb = sizes.iter().copied().fold(0.0, f64::max);
    let min_mb = sizes.iter().copied().fold(max_mb, f64::min);
    let pad = ((max_mb - min_mb) * 0.06).max(0.05);
    let (lo_mb, hi_mb) = ((min_mb - pad).max(0.0), max_mb + pad);
    let x = Linear::new(lo_mb, hi_mb, LEFT, W - RIGHT - 70.0);
    let y = Linear::new(axis.lo, axis.hi, H - BOTTOM, TOP);
    let at: Vec<(f64, f64)> = rows
        .iter()
        .map(|(_, bytes, mse, _)| (x.at(*bytes as f64 / 1e6), y.at(axis.position(*mse))))
        .collect();
    // About 6 px per character at the labels' size.
    let widths: Vec<f64> = rows.iter().map(|r| r.0.len() as f64 * 6.0).collect();
    let label_y = label_rows(&at, &widths);
    view! {
        <figure class="chart recipe-chart">
            <svg viewBox=format!("0 0 {W} {H}") role="img" data-testid="recipe-chart"
                aria-label="Model size against held-out mean logits MSE: the recipe and every uniform scheme">
                {axis.decades().into_iter().map(|k| {
                    let py = y.at(f64::from(k));
                    view! {
                        <line x1=LEFT x2=W - RIGHT y1=py y2=py class="grid-rule"/>
                        <text x=LEFT - 6.0 y=py + 4.0 text-anchor="end" class="tick">{format!("1e{k}")}</text>
                    }
                }).collect_view()}
                <text x=(LEFT + W - RIGHT) / 2.0 y=H - 6.0 text-anchor="middle" class="axis-label">"size (MB)"</text>
                <text x=LEFT y=H - BOTTOM + 16.0 class="tick">{format!("{lo_mb:.1}")}</text>
                <text x=W - RIGHT - 70.0 y=H - BOTTOM + 16.0 text-anchor="end" class="tick">{format!("{hi_mb:.1}")}</text>
                {rows.iter().enumerate().map(|(i, (name, _, _, mine))| {
                    let (px, py) = at[i];
                    let ly = label_y[i];
                    view! {
                        <g data-testid="recipe-point" data-model=name.clone() data-recipe=mine.to_string()>
                            {if *mine {
                                view! { <rect x=px - 7.0 y=py - 7.0 width="14" height="14" class="recipe-mark"/> }.into_any()
                            } else {
                                view! { <circle cx=px cy=py r="4.5" fill=palette(i)/> }.into_any()
                            }}
                            <text x=px + 8.0 y=ly class="point-label">{name.clone()}</text>
                        </g>
                    }
                }).collect_view()}
            </svg>
            <figcaption class="small muted">
                "Each point is a whole model judged on the held-out sentences; the square is the recipe. "
                "Lower left is better. f32 has zero error and sits on the floor."
            </figcaption>
        </figure>
    }
}
