//! `/train`, live distillation: the worker cuts a small student out of the bundled model
//! and trains it on the teacher's logits, chunk by chunk, while this page draws the loss.
//!
//! The page never trains: it asks the worker for a few steps at a time and decides after
//! each answer whether to ask again, so Pause takes effect after the current chunk and the
//! UI thread stays free. The settings are mirrored into the address (`?seed=…`), and a
//! seed there repeats the run: the same batches, the same curve as `squeeze distill`.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;

use crate::address;
use crate::engine::distill::live::{
    LiveEval, LiveLoss, StudentFlip, DIM_RANGE, HEAD_DIM, LR_RANGE, MIN_OWN_SENTENCES,
};
use crate::engine::Scheme;
use crate::format;
use crate::lab::messages::OwnData;
use crate::lab::url::{self as lab_url, ModelChoice};
use crate::pages::lab_panels::own_data::OwnDataForm;
use crate::protocol::TrainReady;
use crate::train_state::{
    config_from_query, kl, snap_dim, train_href, Scale, CHART, DEFAULT_TEMPERATURE,
    TEMPERATURE_RANGE,
};
use crate::worker_bridge::{self, DEFAULT_MODEL_DIR};

/// Held-out loss every this many steps.
const HELD_OUT_EVERY: usize = 10;
/// Wanted length of one chunk of steps, in ms: short enough for Pause to feel immediate.
const CHUNK_MS: f64 = 300.0;

/// Where the run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    Preparing,
    Running,
    Paused,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Preparing => "preparing",
            Phase::Running => "running",
            Phase::Paused => "paused",
        }
    }
}

/// The run's signals, copied into every closure.
#[derive(Clone, Copy)]
struct Run {
    phase: RwSignal<Phase>,
    generation: RwSignal<u32>,
    ready: RwSignal<Option<TrainReady>>,
    losses: RwSignal<Vec<f64>>,
    held_out: RwSignal<Vec<(usize, f64)>>,
    /// The step with the lowest held-out loss, and that loss.
    best: RwSignal<Option<(usize, f64)>>,
    steps_per_second: RwSignal<Option<f64>>,
    error: RwSignal<Option<String>>,
    eval: RwSignal<Option<LiveEval>>,
}

impl Run {
    fn clear(&self) {
        self.generation.update(|g| *g += 1);
        self.ready.set(None);
        self.losses.set(Vec::new());
        self.held_out.set(Vec::new());
        self.best.set(None);
        self.steps_per_second.set(None);
        self.error.set(None);
        self.eval.set(None);
    }

    /// Asks the worker for chunk after chunk until paused, reset or failed.
    async fn train(self, generation: u32) {
        let mut chunk = 1u32;
        loop {
            let current = self.generation.try_get_untracked() == Some(generation);
            if !current || self.phase.try_get_untracked() != Some(Phase::Running) {
                return;
            }
            let before = self.losses.with_untracked(Vec::len);
            let after = before + chunk as usize;
            let held_out = before / HELD_OUT_EVERY != after / HELD_OUT_EVERY;
            let result = worker_bridge::train_steps(chunk, held_out).await;
            if self.generation.try_get_untracked() != Some(generation) {
                return;
            }
            match result {
                Ok(p) => {
                    let n = p.losses.len().max(1) as f64;
                    if p.ms > 0.0 {
                        self.steps_per_second.set(Some(1000.0 * n / p.ms));
                        chunk = (CHUNK_MS * n / p.ms).round().clamp(1.0, 20.0) as u32;
                    }
                    self.losses.update(|l| l.extend(&p.losses));
                    if let Some(h) = p.held_out_loss {
                        self.held_out.update(|v| v.push((p.step, h)));
                    }
                    self.best.set(p.best);
                }
                Err(message) => {
                    self.error.set(Some(message));
                    self.phase.set(Phase::Paused);
                    return;
                }
            }
        }
    }
}

/// The live distillation page.
#[component]
pub fn Train() -> impl IntoView {
    let query = use_query_map();
    let config = RwSignal::new(query.with_untracked(|q| config_from_query(|k| q.get(k))));
    let run = Run {
        phase: RwSignal::new(Phase::Idle),
        generation: RwSignal::new(0),
        ready: RwSignal::new(None),
        losses: RwSignal::new(Vec::new()),
        held_out: RwSignal::new(Vec::new()),
        best: RwSignal::new(None),
        steps_per_second: RwSignal::new(None),
        error: RwSignal::new(None),
        eval: RwSignal::new(None),
    };
    let scheme = RwSignal::new(Scheme::Int8Dynamic);
    let evaluating = RwSignal::new(false);
    // Evaluate the student of the best held-out step rather than the last one.
    let use_best = RwSignal::new(false);
    // Learn from the learner's own sentences (read by the worker) instead of the built-in ones.
    let use_own = RwSignal::new(false);
    let own = RwSignal::new(None::<OwnData>);

    let start = move || {
        run.clear();
        run.phase.set(Phase::Preparing);
        let c = config.get_untracked();
        let own_data = use_own.get_untracked();
        // Not through the router: it would keep every URL (see crate::address).
        address::replace(&train_href(&c));
        let generation = run.generation.get_untracked();
        spawn_local(async move {
            let outcome = match worker_bridge::document_url(DEFAULT_MODEL_DIR) {
                Ok(url) => worker_bridge::train_start(url, c, own_data).await,
                Err(e) => Err(e),
            };
            if run.generation.try_get_untracked() != Some(generation) {
                return;
            }
            match outcome {
                Ok(ready) => {
                    run.held_out.set(vec![(0, ready.held_out_loss)]);
                    run.ready.set(Some(ready));
                    run.phase.set(Phase::Running);
                    run.train(generation).await;
                }
                Err(message) => {
                    run.error.set(Some(message));
                    run.phase.set(Phase::Idle);
                }
            }
        });
    };
    let pause = move || match run.phase.get_untracked() {
        Phase::Running => run.phase.set(Phase::Paused),
        Phase::Paused => {
            run.phase.set(Phase::Running);
            run.eval.set(None);
            let generation = run.generation.get_untracked();
            spawn_local(run.train(generation));
        }
        _ => {}
    };
    let reset = move || {
        run.clear();
        run.phase.set(Phase::Idle);
    };
    let evaluate = move || {
        evaluating.set(true);
        let generation = run.generation.get_untracked();
        let s = scheme.get_untracked();
        spawn_local(async move {
            let result = worker_bridge::train_evaluate(s, use_best.get_untracked()).await;
            evaluating.try_set(false);
            if run.generation.try_get_untracked() != Some(generation) {
                return;
            }
            match result {
                Ok(e) => run.eval.set(Some(e)),
                Err(message) => run.error.set(Some(message)),
            }
        });
    };
    let downloading = RwSignal::new(false);
    let saved = RwSignal::new(None::<String>);
    let download = move || {
        downloading.set(true);
        spawn_local(async move {
            let result = crate::lab::bridge::train_download(use_best.get_untracked()).await;
            downloading.try_set(false);
            let outcome = result.and_then(|d| {
                crate::download::save(&d.file_name, &d.bytes.0, "application/zip")
                    .map(|()| d.file_name)
            });
            match outcome {
                Ok(name) => {
                    saved.try_set(Some(name));
                }
                Err(message) => {
                    run.error.try_set(Some(message));
                }
            }
        });
    };
    let editable = move || matches!(run.phase.get(), Phase::Idle | Phase::Paused);

    view! {
        <section class="lab-intro">
            <h1>"Train a student"</h1>
            <p class="lede">
                "Distillation, live: a small student is cut out of the bundled model (its "
                "teacher) and trained to give the teacher's logits on 512 sentences (or yours) and four variants of "
                "each (words dropped or swapped, clauses of two sentences joined), so that it learns "
                "the teacher's answers around them rather than the sentences by heart. The loss is "
                "the mean squared difference between the two models' logits (the seed's "
                "distillation loss), or, if you pick it, the KL divergence between their "
                "probabilities softened at temperature T (times T², as Hinton et al. do); the "
                "held-out loss is the same on sentences the student never trains on. Training "
                "runs in a background thread; this page only draws."
            </p>
        </section>

        <section
            class="card"
            data-testid="train"
            data-state=move || run.phase.get().name()
            data-step=move || run.losses.with(Vec::len).to_string()
        >
            <div class="train-settings">
                <label>
                    "Layers "
                    <select
                        data-testid="train-layers"
                        disabled=move || !editable()
                        on:change=move |ev| {
                            let v = event_target_value(&ev).parse().unwrap_or(1);
                            config.update(|c| c.layers = v);
                        }
                        prop:value=move || config.get().layers.to_string()
                    >
                        <option value="1">"1"</option>
                        <option value="2">"2"</option>
                    </select>
                </label>
                <label>
                    "Width "
                    <input
                        type="number"
                        data-testid="train-dim"
                        min=DIM_RANGE.0
                        max=DIM_RANGE.1
                        step=HEAD_DIM
                        disabled=move || !editable()
                        prop:value=move || config.get().dim.to_string()
                        on:change=move |ev| {
                            let v = event_target_value(&ev).parse().unwrap_or(DIM_RANGE.0);
                            config.update(|c| c.dim = snap_dim(v));
                        }
                    />
                </label>
                <label>
                    "Seed "
                    <input
                        type="number"
                        data-testid="train-seed"
                        min="0"
                        disabled=move || !editable()
                        prop:value=move || config.get().seed.to_string()
                        on:change=move |ev| {
                            if let Ok(v) = event_target_value(&ev).trim().parse() {
                                config.update(|c| c.seed = v);
                            }
                        }
                    />
                </label>
                <label>
                    "Learning rate "
                    <input
                        type="number"
                        data-testid="train-lr"
                        min=LR_RANGE.0
                        max=LR_RANGE.1
                        step="0.0001"
                        disabled=move || !editable()
                        prop:value=move || config.get().lr.to_string()
                        on:change=move |ev| {
                            if let Ok(v) = event_target_value(&ev).trim().parse::<f64>() {
                                config.update(|c| c.lr = v.clamp(LR_RANGE.0, LR_RANGE.1));
                            }
                        }
                    />
                </label>
                <label>
                    "Loss "
                    <select
                        data-testid="train-loss"
                        disabled=move || !editable()
                        on:change=move |ev| {
                            let kl_chosen = event_target_value(&ev) == "kl";
                            config.update(|c| {
                                c.loss = if kl_chosen { kl(DEFAULT_TEMPERATURE) } else { LiveLoss::Mse };
                            });
                        }
                        prop:value=move || match config.get().loss {
                            LiveLoss::Mse => "mse",
                            LiveLoss::Kl { .. } => "kl",
                        }
                    >
                        <option value="mse">"MSE of the logits"</option>
                        <option value="kl">"KL at temperature T"</option>
                    </select>
                </label>
                {move || match config.get().loss {
                    LiveLoss::Mse => None,
                    LiveLoss::Kl { temperature } => Some(view! {
                        <label>
                            "Temperature "
                            <input
                                type="number"
                                data-testid="train-temperature"
                                min=TEMPERATURE_RANGE.0
                                max=TEMPERATURE_RANGE.1
                                step="0.5"
                                disabled=move || !editable()
                                prop:value=temperature.to_string()
                                on:change=move |ev| {
                                    if let Ok(v) = event_target_value(&ev).trim().parse::<f64>() {
                                        config.update(|c| c.loss = kl(v));
                                    }
                                }
                            />
                        </label>
                    }),
                }}
            </div>
            <fieldset class="batch-source" data-testid="train-sentences" disabled=move || !editable()>
                <legend>"Sentences"</legend>
                <label><input type="radio" name="train-sentences" data-testid="train-sentences-built-in"
                    prop:checked=move || !use_own.get() on:change=move |_| use_own.set(false)/>
                    " built in: movie and product reviews (held out: the development set)"</label>
                <label><input type="radio" name="train-sentences" data-testid="train-sentences-own"
                    prop:checked=move || use_own.get() on:change=move |_| use_own.set(true)/>
                    {format!(" your own labelled sentences (at least {MIN_OWN_SENTENCES}; every fifth is held out)")}</label>
            </fieldset>
            {move || use_own.get().then(|| view! {
                <OwnDataForm data=own ready=Signal::derive(|| true) training=true/>
            })}
            <div class="actions">
                <button
                    class="button primary"
                    data-testid="train-start"
                    disabled=move || matches!(run.phase.get(), Phase::Preparing | Phase::Running)
                    on:click=move |_| start()
                >
                    {move || if run.phase.get() == Phase::Idle { "Start" } else { "Start over" }}
                </button>
                <button
                    class="button"
                    data-testid="train-pause"
                    disabled=move || !matches!(run.phase.get(), Phase::Running | Phase::Paused)
                    on:click=move |_| pause()
                >
                    {move || if run.phase.get() == Phase::Paused { "Resume" } else { "Pause" }}
                </button>
                <button class="button" data-testid="train-reset" on:click=move |_| reset()>
                    "Reset"
                </button>
                {move || (run.phase.get() == Phase::Preparing).then(|| view! {
                    <span class="spinner" role="status">
                        "Labelling the sentences with the teacher and cutting the student…"
                    </span>
                })}
            </div>
            {move || run.ready.get().map(|r| view! {
                <p class="muted small" data-testid="train-ready">
                    {format!(
                        "Student: {} layer(s), width {}, {} weights ({:.1}× fewer than the teacher's {}) · \
                         {} training and {} held-out sentences · seed {} · loss {} · ready in {}",
                        r.config.layers,
                        r.config.dim,
                        r.parameters,
                        r.teacher_parameters as f64 / r.parameters.max(1) as f64,
                        r.teacher_parameters,
                        r.train_sentences,
                        r.held_out_sentences,
                        r.config.seed,
                        match r.config.loss {
                            LiveLoss::Mse => "MSE".to_string(),
                            LiveLoss::Kl { temperature } => format!("KL at T = {temperature}"),
                        },
                        format::ms(r.setup_ms),
                    )}
                </p>
            })}
            {move || run.error.get().map(|message| view! {
                <p class="error" role="alert" data-testid="train-error">{message}</p>
            })}
        </section>

        <section class="card">
            <h2>"Loss"</h2>
            <p class="metrics-line" role="status" aria-live="off">
                <span data-testid="train-step">
                    {move || format!("step {}", run.losses.with(Vec::len))}
                </span>
                " · "
                <span data-testid="train-loss">
                    {move || run.losses.with(|l| l.last().map_or("loss –".to_string(), |x| format!("loss {x:.4}")))}
                </span>
                " · "
                <span data-testid="train-held-out">
                    {move || run.held_out.with(|h| h.last().map_or("held-out –".to_string(), |(_, x)| format!("held-out {x:.4}")))}
                </span>
                " · "
                <span data-testid="train-speed">
                    {move || run.steps_per_second.get().map_or("– steps/s".to_string(), |s| format!("{s:.1} steps/s"))}
                </span>
            </p>
            <LossChart losses=run.losses held_out=run.held_out best=run.best/>
        </section>

        {move || (run.phase.get() == Phase::Paused && run.losses.with(|l| !l.is_empty())).then(|| view! {
            <section class="card" data-testid="train-evaluate">
                <h2>"Evaluate the student"</h2>
                <p>
                    "Run the teacher, the student and the student quantized to "
                    <select
                        data-testid="train-scheme"
                        on:change=move |ev| {
                            if let Ok(s) = event_target_value(&ev).parse() {
                                scheme.set(s);
                            }
                        }
                        prop:value=move || scheme.get().name().to_string()
                    >
                        {Scheme::ALL.iter().filter(|s| **s != Scheme::F32).map(|s| view! {
                            <option value=s.name()>{s.name()}</option>
                        }).collect_view()}
                    </select>
                    " on every held-out sentence."
                </p>
                <fieldset class="batch-source" data-testid="train-weights">
                    <legend>"Student weights"</legend>
                    <label><input type="radio" name="train-weights" data-testid="train-weights-now"
                        prop:checked=move || !use_best.get() on:change=move |_| use_best.set(false)/>
                        {move || format!(" as they are now (step {})", run.losses.with(Vec::len))}</label>
                    <label><input type="radio" name="train-weights" data-testid="train-weights-best"
                        prop:checked=move || use_best.get() on:change=move |_| use_best.set(true)
                        disabled=move || run.best.get().is_none()/>
                        {move || match run.best.get() {
                            Some((step, loss)) => format!(" at the best held-out step ({step}, loss {loss:.4})"),
                            None => " at the best held-out step".to_string(),
                        }}</label>
                </fieldset>
                <div class="actions">
                    <button
                        class="button primary"
                        data-testid="train-evaluate-run"
                        disabled=move || evaluating.get()
                        on:click=move |_| evaluate()
                    >
                        {move || if evaluating.get() { "Evaluating…" } else { "Evaluate" }}
                    </button>
                    <button
                        class="button"
                        data-testid="train-download"
                        disabled=move || downloading.get()
                        title="config.json, model.safetensors and tokenizer.json in one zip: transformers loads the folder"
                        on:click=move |_| download()
                    >
                        "Download this student (Hugging Face folder)"
                    </button>
                </div>
                {move || saved.get().map(|name| view! {
                    <p class="small" data-testid="train-saved" data-file=name.clone()>
                        {format!("Saved {name} to your downloads.")}
                    </p>
                })}
                {move || run.eval.get().map(|e| view! { <EvalTable eval=e/> })}
            </section>
        })}
    }
}

/// The train (per step) and held-out (every few steps) loss as an SVG chart.
#[component]
fn LossChart(
    /// Training loss per step.
    losses: RwSignal<Vec<f64>>,
    /// `(step, held-out loss)`.
    held_out: RwSignal<Vec<(usize, f64)>>,
    /// The step with the lowest held-out loss, and that loss.
    best: RwSignal<Option<(usize, f64)>>,
) -> impl IntoView {
    let scale = Memo::new(move |_| losses.with(|l| held_out.with(|h| Scale::fit(l, h, 50))));
    let train_points = move || {
        let s = scale.get();
        losses.with(|l| s.points(l.iter().enumerate().map(|(i, &x)| (i as f64 + 1.0, x))))
    };
    let held_points = move || {
        let s = scale.get();
        held_out.with(|h| s.points(h.iter().map(|&(i, x)| (i as f64, x))))
    };
    let view_box = format!("-40 -10 {} {}", CHART.0 + 50.0, CHART.1 + 35.0);
    view! {
        <svg
            class="loss-chart"
            data-testid="loss-chart"
            viewBox=view_box
            role="img"
            aria-label="Training and held-out loss by step"
            data-loss=move || losses.with(|l| l.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(","))
            data-held-out=move || held_out.with(|h| h.iter().map(|(s, x)| format!("{s}:{x}")).collect::<Vec<_>>().join(","))
        >
            <line x1="0" y1=CHART.1 x2=CHART.0 y2=CHART.1 class="axis"/>
            <line x1="0" y1="0" x2="0" y2=CHART.1 class="axis"/>
            <text x="-6" y="4" class="tick" text-anchor="end">
                {move || format!("{:.2}", scale.get().top)}
            </text>
            <text x="-6" y=CHART.1 class="tick" text-anchor="end">"0"</text>
            <text x=CHART.0 y=CHART.1 + 18.0 class="tick" text-anchor="end">
                {move || format!("step {}", scale.get().steps)}
            </text>
            <polyline class="train-line" fill="none" points=train_points/>
            <polyline class="held-line" fill="none" points=held_points/>
            {move || best.get().map(|(step, loss)| {
                let (x, y) = scale.get().point(step as f64, loss);
                view! {
                    <g class="best-step" data-testid="train-best" data-step=step.to_string() data-loss=loss.to_string()>
                        <circle cx=x cy=y r="5"/>
                        <text x=x y=y - 9.0 text-anchor="middle" class="tick">{format!("best: step {step}")}</text>
                    </g>
                }
            })}
        </svg>
        <p class="legend small">
            <span class="swatch train"></span>" training batch loss  "
            <span class="swatch held"></span>" held-out loss (64 sentences)  "
            {move || best.get().map(|(step, loss)| format!("· lowest held-out loss {loss:.4} at step {step} (circled)"))}
        </p>
    }
}

/// Teacher, student and quantized student side by side.
#[component]
fn EvalTable(
    /// The numbers.
    eval: LiveEval,
) -> impl IntoView {
    let rows = eval
        .models
        .iter()
        .map(|m| {
            view! {
                <tr>
                    <th scope="row">{m.name.clone()}</th>
                    <td>{format!("{:.1}%", 100.0 * m.accuracy)}</td>
                    <td>{format!("{:.1}%", 100.0 * m.agreement)}</td>
                    <td>{format::size(m.bytes)}</td>
                    <td>{m.parameters.to_string()}</td>
                </tr>
            }
        })
        .collect_view();
    let agreement = eval.models.get(1).map_or(0.0, |m| m.agreement);
    view! {
        <table class="eval-table" data-testid="train-eval" data-agreement=agreement.to_string()>
            <caption>{format!("On {} held-out sentences", eval.n)}</caption>
            <thead>
                <tr>
                    <th scope="col">"model"</th>
                    <th scope="col">"accuracy"</th>
                    <th scope="col">"agrees with teacher"</th>
                    <th scope="col">"size"</th>
                    <th scope="col">"weights"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        <p data-testid="train-mse">
            {format!(
                "Mean logit MSE: teacher vs student {:.4} · teacher vs quantized student {:.4} · \
                 student vs quantized student {:.6}",
                eval.mse_teacher_student, eval.mse_teacher_quantized, eval.mse_student_quantized
            )}
        </p>
        <StudentFlips flips=eval.flips/>
    }
}

/// Every held-out sentence a student labels otherwise than the teacher, the teacher's
/// closest calls first, each a link into the lab.
#[component]
fn StudentFlips(flips: Vec<StudentFlip>) -> impl IntoView {
    let count = flips.len();
    let heading = match count {
        0 => "The students agree with the teacher on every held-out sentence.".to_string(),
        1 => "1 label changed against the teacher:".to_string(),
        n => format!("{n} labels changed against the teacher, its least sure sentence first:"),
    };
    let items = flips
        .into_iter()
        .map(|f| {
            let href = crate::site::path(&lab_url::href(&f.text, &[], ModelChoice::Default, ""));
            view! {
                <li data-testid="train-flip" data-model=f.model.clone()
                    data-margin=f.teacher_margin.to_string()>
                    <a href=href>{f.text.clone()}</a>
                    <span class="small muted">{format!(
                        " — {}: {} → {} (teacher margin {:.3}; gold {})",
                        f.model, f.teacher_label, f.label, f.teacher_margin, f.gold
                    )}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="batch-flips" data-testid="train-flips" data-count=count.to_string()>
            <h3>"Flip finder"</h3>
            <p class="small">{heading}</p>
            <ol class="flip-hints">{items}</ol>
        </div>
    }
}
