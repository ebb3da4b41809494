//! `squeeze quantize`: the model in one scheme, or in the per-layer schemes of a recipe
//! file (and optionally int8 embeddings), written as one safetensors file (layout:
//! docs/EXPORT.md) beside its config.json and tokenizer, in a folder and/or a zip bundle.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use engine::export::QUANTIZED_FILE;
use engine::recipe::Recipe;
use engine::{Classifier, EmbeddingStorage, ModelSize, Scheme};
use serde::Serialize;

use crate::args::{quantize_options, QuantizeArgs};
use crate::table::megabytes;
use crate::{model_dir, out_dir};

#[derive(Serialize)]
struct Report {
    /// The scheme of every Linear layer (absent with `--recipe`).
    #[serde(skip_serializing_if = "Option::is_none")]
    scheme: Option<Scheme>,
    /// The recipe file and its per-scheme layer counts (absent with `--scheme`).
    #[serde(skip_serializing_if = "Option::is_none")]
    recipe: Option<RecipeReport>,
    embeddings: EmbeddingStorage,
    #[serde(skip_serializing_if = "Option::is_none")]
    out: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    zip: Option<String>,
    /// Bytes of the f32 model as stored.
    f32_size: ModelSize,
    /// Bytes of the quantized model as stored.
    size: ModelSize,
    /// Bytes of the written safetensors file (header included).
    file_bytes: u64,
    /// Bytes of the zip bundle, when one was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    zip_bytes: Option<u64>,
}

#[derive(Serialize)]
struct RecipeReport {
    file: String,
    /// Linear layers per scheme, e.g. `{"f32": 2, "q4_k": 12}`.
    layers: serde_json::Map<String, serde_json::Value>,
}

/// Reads and parses a recipe file; errors name the file.
fn read_recipe(path: &Path) -> anyhow::Result<Recipe> {
    let bytes = model_dir::read(path)?;
    Recipe::from_json(&bytes).with_context(|| format!("{}", path.display()))
}

/// Runs the subcommand.
pub fn run(args: &QuantizeArgs, out: &mut impl Write) -> anyhow::Result<()> {
    if let Some(dir) = &args.out {
        out_dir::check(dir)?;
    }
    if let Some(zip) = &args.zip {
        out_dir::check_file(zip)?;
    }
    let recipe = args.recipe.as_deref().map(read_recipe).transpose()?;
    let f32_model = model_dir::load(&args.model)?;
    let options = quantize_options(args.int8_embeddings);
    let model: Classifier = match (&recipe, args.scheme) {
        (Some(recipe), _) => {
            let path = args.recipe.as_deref().expect("read above");
            f32_model
                .apply_recipe_with(recipe, options)
                .with_context(|| format!("{}", path.display()))?
        }
        (None, Some(scheme)) => f32_model.quantize_with(scheme, options)?,
        (None, None) => anyhow::bail!("give --scheme or --recipe"),
    };
    let bytes = model.export_quantized()?;
    if let Some(dir) = &args.out {
        out_dir::create(dir)?;
        out_dir::write(dir, QUANTIZED_FILE, &bytes)?;
        out_dir::write(dir, "config.json", &model.export_config())?;
        out_dir::copy_tokenizer(&args.model.model, dir)?;
    }
    let zip_bytes = match &args.zip {
        Some(path) => {
            let tokenizer = model_dir::tokenizer(&args.model.model)?;
            let bundle = model.quantized_bundle(&model_dir::name(&args.model.model), &tokenizer)?;
            std::fs::write(path, &bundle.bytes)
                .with_context(|| format!("{}: cannot write it", path.display()))?;
            Some(bundle.bytes.len() as u64)
        }
        None => None,
    };
    let report = Report {
        scheme: recipe.is_none().then_some(model.scheme()),
        recipe: recipe.as_ref().map(|r| RecipeReport {
            file: args
                .recipe
                .as_deref()
                .expect("read above")
                .display()
                .to_string(),
            layers: r
                .counts()
                .into_iter()
                .map(|(s, n)| (s.name().to_string(), n.into()))
                .collect(),
        }),
        embeddings: options.embeddings,
        out: args.out.as_ref().map(|d| d.display().to_string()),
        zip: args.zip.as_ref().map(|z| z.display().to_string()),
        f32_size: f32_model.size(),
        size: model.size(),
        file_bytes: bytes.len() as u64,
        zip_bytes,
    };
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
        return Ok(());
    }
    print(out, &report, recipe.as_ref())
}

fn print(out: &mut impl Write, report: &Report, recipe: Option<&Recipe>) -> anyhow::Result<()> {
    if let Some(dir) = &report.out {
        writeln!(out, "wrote {dir}/{QUANTIZED_FILE}")?;
    }
    if let (Some(zip), Some(bytes)) = (&report.zip, report.zip_bytes) {
        writeln!(out, "wrote {zip} ({})", megabytes(bytes))?;
    }
    let layers = match (report.scheme, recipe, &report.recipe) {
        (Some(scheme), _, _) => scheme.to_string(),
        (None, Some(r), Some(file)) => {
            let counts: Vec<String> = r.counts().iter().map(|(s, n)| format!("{n} {s}")).collect();
            format!("recipe {} ({})", file.file, counts.join(", "))
        }
        _ => unreachable!("a scheme or a recipe"),
    };
    writeln!(
        out,
        "scheme:     {layers}{}",
        if report.embeddings == EmbeddingStorage::Int8PerRow {
            " + int8 embeddings (one scale per row)"
        } else {
            ""
        }
    )?;
    let s = &report.size;
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
