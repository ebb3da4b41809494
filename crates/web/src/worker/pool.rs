//! The threaded worker build's thread pool (cargo feature `threads`): rayon's global
//! pool on Web Workers that share this worker's wasm memory, so one forward of the
//! engine runs on every core (`engine::parallel` splits the Linear layers' columns).
//!
//! The engine worker is thread 0 of the pool (rayon's `use_current_thread`): it runs
//! its share of every split itself and only the other shares wake a pool thread. Each
//! other thread is a Web Worker started from `thread.js` beside this worker's script
//! (written by `cargo xtask postbuild`); it loads the same wasm-bindgen glue, receives
//! `[module, memory]`, instantiates the module on the shared memory, says `"ready"`
//! and calls [`squeeze_thread_run`], which waits for rayon's thread and runs its loop
//! (it never returns).
//!
//! Order matters: rayon's `build_global` blocks until every thread runs, and a nested
//! Web Worker only starts while its parent's event loop turns (measured: building the
//! pool first deadlocked). So [`start`] first starts the Web Workers and awaits their
//! `"ready"`, and only then builds the pool, whose spawn handler hands each waiting
//! thread its rayon thread through [`PENDING`].

use std::cell::RefCell;
use std::sync::{Condvar, Mutex};

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, Worker, WorkerOptions};

/// The `name` pool threads are started with (what the browser's tools show).
pub const THREAD_NAME: &str = "squeeze-thread";

/// The pool threads' script, relative to this worker's script.
const THREAD_SCRIPT: &str = "thread.js";

/// Most threads one forward uses, whatever the browser reports (each costs a worker
/// and its stack; the Linear layers stop gaining well before).
pub const MAX_THREADS: usize = 8;

/// rayon's threads, handed from the engine worker to the waiting pool threads.
static PENDING: Mutex<Vec<rayon_core::ThreadBuilder>> = Mutex::new(Vec::new());
/// Signalled when [`PENDING`] gets a thread.
static HANDED: Condvar = Condvar::new();

thread_local! {
    /// The pool's Web Workers, referenced as long as the engine worker lives.
    static WORKERS: RefCell<Vec<Worker>> = const { RefCell::new(Vec::new()) };
}

/// Entry of the engine worker in the threaded build (called by its loader once the
/// module is instantiated): starts the pool, then listens; if the pool cannot start,
/// tells the page, which starts the one-thread worker instead.
#[wasm_bindgen]
pub fn squeeze_engine_start() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        match start().await {
            Ok(_) => super::start(),
            Err(e) => super::refuse(e),
        }
    });
}

/// Entry of a pool thread (called by `thread.js` once the module runs on the shared
/// memory): waits for a rayon thread from [`start`] and runs its loop, for good.
#[wasm_bindgen]
pub fn squeeze_thread_run() {
    let thread = {
        let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(thread) = pending.pop() {
                break thread;
            }
            pending = HANDED.wait(pending).unwrap_or_else(|e| e.into_inner());
        }
    };
    thread.run();
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// How many threads to run: the browser's logical cores, at most [`MAX_THREADS`]; or
/// `pool=N` from the page's address (passed on to this worker), to compare this build
/// on one thread with the one-thread builds.
pub fn wanted() -> usize {
    let asked = scope()
        .location()
        .search()
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("pool=")?.parse::<usize>().ok());
    let cores = scope().navigator().hardware_concurrency() as usize;
    asked.unwrap_or(cores).clamp(1, MAX_THREADS)
}

/// Starts [`wanted`] − 1 pool threads, waits until each runs, then builds rayon's
/// global pool on them and this thread. Returns the pool's size.
pub async fn start() -> Result<usize, String> {
    let threads = wanted();
    let script = web_sys::Url::new_with_base(THREAD_SCRIPT, &scope().location().href())
        .map_err(|e| format!("cannot resolve {THREAD_SCRIPT}: {e:?}"))?
        .href();
    let mut ready = Vec::new();
    for _ in 1..threads {
        let (worker, started) = spawn(&script)?;
        let message = js_sys::Array::of2(&wasm_bindgen::module(), &wasm_bindgen::memory());
        worker
            .post_message(&message)
            .map_err(|e| format!("cannot start a pool thread: {e:?}"))?;
        ready.push(started);
        WORKERS.with(|w| w.borrow_mut().push(worker));
    }
    for started in ready {
        wasm_bindgen_futures::JsFuture::from(started)
            .await
            .map_err(|e| format!("a pool thread did not start: {e:?}"))?;
    }
    rayon_core::ThreadPoolBuilder::new()
        .num_threads(threads)
        .use_current_thread()
        .spawn_handler(|thread| {
            PENDING
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(thread);
            HANDED.notify_one();
            Ok(())
        })
        .build_global()
        .map_err(|e| format!("cannot start the thread pool: {e}"))?;
    Ok(threads)
}

/// A new pool thread and a promise of its first message (`"ready"`), rejected if the
/// worker fails (its script missing, say).
fn spawn(script: &str) -> Result<(Worker, js_sys::Promise), String> {
    let options = WorkerOptions::new();
    options.set_name(THREAD_NAME);
    let worker = Worker::new_with_options(script, &options)
        .map_err(|e| format!("cannot start a pool thread from {script}: {e:?}"))?;
    let started = js_sys::Promise::new(&mut |resolve, reject| {
        worker.set_onmessage(Some(&resolve));
        worker.set_onerror(Some(&reject));
    });
    Ok((worker, started))
}
