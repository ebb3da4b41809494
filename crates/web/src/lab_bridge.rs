//! The lab's calls to the engine worker (one typed function per request), on top of
//! [`crate::worker_bridge`].

use crate::engine::Scheme;
use crate::lab_messages::{BatchChunkResult, Histogram, SchemeTable, Sensitivity, UploadedModel};
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
) -> Result<BatchChunkResult, String> {
    match call(
        RequestBody::BatchChunk {
            start,
            len,
            schemes,
        },
        None,
    )
    .await?
    {
        ResponseBody::BatchChunkDone(r) => Ok(r),
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
