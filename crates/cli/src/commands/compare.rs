//! `squeeze compare`: one text through several schemes; per scheme its size, compression,
//! median forward latency, logits, probabilities and error against f32.

use std::io::Write;
use std::time::Instant;

use engine::{Classifier, Encoding, Scheme, SchemeReport, StaysF32};
use serde::Serialize;

use crate::args::CompareArgs;
use crate::model_dir;
use crate::table::{megabytes, vector, Table};

#[derive(Serialize)]
struct SchemeRow {
    scheme: Scheme,
    bytes: u64,
    compression: f64,
    latency_ms: f64,
    logits: Vec<f32>,
    probabilities: Vec<f32>,
    label: String,
    mse_vs_f32: f32,
    max_abs_diff_vs_f32: f32,
    agrees_with_f32: bool,
    layers_quantized: usize,
    layers_total: usize,
    stays_f32: Vec<StaysF32>,
}

#[derive(Serialize)]
struct Output<'a> {
    text: &'a str,
    tokens: usize,
    truncated: bool,
    runs: usize,
    schemes: Vec<SchemeRow>,
}

/// Median wall time of `runs` forwards (after one warm-up), in milliseconds.
fn median_ms(model: &Classifier, enc: &Encoding, runs: usize) -> anyhow::Result<f64> {
    model.logits(enc)?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        model.logits(enc)?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// Runs the subcommand.
pub fn run(args: &CompareArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let f32_model = model_dir::load(&args.model)?;
    let enc = f32_model.encode(&args.text)?;
    let reference = f32_model.predict(&enc)?;
    let f32_bytes = f32_model.size().total_bytes;
    let mut schemes = vec![Scheme::F32];
    schemes.extend(args.schemes.iter().filter(|&&s| s != Scheme::F32));
    let mut rows = Vec::new();
    for scheme in schemes {
        let model = f32_model.quantize(scheme)?;
        let r = SchemeReport::measure(&model, &enc, &reference, f32_bytes)?;
        rows.push(SchemeRow {
            latency_ms: median_ms(&model, &enc, args.runs)?,
            scheme: r.scheme,
            bytes: r.bytes,
            compression: r.compression,
            mse_vs_f32: r.mse,
            max_abs_diff_vs_f32: r.max_abs_diff,
            agrees_with_f32: r.agrees,
            layers_quantized: r.layers_quantized,
            layers_total: r.layers_total,
            stays_f32: r.stays_f32,
            logits: r.prediction.logits,
            probabilities: r.prediction.probabilities,
            label: r.prediction.label,
        });
    }
    let output = Output {
        text: &args.text,
        tokens: enc.ids.len(),
        truncated: enc.truncated,
        runs: args.runs,
        schemes: rows,
    };
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &output)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "text: {:?} ({} tokens{}), median of {} runs\n",
        output.text,
        output.tokens,
        if output.truncated { ", truncated" } else { "" },
        output.runs
    )?;
    let mut table = Table::new(&[
        "scheme",
        "size",
        "ratio",
        "ms",
        "logits",
        "probabilities",
        "label",
        "mse",
        "max |diff|",
        "agrees",
    ]);
    for r in &output.schemes {
        table.row(vec![
            r.scheme.to_string(),
            megabytes(r.bytes),
            format!("{:.2}x", r.compression),
            format!("{:.2}", r.latency_ms),
            vector(&r.logits, 5),
            vector(&r.probabilities, 3),
            r.label.clone(),
            format!("{:.2e}", r.mse_vs_f32),
            format!("{:.2e}", r.max_abs_diff_vs_f32),
            if r.agrees_with_f32 { "yes" } else { "NO" }.to_string(),
            format!("{}/{}", r.layers_quantized, r.layers_total),
        ]);
    }
    write!(out, "{}", table.render())?;
    for r in output.schemes.iter().filter(|r| !r.stays_f32.is_empty()) {
        let first = &r.stays_f32[0];
        writeln!(
            out,
            "{}: {} of {} Linear layers stay f32 (e.g. {}: {})",
            r.scheme,
            r.stays_f32.len(),
            r.layers_total,
            first.layer,
            first.reason
        )?;
    }
    Ok(())
}
