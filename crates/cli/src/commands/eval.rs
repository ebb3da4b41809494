//! `squeeze eval`: accuracy on a labelled TSV, and for a quantized scheme how often its
//! label agrees with the f32 model's.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};
use engine::{EmbeddingStorage, Scheme};
use serde::Serialize;

use crate::args::{quantize_options, EvalArgs};
use crate::model_dir;

/// One labelled example.
#[derive(Debug, PartialEq)]
pub struct Example {
    pub label: usize,
    pub text: String,
}

/// Parses `label<TAB>text` lines after a header; errors name `path:line`.
pub fn parse_tsv(path: &Path, content: &str, n_labels: usize) -> anyhow::Result<Vec<Example>> {
    let mut lines = content.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.trim_end() == "label\ttext" => {}
        Some((_, header)) => bail!(
            "{}:1: expected the header `label<TAB>text`, found {header:?}",
            path.display()
        ),
        None => bail!(
            "{}: empty file; expected a header `label<TAB>text` and rows",
            path.display()
        ),
    }
    let mut examples = Vec::new();
    for (i, line) in lines {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{}:{}", path.display(), i + 1);
        let (label, text) = line
            .split_once('\t')
            .with_context(|| format!("{}: expected `label<TAB>text`", at()))?;
        let label: usize = label
            .trim()
            .parse()
            .with_context(|| format!("{}: label {label:?} is not a class id", at()))?;
        if label >= n_labels {
            bail!(
                "{}: label {label} is out of range; the model has {n_labels} classes",
                at()
            );
        }
        examples.push(Example {
            label,
            text: text.to_string(),
        });
    }
    if examples.is_empty() {
        bail!("{}: no rows after the header", path.display());
    }
    Ok(examples)
}

#[derive(Serialize)]
struct Report {
    scheme: Scheme,
    #[serde(skip_serializing_if = "is_f32")]
    embeddings: EmbeddingStorage,
    n: usize,
    correct: usize,
    accuracy: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    f32_accuracy: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    agreement_with_f32: Option<f64>,
    truncated: usize,
    model_bytes: u64,
}

fn is_f32(e: &EmbeddingStorage) -> bool {
    *e == EmbeddingStorage::F32
}

/// Runs the subcommand.
pub fn run(args: &EvalArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let f32_model = model_dir::load(&args.model)?;
    let options = quantize_options(args.int8_embeddings);
    let model = f32_model.quantize_with(args.scheme, options)?;
    let content = String::from_utf8(model_dir::read(&args.data)?)
        .with_context(|| format!("{}: not UTF-8 text", args.data.display()))?;
    let examples = parse_tsv(&args.data, &content, model.labels().len())?;
    let quantized = args.scheme != Scheme::F32 || args.int8_embeddings;
    let (mut correct, mut f32_correct, mut agree, mut truncated) = (0, 0, 0, 0);
    for ex in &examples {
        let enc = model.encode(&ex.text)?;
        truncated += usize::from(enc.truncated);
        let p = model.predict(&enc)?;
        correct += usize::from(p.label_id == ex.label);
        if quantized {
            let f = f32_model.predict(&enc)?;
            f32_correct += usize::from(f.label_id == ex.label);
            agree += usize::from(f.label_id == p.label_id);
        }
    }
    let n = examples.len();
    let ratio = |k: usize| k as f64 / n as f64;
    let report = Report {
        scheme: args.scheme,
        embeddings: options.embeddings,
        n,
        correct,
        accuracy: ratio(correct),
        f32_accuracy: quantized.then(|| ratio(f32_correct)),
        agreement_with_f32: quantized.then(|| ratio(agree)),
        truncated,
        model_bytes: model.size().total_bytes,
    };
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "data:      {} ({n} examples{})",
        args.data.display(),
        if truncated > 0 {
            format!(", {truncated} truncated")
        } else {
            String::new()
        }
    )?;
    writeln!(out, "scheme:    {}", report.scheme)?;
    if args.int8_embeddings {
        writeln!(out, "embeddings: int8, one scale per row")?;
        writeln!(out, "size:      {} bytes", report.model_bytes)?;
    }
    writeln!(
        out,
        "accuracy:  {:.2}% ({correct}/{n})",
        100.0 * report.accuracy
    )?;
    if let (Some(fa), Some(ag)) = (report.f32_accuracy, report.agreement_with_f32) {
        writeln!(out, "f32:       {:.2}%", 100.0 * fa)?;
        writeln!(
            out,
            "agreement: {:.2}% of labels equal to f32's",
            100.0 * ag
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> anyhow::Result<Vec<Example>> {
        parse_tsv(Path::new("d.tsv"), s, 2)
    }

    #[test]
    fn reads_rows_after_the_header() {
        let rows = parse("label\ttext\n1\tgreat fun\n0\tdull, sadly\n").unwrap();
        assert_eq!(
            rows[1],
            Example {
                label: 0,
                text: "dull, sadly".into()
            }
        );
    }

    #[test]
    fn bad_rows_name_their_line() {
        let msg = |s: &str| format!("{:#}", parse(s).unwrap_err());
        assert_eq!(
            msg("text\tlabel\n"),
            "d.tsv:1: expected the header `label<TAB>text`, found \"text\\tlabel\""
        );
        assert_eq!(
            msg("label\ttext\n1\tok\nno tab here\n"),
            "d.tsv:3: expected `label<TAB>text`"
        );
        assert!(msg("label\ttext\nx\thi\n").starts_with("d.tsv:2: label \"x\" is not a class id"));
        assert_eq!(
            msg("label\ttext\n7\thi\n"),
            "d.tsv:2: label 7 is out of range; the model has 2 classes"
        );
        assert_eq!(msg("label\ttext\n"), "d.tsv: no rows after the header");
    }
}
