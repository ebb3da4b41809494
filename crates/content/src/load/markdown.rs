//! Markdown to HTML with pulldown-cmark, made safe and checked at build time.
//!
//! - Raw HTML in content is escaped: it shows as text, never as markup, so a
//!   lesson cannot inject script or styles into the page.
//! - Links must be site routes that exist (see [`crate::routes`]) or https.
//! - Images are refused (the site is offline and text-first), and so are level-1
//!   headings (the page title is the only one).
//! - Fenced code blocks become separate blocks with a language class and
//!   highlighted tokens, so the page can add a copy button.
//! - A fence whose info string is `figure <name>` is not code: its body is
//!   the figure's TOML settings and it becomes a [`Block::Figure`] (see
//!   `load::figure`). Figures belong in lesson bodies only.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::error::{Error, Source};
use super::figure::{parse_figure, Fence};
use super::highlight::{escape, highlight, LANGUAGES};
use crate::model::{Block, CodeBlock};
use crate::routes::Route;

/// What a piece of Markdown is checked against, and where its errors go.
pub(crate) struct Ctx<'a, 'b> {
    /// The file the Markdown comes from.
    pub(crate) src: &'a Source<'b>,
    /// Lesson slugs that exist, for `/learn/<slug>` and `/quiz/<slug>` links.
    pub(crate) slugs: &'a BTreeSet<String>,
    /// Problems found so far.
    pub(crate) errors: &'a mut Vec<Error>,
}

/// Where a piece of Markdown sits in its file.
#[derive(Clone, Copy)]
pub(crate) enum Place {
    /// The Markdown is the file text from this byte offset on, verbatim, so
    /// offsets map exactly (a lesson body).
    Exact(usize),
    /// The Markdown was unescaped from a TOML string starting at this
    /// offset; errors point at the string.
    Within(usize),
}

impl Place {
    fn offset(self, range: &Range<usize>) -> usize {
        match self {
            Place::Exact(base) => base + range.start,
            Place::Within(start) => start,
        }
    }
}

/// The fenced block being read.
enum Open {
    /// A code block: its language and text so far.
    Code(String, String),
    /// A figure directive (`None` inside quiz text, where it is refused).
    Figure(Option<Box<Fence>>),
}

/// The info string word that makes a fence a figure directive.
const FIGURE: &str = "figure";

/// Render Markdown into blocks (HTML runs, code blocks and figures).
pub(crate) fn render_blocks(md: &str, place: Place, ctx: &mut Ctx<'_, '_>) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut pending: Vec<Event<'_>> = Vec::new();
    let mut open: Option<Open> = None;
    let mut figure_ids: BTreeMap<String, usize> = BTreeMap::new();
    let parser = Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH);
    for (event, range) in parser.into_offset_iter() {
        if let Some(block) = open.as_mut() {
            match (event, block) {
                (Event::Text(t), Open::Code(_, text)) => text.push_str(&t),
                (Event::Text(t), Open::Figure(Some(fence))) => {
                    fence.push(&t, place.offset(&range));
                }
                (Event::End(TagEnd::CodeBlock), _) => match open.take() {
                    Some(Open::Code(lang, text)) => {
                        let html = highlight(&lang, &text);
                        blocks.push(Block::Code(CodeBlock {
                            lang,
                            code: text,
                            html,
                        }));
                    }
                    Some(Open::Figure(Some(fence))) => {
                        if let Some((id, figure)) =
                            parse_figure(&fence, ctx.src, &mut figure_ids, ctx.errors)
                        {
                            blocks.push(Block::Figure { id, figure });
                        }
                    }
                    _ => {}
                },
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                flush(&mut pending, &mut blocks);
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => info
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_lowercase(),
                    CodeBlockKind::Indented => String::new(),
                };
                if lang == FIGURE {
                    open = Some(Open::Figure(match place {
                        Place::Exact(base) => Some(Box::new(fence(md, base, &range))),
                        Place::Within(at) => {
                            ctx.errors.push(ctx.src.at(
                                at,
                                "expected figures only in lesson bodies, not in quiz text",
                            ));
                            None
                        }
                    }));
                    continue;
                }
                if !lang.is_empty() && !LANGUAGES.contains(&lang.as_str()) {
                    ctx.errors.push(ctx.src.at(
                        place.offset(&range),
                        format!(
                            "unknown code language `{lang}`, expected one of: {}",
                            LANGUAGES.join(", ")
                        ),
                    ));
                }
                open = Some(Open::Code(lang, String::new()));
            }
            // Raw HTML is shown as text (push_html escapes Text events).
            Event::Html(raw) | Event::InlineHtml(raw) => pending.push(Event::Text(raw)),
            Event::Start(Tag::HtmlBlock) => pending.push(Event::Start(Tag::Paragraph)),
            Event::End(TagEnd::HtmlBlock) => pending.push(Event::End(TagEnd::Paragraph)),
            Event::Start(Tag::Link { dest_url, .. }) => {
                let open = link_open(&dest_url, place.offset(&range), ctx);
                pending.push(Event::Html(CowStr::from(open)));
            }
            Event::End(TagEnd::Link) => pending.push(Event::Html(CowStr::from("</a>"))),
            Event::Start(Tag::Image { dest_url, .. }) => {
                ctx.errors.push(ctx.src.at(
                    place.offset(&range),
                    format!("expected no images (the site is offline and text-first), found `{dest_url}`"),
                ));
                pending.push(Event::Start(Tag::Emphasis));
            }
            Event::End(TagEnd::Image) => pending.push(Event::End(TagEnd::Emphasis)),
            Event::Start(Tag::Heading {
                level: HeadingLevel::H1,
                ..
            }) => {
                ctx.errors.push(ctx.src.at(
                    place.offset(&range),
                    "expected headings of level 2 (##) or deeper; the title is the page's only level-1 heading",
                ));
                pending.push(event);
            }
            other => pending.push(other),
        }
    }
    flush(&mut pending, &mut blocks);
    blocks
}

/// Render Markdown into one HTML string, code blocks inline (for quiz text).
pub(crate) fn render_html(md: &str, place: Place, ctx: &mut Ctx<'_, '_>) -> String {
    render_blocks(md, place, ctx)
        .into_iter()
        .map(|b| match b {
            Block::Html { html } => html,
            Block::Code(c) => code_html(&c),
            // Refused in quiz text (render_blocks reports it).
            Block::Figure { .. } => String::new(),
        })
        .collect()
}

/// Render Markdown that should be one paragraph (an option's text) without the
/// surrounding `<p>`.
pub(crate) fn render_inline(md: &str, place: Place, ctx: &mut Ctx<'_, '_>) -> String {
    let html = render_html(md, place, ctx);
    let trimmed = html.trim_end();
    match trimmed
        .strip_prefix("<p>")
        .and_then(|s| s.strip_suffix("</p>"))
    {
        Some(inner) if !inner.contains("<p>") => inner.to_string(),
        _ => html,
    }
}

/// A code block as a `<pre>`, the same markup the lesson page uses.
pub(crate) fn code_html(c: &CodeBlock) -> String {
    let lang = if c.lang.is_empty() { "text" } else { &c.lang };
    format!(
        "<pre class=\"code\"><code class=\"language-{lang}\">{}</code></pre>",
        c.html
    )
}

/// The fence line of a `figure` block starting at `range` in `md` (which
/// starts at `base` in the file): where its name is, what follows it.
fn fence(md: &str, base: usize, range: &Range<usize>) -> Fence {
    let block = &md[range.start..range.end];
    let line_end = block.find('\n').map_or(block.len(), |i| i + 1);
    let line = &block[..line_end];
    // The info string starts after the run of ` or ~ that opens the fence.
    let fence_start = line.find(['`', '~']).unwrap_or(0);
    let info_start = line[fence_start..]
        .find(|c: char| c != '`' && c != '~')
        .map_or(line.len(), |i| fence_start + i);
    let words: Vec<(usize, &str)> = words(&line[info_start..])
        .into_iter()
        .map(|(i, w)| (info_start + i, w))
        .collect();
    let at = |i: usize| base + range.start + i;
    let figure_at = words.first().map_or(info_start, |w| w.0);
    let (name, name_at) = words
        .get(1)
        .map_or((String::new(), at(figure_at)), |&(i, w)| {
            (w.to_string(), at(i))
        });
    let extra = words.get(2).map(|&(i, _)| {
        let rest = line[i..].trim_end();
        (rest.to_string(), at(i))
    });
    Fence {
        name,
        name_at,
        extra,
        body: String::new(),
        pieces: Vec::new(),
        body_at: at(line_end),
    }
}

/// Whitespace-separated words with their byte offsets.
fn words(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(st)) => {
                out.push((st, &s[st..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(st) = start {
        out.push((st, &s[st..]));
    }
    out
}

fn flush<'a>(pending: &mut Vec<Event<'a>>, blocks: &mut Vec<Block>) {
    if pending.is_empty() {
        return;
    }
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, pending.drain(..));
    blocks.push(Block::Html { html });
}

/// The opening `<a>` for a link, after checking where it goes.
fn link_open(url: &str, offset: usize, ctx: &mut Ctx<'_, '_>) -> String {
    if url.starts_with("https://") {
        return format!(
            "<a href=\"{}\" rel=\"noopener noreferrer\" target=\"_blank\">",
            escape(url)
        );
    }
    if url.starts_with('#') {
        return format!("<a href=\"{}\">", escape(url));
    }
    if !url.starts_with('/') {
        ctx.errors.push(ctx.src.at(
            offset,
            format!("expected a site link starting with / or an https:// link, found `{url}`"),
        ));
    } else {
        match Route::parse(url) {
            Ok(route) => {
                if let Some(slug) = route.slug().filter(|s| !ctx.slugs.contains(*s)) {
                    ctx.errors.push(ctx.src.at(
                        offset,
                        format!("link `{url}` names no lesson: `{slug}` is not in the index"),
                    ));
                }
            }
            Err(why) => ctx.errors.push(ctx.src.at(offset, why)),
        }
    }
    format!("<a href=\"{}\">", escape(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(md: &str) -> (Vec<Block>, Vec<String>) {
        let src = Source {
            path: "l.md".into(),
            text: md,
        };
        let slugs: BTreeSet<String> = ["a".to_string()].into();
        let mut errors = Vec::new();
        let mut ctx = Ctx {
            src: &src,
            slugs: &slugs,
            errors: &mut errors,
        };
        let blocks = render_blocks(md, Place::Exact(0), &mut ctx);
        (blocks, errors.iter().map(|e| e.to_string()).collect())
    }

    fn html(md: &str) -> String {
        let (blocks, errors) = render(md);
        assert_eq!(errors, Vec::<String>::new());
        blocks
            .into_iter()
            .map(|b| match b {
                Block::Html { html } => html,
                Block::Code(c) => code_html(&c),
                Block::Figure { id, .. } => format!("[figure {id}]"),
            })
            .collect()
    }

    #[test]
    fn raw_html_is_escaped_not_passed_through() {
        assert_eq!(
            html("<script>alert(1)</script>\n\nhi <b onclick=\"x\">there</b>"),
            "<p>&lt;script&gt;alert(1)&lt;/script&gt;\n</p>\n<p>hi &lt;b onclick=\"x\"&gt;there&lt;/b&gt;</p>\n"
        );
    }

    #[test]
    fn code_blocks_are_separate_blocks_with_their_language() {
        let (blocks, errors) = render("Text\n\n```python\nimport torch\n```\n\nMore");
        assert!(errors.is_empty());
        assert_eq!(blocks.len(), 3);
        assert_eq!(
            blocks[1],
            Block::Code(CodeBlock {
                lang: "python".into(),
                code: "import torch\n".into(),
                html: "<span class=\"tok-kw\">import</span> torch\n".into(),
            })
        );
    }

    #[test]
    fn links_are_checked_and_external_ones_open_safely() {
        assert_eq!(
            html("[lab](/lab?text=hi) [one](/learn/a) [paper](https://arxiv.org/abs/1910.01108)"),
            "<p><a href=\"/lab?text=hi\">lab</a> <a href=\"/learn/a\">one</a> \
             <a href=\"https://arxiv.org/abs/1910.01108\" rel=\"noopener noreferrer\" target=\"_blank\">paper</a></p>\n"
        );
        let (_, errors) = render("x\n\n[q](/quiz/zz) and [j](javascript:alert(1))");
        assert_eq!(
            errors,
            vec![
                "l.md:3:1: link `/quiz/zz` names no lesson: `zz` is not in the index".to_string(),
                "l.md:3:19: expected a site link starting with / or an https:// link, found `javascript:alert(1)`".to_string(),
            ]
        );
    }

    #[test]
    fn inline_rendering_drops_the_paragraph() {
        let src = Source {
            path: "q.toml".into(),
            text: "",
        };
        let slugs = BTreeSet::new();
        let mut errors = Vec::new();
        let mut ctx = Ctx {
            src: &src,
            slugs: &slugs,
            errors: &mut errors,
        };
        assert_eq!(
            render_inline("`torch.quantize(model)`", Place::Within(0), &mut ctx),
            "<code>torch.quantize(model)</code>"
        );
        assert_eq!(
            render_inline("a\n\nb", Place::Within(0), &mut ctx),
            "<p>a</p>\n<p>b</p>\n"
        );
    }
}
