//! *Block formats*: one real weight row packed as GGML q8_0, q4_0 and q4_k — each block's
//! scale(s) and min(s), the stored integers, bits per weight and the row's error, from
//! the bytes candle stores.

use leptos::prelude::*;
use leptos::task::spawn_local;

use content::figure::{self as settings, BlockFormat};

use super::activations::{linear_names, short};
use super::frame::{bundled_model, ErrorLine, FigureFrame, ModelLine};
use super::messages::PackedRows;
use super::{bridge, run_store};
use crate::engine::explain::{BlockView, PackedRow};
use crate::engine::Scheme;
use crate::format;
use crate::lab::state::ModelStatus;

/// The figure.
#[component]
pub fn BlockFormats(
    /// The figure's id in its lesson.
    id: String,
    /// Its settings from the lesson.
    settings: &'static settings::BlockFormats,
) -> impl IntoView {
    let layer = RwSignal::new(settings.layer.clone());
    let row = RwSignal::new(settings.row);
    let formats: Vec<Scheme> = settings.formats.iter().map(|f| scheme(*f)).collect();
    let result = RwSignal::new(None::<PackedRows>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let run = move || {
        let formats = formats.clone();
        busy.set(true);
        spawn_local(async move {
            let outcome =
                bridge::pack_row(layer.get_untracked(), row.get_untracked(), formats).await;
            busy.try_set(false);
            match outcome {
                Ok(rows) => {
                    run_store::update(|r| {
                        r.block_formats = Some(content::run::BlockFormatsRun {
                            layer: rows.layer.clone(),
                            row: rows.row as u32,
                            errors: rows
                                .packed
                                .iter()
                                .map(|p| (p.format.name().to_string(), p.mse))
                                .collect(),
                        })
                    });
                    error.try_set(None);
                    result.try_set(Some(rows));
                }
                Err(message) => {
                    error.try_set(Some(message));
                }
            }
        });
    };
    let run_now = run.clone();
    let status = bundled_model(run_now);
    let layer_names = move || {
        status.with(|s| match s {
            ModelStatus::Ready(ready) => linear_names(ready.info.layers),
            _ => vec![layer.get_untracked()],
        })
    };
    let rows_max = move || result.with(|r| r.as_ref().map_or(1, |r| r.rows).saturating_sub(1));
    let (run_layer, run_row) = (run.clone(), run.clone());

    view! {
        <FigureFrame id=id title="Block formats"
            caption="One real weight row, packed block by block: the scales, the integers and what each format costs in bits and in error.">
            <ModelLine status=status/>
            <div class="figure-controls">
                <label>"Layer "
                    <select data-testid="blocks-layer" on:change=move |ev| { layer.set(event_target_value(&ev)); run_layer(); }>
                        {move || layer_names().into_iter().map(|name| {
                            let selected = name == layer.get_untracked();
                            view! { <option value=name.clone() selected=selected>{short(&name).to_string()}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label>"Row "
                    <input type="number" min="0" max=move || rows_max().to_string() step="1" size="5"
                        data-testid="blocks-row" prop:value=move || row.get().to_string()
                        on:change=move |ev| {
                            if let Ok(r) = event_target_value(&ev).trim().parse::<u32>() {
                                row.set(r);
                                run_row();
                            }
                        }/>
                </label>
            </div>
            <ErrorLine error=error.into()/>
            {move || result.get().map(|r| view! { <Packed rows=r/> })}
        </FigureFrame>
    }
}

#[component]
fn Packed(rows: PackedRows) -> impl IntoView {
    let n = rows.weights.len();
    let intro = format!(
        "{} row {} of {}: {} weights, {} bytes as f32.",
        short(&rows.layer),
        rows.row,
        rows.rows,
        n,
        n * 4
    );
    let unfit = rows
        .unfit
        .iter()
        .map(|(s, why)| view! { <li>{format!("{}: stays f32 — {why}", s.name())}</li> })
        .collect_view();
    let cards = rows
        .packed
        .iter()
        .map(|p| view! { <FormatCard packed=p.clone() weights=rows.weights.clone()/> })
        .collect_view();
    view! {
        <p class="figure-numbers">{intro}</p>
        <ul class="small">{unfit}</ul>
        <div class="blocks-grid">{cards}</div>
    }
}

#[component]
fn FormatCard(packed: PackedRow, weights: Vec<f32>) -> impl IntoView {
    let name = packed.format.name();
    let line = format!(
        "{:.1} bits per weight, {} bytes; row MSE {}, largest error {}",
        packed.bits_per_weight,
        packed.stored_bytes,
        format::small(packed.mse),
        format::small(packed.max_abs_error)
    );
    let decode = match (
        packed.offset,
        packed.blocks.first().is_some_and(|b| !b.mins.is_empty()),
    ) {
        (0, false) => "weight = scale × integer".to_string(),
        (o, false) => format!("weight = scale × (integer − {o})"),
        (0, true) => "weight = scale × integer − min, per sub-block of 32".to_string(),
        (o, true) => format!("weight = scale × (integer − {o}) − min, per sub-block of 32"),
    };
    let blocks = packed
        .blocks
        .iter()
        .enumerate()
        .map(|(i, b)| view! { <BlockRow index=i block=b.clone()/> })
        .collect_view();
    view! {
        <section class="panel block-card" data-testid=format!("blocks-{name}") data-mse=packed.mse.to_string()
            data-max-error=packed.max_abs_error.to_string() data-bits=packed.bits_per_weight.to_string()
            data-blocks=packed.blocks.len().to_string()>
            <h3 class="panel-label">{name}</h3>
            <p class="small">{line}</p>
            <p class="small muted">{decode}</p>
            <ErrorStrip weights=weights dequantized=packed.dequantized.clone() blocks=packed.blocks.iter().map(|b| b.start).collect()/>
            <details class="figure-details">
                <summary>{format!("{} blocks: scales and integers", packed.blocks.len())}</summary>
                <div class="table-scroll">
                    <table class="figure-table blocks-table">
                        <thead><tr>
                            <th scope="col">"block"</th><th scope="col">"weights"</th>
                            <th scope="col">"scale(s)"</th><th scope="col">"min(s)"</th><th scope="col">"integers"</th>
                        </tr></thead>
                        <tbody>{blocks}</tbody>
                    </table>
                </div>
            </details>
        </section>
    }
}

#[component]
fn BlockRow(index: usize, block: BlockView) -> impl IntoView {
    let list = |xs: &[f32]| -> String {
        if xs.is_empty() {
            "–".to_string()
        } else {
            xs.iter()
                .map(|x| format!("{x:.4}"))
                .collect::<Vec<_>>()
                .join(" ")
        }
    };
    let ints: Vec<String> = block.ints.iter().map(i32::to_string).collect();
    view! {
        <tr data-testid="blocks-block">
            <td>{index}</td>
            <td>{format!("{} … {}", block.start, block.start + block.len - 1)}</td>
            <td class="mono">{list(&block.scales)}</td>
            <td class="mono">{list(&block.mins)}</td>
            <td class="mono ints">{ints.join(" ")}</td>
        </tr>
    }
}

/// Each weight's error as a thin bar, block boundaries as ticks: where a block's one
/// scale fits its weights badly, the bars grow together.
#[component]
fn ErrorStrip(weights: Vec<f32>, dequantized: Vec<f32>, blocks: Vec<usize>) -> impl IntoView {
    const W: f64 = 600.0;
    const H: f64 = 50.0;
    let errors: Vec<f64> = weights
        .iter()
        .zip(&dequantized)
        .map(|(w, d)| f64::from((w - d).abs()))
        .collect();
    let top = errors.iter().copied().fold(1e-12, f64::max);
    let step = W / errors.len().max(1) as f64;
    let bars = errors
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let h = e / top * (H - 6.0);
            view! { <rect class="strip-bar" x=i as f64 * step y=H - h width=step.max(0.5) height=h/> }
        })
        .collect_view();
    let ticks = blocks
        .iter()
        .skip(1)
        .map(|s| {
            let x = *s as f64 * step;
            view! { <line class="strip-block" x1=x x2=x y1="0" y2=H/> }
        })
        .collect_view();
    view! {
        <svg class="blocks-strip" viewBox="0 0 600 50" preserveAspectRatio="none" role="img"
            aria-label=format!("Error of each of {} weights, largest {:.5}; block boundaries marked", errors.len(), top)>
            {bars}
            {ticks}
        </svg>
    }
}

/// The engine's scheme for a lesson's block format.
fn scheme(format: BlockFormat) -> Scheme {
    match format {
        BlockFormat::Q8_0 => Scheme::Q8_0,
        BlockFormat::Q4_0 => Scheme::Q4_0,
        BlockFormat::Q4K => Scheme::Q4K,
    }
}
