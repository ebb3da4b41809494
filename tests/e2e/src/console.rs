//! What a learner with the developer tools open would see go wrong: console errors,
//! Content-Security-Policy violations, failed loads and uncaught exceptions, collected
//! page by page so that a failure lists each problem with the page it happened on.

use crate::{Error, Result, Session};

/// Problems seen so far, each as `page: [LEVEL] message`.
#[derive(Debug, Default)]
pub struct ConsoleWatch {
    problems: Vec<String>,
}

impl ConsoleWatch {
    /// Drains the browser's console and records its problems under `page`.
    pub fn collect(&mut self, browser: &Session, page: &str) -> Result<()> {
        let entries = browser.console_entries()?;
        self.problems.extend(
            problems(&entries)
                .into_iter()
                .map(|p| format!("{page}: {p}")),
        );
        Ok(())
    }

    /// The problems recorded.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// An error listing every problem, unless there were none.
    pub fn ensure_clean(&self, what: &str) -> Result<()> {
        if self.problems.is_empty() {
            return Ok(());
        }
        Err(Error(format!(
            "{what}: {} console problem(s):\n  {}",
            self.problems.len(),
            self.problems.join("\n  ")
        )))
    }
}

/// The entries of `entries` (`(level, message)`) that are problems: every `SEVERE`
/// entry, and any entry that reports a Content-Security-Policy violation.
pub fn problems(entries: &[(String, String)]) -> Vec<String> {
    entries
        .iter()
        .filter(|(level, message)| {
            level == "SEVERE"
                || message.contains("Content Security Policy")
                || message.contains("Refused to")
        })
        .map(|(level, message)| format!("[{level}] {message}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_and_policy_violations_are_problems_other_lines_are_not() {
        let entries: Vec<(String, String)> = [
            ("INFO", "squeeze: model ready"),
            ("WARNING", "squeeze: progress could not be saved"),
            ("SEVERE", "Uncaught TypeError: x is undefined"),
            ("WARNING", "Refused to load the stylesheet 'style.css' because it violates the following Content Security Policy directive"),
        ]
        .iter()
        .map(|(l, m)| (l.to_string(), m.to_string()))
        .collect();
        let found = problems(&entries);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("[SEVERE] Uncaught"));
        assert!(found[1].contains("Refused to load the stylesheet"));
    }

    #[test]
    fn a_clean_watch_passes_and_a_dirty_one_lists_its_pages() {
        let mut watch = ConsoleWatch::default();
        assert!(watch.ensure_clean("site").is_ok());
        watch.problems.push("/lab: [SEVERE] boom".into());
        let e = watch.ensure_clean("site").unwrap_err().to_string();
        assert!(
            e.contains("1 console problem") && e.contains("/lab: [SEVERE] boom"),
            "{e}"
        );
    }
}
