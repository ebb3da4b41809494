//! *Flip it*: predict, then reveal. Will int8 (or q4_0) keep f32's label on your
//! sentence? Then edit it until the quantized model disagrees, watching both models'
//! margins as you type; a hint lists the held-out sentences closest to flipping.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use content::figure::{self as settings, FlipScheme};

use super::frame::{bundled_model, ErrorLine, FigureFrame, ModelLine};
use super::messages::FlipCheck;
use super::{bridge, run_store};
use crate::engine::explain::{margin, MarginRow};
use crate::engine::metrics::argmax;
use crate::engine::Scheme;
use crate::format;
use crate::lab::state::check_input;
use crate::lab::url::{self as lab_url, ModelChoice};

/// Quiet time after the last key press before the models run.
const TYPING_PAUSE: Duration = Duration::from_millis(250);

/// What the learner predicted before seeing the numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Guess {
    Keeps,
    Flips,
}

/// The figure.
#[component]
pub fn FlipIt(
    /// The figure's id in its lesson.
    id: String,
    /// Its settings from the lesson.
    settings: &'static settings::FlipIt,
) -> impl IntoView {
    let scheme = match settings.scheme {
        FlipScheme::Int8Dynamic => Scheme::Int8Dynamic,
        FlipScheme::Q4_0 => Scheme::Q4_0,
    };
    let hints_wanted = settings.hints;
    let text = RwSignal::new(settings.text.clone());
    let guess = RwSignal::new(None::<Guess>);
    let check = RwSignal::new(None::<FlipCheck>);
    let error = RwSignal::new(None::<String>);
    let hints = RwSignal::new(None::<Vec<MarginRow>>);
    let typed = RwSignal::new(0u32);

    let run = move || {
        let sentence = text.get_untracked();
        if let Err(message) = check_input(&sentence) {
            error.set(Some(message.to_string()));
            return;
        }
        spawn_local(async move {
            match bridge::flip_check(sentence, scheme).await {
                Ok(c) => {
                    run_store::update(|r| r.flip = Some(flip_run(&c)));
                    error.try_set(None);
                    check.try_set(Some(c));
                }
                Err(message) => {
                    error.try_set(Some(message));
                }
            }
        });
    };
    let status = bundled_model(run);
    let on_input = move |value: String| {
        text.set(value);
        let generation = typed.get_untracked().wrapping_add(1);
        typed.set(generation);
        set_timeout(
            move || {
                if typed.try_get_untracked() == Some(generation) {
                    run();
                }
            },
            TYPING_PAUSE,
        );
    };
    let show_hints = move |_| {
        spawn_local(async move {
            match bridge::closest_calls(scheme, hints_wanted).await {
                Ok(rows) => {
                    hints.try_set(Some(rows));
                }
                Err(message) => {
                    error.try_set(Some(message));
                }
            }
        });
    };
    let name = scheme.name();
    let question = format!("Will {name} keep f32's label on this sentence?");

    view! {
        <FigureFrame id=id.clone() title="Flip it"
            caption="Predict first, then edit the sentence until the quantized model disagrees with f32.">
            <ModelLine status=status/>
            <label class="figure-text-label">"Your sentence"
                <textarea class="figure-text" rows="2" maxlength="2000" data-testid="flip-text"
                    prop:value=move || text.get() on:input=move |ev| on_input(event_target_value(&ev))></textarea>
            </label>
            <fieldset class="flip-guess" data-testid="flip-guess">
                <legend>{question}</legend>
                <label><input type="radio" name=format!("flip-guess-{id}") data-testid="flip-guess-keeps"
                    on:change=move |_| guess.set(Some(Guess::Keeps))/>" It keeps the label"</label>
                <label><input type="radio" name=format!("flip-guess-{id}") data-testid="flip-guess-flips"
                    on:change=move |_| guess.set(Some(Guess::Flips))/>" It flips"</label>
            </fieldset>
            <ErrorLine error=error.into()/>
            {move || match (guess.get(), check.get()) {
                (None, _) => view! { <p class="muted small" data-testid="flip-hidden">"Pick your prediction to see the models' answers."</p> }.into_any(),
                (Some(_), None) => view! { <p class="muted small">"Running…"</p> }.into_any(),
                (Some(g), Some(c)) => view! { <Verdict guess=g check=c/> }.into_any(),
            }}
            <div class="actions figure-actions">
                <button class="button small" data-testid="flip-hints" on:click=show_hints
                    disabled=move || !status.with(|s| s.is_ready())>"Hint: held-out sentences closest to flipping"</button>
            </div>
            {move || hints.get().map(|rows| view! { <Hints rows=rows scheme=scheme on_try=move |t: String| on_input(t)/> })}
        </FigureFrame>
    }
}

#[component]
fn Verdict(guess: Guess, check: FlipCheck) -> impl IntoView {
    let label = |logits: &[f32]| {
        check
            .labels
            .get(argmax(logits))
            .cloned()
            .unwrap_or_default()
    };
    let (f32_label, other_label) = (label(&check.f32_logits), label(&check.other_logits));
    let (f32_margin, other_margin) = (margin(&check.f32_logits), margin(&check.other_logits));
    let flipped = f32_label != other_label;
    let right = (guess == Guess::Flips) == flipped;
    let name = check.scheme.name();
    let outcome = if flipped {
        format!("Flipped: {name} says {other_label}, f32 says {f32_label}.")
    } else {
        format!("Kept: both say {f32_label}.")
    };
    let guess_line = if right {
        "Your prediction was right."
    } else {
        "Your prediction was wrong: the margins show why."
    };
    view! {
        <div class="flip-result" data-testid="flip-result" data-flipped=flipped.to_string()
            data-f32-margin=f32_margin.to_string() data-other-margin=other_margin.to_string()
            data-f32=format::f32_json_array(&check.f32_logits) data-other=format::f32_json_array(&check.other_logits)
            role="status">
            <p class=if flipped { "flip-outcome flipped" } else { "flip-outcome" }><strong>{outcome}</strong>" "{guess_line}</p>
            <div class="metrics">
                <div class="metric">
                    <div class="metric-title">"f32 margin"</div>
                    <div class="metric-value">{format!("{f32_margin:.4}")}</div>
                    <div class="metric-detail">{format!("{f32_label}: top logit minus the runner-up")}</div>
                </div>
                <div class="metric">
                    <div class="metric-title">{format!("{name} margin")}</div>
                    <div class="metric-value">{format!("{other_margin:.4}")}</div>
                    <div class="metric-detail">{format!("{other_label}; moved {:+.4}", other_margin_signed(&check) - f32_margin)}</div>
                </div>
            </div>
        </div>
    }
}

/// The quantized model's margin for f32's class: negative once it has flipped.
fn other_margin_signed(check: &FlipCheck) -> f32 {
    let top = argmax(&check.f32_logits);
    let best_other = check
        .other_logits
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != top)
        .map(|(_, x)| *x)
        .fold(f32::NEG_INFINITY, f32::max);
    check.other_logits.get(top).copied().unwrap_or(0.0) - best_other
}

#[component]
fn Hints(
    rows: Vec<MarginRow>,
    scheme: Scheme,
    on_try: impl Fn(String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let items = rows
        .into_iter()
        .map(|r| {
            let lab = crate::site::path(&lab_url::href(&r.text, &[scheme], ModelChoice::Default, ""));
            let text = r.text.clone();
            view! {
                <li data-testid="flip-hint">
                    <span class="hint-text">{r.text.clone()}</span>
                    <span class="small muted">{format!(" — margins f32 {:.3}, quantized {:.3}", r.f32_margin, r.other_margin)}</span>
                    " "
                    <button class="button small" on:click=move |_| on_try(text.clone())>"Try it"</button>
                    " "
                    <a href=lab>"in the lab"</a>
                </li>
            }
        })
        .collect_view();
    view! { <ol class="flip-hints">{items}</ol> }
}

fn flip_run(c: &FlipCheck) -> content::run::FlipRun {
    let label = |logits: &[f32]| c.labels.get(argmax(logits)).cloned().unwrap_or_default();
    content::run::FlipRun {
        text: c.text.clone(),
        scheme: c.scheme.name().to_string(),
        f32_label: label(&c.f32_logits),
        other_label: label(&c.other_logits),
        f32_margin: margin(&c.f32_logits),
        other_margin: margin(&c.other_logits),
    }
}
