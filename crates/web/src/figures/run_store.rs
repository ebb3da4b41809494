//! The learner's measurements ([`content::run::RunRecord`]) in localStorage: the figures
//! and the lab write what they measured, the quizzes read it back to grade the
//! questions that ask about "your run". Like progress, it never leaves the browser.

use content::run::{RunRecord, RUN_STORAGE_KEY};

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// What was measured so far (empty when nothing, or when storage held something
/// unreadable — then it is replaced and the reason logged).
pub fn load() -> RunRecord {
    let stored = storage().and_then(|s| s.get_item(RUN_STORAGE_KEY).ok().flatten());
    let (run, loaded) = RunRecord::load(stored.as_deref());
    if let content::Loaded::Reset(why) = loaded {
        web_sys::console::warn_1(&format!("squeeze: saved measurements reset: {why}").into());
        save(&run);
    }
    run
}

/// Changes the stored record with `f` (read, change, write back).
pub fn update(f: impl FnOnce(&mut RunRecord)) {
    let mut run = load();
    f(&mut run);
    save(&run);
}

fn save(run: &RunRecord) {
    let saved = storage().map(|s| s.set_item(RUN_STORAGE_KEY, &run.to_json()));
    if !matches!(saved, Some(Ok(()))) {
        web_sys::console::warn_1(
            &"squeeze: measurements could not be saved in localStorage".into(),
        );
    }
}
