//! One worker request at a time for a panel that compares on the lab's sentence, with the
//! answer, error and answer count the panel shows. Asking while a request runs queues
//! exactly one more run, started when the current one ends, so the answer shown always
//! matches the latest inputs.

use std::future::Future;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::LabCtx;

/// A panel's request state.
pub struct PanelRun<T: Send + Sync + 'static> {
    /// The latest answer.
    pub table: RwSignal<Option<T>>,
    /// A request is in flight.
    pub running: RwSignal<bool>,
    /// The latest failure, as one line.
    pub error: RwSignal<Option<String>>,
    /// Answers received so far (`data-run` of the panel).
    pub runs: RwSignal<u32>,
    pending: RwSignal<bool>,
}

impl<T: Send + Sync + 'static> Clone for PanelRun<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for PanelRun<T> {}

impl<T: Send + Sync + 'static> PanelRun<T> {
    /// Nothing asked yet.
    pub fn new() -> Self {
        Self {
            table: RwSignal::new(None),
            running: RwSignal::new(false),
            error: RwSignal::new(None),
            runs: RwSignal::new(0),
            pending: RwSignal::new(false),
        }
    }

    /// The sentence to send, or `None` when nothing should be sent now: no model yet, a
    /// request already running (one more is queued), or an empty box (the panel says so).
    pub fn begin(&self, ctx: &LabCtx) -> Option<String> {
        if !ctx.ready_untracked() {
            return None;
        }
        if self.running.get_untracked() {
            self.pending.set(true);
            return None;
        }
        let text = ctx.text.get_untracked();
        if text.trim().is_empty() {
            self.error.set(Some("Type a sentence first.".to_string()));
            return None;
        }
        Some(text)
    }

    /// Sends `request` (after [`PanelRun::begin`] gave a sentence) and shows its answer;
    /// then, if a run was asked for meanwhile, calls `rerun`.
    pub fn send(
        self,
        request: impl Future<Output = Result<T, String>> + 'static,
        rerun: impl FnOnce() + 'static,
    ) {
        self.running.set(true);
        self.error.set(None);
        spawn_local(async move {
            match request.await {
                Ok(t) => {
                    self.table.try_set(Some(t));
                    self.runs.try_update(|n| *n += 1);
                }
                Err(message) => {
                    self.error.try_set(Some(message));
                }
            }
            self.running.try_set(false);
            if self.pending.try_get_untracked() == Some(true) {
                self.pending.set(false);
                rerun();
            }
        });
    }
}
