//! The Web Worker side: owns the engine's models (and the live distillation run) and
//! answers the page's requests.
//!
//! `src/bin/worker.rs` calls [`start`]. Requests are handled one at a time in
//! arrival order (a queue drained by one task), so a `Classify` never sees a model
//! half-loaded by a `LoadModel` posted before it.

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
    static MODEL: RefCell<Option<Loaded>> = const { RefCell::new(None) };
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
    send(
        UNSOLICITED,
        ResponseBody::Started {
            threads: crate::engine::parallel::threads() as u32,
        },
    );
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

fn enqueue(request: Request) {
    QUEUE.with(|q| q.borrow_mut().push_back(request));
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
        RequestBody::Classify { text } => MODEL.with(|m| match m.borrow().as_ref() {
            None => failed("no model is loaded yet".to_string()),
            Some(loaded) => match loaded.classify(&text) {
                Ok(classified) => ResponseBody::Classified(classified),
                Err(e) => failed(e.to_string()),
            },
        }),
        RequestBody::TimeForwards { text } => MODEL.with(|m| match m.borrow().as_ref() {
            None => failed("no model is loaded yet".to_string()),
            Some(loaded) => match loaded.time_forwards(&text) {
                Ok(times) => ResponseBody::ForwardsTimed(times),
                Err(e) => failed(e.to_string()),
            },
        }),
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

/// Runs `f` on the loaded model, or fails when there is none yet.
fn with_model(f: impl FnOnce(&Loaded) -> Result<ResponseBody, String>) -> ResponseBody {
    MODEL.with(|m| match m.borrow().as_ref() {
        None => failed("no model is loaded yet".to_string()),
        Some(loaded) => f(loaded).unwrap_or_else(failed),
    })
}

/// Makes `loaded` the worker's model, then — once the answer saying so has gone out —
/// warms it up (see [`Loaded::warm_up`]) while the learner reads.
/// Not when the worker was started with `?warmup=0` (the page passes its own address's
/// `warmup=0` on, so the first click can be measured cold).
fn install(loaded: Loaded) {
    MODEL.with(|m| *m.borrow_mut() = Some(loaded));
    if scope().location().search().contains(NO_WARM_UP) {
        return;
    }
    wasm_bindgen_futures::spawn_local(async {
        MODEL.with(|m| {
            if let Some(loaded) = m.borrow_mut().as_mut() {
                loaded.warm_up();
            }
        })
    });
}
