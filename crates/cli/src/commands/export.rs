//! `squeeze export`: the f32 model (or an f16 copy) as a Hugging Face folder —
//! config.json, model.safetensors and the tokenizer — that transformers loads as it is,
//! and/or the same files as a zip bundle.

use std::io::Write;

use anyhow::Context;
use engine::export::hf::Precision;

use crate::args::ExportArgs;
use crate::table::megabytes;
use crate::{model_dir, out_dir};

/// Runs the subcommand.
pub fn run(args: &ExportArgs, out: &mut impl Write) -> anyhow::Result<()> {
    if let Some(dir) = &args.out {
        out_dir::check(dir)?;
    }
    if let Some(zip) = &args.zip {
        out_dir::check_file(zip)?;
    }
    let model = model_dir::load(&args.model)?;
    let precision = if args.f16 {
        Precision::F16
    } else {
        Precision::F32
    };
    let files = model.export_hf(precision)?;
    let what = format!(
        "config.json, model.safetensors ({}, {})",
        if args.f16 { "f16" } else { "f32" },
        megabytes(files.weights.len() as u64)
    );
    if let Some(dir) = &args.out {
        out_dir::create(dir)?;
        out_dir::write(dir, "config.json", &files.config)?;
        out_dir::write(dir, "model.safetensors", &files.weights)?;
        let tokenizer = out_dir::copy_tokenizer(&args.model.model, dir)?;
        writeln!(out, "wrote {}: {what}, {tokenizer}", dir.display())?;
    }
    if let Some(path) = &args.zip {
        let tokenizer = model_dir::tokenizer(&args.model.model)?;
        let bundle = model.hf_bundle(&model_dir::name(&args.model.model), precision, &tokenizer)?;
        std::fs::write(path, &bundle.bytes)
            .with_context(|| format!("{}: cannot write it", path.display()))?;
        writeln!(
            out,
            "wrote {} ({}): {}/ with {what}, {}",
            path.display(),
            megabytes(bundle.bytes.len() as u64),
            bundle.file_name.trim_end_matches(".zip"),
            tokenizer.file_name()
        )?;
    }
    Ok(())
}
