//! The one module that talks to the engine's Web Worker: it spawns the worker,
//! posts [`Request`]s, and turns the worker's [`Response`]s back into the futures
//! the pages await.
//!
//! The worker is Trunk's `data-type="worker"` build of `src/bin/worker.rs`, started
//! through the loader shim Trunk writes beside it (`worker_loader.js` imports
//! `worker.js` and instantiates `worker_bg.wasm`), or the same code built with relaxed
//! SIMD where the browser has it ([`crate::worker_build`]). One worker serves the whole
//! app and keeps its models across page changes; it is spawned on first use.
//!
//! Where the page is cross-origin isolated (so SharedArrayBuffer exists), the bridge
//! starts the threaded build instead (`threads/worker_loader.js`, built by `cargo xtask
//! postbuild`: one forward on every core); if that one fails before it listens, the
//! one-thread worker takes over its queued requests. [`engine_threads`] says which runs.
//! `?threads=1` in the page's address asks for the one-thread worker.
//!
//! If the worker dies (an `error` event: a panic in the engine traps its wasm), every
//! pending call fails with a message, a new worker is started at once, the model the
//! page had loaded is loaded again, and [`restart_notice`] tells the learner.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures_channel::oneshot;
use leptos::prelude::{RwSignal, Set};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{ErrorEvent, MessageEvent, Worker};

use crate::engine::distill::live::{LiveConfig, LiveEval};
use crate::engine::Scheme;
use crate::lab::messages::{Bytes, ForwardTimes, OwnData};
use crate::protocol::{
    Classified, ModelReady, Request, RequestBody, RequestId, Response, ResponseBody, TrainProgress,
    TrainReady, UNSOLICITED,
};
use crate::worker_build::{self, WorkerBuild};

/// How long the threaded worker may take to say it listens before a one-thread build
/// replaces it (its pool starts in well under a second).
const THREADED_START_MS: i32 = 10_000;

/// The bundled model's folder, relative to the document base.
pub const DEFAULT_MODEL_DIR: &str = "models/default/";

/// Called with (bytes loaded, bytes expected) while a model downloads.
type ProgressFn = Rc<dyn Fn(u64, Option<u64>)>;

/// A call waiting for its final answer.
struct Pending {
    reply: oneshot::Sender<ResponseBody>,
    progress: Option<ProgressFn>,
}

/// State shared between the bridge and the worker's event handlers.
#[derive(Default)]
struct Shared {
    /// True once the worker said [`ResponseBody::Started`].
    started: bool,
    /// Requests posted before the worker listened.
    queued: Vec<JsValue>,
    next_id: RequestId,
    pending: HashMap<RequestId, Pending>,
    /// Set when the worker died; later calls spawn a new one.
    dead: bool,
}

/// How many threads the engine runs one forward on, and why only one.
#[derive(Clone, Debug, PartialEq)]
pub struct EngineThreads {
    /// Threads of one forward.
    pub count: u32,
    /// Why the one-thread worker runs, when it does.
    pub why_one: Option<&'static str>,
}

/// A running worker and its handlers (kept alive as long as the bridge).
struct Bridge {
    worker: Worker,
    build: WorkerBuild,
    shared: Rc<RefCell<Shared>>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

thread_local! {
    static BRIDGE: RefCell<Option<Rc<Bridge>>> = const { RefCell::new(None) };
    /// The model folder last asked for, reloaded into a restarted worker.
    static LAST_MODEL: RefCell<Option<String>> = const { RefCell::new(None) };
    /// What the learner is told after a restart; `None` when all is well.
    static NOTICE: RwSignal<Option<String>> = RwSignal::new(None);
    /// What the running worker said it runs on; `None` until it listens.
    static THREADS: RwSignal<Option<EngineThreads>> = RwSignal::new(None);
}

/// The engine's thread count, once its worker listens.
pub fn engine_threads() -> RwSignal<Option<EngineThreads>> {
    THREADS.with(|t| *t)
}

/// The app-wide notice set when the worker died and was restarted (the app shell
/// shows it as text and lets the learner dismiss it).
pub fn restart_notice() -> RwSignal<Option<String>> {
    NOTICE.with(|n| *n)
}

/// Puts two test hooks on `window` for the browser tests. Harmless: a learner who
/// calls them only restarts their own worker or reads a number.
/// - `squeezeCrashWorker()` makes the worker panic (see [`RequestBody::Crash`]), so the
///   restart path can be checked;
/// - `squeezeMemory()` resolves to `{page, worker}`: both wasm memories in bytes.
pub fn install_test_hooks() {
    let crash = Closure::<dyn Fn()>::new(|| {
        wasm_bindgen_futures::spawn_local(async {
            let _ = call(RequestBody::Crash, None).await;
        });
    });
    let memory = Closure::<dyn Fn() -> js_sys::Promise>::new(|| {
        wasm_bindgen_futures::future_to_promise(async {
            let worker = match call(RequestBody::Memory, None).await? {
                ResponseBody::Memory { wasm_bytes } => wasm_bytes,
                other => return Err(JsValue::from_str(&unexpected(&other))),
            };
            let sizes = js_sys::Object::new();
            js_sys::Reflect::set(&sizes, &"page".into(), &(wasm_memory_bytes() as f64).into())?;
            js_sys::Reflect::set(&sizes, &"worker".into(), &(worker as f64).into())?;
            Ok(sizes.into())
        })
    });
    if let Some(window) = web_sys::window() {
        let _ = js_sys::Reflect::set(&window, &"squeezeCrashWorker".into(), crash.as_ref());
        let _ = js_sys::Reflect::set(&window, &"squeezeMemory".into(), memory.as_ref());
    }
    crash.forget();
    memory.forget();
}

/// This thread's wasm linear memory in bytes (the page's, or the worker's in the worker).
pub fn wasm_memory_bytes() -> u64 {
    wasm_bindgen::memory()
        .unchecked_into::<js_sys::WebAssembly::Memory>()
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length() as u64
}

/// Absolute URL of `relative` against the document's base URL.
pub fn document_url(relative: &str) -> Result<String, String> {
    let base = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.base_uri().ok().flatten())
        .ok_or("the page has no base URL")?;
    web_sys::Url::new_with_base(relative, &base)
        .map(|u| u.href())
        .map_err(|_| format!("cannot resolve {relative} against {base}"))
}

/// Loads the model under `base_url` in the worker (a no-op there when it already
/// holds it), reporting download progress through `on_progress`.
pub async fn load_model(
    base_url: String,
    on_progress: impl Fn(u64, Option<u64>) + 'static,
) -> Result<ModelReady, String> {
    LAST_MODEL.with(|m| *m.borrow_mut() = Some(base_url.clone()));
    match call(
        RequestBody::LoadModel { base_url },
        Some(Rc::new(on_progress)),
    )
    .await?
    {
        ResponseBody::ModelReady(ready) => Ok(ready),
        other => Err(unexpected(&other)),
    }
}

/// Runs the f32 and the quantized model on `text`.
pub async fn classify(text: String) -> Result<Classified, String> {
    match call(RequestBody::Classify { text }, None).await? {
        ResponseBody::Classified(classified) => Ok(classified),
        other => Err(unexpected(&other)),
    }
}

/// Times the f32 and the quantized forward on `text`.
pub async fn time_forwards(text: String) -> Result<ForwardTimes, String> {
    match call(RequestBody::TimeForwards { text }, None).await? {
        ResponseBody::ForwardsTimed(times) => Ok(times),
        other => Err(unexpected(&other)),
    }
}

/// Cuts a new student of `config`'s shape from the teacher under `base_url`.
pub async fn train_start(
    base_url: String,
    config: LiveConfig,
    own_data: bool,
) -> Result<TrainReady, String> {
    match call(
        RequestBody::TrainStart {
            base_url,
            config,
            own_data,
        },
        None,
    )
    .await?
    {
        ResponseBody::TrainReady(ready) => Ok(ready),
        other => Err(unexpected(&other)),
    }
}

/// Reads the learner's labelled sentences in the worker for /train's next start.
pub async fn train_own_data(name: String, bytes: Vec<u8>) -> Result<OwnData, String> {
    match call(
        RequestBody::TrainOwnData {
            name,
            bytes: Bytes(bytes),
        },
        None,
    )
    .await?
    {
        ResponseBody::OwnDataReady(data) => Ok(data),
        other => Err(unexpected(&other)),
    }
}

/// Trains the student `steps` more steps (and measures the held-out loss when asked).
pub async fn train_steps(steps: u32, held_out: bool) -> Result<TrainProgress, String> {
    match call(RequestBody::TrainSteps { steps, held_out }, None).await? {
        ResponseBody::TrainProgress(progress) => Ok(progress),
        other => Err(unexpected(&other)),
    }
}

/// Compares teacher, student (at its best step when `best`) and the student quantized
/// to `scheme`.
pub async fn train_evaluate(scheme: Scheme, best: bool) -> Result<LiveEval, String> {
    match call(RequestBody::TrainEvaluate { scheme, best }, None).await? {
        ResponseBody::TrainEvaluated(eval) => Ok(eval),
        other => Err(unexpected(&other)),
    }
}

/// The message to show for an answer that is not the one expected (a failure's own text).
pub(crate) fn unexpected(body: &ResponseBody) -> String {
    match body {
        ResponseBody::Failed { message } => message.clone(),
        other => format!("the worker sent an unexpected answer: {other:?}"),
    }
}

/// Posts `body` and waits for its final answer.
pub(crate) async fn call(
    body: RequestBody,
    progress: Option<ProgressFn>,
) -> Result<ResponseBody, String> {
    let bridge = bridge()?;
    let (tx, rx) = oneshot::channel();
    let message = {
        let mut shared = bridge.shared.borrow_mut();
        shared.next_id += 1;
        let id = shared.next_id;
        shared.pending.insert(
            id,
            Pending {
                reply: tx,
                progress,
            },
        );
        serde_wasm_bindgen::to_value(&Request { id, body })
            .map_err(|e| format!("cannot encode the request: {e}"))?
    };
    let started = bridge.shared.borrow().started;
    if started {
        post(&bridge.worker, &message)?;
    } else {
        bridge.shared.borrow_mut().queued.push(message);
    }
    rx.await
        .map_err(|_| "the engine worker stopped before answering".to_string())
}

fn post(worker: &Worker, message: &JsValue) -> Result<(), String> {
    worker
        .post_message(message)
        .map_err(|e| format!("cannot post to the engine worker: {e:?}"))
}

/// Starts the engine worker at once when the page opened is one that runs the engine:
/// its script, module (and threads) then load while the page is being drawn (~0.3 s of
/// the main thread on the lab), instead of after it, when the page's first request
/// would start it. Requests made meanwhile wait in the bridge's queue as before.
/// Returns whether it started one.
pub fn start_early() -> bool {
    let Some(pathname) = web_sys::window().and_then(|w| w.location().pathname().ok()) else {
        return false;
    };
    let route = pathname
        .strip_prefix(crate::site::base())
        .unwrap_or(&pathname);
    if !runs_engine(route) {
        return false;
    }
    match bridge() {
        Ok(_) => true,
        Err(e) => {
            web_sys::console::warn_1(&format!("squeeze: {e}").into());
            false
        }
    }
}

/// Whether the page at `route` (a path below the site's base) runs the engine: the
/// lab, /train, and the lessons (their live figures).
pub fn runs_engine(route: &str) -> bool {
    let mut segments = route.trim_start_matches('/').split('/');
    match segments.next() {
        Some("lab" | "train") => true,
        Some("learn") => segments.next().is_some_and(|slug| !slug.is_empty()),
        _ => false,
    }
}

/// The live bridge, spawning the worker on first use or after it died.
fn bridge() -> Result<Rc<Bridge>, String> {
    BRIDGE.with(|cell| {
        let mut slot = cell.borrow_mut();
        if let Some(bridge) = slot.as_ref() {
            if !bridge.shared.borrow().dead {
                return Ok(bridge.clone());
            }
            bridge.worker.terminate();
        }
        let shared = Rc::new(RefCell::new(Shared::default()));
        let bridge = Rc::new(spawn(worker_build::choose(), shared)?);
        *slot = Some(bridge.clone());
        Ok(bridge)
    })
}

/// The build of the running worker (none before the first call).
pub fn worker_build() -> Option<WorkerBuild> {
    BRIDGE.with(|cell| cell.borrow().as_ref().map(|b| b.build))
}

/// Starts `build`'s worker with `shared` as its state (fresh, or holding the requests a
/// build that failed to start had queued, which the new worker then answers).
fn spawn(build: WorkerBuild, shared: Rc<RefCell<Shared>>) -> Result<Bridge, String> {
    let mut url = document_url(build.script())?;
    // The page's `warmup=…` and `pool=…` reach the worker (see `worker::NO_WARM_UP` and
    // `worker::pool`).
    let page_query = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    let passed: Vec<&str> = page_query
        .trim_start_matches('?')
        .split('&')
        .filter(|pair| pair.starts_with("warmup=") || pair.starts_with("pool="))
        .collect();
    if !passed.is_empty() {
        url.push('?');
        url.push_str(&passed.join("&"));
    }
    let worker =
        Worker::new(&url).map_err(|e| format!("cannot start the engine worker {url}: {e:?}"))?;

    let on_message = {
        let shared = shared.clone();
        let worker = worker.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            match serde_wasm_bindgen::from_value::<Response>(event.data()) {
                Ok(response) => deliver(build, &shared, &worker, response),
                Err(e) => web_sys::console::error_1(
                    &format!("squeeze: undecodable message from the worker: {e}").into(),
                ),
            }
        })
    };
    let on_error = {
        let shared = shared.clone();
        Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
            web_sys::console::error_1(
                &format!("squeeze: the engine worker failed: {}", event.message()).into(),
            );
            // One restart per dead worker, however many errors it reports.
            if shared.borrow().dead {
                return;
            }
            // A relaxed or threaded worker that never started: the next build takes its
            // place and its queued requests, and nothing is lost.
            if build != WorkerBuild::Simd128 && !shared.borrow().started {
                wasm_bindgen_futures::spawn_local(fall_back(build, shared.clone()));
                return;
            }
            fail_all(
                &shared,
                "the engine stopped unexpectedly and was restarted: run it again",
            );
            // Not from inside this handler: the restart drops the closure running it.
            wasm_bindgen_futures::spawn_local(restart(shared.clone()));
        })
    };
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    if build == WorkerBuild::Threads {
        let shared = shared.clone();
        let check = Closure::once_into_js(move || {
            let unstarted = !shared.borrow().started && !shared.borrow().dead;
            if unstarted {
                web_sys::console::warn_1(
                    &"squeeze: the threaded engine did not start in time".into(),
                );
                wasm_bindgen_futures::spawn_local(fall_back(build, shared));
            }
        });
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                check.unchecked_ref(),
                THREADED_START_MS,
            );
        }
    }
    Ok(Bridge {
        worker,
        build,
        shared,
        _on_message: on_message,
        _on_error: on_error,
    })
}

/// Routes one message from the worker to its pending call.
fn deliver(build: WorkerBuild, shared: &Rc<RefCell<Shared>>, worker: &Worker, response: Response) {
    match response.body {
        ResponseBody::Started { threads } => {
            let why_one =
                (threads <= 1).then(|| worker_build::one_thread_reason().unwrap_or("one core"));
            engine_threads().set(Some(EngineThreads {
                count: threads,
                why_one,
            }));
            let queued = {
                let mut s = shared.borrow_mut();
                s.started = true;
                std::mem::take(&mut s.queued)
            };
            for message in queued {
                if let Err(e) = post(worker, &message) {
                    fail_all(shared, &e);
                }
            }
        }
        ResponseBody::Progress { loaded, total } => {
            // Clone the callback out before calling it: it sets signals, and their
            // effects may call into the bridge again.
            let progress = shared
                .borrow()
                .pending
                .get(&response.id)
                .and_then(|p| p.progress.clone());
            if let Some(progress) = progress {
                progress(loaded, total);
            }
        }
        ResponseBody::Failed { message }
            if response.id == UNSOLICITED
                && build != WorkerBuild::Simd128
                && !shared.borrow().started =>
        {
            web_sys::console::warn_1(
                &format!("squeeze: the {} engine: {message}", build.name()).into(),
            );
            if !shared.borrow().dead {
                wasm_bindgen_futures::spawn_local(fall_back(build, shared.clone()));
            }
        }
        body if response.id == UNSOLICITED => {
            web_sys::console::warn_1(&format!("squeeze: worker says {body:?}").into());
        }
        body => {
            let pending = shared.borrow_mut().pending.remove(&response.id);
            if let Some(pending) = pending {
                // The page may have stopped waiting (left the lab): nothing to do then.
                let _ = pending.reply.send(body);
            }
        }
    }
}

/// Replaces the worker of `failed`, a `build` that never listened, with the next build
/// [`worker_build::choose`] gives, which takes over its queued and pending requests
/// (nothing is lost).
async fn fall_back(build: WorkerBuild, failed: Rc<RefCell<Shared>>) {
    worker_build::record_failure(build);
    let next = {
        let mut s = failed.borrow_mut();
        s.dead = true;
        Rc::new(RefCell::new(Shared {
            queued: std::mem::take(&mut s.queued),
            pending: std::mem::take(&mut s.pending),
            next_id: s.next_id,
            ..Shared::default()
        }))
    };
    let replaced = BRIDGE.with(|cell| {
        let mut slot = cell.borrow_mut();
        if !slot
            .as_ref()
            .is_some_and(|b| Rc::ptr_eq(&b.shared, &failed))
        {
            return Ok(());
        }
        if let Some(old) = slot.take() {
            old.worker.terminate();
        }
        *slot = Some(Rc::new(spawn(worker_build::choose(), next.clone())?));
        Ok::<(), String>(())
    });
    if let Err(e) = replaced {
        fail_all(&next, &e);
    }
}

/// Fails every pending call with `message` and marks the worker dead.
fn fail_all(shared: &Rc<RefCell<Shared>>, message: &str) {
    let pending = {
        let mut s = shared.borrow_mut();
        s.dead = true;
        std::mem::take(&mut s.pending)
    };
    for (_, p) in pending {
        let _ = p.reply.send(ResponseBody::Failed {
            message: message.to_string(),
        });
    }
}

/// Replaces the dead worker whose state is `dead`, reloads the page's model into the
/// new one (later requests queue behind it) and tells the learner.
async fn restart(dead: Rc<RefCell<Shared>>) {
    BRIDGE.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_some_and(|b| Rc::ptr_eq(&b.shared, &dead)) {
            if let Some(old) = slot.take() {
                old.worker.terminate();
            }
        }
    });
    let notice = restart_notice();
    notice.set(Some(
        "The engine's background worker stopped unexpectedly and has been restarted. \
         If a result is missing, run it again."
            .to_string(),
    ));
    let Some(base_url) = LAST_MODEL.with(|m| m.borrow().clone()) else {
        return;
    };
    if let Err(e) = call(RequestBody::LoadModel { base_url }, None).await {
        notice.set(Some(format!(
            "The engine's background worker stopped unexpectedly and could not load the model again: {e}"
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::runs_engine;

    #[test]
    fn the_engine_starts_early_only_where_a_page_runs_it() {
        for route in ["/lab", "/lab/", "/train", "/learn/quantization"] {
            assert!(runs_engine(route), "{route}");
        }
        for route in [
            "/",
            "",
            "/learn",
            "/learn/",
            "/quiz/quantization",
            "/laboratory",
        ] {
            assert!(!runs_engine(route), "{route}");
        }
    }
}
