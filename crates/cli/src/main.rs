//! `squeeze`: the engine on the command line. Classify text, evaluate a labelled set and
//! compare quantization schemes, distil a student live, with the same engine calls the web worker makes.
//!
//! Thin by design: argument parsing, file reading and printing live here; every number
//! comes from the `engine` crate.

mod args;
mod commands;
mod model_dir;
mod out_dir;
mod table;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`squeeze … | head`) is the reader's choice, not a failure.
            if err
                .chain()
                .filter_map(|e| e.downcast_ref::<io::Error>())
                .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            let mut message = format!("squeeze: {err}");
            for cause in err.chain().skip(1) {
                message.push_str(&format!(": {cause}"));
            }
            let _ = writeln!(io::stderr(), "{message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = args::Cli::parse();
    let mut out = io::stdout().lock();
    match cli.command {
        args::Command::Classify(a) => commands::classify::run(&a, &mut out)?,
        args::Command::Eval(a) => commands::eval::run(&a, &mut out)?,
        args::Command::Compare(a) => commands::compare::run(&a, &mut out)?,
        args::Command::Quantize(a) => commands::quantize::run(&a, &mut out)?,
        args::Command::Export(a) => commands::export::run(&a, &mut out)?,
        args::Command::Distill(a) => commands::distill::run(&a, &mut out)?,
        args::Command::Recipe(a) => commands::recipe::run(&a, &mut out)?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
