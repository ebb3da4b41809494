//! squeeze beside onnxruntime-web (the runtime transformers.js uses), timed in one page by
//! `tests/wasm_bench.rs`: the lines that test prints and `cargo xtask bench` reads back,
//! and the side-by-side tables it prints.
//!
//! Both runtimes are timed in the same rounds (squeeze f32, ORT f32, squeeze int8, ORT
//! int8, again and again), so a busy moment hits both and the ratios come from one run.
//! The medians are ordinary [`Row`]s: their place is [`place`] (ORT's thread count in it,
//! `ort-web-1t`; squeeze always runs on one), ORT's schemes are [`ORT_F32`] and
//! [`ORT_INT8`], squeeze's keep their names. The first forwards after a model is built are
//! [`First`]s, and anything skipped is said in a note ([`note_line`]).

use super::Row;

/// ONNX Runtime's f32 model.
pub const ORT_F32: &str = "ort-f32";
/// ONNX Runtime's dynamic int8 model (`quantize_dynamic`, QInt8 weights).
pub const ORT_INT8: &str = "ort-int8";
/// squeeze's schemes in the comparison.
const SQUEEZE_F32: &str = "f32";
const SQUEEZE_INT8: &str = "int8-dynamic";

const PLACE_PREFIX: &str = "ort-web-";
const FIRST_MARK: &str = "bench-first";
const NOTE_MARK: &str = "bench-note";

/// The place of the rows of one comparison run, ORT on `threads` threads.
pub fn place(threads: usize) -> String {
    format!("{PLACE_PREFIX}{threads}t")
}

/// ORT's thread count in a place written by [`place`]; `None` for other places.
pub fn threads_of(place: &str) -> Option<usize> {
    place
        .strip_prefix(PLACE_PREFIX)?
        .strip_suffix('t')?
        .parse()
        .ok()
}

/// A remark for the reader of the bench (what was skipped and why), as one line that
/// [`parse_note`] reads back.
pub fn note_line(text: &str) -> String {
    format!("{NOTE_MARK}\t{}", text.replace(['\t', '\n'], " "))
}

/// The text of a line written by [`note_line`], console prefix and all; else `None`.
pub fn parse_note(line: &str) -> Option<String> {
    let rest = &line[line.find(NOTE_MARK)? + NOTE_MARK.len()..];
    Some(rest.strip_prefix('\t')?.trim().to_string())
}

/// The first forwards (8 tokens) of one model right after it was built, one by one: what
/// a learner's first clicks wait for.
#[derive(Clone, Debug, PartialEq)]
pub struct First {
    /// The comparison's place ([`place`]).
    pub place: String,
    /// Which model.
    pub model: String,
    /// The scheme, as in the rows.
    pub scheme: String,
    /// Milliseconds of each forward, in order.
    pub ms: Vec<f64>,
}

impl First {
    /// The record as one tab-separated line that [`First::parse`] reads back.
    pub fn line(&self) -> String {
        let ms: Vec<String> = self.ms.iter().map(|t| format!("{t:.3}")).collect();
        format!(
            "{FIRST_MARK}\t{}\t{}\t{}\t{}",
            self.place,
            self.model,
            self.scheme,
            ms.join("\t")
        )
    }

    /// Reads a line written by [`First::line`] (leading text skipped); else `None`.
    pub fn parse(line: &str) -> Option<First> {
        let rest = &line[line.find(FIRST_MARK)? + FIRST_MARK.len()..];
        let mut f = rest.trim().split('\t');
        let (place, model, scheme) = (f.next()?, f.next()?, f.next()?);
        let ms = f.map(|t| t.parse().ok()).collect::<Option<Vec<f64>>>()?;
        (!ms.is_empty()).then(|| First {
            place: place.into(),
            model: model.into(),
            scheme: scheme.into(),
            ms,
        })
    }
}

/// How squeeze's `ours` ms compare with the peer's `theirs`: "1.67x faster", "1.15x slower".
pub fn ratio(ours: f64, theirs: f64) -> String {
    if theirs >= ours {
        format!("{:.2}x faster", theirs / ours)
    } else {
        format!("{:.2}x slower", ours / theirs)
    }
}

/// The side-by-side table: one line per model, input length and ORT thread count found in
/// `rows` (other places are ignored), medians in ms. `loads` gives each model's load
/// average (1 min) when its page ran.
pub fn markdown(rows: &[Row], loads: &[(String, String)]) -> String {
    let mut out = String::from(
        "| model | tokens | threads (ORT / squeeze) | ORT-web f32 | ORT-web int8 | squeeze f32 | squeeze int8-dynamic | squeeze int8 vs ORT int8 | squeeze f32 vs ORT f32 | load (1 min) |\n\
         |---|---:|---|---:|---:|---:|---:|---|---|---:|\n",
    );
    let mut seen: Vec<(&str, usize, &str)> = Vec::new();
    for r in rows {
        let Some(threads) = threads_of(&r.place) else {
            continue;
        };
        let key = (r.model.as_str(), r.tokens, r.place.as_str());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let ms = |scheme: &str| {
            rows.iter()
                .find(|x| {
                    (x.model.as_str(), x.tokens, x.place.as_str()) == key && x.scheme == scheme
                })
                .map(|x| x.median_ms)
        };
        let cell = |v: Option<f64>| v.map_or("—".into(), |v| format!("{v:.2}"));
        let vs = |ours: Option<f64>, theirs: Option<f64>| match (ours, theirs) {
            (Some(o), Some(t)) => ratio(o, t),
            _ => "—".into(),
        };
        let (of, oi) = (ms(ORT_F32), ms(ORT_INT8));
        let (sf, si) = (ms(SQUEEZE_F32), ms(SQUEEZE_INT8));
        let load = loads
            .iter()
            .find(|(m, _)| *m == r.model)
            .map_or("—", |(_, l)| l.as_str());
        out.push_str(&format!(
            "| {} | {} | {threads} / 1 | {} | {} | {} | {} | {} | {} | {load} |\n",
            r.model,
            r.tokens,
            cell(of),
            cell(oi),
            cell(sf),
            cell(si),
            vs(si, oi),
            vs(sf, of),
        ));
    }
    out
}

/// The first forwards after load beside the 8-token median of the same place and scheme.
pub fn firsts_markdown(firsts: &[First], rows: &[Row]) -> String {
    let mut out = String::from(
        "| model | runtime | threads | scheme | 1st ms | 2nd | 3rd | median (8 tokens) |\n\
         |---|---|---:|---|---:|---:|---:|---:|\n",
    );
    for f in firsts {
        let median = rows
            .iter()
            .find(|r| {
                r.place == f.place && r.model == f.model && r.scheme == f.scheme && r.tokens == 8
            })
            .map_or("—".into(), |r| format!("{:.2}", r.median_ms));
        let (runtime, threads) = if f.scheme.starts_with("ort-") {
            ("onnxruntime-web", threads_of(&f.place).unwrap_or(1))
        } else {
            ("squeeze", 1)
        };
        let t = |i: usize| f.ms.get(i).map_or("—".into(), |v| format!("{v:.2}"));
        out.push_str(&format!(
            "| {} | {runtime} | {threads} | {} | {} | {} | {} | {median} |\n",
            f.model,
            f.scheme,
            t(0),
            t(1),
            t(2)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(place: &str, tokens: usize, scheme: &str, ms: f64) -> Row {
        Row {
            place: place.into(),
            model: "student".into(),
            tokens,
            scheme: scheme.into(),
            median_ms: ms,
            vs_f32: 1.0,
            flops: 1,
        }
    }

    #[test]
    fn places_carry_ort_threads() {
        assert_eq!(place(2), "ort-web-2t");
        assert_eq!(threads_of(&place(16)), Some(16));
        assert_eq!(threads_of("wasm"), None);
    }

    #[test]
    fn notes_and_firsts_survive_their_lines() {
        let note = format!("console.log: {}", note_line("skipped:\tno\nfiles"));
        assert_eq!(parse_note(&note).as_deref(), Some("skipped: no files"));
        assert_eq!(parse_note("bench-row\tx"), None);
        let first = First {
            place: place(1),
            model: "teacher".into(),
            scheme: ORT_INT8.into(),
            ms: vec![14.05, 6.5, 6.25],
        };
        assert_eq!(First::parse(&format!("> {}", first.line())), Some(first));
        assert_eq!(First::parse("bench-first\ta\tb\tc"), None);
    }

    #[test]
    fn the_table_pairs_each_runtime_with_the_other() {
        let p = place(1);
        let rows = vec![
            row("wasm", 8, "f32", 9.0),
            row(&p, 8, "f32", 1.76),
            row(&p, 8, ORT_F32, 1.29),
            row(&p, 8, "int8-dynamic", 0.63),
            row(&p, 8, ORT_INT8, 1.05),
        ];
        let table = markdown(&rows, &[("student".into(), "0.64".into())]);
        assert!(
            table.contains(
                "| student | 8 | 1 / 1 | 1.29 | 1.05 | 1.76 | 0.63 | 1.67x faster | 1.36x slower | 0.64 |"
            ),
            "{table}"
        );
        assert_eq!(table.lines().count(), 3, "the wasm row is not part of it");
        let firsts = [First {
            place: p,
            model: "student".into(),
            scheme: ORT_F32.into(),
            ms: vec![3.0, 2.0, 1.5],
        }];
        assert!(firsts_markdown(&firsts, &rows)
            .contains("| student | onnxruntime-web | 1 | ort-f32 | 3.00 | 2.00 | 1.50 | 1.29 |"));
    }
}
