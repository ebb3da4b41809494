//! Forward-latency measurement shared by the native benchmark (`benches/forward.rs`), the
//! browser one (`tests/wasm_bench.rs`) and `cargo xtask bench`, which collects their rows
//! into one table.
//!
//! Every scheme of one model is timed in interleaved rounds (f32, int8, …, f32, int8, …),
//! so a busy moment on a shared machine hits every scheme alike and the ratios of one run
//! are trustworthy even when the absolute times are not. The clock is passed in: natively
//! `Instant`, in a page `performance.now()` (which ticks in 0.1 ms, hence the batches).
//! [`layers`] times each Linear alone the same way, to show where a forward's time goes;
//! [`versus`] holds the rows of squeeze timed beside onnxruntime-web in one page.

pub mod layers;
pub mod versus;

use crate::{Classifier, Encoding, Result, Scheme};

/// "I love learning about AI!": 8 tokens with [CLS] and [SEP] in the bundled vocabulary.
pub const SHORT: &str = "I love learning about AI!";

/// Marks a result line on stdout, for `cargo xtask bench` to collect.
const MARK: &str = "bench-row";

/// A text of exactly `n` tokens, [CLS] and [SEP] included: [`SHORT`], then " learning"
/// repeated, cut to length.
pub fn input_of(model: &Classifier, n: usize) -> Result<Encoding> {
    let mut text = String::from(SHORT);
    while model.encode(&text)?.ids.len() < n {
        text.push_str(" learning");
    }
    let mut enc = model.encode(&text)?;
    let sep = *enc.ids.last().expect("an encoding ends with [SEP]");
    enc.ids.truncate(n - 1);
    enc.ids.push(sep);
    Ok(enc)
}

/// Multiply-add FLOPs (2 per multiply-add) of one forward on `tokens` tokens: every
/// encoder Linear on every row, the attention products `QKᵀ` and `AV`, and the head on the
/// [CLS] row. Element-wise work (LayerNorm, GELU, softmax) is left out.
pub fn forward_flops(model: &Classifier, tokens: usize) -> u64 {
    let info = model.info();
    let (n, d) = (tokens as u64, info.dim as u64);
    let linears: u64 = model
        .linears()
        .iter()
        .map(|l| 2 * rows_seen(&l.name, tokens) as u64 * (l.in_features * l.out_features) as u64)
        .sum();
    linears + info.layers as u64 * 2 * (2 * n * n * d)
}

/// Rows the Linear `name` multiplies in a forward of `tokens` tokens: all of them, but the
/// classification head sees only [CLS].
fn rows_seen(name: &str, tokens: usize) -> usize {
    if name.contains("classifier") || name.contains("pooler") {
        1
    } else {
        tokens
    }
}

/// Median milliseconds per forward of each model on `enc`, from `rounds` interleaved rounds.
/// A sample times a batch of forwards lasting at least `min_sample_ms` (so a coarse clock
/// still resolves it); the batch size is set per model from one warm-up forward.
pub fn interleaved_medians(
    models: &[(Scheme, Classifier)],
    enc: &Encoding,
    rounds: usize,
    min_sample_ms: f64,
    now_ms: &dyn Fn() -> f64,
) -> Result<Vec<f64>> {
    let forwards: Vec<Job> = models
        .iter()
        .map(|(_, m)| Box::new(move || m.logits(enc).map(drop)) as Job)
        .collect();
    interleaved(&forwards, rounds, min_sample_ms, now_ms)
}

/// Something to time: one forward, one Linear on one input.
type Job<'a> = Box<dyn Fn() -> Result<()> + 'a>;

/// Median milliseconds per call of each of `jobs`, from `rounds` interleaved rounds of
/// batches lasting at least `min_sample_ms` (batch size set per job from two warm-up calls).
fn interleaved(
    jobs: &[Job],
    rounds: usize,
    min_sample_ms: f64,
    now_ms: &dyn Fn() -> f64,
) -> Result<Vec<f64>> {
    let mut batches = Vec::with_capacity(jobs.len());
    for job in jobs {
        let start = now_ms();
        job()?;
        job()?;
        let once = ((now_ms() - start) / 2.0).max(1e-3);
        batches.push(((min_sample_ms / once).ceil() as usize).clamp(1, 200));
    }
    let mut times = vec![Vec::with_capacity(rounds); jobs.len()];
    for _ in 0..rounds {
        for (i, job) in jobs.iter().enumerate() {
            let start = now_ms();
            for _ in 0..batches[i] {
                job()?;
            }
            times[i].push((now_ms() - start) / batches[i] as f64);
        }
    }
    Ok(times.into_iter().map(median).collect())
}

/// The middle value of `v` (the upper one of two for an even count); `v` must not be empty.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One measured cell: a model in a scheme at one input length, in one place.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Where it ran: "native", "wasm", or a comparison with onnxruntime-web in the page
    /// ([`versus::place`], e.g. "ort-web-1t").
    pub place: String,
    /// Which model ("student", "teacher", …).
    pub model: String,
    /// Input length in tokens.
    pub tokens: usize,
    /// The scheme's name.
    pub scheme: String,
    /// Median milliseconds per forward.
    pub median_ms: f64,
    /// f32 median / this median, both from the same interleaved run.
    pub vs_f32: f64,
    /// FLOPs of one forward ([`forward_flops`]).
    pub flops: u64,
}

impl Row {
    /// Rows for every model of one run; `medians` line up with `models`, whose first entry
    /// must be f32.
    pub fn from_run(
        place: &str,
        model: &str,
        tokens: usize,
        flops: u64,
        models: &[(Scheme, Classifier)],
        medians: &[f64],
    ) -> Vec<Row> {
        assert_eq!(models.first().map(|m| m.0), Some(Scheme::F32), "f32 first");
        models
            .iter()
            .zip(medians)
            .map(|((scheme, _), &ms)| Row {
                place: place.to_string(),
                model: model.to_string(),
                tokens,
                scheme: scheme.name().to_string(),
                median_ms: ms,
                vs_f32: medians[0] / ms,
                flops,
            })
            .collect()
    }

    /// Tokens per second.
    pub fn tokens_per_s(&self) -> f64 {
        self.tokens as f64 / (self.median_ms / 1e3)
    }

    /// Achieved GFLOP/s (GOP/s for integer schemes) from the model's FLOP count.
    pub fn gflops(&self) -> f64 {
        self.flops as f64 / (self.median_ms / 1e3) / 1e9
    }

    /// The row as one tab-separated line that [`Row::parse`] reads back.
    pub fn line(&self) -> String {
        format!(
            "{MARK}\t{}\t{}\t{}\t{}\t{:.4}\t{:.4}\t{}",
            self.place,
            self.model,
            self.tokens,
            self.scheme,
            self.median_ms,
            self.vs_f32,
            self.flops
        )
    }

    /// Reads a line written by [`Row::line`]; anything else is `None`. Leading text is
    /// skipped (a browser console prefixes its lines).
    pub fn parse(line: &str) -> Option<Row> {
        let rest = &line[line.find(MARK)? + MARK.len()..];
        let f: Vec<&str> = rest.trim().split('\t').collect();
        let [place, model, tokens, scheme, ms, ratio, flops] = f.as_slice() else {
            return None;
        };
        Some(Row {
            place: place.to_string(),
            model: model.to_string(),
            tokens: tokens.parse().ok()?,
            scheme: scheme.to_string(),
            median_ms: ms.parse().ok()?,
            vs_f32: ratio.parse().ok()?,
            flops: flops.parse().ok()?,
        })
    }
}

/// A Markdown table of rows, in the order given.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| where | model | tokens | scheme | median ms | tokens/s | GFLOP/s | f32 / scheme |\n\
         |---|---|---:|---|---:|---:|---:|---:|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {:.3} | {:.0} | {:.1} | {:.2}x |\n",
            r.place,
            r.model,
            r.tokens,
            r.scheme,
            r.median_ms,
            r.tokens_per_s(),
            r.gflops(),
            r.vs_f32
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_survives_its_line_and_a_console_prefix() {
        let row = Row {
            place: "wasm".into(),
            model: "student".into(),
            tokens: 64,
            scheme: "int8-dynamic".into(),
            median_ms: 2.5,
            vs_f32: 1.75,
            flops: 150_000_000,
        };
        let line = format!("console.log: {}", row.line());
        assert_eq!(Row::parse(&line), Some(row.clone()));
        assert_eq!(Row::parse("bench-row\tnot enough"), None);
        assert!((row.gflops() - 60.0).abs() < 1e-9);
        assert!((row.tokens_per_s() - 25_600.0).abs() < 1e-6);
        assert!(markdown(&[row])
            .contains("| wasm | student | 64 | int8-dynamic | 2.500 | 25600 | 60.0 | 1.75x |"));
    }

    #[test]
    fn the_head_sees_one_row() {
        assert_eq!(rows_seen("pre_classifier", 64), 1);
        assert_eq!(rows_seen("classifier", 64), 1);
        assert_eq!(rows_seen("transformer.layer.0.ffn.lin1", 64), 64);
    }

    #[test]
    fn medians_take_the_middle_value() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![5.0, 1.0, 4.0, 2.0, 3.0]), 3.0);
    }
}
