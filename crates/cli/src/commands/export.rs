//! `squeeze export`: the f32 model (or an f16 copy) as a Hugging Face folder —
//! config.json, model.safetensors and the tokenizer — that transformers loads as it is.

use std::io::Write;

use engine::export::hf::Precision;

use crate::args::ExportArgs;
use crate::table::megabytes;
use crate::{model_dir, out_dir};

/// Runs the subcommand.
pub fn run(args: &ExportArgs, out: &mut impl Write) -> anyhow::Result<()> {
    out_dir::check(&args.out)?;
    let model = model_dir::load(&args.model)?;
    let precision = if args.f16 {
        Precision::F16
    } else {
        Precision::F32
    };
    let files = model.export_hf(precision)?;
    out_dir::create(&args.out)?;
    out_dir::write(&args.out, "config.json", &files.config)?;
    out_dir::write(&args.out, "model.safetensors", &files.weights)?;
    let tokenizer = out_dir::copy_tokenizer(&args.model.model, &args.out)?;
    writeln!(
        out,
        "wrote {}: config.json, model.safetensors ({}, {}), {tokenizer}",
        args.out.display(),
        if args.f16 { "f16" } else { "f32" },
        megabytes(files.weights.len() as u64)
    )?;
    Ok(())
}
