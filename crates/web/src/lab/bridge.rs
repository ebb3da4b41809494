//! The lab's calls to the engine worker (one typed function per request), on top of
//! [`crate::worker_bridge`].

use std::rc::Rc;

use crate::engine::recipe::{LayerCosts, Recipe};
use crate::engine::Scheme;
use crate::lab::messages::{
    BatchChunkResult, Bytes, DataSource, Histogram, OwnData, SchemeTable, Sensitivity,
    TeacherReady, TeacherTable, UploadedModel,
};
use crate::lab::recipe::{RecipeOutcome, RecipePlan};
use crate::lab::take_home::{Download, DownloadKind, ZipCheck};
use crate::protocol::{ModelReady, RequestBody, ResponseBody};
use crate::worker_bridge::{call, unexpected};

/// f32 and each of `schemes` on `text`.
pub async fn compare_schemes(text: String, schemes: Vec<Scheme>) -> Result<SchemeTable, String> {
    match call(RequestBody::CompareSchemes { text, schemes }, None).await? {
        ResponseBody::SchemesCompared(table) => Ok(table),
        other => Err(unexpected(&other)),
    }
}

/// The logits' error with one Linear at a time in `scheme`.
pub async fn layer_sensitivity(text: String, scheme: Scheme) -> Result<Sensitivity, String> {
    match call(RequestBody::LayerSensitivity { text, scheme }, None).await? {
        ResponseBody::SensitivityMeasured(s) => Ok(s),
        other => Err(unexpected(&other)),
    }
}

/// The weights of `layer` before and after `scheme`, in `bins` bins.
pub async fn layer_histogram(
    layer: String,
    scheme: Scheme,
    bins: u32,
) -> Result<Histogram, String> {
    match call(
        RequestBody::LayerHistogram {
            layer,
            scheme,
            bins,
        },
        None,
    )
    .await?
    {
        ResponseBody::HistogramReady(h) => Ok(h),
        other => Err(unexpected(&other)),
    }
}

/// Held-out sentences `start..start + len` through f32 and each scheme.
pub async fn batch_chunk(
    start: u32,
    len: u32,
    schemes: Vec<Scheme>,
    source: DataSource,
) -> Result<BatchChunkResult, String> {
    match call(
        RequestBody::BatchChunk {
            start,
            len,
            schemes,
            source,
        },
        None,
    )
    .await?
    {
        ResponseBody::BatchChunkDone(r) => Ok(r),
        other => Err(unexpected(&other)),
    }
}

/// Reads the learner's labelled sentences in the worker (kept there for batch evaluation).
pub async fn load_own_data(name: String, bytes: Vec<u8>) -> Result<OwnData, String> {
    match call(
        RequestBody::LoadOwnData {
            name,
            bytes: Bytes(bytes),
        },
        None,
    )
    .await?
    {
        ResponseBody::OwnDataReady(data) => Ok(data),
        other => Err(unexpected(&other)),
    }
}

/// Replaces the worker's model with one built from the learner's files (the worker
/// keeps its model when this fails).
pub async fn load_files(upload: UploadedModel) -> Result<ModelReady, String> {
    match call(RequestBody::LoadFiles(upload), None).await? {
        ResponseBody::ModelReady(ready) => Ok(ready),
        other => Err(unexpected(&other)),
    }
}

/// Loads the lab's teacher from the learner's files (the worker keeps its teacher
/// when this fails).
pub async fn load_teacher_files(upload: UploadedModel) -> Result<TeacherReady, String> {
    match call(RequestBody::LoadTeacherFiles(upload), None).await? {
        ResponseBody::TeacherLoaded(ready) => Ok(ready),
        other => Err(unexpected(&other)),
    }
}

/// Fetches the lab's teacher under `base_url`, reporting download progress.
pub async fn load_teacher(
    base_url: String,
    on_progress: impl Fn(u64, Option<u64>) + 'static,
) -> Result<TeacherReady, String> {
    match call(
        RequestBody::LoadTeacher { base_url },
        Some(Rc::new(on_progress)),
    )
    .await?
    {
        ResponseBody::TeacherLoaded(ready) => Ok(ready),
        other => Err(unexpected(&other)),
    }
}

/// The teacher, the current model and that model in `scheme` on `text`.
pub async fn compare_teacher(text: String, scheme: Scheme) -> Result<TeacherTable, String> {
    match call(RequestBody::CompareTeacher { text, scheme }, None).await? {
        ResponseBody::TeacherCompared(table) => Ok(table),
        other => Err(unexpected(&other)),
    }
}

/// Replaces the worker's model with `id` from the Hub at `hub` (or the browser's
/// cache of it), reporting download progress; the worker keeps its model on failure.
pub async fn load_hub(
    hub: String,
    id: String,
    on_progress: impl Fn(u64, Option<u64>) + 'static,
) -> Result<ModelReady, String> {
    match call(RequestBody::LoadHub { hub, id }, Some(Rc::new(on_progress))).await? {
        ResponseBody::ModelReady(ready) => Ok(ready),
        other => Err(unexpected(&other)),
    }
}

/// Tokenizes `sentences` development sentences in the worker and runs f32 on them.
pub async fn recipe_start(sentences: u32) -> Result<RecipePlan, String> {
    match call(RequestBody::RecipeStart { sentences }, None).await? {
        ResponseBody::RecipePlanned(plan) => Ok(plan),
        other => Err(unexpected(&other)),
    }
}

/// One layer alone in each candidate scheme, on the development sentences.
pub async fn recipe_layer(layer: String) -> Result<LayerCosts, String> {
    match call(RequestBody::RecipeLayer { layer }, None).await? {
        ResponseBody::RecipeLayerMeasured(costs) => Ok(costs),
        other => Err(unexpected(&other)),
    }
}

/// The mixed model of `recipe`, judged on the held-out set beside f32 and the uniform schemes.
pub async fn recipe_apply(recipe: Recipe, int8_embeddings: bool) -> Result<RecipeOutcome, String> {
    match call(
        RequestBody::RecipeApply {
            recipe,
            int8_embeddings,
        },
        None,
    )
    .await?
    {
        ResponseBody::RecipeApplied(outcome) => Ok(*outcome),
        other => Err(unexpected(&other)),
    }
}

/// [`recipe_apply`] for a recipe file's bytes, read in the worker.
pub async fn recipe_apply_file(
    name: String,
    bytes: Vec<u8>,
    int8_embeddings: bool,
) -> Result<RecipeOutcome, String> {
    match call(
        RequestBody::RecipeApplyFile {
            name,
            bytes: Bytes(bytes),
            int8_embeddings,
        },
        None,
    )
    .await?
    {
        ResponseBody::RecipeApplied(outcome) => Ok(*outcome),
        other => Err(unexpected(&other)),
    }
}

/// A zip of the loaded model (or the recipe's mixed model) to save.
pub async fn download(kind: DownloadKind) -> Result<Download, String> {
    match call(RequestBody::Download(kind), None).await? {
        ResponseBody::DownloadReady(d) => Ok(d),
        other => Err(unexpected(&other)),
    }
}

/// The /train student as a Hugging Face folder zip.
pub async fn train_download(best: bool) -> Result<Download, String> {
    match call(RequestBody::TrainDownload { best }, None).await? {
        ResponseBody::DownloadReady(d) => Ok(d),
        other => Err(unexpected(&other)),
    }
}

/// Reads a saved zip in the worker and compares its model with the lab's on `text`.
pub async fn check_zip(name: String, bytes: Vec<u8>, text: String) -> Result<ZipCheck, String> {
    match call(
        RequestBody::CheckZip {
            name,
            bytes: Bytes(bytes),
            text,
        },
        None,
    )
    .await?
    {
        ResponseBody::ZipChecked(c) => Ok(c),
        other => Err(unexpected(&other)),
    }
}
