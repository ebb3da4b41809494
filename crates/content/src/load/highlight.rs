//! A small build-time highlighter for the languages lessons use. It only
//! sorts tokens into a few classes (`tok-kw`, `tok-str`, `tok-num`, `tok-com`,
//! `tok-fn`, `tok-lit`); the site's CSS colours them. No JavaScript, no
//! network: the page stays offline.

/// Fence languages a lesson may use.
pub(crate) const LANGUAGES: &[&str] =
    &["python", "rust", "toml", "json", "bash", "console", "text"];

const PYTHON_KEYWORDS: &[&str] = &[
    "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
    "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda",
    "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];
const PYTHON_LITERALS: &[&str] = &["True", "False", "None"];
const RUST_KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "fn", "for", "if", "impl", "in",
    "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self", "static",
    "struct", "super", "trait", "type", "unsafe", "use", "where", "while",
];
const RUST_LITERALS: &[&str] = &["true", "false", "None", "Some", "Ok", "Err"];
const BASH_KEYWORDS: &[&str] = &[
    "if", "then", "else", "fi", "for", "do", "done", "export", "cd",
];
const DATA_LITERALS: &[&str] = &["true", "false", "null"];

struct Rules {
    line_comment: Option<&'static str>,
    keywords: &'static [&'static str],
    literals: &'static [&'static str],
    single_quote_strings: bool,
    calls: bool,
}

fn rules(lang: &str) -> Option<Rules> {
    let r = |line_comment, keywords, literals, single_quote_strings, calls| Rules {
        line_comment,
        keywords,
        literals,
        single_quote_strings,
        calls,
    };
    Some(match lang {
        "python" => r(Some("#"), PYTHON_KEYWORDS, PYTHON_LITERALS, true, true),
        "rust" => r(Some("//"), RUST_KEYWORDS, RUST_LITERALS, false, true),
        "toml" => r(Some("#"), &[], DATA_LITERALS, true, false),
        "json" => r(None, &[], DATA_LITERALS, false, false),
        "bash" | "console" => r(Some("#"), BASH_KEYWORDS, &[], true, false),
        _ => return None,
    })
}

pub(crate) use crate::html::escape;

/// The code as escaped HTML with token spans.
pub(crate) fn highlight(lang: &str, code: &str) -> String {
    let Some(rules) = rules(lang) else {
        return escape(code);
    };
    let chars: Vec<char> = code.chars().collect();
    let mut out = String::with_capacity(code.len() * 2);
    let mut i = 0;
    let span = |out: &mut String, class: &str, text: &[char]| {
        let s: String = text.iter().collect();
        out.push_str(&format!(
            "<span class=\"tok-{class}\">{}</span>",
            escape(&s)
        ));
    };
    while i < chars.len() {
        let c = chars[i];
        let rest_starts = |p: &str| {
            p.chars()
                .enumerate()
                .all(|(k, pc)| chars.get(i + k) == Some(&pc))
        };
        if rules.line_comment.is_some_and(rest_starts) {
            let end = chars[i..]
                .iter()
                .position(|&c| c == '\n')
                .map_or(chars.len(), |p| i + p);
            span(&mut out, "com", &chars[i..end]);
            i = end;
        } else if c == '"' || (c == '\'' && rules.single_quote_strings) {
            let end = string_end(&chars, i);
            span(&mut out, "str", &chars[i..end]);
            i = end;
        } else if c.is_ascii_digit() {
            let mut end = i + 1;
            while end < chars.len() {
                let d = chars[end];
                let exponent_sign = (d == '-' || d == '+') && matches!(chars[end - 1], 'e' | 'E');
                if d.is_ascii_alphanumeric() || d == '.' || d == '_' || exponent_sign {
                    end += 1;
                } else {
                    break;
                }
            }
            span(&mut out, "num", &chars[i..end]);
            i = end;
        } else if c.is_alphabetic() || c == '_' {
            let mut end = i + 1;
            while end < chars.len() && (chars[end].is_alphanumeric() || chars[end] == '_') {
                end += 1;
            }
            let word: String = chars[i..end].iter().collect();
            // Python string prefixes: f"…", r'…', b"…".
            let prefixed = rules.single_quote_strings
                && matches!(word.as_str(), "f" | "r" | "b" | "rb" | "br" | "fr" | "rf")
                && matches!(chars.get(end), Some('"' | '\''));
            if prefixed {
                let close = string_end(&chars, end);
                span(&mut out, "str", &chars[i..close]);
                i = close;
                continue;
            }
            let next = chars[end..].iter().find(|c| **c != ' ').copied();
            let class = if rules.keywords.contains(&word.as_str()) {
                Some("kw")
            } else if rules.literals.contains(&word.as_str()) {
                Some("lit")
            } else if rules.calls && (next == Some('(') || (lang == "rust" && next == Some('!'))) {
                Some("fn")
            } else {
                None
            };
            match class {
                Some(class) => span(&mut out, class, &chars[i..end]),
                None => out.push_str(&escape(&word)),
            }
            i = end;
        } else {
            out.push_str(&escape(&c.to_string()));
            i += 1;
        }
    }
    out
}

/// Index just past the string starting at `start` (a quote): handles
/// backslash escapes and Python's triple quotes; an unclosed string runs to
/// the end of its line.
fn string_end(chars: &[char], start: usize) -> usize {
    let q = chars[start];
    let triple = chars.get(start + 1) == Some(&q) && chars.get(start + 2) == Some(&q);
    let mut i = start + if triple { 3 } else { 1 };
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '\n' if !triple => return i,
            c if c == q => {
                if !triple {
                    return i + 1;
                }
                if chars.get(i + 1) == Some(&q) && chars.get(i + 2) == Some(&q) {
                    return i + 3;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    chars.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_tokens_get_classes() {
        let html = highlight("python", "import torch  # load\nx = f(1e-8, 'a<b', None)");
        assert_eq!(
            html,
            "<span class=\"tok-kw\">import</span> torch  <span class=\"tok-com\"># load</span>\n\
             x = <span class=\"tok-fn\">f</span>(<span class=\"tok-num\">1e-8</span>, \
             <span class=\"tok-str\">&#39;a&lt;b&#39;</span>, <span class=\"tok-lit\">None</span>)"
        );
    }

    #[test]
    fn python_f_strings_and_triple_quotes_are_strings() {
        let html = highlight("python", "print(f\"{a}\")\n\"\"\"x\n\"y\"\"\"");
        assert!(
            html.contains("<span class=\"tok-str\">f&quot;{a}&quot;</span>"),
            "{html}"
        );
        assert!(
            html.contains(
                "<span class=\"tok-str\">&quot;&quot;&quot;x\n&quot;y&quot;&quot;&quot;</span>"
            ),
            "{html}"
        );
    }

    #[test]
    fn rust_comments_macros_and_lifetimes() {
        let html = highlight("rust", "let s: &'a str = \"q\"; // hi\nprintln!(\"{s}\");");
        assert!(
            html.starts_with("<span class=\"tok-kw\">let</span> s: &amp;&#39;a str"),
            "{html}"
        );
        assert!(html.contains("<span class=\"tok-com\">// hi</span>"));
        assert!(html.contains("<span class=\"tok-fn\">println</span>!"));
    }

    #[test]
    fn text_is_only_escaped() {
        assert_eq!(
            highlight("text", "<b> & 'x'"),
            "&lt;b&gt; &amp; &#39;x&#39;"
        );
        assert_eq!(highlight("", "# no"), "# no");
    }

    #[test]
    fn unclosed_string_stops_at_end_of_line() {
        let html = highlight("python", "'abc\nx");
        assert_eq!(html, "<span class=\"tok-str\">&#39;abc</span>\nx");
    }
}
