//! `squeeze classify`: logits, probabilities and label for each text; for a quantized
//! scheme also the f32 logits and the MSE between the two (the seed's comparison).

use std::io::Write;

use engine::{Prediction, Scheme};
use serde::Serialize;

use crate::args::{quantize_options, ClassifyArgs};
use crate::model_dir;
use crate::table::vector;

#[derive(Serialize)]
struct Output<'a> {
    text: &'a str,
    scheme: Scheme,
    #[serde(flatten)]
    prediction: Prediction,
    /// Tokens the whole text needs; more than `tokens` when it was truncated.
    original_tokens: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    f32_logits: Option<Vec<f32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mse: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_abs_diff: Option<f32>,
}

/// Runs the subcommand.
pub fn run(args: &ClassifyArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let f32_model = model_dir::load(&args.model)?;
    let options = quantize_options(args.int8_embeddings);
    let model = f32_model.quantize_with(args.scheme, options)?;
    let quantized = args.scheme != Scheme::F32 || args.int8_embeddings;
    let mut results = Vec::new();
    for text in &args.texts {
        let c = engine::compare(&f32_model, &model, text)?;
        // Only a truncated text pays for a second tokenization, to say how long it was.
        let original_tokens = if c.quantized.truncated {
            f32_model.encode(text)?.original_len
        } else {
            c.quantized.tokens
        };
        results.push(Output {
            text,
            scheme: args.scheme,
            original_tokens,
            f32_logits: quantized.then(|| c.f32.logits.clone()),
            mse: quantized.then_some(c.mse),
            max_abs_diff: quantized.then_some(c.max_abs_diff),
            prediction: c.quantized,
        });
    }
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &results)?;
        writeln!(out)?;
        return Ok(());
    }
    for r in &results {
        let p = &r.prediction;
        writeln!(out, "text:          {:?}", r.text)?;
        writeln!(out, "scheme:        {}", r.scheme)?;
        if p.truncated {
            writeln!(
                out,
                "tokens:        {} (truncated: the text has {} tokens, the model reads the first {})",
                p.tokens, r.original_tokens, p.tokens
            )?;
        } else {
            writeln!(out, "tokens:        {}", p.tokens)?;
        }
        if let Some(f) = &r.f32_logits {
            writeln!(out, "f32 logits:    {}", vector(f, 7))?;
        }
        writeln!(out, "logits:        {}", vector(&p.logits, 7))?;
        writeln!(out, "probabilities: {}", vector(&p.probabilities, 4))?;
        writeln!(out, "label:         {} (id {})", p.label, p.label_id)?;
        if let (Some(mse), Some(d)) = (r.mse, r.max_abs_diff) {
            writeln!(out, "mse vs f32:    {mse:.3e}   max |diff|: {d:.3e}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}
