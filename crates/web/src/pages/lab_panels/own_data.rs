//! "Your sentences": labelled sentences the learner pastes or picks (TSV or CSV with a
//! header naming the text and label columns), read in the worker against the model's
//! class names. Refusals are one line; skipped rows are listed with their line numbers.
//! Nothing leaves the browser.

use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen_futures::JsFuture;

use crate::engine::dataset::MAX_BYTES;
use crate::lab::bridge;
use crate::lab::messages::OwnData;

/// The form and what the worker read.
#[component]
pub fn OwnDataForm(
    /// What the worker holds, once read.
    data: RwSignal<Option<OwnData>>,
    /// Whether a model is loaded (its class names are needed to read labels).
    ready: Signal<bool>,
    /// For /train (the worker keeps them for training) rather than the lab's batch.
    #[prop(optional)]
    training: bool,
) -> impl IntoView {
    let pasted = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let file = NodeRef::<Input>::new();

    let send = move |name: String, bytes: Vec<u8>| {
        busy.set(true);
        spawn_local(async move {
            let outcome = if training {
                crate::worker_bridge::train_own_data(name, bytes).await
            } else {
                bridge::load_own_data(name, bytes).await
            };
            busy.try_set(false);
            match outcome {
                Ok(d) => {
                    error.try_set(None);
                    data.try_set(Some(d));
                }
                // The data read before stays (the worker keeps it too).
                Err(message) => {
                    error.try_set(Some(message));
                }
            }
        });
    };
    let read_pasted = move |_| {
        let text = pasted.get_untracked();
        send("pasted text".to_string(), text.into_bytes());
    };
    let read_file = move |_| {
        let Some(picked) = file
            .get_untracked()
            .and_then(|el| el.files())
            .and_then(|files| files.get(0))
        else {
            error.set(Some("pick a .tsv or .csv file first".to_string()));
            return;
        };
        // Refused before a byte is read.
        if picked.size() > MAX_BYTES as f64 {
            error.set(Some(format!(
                "{} is {:.1} MB; squeeze reads files up to {} MB here, so it was not read",
                picked.name(),
                picked.size() / 1e6,
                MAX_BYTES / (1024 * 1024)
            )));
            return;
        }
        spawn_local(async move {
            match JsFuture::from(picked.array_buffer()).await {
                Ok(buffer) => send(picked.name(), js_sys::Uint8Array::new(&buffer).to_vec()),
                Err(e) => {
                    error.try_set(Some(format!("cannot read {}: {e:?}", picked.name())));
                }
            }
        });
    };

    view! {
        <div class="own-data" data-testid="own-data">
            <p class="small muted">
                "A header line names the text column (text, sentence, review or content) and the label "
                "column (label, sentiment, class or target); labels are the model's class names or ids. "
                "Tab-separated or comma-separated (quotes allowed). Your sentences stay in this browser."
            </p>
            <label class="field-label" for="own-data-text">"Paste sentences"</label>
            <textarea id="own-data-text" class="figure-text" rows="4" data-testid="own-data-text"
                placeholder="text\tlabel\nThe soup was cold.\tNEGATIVE"
                prop:value=move || pasted.get() on:input=move |ev| pasted.set(event_target_value(&ev))></textarea>
            <div class="actions">
                <button class="button" data-testid="own-data-read-text"
                    disabled=move || busy.get() || !ready.get() on:click=read_pasted>"Use the pasted sentences"</button>
                <label class="button">
                    "Pick a file… "
                    <input type="file" accept=".tsv,.csv,.txt,text/csv,text/tab-separated-values,text/plain"
                        data-testid="own-data-file" node_ref=file on:change=read_file/>
                </label>
            </div>
            {move || error.get().map(|m| view! { <p class="error" role="alert" data-testid="own-data-error">{m}</p> })}
            {move || data.get().map(|d| view! { <Summary data=d/> })}
        </div>
    }
}

#[component]
fn Summary(data: OwnData) -> impl IntoView {
    let per_label = data
        .per_label
        .iter()
        .map(|(l, n)| format!("{n} {l}"))
        .collect::<Vec<_>>()
        .join(", ");
    let skipped = data.skipped.clone();
    let more = data.skipped_total as usize - skipped.len().min(data.skipped_total as usize);
    view! {
        <p class="status" data-testid="own-data-summary" data-rows=data.rows.to_string()
            data-skipped=data.skipped_total.to_string() role="status">
            {format!("{}: {} sentences ({per_label}).", data.name, data.rows)}
            {(data.skipped_total > 0).then(|| format!(" {} rows left out:", data.skipped_total))}
        </p>
        {(!skipped.is_empty()).then(|| view! {
            <ul class="small own-data-skipped" data-testid="own-data-skipped">
                {skipped.into_iter().map(|(line, why)| view! {
                    <li data-line=line.to_string()>{format!("line {line}: {why}")}</li>
                }).collect_view()}
                {(more > 0).then(|| view! { <li>{format!("… and {more} more")}</li> })}
            </ul>
        })}
    }
}
