//! Which build of the engine's worker this browser runs.
//!
//! The site carries the worker three times: Trunk's build with simd128, which every
//! browser with wasm SIMD runs; the same code built with relaxed SIMD
//! (crates/xtask/src/relaxed_worker.rs), whose 8-bit dot product makes the int8 kernel
//! faster; and a threaded build with relaxed SIMD too (crates/xtask/src/threads.rs), which
//! runs one forward on every core. A module holding one relaxed instruction does not
//! compile where the browser lacks the proposal, so the page first asks the browser to
//! validate [`PROBE`], a module of one function that uses that very instruction. Threads
//! need shared memory, which browsers give only to cross-origin isolated pages.
//!
//! [`choose`] takes the fastest build the page can run; a build that fails before it
//! starts is not chosen again on this page (the bridge then starts the next one).
//! `?worker=simd128` or `?worker=relaxed-simd` in the address forces a build, and
//! `?threads=1` asks for one thread (to compare them).

use std::cell::Cell;

/// One build of the worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkerBuild {
    /// Trunk's build: simd128 only.
    Simd128,
    /// Built with `+relaxed-simd` too, served from `relaxed/`.
    Relaxed,
    /// Relaxed SIMD and threads on shared memory, served from `threads/`.
    Threads,
}

impl WorkerBuild {
    /// Its loader script, relative to the document base.
    pub fn script(self) -> &'static str {
        match self {
            WorkerBuild::Simd128 => "worker_loader.js",
            WorkerBuild::Relaxed => "relaxed/worker_loader.js",
            WorkerBuild::Threads => "threads/worker_loader.js",
        }
    }

    /// A name for tests and attributes.
    pub fn name(self) -> &'static str {
        match self {
            WorkerBuild::Simd128 => "simd128",
            WorkerBuild::Relaxed => "relaxed-simd",
            WorkerBuild::Threads => "threads",
        }
    }

    /// What the learner is told.
    pub fn describe(self) -> &'static str {
        match self {
            WorkerBuild::Simd128 => "the engine runs with wasm SIMD (128-bit)",
            WorkerBuild::Relaxed => "the engine runs with relaxed SIMD: int8 products 16 at a time",
            WorkerBuild::Threads => {
                "the engine runs with relaxed SIMD (int8 products 16 at a time) on every core"
            }
        }
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A wasm module whose one function computes `i32x4.relaxed_dot_i8x16_i7x16_add_s` of
/// three zero vectors: `() -> ()`, body `v128.const 0` ×3, the instruction (0xfd 0x113),
/// `drop`, `end`.
#[rustfmt::skip]
pub const PROBE: [u8; 82] = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,             // types: one, () -> ()
    0x03, 0x02, 0x01, 0x00,                         // functions: one, of type 0
    0x0a, 0x3e, 0x01, 0x3c, 0x00,                   // code: one body of 60 bytes, no locals
    0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // v128.const 0
    0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // v128.const 0
    0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // v128.const 0
    0xfd, 0x93, 0x02,                               // i32x4.relaxed_dot_i8x16_i7x16_add_s
    0x1a, 0x0b,                                     // drop, end
];

thread_local! {
    /// The builds that failed to start on this page (bits of [`WorkerBuild::bit`]).
    static FAILED: Cell<u8> = const { Cell::new(0) };
    /// What the page's address asked for when the app started (the lab rewrites it).
    static ASKED: Cell<Asked> = const { Cell::new(Asked { build: None, one_thread: false }) };
}

/// A build or one thread, asked for in the page's address.
#[derive(Clone, Copy)]
struct Asked {
    build: Option<WorkerBuild>,
    one_thread: bool,
}

/// Reads `worker=…` and `threads=1` from the address the page was opened with, before
/// the lab rewrites its query, for the worker the bridge starts later.
pub fn read_address() {
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    let mut asked = Asked {
        build: None,
        one_thread: false,
    };
    for pair in search.trim_start_matches('?').split('&') {
        match pair {
            "worker=simd128" => asked.build = Some(WorkerBuild::Simd128),
            "worker=relaxed-simd" => asked.build = Some(WorkerBuild::Relaxed),
            "threads=1" => asked.one_thread = true,
            _ => {}
        }
    }
    ASKED.with(|a| a.set(asked));
}

/// Whether this browser compiles relaxed SIMD (it validates [`PROBE`]).
pub fn relaxed_simd_available() -> bool {
    js_sys::WebAssembly::validate(&js_sys::Uint8Array::from(&PROBE[..]).into()).unwrap_or(false)
}

/// `None` when the page can run the threaded build, else why it runs one thread.
pub fn one_thread_reason() -> Option<&'static str> {
    let asked = ASKED.with(Cell::get);
    if asked.one_thread {
        return Some("the page's address asked for one (threads=1)");
    }
    if asked.build.is_some() {
        return Some("the page's address asked for a one-thread build (worker=…)");
    }
    if failed(WorkerBuild::Threads) {
        return Some("the threaded engine did not start in this browser");
    }
    let global = js_sys::global();
    let isolated =
        js_sys::Reflect::get(&global, &"crossOriginIsolated".into()).is_ok_and(|v| v.is_truthy());
    let shared_memory =
        js_sys::Reflect::get(&global, &"SharedArrayBuffer".into()).is_ok_and(|v| v.is_function());
    if !isolated || !shared_memory {
        return Some("this page is not cross-origin isolated");
    }
    if !relaxed_simd_available() {
        return Some("this browser has no relaxed SIMD, which the threaded build uses");
    }
    None
}

fn failed(build: WorkerBuild) -> bool {
    FAILED.with(Cell::get) & build.bit() != 0
}

/// The build to start: the one the address asks for, else threads where the page can run
/// them, else relaxed SIMD where the browser has it, else simd128; never one that failed
/// to start here before.
pub fn choose() -> WorkerBuild {
    let relaxed_ok = || !failed(WorkerBuild::Relaxed) && relaxed_simd_available();
    match ASKED.with(Cell::get).build {
        Some(WorkerBuild::Relaxed) if relaxed_ok() => WorkerBuild::Relaxed,
        Some(_) => WorkerBuild::Simd128,
        None if one_thread_reason().is_none() => WorkerBuild::Threads,
        None if relaxed_ok() => WorkerBuild::Relaxed,
        None => WorkerBuild::Simd128,
    }
}

/// Records that `build` failed to start; [`choose`] passes it over from now on.
pub fn record_failure(build: WorkerBuild) {
    FAILED.with(|f| f.set(f.get() | build.bit()));
}
