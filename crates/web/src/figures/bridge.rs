//! The figures' calls into the engine's worker: one async function per request.

use crate::engine::explain::{ActivationRange, MarginRow};
use crate::engine::Scheme;
use crate::figures::messages::{FlipCheck, PackedRows, SeedCodeRun, SoftTargets};
use crate::protocol::{RequestBody, ResponseBody};
use crate::worker_bridge::{call, unexpected};

/// The seed's program on `text`.
pub async fn seed_code(text: String) -> Result<SeedCodeRun, String> {
    match call(RequestBody::SeedCode { text }, None).await? {
        ResponseBody::SeedCodeRan(run) => Ok(run),
        other => Err(unexpected(&other)),
    }
}

/// Teacher and student logits on `text`.
pub async fn soft_targets(text: String) -> Result<SoftTargets, String> {
    match call(RequestBody::SoftTargets { text }, None).await? {
        ResponseBody::SoftTargetsReady(soft) => Ok(soft),
        other => Err(unexpected(&other)),
    }
}

/// The input of `layer` on `text`, binned in `bins`.
pub async fn activations(
    text: String,
    layer: String,
    bins: u32,
) -> Result<ActivationRange, String> {
    match call(RequestBody::Activations { text, layer, bins }, None).await? {
        ResponseBody::ActivationsMeasured(range) => Ok(range),
        other => Err(unexpected(&other)),
    }
}

/// Row `row` of `layer` packed in each of `formats`.
pub async fn pack_row(layer: String, row: u32, formats: Vec<Scheme>) -> Result<PackedRows, String> {
    match call(
        RequestBody::PackRow {
            layer,
            row,
            formats,
        },
        None,
    )
    .await?
    {
        ResponseBody::RowPacked(rows) => Ok(rows),
        other => Err(unexpected(&other)),
    }
}

/// f32 and `scheme` on `text`.
pub async fn flip_check(text: String, scheme: Scheme) -> Result<FlipCheck, String> {
    match call(RequestBody::FlipCheck { text, scheme }, None).await? {
        ResponseBody::FlipChecked(check) => Ok(check),
        other => Err(unexpected(&other)),
    }
}

/// The `n` held-out sentences closest to flipping under `scheme`.
pub async fn closest_calls(scheme: Scheme, n: u32) -> Result<Vec<MarginRow>, String> {
    match call(RequestBody::ClosestCalls { scheme, n }, None).await? {
        ResponseBody::ClosestCallsFound(rows) => Ok(rows),
        other => Err(unexpected(&other)),
    }
}
