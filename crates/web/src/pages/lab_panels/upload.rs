//! "Your own model": config.json, tokenizer.json or vocab.txt and model.safetensors
//! picked from disk, read on the page and built in the worker. Anything wrong (a
//! missing or huge file, bad JSON, wrong shapes) is said in one line, and the lab
//! keeps the model it had.

use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen_futures::JsFuture;

use super::LabCtx;
use crate::lab::bridge;
use crate::lab::messages::{Bytes, UploadedModel};
use crate::lab::state::ModelStatus;
use crate::lab::url::ModelChoice;

/// Largest file the lab reads: anything bigger is refused before a byte is read.
pub const MAX_FILE_BYTES: f64 = 1024.0 * 1024.0 * 1024.0;

/// Why a picked file cannot be used, judged from its name and size alone.
pub fn check_file(role: &str, name: &str, size: f64) -> Result<(), String> {
    if size > MAX_FILE_BYTES {
        return Err(format!(
            "{name} is {:.1} GB: the lab reads files up to 1 GiB, so it was not read",
            size / 1e9
        ));
    }
    if size == 0.0 {
        return Err(format!("{name} ({role}) is empty"));
    }
    Ok(())
}

/// The first file picked in `input`, or a message naming the missing `role`.
fn picked(input: &NodeRef<Input>, role: &str) -> Result<web_sys::File, String> {
    input
        .get_untracked()
        .and_then(|el| el.files())
        .and_then(|files| files.get(0))
        .ok_or_else(|| format!("pick a {role} file first"))
}

async fn read(file: &web_sys::File) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| format!("cannot read {}: {e:?}", file.name()))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Checks all three files, then reads them (none is read if any is refused).
async fn read_all(
    config: web_sys::File,
    tokenizer: web_sys::File,
    weights: web_sys::File,
) -> Result<UploadedModel, String> {
    for (role, f) in [
        ("config.json", &config),
        ("tokenizer", &tokenizer),
        ("model.safetensors", &weights),
    ] {
        check_file(role, &f.name(), f.size())?;
    }
    Ok(UploadedModel {
        name: weights.name(),
        tokenizer_is_json: tokenizer.name().to_ascii_lowercase().ends_with(".json"),
        config: Bytes(read(&config).await?),
        tokenizer: Bytes(read(&tokenizer).await?),
        weights: Bytes(read(&weights).await?),
    })
}

/// The panel.
#[component]
pub fn UploadPanel(
    /// Shared lab state.
    ctx: LabCtx,
) -> impl IntoView {
    let config = NodeRef::<Input>::new();
    let tokenizer = NodeRef::<Input>::new();
    let weights = NodeRef::<Input>::new();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let loaded = RwSignal::new(None::<String>);

    // The same three files make either the lab's model or its teacher.
    let load = move |as_teacher: bool| {
        if busy.get_untracked() {
            return;
        }
        let files = (|| {
            Ok::<_, String>((
                picked(&config, "config.json")?,
                picked(&tokenizer, "tokenizer.json or vocab.txt")?,
                picked(&weights, "model.safetensors")?,
            ))
        })();
        let (c, t, w) = match files {
            Ok(files) => files,
            Err(m) => {
                error.set(Some(m));
                return;
            }
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let upload = match read_all(c, t, w).await {
                Ok(upload) => upload,
                Err(m) => {
                    let kept = if as_teacher { "teacher" } else { "model" };
                    error.try_set(Some(format!(
                        "Your files were not loaded: {m}. The lab keeps its current {kept}."
                    )));
                    busy.try_set(false);
                    return;
                }
            };
            if as_teacher {
                match bridge::load_teacher_files(upload).await {
                    Ok(ready) => {
                        ctx.teacher.try_set(Some(ready));
                        loaded.try_set(Some(
                            "Loaded your teacher; the teacher panel compares it with the student."
                                .to_string(),
                        ));
                    }
                    Err(m) => {
                        error.try_set(Some(format!(
                            "Your teacher was not loaded: {m}. The lab keeps its current teacher."
                        )));
                    }
                }
                busy.try_set(false);
                return;
            }
            match bridge::load_files(upload).await {
                Ok(ready) => {
                    let name = ready
                        .card
                        .as_ref()
                        .map(|c| c.name.clone())
                        .unwrap_or_default();
                    ctx.status.try_set(ModelStatus::Ready(Box::new(ready)));
                    ctx.model.try_set(ModelChoice::Files);
                    ctx.model_gen.try_update(|n| *n += 1);
                    loaded.try_set(Some(format!(
                        "Loaded your model from {name}; every panel now uses it."
                    )));
                }
                Err(m) => {
                    error.try_set(Some(format!(
                        "Your model was not loaded: {m}. The lab keeps its current model."
                    )));
                }
            }
            busy.try_set(false);
        });
    };

    view! {
        <section class="card lab-panel" data-testid="upload-panel">
            <h2>"Your own model"</h2>
            <p class="muted small">
                "A DistilBERT (or BERT) sequence classifier from your disk: its config.json, its tokenizer "
                "(tokenizer.json or vocab.txt) and model.safetensors. The files stay in your browser. "
                "“Load as teacher” makes them the teacher of the panel above instead."
            </p>
            {move || (ctx.model.get() == ModelChoice::Files && loaded.get().is_none()).then(|| view! {
                <p class="banner info" data-testid="upload-relink">
                    "This link named a model from your files, which cannot travel in a link: the bundled "
                    "model is shown. Pick the files again to see yours."
                </p>
            })}
            <div class="upload-grid">
                <label>"config.json " <input type="file" accept=".json" node_ref=config data-testid="upload-config"/></label>
                <label>"tokenizer.json or vocab.txt " <input type="file" accept=".json,.txt" node_ref=tokenizer data-testid="upload-tokenizer"/></label>
                <label>"model.safetensors " <input type="file" accept=".safetensors" node_ref=weights data-testid="upload-weights"/></label>
            </div>
            <div class="actions">
                <button class="button primary" data-testid="upload-load" disabled=move || busy.get() on:click=move |_| load(false)>
                    {move || if busy.get() { "Loading…" } else { "Load my model" }}
                </button>
                <button class="button" data-testid="upload-teacher" disabled=move || busy.get() on:click=move |_| load(true)>
                    "Load as teacher"
                </button>
            </div>
            {move || error.get().map(|m| view! { <p class="error" role="alert" data-testid="upload-error">{m}</p> })}
            {move || loaded.get().map(|note| view! {
                <p class="banner info" data-testid="upload-status">{note}</p>
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_and_empty_files_are_refused_by_size() {
        assert!(check_file("model.safetensors", "m.safetensors", 1e6).is_ok());
        let huge =
            check_file("model.safetensors", "big.safetensors", 2.0 * MAX_FILE_BYTES).unwrap_err();
        assert!(
            huge.contains("big.safetensors") && huge.contains("not read"),
            "{huge}"
        );
        assert!(check_file("config.json", "c.json", 0.0)
            .unwrap_err()
            .contains("empty"));
    }
}
