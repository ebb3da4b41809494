//! The ordering index, `lessons/index.toml`: the one place that decides which
//! lessons exist and in what order.
//!
//! ```toml
//! lessons = ["why-optimise", "distillation", "quantization"]
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::error::{Error, Source};
use super::quiz::is_id;
use super::toml_error::parse;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Index {
    lessons: Vec<Spanned<String>>,
}

/// The listed slugs with their byte offsets in the index, after checking
/// their form and uniqueness. Parse errors stop here (nothing else can be
/// checked without the list); other problems are collected.
pub(crate) fn parse_index(
    src: &Source<'_>,
    errors: &mut Vec<Error>,
) -> Option<Vec<(String, usize)>> {
    let index: Index = match parse(src, 0, src.text) {
        Ok(i) => i,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    if index.lessons.is_empty() {
        errors.push(src.at(0, "expected at least one lesson slug in `lessons`"));
    }
    let mut first: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for s in &index.lessons {
        let (slug, at) = (s.get_ref().as_str(), s.span().start);
        if !is_id(slug) {
            errors.push(src.at(
                at,
                format!("expected a slug of lowercase letters, digits and hyphens, found `{slug}`"),
            ));
            continue;
        }
        if let Some(&prev) = first.get(slug) {
            let (line, col) = src.line_col(prev);
            errors.push(src.at(
                at,
                format!("duplicate slug `{slug}` (first listed at {line}:{col})"),
            ));
            continue;
        }
        first.insert(slug, at);
        out.push((slug.to_string(), at));
    }
    Some(out)
}
