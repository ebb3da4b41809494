//! `/lab`, the quantization lab: load the bundled model (with progress), type a
//! sentence, run the f32 model and its int8-dynamic copy in the worker, and compare.
//!
//! State lives in signals at the top of [`Lab`]; what they mean and how they read
//! is in [`crate::lab::state`]. The sentence is mirrored into `?text=` on every run
//! so the address bar always holds a link that reproduces the view.

use leptos::ev::KeyboardEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;

use crate::address;
use crate::components::metric_card::MetricCard;
use crate::components::model_panel::ModelPanel;
use crate::format;
use crate::lab::messages::ForwardTimes;
use crate::lab::state::{
    after_load_note, check_input, echo, initial_text, speed_note, ModelStatus, ResultView,
    UNTRAINED_NOTE,
};
use crate::lab::url::{self as lab_url, ModelChoice};
use crate::pages::lab_panels::{
    BatchPanel, HubPanel, LabCtx, LayersPanel, RecipePanel, SchemesPanel, TakeHomePanel,
    TeacherPanel, UploadPanel,
};
use crate::worker_bridge::{self, DEFAULT_MODEL_DIR};
use crate::worker_build::WorkerBuild;

/// The lab page.
#[component]
pub fn Lab() -> impl IntoView {
    let query = use_query_map();
    let text = RwSignal::new(initial_text(
        query.with_untracked(|q| q.get("text")).as_deref(),
    ));
    let status = RwSignal::new(ModelStatus::Loading {
        loaded: 0,
        total: None,
    });
    let ready_ms = RwSignal::new(None::<f64>);
    let running = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let result = RwSignal::new(None::<ResultView>);
    let runs = RwSignal::new(0u32);
    // Forward times of a run, tagged with its number so a late answer never lands on a
    // newer result.
    let times = RwSignal::new(None::<(u32, ForwardTimes)>);
    let ctx = LabCtx {
        text,
        schemes: RwSignal::new(lab_url::parse_schemes(
            query.with_untracked(|q| q.get("schemes")).as_deref(),
        )),
        status,
        model: RwSignal::new(ModelChoice::parse(
            query.with_untracked(|q| q.get("model")).as_deref(),
        )),
        model_gen: RwSignal::new(0),
        compare_gen: RwSignal::new(0),
        teacher: RwSignal::new(None),
        hub_id: RwSignal::new(query.with_untracked(|q| q.get("id")).unwrap_or_default()),
    };

    // Load (or fetch from the worker's cache) the bundled model as soon as the page shows.
    spawn_local(async move {
        let outcome = match worker_bridge::document_url(DEFAULT_MODEL_DIR) {
            Ok(url) => {
                worker_bridge::load_model(url, move |loaded, total| {
                    // The learner may have left the lab: a disposed signal takes no value.
                    status.try_set(ModelStatus::Loading { loaded, total });
                })
                .await
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok(ready) => {
                let at = page_ms();
                web_sys::console::info_1(
                    &format!(
                        "squeeze: model ready {at:.0} ms after navigation (load {:.0} ms, quantize {:.0} ms)",
                        ready.load_ms, ready.quantize_ms
                    )
                    .into(),
                );
                ready_ms.try_set(Some(at));
                // The first lesson's quiz asks how much smaller int8 made the model.
                crate::figures::run_store::update(|run| {
                    run.lab_size = Some(content::run::LabSize {
                        model: ready
                            .card
                            .as_ref()
                            .map_or_else(|| ready.base_url.clone(), |c| c.name.clone()),
                        f32_bytes: ready.f32_size.total_bytes,
                        int8_bytes: ready.quantized_size.total_bytes,
                    })
                });
                status.try_set(ModelStatus::Ready(Box::new(ready)));
                ctx.model_gen.try_update(|n| *n += 1);
            }
            Err(message) => {
                status.try_set(ModelStatus::Error(message));
            }
        }
    });

    // The address bar follows the view: sentence (on each run), schemes and model.
    // Not through the router: it would keep every URL (see crate::address).
    let sync_url = move || {
        address::replace(&lab_url::href(
            &text.get_untracked(),
            &ctx.schemes.get_untracked(),
            ctx.model.get_untracked(),
            &ctx.hub_id.get_untracked(),
        ))
    };
    Effect::new(move |first: Option<()>| {
        ctx.schemes.track();
        ctx.model.track();
        ctx.hub_id.track();
        ctx.compare_gen.track();
        // The first run only subscribes: the URL the learner opened stays as typed.
        if first.is_some() {
            sync_url();
        }
    });
    let run = move || {
        if running.get_untracked() || !status.with_untracked(ModelStatus::is_ready) {
            return;
        }
        let sentence = text.get_untracked();
        if let Err(message) = check_input(&sentence) {
            // Nothing is sent to the worker for an empty box.
            error.set(Some(message.to_string()));
            return;
        }
        error.set(None);
        running.set(true);
        sync_url();
        let labels = status.with_untracked(|s| match s {
            ModelStatus::Ready(ready) => ready.labels.clone(),
            _ => Vec::new(),
        });
        spawn_local(async move {
            match worker_bridge::classify(sentence.clone()).await {
                Ok(classified) => {
                    result.try_set(Some(ResultView::new(sentence.clone(), &labels, classified)));
                    let run = runs.try_update(|n| {
                        *n += 1;
                        *n
                    });
                    running.try_set(false);
                    // The logits are on screen; the timing loop runs once they are drawn,
                    // so drawing them does not take the cores the forwards are timed on.
                    after_paint().await;
                    if let (Some(run), Ok(t)) = (run, worker_bridge::time_forwards(sentence).await)
                    {
                        times.try_set(Some((run, t)));
                    }
                }
                Err(message) => {
                    error.try_set(Some(message));
                    running.try_set(false);
                }
            }
        });
    };

    view! {
        <section class="lab-intro">
            <h1>"Quantization lab"</h1>
            <p class="lede">
                "The same model twice: once with 32-bit float weights, once with its Linear "
                "layers quantized to 8-bit integers (PyTorch's dynamic int8). Both run here, in a "
                "background thread of your browser. How far apart are their answers?"
            </p>
        </section>

        <section class="card model-card">
            <p
                class="status"
                data-testid="model-status"
                data-state=move || status.with(ModelStatus::state)
                data-ready-ms=move || ready_ms.get().map(|ms| format!("{ms:.0}"))
                role="status"
                aria-live="polite"
            >
                {move || status.with(ModelStatus::message)}
            </p>
            {move || status.with(|s| match s {
                ModelStatus::Loading { loaded, total } => {
                    let value = format::fraction(*loaded, *total);
                    Some(view! {
                        <progress max="1" value=value.map(|v| v.to_string())></progress>
                    }.into_any())
                }
                ModelStatus::Ready(ready) => Some(view! {
                    <p class="muted small">
                        {format!(
                            "{} downloaded · built in {} · quantized to int8 in {}",
                            format::size(ready.downloaded_bytes),
                            format::ms(ready.load_ms),
                            format::ms(ready.quantize_ms),
                        )}
                        // An untrained card's summary repeats the banner below; show only a trained one's.
                        {ready.card.as_ref().filter(|c| c.trained && !c.summary.is_empty()).map(|c| format!(" · {}", c.summary))}
                    </p>
                }.into_any()),
                ModelStatus::Error(_) => None,
            })}
            {move || status.with(ModelStatus::is_untrained).then(|| view! {
                <p class="banner warning" data-testid="untrained-banner">{UNTRAINED_NOTE}</p>
            })}
        </section>

        <section class="card">
            <label for="lab-text" class="field-label">"Your sentence"</label>
            <textarea
                id="lab-text"
                data-testid="lab-text"
                rows="3"
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
                on:keydown=move |ev: KeyboardEvent| {
                    if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
                        ev.prevent_default();
                        run();
                    }
                }
            ></textarea>
            <div class="actions">
                <button
                    class="button primary"
                    data-testid="lab-run"
                    disabled=move || running.get() || !status.with(ModelStatus::is_ready)
                    on:click=move |_| run()
                >
                    {move || if running.get() { "Running…" } else { "Run f32 and int8" }}
                </button>
                <span class="hint">"or Ctrl+Enter"</span>
                {move || running.get().then(|| view! {
                    <span class="spinner" role="status">"Running both models in the worker…"</span>
                })}
            </div>
            {move || error.get().map(|message| view! {
                <p class="error" role="alert" data-testid="lab-error">{message}</p>
            })}
        </section>

        {move || {
            result
                .get()
                .map(|view| {
                    let run = runs.get();
                    let timed = Signal::derive(move || {
                        times.get().and_then(|(r, t)| (r == run).then_some(t))
                    });
                    view! { <Results view=view run=run times=timed/> }
                })
        }}

        <SchemesPanel ctx=ctx/>
        <BatchPanel ctx=ctx/>
        <LayersPanel ctx=ctx/>
        <RecipePanel ctx=ctx/>
        <TakeHomePanel ctx=ctx/>
        <TeacherPanel ctx=ctx/>
        <UploadPanel ctx=ctx/>
        <HubPanel ctx=ctx/>
    }
}

/// Milliseconds since navigation started (`performance.now()` on the page).
fn page_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// The comparison of one finished run.
#[component]
fn Results(
    /// What to show.
    view: ResultView,
    /// Finished runs so far (`data-run`).
    run: u32,
    /// This run's forward times, once the worker has measured them.
    times: Signal<Option<ForwardTimes>>,
) -> impl IntoView {
    let c = view.classified.comparison.clone();
    let agree = view.labels_agree();
    let truncation = view.truncation_note();
    let labels: Vec<String> = view.rows.iter().map(|r| r.label.clone()).collect();
    let quantized_title = "int8 (quantized)";
    let f32_ms = Signal::derive(move || times.get().map(|t| t.f32.ms));
    let quantized_ms = Signal::derive(move || times.get().map(|t| t.quantized.ms));
    view! {
        <section
            class="results"
            data-testid="lab-results"
            data-run=run.to_string()
            data-worker-ms=view.classified.worker_ms.to_string()
            data-timed=move || times.get().is_some().to_string()
        >
            <h2>"Results"</h2>
            <p class="muted">"For “" {echo(&view.text)} "”"</p>
            {truncation.map(|note| view! {
                <p class="banner info" data-testid="truncated">{note}</p>
            })}
            <div class="metrics">
                <MetricCard
                    title="MSE of the logits"
                    value=format::small(c.mse)
                    detail="mean squared error: the distillation loss"
                    hint="Average of the squared differences between the two logit vectors. 0 means identical outputs."
                    attr:data-testid="mse"
                    attr:data-value=format::f32_json(c.mse)
                />
                <MetricCard
                    title="Max abs difference"
                    value=format::small(c.max_abs_diff)
                    detail="largest gap between two logits"
                    attr:data-testid="max-abs-diff"
                    attr:data-value=format::f32_json(c.max_abs_diff)
                />
                <MetricCard
                    title="Size"
                    value=format!("{} smaller", format::ratio(c.f32_size.total_bytes, c.quantized_size.total_bytes))
                    detail=format!(
                        "{} → {}; the Linear layers alone {} smaller (embeddings stay f32)",
                        format::size(c.f32_size.total_bytes),
                        format::size(c.quantized_size.total_bytes),
                        format::ratio(c.f32_size.linear_bytes, c.quantized_size.linear_bytes),
                    )
                />
                {move || match times.get() {
                    Some(t) => {
                        let build = worker_bridge::worker_build();
                        view! {
                            <MetricCard
                                title="Speed of int8"
                                value=format::speed(t.f32.ms, t.quantized.ms)
                                detail=format!(
                                    "{} vs {} per forward (median of {} × {}); {}{}",
                                    format::ms(t.f32.ms),
                                    format::ms(t.quantized.ms),
                                    t.f32.samples,
                                    t.f32.forwards_per_sample,
                                    after_load_note(&t.after_load),
                                    build.map_or(String::new(), |b| format!("; {}", b.describe())),
                                )
                                attr:data-testid="speed"
                                attr:data-worker-build=build.map_or("", WorkerBuild::name)
                                attr:data-ms-f32=t.f32.ms.to_string()
                                attr:data-ms-int8=t.quantized.ms.to_string()
                                attr:data-after-load-f32=format::f64_list(&t.after_load.f32)
                                attr:data-after-load-int8=format::f64_list(&t.after_load.quantized)
                            />
                        }
                        .into_any()
                    }
                    None => view! {
                        <MetricCard
                            title="Speed of int8"
                            value="timing…".to_string()
                            detail="the logits are ready; now each model runs again and again to time it".to_string()
                        />
                    }.into_any(),
                }}
                <MetricCard
                    title="Labels"
                    value=(if agree { "agree" } else { "differ" }).to_string()
                    detail=format!("f32: {} · int8: {}", c.f32.label, c.quantized.label)
                />
                <MetricCard
                    title="Tokens fed"
                    value=c.f32.tokens.to_string()
                    detail="including [CLS] and [SEP]"
                    attr:data-testid="tokens"
                    attr:data-count=c.f32.tokens.to_string()
                />
            </div>
            {move || {
                times
                    .get()
                    .and_then(|t| speed_note(t.f32.ms, t.quantized.ms))
                    .map(|note| view! { <p class="muted" data-testid="speed-note">{note}</p> })
            }}
            <ThreadsNote/>
            <div class="panels">
                <ModelPanel
                    title="f32 (original)"
                    suffix="f32"
                    labels=labels.clone()
                    prediction=c.f32.clone()
                    size=c.f32_size
                    ms=f32_ms
                    scale=view.scale
                />
                <ModelPanel
                    title=quantized_title
                    suffix="int8"
                    labels=labels
                    prediction=c.quantized.clone()
                    size=c.quantized_size
                    ms=quantized_ms
                    scale=view.scale
                />
            </div>
        </section>
    }
}

/// Under the speed card: how many threads one forward ran on (`data-threads`), and why
/// only one when that is so.
#[component]
fn ThreadsNote() -> impl IntoView {
    let threads = worker_bridge::engine_threads();
    move || {
        threads.get().map(|t| {
            let text = match (t.count, t.why_one) {
                (1, Some(why)) => format!("The engine runs on 1 thread: {why}."),
                (1, None) => "The engine runs on 1 thread.".to_string(),
                (n, _) => format!("The engine runs each forward on {n} threads (all cores)."),
            };
            view! {
                <p class="muted" data-testid="threads" data-threads=t.count.to_string()>{text}</p>
            }
        })
    }
}

/// Longest wait for the results to be drawn and the page to go idle: frames do not come
/// in a hidden tab, and idle time may not come in a busy one.
const PAINT_WAIT_MS: i32 = 500;

/// Resolves once the browser has drawn what is on screen now (the second animation frame
/// from here) and then has nothing else to do (an idle callback, where the browser has
/// them), or after [`PAINT_WAIT_MS`], whichever comes first. The forwards are timed after
/// it: on a 2-core machine whatever the page's main thread still does (drawing the
/// results, the effects they trigger) takes one of the cores the forward runs on.
async fn after_paint() {
    use wasm_bindgen::{closure::Closure, JsCast};
    let Some(window) = web_sys::window() else {
        return;
    };
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let idle = {
            let (window, resolve) = (window.clone(), resolve.clone());
            Closure::once_into_js(move || {
                if window
                    .request_idle_callback(resolve.unchecked_ref())
                    .is_err()
                {
                    // No idle callbacks (Safari): drawn is enough.
                    let _ = resolve.call0(&wasm_bindgen::JsValue::UNDEFINED);
                }
            })
        };
        let second = {
            let window = window.clone();
            Closure::once_into_js(move || {
                let _ = window.request_animation_frame(idle.unchecked_ref());
            })
        };
        let _ = window.request_animation_frame(second.unchecked_ref());
        let _ =
            window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, PAINT_WAIT_MS);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
