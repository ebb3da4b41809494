//! The course: lessons and quizzes validated and rendered at build time
//! (`build.rs` runs `content::load_dir("lessons")`) and embedded as JSON; and
//! the learner's progress, kept in localStorage.
//!
//! Every HTML string in the content was produced by the build from our own
//! Markdown with raw HTML escaped, so pages may insert it as HTML. Nothing a
//! learner types is ever inserted as HTML.

use std::sync::OnceLock;

use content::progress::STORAGE_KEY;
use content::{Content, Loaded, Progress};

/// The content JSON written by `build.rs`.
const CONTENT_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/content.json"));

/// All lessons, parsed once.
pub fn content() -> &'static Content {
    static CONTENT: OnceLock<Content> = OnceLock::new();
    CONTENT.get_or_init(|| {
        // The lessons link site-absolute (`/lab`); below a base path they need it in front.
        let json = crate::site::rebase_links_in_json(CONTENT_JSON, crate::site::base());
        Content::from_json(&json).expect("build.rs writes the JSON that content::Content reads")
    })
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The stored progress. Storage that cannot be read as this version's format
/// is replaced at once by empty progress, so the problem is reported once and
/// never again.
pub fn load_progress() -> (Progress, Loaded) {
    let stored = storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten());
    let (progress, loaded) = Progress::load(stored.as_deref());
    if let Loaded::Reset(why) = &loaded {
        web_sys::console::warn_1(&format!("squeeze: saved progress reset: {why}").into());
        save_progress(&progress);
    }
    (progress, loaded)
}

/// Store progress. Failing storage (private mode, quota) only loses the
/// convenience of resuming, so it is logged, not shown.
pub fn save_progress(progress: &Progress) {
    let saved = storage().map(|s| s.set_item(STORAGE_KEY, &progress.to_json()));
    if !matches!(saved, Some(Ok(()))) {
        web_sys::console::warn_1(&"squeeze: progress could not be saved in localStorage".into());
    }
}

/// Forget all progress.
pub fn forget_progress() {
    if let Some(s) = storage() {
        let _ = s.remove_item(STORAGE_KEY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_content_parses_and_holds_every_lesson() {
        let c = content();
        // One quiz file per lesson in lessons/.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../lessons");
        let quizzes = std::fs::read_dir(dir)
            .expect("lessons/ beside the crates")
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".quiz.toml"))
            })
            .count();
        assert!(quizzes >= 5, "{quizzes} quiz files in {dir}");
        assert_eq!(c.lessons.len(), quizzes);
        assert_eq!(c.lessons[0].slug, "why-optimise");
        assert!(c.lessons.iter().all(|l| !l.quiz.questions.is_empty()));
    }
}
