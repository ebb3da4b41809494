//! The lab's panels under the f32-vs-int8 run: every scheme side by side (table,
//! Pareto plot, logits), batch evaluation on the held-out set, per-layer sensitivity
//! with weight histograms, teacher vs student vs quantized student, and a model from
//! the learner's own files or the Hugging Face Hub.
//!
//! They share one [`LabCtx`] of signals; all numbers come from the worker.

mod batch;
mod hub;
mod layers;
pub mod own_data;
mod panel_run;
mod recipe;
mod schemes;
mod take_home;
mod teacher;
mod upload;

use leptos::prelude::*;

use crate::engine::Scheme;
use crate::lab::messages::TeacherReady;
use crate::lab::state::ModelStatus;
use crate::lab::url::ModelChoice;

pub use batch::BatchPanel;
pub use hub::HubPanel;
pub use layers::LayersPanel;
pub use recipe::RecipePanel;
pub use schemes::SchemesPanel;
pub use take_home::TakeHomePanel;
pub use teacher::TeacherPanel;
pub use upload::UploadPanel;

/// The lab's shared state.
#[derive(Clone, Copy)]
pub struct LabCtx {
    /// The sentence box.
    pub text: RwSignal<String>,
    /// The ticked schemes (f32 is always the reference).
    pub schemes: RwSignal<Vec<Scheme>>,
    /// The model's status line.
    pub status: RwSignal<ModelStatus>,
    /// Which model is shown (in the URL).
    pub model: RwSignal<ModelChoice>,
    /// Bumped each time a model becomes ready, so panels redo their work for it.
    pub model_gen: RwSignal<u32>,
    /// Bumped to ask the schemes panel to rerun (the run button, a new model).
    pub compare_gen: RwSignal<u32>,
    /// The lab's teacher, once loaded in the worker.
    pub teacher: RwSignal<Option<TeacherReady>>,
    /// The Hub model id in the URL (`id=`), meaningful when the model is a Hub one.
    pub hub_id: RwSignal<String>,
}

impl LabCtx {
    /// True when the worker has a model.
    pub fn ready(&self) -> bool {
        self.status.with(ModelStatus::is_ready)
    }

    /// [`LabCtx::ready`] without subscribing the caller to the status.
    pub fn ready_untracked(&self) -> bool {
        self.status.with_untracked(ModelStatus::is_ready)
    }

    /// Class names of the loaded model.
    pub fn labels(&self) -> Vec<String> {
        self.status.with_untracked(|s| match s {
            ModelStatus::Ready(r) => r.labels.clone(),
            _ => Vec::new(),
        })
    }
}
