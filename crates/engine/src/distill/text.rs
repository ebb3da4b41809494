//! Text for distillation: the labelled TSV files under `data/` and unlabelled sentences
//! cut out of fortune-cookie files (Debian's `fortunes`/`fortunes-min`), the transfer
//! text the teacher labels for the student.

use super::rng::Rng;
use super::{Error, Result};

/// One labelled sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Labelled {
    /// Class id (0 = negative, 1 = positive).
    pub label: usize,
    /// The sentence.
    pub text: String,
}

/// Parses a `label<TAB>text` file with that header line, as `squeeze eval` reads it.
/// `name` is used in error messages.
pub fn parse_tsv(name: &str, contents: &str) -> Result<Vec<Labelled>> {
    let mut lines = contents.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.trim_end_matches('\r') == "label\ttext" => {}
        _ => {
            return Err(Error::Data(format!(
                "{name}:1: expected the header `label<TAB>text`"
            )))
        }
    }
    let mut rows = Vec::new();
    for (i, line) in lines {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let (label, text) = line
            .split_once('\t')
            .ok_or_else(|| Error::Data(format!("{name}:{}: expected `label<TAB>text`", i + 1)))?;
        let label = label.trim().parse::<usize>().map_err(|_| {
            Error::Data(format!(
                "{name}:{}: label `{label}` is not a class id",
                i + 1
            ))
        })?;
        rows.push(Labelled {
            label,
            text: text.to_string(),
        });
    }
    Ok(rows)
}

/// Sentences from a fortune file: entries are separated by lines holding only `%`.
///
/// Each entry's lines are joined, attributions (`-- Author`) dropped, and the text is cut
/// after `.`, `!` or `?` when the next word starts with a capital or a quote. Sentences
/// are kept when they read as prose: 3 to 60 words, mostly letters (this drops ASCII
/// art, code and tables).
pub fn fortune_sentences(contents: &str) -> Vec<String> {
    let mut out = Vec::new();
    for entry in contents.split("\n%") {
        let mut text = String::new();
        for line in entry.lines() {
            let t = line.trim();
            if t == "%" || t.starts_with("--") || t.starts_with("-- ") {
                continue;
            }
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(t);
        }
        for s in split_sentences(&text) {
            if reads_as_prose(&s) {
                out.push(s);
            }
        }
    }
    out
}

/// Cuts a paragraph into sentences; whitespace is collapsed.
pub fn split_sentences(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for (i, w) in words.iter().enumerate() {
        current.push(w);
        let ends = w
            .trim_end_matches(['"', '\'', ')', ']'])
            .ends_with(['.', '!', '?']);
        let next_starts = words
            .get(i + 1)
            .and_then(|n| n.chars().next())
            .is_some_and(|c| c.is_uppercase() || c == '"' || c == '\'' || c == '(');
        // "Mr." and "e.g." end in a full stop too; a single capital-letter or dotted
        // abbreviation is not the end of a sentence.
        let abbreviation = w.len() <= 4
            && w.chars().filter(|c| *c == '.').count() >= 1
            && w.chars().next().is_some_and(|c| c.is_uppercase())
            && !w.ends_with(['!', '?']);
        if ends && next_starts && !abbreviation {
            out.push(current.join(" "));
            current.clear();
        }
    }
    if !current.is_empty() {
        out.push(current.join(" "));
    }
    out
}

/// Variants of labelled sentences for the teacher to label, so that the student also sees
/// the teacher's answers around the training sentences, not only on them (TinyBERT's data
/// augmentation does this with word swaps; "Distilling Task-Specific Knowledge from BERT
/// into Simple Neural Networks", Tang et al. 2019, with masking and n-gram sampling).
/// Each variant is one of: a few words dropped, a few words swapped for words of other
/// sentences, a contiguous window, or the first clause of one sentence joined to the last
/// clause of another (which makes new "…, but …" contrasts). The labels are not used: the
/// teacher's logits are the targets.
pub fn augment(sentences: &[&str], per_sentence: usize, rng: &mut Rng) -> Vec<String> {
    let words: Vec<Vec<&str>> = sentences
        .iter()
        .map(|s| s.split_whitespace().collect())
        .collect();
    let pool: Vec<&str> = words.iter().flatten().copied().collect();
    let mut out = Vec::new();
    let mut seen: std::collections::HashSet<String> =
        sentences.iter().map(|s| s.to_string()).collect();
    if pool.is_empty() {
        return out;
    }
    for w in &words {
        let mut made = 0;
        let mut tries = 0;
        while made < per_sentence && tries < per_sentence * 4 {
            tries += 1;
            let v: Vec<&str> = match rng.below(4) {
                0 => w.iter().copied().filter(|_| rng.unit() >= 0.15).collect(),
                1 => w
                    .iter()
                    .map(|&x| {
                        if rng.unit() < 0.15 {
                            pool[rng.below(pool.len())]
                        } else {
                            x
                        }
                    })
                    .collect(),
                2 if w.len() > 4 => {
                    let len = 3 + rng.below(w.len() - 3);
                    let start = rng.below(w.len() - len + 1);
                    w[start..start + len].to_vec()
                }
                _ => {
                    let other = &words[rng.below(words.len())];
                    let (a, _) = split_clause(w);
                    let (_, b) = split_clause(other);
                    a.iter().chain(b.iter()).copied().collect()
                }
            };
            let v = v.join(" ");
            if v.split_whitespace().count() >= 2 && seen.insert(v.clone()) {
                out.push(v);
                made += 1;
            }
        }
    }
    out
}

/// Splits a sentence's words after its first comma or before "but"/"yet"/"though", or
/// in the middle when it has neither.
fn split_clause<'a>(w: &[&'a str]) -> (Vec<&'a str>, Vec<&'a str>) {
    let at = w
        .iter()
        .position(|x| x.ends_with(','))
        .map(|i| i + 1)
        .or_else(|| {
            w.iter()
                .position(|x| matches!(x.to_lowercase().as_str(), "but" | "yet" | "though"))
        })
        .filter(|&i| i > 0 && i < w.len())
        .unwrap_or(w.len() / 2);
    (w[..at].to_vec(), w[at..].to_vec())
}

fn reads_as_prose(s: &str) -> bool {
    let words = s.split_whitespace().count();
    if !(3..=60).contains(&words) {
        return false;
    }
    let visible: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
    let letters = visible.iter().filter(|c| c.is_alphabetic()).count();
    letters * 10 >= visible.len() * 7 && !s.contains(['|', '_', '\\', '{', '}', '<', '>'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_needs_its_header_and_class_ids() {
        let rows = parse_tsv("t.tsv", "label\ttext\n1\tGreat fun.\n0\tNot good.\n").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[1],
            Labelled {
                label: 0,
                text: "Not good.".into()
            }
        );
        let err = parse_tsv("t.tsv", "text\tlabel\n").unwrap_err().to_string();
        assert_eq!(err, "t.tsv:1: expected the header `label<TAB>text`");
        let err = parse_tsv("t.tsv", "label\ttext\nx\thi\n")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "t.tsv:2: label `x` is not a class id");
        let err = parse_tsv("t.tsv", "label\ttext\n1 no tab\n")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "t.tsv:2: expected `label<TAB>text`");
    }

    #[test]
    fn augmenting_gives_new_distinct_sentences_reproducibly() {
        let s = [
            "I wanted to love it, but the battery died in an hour.",
            "Not bad at all for the price.",
            "The staff were friendly and the room was spotless.",
        ];
        let a = augment(&s, 3, &mut Rng::new(9));
        let b = augment(&s, 3, &mut Rng::new(9));
        assert_eq!(a, b);
        assert!(a.len() >= 6, "{a:?}");
        let distinct: std::collections::HashSet<&String> = a.iter().collect();
        assert_eq!(distinct.len(), a.len());
        assert!(a
            .iter()
            .all(|v| !s.contains(&v.as_str()) && v.split_whitespace().count() >= 2));
        assert_eq!(
            split_clause(&["I", "tried,", "it", "failed."]),
            (vec!["I", "tried,"], vec!["it", "failed."])
        );
    }

    #[test]
    fn fortunes_become_prose_sentences() {
        let file = "A day without sunshine is like, you know, night.\n%\n\
                    Mr. Smith went to Washington. He liked it there! Did he stay?\n\
                    \t\t-- Anonymous\n%\n\
                    |__|__|__|\n|  |  |  |\n%\nOk.\n%\n";
        let s = fortune_sentences(file);
        assert_eq!(
            s,
            [
                "A day without sunshine is like, you know, night.",
                "Mr. Smith went to Washington.",
                "He liked it there!",
                "Did he stay?",
            ]
        );
    }
}
