//! Fuzz target bodies for lesson Markdown and quiz TOML, loaded as the build loads them.
//! Shared with crates/content/tests/fuzz_replay.rs through `#[path]`.

use std::collections::BTreeMap;

use content::{load_files, Content};

/// A one-lesson index.
const INDEX: &str = "lessons = [\"x\"]\n";

/// A lesson that loads, to pair with a fuzzed quiz.
pub const GOOD_LESSON: &str = "+++\ntitle = \"X\"\nsummary = \"S.\"\n+++\nText.\n";

/// A quiz that loads, to pair with a fuzzed lesson.
pub const GOOD_QUIZ: &str = "[[question]]\nid = \"q1\"\nprompt = \"P?\"\nexplanation = \"E.\"\n\n\
[[question.option]]\ntext = \"A\"\ncorrect = true\nfeedback = \"Yes.\"\n\n\
[[question.option]]\ntext = \"B\"\nfeedback = \"No.\"\n";

/// Tags the renderer may emit: Markdown's own, plus the highlighter's spans.
const ALLOWED_TAGS: &[&str] = &[
    "a",
    "p",
    "em",
    "strong",
    "del",
    "code",
    "pre",
    "span",
    "ul",
    "ol",
    "li",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "br",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "sup",
    "div",
    "input",
];

/// Every tag in `html` is allowed, no tag carries an event handler, and every link is a
/// site link or https.
fn assert_safe_html(html: &str) {
    for (at, _) in html.match_indices('<') {
        let rest = &html[at + 1..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        assert!(
            ALLOWED_TAGS.contains(&name.as_str()),
            "tag `<{tag}>` in {html:?}"
        );
        let lower = tag.to_ascii_lowercase();
        assert!(
            !lower
                .split_whitespace()
                .skip(1)
                .any(|a| a.starts_with("on")),
            "event handler in `<{tag}>`"
        );
        if let Some(href) = lower.split("href=\"").nth(1) {
            assert!(
                href.starts_with('/') || href.starts_with("https://") || href.starts_with('#'),
                "link `{href}` in `<{tag}>`"
            );
        }
    }
}

/// Loads a one-lesson directory; an accepted one has only safe HTML and survives the
/// JSON round trip the web build uses.
fn load(md: &str, quiz: &str) {
    let files: BTreeMap<String, String> =
        [("index.toml", INDEX), ("x.md", md), ("x.quiz.toml", quiz)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    match load_files("lessons", &files) {
        Ok(content) => {
            let json = content.to_json();
            let back = Content::from_json(&json).expect("the web build reads what it wrote");
            assert_eq!(back.to_json(), json);
            let value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
            walk_html(&value, false);
        }
        Err(errors) => {
            // Every error is one line naming the file.
            for e in &errors.0 {
                let line = e.to_string();
                assert!(line.starts_with("lessons/"), "error without a path: {line}");
            }
        }
    }
}

/// Checks every string under a key that holds HTML (`html`, `*_html`).
fn walk_html(v: &serde_json::Value, is_html: bool) {
    match v {
        serde_json::Value::String(s) if is_html => assert_safe_html(s),
        serde_json::Value::Array(a) => a.iter().for_each(|x| walk_html(x, is_html)),
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                walk_html(x, k == "html" || k.ends_with("_html"));
            }
        }
        _ => {}
    }
}

/// A lesson `.md` file: front matter and Markdown.
pub fn lesson(data: &[u8]) {
    load(&String::from_utf8_lossy(data), GOOD_QUIZ);
}

/// A `.quiz.toml` file.
pub fn quiz(data: &[u8]) {
    load(GOOD_LESSON, &String::from_utf8_lossy(data));
}
