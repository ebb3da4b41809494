//! `squeeze recipe`: a scheme per Linear layer for a budget. Per-layer sensitivity is
//! measured on the dev set (choosing); the mixed model, f32 and every uniform scheme are
//! then judged on the held-out test set (reporting), which the choice never saw.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{bail, Context};
use engine::recipe::{search, Budget, EvalSet, Evaluation, Recipe, Sensitivity};
use engine::{Classifier, Scheme};
use serde::Serialize;

use crate::args::RecipeArgs;
use crate::commands::eval::parse_tsv;
use crate::model_dir;
use crate::table::{megabytes, Table};

#[derive(Serialize)]
struct Row {
    model: String,
    #[serde(flatten)]
    eval: Evaluation,
}

#[derive(Serialize)]
struct Output<'a> {
    budget: Budget,
    dev: String,
    dev_sentences: usize,
    test: String,
    recipe: &'a Recipe,
    held_out: Vec<Row>,
}

/// `(label, text)` pairs of a labelled TSV.
fn labelled(path: &Path, model: &Classifier) -> anyhow::Result<Vec<(usize, String)>> {
    let content = String::from_utf8(model_dir::read(path)?)
        .with_context(|| format!("{}: not UTF-8 text", path.display()))?;
    Ok(parse_tsv(path, &content, model.labels().len())?
        .into_iter()
        .map(|e| (e.label, e.text))
        .collect())
}

/// The budget the arguments ask for, in the engine's terms.
fn budget(args: &RecipeArgs, f32_model: &Classifier) -> anyhow::Result<Budget> {
    if let Some(mb) = args.budget_mb {
        if !(mb > 0.0 && mb.is_finite()) {
            bail!("--budget-mb must be a positive number of megabytes, not {mb}");
        }
        return Ok(Budget::MaxBytes((mb * 1e6).floor() as u64));
    }
    if let Some(scheme) = args.no_larger_than {
        let bytes = f32_model.quantize(scheme)?.size().total_bytes;
        return Ok(Budget::MaxBytes(bytes));
    }
    match args.max_error {
        Some(e) if e >= 0.0 && e.is_finite() => Ok(Budget::MaxError(e)),
        Some(e) => bail!("--max-error must be 0 or more, not {e}"),
        None => bail!("give a budget: --budget-mb, --no-larger-than or --max-error"),
    }
}

/// Per-layer sensitivity: read from `--sensitivity` when that file exists, else measured
/// on the dev set (and written there when asked).
fn sensitivity(
    args: &RecipeArgs,
    f32_model: &Classifier,
    dev: &EvalSet,
) -> anyhow::Result<Sensitivity> {
    if let Some(path) = args.sensitivity.as_deref().filter(|p| p.exists()) {
        let s: Sensitivity = serde_json::from_slice(&model_dir::read(path)?)
            .with_context(|| format!("{}: not a sensitivity file", path.display()))?;
        let names: Vec<String> = f32_model.linears().into_iter().map(|l| l.name).collect();
        let theirs: Vec<&String> = s.layers.iter().map(|l| &l.layer).collect();
        if s.f32_bytes() != f32_model.size().total_bytes
            || theirs != names.iter().collect::<Vec<_>>()
        {
            bail!(
                "{}: measured on another model (its layers or size differ); delete it to measure again",
                path.display()
            );
        }
        return Ok(s);
    }
    let show_progress = std::io::stderr().is_terminal() && !args.json;
    let s = Sensitivity::measure(
        f32_model,
        dev.encodings(),
        &args.schemes,
        &mut |done, total| {
            if show_progress {
                eprint!("\rmeasuring layer {done}/{total}");
                if done == total {
                    eprintln!();
                }
            }
        },
    )?;
    if let Some(path) = &args.sensitivity {
        std::fs::write(path, serde_json::to_string_pretty(&s)? + "\n")
            .with_context(|| format!("{}: cannot write the sensitivity", path.display()))?;
    }
    Ok(s)
}

/// Runs the subcommand.
pub fn run(args: &RecipeArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let f32_model = model_dir::load(&args.model)?;
    let budget = budget(args, &f32_model)?;
    let dev = EvalSet::new(&f32_model, &labelled(&args.dev, &f32_model)?)
        .with_context(|| format!("{}", args.dev.display()))?;
    let test = EvalSet::new(&f32_model, &labelled(&args.test, &f32_model)?)
        .with_context(|| format!("{}", args.test.display()))?;
    let sensitivity = sensitivity(args, &f32_model, &dev)?;
    let recipe = search(&sensitivity, budget)?;
    if let Some(path) = &args.out {
        std::fs::write(path, recipe.to_json() + "\n")
            .with_context(|| format!("{}: cannot write the recipe", path.display()))?;
    }
    let mixed = f32_model.apply_recipe(&recipe)?;
    let mut rows = vec![
        Row {
            model: "f32".into(),
            eval: test.evaluate(&f32_model)?,
        },
        Row {
            model: "recipe".into(),
            eval: test.evaluate(&mixed)?,
        },
    ];
    for &scheme in args.schemes.iter().filter(|&&s| s != Scheme::F32) {
        rows.push(Row {
            model: scheme.name().into(),
            eval: test.evaluate(&f32_model.quantize(scheme)?)?,
        });
    }
    if args.json {
        let output = Output {
            budget,
            dev: args.dev.display().to_string(),
            dev_sentences: dev.len(),
            test: args.test.display().to_string(),
            recipe: &recipe,
            held_out: rows,
        };
        serde_json::to_writer_pretty(&mut *out, &output)?;
        writeln!(out)?;
        return Ok(());
    }
    print_recipe(out, args, &sensitivity, &recipe, dev.len())?;
    print_held_out(out, args, &rows)
}

fn print_recipe(
    out: &mut impl Write,
    args: &RecipeArgs,
    sensitivity: &Sensitivity,
    recipe: &Recipe,
    dev_sentences: usize,
) -> anyhow::Result<()> {
    let budget = match recipe.budget {
        Some(Budget::MaxBytes(b)) => format!("model ≤ {}", megabytes(b)),
        Some(Budget::MaxError(e)) => format!("summed predicted error ≤ {e:.2e}"),
        None => "none".into(),
    };
    writeln!(out, "budget:      {budget}")?;
    writeln!(
        out,
        "sensitivity: {} ({dev_sentences} sentences): each layer alone in each scheme, mean logits MSE vs f32",
        args.dev.display()
    )?;
    let mut t = Table::new(&["layer", "scheme", "bytes", "predicted error"]);
    for l in &recipe.layers {
        t.row(vec![
            l.layer.clone(),
            l.scheme.name().into(),
            l.bytes.to_string(),
            format!("{:.2e}", l.predicted_error),
        ]);
    }
    write!(out, "{}", t.render())?;
    let counts: Vec<String> = recipe
        .counts()
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    writeln!(
        out,
        "recipe:      {} ({} fixed + Linear layers: {}), predicted error {:.2e}",
        megabytes(recipe.bytes),
        megabytes(sensitivity.fixed_bytes),
        counts.join(", "),
        recipe.predicted_error
    )?;
    if let Some(path) = &args.out {
        writeln!(out, "wrote:       {}", path.display())?;
    }
    Ok(())
}

fn print_held_out(out: &mut impl Write, args: &RecipeArgs, rows: &[Row]) -> anyhow::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "held out:    {} ({} sentences, not used for choosing)",
        args.test.display(),
        rows[0].eval.n
    )?;
    let mut t = Table::new(&[
        "model",
        "size",
        "accuracy",
        "agreement with f32",
        "right→wrong",
        "wrong→right",
        "mean MSE",
    ]);
    for r in rows {
        let e = &r.eval;
        let reference = r.model == "f32";
        let dash = || "–".to_string();
        t.row(vec![
            r.model.clone(),
            megabytes(e.bytes),
            format!("{:.2}% ({}/{})", 100.0 * e.accuracy, e.correct, e.n),
            if reference {
                dash()
            } else {
                format!("{:.2}%", 100.0 * e.agreement)
            },
            if reference {
                dash()
            } else {
                e.right_to_wrong.to_string()
            },
            if reference {
                dash()
            } else {
                e.wrong_to_right.to_string()
            },
            if reference {
                dash()
            } else {
                format!("{:.1e}", e.mean_mse)
            },
        ]);
    }
    write!(out, "{}", t.render())?;
    Ok(())
}
