//! The Web Worker's wasm entry (Trunk `data-type="worker"`): it owns the engine.
//!
//! The threaded build (feature `threads`, `dist/threads/`) starts from its loader, which
//! calls `squeeze_engine_start` (`web::worker::pool`): with shared memory wasm-bindgen
//! does not run `main` by itself, and the pool threads instantiate this same module.

fn main() {
    console_error_panic_hook::set_once();
    #[cfg(not(feature = "threads"))]
    web::worker::start();
}
