//! The page's wasm entry: panic messages to the console, the engine worker started early
//! (on pages that run it), offline use, then mount the app.

fn main() {
    console_error_panic_hook::set_once();
    web::worker_bridge::install_test_hooks();
    web::worker_build::read_address();
    let engine_started = web::worker_bridge::start_early();
    web::offline::start();
    if engine_started {
        // The browser starts a worker only once this task ends: draw the page (~0.3 s on
        // the lab) in the next one, while the worker loads.
        leptos::prelude::set_timeout(
            || leptos::mount::mount_to_body(web::app::App),
            std::time::Duration::ZERO,
        );
    } else {
        leptos::mount::mount_to_body(web::app::App);
    }
}
