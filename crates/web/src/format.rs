//! How numbers look on the page: megabytes, milliseconds, ratios, tiny errors, and
//! the exact `{:?}` JSON arrays the browser tests read back.
//!
//! Plain functions with native tests; no DOM here.

/// One megabyte as the page counts it (SI, like file managers and `ls -h --si`).
const MB: f64 = 1_000_000.0;

/// Bytes as megabytes with `decimals` digits, without the unit: `3_145_728, 1` → `"3.1"`.
pub fn mb(bytes: u64, decimals: usize) -> String {
    format!("{:.*}", decimals, bytes as f64 / MB)
}

/// Bytes as a size a learner reads: `"11.21 MB"`, or kB below one megabyte.
pub fn size(bytes: u64) -> String {
    if bytes as f64 >= MB {
        format!("{} MB", mb(bytes, 2))
    } else {
        format!("{:.1} kB", bytes as f64 / 1000.0)
    }
}

/// The download line while the model loads: `"3.1 / 11.2 MB"`, or `"3.1 MB"` when
/// the server sent no lengths.
pub fn progress(loaded: u64, total: Option<u64>) -> String {
    match total {
        // A compressed response can deliver more bytes than its Content-Length says.
        Some(total) if total >= loaded => format!("{} / {} MB", mb(loaded, 1), mb(total, 1)),
        _ => format!("{} MB", mb(loaded, 1)),
    }
}

/// Progress as a fraction in `0.0..=1.0`, when the total is known.
pub fn fraction(loaded: u64, total: Option<u64>) -> Option<f64> {
    match total {
        Some(0) | None => None,
        Some(total) => Some((loaded as f64 / total as f64).clamp(0.0, 1.0)),
    }
}

/// Milliseconds: two decimals below 10 ms (the worker averages many forwards per
/// reading, so they are meaningful), one above.
pub fn ms(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// How many times smaller `after` is than `before`: `"3.9×"`.
pub fn ratio(before: u64, after: u64) -> String {
    if after == 0 {
        return "–".to_string();
    }
    format!("{:.1}×", before as f64 / after as f64)
}

/// A count with thousands separators: `2,831,234`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// The int8 forward compared with the f32 one, in words that cannot be misread:
/// `"1.6× faster"`, `"1.3× slower"`, `"about as fast"`.
pub fn speed(f32_ms: f64, int8_ms: f64) -> String {
    if !(f32_ms > 0.0 && int8_ms > 0.0) {
        // A 0.0 reading means the forward was faster than the timer's tick.
        return "too fast to compare".to_string();
    }
    let r = f32_ms / int8_ms;
    if (r - 1.0).abs() < 0.05 {
        "about as fast".to_string()
    } else if r > 1.0 {
        format!("{r:.1}× faster")
    } else {
        format!("{:.1}× slower", 1.0 / r)
    }
}

/// A logit or difference with a sign and fixed decimals: `"+1.2345"`, `"-0.0012"`.
pub fn signed(x: f32, decimals: usize) -> String {
    format!("{:+.*}", decimals, x)
}

/// A probability as a percentage: `"87.3 %"`.
pub fn percent(p: f32) -> String {
    format!("{:.1} %", p * 100.0)
}

/// A small non-negative error (MSE, max abs diff) a learner can read:
/// `0` → `"0"`, `0.25` → `"0.2500"`, `3.21e-5` → `"3.21 × 10⁻⁵"`.
pub fn small(x: f32) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    if !x.is_finite() {
        return format!("{x}");
    }
    if x.abs() >= 0.01 {
        return format!("{x:.4}");
    }
    // `{:.2e}` gives "3.21e-5": split it and write the exponent as superscript.
    let sci = format!("{x:.2e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    format!("{mantissa} × 10{}", superscript(exponent))
}

/// `"-5"` → `"⁻⁵"`.
fn superscript(digits: &str) -> String {
    digits
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            '9' => '⁹',
            other => other,
        })
        .collect()
}

/// One f32 as the tests read it back: Rust's shortest round-trip `{:?}`, which JSON
/// accepts for finite values (`1e-7`, `-0.5`, `3.0`). JSON has no NaN or infinity:
/// those become `null`.
pub fn f32_json(x: f32) -> String {
    if x.is_finite() {
        format!("{x:?}")
    } else {
        "null".to_string()
    }
}

/// A JSON array of f32s, each written by [`f32_json`]: `"[0.1, -2.5]"`.
pub fn f32_json_array(xs: &[f32]) -> String {
    let items: Vec<String> = xs.iter().map(|&x| f32_json(x)).collect();
    format!("[{}]", items.join(", "))
}

/// A count as a capitalised English word up to twelve ("Seven"), else in digits.
pub fn count_word(n: usize) -> String {
    const WORDS: [&str; 13] = [
        "No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten",
        "Eleven", "Twelve",
    ];
    WORDS
        .get(n)
        .map_or_else(|| n.to_string(), |w| (*w).to_string())
}

/// Numbers as `{:?}`, comma-separated (a data attribute a test reads back exactly).
pub fn f64_list(xs: &[f64]) -> String {
    xs.iter()
        .map(|x| format!("{x:?}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(2_831_234), "2,831,234");
    }

    use super::*;

    #[test]
    fn counts_read_as_words_up_to_twelve() {
        assert_eq!(count_word(7), "Seven");
        assert_eq!(count_word(12), "Twelve");
        assert_eq!(count_word(13), "13");
    }

    #[test]
    fn sizes_use_si_megabytes() {
        assert_eq!(mb(3_150_000, 1), "3.1");
        assert_eq!(size(11_212_345), "11.21 MB");
        assert_eq!(size(4_500), "4.5 kB");
    }

    #[test]
    fn progress_shows_total_only_when_it_makes_sense() {
        assert_eq!(progress(3_100_000, Some(11_200_000)), "3.1 / 11.2 MB");
        assert_eq!(progress(3_100_000, None), "3.1 MB");
        // More bytes than announced (compressed transfer): no misleading "12 / 11".
        assert_eq!(progress(12_000_000, Some(11_000_000)), "12.0 MB");
        assert_eq!(fraction(5, Some(10)), Some(0.5));
        assert_eq!(fraction(20, Some(10)), Some(1.0));
        assert_eq!(fraction(5, Some(0)), None);
    }

    #[test]
    fn times_and_ratios() {
        assert_eq!(ms(12.34), "12.3 ms");
        assert_eq!(ms(0.523), "0.52 ms");
        assert_eq!(ratio(12_000, 3_000), "4.0×");
        assert_eq!(ratio(1, 0), "–");
        assert_eq!(speed(20.0, 10.0), "2.0× faster");
        assert_eq!(speed(10.0, 13.0), "1.3× slower");
        assert_eq!(speed(10.0, 10.2), "about as fast");
        assert_eq!(speed(0.0, 1.0), "too fast to compare");
    }

    #[test]
    fn small_errors_are_readable() {
        assert_eq!(small(0.0), "0");
        assert_eq!(small(0.25), "0.2500");
        assert_eq!(small(3.2149e-5), "3.21 × 10⁻⁵");
        assert_eq!(small(0.001), "1.00 × 10⁻³");
        assert_eq!(signed(1.23456, 4), "+1.2346");
        assert_eq!(signed(-0.00124, 4), "-0.0012");
        assert_eq!(percent(0.8734), "87.3 %");
    }

    #[test]
    fn json_arrays_round_trip_every_f32_exactly() {
        let xs = [0.1_f32, -2.5, 1e-7, 3.0, f32::MIN_POSITIVE, -123456.79];
        let json = f32_json_array(&xs);
        let back: Vec<f32> = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(back, xs);
        assert_eq!(f32_json_array(&[]), "[]");
        assert_eq!(f32_json_array(&[f32::NAN, 1.0]), "[null, 1.0]");
    }
}
