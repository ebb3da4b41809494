//! A quiz file, `lessons/<slug>.quiz.toml`:
//!
//! ```toml
//! [[question]]
//! id = "goal"                  # unique in the file: lowercase, digits, hyphens
//! origin = "seed"              # "seed" (the seed's practice questions) or "own" (default)
//! prompt = "What is …?"        # Markdown
//! explanation = "Because …"    # Markdown, shown after any answer
//! steps = ["…", "…"]           # worked solution (required for seed questions)
//! quick_check = "…"            # memory hook (required for seed questions)
//! lab = "/lab?text=…"          # optional: try it in the lab
//!
//! [[question.option]]          # 2 to 6 options, exactly one correct
//! text = "…"
//! correct = true
//! feedback = "…"               # shown when this option is picked
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::markdown::{render_html, render_inline, Ctx, Place};
use super::toml_error::parse;
use crate::model::{Choice, Origin, Question, Quiz};
use crate::routes::Route;

const MIN_OPTIONS: usize = 2;
const MAX_OPTIONS: usize = 6;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuizFile {
    question: Vec<Spanned<QuestionDef>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionDef {
    id: Spanned<String>,
    #[serde(default = "own")]
    origin: Origin,
    prompt: Spanned<String>,
    explanation: Spanned<String>,
    #[serde(default)]
    steps: Vec<Spanned<String>>,
    quick_check: Option<Spanned<String>>,
    lab: Option<Spanned<String>>,
    option: Vec<Spanned<OptionDef>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionDef {
    text: Spanned<String>,
    #[serde(default)]
    correct: bool,
    feedback: Spanned<String>,
}

fn own() -> Origin {
    Origin::Own
}

/// Parse, validate and render a quiz; problems go to `ctx.errors`.
pub(crate) fn parse_quiz(ctx: &mut Ctx<'_, '_>) -> Option<Quiz> {
    let src = ctx.src;
    let file: QuizFile = match parse(src, 0, src.text) {
        Ok(f) => f,
        Err(e) => {
            ctx.errors.push(e);
            return None;
        }
    };
    if file.question.is_empty() {
        ctx.errors
            .push(src.at(0, "expected at least one [[question]]"));
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut questions = Vec::new();
    for q in &file.question {
        let q_at = q.span().start;
        let q = q.get_ref();
        let id = q.id.get_ref();
        if !is_id(id) {
            ctx.errors.push(src.at(
                q.id.span().start,
                format!("expected an id of lowercase letters, digits and hyphens, found `{id}`"),
            ));
        }
        if let Some(first) = seen.insert(id.clone(), q.id.span().start) {
            let (line, col) = src.line_col(first);
            ctx.errors.push(src.at(
                q.id.span().start,
                format!("duplicate question id `{id}` (first used at {line}:{col})"),
            ));
        }
        non_empty(ctx, &q.prompt, "prompt");
        non_empty(ctx, &q.explanation, "explanation");
        if q.origin == Origin::Seed
            && (q.steps.is_empty()
                || q.quick_check
                    .as_ref()
                    .is_none_or(|c| c.get_ref().trim().is_empty()))
        {
            ctx.errors.push(src.at(
                q_at,
                format!("expected steps and a quick_check for seed question `{id}`"),
            ));
        }
        for step in &q.steps {
            non_empty(ctx, step, "step");
        }
        let n = q.option.len();
        if !(MIN_OPTIONS..=MAX_OPTIONS).contains(&n) {
            ctx.errors.push(src.at(
                q_at,
                format!(
                    "expected {MIN_OPTIONS} to {MAX_OPTIONS} options in question `{id}`, found {n}"
                ),
            ));
        }
        let correct: Vec<usize> = (0..n).filter(|&i| q.option[i].get_ref().correct).collect();
        if correct.len() != 1 {
            let at = correct.get(1).map_or(q_at, |&i| q.option[i].span().start);
            ctx.errors.push(src.at(
                at,
                format!(
                    "expected exactly one option with correct = true in question `{id}`, found {}",
                    correct.len()
                ),
            ));
        }
        let mut texts: BTreeMap<&str, ()> = BTreeMap::new();
        for o in &q.option {
            let o = o.get_ref();
            non_empty(ctx, &o.text, "option text");
            non_empty(ctx, &o.feedback, "feedback");
            if texts.insert(o.text.get_ref().trim(), ()).is_some() {
                ctx.errors.push(src.at(
                    o.text.span().start,
                    format!("duplicate option text in question `{id}`"),
                ));
            }
        }
        if let Some(lab) = &q.lab {
            match Route::parse(lab.get_ref()) {
                Ok(Route::Lab { .. }) => {}
                Ok(_) => ctx.errors.push(src.at(
                    lab.span().start,
                    format!("expected a /lab link in `lab`, found `{}`", lab.get_ref()),
                )),
                Err(why) => ctx.errors.push(src.at(lab.span().start, why)),
            }
        }
        let md = |ctx: &mut Ctx<'_, '_>, s: &Spanned<String>| {
            render_html(s.get_ref(), Place::Within(s.span().start), ctx)
        };
        questions.push(Question {
            id: id.clone(),
            origin: q.origin,
            prompt_html: md(ctx, &q.prompt),
            choices: q
                .option
                .iter()
                .map(|o| {
                    let o = o.get_ref();
                    Choice {
                        html: render_inline(
                            o.text.get_ref(),
                            Place::Within(o.text.span().start),
                            ctx,
                        ),
                        feedback_html: md(ctx, &o.feedback),
                    }
                })
                .collect(),
            answer: correct.first().copied().unwrap_or(0),
            explanation_html: md(ctx, &q.explanation),
            steps_html: q.steps.iter().map(|s| md(ctx, s)).collect(),
            quick_check_html: q
                .quick_check
                .as_ref()
                .map(|c| render_inline(c.get_ref(), Place::Within(c.span().start), ctx)),
            lab: q.lab.as_ref().map(|l| l.get_ref().clone()),
        });
    }
    Some(Quiz {
        fingerprint: fingerprint(&file),
        questions,
    })
}

fn non_empty(ctx: &mut Ctx<'_, '_>, value: &Spanned<String>, what: &str) {
    if value.get_ref().trim().is_empty() {
        ctx.errors.push(
            ctx.src
                .at(value.span().start, format!("expected a non-empty {what}")),
        );
    }
}

/// Lowercase ASCII letters, digits and single inner hyphens.
pub(crate) fn is_id(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// FNV-1a over what decides whether saved answers still apply: the ids, the
/// prompts, the option texts and the answers.
fn fingerprint(file: &QuizFile) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |s: &str| {
        for b in s.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for q in &file.question {
        let q = q.get_ref();
        eat(q.id.get_ref());
        eat(q.prompt.get_ref());
        for o in &q.option {
            eat(o.get_ref().text.get_ref());
            eat(if o.get_ref().correct { "1" } else { "0" });
        }
    }
    format!("{h:016x}")
}
