//! The Web Worker side: owns the engine's models (and the live distillation run) and
//! answers the page's requests.
//!
//! `src/bin/worker.rs` calls [`start`]. Requests are handled one at a time (a queue
//! drained by one task), in arrival order but for one exception: an interactive request
//! (the lab's run) overtakes read-only analyses queued before it, and is answered between
//! the steps of one that is running (see [`RequestBody::is_interactive`]). Nothing
//! overtakes a `LoadModel`, so a `Classify` never sees a model half-loaded by one posted
//! before it.

mod fetch;
mod figures;
mod hub;
mod lab;
mod models;
#[cfg(feature = "threads")]
pub mod pool;
mod recipe;
mod take_home;
mod teacher;
pub mod timing;
mod train;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::engine::recipe::Recipe;
use crate::protocol::{Request, RequestBody, Response, ResponseBody, UNSOLICITED};
use models::Loaded;
use train::Training;

thread_local! {
    static QUEUE: RefCell<VecDeque<Request>> = const { RefCell::new(VecDeque::new()) };
    static DRAINING: Cell<bool> = const { Cell::new(false) };
    /// Shared so a long analysis can hold it across its pauses (see [`let_interactive_through`]).
    static MODEL: RefCell<Option<Rc<Loaded>>> = const { RefCell::new(None) };
    static TRAINING: RefCell<Training> = RefCell::new(Training::default());
}

/// In the worker's (or the page's) query: skip the warm-up after a model loads.
pub const NO_WARM_UP: &str = "warmup=0";

/// Installs the message handler and tells the page the worker listens.
pub fn start() {
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
        match serde_wasm_bindgen::from_value::<Request>(event.data()) {
            Ok(request) => enqueue(request),
            Err(e) => send(UNSOLICITED, failed(format!("undecodable request: {e}"))),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    raise_trapped_rejections();
    send(
        UNSOLICITED,
        ResponseBody::Started {
            threads: crate::engine::parallel::threads() as u32,
        },
    );
}

/// The page learns that the engine died from the worker's `error` event (a panic traps
/// the wasm). A panic in a task that a settled promise woke (the threaded build's
/// executor; a request handled after [`let_interactive_through`]'s pause) surfaces as
/// an unhandled rejection instead, which fires no `error` event: a rejection whose
/// reason is a wasm trap is thrown again from here, as an error the page sees.
fn raise_trapped_rejections() {
    let on_rejection = Closure::<dyn FnMut(JsValue)>::new(|event: JsValue| {
        let reason = js_sys::Reflect::get(&event, &"reason".into()).unwrap_or_default();
        if reason.is_instance_of::<js_sys::WebAssembly::RuntimeError>() {
            wasm_bindgen::throw_val(reason);
        }
    });
    if scope()
        .add_event_listener_with_callback(
            "unhandledrejection",
            on_rejection.as_ref().unchecked_ref(),
        )
        .is_err()
    {
        web_sys::console::warn_1(&"squeeze worker: cannot watch for trapped tasks".into());
    }
    // The listener lives as long as the worker.
    on_rejection.forget();
}

/// Tells the page this worker cannot serve (sent instead of `Started`: the threaded
/// build whose pool did not start); the page then starts the one-thread worker.
pub fn refuse(message: String) {
    send(UNSOLICITED, failed(message));
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Posts one response to the page.
fn send(id: u32, body: ResponseBody) {
    let result = serde_wasm_bindgen::to_value(&Response { id, body })
        .map_err(|e| JsValue::from_str(&e.to_string()))
        .and_then(|message| scope().post_message(&message));
    if let Err(e) = result {
        web_sys::console::error_2(&"squeeze worker: cannot post a response".into(), &e);
    }
}

fn failed(message: String) -> ResponseBody {
    ResponseBody::Failed { message }
}

/// Where `request` joins `queue`: at the back, except that an interactive request goes
/// ahead of the analyses waiting at the back (those it may overtake).
fn arrival_slot(queue: &VecDeque<Request>, request: &Request) -> usize {
    if !request.body.is_interactive() {
        return queue.len();
    }
    let overtaken = queue
        .iter()
        .rev()
        .take_while(|r| r.body.may_be_overtaken())
        .count();
    queue.len() - overtaken
}

fn enqueue(request: Request) {
    QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        let slot = arrival_slot(&q, &request);
        q.insert(slot, request);
    });
    if DRAINING.with(|d| d.replace(true)) {
        return;
    }
    wasm_bindgen_futures::spawn_local(async {
        while let Some(request) = QUEUE.with(|q| q.borrow_mut().pop_front()) {
            let id = request.id;
            let body = handle(request).await;
            send(id, body);
        }
        DRAINING.with(|d| d.set(false));
    });
}

async fn handle(request: Request) -> ResponseBody {
    match request.body {
        RequestBody::LoadModel { base_url } => {
            let cached = MODEL.with(|m| {
                m.borrow()
                    .as_ref()
                    .filter(|loaded| loaded.ready.base_url == base_url)
                    .map(|loaded| loaded.ready.clone())
            });
            if let Some(ready) = cached {
                return ResponseBody::ModelReady(ready);
            }
            let id = request.id;
            let progress = move |loaded, total| send(id, ResponseBody::Progress { loaded, total });
            match models::load(&base_url, progress).await {
                Ok(loaded) => {
                    let ready = loaded.ready.clone();
                    install(loaded);
                    ResponseBody::ModelReady(ready)
                }
                Err(message) => failed(message),
            }
        }
        RequestBody::Crash => panic!("the page asked the worker to crash (test hook)"),
        RequestBody::Memory => ResponseBody::Memory {
            wasm_bytes: crate::worker_bridge::wasm_memory_bytes(),
        },
        interactive @ (RequestBody::Classify { .. } | RequestBody::TimeForwards { .. }) => {
            answer_interactive(interactive)
        }
        RequestBody::CompareSchemes { text, schemes } => match model() {
            None => failed("no model is loaded yet".to_string()),
            Some(loaded) => lab::compare(&loaded, &text, &schemes)
                .await
                .map_or_else(failed, ResponseBody::SchemesCompared),
        },
        RequestBody::TrainOwnData { name, bytes } => {
            match TRAINING.with(|t| t.borrow_mut().own_data(&name, &bytes.0)) {
                Ok(data) => ResponseBody::OwnDataReady(data),
                Err(message) => failed(message),
            }
        }
        RequestBody::TrainStart {
            base_url,
            config,
            own_data,
        } => {
            // Requests are handled one at a time, so nothing else borrows it meanwhile;
            // the run is taken out across the await and put back after.
            let mut training = TRAINING.with(|t| t.take());
            let result = training.start(&base_url, config, own_data).await;
            TRAINING.with(|t| *t.borrow_mut() = training);
            match result {
                Ok(ready) => ResponseBody::TrainReady(ready),
                Err(message) => failed(message),
            }
        }
        RequestBody::TrainSteps { steps, held_out } => {
            match TRAINING.with(|t| t.borrow_mut().steps(steps, held_out)) {
                Ok(progress) => ResponseBody::TrainProgress(progress),
                Err(message) => failed(message),
            }
        }
        RequestBody::TrainEvaluate { scheme, best } => {
            match TRAINING.with(|t| t.borrow_mut().evaluate(scheme, best)) {
                Ok(eval) => ResponseBody::TrainEvaluated(eval),
                Err(message) => failed(message),
            }
        }
        RequestBody::LoadTeacherFiles(upload) => match teacher::load_files(upload) {
            Ok(ready) => ResponseBody::TeacherLoaded(ready),
            Err(message) => failed(message),
        },
        RequestBody::LoadTeacher { base_url } => {
            let id = request.id;
            let progress = move |loaded, total| send(id, ResponseBody::Progress { loaded, total });
            match teacher::load_url(&base_url, progress).await {
                Ok(ready) => ResponseBody::TeacherLoaded(ready),
                Err(message) => failed(message),
            }
        }
        RequestBody::CompareTeacher { text, scheme } => MODEL.with(|m| match m.borrow().as_ref() {
            None => failed("no model is loaded yet".to_string()),
            Some(loaded) => match teacher::compare(loaded, &text, scheme) {
                Ok(table) => ResponseBody::TeacherCompared(table),
                Err(message) => failed(message),
            },
        }),
        // A failed download or a bad file leaves the current model in place.
        RequestBody::LoadHub { hub, id } => {
            let request_id = request.id;
            let progress =
                move |loaded, total| send(request_id, ResponseBody::Progress { loaded, total });
            match hub::load(&hub, &id, progress).await {
                Ok(loaded) => {
                    let ready = loaded.ready.clone();
                    install(loaded);
                    ResponseBody::ModelReady(ready)
                }
                Err(message) => failed(message),
            }
        }
        // A bad file leaves the current model in place.
        RequestBody::LoadFiles(upload) => match lab::load_upload(upload) {
            Ok(loaded) => {
                let ready = loaded.ready.clone();
                install(loaded);
                ResponseBody::ModelReady(ready)
            }
            Err(message) => failed(message),
        },
        RequestBody::SoftTargets { text } => {
            let teacher = MODEL.with(|m| m.borrow().as_ref().map(|l| l.ready.base_url.clone()));
            let Some(teacher) = teacher else {
                return failed("no model is loaded yet".to_string());
            };
            // Taken out across the await (requests run one at a time) and put back after.
            let mut training = TRAINING.with(|t| t.take());
            let result = training.soft_targets(&teacher, text).await;
            TRAINING.with(|t| *t.borrow_mut() = training);
            match result {
                Ok(soft) => ResponseBody::SoftTargetsReady(soft),
                Err(message) => failed(message),
            }
        }
        figure_request @ (RequestBody::SeedCode { .. }
        | RequestBody::Activations { .. }
        | RequestBody::PackRow { .. }
        | RequestBody::FlipCheck { .. }
        | RequestBody::ClosestCalls { .. }) => MODEL.with(|m| match m.borrow().as_ref() {
            None => failed("no model is loaded yet".to_string()),
            Some(loaded) => figures::handle(loaded, figure_request),
        }),
        RequestBody::RecipeStart { sentences } => {
            with_model(|loaded| recipe::start(loaded, sentences).map(ResponseBody::RecipePlanned))
        }
        RequestBody::RecipeLayer { layer } => with_model(|loaded| {
            recipe::layer(loaded, &layer).map(ResponseBody::RecipeLayerMeasured)
        }),
        RequestBody::RecipeApply {
            recipe,
            int8_embeddings,
        } => with_model(|loaded| {
            recipe::apply(loaded, recipe, int8_embeddings)
                .map(|o| ResponseBody::RecipeApplied(Box::new(o)))
        }),
        RequestBody::RecipeApplyFile {
            name,
            bytes,
            int8_embeddings,
        } => with_model(|loaded| {
            let recipe = Recipe::from_json(&bytes.0).map_err(|e| format!("{name}: {e}"))?;
            recipe::apply(loaded, recipe, int8_embeddings)
                .map(|o| ResponseBody::RecipeApplied(Box::new(o)))
        }),
        RequestBody::Download(kind) => {
            with_model(|loaded| take_home::download(loaded, kind).map(ResponseBody::DownloadReady))
        }
        RequestBody::CheckZip { name, bytes, text } => with_model(|loaded| {
            take_home::check_zip(loaded, &name, &bytes.0, &text).map(ResponseBody::ZipChecked)
        }),
        RequestBody::TrainDownload { best } => {
            match TRAINING.with(|t| t.borrow_mut().download(best)) {
                Ok(d) => ResponseBody::DownloadReady(d),
                Err(message) => failed(message),
            }
        }
        lab_request => MODEL.with(|m| match m.borrow().as_ref() {
            None => failed("no model is loaded yet".to_string()),
            Some(loaded) => lab::handle(loaded, lab_request),
        }),
    }
}

/// The lab's run: the logits of both models, or their timing.
fn answer_interactive(body: RequestBody) -> ResponseBody {
    with_model(|loaded| match body {
        RequestBody::Classify { text } => loaded
            .classify(&text)
            .map(ResponseBody::Classified)
            .map_err(|e| e.to_string()),
        RequestBody::TimeForwards { text } => loaded
            .time_forwards(&text)
            .map(ResponseBody::ForwardsTimed)
            .map_err(|e| e.to_string()),
        other => Err(format!("not an interactive request: {other:?}")),
    })
}

/// Called by a long analysis between its steps: lets the worker's event loop run (so
/// requests posted meanwhile reach the queue), then answers the interactive requests at
/// the queue's head before the analysis goes on.
pub async fn let_interactive_through() {
    next_task().await;
    while let Some(request) = QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        q.front()
            .is_some_and(|r| r.body.is_interactive())
            .then(|| q.pop_front())
            .flatten()
    }) {
        send(request.id, answer_interactive(request.body));
    }
}

/// Resolves in a later task of the worker's event loop (a zero-delay timer).
async fn next_task() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if scope()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0)
            .is_err()
        {
            // No timer: go on at once rather than never.
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// The loaded model, if any.
fn model() -> Option<Rc<Loaded>> {
    MODEL.with(|m| m.borrow().clone())
}

/// Runs `f` on the loaded model, or fails when there is none yet.
fn with_model(f: impl FnOnce(&Loaded) -> Result<ResponseBody, String>) -> ResponseBody {
    match model() {
        None => failed("no model is loaded yet".to_string()),
        Some(loaded) => f(&loaded).unwrap_or_else(failed),
    }
}

/// Makes `loaded` the worker's model, then — once the answer saying so has gone out —
/// warms it up (see [`Loaded::warm_up`]) while the learner reads.
/// Not when the worker was started with `?warmup=0` (the page passes its own address's
/// `warmup=0` on, so the first click can be measured cold).
fn install(loaded: Loaded) {
    MODEL.with(|m| *m.borrow_mut() = Some(Rc::new(loaded)));
    if scope().location().search().contains(NO_WARM_UP) {
        return;
    }
    wasm_bindgen_futures::spawn_local(async {
        if let Some(loaded) = model() {
            loaded.warm_up();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Scheme;

    fn request(id: u32, body: RequestBody) -> Request {
        Request { id, body }
    }

    fn compare() -> RequestBody {
        RequestBody::CompareSchemes {
            text: "fine".into(),
            schemes: vec![Scheme::Q8_0],
        }
    }

    fn classify() -> RequestBody {
        RequestBody::Classify {
            text: "fine".into(),
        }
    }

    #[test]
    fn a_run_overtakes_queued_analyses_but_never_a_model_load() {
        let load = RequestBody::LoadModel {
            base_url: "http://x/".into(),
        };
        let queue: VecDeque<Request> = [
            request(1, compare()),
            request(2, load),
            request(3, compare()),
            request(
                4,
                RequestBody::LayerSensitivity {
                    text: "fine".into(),
                    scheme: Scheme::Q4_0,
                },
            ),
        ]
        .into();
        // Behind the load, ahead of the two analyses after it.
        assert_eq!(arrival_slot(&queue, &request(5, classify())), 2);
        // Anything else waits its turn.
        assert_eq!(arrival_slot(&queue, &request(5, compare())), 4);
        // Nothing to overtake: the back.
        let runs: VecDeque<Request> = [request(1, classify())].into();
        assert_eq!(arrival_slot(&runs, &request(2, classify())), 1);
        assert_eq!(arrival_slot(&VecDeque::new(), &request(1, classify())), 0);
    }
}
