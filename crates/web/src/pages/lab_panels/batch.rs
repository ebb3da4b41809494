//! Batch evaluation: the held-out set (built into the worker) or the learner's own
//! labelled sentences through f32 and each ticked scheme, in small chunks. The page
//! sends the next chunk only after the last one answered and only if Cancel was not
//! pressed, so Cancel stops the work within one chunk. Every sentence whose label a
//! scheme changed is listed (the flip finder), least sure first, each a link into the lab.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::own_data::OwnDataForm;
use super::LabCtx;
use crate::lab::bridge;
use crate::lab::messages::{BatchCounts, DataSource, Flip, OwnData};
use crate::lab::url::{self as lab_url, ModelChoice};

/// Sentences per chunk: small enough that Cancel answers within a fraction of a second.
const CHUNK: u32 = 8;

/// Where a batch is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    Running,
    Cancelled,
    Done,
    Failed,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Running => "running",
            Phase::Cancelled => "cancelled",
            Phase::Done => "done",
            Phase::Failed => "failed",
        }
    }
}

/// Adds one chunk's counts to the running totals (matched by scheme).
fn accumulate(totals: &mut Vec<BatchCounts>, chunk: &[BatchCounts]) {
    for c in chunk {
        match totals.iter_mut().find(|t| t.scheme == c.scheme) {
            Some(t) => {
                t.seen += c.seen;
                t.correct += c.correct;
                t.agree += c.agree;
            }
            None => totals.push(*c),
        }
    }
}

fn percent(part: u32, whole: u32) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * f64::from(part) / f64::from(whole)
    }
}

/// The batch panel.
#[component]
pub fn BatchPanel(
    /// Shared lab state.
    ctx: LabCtx,
) -> impl IntoView {
    let phase = RwSignal::new(Phase::Idle);
    let done = RwSignal::new(0u32);
    let total = RwSignal::new(0u32);
    let chunks = RwSignal::new(0u32);
    let cancel = RwSignal::new(false);
    let totals = RwSignal::new(Vec::<BatchCounts>::new());
    let flips = RwSignal::new(Vec::<Flip>::new());
    let error = RwSignal::new(None::<String>);
    let source = RwSignal::new(DataSource::HeldOut);
    let own = RwSignal::new(None::<OwnData>);
    let ready = Signal::derive(move || ctx.ready());
    let source_ok = move || source.get() == DataSource::HeldOut || own.with(Option::is_some);

    let start = move |_| {
        if phase.get_untracked() == Phase::Running || !ctx.ready() {
            return;
        }
        let schemes = ctx.schemes.get_untracked();
        let from = source.get_untracked();
        flips.set(Vec::new());
        phase.set(Phase::Running);
        cancel.set(false);
        done.set(0);
        chunks.set(0);
        totals.set(Vec::new());
        error.set(None);
        spawn_local(async move {
            let mut next = 0u32;
            loop {
                // Checked between chunks: the worker is never sent work after Cancel.
                if cancel.try_get_untracked() != Some(false) {
                    phase.try_set(Phase::Cancelled);
                    return;
                }
                match bridge::batch_chunk(next, CHUNK, schemes.clone(), from).await {
                    Ok(r) => {
                        total.try_set(r.total);
                        totals.try_update(|t| accumulate(t, &r.counts));
                        flips.try_update(|f| add_flips(f, r.flips));
                        chunks.try_update(|n| *n += 1);
                        next = r.start + r.len;
                        done.try_set(next);
                        if r.len == 0 || next >= r.total {
                            phase.try_set(Phase::Done);
                            return;
                        }
                    }
                    Err(message) => {
                        error.try_set(Some(message));
                        phase.try_set(Phase::Failed);
                        return;
                    }
                }
            }
        });
    };

    view! {
        <section class="card lab-panel" data-testid="batch-panel" data-state=move || phase.get().name()>
            <h2>"Batch evaluation"</h2>
            <p class="muted small">
                "Every sentence of the held-out sentiment set (never seen in training), or of your own "
                "labelled sentences, through f32 and each ticked scheme: accuracy against the gold labels, "
                "how often each scheme agrees with f32, and every sentence whose label it changed."
            </p>
            <fieldset class="batch-source" data-testid="batch-source">
                <legend>"Sentences"</legend>
                <label><input type="radio" name="batch-source" data-testid="batch-source-held-out"
                    prop:checked=move || source.get() == DataSource::HeldOut
                    on:change=move |_| source.set(DataSource::HeldOut)/>" the held-out set"</label>
                <label><input type="radio" name="batch-source" data-testid="batch-source-own"
                    prop:checked=move || source.get() == DataSource::Own
                    on:change=move |_| source.set(DataSource::Own)/>" your own (TSV or CSV)"</label>
            </fieldset>
            <Show when=move || source.get() == DataSource::Own>
                <OwnDataForm data=own ready=ready/>
            </Show>
            <div class="actions">
                <button class="button primary" data-testid="batch-run"
                    disabled=move || phase.get() == Phase::Running || !ctx.ready() || !source_ok()
                    on:click=start>"Evaluate"</button>
                <button class="button" data-testid="batch-cancel"
                    disabled=move || phase.get() != Phase::Running
                    on:click=move |_| cancel.set(true)>"Cancel"</button>
                <progress data-testid="batch-progress" max=move || total.get().max(1).to_string()
                    value=move || done.get().to_string()
                    data-done=move || done.get().to_string()
                    data-total=move || total.get().to_string()
                    data-chunks=move || chunks.get().to_string()></progress>
                <span class="small muted">{move || match phase.get() {
                    Phase::Idle => String::new(),
                    Phase::Running => format!("{} / {} sentences…", done.get(), total.get()),
                    Phase::Cancelled => format!("Cancelled after {} of {} sentences.", done.get(), total.get()),
                    Phase::Done => format!("All {} sentences done.", total.get()),
                    Phase::Failed => "Stopped by an error.".to_string(),
                }}</span>
            </div>
            {move || error.get().map(|m| view! { <p class="error" role="alert" data-testid="batch-error">{m}</p> })}
            {move || (!totals.with(Vec::is_empty)).then(|| view! {
                <div class="table-scroll">
                    <table class="scheme-table" data-testid="batch-table">
                        <thead><tr><th>"scheme"</th><th>"sentences"</th><th>"accuracy"</th><th>"agrees with f32"</th></tr></thead>
                        <tbody>
                            {totals.get().into_iter().map(|c| view! {
                                <tr data-testid="batch-row" data-scheme=c.scheme.name()
                                    data-seen=c.seen.to_string() data-correct=c.correct.to_string()
                                    data-agree=c.agree.to_string()>
                                    <th scope="row">{c.scheme.name()}</th>
                                    <td>{c.seen}</td>
                                    <td>{format!("{:.1} %", percent(c.correct, c.seen))}</td>
                                    <td>{format!("{:.1} %", percent(c.agree, c.seen))}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            })}
            {move || (phase.get() != Phase::Idle && phase.get() != Phase::Running).then(|| view! {
                <Flips flips=flips.get() schemes=ctx.schemes.get_untracked()/>
            })}
        </section>
    }
}

/// Adds a chunk's flips, keeping the list sorted by f32's margin (least sure first).
fn add_flips(all: &mut Vec<Flip>, chunk: Vec<Flip>) {
    all.extend(chunk);
    all.sort_by(|a, b| {
        a.f32_margin
            .total_cmp(&b.f32_margin)
            .then(a.index.cmp(&b.index))
    });
}

/// The flip finder: every sentence a scheme labelled differently from f32.
#[component]
fn Flips(flips: Vec<Flip>, schemes: Vec<crate::engine::Scheme>) -> impl IntoView {
    let count = flips.len();
    let heading = match count {
        0 => "No scheme changed any label: every ticked scheme agrees with f32 on every sentence."
            .to_string(),
        1 => "1 label changed against f32:".to_string(),
        n => format!("{n} labels changed against f32, least sure sentence first:"),
    };
    let items = flips
        .into_iter()
        .map(|f| {
            let href = crate::site::path(&lab_url::href(&f.text, &schemes, ModelChoice::Default, ""));
            view! {
                <li data-testid="batch-flip" data-scheme=f.scheme.name() data-index=f.index.to_string()
                    data-margin=f.f32_margin.to_string()>
                    <a href=href>{f.text.clone()}</a>
                    <span class="small muted">{format!(
                        " — {}: {} → {} (f32 margin {:.3}; gold {})",
                        f.scheme.name(), f.f32_label, f.label, f.f32_margin, f.gold
                    )}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="batch-flips" data-testid="batch-flips" data-count=count.to_string()>
            <h3>"Flip finder"</h3>
            <p class="small">{heading}</p>
            <ol class="flip-hints">{items}</ol>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Scheme;

    #[test]
    fn chunks_add_up_per_scheme() {
        let c = |scheme, seen, correct, agree| BatchCounts {
            scheme,
            seen,
            correct,
            agree,
        };
        let mut t = Vec::new();
        accumulate(&mut t, &[c(Scheme::F32, 8, 7, 8), c(Scheme::Q4_0, 8, 6, 7)]);
        accumulate(&mut t, &[c(Scheme::F32, 2, 1, 2), c(Scheme::Q4_0, 2, 2, 1)]);
        assert_eq!(
            t,
            vec![c(Scheme::F32, 10, 8, 10), c(Scheme::Q4_0, 10, 8, 8)]
        );
        assert_eq!(percent(1, 4), 25.0);
        assert_eq!(percent(1, 0), 0.0);
    }
}
