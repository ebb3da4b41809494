//! *Quantize a tensor*: the quantization lesson's worked example, live. A few editable
//! numbers; bits, mapping (affine or symmetric), one range per tensor or per row, and a
//! range taken from the values or fixed in advance. Shows the grid, the scale and zero
//! point, where every value lands, its rounding error and what clipping does.
//!
//! Eight numbers are no work: the engine's `explain::quantize_tensor` runs on the page.

use leptos::prelude::*;

use content::figure as settings;

use super::frame::{ErrorLine, FigureFrame};
use super::run_store;
use crate::engine::explain::{
    quantize_tensor, Granularity, Group, Mapping, QuantizedTensor, RangeSource, TensorSpec,
};

/// Most rows and values per row the figure edits.
const MAX_ROWS: usize = 4;
const MAX_VALUES: usize = 8;
/// The bit widths offered.
const BITS: [u8; 4] = [8, 4, 3, 2];

/// The figure.
#[component]
pub fn QuantizeTensor(
    /// The figure's id in its lesson.
    id: String,
    /// Its settings from the lesson.
    settings: &'static settings::QuantizeTensor,
) -> impl IntoView {
    let cells = RwSignal::new(
        settings
            .values
            .iter()
            .map(|row| row.iter().map(|v| v.to_string()).collect::<Vec<_>>())
            .collect::<Vec<_>>(),
    );
    let bits = RwSignal::new(settings.bits);
    let symmetric = RwSignal::new(settings.mapping == settings::Mapping::Symmetric);
    let per_row = RwSignal::new(settings.granularity == settings::Granularity::Row);
    let fixed = RwSignal::new(settings.range.is_some());
    let (lo, hi) = settings.range.map(|[a, b]| (a, b)).unwrap_or((-1.0, 1.0));
    let range_min = RwSignal::new(lo.to_string());
    let range_max = RwSignal::new(hi.to_string());

    let result = Memo::new(move |_| {
        let rows = cells.with(|c| parse_cells(c))?;
        let range = if fixed.get() {
            let min = parse_number(&range_min.get(), "the range's minimum")?;
            let max = parse_number(&range_max.get(), "the range's maximum")?;
            RangeSource::Fixed { min, max }
        } else {
            RangeSource::FromValues
        };
        let spec = TensorSpec {
            bits: bits.get(),
            mapping: if symmetric.get() {
                Mapping::Symmetric
            } else {
                Mapping::Affine
            },
            granularity: if per_row.get() {
                Granularity::PerRow
            } else {
                Granularity::PerTensor
            },
            range,
        };
        quantize_tensor(&rows, &spec)
            .map(|q| (spec, q))
            .map_err(|e| e.to_string())
    });
    // Whatever the learner settles on is what the quiz asks about.
    Effect::new(move |_| {
        if let Ok((spec, q)) = result.get() {
            run_store::update(|run| run.tensor = Some(tensor_run(&spec, &q)));
        }
    });
    let error = Signal::derive(move || result.get().err());

    let set_cell = move |r: usize, c: usize, text: String| {
        cells.update(|cells| {
            if let Some(cell) = cells.get_mut(r).and_then(|row| row.get_mut(c)) {
                *cell = text;
            }
        })
    };
    let inputs = move || {
        cells
            .get()
            .into_iter()
            .enumerate()
            .map(|(r, row)| {
                let fields = row
                    .into_iter()
                    .enumerate()
                    .map(|(c, text)| {
                        view! {
                            <input class="qt-value" type="text" inputmode="decimal" size="6"
                                data-testid=format!("qt-value-{r}-{c}")
                                aria-label=format!("Row {}, value {}", r + 1, c + 1)
                                prop:value=text
                                on:change=move |ev| set_cell(r, c, event_target_value(&ev))/>
                        }
                    })
                    .collect_view();
                view! { <div class="qt-row" role="group" aria-label=format!("Row {}", r + 1)>{fields}</div> }
            })
            .collect_view()
    };
    let resize = move |rows: isize, values: isize| {
        cells.update(|cells| {
            let width = cells.first().map_or(1, Vec::len) as isize;
            let new_width = (width + values).clamp(1, MAX_VALUES as isize) as usize;
            let new_rows = (cells.len() as isize + rows).clamp(1, MAX_ROWS as isize) as usize;
            cells.resize(new_rows, vec!["0".to_string(); new_width]);
            for (i, row) in cells.iter_mut().enumerate() {
                // A new row or value starts from something worth looking at.
                let fill = format!("{:.2}", 0.37 * (i as f32 + 1.0));
                row.resize(new_width, fill);
            }
        })
    };

    view! {
        <FigureFrame id=id title="Quantize a tensor"
            caption="Edit the numbers or the settings: the grid, the scale, the zero point and each value's error follow.">
            <div class="figure-controls">
                <label>"Bits "
                    <select data-testid="qt-bits" on:change=move |ev| {
                        if let Ok(b) = event_target_value(&ev).parse() { bits.set(b) }
                    }>
                        {BITS.iter().map(|b| view! {
                            <option value=b.to_string() selected=move || bits.get() == *b>{format!("{b}-bit")}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>"Mapping "
                    <select data-testid="qt-mapping" on:change=move |ev| symmetric.set(event_target_value(&ev) == "symmetric")>
                        <option value="affine" selected=move || !symmetric.get()>"affine (with a zero point)"</option>
                        <option value="symmetric" selected=move || symmetric.get()>"symmetric (zero point 0)"</option>
                    </select>
                </label>
                <label>"Ranges "
                    <select data-testid="qt-granularity" on:change=move |ev| per_row.set(event_target_value(&ev) == "row")>
                        <option value="tensor" selected=move || !per_row.get()>"one for the tensor"</option>
                        <option value="row" selected=move || per_row.get()>"one per row (channel)"</option>
                    </select>
                </label>
                <label class="qt-fixed">
                    <input type="checkbox" data-testid="qt-fixed" prop:checked=move || fixed.get()
                        on:change=move |ev| fixed.set(event_target_checked(&ev))/>
                    " Fix the range in advance (static)"
                </label>
                <Show when=move || fixed.get()>
                    <label>"min "
                        <input type="text" inputmode="decimal" size="6" data-testid="qt-min"
                            prop:value=move || range_min.get() on:change=move |ev| range_min.set(event_target_value(&ev))/>
                    </label>
                    <label>"max "
                        <input type="text" inputmode="decimal" size="6" data-testid="qt-max"
                            prop:value=move || range_max.get() on:change=move |ev| range_max.set(event_target_value(&ev))/>
                    </label>
                </Show>
            </div>
            <div class="qt-inputs">{inputs}</div>
            <div class="actions figure-actions">
                <button class="button small" data-testid="qt-add-value" on:click=move |_| resize(0, 1)>"+ value"</button>
                <button class="button small" data-testid="qt-remove-value" on:click=move |_| resize(0, -1)>"− value"</button>
                <button class="button small" data-testid="qt-add-row" on:click=move |_| resize(1, 0)>"+ row"</button>
                <button class="button small" data-testid="qt-remove-row" on:click=move |_| resize(-1, 0)>"− row"</button>
            </div>
            <ErrorLine error=error/>
            {move || result.get().ok().map(|(spec, q)| view! { <Groups spec=spec q=q/> })}
        </FigureFrame>
    }
}

#[component]
fn Groups(spec: TensorSpec, q: QuantizedTensor) -> impl IntoView {
    let levels = (1u32 << spec.bits) as usize;
    let per_row = q.groups.len() > 1 || matches!(spec.granularity, Granularity::PerRow);
    let worst = q
        .groups
        .iter()
        .flat_map(|g| g.values.iter().map(move |v| (v, g.scale)))
        .fold(None::<(f32, f32, bool)>, |acc, (v, s)| match acc {
            Some((e, _, _)) if e >= v.error => acc,
            _ => Some((v.error, s, v.clipped)),
        });
    let clipped: usize = q
        .groups
        .iter()
        .map(|g| g.values.iter().filter(|v| v.clipped).count())
        .sum();
    let summary = match worst {
        Some((e, s, _)) if clipped == 0 => format!(
            "Largest error {}: within half a step (s / 2 = {}), as rounding promises.",
            num(e),
            num(s / 2.0)
        ),
        Some((e, _, _)) => format!(
            "Largest error {}: {clipped} value{} outside the range {} clipped to its edge.",
            num(e),
            if clipped == 1 { "" } else { "s" },
            if clipped == 1 { "was" } else { "were" }
        ),
        None => String::new(),
    };
    let groups = q
        .groups
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            let name = if per_row {
                format!("Row {}", i + 1)
            } else {
                "The tensor".to_string()
            };
            view! { <GroupView index=i name=name group=g levels=levels/> }
        })
        .collect_view();
    view! {
        {groups}
        <p class="figure-summary" data-testid="qt-summary" data-clipped=clipped.to_string()>{summary}</p>
    }
}

#[component]
fn GroupView(index: usize, name: String, group: Group, levels: usize) -> impl IntoView {
    let line = format!(
        "{name}: range {} … {}, scale s = {}, zero point z = {}, integers {} … {} ({levels} levels).",
        num(group.min),
        num(group.max),
        num(group.scale),
        group.zero_point,
        group.q_min,
        group.q_max
    );
    let rows = group
        .values
        .iter()
        .map(|v| {
            view! {
                <tr class:clipped=v.clipped data-testid="qt-value-row" data-x=v.x.to_string()
                    data-q=v.q.to_string() data-back=v.back.to_string() data-error=v.error.to_string()
                    data-clipped=v.clipped.to_string()>
                    <td>{num(v.x)}</td>
                    <td>{format!("{:.2}", v.scaled)}</td>
                    <td>{v.q}{v.clipped.then_some(" (clamped)")}</td>
                    <td>{num(v.back)}</td>
                    <td>{num(v.error)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="qt-group" data-testid=format!("qt-group-{index}") data-scale=group.scale.to_string()
            data-zero-point=group.zero_point.to_string()>
            <p class="figure-numbers">{line.clone()}</p>
            <NumberLine group=group.clone() levels=levels label=line/>
            <div class="table-scroll">
                <table class="figure-table">
                    <caption class="visually-hidden">{format!("{name}: each value quantized and back")}</caption>
                    <thead><tr>
                        <th scope="col">"x"</th><th scope="col">"x / s + z"</th><th scope="col">"q"</th>
                        <th scope="col">"back: s × (q − z)"</th><th scope="col">"error"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </div>
    }
}

/// The grid on a number line, each value above it and where it lands on it.
#[component]
fn NumberLine(group: Group, levels: usize, label: String) -> impl IntoView {
    const W: f64 = 600.0;
    const PAD: f64 = 16.0;
    let xs = group
        .values
        .iter()
        .flat_map(|v| [v.x, v.back])
        .chain([group.min, group.max]);
    let (lo, hi) = xs.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    });
    let span = f64::from((hi - lo).max(1e-6));
    let at = move |x: f32| PAD + (f64::from(x - lo) / span) * (W - 2.0 * PAD);
    // Every grid point when they are few; otherwise every k-th, and the text says so.
    let every = levels.div_ceil(64).max(1);
    let ticks = (group.q_min..=group.q_max)
        .step_by(every)
        .map(|q| {
            let x = at(group.scale * (q - group.zero_point) as f32);
            view! { <line class="qt-tick" x1=x x2=x y1="44" y2="52"/> }
        })
        .collect_view();
    let marks = group
        .values
        .iter()
        .map(|v| {
            let (x, b) = (at(v.x), at(v.back));
            view! {
                <line class="qt-move" class:clipped=v.clipped x1=x y1="20" x2=b y2="48"/>
                <circle class="qt-x" class:clipped=v.clipped cx=x cy="16" r="4"/>
                <rect class="qt-back" x=b - 3.0 y="45" width="6" height="6"/>
            }
        })
        .collect_view();
    let zero = at(0.0);
    let note = (every > 1).then(|| format!("every {every}th of the {levels} grid points drawn"));
    view! {
        <svg class="qt-line" viewBox="0 0 600 70" role="img" aria-label=label preserveAspectRatio="none">
            <line class="qt-axis" x1=PAD x2=W - PAD y1="48" y2="48"/>
            <line class="qt-range" x1=at(group.min) x2=at(group.max) y1="48" y2="48"/>
            {ticks}
            <line class="qt-zero" x1=zero x2=zero y1="38" y2="58"/>
            {marks}
            <text class="qt-axis-label" x=PAD y="66">{num(lo)}</text>
            <text class="qt-axis-label" x=W - PAD y="66" text-anchor="end">{num(hi)}</text>
        </svg>
        {note.map(|n| view! { <p class="small muted">{n}</p> })}
    }
}

/// What the quiz reads back: the scale and zero point of the group with the largest error.
fn tensor_run(spec: &TensorSpec, q: &QuantizedTensor) -> content::run::TensorRun {
    let values = q.groups.iter().flat_map(|g| g.values.iter());
    let group_error = |g: &Group| g.values.iter().map(|v| v.error).fold(0.0, f32::max);
    let worst = q
        .groups
        .iter()
        .max_by(|a, b| group_error(a).total_cmp(&group_error(b)));
    content::run::TensorRun {
        bits: spec.bits,
        mapping: match spec.mapping {
            Mapping::Affine => "affine",
            Mapping::Symmetric => "symmetric",
        }
        .to_string(),
        scale: worst.map_or(0.0, |g| g.scale),
        zero_point: worst.map_or(0, |g| g.zero_point),
        max_error: values.clone().map(|v| v.error).fold(0.0, f32::max),
        clipped: values.clone().filter(|v| v.clipped).count(),
        values: values.count(),
    }
}

/// A number as a learner reads it: up to 4 significant decimals, no trailing zeros.
fn num(x: f32) -> String {
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

fn parse_number(text: &str, what: &str) -> Result<f32, String> {
    match text.trim().parse::<f32>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(format!("{what} “{}” is not a number", text.trim())),
    }
}

/// The typed cells as numbers; the first cell that is not one is named.
fn parse_cells(cells: &[Vec<String>]) -> Result<Vec<Vec<f32>>, String> {
    cells
        .iter()
        .enumerate()
        .map(|(r, row)| {
            row.iter()
                .enumerate()
                .map(|(c, text)| parse_number(text, &format!("row {}, value {}", r + 1, c + 1)))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_cleanly() {
        assert_eq!(num(0.01), "0.01");
        assert_eq!(num(0.45000005), "0.45");
        assert_eq!(num(-0.00001), "0");
        assert_eq!(num(100.0), "100");
    }

    #[test]
    fn a_bad_cell_is_named() {
        let cells = vec![vec!["1".to_string(), "x".to_string()]];
        assert_eq!(
            parse_cells(&cells),
            Err("row 1, value 2 “x” is not a number".to_string())
        );
        assert_eq!(
            parse_cells(&[vec![" 2.5 ".to_string()]]),
            Ok(vec![vec![2.5]])
        );
        assert!(parse_number("inf", "x").is_err());
    }
}
