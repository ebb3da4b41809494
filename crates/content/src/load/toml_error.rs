//! TOML parse errors placed in their file: toml's byte span becomes
//! `path:line:col`, its message the "what was expected" part.

use super::error::{Error, Source};

/// Turn a toml error into a content error; `base` is where the TOML text
/// starts in the file (non-zero for front matter).
pub(crate) fn toml_error(src: &Source<'_>, base: usize, e: &toml::de::Error) -> Error {
    let offset = base + e.span().map_or(0, |s| s.start);
    src.at(offset, message(e))
}

/// toml's message on one line, with the fix added where toml leaves it out.
pub(crate) fn message(e: &toml::de::Error) -> String {
    // toml's messages can span lines; keep ours to one.
    let message: Vec<&str> = e
        .message()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let mut message = message.join("; ");
    // toml names the problem but not the fix for this one.
    if message == "duplicate key" {
        message.push_str("; expected each key once per table");
    }
    message
}

/// Parse `text` (which starts at `base` in the file) as `T`.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(
    src: &Source<'_>,
    base: usize,
    text: &str,
) -> Result<T, Error> {
    toml::from_str(text).map_err(|e| toml_error(src, base, &e))
}
