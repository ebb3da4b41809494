//! The lessons' figures in the worker: the seed's program on a sentence, one layer's
//! activations, one weight row in block formats, f32 against one scheme, the held-out
//! sentences closest to flipping, and soft targets from a teacher and a student.

use crate::engine::distill::live::Trainer;
use crate::engine::{explain, metrics, Scheme};
use crate::figures::messages::{FlipCheck, PackedRows, SeedCodeRun, SoftTargets};
use crate::protocol::{RequestBody, ResponseBody};

use super::lab::{held_out_texts, in_scheme};
use super::models::Loaded;

/// Most bins the activation histogram may ask for.
const MAX_BINS: u32 = 200;
/// Most held-out sentences a hint lists.
const MAX_CLOSEST: u32 = 50;

/// Answers a figure's request against the loaded model.
pub fn handle(loaded: &Loaded, body: RequestBody) -> ResponseBody {
    let result = match body {
        RequestBody::SeedCode { text } => seed_code(loaded, text).map(ResponseBody::SeedCodeRan),
        RequestBody::Activations { text, layer, bins } => explain::activation_range(
            loaded.f32(),
            &text,
            &layer,
            bins.clamp(1, MAX_BINS) as usize,
        )
        .map_err(|e| e.to_string())
        .map(ResponseBody::ActivationsMeasured),
        RequestBody::PackRow {
            layer,
            row,
            formats,
        } => pack_row(loaded, layer, row as usize, &formats).map(ResponseBody::RowPacked),
        RequestBody::FlipCheck { text, scheme } => {
            flip_check(loaded, text, scheme).map(ResponseBody::FlipChecked)
        }
        RequestBody::ClosestCalls { scheme, n } => {
            closest_calls(loaded, scheme, n).map(ResponseBody::ClosestCallsFound)
        }
        other => Err(format!("the figures do not handle {other:?}")),
    };
    result.unwrap_or_else(|message| ResponseBody::Failed { message })
}

fn seed_code(loaded: &Loaded, text: String) -> Result<SeedCodeRun, String> {
    let f32 = loaded.f32();
    let int8 = loaded.quantized();
    let enc = f32.encode(&text).map_err(|e| e.to_string())?;
    let f32_logits = f32.logits(&enc).map_err(|e| e.to_string())?;
    let int8_logits = int8.logits(&enc).map_err(|e| e.to_string())?;
    let mse = metrics::mse(&int8_logits, &f32_logits).map_err(|e| e.to_string())?;
    let info = f32.info();
    Ok(SeedCodeRun {
        text,
        ids: enc.ids,
        tokens: enc.tokens,
        truncated: enc.truncated,
        labels: f32.labels().to_vec(),
        f32_logits,
        int8_logits,
        mse,
        linears: int8
            .linears()
            .iter()
            .filter(|l| l.scheme == int8.scheme())
            .count(),
        f32_bytes: f32.size().total_bytes,
        int8_bytes: int8.size().total_bytes,
        layers: info.layers,
        dim: info.dim,
        parameters: info.parameters,
    })
}

fn pack_row(
    loaded: &Loaded,
    layer: String,
    row: usize,
    formats: &[Scheme],
) -> Result<PackedRows, String> {
    let f32 = loaded.f32();
    let linear = f32.linear(&layer).map_err(|e| e.to_string())?;
    let (rows, in_features) = linear.dims();
    let weights = explain::weight_row(f32, &layer, row).map_err(|e| e.to_string())?;
    let mut packed = Vec::new();
    let mut unfit = Vec::new();
    for &scheme in formats {
        if let Some(why) = scheme.unfit_reason(in_features) {
            unfit.push((scheme, why));
            continue;
        }
        packed.push(explain::pack_row(&weights, scheme).map_err(|e| e.to_string())?);
    }
    Ok(PackedRows {
        layer,
        row,
        rows,
        weights,
        packed,
        unfit,
    })
}

fn flip_check(loaded: &Loaded, text: String, scheme: Scheme) -> Result<FlipCheck, String> {
    let other = in_scheme(loaded, scheme)?;
    let enc = loaded.f32().encode(&text).map_err(|e| e.to_string())?;
    Ok(FlipCheck {
        scheme,
        labels: loaded.f32().labels().to_vec(),
        f32_logits: loaded.f32().logits(&enc).map_err(|e| e.to_string())?,
        other_logits: other.logits(&enc).map_err(|e| e.to_string())?,
        text,
    })
}

fn closest_calls(
    loaded: &Loaded,
    scheme: Scheme,
    n: u32,
) -> Result<Vec<explain::MarginRow>, String> {
    let other = in_scheme(loaded, scheme)?;
    let texts = held_out_texts();
    explain::closest_calls(
        loaded.f32(),
        &other,
        &texts,
        n.clamp(1, MAX_CLOSEST) as usize,
    )
    .map_err(|e| e.to_string())
}

/// The teacher's and the student's logits on `text`.
pub fn soft_targets(trainer: &Trainer, text: String) -> Result<SoftTargets, String> {
    let teacher = trainer.teacher();
    let student = trainer.student().map_err(|e| e.to_string())?;
    let enc = teacher.encode(&text).map_err(|e| e.to_string())?;
    let shape = trainer.shape();
    Ok(SoftTargets {
        labels: teacher.labels().to_vec(),
        teacher: teacher.logits(&enc).map_err(|e| e.to_string())?,
        student: student
            .logits(&student.encode(&text).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?,
        student_steps: trainer.steps(),
        student_layers: shape.layers,
        student_dim: shape.dim,
        text,
    })
}
