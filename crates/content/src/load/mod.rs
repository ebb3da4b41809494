//! Loading a content directory: read the files, check that the index and
//! the files agree, parse and validate every lesson and quiz, render the
//! Markdown. All problems are collected, so one build shows them all.

mod error;
mod figure;
mod highlight;
mod index;
mod lesson;
mod markdown;
mod quiz;
mod toml_error;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use error::Source;
pub use error::{Error, Errors};
use markdown::Ctx;

use crate::model::{Content, Lesson};

/// The ordering index's file name.
pub const INDEX: &str = "index.toml";
/// Files in the content directory that are not lessons.
const IGNORED: &[&str] = &["README.md"];

/// Load `dir` (e.g. `lessons`). Error paths are `dir` joined with the file
/// name, as given.
pub fn load_dir(dir: &Path) -> Result<Content, Errors> {
    let root = dir.display().to_string();
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Errors(vec![Error::File {
            path: root.clone(),
            message: format!("cannot read directory ({e})"),
        }])
    })?;
    let mut files = BTreeMap::new();
    let mut errors = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                errors.push(Error::File {
                    path: root.clone(),
                    message: format!("cannot list directory ({e})"),
                });
                continue;
            }
        };
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_content = name.ends_with(".md") || name.ends_with(".toml");
        if !is_content || name.starts_with('.') || !entry.path().is_file() {
            continue;
        }
        match std::fs::read_to_string(entry.path()) {
            Ok(text) => {
                files.insert(name, text);
            }
            Err(e) => errors.push(Error::File {
                path: format!("{root}/{name}"),
                message: format!("cannot read ({e})"),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(Errors(errors));
    }
    load_files(&root, &files)
}

/// Load content from memory: `files` maps file names (`index.toml`,
/// `<slug>.md`, `<slug>.quiz.toml`) to their text; `root` prefixes paths in
/// error messages.
pub fn load_files(root: &str, files: &BTreeMap<String, String>) -> Result<Content, Errors> {
    let path = |name: &str| format!("{root}/{name}");
    let Some(index_text) = files.get(INDEX) else {
        return Err(Errors(vec![Error::File {
            path: path(INDEX),
            message: "missing: expected the ordering index, e.g. lessons = [\"why-optimise\"]"
                .into(),
        }]));
    };
    let index_src = Source {
        path: path(INDEX),
        text: index_text,
    };
    let mut errors = Vec::new();
    let Some(listed) = index::parse_index(&index_src, &mut errors) else {
        return Err(Errors(errors));
    };
    let slugs: BTreeSet<String> = listed.iter().map(|(s, _)| s.clone()).collect();

    for name in files
        .keys()
        .filter(|n| *n != INDEX && !IGNORED.contains(&n.as_str()))
    {
        let src = Source {
            path: path(name),
            text: &files[name],
        };
        let slug = name
            .strip_suffix(".quiz.toml")
            .or_else(|| name.strip_suffix(".md"));
        match slug {
            Some(slug) if slugs.contains(slug) => {}
            Some(slug) => errors.push(src.at(
                0,
                format!("lesson `{slug}` is not listed in {}; expected every lesson and quiz in the index", path(INDEX)),
            )),
            None => errors.push(src.at(0, format!("expected `{INDEX}`, `<slug>.md` or `<slug>.quiz.toml`, found `{name}`"))),
        }
    }

    let mut lessons = Vec::new();
    for (slug, at) in &listed {
        let md_name = format!("{slug}.md");
        let quiz_name = format!("{slug}.quiz.toml");
        let (Some(md), Some(quiz_text)) = (files.get(&md_name), files.get(&quiz_name)) else {
            for name in [&md_name, &quiz_name]
                .into_iter()
                .filter(|n| !files.contains_key(*n))
            {
                errors.push(index_src.at(
                    *at,
                    format!("expected a file {} for lesson `{slug}`", path(name)),
                ));
            }
            continue;
        };
        let md_src = Source {
            path: path(&md_name),
            text: md,
        };
        let parts = lesson::parse_lesson(&mut Ctx {
            src: &md_src,
            slugs: &slugs,
            errors: &mut errors,
        });
        let quiz_src = Source {
            path: path(&quiz_name),
            text: quiz_text,
        };
        let quiz = quiz::parse_quiz(&mut Ctx {
            src: &quiz_src,
            slugs: &slugs,
            errors: &mut errors,
        });
        if let (Some(parts), Some(quiz)) = (parts, quiz) {
            lessons.push(Lesson {
                slug: slug.clone(),
                title: parts.title,
                summary: parts.summary,
                minutes: parts.minutes,
                blocks: parts.blocks,
                quiz,
            });
        }
    }
    if errors.is_empty() {
        Ok(Content { lessons })
    } else {
        errors.sort_by_key(sort_key);
        errors.dedup();
        Err(Errors(errors))
    }
}

fn sort_key(e: &Error) -> (String, usize, usize) {
    match e {
        Error::At {
            path, line, col, ..
        } => (path.clone(), *line, *col),
        Error::File { path, .. } => (path.clone(), 0, 0),
    }
}
