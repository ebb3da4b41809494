//! `squeeze quantize`: the model in one scheme (and optionally int8 embeddings) written as
//! one safetensors file (layout: docs/EXPORT.md) beside its config.json and tokenizer.

use std::io::Write;

use engine::export::QUANTIZED_FILE;
use engine::{EmbeddingStorage, ModelSize, Scheme};
use serde::Serialize;

use crate::args::{quantize_options, QuantizeArgs};
use crate::table::megabytes;
use crate::{model_dir, out_dir};

#[derive(Serialize)]
struct Report {
    scheme: Scheme,
    embeddings: EmbeddingStorage,
    out: String,
    /// Bytes of the f32 model as stored.
    f32_size: ModelSize,
    /// Bytes of the quantized model as stored.
    size: ModelSize,
    /// Bytes of the written safetensors file (header included).
    file_bytes: u64,
}

/// Runs the subcommand.
pub fn run(args: &QuantizeArgs, out: &mut impl Write) -> anyhow::Result<()> {
    out_dir::check(&args.out)?;
    let f32_model = model_dir::load(&args.model)?;
    let options = quantize_options(args.int8_embeddings);
    let model = f32_model.quantize_with(args.scheme, options)?;
    let bytes = model.export_quantized()?;
    out_dir::create(&args.out)?;
    out_dir::write(&args.out, QUANTIZED_FILE, &bytes)?;
    out_dir::write(&args.out, "config.json", &model.export_config())?;
    out_dir::copy_tokenizer(&args.model.model, &args.out)?;
    let report = Report {
        scheme: args.scheme,
        embeddings: options.embeddings,
        out: args.out.display().to_string(),
        f32_size: f32_model.size(),
        size: model.size(),
        file_bytes: bytes.len() as u64,
    };
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
        return Ok(());
    }
    let s = &report.size;
    writeln!(out, "wrote {}/{QUANTIZED_FILE}", report.out)?;
    writeln!(
        out,
        "scheme:     {}{}",
        report.scheme,
        if args.int8_embeddings {
            " + int8 embeddings (one scale per row)"
        } else {
            ""
        }
    )?;
    writeln!(
        out,
        "size:       {} ({:.2}x smaller than f32's {})",
        megabytes(s.total_bytes),
        report.f32_size.total_bytes as f64 / s.total_bytes.max(1) as f64,
        megabytes(report.f32_size.total_bytes)
    )?;
    writeln!(out, "  linear:     {}", megabytes(s.linear_bytes))?;
    writeln!(out, "  embeddings: {}", megabytes(s.embedding_bytes))?;
    writeln!(
        out,
        "  layernorms: {}",
        megabytes(s.float_bytes - s.embedding_bytes)
    )?;
    writeln!(out, "file:       {}", megabytes(report.file_bytes))?;
    Ok(())
}
