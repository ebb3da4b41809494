//! Offline use and the network. [`start`] registers the service worker (`sw.js`, which
//! `cargo xtask postbuild` writes into every build: it keeps the app, both wasm files
//! and the bundled model, one cache per build) and follows the browser's online state.
//! The app shell shows what follows from them: [`OfflineReady`] once the site is saved
//! in the browser, [`UpdateNotice`] when a new build is waiting to take over, and
//! [`NetworkNotice`] while the browser is offline, with what then needs the network.

use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    RegistrationOptions, ServiceWorkerContainer, ServiceWorkerRegistration, ServiceWorkerState,
    ServiceWorkerUpdateViaCache,
};

use crate::site;

/// The message `sw.js` takes as "take over now".
const SKIP_WAITING: &str = "skip-waiting";

thread_local! {
    /// The browser's `navigator.onLine`, kept current by its online/offline events.
    static ONLINE: RwSignal<bool> = RwSignal::new(true);
    /// True once an active service worker holds this site's files.
    static SAVED: RwSignal<bool> = RwSignal::new(false);
    /// True while a newer build's worker waits to take over.
    static UPDATE_WAITING: RwSignal<bool> = RwSignal::new(false);
    static REGISTRATION: RefCell<Option<ServiceWorkerRegistration>> = const { RefCell::new(None) };
}

/// Follows the network state and registers the service worker (where the browser
/// has service workers: a secure context such as https or localhost).
pub fn start() {
    let Some(window) = web_sys::window() else {
        return;
    };
    follow_online_state(&window);
    let navigator = window.navigator();
    if js_sys::Reflect::has(&navigator, &"serviceWorker".into()) != Ok(true) {
        return;
    }
    let container = navigator.service_worker();
    let options = RegistrationOptions::new();
    options.set_scope(&format!("{}/", site::base()));
    // The browser asks the server for sw.js itself on every check, never its HTTP cache.
    options.set_update_via_cache(ServiceWorkerUpdateViaCache::None);
    let registering = container.register_with_options(&site::path("/sw.js"), &options);
    spawn_local(async move {
        match JsFuture::from(registering).await {
            Ok(registration) => follow_updates(&container, registration.unchecked_into()),
            Err(e) => {
                let why = e.as_string().unwrap_or_else(|| format!("{e:?}"));
                web_sys::console::warn_1(
                    &format!("squeeze: offline use is unavailable: {why}").into(),
                );
                return;
            }
        }
        // `ready` settles once a worker is active, i.e. its install filled the cache.
        if let Ok(ready) = container.ready() {
            if JsFuture::from(ready).await.is_ok() {
                SAVED.with(|s| s.set(true));
            }
        }
    });
}

/// The browser's online state (`navigator.onLine`), kept current.
pub fn online() -> RwSignal<bool> {
    ONLINE.with(|s| *s)
}

fn follow_online_state(window: &web_sys::Window) {
    let online = ONLINE.with(|s| *s);
    online.set(window.navigator().on_line());
    for (event, value) in [("online", true), ("offline", false)] {
        let on_change = Closure::<dyn Fn()>::new(move || online.set(value));
        let _ = window.add_event_listener_with_callback(event, on_change.as_ref().unchecked_ref());
        // Listens for the page's whole life.
        on_change.forget();
    }
}

/// Marks an update as waiting when a new build's worker has installed while this page
/// is controlled by the old one (on a first visit there is nothing to replace).
fn follow_updates(container: &ServiceWorkerContainer, registration: ServiceWorkerRegistration) {
    let controlled = container.controller().is_some();
    if controlled && registration.waiting().is_some() {
        UPDATE_WAITING.with(|s| s.set(true));
    }
    let watched = registration.clone();
    let container = container.clone();
    let on_update_found = Closure::<dyn Fn()>::new(move || {
        let Some(installing) = watched.installing() else {
            return;
        };
        let worker = installing.clone();
        let container = container.clone();
        let on_state = Closure::<dyn Fn()>::new(move || {
            if worker.state() == ServiceWorkerState::Installed && container.controller().is_some() {
                UPDATE_WAITING.with(|s| s.set(true));
            }
        });
        installing.set_onstatechange(Some(on_state.as_ref().unchecked_ref()));
        on_state.forget();
    });
    registration.set_onupdatefound(Some(on_update_found.as_ref().unchecked_ref()));
    on_update_found.forget();
    REGISTRATION.with(|r| *r.borrow_mut() = Some(registration));
}

/// Lets the waiting build take over, then reloads the page on it.
fn apply_update() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let waiting = REGISTRATION.with(|r| r.borrow().as_ref().and_then(|r| r.waiting()));
    let Some(waiting) = waiting else {
        let _ = window.location().reload();
        return;
    };
    let reload = Closure::<dyn Fn()>::new(move || {
        if let Some(w) = web_sys::window() {
            let _ = w.location().reload();
        }
    });
    window
        .navigator()
        .service_worker()
        .set_oncontrollerchange(Some(reload.as_ref().unchecked_ref()));
    reload.forget();
    let _ = waiting.post_message(&SKIP_WAITING.into());
}

/// While the browser is offline: what keeps working, and what needs the network.
#[component]
pub fn NetworkNotice() -> impl IntoView {
    let online = ONLINE.with(|s| *s);
    move || {
        (!online.get()).then(|| {
            view! {
                <p class="card notice" role="status" data-testid="offline-notice">
                    <strong>"You are offline."</strong>
                    " Lessons, quizzes, the lab with the bundled model and Train keep working from \
                     the copy saved in this browser. Loading a model from the Hugging Face Hub (or \
                     a teacher from the server) needs the network."
                </p>
            }
        })
    }
}

/// When a new build is waiting: a notice with a button that switches to it.
#[component]
pub fn UpdateNotice() -> impl IntoView {
    let waiting = UPDATE_WAITING.with(|s| *s);
    move || {
        waiting.get().then(|| {
            view! {
                <p class="card notice" role="status" data-testid="update-notice">
                    "A new version of squeeze is ready. "
                    <button type="button" on:click=move |_| apply_update()>"Reload"</button>
                </p>
            }
        })
    }
}

/// A line in the footer once the site is saved for offline use.
#[component]
pub fn OfflineReady() -> impl IntoView {
    let saved = SAVED.with(|s| *s);
    view! {
        <span
            class="offline-ready"
            data-testid="offline-ready"
            data-state=move || if saved.get() { "saved" } else { "not-saved" }
        >
            {move || saved.get().then_some(" Saved in this browser: it works offline too.")}
        </span>
    }
}
