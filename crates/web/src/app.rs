//! The app shell: header, routes, footer.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

use crate::pages::{
    home::Home, lab::Lab, learn::Learn, lesson::LessonPage, quiz::QuizPage, train::Train,
};

/// The whole app: `/` is the home page, `/lab` the quantization lab,
/// `/train` live distillation, `/learn` the lessons, `/learn/<slug>` a lesson and `/quiz/<slug>` its quiz.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router base=crate::site::base()>
            <header class="site-header">
                <nav class="site-nav" aria-label="Main">
                    <A href=crate::site::path("/") attr:class="brand">"squeeze"</A>
                    <A href=crate::site::path("/") exact=true>"Home"</A>
                    <A href=crate::site::path("/learn")>"Lessons"</A>
                    <A href=crate::site::path("/lab")>"Lab"</A>
                    <A href=crate::site::path("/train")>"Train"</A>
                </nav>
            </header>
            <main class="site-main">
                <crate::offline::NetworkNotice/>
                <crate::offline::UpdateNotice/>
                <WorkerNotice/>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=Home/>
                    <Route path=path!("/lab") view=Lab/>
                    <Route path=path!("/train") view=Train/>
                    <Route path=path!("/learn") view=Learn/>
                    <Route path=path!("/learn/:slug") view=LessonPage/>
                    <Route path=path!("/quiz/:slug") view=QuizPage/>
                </Routes>
            </main>
            <footer class="site-footer">
                "Everything runs in your browser: nothing to install, and your text never leaves this page."
                <crate::offline::OfflineReady/>
            </footer>
        </Router>
    }
}

/// Tells the learner when the engine's worker died and was restarted (text only).
#[component]
fn WorkerNotice() -> impl IntoView {
    let notice = crate::worker_bridge::restart_notice();
    move || {
        notice.get().map(|message| {
            view! {
                <p class="card notice" role="alert" data-testid="worker-notice">
                    {message} " "
                    <button type="button" on:click=move |_| notice.set(None)>"Dismiss"</button>
                </p>
            }
        })
    }
}

/// Any path without a page.
#[component]
fn NotFound() -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p>
                "There is nothing at this address. " <A href=crate::site::path("/")>"Go to the home page"</A> "."
            </p>
        </section>
    }
}
