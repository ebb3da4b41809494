//! A learner's own labelled sentences: a TSV or CSV file whose header names a text
//! column and a label column, labels written as the model's class names or ids.
//!
//! Nothing is dropped silently. A file that cannot be read as a whole (empty, not
//! UTF-8, too big, no such columns, no usable row) is refused with one line saying why;
//! a bad row is skipped and reported with its line number, so the learner sees exactly
//! which sentences were left out.
//!
//! CSV follows RFC 4180: fields may be quoted with `"`, a quote inside is doubled, and a
//! quoted field may hold commas and line breaks. A file is TSV when its header line has
//! a tab; tab-separated fields are not quoted.

use serde::{Deserialize, Serialize};

/// Largest file read (5 MiB): tens of thousands of sentences, and the browser tab stays responsive.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// Most sentences kept.
pub const MAX_ROWS: usize = 20_000;
/// Header names accepted for the text column (any case).
pub const TEXT_COLUMNS: [&str; 4] = ["text", "sentence", "review", "content"];
/// Header names accepted for the label column (any case).
pub const LABEL_COLUMNS: [&str; 5] = ["label", "labels", "sentiment", "class", "target"];

/// Sentences read from a learner's file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabelledSet {
    /// The file's name, as given.
    pub name: String,
    /// The usable rows, in file order.
    pub rows: Vec<LabelledRow>,
    /// The rows left out, each with why.
    pub skipped: Vec<RowProblem>,
}

/// One usable sentence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabelledRow {
    /// Line of the file where the row starts (1 = the header).
    pub line: usize,
    /// The sentence.
    pub text: String,
    /// Class id in the model's logit order.
    pub label: usize,
}

/// A row left out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RowProblem {
    /// Line of the file where the row starts.
    pub line: usize,
    /// What is wrong with it, one line.
    pub message: String,
}

impl LabelledSet {
    /// Sentences per class id, for `labels.len()` classes.
    pub fn counts(&self, classes: usize) -> Vec<usize> {
        let mut counts = vec![0; classes];
        for r in &self.rows {
            if let Some(c) = counts.get_mut(r.label) {
                *c += 1;
            }
        }
        counts
    }
}

/// Reads `bytes` (the file called `name`) against the model's class names `labels`.
/// `Err` is one line for the learner; a row that cannot be used lands in `skipped`.
pub fn parse_labelled(
    name: &str,
    bytes: &[u8],
    labels: &[String],
) -> std::result::Result<LabelledSet, String> {
    if bytes.len() > MAX_BYTES {
        return Err(format!(
            "{name} is {:.1} MB; squeeze reads files up to {} MB here",
            bytes.len() as f64 / 1e6,
            MAX_BYTES / (1024 * 1024)
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "{name} is not UTF-8 text (byte {} cannot be read); save it as UTF-8",
            e.valid_up_to()
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(format!("{name} is empty"));
    }
    let header_line = text.lines().next().unwrap_or_default();
    let records = if header_line.contains('\t') {
        tsv_records(text)
    } else {
        csv_records(text).map_err(|e| format!("{name}: {e}"))?
    };
    let mut records = records.into_iter();
    let (_, header) = records.next().ok_or_else(|| format!("{name} is empty"))?;
    let column = |names: &[&str]| {
        header
            .iter()
            .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
    };
    let (Some(text_col), Some(label_col)) = (column(&TEXT_COLUMNS), column(&LABEL_COLUMNS)) else {
        return Err(format!(
            "{name}:1: the header must name a text column ({}) and a label column ({}); found: {}",
            TEXT_COLUMNS.join(", "),
            LABEL_COLUMNS.join(", "),
            header
                .iter()
                .map(|h| format!("`{}`", h.trim()))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    };
    let mut set = LabelledSet {
        name: name.to_string(),
        rows: Vec::new(),
        skipped: Vec::new(),
    };
    for (line, fields) in records {
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let problem = |message: String| RowProblem { line, message };
        if set.rows.len() == MAX_ROWS {
            set.skipped.push(problem(format!(
                "beyond the first {MAX_ROWS} sentences (the rest of the file is not read)"
            )));
            break;
        }
        if fields.len() != header.len() {
            set.skipped.push(problem(format!(
                "{} fields, the header has {}",
                fields.len(),
                header.len()
            )));
            continue;
        }
        let sentence = fields[text_col].trim();
        if sentence.is_empty() {
            set.skipped.push(problem("the text is empty".to_string()));
            continue;
        }
        match label_id(&fields[label_col], labels) {
            Ok(label) => set.rows.push(LabelledRow {
                line,
                text: sentence.to_string(),
                label,
            }),
            Err(message) => set.skipped.push(problem(message)),
        }
    }
    if set.rows.is_empty() {
        let why = set
            .skipped
            .first()
            .map(|p| format!(" (line {}: {})", p.line, p.message))
            .unwrap_or_default();
        return Err(format!("{name} has no usable sentence{why}"));
    }
    Ok(set)
}

/// The class id a label cell names: a class name (any case) or an id.
fn label_id(cell: &str, labels: &[String]) -> std::result::Result<usize, String> {
    let cell = cell.trim();
    if let Some(i) = labels.iter().position(|l| l.eq_ignore_ascii_case(cell)) {
        return Ok(i);
    }
    match cell.parse::<usize>() {
        Ok(i) if i < labels.len() => Ok(i),
        _ => Err(format!(
            "label `{cell}` is not one of {} (or an id 0 … {})",
            labels.join(", "),
            labels.len().saturating_sub(1)
        )),
    }
}

/// Tab-separated records, each with the line it starts on.
fn tsv_records(text: &str) -> Vec<(usize, Vec<String>)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let line = line.trim_end_matches('\r');
            (i + 1, line.split('\t').map(str::to_string).collect())
        })
        .collect()
}

/// RFC 4180 records, each with the line it starts on.
fn csv_records(text: &str) -> std::result::Result<Vec<(usize, Vec<String>)>, String> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut line = 1;
    let mut start = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            (false, '"') if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                fields.push(std::mem::take(&mut field));
                records.push((start, std::mem::take(&mut fields)));
                line += 1;
                start = line;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(format!(
            "line {start}: a quoted field is never closed (a `\"` is missing)"
        ));
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        records.push((start, fields));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<String> {
        vec!["NEGATIVE".into(), "POSITIVE".into()]
    }

    fn parse(name: &str, text: &str) -> std::result::Result<LabelledSet, String> {
        parse_labelled(name, text.as_bytes(), &labels())
    }

    #[test]
    fn tsv_with_names_and_ids() {
        let set = parse(
            "mine.tsv",
            "text\tlabel\nGreat food.\tpositive\nAwful.\t0\n",
        )
        .unwrap();
        assert_eq!(
            set.rows,
            vec![
                LabelledRow {
                    line: 2,
                    text: "Great food.".into(),
                    label: 1
                },
                LabelledRow {
                    line: 3,
                    text: "Awful.".into(),
                    label: 0
                },
            ]
        );
        assert!(set.skipped.is_empty());
        assert_eq!(set.counts(2), vec![1, 1]);
    }

    #[test]
    fn csv_with_quotes_commas_and_line_breaks() {
        let text = "id,Sentence,Sentiment\r\n1,\"Good, but \"\"loud\"\"\",POSITIVE\r\n2,\"Two\nlines\",negative\r\n3,plain,1";
        let set = parse("mine.csv", text).unwrap();
        let got: Vec<(usize, &str, usize)> = set
            .rows
            .iter()
            .map(|r| (r.line, r.text.as_str(), r.label))
            .collect();
        assert_eq!(
            got,
            vec![
                (2, "Good, but \"loud\"", 1),
                (3, "Two\nlines", 0),
                (5, "plain", 1)
            ]
        );
    }

    #[test]
    fn bad_rows_are_skipped_with_their_line() {
        let text = "label\ttext\n1\tfine\nneutral\tmeh\n1\t\n2\tthree classes?\n0\ttoo\tmany\n";
        let set = parse("d.tsv", text).unwrap();
        assert_eq!(set.rows.len(), 1);
        let problems: Vec<String> = set
            .skipped
            .iter()
            .map(|p| format!("{}: {}", p.line, p.message))
            .collect();
        assert_eq!(
            problems,
            vec![
                "3: label `neutral` is not one of NEGATIVE, POSITIVE (or an id 0 … 1)",
                "4: the text is empty",
                "5: label `2` is not one of NEGATIVE, POSITIVE (or an id 0 … 1)",
                "6: 3 fields, the header has 2",
            ]
        );
    }

    #[test]
    fn whole_file_problems_are_one_line() {
        assert_eq!(parse("e.csv", " \n"), Err("e.csv is empty".to_string()));
        assert_eq!(
            parse("h.csv", "sentence,score\nhi,1\n"),
            Err("h.csv:1: the header must name a text column (text, sentence, review, content) and a label column (label, labels, sentiment, class, target); found: `sentence`, `score`".to_string())
        );
        assert_eq!(
            parse("q.csv", "text,label\n\"open,1\n"),
            Err("q.csv: line 2: a quoted field is never closed (a `\"` is missing)".to_string())
        );
        assert_eq!(
            parse("n.tsv", "text\tlabel\nx\tmaybe\n"),
            Err("n.tsv has no usable sentence (line 2: label `maybe` is not one of NEGATIVE, POSITIVE (or an id 0 … 1))".to_string())
        );
        let err = parse_labelled("b.csv", &[0x74, 0xff, 0x0a], &labels()).unwrap_err();
        assert!(err.starts_with("b.csv is not UTF-8 text"), "{err}");
        let big = vec![b'a'; MAX_BYTES + 1];
        let err = parse_labelled("big.txt", &big, &labels()).unwrap_err();
        assert_eq!(
            err,
            "big.txt is 5.2 MB; squeeze reads files up to 5 MB here"
        );
    }

    #[test]
    fn rows_past_the_limit_are_reported_not_dropped_silently() {
        let mut text = String::from("text,label\n");
        for i in 0..MAX_ROWS + 5 {
            text.push_str(&format!("sentence {i},1\n"));
        }
        let set = parse("many.csv", &text).unwrap();
        assert_eq!(set.rows.len(), MAX_ROWS);
        assert_eq!(set.skipped.len(), 1);
        assert_eq!(set.skipped[0].line, MAX_ROWS + 2);
    }

    #[test]
    fn a_byte_order_mark_and_emoji_are_fine() {
        let set = parse("bom.csv", "\u{feff}Text,Label\n\"Loved it 😍\",POSITIVE\n").unwrap();
        assert_eq!(set.rows[0].text, "Loved it 😍");
    }
}
