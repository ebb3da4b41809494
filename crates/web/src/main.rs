//! The page's wasm entry: panic messages to the console, offline use, then mount the app.

fn main() {
    console_error_panic_hook::set_once();
    web::worker_bridge::install_test_hooks();
    web::worker_build::read_address();
    web::offline::start();
    leptos::mount::mount_to_body(web::app::App);
}
