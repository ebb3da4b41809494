//! Reading what a lesson states: its text, the numbers in it, and the checks that compare
//! them with what the engine computes.

use engine::{ModelFiles, TokenizerFile};

use super::root;

/// The text of `lessons/<file>`, as written.
pub fn raw(file: &str) -> String {
    let path = root().join("lessons").join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text of `lessons/<file>` with every run of whitespace made one space, so that
/// re-wrapping a paragraph changes nothing here.
pub fn lesson(file: &str) -> String {
    raw(file).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first `n` numbers written after `prefix`, which must occur exactly once in `text`.
/// A number starts at a digit (or a minus sign before one) that does not continue a word,
/// so `int8` and `f32` are not numbers; a sentence's closing period is not part of one.
pub fn stated(text: &str, prefix: &str, n: usize) -> Vec<String> {
    let found: Vec<_> = text.match_indices(prefix).collect();
    assert_eq!(found.len(), 1, "`{prefix}` must occur once in the lesson");
    let rest = &text[found[0].0 + prefix.len()..];
    let chars: Vec<char> = rest.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() && out.len() < n {
        let after_word = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        let digit_at = |j: usize| chars.get(j).is_some_and(char::is_ascii_digit);
        let starts = digit_at(i) || (chars[i] == '-' && digit_at(i + 1));
        if after_word || !starts {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        while i < chars.len() && (chars[i].is_ascii_digit() || ".eE+-".contains(chars[i])) {
            i += 1;
        }
        let token: String = chars[start..i].iter().collect();
        out.push(token.trim_end_matches('.').to_string());
    }
    assert_eq!(out.len(), n, "{n} numbers after `{prefix}`, found {out:?}");
    out
}

/// Half a unit of the last digit written: `0.585` → 0.0005, `8.8e-06` → 5e-8, `87` → 0.5.
pub fn half_unit(written: &str) -> f64 {
    let (mantissa, exponent) = match written.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().expect("an exponent")),
        None => (written, 0),
    };
    let decimals = mantissa.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
    0.5 * 10f64.powi(exponent - decimals)
}

/// Asserts that the lesson's `written` number is `computed` to its digits, plus `slack`
/// relative to `computed`.
pub fn check(what: &str, written: &str, computed: f64, slack: f64) {
    let value: f64 = written
        .parse()
        .unwrap_or_else(|e| panic!("{what}: `{written}` ({e})"));
    let tolerance = half_unit(written) + slack * computed.abs();
    assert!(
        (value - computed).abs() <= tolerance,
        "{what}: the lesson says {written}, the run gives {computed} (tolerance {tolerance:e})"
    );
}

pub fn integer(what: &str, written: &str, computed: usize) {
    assert_eq!(written.parse::<usize>().ok(), Some(computed), "{what}");
}

pub fn bundled() -> ModelFiles {
    let dir = root().join("www/models/default");
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    ModelFiles {
        config: read("config.json"),
        tokenizer: TokenizerFile::Json(read("tokenizer.json")),
        weights: read("model.safetensors"),
    }
}

/// The cells of the Markdown table row of `text` whose cells start with `first` (trimmed,
/// without the outer pipes); the row must occur exactly once.
pub fn table_row(text: &str, first: &[&str]) -> Vec<String> {
    let rows: Vec<Vec<String>> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix('|')?.strip_suffix('|'))
        .map(|l| {
            l.split('|')
                .map(|c| c.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|cells| cells.len() >= first.len() && cells.iter().zip(first).all(|(c, f)| c == f))
        .collect();
    assert_eq!(
        rows.len(),
        1,
        "one table row starting {first:?}, found {rows:?}"
    );
    rows.into_iter().next().unwrap()
}
