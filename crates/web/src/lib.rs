//! squeeze's web app: Leptos pages on the UI thread, the engine in a Web Worker.
//!
//! Two wasm binaries share this library (see the repo's `index.html`): `web`
//! (`src/main.rs`) mounts [`app::App`]; `worker` (`src/bin/worker.rs`) runs
//! [`worker::start`]. The page never computes: it sends [`protocol`] messages
//! through [`worker_bridge`] and renders the replies. Logic worth testing
//! ([`format`], [`lab::state`]) is plain Rust with native tests.

pub mod address;
pub mod app;
pub mod components;
pub mod course;
pub mod download;
pub mod figures;
pub mod format;
pub mod lab;
pub mod offline;
pub mod pages;
pub mod protocol;
pub mod radio_keys;
pub mod site;
pub mod train_state;
pub mod worker;
pub mod worker_bridge;
pub mod worker_build;

// Modules name the engine as `crate::engine`, so its types read the same everywhere.
use ::engine;
