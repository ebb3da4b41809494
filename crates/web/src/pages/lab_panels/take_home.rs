//! "Take it home": the lab's model as a zip to save — a Hugging Face folder (f32 or f16)
//! that `transformers` loads, the model in any scheme (with or without int8 embeddings),
//! or the recipe's mixed model, in squeeze's documented safetensors layout — and a saved
//! zip read back and run beside the lab's model, to show it holds the same numbers.
//! Everything is built in the worker; nothing leaves the browser.

use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen_futures::JsFuture;

use super::upload::check_file;
use super::LabCtx;
use crate::engine::Scheme;
use crate::format;
use crate::lab::bridge;
use crate::lab::take_home::{verdict, DownloadKind, ZipCheck};
use crate::lab::url::pickable;

/// The panel.
#[component]
pub fn TakeHomePanel(
    /// Shared lab state.
    ctx: LabCtx,
) -> impl IntoView {
    let scheme = RwSignal::new(Scheme::Int8Dynamic);
    let int8_embeddings = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let saved = RwSignal::new(None::<(String, u64)>);
    let check = RwSignal::new(None::<ZipCheck>);
    let error = RwSignal::new(None::<String>);
    let file = NodeRef::<Input>::new();

    let save = move |kind: DownloadKind| {
        if busy.get_untracked() || !ctx.ready_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match bridge::download(kind).await {
                Ok(d) => match crate::download::save(&d.file_name, &d.bytes.0, "application/zip") {
                    Ok(()) => {
                        saved.try_set(Some((d.file_name, d.bytes.0.len() as u64)));
                    }
                    Err(m) => {
                        error.try_set(Some(m));
                    }
                },
                Err(m) => {
                    error.try_set(Some(m));
                }
            }
            busy.try_set(false);
        });
    };
    let load_back = move |_| {
        let Some(picked) = file
            .get_untracked()
            .and_then(|el| el.files())
            .and_then(|files| files.get(0))
        else {
            return;
        };
        if let Err(m) = check_file("zip", &picked.name(), picked.size()) {
            error.set(Some(m));
            return;
        }
        let text = ctx.text.get_untracked();
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let outcome = match JsFuture::from(picked.array_buffer()).await {
                Ok(buffer) => {
                    let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
                    bridge::check_zip(picked.name(), bytes, text).await
                }
                Err(e) => Err(format!("cannot read {}: {e:?}", picked.name())),
            };
            match outcome {
                Ok(c) => {
                    check.try_set(Some(c));
                }
                Err(m) => {
                    error.try_set(Some(m));
                }
            }
            busy.try_set(false);
        });
    };
    let off = move || busy.get() || !ctx.ready();

    view! {
        <section class="card lab-panel" data-testid="take-home-panel">
            <h2>"Take it home"</h2>
            <p class="muted small">
                "Save the model you see as one zip. A Hugging Face folder (config.json, model.safetensors, "
                "the tokenizer) loads in PyTorch with "
                <code class="wrap-anywhere">"DistilBertForSequenceClassification.from_pretrained(folder)"</code>
                ". A quantized one keeps every layer as squeeze stores it (quantized.safetensors, layout in "
                "docs/EXPORT.md); squeeze loads it back bit for bit. Built here, saved to your disk, sent nowhere."
            </p>
            <div class="actions">
                <span class="field-label inline">"Hugging Face folder"</span>
                <button class="button" data-testid="take-home-hf-f32" disabled=off
                    on:click=move |_| save(DownloadKind::HuggingFace { f16: false })>"f32"</button>
                <button class="button" data-testid="take-home-hf-f16" disabled=off
                    on:click=move |_| save(DownloadKind::HuggingFace { f16: true })>"f16"</button>
            </div>
            <div class="actions">
                <label class="field-label inline" for="take-home-scheme">"Quantized"</label>
                <select id="take-home-scheme" data-testid="take-home-scheme"
                    on:change=move |ev| {
                        if let Ok(s) = event_target_value(&ev).parse::<Scheme>() {
                            scheme.set(s);
                        }
                    }>
                    {pickable().into_iter().filter(|s| *s != Scheme::F32).map(|s| view! {
                        <option value=s.name() selected=move || scheme.get() == s>{s.name()}</option>
                    }).collect_view()}
                </select>
                <label class="recipe-option">
                    <input type="checkbox" data-testid="take-home-int8-embeddings"
                        prop:checked=move || int8_embeddings.get()
                        on:change=move |ev| int8_embeddings.set(event_target_checked(&ev))/>
                    " int8 embeddings"
                </label>
                <button class="button" data-testid="take-home-quantized" disabled=off
                    on:click=move |_| save(DownloadKind::Quantized {
                        scheme: scheme.get_untracked(),
                        int8_embeddings: int8_embeddings.get_untracked(),
                    })>"Download"</button>
                <button class="button" data-testid="take-home-recipe" disabled=off
                    title="the mixed model last built in the recipe panel"
                    on:click=move |_| save(DownloadKind::Recipe)>"The recipe's mixed model"</button>
            </div>
            {move || busy.get().then(|| view! { <span class="spinner" role="status">"Working in the worker…"</span> })}
            {move || error.get().map(|m| view! { <p class="error" role="alert" data-testid="take-home-error">{m}</p> })}
            {move || saved.get().map(|(name, bytes)| view! {
                <p class="small" data-testid="take-home-saved" data-file=name.clone() data-bytes=bytes.to_string()>
                    {format!("Saved {name} ({}) to your downloads.", format::size(bytes))}
                </p>
            })}
            <label class="small">"Check a saved zip: "
                <input type="file" accept=".zip,application/zip" data-testid="take-home-check-file"
                    node_ref=file disabled=off on:change=load_back/>
            </label>
            {move || check.get().map(|c| view! { <CheckResult check=c/> })}
        </section>
    }
}

/// A saved zip, read back.
#[component]
fn CheckResult(check: ZipCheck) -> impl IntoView {
    let schemes: Vec<String> = check
        .schemes
        .iter()
        .map(|(s, n)| format!("{n} × {s}"))
        .collect();
    view! {
        <div class="small" data-testid="take-home-check" data-kind=check.kind.clone()
            data-max-abs-diff=format::f32_json(check.max_abs_diff)
            data-logits=format::f32_json_array(&check.logits) data-bytes=check.bytes.to_string()>
            <p>{format!(
                "{}: a {} ({}), Linear layers {}, embeddings {}, {} as stored. On your sentence: {} {}.",
                check.name,
                check.kind,
                check.folder,
                schemes.join(", "),
                check.embeddings,
                format::size(check.bytes),
                check.label,
                super::schemes::vector(&check.logits, 4),
            )}</p>
            <p data-testid="take-home-verdict">{verdict(&check)}</p>
        </div>
    }
}
