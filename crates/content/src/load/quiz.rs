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
//!
//! A question graded from the learner's own numbers names a measurement in
//! `from_run`; its options carry `when = "<outcome>"` instead of
//! `correct`, one option per outcome of that measurement (see
//! [`crate::run::Measurement`] and `lessons/README.md`):
//!
//! ```toml
//! [[question]]
//! id = "your-tensor"
//! from_run = "quantize-tensor"  # outcomes: rounding-only, clipped
//! prompt = "In your run of the figure, where did the error come from?"
//! explanation = "…"
//!
//! [[question.option]]
//! text = "Only rounding"
//! when = "rounding-only"        # right when the run clipped nothing
//! feedback = "…"
//!
//! [[question.option]]
//! text = "Clipping"
//! when = "clipped"
//! feedback = "…"
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use toml::Spanned;

use super::markdown::{render_html, render_inline, Ctx, Place};
use super::toml_error::parse;
use crate::model::{Choice, Origin, Question, Quiz};
use crate::routes::Route;
use crate::run::Measurement;

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
    from_run: Option<Spanned<String>>,
    option: Vec<Spanned<OptionDef>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionDef {
    text: Spanned<String>,
    correct: Option<Spanned<bool>>,
    when: Option<Spanned<String>>,
    feedback: Spanned<String>,
}

impl OptionDef {
    fn is_correct(&self) -> bool {
        self.correct.as_ref().is_some_and(|c| *c.get_ref())
    }
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
        let answer = match &q.from_run {
            Some(from_run) => {
                check_from_run(ctx, id, q_at, from_run, &q.option);
                None
            }
            None => Some(check_correct(ctx, id, q_at, &q.option)),
        };
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
                        when: o.when.as_ref().map(|w| w.get_ref().clone()),
                    }
                })
                .collect(),
            answer,
            from_run: q
                .from_run
                .as_ref()
                .and_then(|m| Measurement::from_name(m.get_ref())),
            explanation_html: md(ctx, &q.explanation),
            steps_html: q.steps.iter().map(|s| md(ctx, s)).collect(),
            quick_check_html: q
                .quick_check
                .as_ref()
                .map(|c| render_inline(c.get_ref(), Place::Within(c.span().start), ctx)),
            lab: q.lab.as_ref().map(|l| l.get_ref().clone()),
            measured_html: None,
        });
    }
    Some(Quiz {
        fingerprint: fingerprint(&file),
        questions,
    })
}

/// A fixed-answer question: exactly one `correct = true`, no `when`.
/// Returns the right option's index.
fn check_correct(
    ctx: &mut Ctx<'_, '_>,
    id: &str,
    q_at: usize,
    options: &[Spanned<OptionDef>],
) -> usize {
    for w in options.iter().filter_map(|o| o.get_ref().when.as_ref()) {
        ctx.errors.push(ctx.src.at(
            w.span().start,
            format!("expected `when` only in a question with `from_run`; mark the right option of `{id}` with correct = true"),
        ));
    }
    let correct: Vec<usize> = (0..options.len())
        .filter(|&i| options[i].get_ref().is_correct())
        .collect();
    if correct.len() != 1 {
        let at = correct.get(1).map_or(q_at, |&i| options[i].span().start);
        ctx.errors.push(ctx.src.at(
            at,
            format!(
                "expected exactly one option with correct = true in question `{id}`, found {}",
                correct.len()
            ),
        ));
    }
    correct.first().copied().unwrap_or(0)
}

/// A question graded from a measurement: a known measurement, no
/// `correct`, and one option per outcome, each naming it in `when`.
fn check_from_run(
    ctx: &mut Ctx<'_, '_>,
    id: &str,
    q_at: usize,
    from_run: &Spanned<String>,
    options: &[Spanned<OptionDef>],
) {
    for c in options.iter().filter_map(|o| o.get_ref().correct.as_ref()) {
        ctx.errors.push(ctx.src.at(
            c.span().start,
            format!("expected no `correct` in question `{id}`: with `from_run` the learner's measurement decides; give each option a `when`"),
        ));
    }
    let Some(m) = Measurement::from_name(from_run.get_ref()) else {
        let names: Vec<&str> = Measurement::ALL.iter().map(|m| m.name()).collect();
        ctx.errors.push(ctx.src.at(
            from_run.span().start,
            format!(
                "unknown measurement `{}` in `from_run`, expected one of: {}",
                from_run.get_ref(),
                names.join(", ")
            ),
        ));
        return;
    };
    let outcomes = m.outcomes();
    let mut seen = BTreeSet::new();
    for o in options {
        match &o.get_ref().when {
            None => ctx.errors.push(ctx.src.at(
                o.span().start,
                format!(
                    "expected `when` on every option of question `{id}` (from_run = \"{}\"), one of: {}",
                    m.name(),
                    outcomes.join(", ")
                ),
            )),
            Some(w) if !outcomes.contains(&w.get_ref().as_str()) => ctx.errors.push(ctx.src.at(
                w.span().start,
                format!(
                    "unknown outcome `{}` of measurement `{}`, expected one of: {}",
                    w.get_ref(),
                    m.name(),
                    outcomes.join(", ")
                ),
            )),
            Some(w) if !seen.insert(w.get_ref().as_str()) => ctx.errors.push(ctx.src.at(
                w.span().start,
                format!("duplicate outcome `{}` in question `{id}`; expected each outcome on one option", w.get_ref()),
            )),
            Some(_) => {}
        }
    }
    let missing: Vec<&str> = outcomes
        .iter()
        .copied()
        .filter(|o| !seen.contains(o))
        .collect();
    if !missing.is_empty() {
        ctx.errors.push(ctx.src.at(
            q_at,
            format!(
                "expected an option for every outcome of `{}` in question `{id}`, missing: {}",
                m.name(),
                missing.join(", ")
            ),
        ));
    }
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
/// prompts, the option texts and the answers — for a `from_run` question the
/// measurement and each option's `when` (never the learner's numbers). A
/// quiz without `from_run` hashes as it did before `from_run` existed.
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
        if let Some(m) = &q.from_run {
            eat("from_run");
            eat(m.get_ref());
        }
        for o in &q.option {
            let o = o.get_ref();
            eat(o.text.get_ref());
            match &o.when {
                Some(w) => eat(&format!("when:{}", w.get_ref())),
                None => eat(if o.is_correct() { "1" } else { "0" }),
            }
        }
    }
    format!("{h:016x}")
}
