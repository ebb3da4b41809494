//! Check a content directory and print what it holds, or every problem as
//! `path:line:col: message`. `--html <slug>` prints a lesson's rendered HTML.
//!
//! `cargo run -p content --example check -- lessons [--html quantization]`

use std::process::ExitCode;

use content::{Block, Origin};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args.first().map_or("lessons", String::as_str);
    let content = match content::load_dir(std::path::Path::new(dir)) {
        Ok(c) => c,
        Err(errors) => {
            eprintln!("{errors}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(slug) = args
        .iter()
        .position(|a| a == "--html")
        .and_then(|i| args.get(i + 1))
    {
        let Some(lesson) = content.lesson(slug) else {
            eprintln!("check: no lesson `{slug}` in {dir}");
            return ExitCode::FAILURE;
        };
        for block in &lesson.blocks {
            match block {
                Block::Html { html } => print!("{html}"),
                Block::Code(c) => println!("<pre class=\"{}\">{}</pre>", c.lang, c.html),
                Block::Figure { id, figure } => println!(
                    "<figure id=\"{}\" data-figure=\"{}\"></figure>",
                    content::figure::anchor(id),
                    figure.name()
                ),
            }
        }
        return ExitCode::SUCCESS;
    }
    for l in &content.lessons {
        let seed = l
            .quiz
            .questions
            .iter()
            .filter(|q| q.origin == Origin::Seed)
            .count();
        let lab = l.quiz.questions.iter().filter(|q| q.lab.is_some()).count();
        println!(
            "{:<14} {:>2} min  {} questions ({seed} seed, {lab} lab)  {}",
            l.slug,
            l.minutes,
            l.quiz.questions.len(),
            l.title
        );
    }
    ExitCode::SUCCESS
}
