//! `squeeze distill`: the live distillation run of the /train page, natively: a student
//! cut from the teacher, trained step by step on the teacher's logits, then compared with
//! the teacher and its own quantized copy on the held-out sentences.

use std::io::Write;
use std::time::Instant;

use anyhow::Context;
use engine::distill::live::{LiveConfig, LiveEval, LiveLoss, Trainer};
use serde::Serialize;

use crate::args::DistillArgs;
use crate::{model_dir, out_dir};

#[derive(Serialize)]
struct Report {
    config: LiveConfig,
    /// Training loss of each step's batch, before that step's update.
    loss: Vec<f64>,
    /// `(steps taken, held-out loss)`.
    held_out: Vec<(usize, f64)>,
    /// Held-out loss after the last step.
    held_out_loss: f64,
    /// `1 - last / first` of `loss`.
    drop: f64,
    train_sentences: usize,
    held_out_sentences: usize,
    /// Share of held-out labels equal to the teacher's.
    agreement: f64,
    eval: LiveEval,
    steps_per_second: f64,
}

/// Runs the subcommand.
pub fn run(args: &DistillArgs, out: &mut impl Write) -> anyhow::Result<()> {
    // A folder that cannot take the student is refused before a step is taken.
    if let Some(dir) = &args.out {
        out_dir::check(dir)?;
    }
    let files = model_dir::files(&args.teacher)?;
    let config = LiveConfig {
        layers: args.layers,
        dim: args.dim,
        seed: args.seed,
        lr: args.lr,
        batch: args.batch,
        loss: match args.temperature {
            Some(temperature) => LiveLoss::Kl { temperature },
            None => LiveLoss::Mse,
        },
    };
    let mut trainer = Trainer::new(&files, config).with_context(|| {
        format!(
            "{}: cannot distil from this teacher",
            args.teacher.display()
        )
    })?;
    let (train_sentences, held_out_sentences) = trainer.sentences();
    let shape = trainer.shape();
    if !args.json {
        writeln!(
            out,
            "student: {} layer(s), dim {}, {} heads, {} parameters; {train_sentences} training \
             and {held_out_sentences} held-out sentences; seed {}",
            shape.layers,
            shape.dim,
            shape.heads,
            shape.parameters(),
            args.seed
        )?;
    }
    let mut held_out = vec![(0, trainer.held_out_loss()?)];
    if !args.json {
        writeln!(out, "step     0  held-out {:.5}", held_out[0].1)?;
    }
    let mut loss = Vec::with_capacity(args.steps);
    let start = Instant::now();
    for step in 1..=args.steps {
        let l = trainer.step()?;
        loss.push(l);
        let every = args.held_out_every.max(1);
        let h = if step.is_multiple_of(every) || step == args.steps {
            let h = trainer.held_out_loss()?;
            held_out.push((step, h));
            Some(h)
        } else {
            None
        };
        if !args.json {
            match h {
                Some(h) => writeln!(out, "step {step:5}  loss {l:.5}  held-out {h:.5}")?,
                None => writeln!(out, "step {step:5}  loss {l:.5}")?,
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let eval = trainer.evaluate(args.scheme)?;
    let first = loss.first().copied().unwrap_or(f64::NAN);
    let last = loss.last().copied().unwrap_or(f64::NAN);
    let report = Report {
        config,
        drop: 1.0 - last / first,
        held_out_loss: held_out.last().map_or(f64::NAN, |h| h.1),
        loss,
        held_out,
        train_sentences,
        held_out_sentences,
        agreement: eval.models[1].agreement,
        eval,
        steps_per_second: args.steps as f64 / seconds.max(1e-9),
    };
    if let Some(dir) = &args.out {
        save_student(&trainer, dir)?;
    }
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
        return Ok(());
    }
    if let Some(dir) = &args.out {
        writeln!(out, "student saved to {}", dir.display())?;
    }
    writeln!(
        out,
        "loss {first:.5} -> {last:.5} ({:.1}% lower), {:.1} steps/s",
        100.0 * report.drop,
        report.steps_per_second
    )?;
    writeln!(
        out,
        "on {} held-out sentences:\n  {:<22} {:>9} {:>10} {:>12}",
        report.eval.n, "model", "accuracy", "agreement", "bytes"
    )?;
    for m in &report.eval.models {
        writeln!(
            out,
            "  {:<22} {:>8.1}% {:>9.1}% {:>12}",
            m.name,
            100.0 * m.accuracy,
            100.0 * m.agreement,
            m.bytes
        )?;
    }
    writeln!(
        out,
        "logit MSE: teacher-student {:.5}, teacher-quantized {:.5}, student-quantized {:.6}",
        report.eval.mse_teacher_student,
        report.eval.mse_teacher_quantized,
        report.eval.mse_student_quantized
    )?;
    Ok(())
}

/// Writes the student as a Hugging Face folder: what the /train page's download holds.
fn save_student(trainer: &Trainer, dir: &std::path::Path) -> anyhow::Result<()> {
    let student = trainer.student()?;
    let files = student.export_hf(engine::export::hf::Precision::F32)?;
    let tokenizer = trainer.tokenizer_file();
    out_dir::create(dir)?;
    out_dir::write(dir, "config.json", &files.config)?;
    out_dir::write(dir, "model.safetensors", &files.weights)?;
    out_dir::write(dir, tokenizer.file_name(), tokenizer.bytes())?;
    Ok(())
}
