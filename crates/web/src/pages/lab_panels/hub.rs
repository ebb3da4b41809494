//! "A model from the Hugging Face Hub": the learner types a model id, the worker
//! downloads its files with progress (or reads them from the browser's cache of
//! earlier downloads) and the lab switches to it. Offline, a missing id or a bad
//! file gives one clear line and the lab keeps its model.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;

use super::LabCtx;
use crate::format;
use crate::lab::bridge;
use crate::lab::state::ModelStatus;
use crate::lab::url::{hub_base, ModelChoice};

/// The id the box starts with: a DistilBERT fine-tuned on SST-2, the bundled student's task.
pub const EXAMPLE_ID: &str = "distilbert-base-uncased-finetuned-sst-2-english";

/// The panel.
#[component]
pub fn HubPanel(
    /// Shared lab state.
    ctx: LabCtx,
) -> impl IntoView {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    let hub = hub_base(
        use_query_map().with_untracked(|q| q.get("hub")).as_deref(),
        &origin,
    );
    let linked = ctx.model.get_untracked() == ModelChoice::Hub;
    let typed = RwSignal::new(if linked && !ctx.hub_id.get_untracked().is_empty() {
        ctx.hub_id.get_untracked()
    } else {
        EXAMPLE_ID.to_string()
    });
    let busy = RwSignal::new(false);
    let progress = RwSignal::new(None::<(u64, Option<u64>)>);
    let events = RwSignal::new(0u32);
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<(String, u64)>);

    let load = {
        let hub = hub.clone();
        move || {
            if busy.get_untracked() {
                return;
            }
            let id = typed.get_untracked().trim().to_string();
            busy.set(true);
            error.set(None);
            events.set(0);
            progress.set(Some((0, None)));
            let hub = hub.clone();
            spawn_local(async move {
                let result = bridge::load_hub(hub, id.clone(), move |loaded, total| {
                    progress.try_set(Some((loaded, total)));
                    events.try_update(|n| *n += 1);
                })
                .await;
                match result {
                    Ok(ready) => {
                        let downloaded = ready.downloaded_bytes;
                        ctx.status.try_set(ModelStatus::Ready(Box::new(ready)));
                        ctx.hub_id.try_set(id.clone());
                        ctx.model.try_set(ModelChoice::Hub);
                        ctx.model_gen.try_update(|n| *n += 1);
                        done.try_set(Some((id, downloaded)));
                    }
                    Err(m) => {
                        error.try_set(Some(format!(
                            "“{id}” was not loaded: {m}. The lab keeps its current model."
                        )));
                    }
                }
                busy.try_set(false);
            });
        }
    };
    // A link with `model=hub&id=…` loads that model once the bundled one is ready.
    let pending_link = RwSignal::new(linked);
    {
        let load = load.clone();
        Effect::new(move |_| {
            if ctx.model_gen.get() > 0 && pending_link.get_untracked() {
                pending_link.set(false);
                load();
            }
        });
    }

    view! {
        <section class="card lab-panel" data-testid="hub-panel" data-hub=hub.clone()>
            <h2>"A model from the Hugging Face Hub"</h2>
            <p class="muted small">
                "When you are online: the id of a DistilBERT (or BERT) sequence classifier on "
                "huggingface.co with a model.safetensors. Its files are downloaded once, kept in this "
                "browser's cache, and read from there next time."
            </p>
            {move || (!crate::offline::online().get()).then(|| view! {
                <p class="banner info" role="status" data-testid="hub-offline">
                    "You are offline: a model already in this browser's cache still loads; a new one needs the network."
                </p>
            })}
            <div class="actions">
                <label>
                    "Model id "
                    <input
                        type="text"
                        size="44"
                        data-testid="hub-id"
                        prop:value=move || typed.get()
                        on:input=move |ev| typed.set(event_target_value(&ev))
                    />
                </label>
                <button
                    class="button primary"
                    data-testid="hub-load"
                    disabled=move || busy.get()
                    on:click={
                        let load = load.clone();
                        move |_| load()
                    }
                >
                    {move || if busy.get() { "Loading…" } else { "Load from the Hub" }}
                </button>
            </div>
            {move || progress.get().map(|(loaded, total)| view! {
                <p
                    class="muted small"
                    data-testid="hub-progress"
                    data-loaded=loaded.to_string()
                    data-total=total.map(|t| t.to_string())
                    data-events=events.get().to_string()
                >
                    <progress max="1" value=format::fraction(loaded, total).map(|v| v.to_string())></progress>
                    " " {format::progress(loaded, total)}
                </p>
            })}
            {move || error.get().map(|m| view! { <p class="error" role="alert" data-testid="hub-error">{m}</p> })}
            {move || done.get().map(|(id, downloaded)| view! {
                <p class="banner info" data-testid="hub-status" data-id=id.clone() data-downloaded=downloaded.to_string()>
                    {if downloaded == 0 {
                        format!("Loaded {id} from this browser's cache (nothing downloaded); every panel now uses it.")
                    } else {
                        format!("Loaded {id} ({} downloaded); every panel now uses it.", format::size(downloaded))
                    }}
                </p>
            })}
        </section>
    }
}
