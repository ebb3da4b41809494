//! Downloads in the worker with byte progress: every file's headers first (to add
//! up the Content-Lengths), then the bodies chunk by chunk through a stream reader.

use js_sys::{Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStreamDefaultReader, Response, WorkerGlobalScope};

use crate::engine::{ModelFiles, TokenizerFile};

/// Post progress at most once per this many bytes (plus once at the end).
const PROGRESS_STEP: u64 = 256 * 1024;

/// Largest file the worker reads from the network (1 GiB); past it the download stops.
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// The files of a model folder on the server.
const MODEL_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// Fetches the model folder at `base` (ending in `/`): its files and the bytes read.
pub async fn model_folder(
    base: &str,
    progress: impl FnMut(u64, Option<u64>),
) -> Result<(ModelFiles, u64), String> {
    let files = fetch_all(base, &MODEL_FILES, progress).await?;
    let bytes = files.iter().map(|f| f.len() as u64).sum();
    let [config, tokenizer, weights]: [Vec<u8>; 3] = files
        .try_into()
        .map_err(|_| format!("{base}: expected {} files", MODEL_FILES.len()))?;
    let files = ModelFiles {
        config,
        tokenizer: TokenizerFile::Json(tokenizer),
        weights,
    };
    Ok((files, bytes))
}

/// Fetches `base` + each name; calls `progress(loaded, total)` as bytes arrive.
/// Every file must exist: the error names the first that does not.
pub async fn fetch_all(
    base: &str,
    names: &[&str],
    progress: impl FnMut(u64, Option<u64>),
) -> Result<Vec<Vec<u8>>, String> {
    // Start every request at once so the total is known before the first body byte.
    let promises: Vec<(String, Promise)> = names
        .iter()
        .map(|name| {
            let url = format!("{base}{name}");
            let promise = scope().fetch_with_str(&url);
            (url, promise)
        })
        .collect();
    let mut responses = Vec::with_capacity(names.len());
    for (url, promise) in promises {
        let response = response(&url, promise).await?;
        if !response.ok() {
            return Err(format!("{url}: HTTP {}", response.status()));
        }
        responses.push((url, response));
    }
    read_bodies(responses, progress).await
}

/// Reads the bodies of `responses` (URL, reply) in order; calls `progress(loaded, total)`
/// as bytes arrive, `total` being the sum of their Content-Lengths when all have one.
pub async fn read_bodies(
    responses: Vec<(String, Response)>,
    mut progress: impl FnMut(u64, Option<u64>),
) -> Result<Vec<Vec<u8>>, String> {
    let total = responses
        .iter()
        .map(|(_, r)| content_length(r))
        .sum::<Option<u64>>();

    let mut loaded = 0u64;
    let mut reported = 0u64;
    progress(0, total);
    let mut files = Vec::with_capacity(responses.len());
    for (url, response) in responses {
        let mut bytes = Vec::with_capacity(content_length(&response).unwrap_or(0) as usize);
        let reader: ReadableStreamDefaultReader = response
            .body()
            .ok_or_else(|| format!("{url}: empty response"))?
            .get_reader()
            .unchecked_into();
        loop {
            let chunk = JsFuture::from(reader.read())
                .await
                .map_err(|e| format!("{url}: download failed: {}", js_message(&e)))?;
            let done = Reflect::get(&chunk, &"done".into())
                .ok()
                .and_then(|d| d.as_bool())
                .unwrap_or(true);
            if done {
                break;
            }
            let value: Uint8Array = Reflect::get(&chunk, &"value".into())
                .map_err(|e| format!("{url}: bad stream chunk: {}", js_message(&e)))?
                .unchecked_into();
            let start = bytes.len();
            bytes.resize(start + value.length() as usize, 0);
            value.copy_to(&mut bytes[start..]);
            if bytes.len() as u64 > MAX_FILE_BYTES {
                let _ = reader.cancel();
                return Err(format!(
                    "{url}: more than 1 GiB, so the download was stopped"
                ));
            }
            loaded += u64::from(value.length());
            if loaded - reported >= PROGRESS_STEP {
                reported = loaded;
                progress(loaded, total);
            }
        }
        files.push(bytes);
    }
    progress(loaded, total);
    Ok(files)
}

/// Fetches `url` as text; `Ok(None)` when the server says 404.
pub async fn fetch_optional_text(url: &str) -> Result<Option<String>, String> {
    let response = response(url, scope().fetch_with_str(url)).await?;
    if response.status() == 404 {
        return Ok(None);
    }
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let promise = response
        .text()
        .map_err(|e| format!("{url}: {}", js_message(&e)))?;
    let text = JsFuture::from(promise)
        .await
        .map_err(|e| format!("{url}: {}", js_message(&e)))?;
    Ok(text.as_string())
}

/// The worker's global scope.
pub fn scope() -> WorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Awaits a `fetch` promise; the error names `url`.
pub async fn response(url: &str, promise: Promise) -> Result<Response, String> {
    JsFuture::from(promise)
        .await
        .map(JsCast::unchecked_into)
        .map_err(|e| format!("cannot fetch {url}: {}", js_message(&e)))
}

/// The reply's Content-Length, when it has a valid one.
pub fn content_length(response: &Response) -> Option<u64> {
    response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse().ok())
}

/// The message of a JS error value, or its debug form.
pub fn js_message(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}
