//! A lesson's code block: highlighted at build time (token classes coloured
//! by CSS), with a button that copies the code to the clipboard.

use leptos::prelude::*;
use leptos::task::spawn_local;
use std::time::Duration;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use content::CodeBlock;

/// How long "Copied" stays on the button.
const COPIED_FOR: Duration = Duration::from_secs(2);

/// One code block with its language and a copy button.
#[component]
pub fn CodeView(
    /// The block, as rendered at build time.
    block: &'static CodeBlock,
) -> impl IntoView {
    // None: idle; Some(true): copied; Some(false): the clipboard refused.
    let copied = RwSignal::new(None::<bool>);
    let copy = move |_| {
        spawn_local(async move {
            let ok = copy_text(&block.code).await;
            copied.set(Some(ok));
            set_timeout(move || _ = copied.try_set(None), COPIED_FOR);
        });
    };
    let lang = if block.lang.is_empty() {
        "text"
    } else {
        block.lang.as_str()
    };
    view! {
        <figure class="code-block" data-testid="code-block" data-lang=lang>
            <figcaption class="code-head">
                <span class="code-lang">{lang}</span>
                <button
                    type="button"
                    class="code-copy"
                    data-testid="code-copy"
                    aria-live="polite"
                    on:click=copy
                >
                    {move || match copied.get() {
                        None => "Copy",
                        Some(true) => "Copied ✓",
                        Some(false) => "Select and copy",
                    }}
                </button>
            </figcaption>
            <pre class="code" tabindex="0">
                <code class=format!("language-{lang}") inner_html=block.html.as_str()></code>
            </pre>
        </figure>
    }
}

/// Write `text` to the clipboard; false when the browser has no clipboard
/// API here (e.g. an insecure origin) or refuses.
async fn copy_text(text: &str) -> bool {
    let Some(navigator) = web_sys::window().map(|w| w.navigator()) else {
        return false;
    };
    // `navigator.clipboard` is undefined outside secure contexts; calling into
    // it blindly would throw.
    let clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into()).unwrap_or_default();
    if clipboard.is_undefined() || clipboard.is_null() {
        return false;
    }
    let clipboard: web_sys::Clipboard = clipboard.unchecked_into();
    JsFuture::from(clipboard.write_text(text)).await.is_ok()
}
