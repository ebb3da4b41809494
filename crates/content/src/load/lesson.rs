//! A lesson file: TOML front matter between `+++` lines, then Markdown.
//!
//! ```text
//! +++
//! title = "Quantization"
//! summary = "Fewer bits per weight: scale, zero point and int8."
//! +++
//! Markdown body…
//! ```

use serde::Deserialize;
use toml::Spanned;

use super::markdown::{render_blocks, Ctx, Place};
use super::toml_error::parse;
use crate::model::Block;

/// Words per minute used for the reading-time estimate; technical prose with
/// code reads slower than the usual 200–250.
const WORDS_PER_MINUTE: usize = 180;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    title: Spanned<String>,
    summary: Spanned<String>,
}

/// A lesson file's parts, rendered.
pub(crate) struct LessonParts {
    pub(crate) title: String,
    pub(crate) summary: String,
    pub(crate) minutes: u32,
    pub(crate) blocks: Vec<Block>,
}

/// Parse and render a lesson; problems go to `ctx.errors`.
pub(crate) fn parse_lesson(ctx: &mut Ctx<'_, '_>) -> Option<LessonParts> {
    let src = ctx.src;
    let text = src.text;
    let start = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let Some(fm_start) = line_is(text, start, "+++") else {
        ctx.errors.push(src.at(
            start,
            "expected front matter: a first line `+++`, TOML with title and summary, then `+++`",
        ));
        return None;
    };
    let mut close = None;
    let mut at = fm_start;
    while at < text.len() {
        if let Some(after) = line_is(text, at, "+++") {
            close = Some((at, after));
            break;
        }
        at = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
    }
    let Some((fm_end, body_start)) = close else {
        ctx.errors.push(src.at(
            start,
            "expected a closing `+++` line after the front matter",
        ));
        return None;
    };
    let front: FrontMatter = match parse(src, fm_start, &text[fm_start..fm_end]) {
        Ok(f) => f,
        Err(e) => {
            ctx.errors.push(e);
            return None;
        }
    };
    for (field, value) in [("title", &front.title), ("summary", &front.summary)] {
        if value.get_ref().trim().is_empty() {
            ctx.errors.push(src.at(
                fm_start + value.span().start,
                format!("expected a non-empty {field}"),
            ));
        }
    }
    let body = &text[body_start..];
    if body.trim().is_empty() {
        ctx.errors
            .push(src.at(body_start, "expected a lesson body after the front matter"));
    }
    let blocks = render_blocks(body, Place::Exact(body_start), ctx);
    let words = body.split_whitespace().count();
    Some(LessonParts {
        title: front.title.into_inner().trim().to_string(),
        summary: front.summary.into_inner().trim().to_string(),
        minutes: words.div_ceil(WORDS_PER_MINUTE).max(1) as u32,
        blocks,
    })
}

/// If the line starting at `at` is exactly `marker` (plus a line ending),
/// the offset of the next line.
fn line_is(text: &str, at: usize, marker: &str) -> Option<usize> {
    let rest = text[at..].strip_prefix(marker)?;
    if rest.is_empty() {
        Some(text.len())
    } else if rest.starts_with('\n') {
        Some(at + marker.len() + 1)
    } else if rest.starts_with("\r\n") {
        Some(at + marker.len() + 2)
    } else {
        None
    }
}
