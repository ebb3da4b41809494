//! A model from the Hugging Face Hub: `config.json`, `tokenizer.json` (or `vocab.txt`)
//! and `model.safetensors` under `{hub}/{id}/resolve/main/`, downloaded with progress
//! and kept in the browser's Cache API (`squeeze-hub`), so the next load reads no
//! network. Files are cached only once the model built from them loads, so a
//! malformed download is never kept.

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

use crate::engine::{ModelFiles, TokenizerFile};
use crate::protocol::ModelCard;

use super::fetch::{self, js_message, MAX_FILE_BYTES};
use super::models::{self, Loaded};

/// The Cache API bucket the Hub's files are kept in.
pub const CACHE_NAME: &str = "squeeze-hub";

/// Longest model id accepted.
const MAX_ID_LEN: usize = 96;

/// Checks a model id: `name` or `owner/name`, each part of ASCII letters, digits,
/// `-`, `_` and `.`, not starting with `.` (so it can never climb out of the Hub's path).
pub fn check_id(id: &str) -> Result<(), String> {
    let parts: Vec<&str> = id.split('/').collect();
    let part_ok = |p: &&str| {
        !p.is_empty()
            && !p.starts_with('.')
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    if id.is_empty() {
        return Err(
            "type a model id first, e.g. distilbert-base-uncased-finetuned-sst-2-english".into(),
        );
    }
    if id.len() > MAX_ID_LEN || parts.len() > 2 || !parts.iter().all(part_ok) {
        return Err(format!(
            "“{id}” is not a Hugging Face model id (name or owner/name: letters, digits, - _ .)"
        ));
    }
    Ok(())
}

/// Downloads (or reads from the cache) the model `id` under `hub` and builds it.
pub async fn load(
    hub: &str,
    id: &str,
    progress: impl FnMut(u64, Option<u64>),
) -> Result<Loaded, String> {
    check_id(id)?;
    let base = format!("{}/{id}/resolve/main/", hub.trim_end_matches('/'));
    // No Cache API (e.g. a page not in a secure context): download every time.
    let cache = open_cache().await;
    let missing = |name: &str| {
        format!("the Hub has no public model “{id}” with a {name} (check the id; private and gated models cannot be loaded)")
    };
    let config = get(cache.as_ref(), &base, "config.json")
        .await?
        .ok_or_else(|| missing("config.json"))?;
    let tokenizer = match get(cache.as_ref(), &base, "tokenizer.json").await? {
        Some(reply) => reply,
        None => get(cache.as_ref(), &base, "vocab.txt")
            .await?
            .ok_or_else(|| missing("tokenizer.json or vocab.txt"))?,
    };
    let weights = get(cache.as_ref(), &base, "model.safetensors")
        .await?
        .ok_or_else(|| missing("model.safetensors"))?;
    let replies = [config, tokenizer, weights];
    for reply in &replies {
        if let Some(n) = fetch::content_length(&reply.response) {
            if n > MAX_FILE_BYTES {
                for r in &replies {
                    if let Some(body) = r.response.body() {
                        // Stop the downloads nobody will read.
                        let _ = body.cancel();
                    }
                }
                return Err(format!(
                    "{} of “{id}” is {:.1} GB: the lab loads files up to 1 GiB, so it was not downloaded",
                    reply.name,
                    n as f64 / 1e9
                ));
            }
        }
    }
    let from_cache = replies.iter().all(|r| r.cached);
    let tokenizer_is_json = replies[1].name == "tokenizer.json";
    let meta: Vec<(String, bool)> = replies
        .iter()
        .map(|r| (format!("{base}{}", r.name), r.cached))
        .collect();
    let bodies = fetch::read_bodies(
        replies
            .into_iter()
            .map(|r| (format!("{base}{}", r.name), r.response))
            .collect(),
        progress,
    )
    .await?;
    let downloaded = bodies
        .iter()
        .zip(&meta)
        .filter(|(_, (_, cached))| !cached)
        .map(|(b, _)| b.len() as u64)
        .sum();
    let mut bodies = bodies.into_iter();
    let files = ModelFiles {
        config: bodies.next().unwrap_or_default(),
        tokenizer: {
            let bytes = bodies.next().unwrap_or_default();
            if tokenizer_is_json {
                TokenizerFile::Json(bytes)
            } else {
                TokenizerFile::Vocab(bytes)
            }
        },
        weights: bodies.next().unwrap_or_default(),
    };
    let card = ModelCard {
        name: id.to_string(),
        trained: true,
        summary: if from_cache {
            "read from this browser's cache of the Hugging Face Hub".to_string()
        } else {
            "downloaded from the Hugging Face Hub".to_string()
        },
        source: base.clone(),
    };
    let loaded = models::build(format!("hub:{id}"), Some(card), &files, downloaded)?;
    if let Some(cache) = &cache {
        let tokenizer = match &files.tokenizer {
            TokenizerFile::Json(b) | TokenizerFile::Vocab(b) => b,
        };
        for ((url, cached), bytes) in meta.iter().zip([&files.config, tokenizer, &files.weights]) {
            if !cached {
                if let Err(e) = store(cache, url, bytes).await {
                    // A full disk costs the next download, not this model.
                    web_sys::console::warn_1(&format!("squeeze: cannot cache {url}: {e}").into());
                }
            }
        }
    }
    Ok(loaded)
}

/// One file's reply, and whether it came from the cache.
struct Reply {
    name: &'static str,
    response: Response,
    cached: bool,
}

/// The reply for `base` + `name`, from the cache when it holds it; `Ok(None)` when the
/// Hub says the file is not there (404, or 401 for a private or missing repository).
async fn get(
    cache: Option<&JsValue>,
    base: &str,
    name: &'static str,
) -> Result<Option<Reply>, String> {
    let url = format!("{base}{name}");
    if let Some(response) = match cache {
        Some(cache) => cache_match(cache, &url).await,
        None => None,
    } {
        return Ok(Some(Reply {
            name,
            response,
            cached: true,
        }));
    }
    let response = fetch::response(&url, fetch::scope().fetch_with_str(&url))
        .await
        .map_err(|e| format!("{e} (is the browser online?)"))?;
    match response.status() {
        401 | 404 => Ok(None),
        _ if !response.ok() => Err(format!("{url}: HTTP {}", response.status())),
        _ => Ok(Some(Reply {
            name,
            response,
            cached: false,
        })),
    }
}

/// Calls `target.method(args…)` and awaits the promise it returns.
async fn call_async(target: &JsValue, method: &str, args: &Array) -> Result<JsValue, String> {
    let function: Function = Reflect::get(target, &method.into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| format!("{method} is missing"))?;
    let promise: Promise = function
        .apply(target, args)
        .map_err(|e| js_message(&e))?
        .dyn_into()
        .map_err(|_| format!("{method} returned no promise"))?;
    JsFuture::from(promise).await.map_err(|e| js_message(&e))
}

async fn open_cache() -> Option<JsValue> {
    let caches = Reflect::get(&fetch::scope(), &"caches".into()).ok()?;
    if caches.is_undefined() {
        return None;
    }
    call_async(&caches, "open", &Array::of1(&CACHE_NAME.into()))
        .await
        .ok()
}

async fn cache_match(cache: &JsValue, url: &str) -> Option<Response> {
    call_async(cache, "match", &Array::of1(&url.into()))
        .await
        .ok()?
        .dyn_into()
        .ok()
}

/// Keeps `bytes` as the reply for `url`, with its Content-Length (so a cached load
/// shows the same progress as a download).
async fn store(cache: &JsValue, url: &str, bytes: &[u8]) -> Result<(), String> {
    let headers = Object::new();
    Reflect::set(
        &headers,
        &"content-length".into(),
        &bytes.len().to_string().into(),
    )
    .map_err(|e| js_message(&e))?;
    let init = Object::new();
    Reflect::set(&init, &"headers".into(), &headers).map_err(|e| js_message(&e))?;
    let constructor: Function = Reflect::get(&fetch::scope(), &"Response".into())
        .map_err(|e| js_message(&e))?
        .dyn_into()
        .map_err(|_| "Response is missing".to_string())?;
    let response = Reflect::construct(
        &constructor,
        &Array::of2(&Uint8Array::from(bytes).into(), &init),
    )
    .map_err(|e| js_message(&e))?;
    call_async(cache, "put", &Array::of2(&url.into(), &response)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_names_or_owner_slash_name() {
        for good in [
            "distilbert-base-uncased-finetuned-sst-2-english",
            "owner/model_v1.2",
        ] {
            assert!(check_id(good).is_ok(), "{good}");
        }
        for bad in ["", "a/b/c", "../x", "a/..", "a b", "x?y", "/x", "a//b"] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
        assert!(check_id(&"a".repeat(200)).is_err());
    }
}
