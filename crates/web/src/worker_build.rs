//! Which build of the engine's worker this browser runs.
//!
//! The site carries the worker twice (crates/xtask/src/relaxed_worker.rs): Trunk's build
//! with simd128, which every browser with wasm SIMD runs, and the same code built with
//! relaxed SIMD, whose 8-bit dot product makes the int8 kernel faster. A module holding
//! one relaxed instruction does not compile where the browser lacks the proposal, so the
//! page first asks the browser to validate [`PROBE`], a module of one function that uses
//! that very instruction, and starts the relaxed worker only if it passes. If that worker
//! fails before it starts, the page falls back to the simd128 one for good.

use std::cell::Cell;

/// One build of the worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkerBuild {
    /// Trunk's build: simd128 only.
    Simd128,
    /// Built with `+relaxed-simd` too, served from `relaxed/`.
    Relaxed,
}

impl WorkerBuild {
    /// Its loader script, relative to the document base.
    pub fn script(self) -> &'static str {
        match self {
            WorkerBuild::Simd128 => "worker_loader.js",
            WorkerBuild::Relaxed => "relaxed/worker_loader.js",
        }
    }

    /// A name for tests and attributes.
    pub fn name(self) -> &'static str {
        match self {
            WorkerBuild::Simd128 => "simd128",
            WorkerBuild::Relaxed => "relaxed-simd",
        }
    }

    /// What the learner is told.
    pub fn describe(self) -> &'static str {
        match self {
            WorkerBuild::Simd128 => "the engine runs with wasm SIMD (128-bit)",
            WorkerBuild::Relaxed => "the engine runs with relaxed SIMD: int8 products 16 at a time",
        }
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
    /// Set when the relaxed worker failed to start: this page uses simd128 from then on.
    static RELAXED_FAILED: Cell<bool> = const { Cell::new(false) };
}

/// Whether this browser compiles relaxed SIMD (it validates [`PROBE`]).
pub fn relaxed_simd_available() -> bool {
    js_sys::WebAssembly::validate(&js_sys::Uint8Array::from(&PROBE[..]).into()).unwrap_or(false)
}

/// The build to start: relaxed where the browser has it and it has not failed here,
/// unless the address asks for the other with `?worker=simd128` (to compare the two).
pub fn choose() -> WorkerBuild {
    let asked_simd128 = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .is_some_and(|q| q.contains("worker=simd128"));
    if !asked_simd128 && !RELAXED_FAILED.with(Cell::get) && relaxed_simd_available() {
        WorkerBuild::Relaxed
    } else {
        WorkerBuild::Simd128
    }
}

/// Records that the relaxed worker failed to start; [`choose`] says simd128 from now on.
pub fn relaxed_failed() {
    RELAXED_FAILED.with(|f| f.set(true));
}
