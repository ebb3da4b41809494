//! The `_headers` file that static hosts such as Netlify and Cloudflare Pages read:
//! a path pattern on its own line, then the headers for it, indented, one per line.
//!
//! ```text
//! # comment
//! /*
//!   Content-Security-Policy: default-src 'self'
//! ```
//!
//! squeeze writes one (`www/_headers`, copied into every build); `cargo xtask serve`
//! and the browser tests serve the site with what it says, so the site is tested
//! under the headers a host sends. Patterns: an exact path, or a prefix ending in `*`.

/// The file's name in a built site.
pub const FILE_NAME: &str = "_headers";

/// Reads and parses the `_headers` file of the built site `dir`; the error names the file.
pub fn read(dir: &std::path::Path) -> Result<Vec<Rule>, String> {
    let path = dir.join(FILE_NAME);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// One pattern and the headers it sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The path pattern (`/*`, `/worker.js`, `/models/*`).
    pub pattern: String,
    /// `(name, value)` pairs, in file order.
    pub headers: Vec<(String, String)>,
}

/// Parses a `_headers` file. Errors name the line (1-based) and what is wrong.
pub fn parse(text: &str) -> Result<Vec<Rule>, String> {
    let mut rules: Vec<Rule> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if !line.starts_with([' ', '\t']) {
            if !trimmed.starts_with('/') {
                return Err(format!(
                    "line {n}: expected a path pattern starting with `/`, found `{trimmed}`"
                ));
            }
            rules.push(Rule {
                pattern: trimmed.to_string(),
                headers: Vec::new(),
            });
            continue;
        }
        let Some(rule) = rules.last_mut() else {
            return Err(format!(
                "line {n}: a header before any path pattern: `{trimmed}`"
            ));
        };
        let Some((name, value)) = trimmed.split_once(':') else {
            return Err(format!(
                "line {n}: expected `Name: value`, found `{trimmed}`"
            ));
        };
        let name = name.trim();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(format!("line {n}: `{name}` is not a header name"));
        }
        rule.headers
            .push((name.to_string(), value.trim().to_string()));
    }
    Ok(rules)
}

/// The headers that `rules` set for `path` (a path below the site's root, starting
/// with `/`), in file order; a later rule's header of the same name replaces an earlier one.
pub fn headers_for(rules: &[Rule], path: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for rule in rules.iter().filter(|r| matches(&r.pattern, path)) {
        for (name, value) in &rule.headers {
            out.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            out.push((name.clone(), value.clone()));
        }
    }
    out
}

fn matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => pattern == path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# the site's headers\n/*\n  Content-Security-Policy: default-src 'none'; connect-src 'self'\n  X-Test: a\n\n/models/*\n\tX-Test: b\n/sw.js\n  Cache-Control: no-cache\n";

    #[test]
    fn parses_patterns_and_headers() {
        let rules = parse(FILE).unwrap();
        assert_eq!(rules.len(), 3);
        assert_eq!(rules[0].pattern, "/*");
        assert_eq!(
            rules[0].headers[0],
            (
                "Content-Security-Policy".to_string(),
                "default-src 'none'; connect-src 'self'".to_string()
            )
        );
        assert_eq!(rules[1].headers, [("X-Test".to_string(), "b".to_string())]);
    }

    #[test]
    fn later_rules_override_and_patterns_match() {
        let rules = parse(FILE).unwrap();
        let names = |path: &str| -> Vec<String> {
            headers_for(&rules, path)
                .into_iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect()
        };
        assert_eq!(names("/lab").len(), 2);
        assert!(names("/models/default/config.json").contains(&"X-Test=b".to_string()));
        assert!(names("/sw.js").contains(&"Cache-Control=no-cache".to_string()));
        assert!(!names("/sw.jsx").contains(&"Cache-Control=no-cache".to_string()));
    }

    #[test]
    fn errors_name_the_line() {
        assert!(parse("  X-A: b\n").unwrap_err().starts_with("line 1:"));
        assert!(parse("/*\n  no colon\n")
            .unwrap_err()
            .starts_with("line 2:"));
        assert!(parse("/*\n  Bad Name: x\n")
            .unwrap_err()
            .contains("not a header name"));
        assert!(parse("lab\n").unwrap_err().contains("path pattern"));
    }
}
