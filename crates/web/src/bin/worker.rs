//! The Web Worker's wasm entry (Trunk `data-type="worker"`): it owns the engine.

fn main() {
    console_error_panic_hook::set_once();
    web::worker::start();
}
