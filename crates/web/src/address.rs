//! Mirrors a page's state into the address bar (`history.replaceState`) without a
//! router navigation.
//!
//! leptos_router 0.8.17 appends every navigation whose URL differs from the previous
//! one to its back-button stack, `replace: true` included
//! (`BrowserUrl::complete_navigation`), and never drops it. The lab mirrors its
//! sentence on every run, so each run kept one more URL (text twice: encoded and
//! parsed): ~2 KiB of the page's wasm memory per run in the soak. Replacing the
//! history entry directly keeps nothing. The router's own URL stays the one the page
//! was opened with; the pages read their query only when they mount, and a back or
//! forward step makes the router read the address bar afresh.

use wasm_bindgen::JsValue;

/// Replaces the current history entry's URL by `href` (a site path such as
/// `/lab?text=…`, below the site's base path); a page without a window or history
/// leaves the address bar as it is.
pub fn replace(href: &str) {
    let href = crate::site::path(href);
    let Some(history) = web_sys::window().and_then(|w| w.history().ok()) else {
        return;
    };
    if let Err(e) = history.replace_state_with_url(&JsValue::NULL, "", Some(&href)) {
        web_sys::console::warn_1(&format!("squeeze: cannot update the address bar: {e:?}").into());
    }
}
