//! Content errors: every one names the file, and where it can, the line and
//! column, then says what was expected — `path:line:col: message`, the shape
//! editors and terminals turn into a jump target.

use std::fmt;

/// One problem in one content file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A problem at a place in a file.
    #[error("{path}:{line}:{col}: {message}")]
    At {
        /// The file, as given to the loader (e.g. `lessons/quantization.md`).
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        col: usize,
        /// What was expected, lowercase, no trailing period.
        message: String,
    },
    /// A problem with a file as a whole (it cannot be read, or is missing).
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// Every problem found in a content directory, in file and line order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Errors(pub Vec<Error>);

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Errors {}

/// A file's text with its display path, able to turn byte offsets into
/// line and column.
pub(crate) struct Source<'a> {
    pub(crate) path: String,
    pub(crate) text: &'a str,
}

impl Source<'_> {
    /// 1-based line and column (in characters) of a byte offset.
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        // Offsets from parsers always fall on char boundaries; floor anyway so
        // a bad span can only blur the column, not panic.
        let mut at = offset;
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        let before = &self.text[..at];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }

    /// An error at a byte offset.
    pub(crate) fn at(&self, offset: usize, message: impl Into<String>) -> Error {
        let (line, col) = self.line_col(offset);
        Error::At {
            path: self.path.clone(),
            line,
            col,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters_not_bytes() {
        let s = Source {
            path: "x".into(),
            text: "ab\nçé z\n",
        };
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(3), (2, 1));
        // "çé " is 5 bytes, 3 characters.
        assert_eq!(s.line_col(8), (2, 4));
        assert_eq!(s.at(8, "bad").to_string(), "x:2:4: bad");
        assert_eq!(s.line_col(999), (3, 1));
    }
}
