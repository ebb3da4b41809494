//! Outcomes at their boundaries, explanations from the numbers, and the
//! stored record's round trip.

use super::*;
use crate::model::{Choice, Origin};
use crate::progress::Loaded;

/// A `from_run` question with one option per outcome, in outcome order.
fn question(m: Measurement) -> Question {
    Question {
        id: "q".into(),
        origin: Origin::Own,
        prompt_html: "?".into(),
        choices: m
            .outcomes()
            .iter()
            .map(|o| Choice {
                html: o.to_string(),
                feedback_html: String::new(),
                when: Some(o.to_string()),
            })
            .collect(),
        answer: None,
        from_run: Some(m),
        explanation_html: "because".into(),
        steps_html: vec![],
        quick_check_html: None,
        lab: None,
        measured_html: None,
    }
}

/// The outcome name `run` resolves `m` to.
fn outcome_of(m: Measurement, run: &RunRecord) -> &'static str {
    match resolve(&question(m), run) {
        Resolution::Measured { answer, .. } => m.outcomes()[answer],
        other => panic!("{m:?}: {other:?}"),
    }
}

fn explanation(m: Measurement, run: &RunRecord) -> String {
    match resolve(&question(m), run) {
        Resolution::Measured {
            explanation_html, ..
        } => explanation_html,
        other => panic!("{m:?}: {other:?}"),
    }
}

fn with(f: impl FnOnce(&mut RunRecord)) -> RunRecord {
    let mut r = RunRecord::new();
    f(&mut r);
    r
}

fn lab(f32_bytes: u64, int8_bytes: u64) -> RunRecord {
    with(|r| {
        r.lab_size = Some(LabSize {
            model: "demo".into(),
            f32_bytes,
            int8_bytes,
        })
    })
}

#[test]
fn lab_size_buckets_by_ratio() {
    let m = Measurement::LabSize;
    assert_eq!(outcome_of(m, &lab(199, 100)), "under-2x");
    assert_eq!(outcome_of(m, &lab(200, 100)), "2x-to-3x");
    assert_eq!(outcome_of(m, &lab(299, 100)), "2x-to-3x");
    assert_eq!(outcome_of(m, &lab(300, 100)), "3x-to-4x");
    assert_eq!(outcome_of(m, &lab(399, 100)), "3x-to-4x");
    assert_eq!(outcome_of(m, &lab(400, 100)), "over-4x");
    assert_eq!(
        explanation(m, &lab(11_300_000, 4_100_000)),
        "Your lab loaded demo: f32 11.3 MB, int8 4.1 MB — 2.75× smaller, between 2× and 3×."
    );
    // A shown ratio never rounds across a bound.
    assert!(explanation(m, &lab(39_999, 10_000)).contains("3.99×"));
    assert!(matches!(
        resolve(&question(m), &lab(100, 0)),
        Resolution::NotMeasured { .. }
    ));
}

fn tensor(clipped: usize, max_error: f32) -> RunRecord {
    with(|r| {
        r.tensor = Some(TensorRun {
            bits: 8,
            mapping: "affine".into(),
            scale: 0.0078,
            zero_point: -64,
            max_error,
            clipped,
            values: 4,
        })
    })
}

#[test]
fn quantize_tensor_is_clipped_when_any_value_was() {
    let m = Measurement::QuantizeTensor;
    assert_eq!(outcome_of(m, &tensor(0, 0.0039)), "rounding-only");
    assert_eq!(outcome_of(m, &tensor(1, 0.45)), "clipped");
    assert_eq!(
        explanation(m, &tensor(0, 0.0039)),
        "Your tensor: 4 values at 8 bits, affine, scale 0.0078, zero point -64. No value was clipped: the largest error, 0.0039, is within half a step (0.0039), so rounding is the only error."
    );
    assert!(explanation(m, &tensor(2, 0.45)).contains("2 of 4 values fell outside the range"));
    assert!(matches!(
        resolve(&question(m), &tensor(0, f32::NAN)),
        Resolution::NotMeasured { .. }
    ));
}

fn temperature(p: f32) -> RunRecord {
    with(|r| {
        r.temperature = Some(TemperatureRun {
            text: "I <b>love</b> it".into(),
            temperature: 2.0,
            labels: vec!["NEGATIVE".into(), "POSITIVE".into()],
            teacher_logits: vec![-1.0, 2.0],
            teacher_top_prob: p,
        })
    })
}

#[test]
fn temperature_buckets_by_top_probability() {
    let m = Measurement::Temperature;
    assert_eq!(outcome_of(m, &temperature(0.5999)), "under-0.6");
    assert_eq!(outcome_of(m, &temperature(0.6001)), "0.6-to-0.9");
    assert_eq!(outcome_of(m, &temperature(0.8999)), "0.6-to-0.9");
    assert_eq!(outcome_of(m, &temperature(0.9001)), "over-0.9");
    assert_eq!(outcome_of(m, &temperature(1.0)), "over-0.9");
    assert_eq!(
        explanation(m, &temperature(0.731)),
        "At T = 2 the teacher gave its top label (“POSITIVE”) probability 0.731 for “I &lt;b&gt;love&lt;/b&gt; it”: between 0.6 and 0.9."
    );
}

fn seed(mse: f32) -> RunRecord {
    with(|r| {
        r.seed_code = Some(SeedCodeRun {
            text: "I love learning about AI!".into(),
            f32_logits: vec![-4.2107, 4.5321],
            int8_logits: vec![-4.2034, 4.5262],
            mse,
        })
    })
}

#[test]
fn seed_code_buckets_by_mse() {
    let m = Measurement::SeedCode;
    assert_eq!(outcome_of(m, &seed(0.0)), "under-1e-6");
    assert_eq!(outcome_of(m, &seed(9.9e-7)), "under-1e-6");
    assert_eq!(outcome_of(m, &seed(1.01e-6)), "1e-6-to-1e-4");
    assert_eq!(outcome_of(m, &seed(9.9e-5)), "1e-6-to-1e-4");
    assert_eq!(outcome_of(m, &seed(1.01e-4)), "1e-4-to-1e-2");
    assert_eq!(outcome_of(m, &seed(1.01e-2)), "over-1e-2");
    assert_eq!(outcome_of(m, &seed(3.0)), "over-1e-2");
    assert_eq!(
        explanation(m, &seed(4.4e-5)),
        "For “I love learning about AI!” the f32 logits were [-4.2107, 4.5321] and the int8 logits [-4.2034, 4.5262]: MSE 4.40e-5, between 1e-6 and 1e-4."
    );
    assert!(matches!(
        resolve(&question(m), &seed(-1.0)),
        Resolution::NotMeasured { .. }
    ));
}

fn formats(errors: &[(&str, f32)]) -> RunRecord {
    with(|r| {
        r.block_formats = Some(BlockFormatsRun {
            layer: "classifier".into(),
            row: 0,
            errors: errors.iter().map(|(f, e)| (f.to_string(), *e)).collect(),
        })
    })
}

#[test]
fn block_formats_picks_the_largest_error_among_those_measured() {
    let m = Measurement::BlockFormats;
    assert_eq!(
        outcome_of(
            m,
            &formats(&[("q8_0", 1e-6), ("q4_0", 4e-4), ("q4_k", 2e-4)])
        ),
        "q4_0"
    );
    assert_eq!(
        outcome_of(m, &formats(&[("q8_0", 1e-6), ("q4_k", 2e-4)])),
        "q4_k"
    );
    // Unknown formats and non-finite errors are ignored.
    assert_eq!(
        outcome_of(
            m,
            &formats(&[("q8_0", 1e-6), ("q2_k", 9.0), ("q4_0", f32::NAN)])
        ),
        "q8_0"
    );
    assert_eq!(
        explanation(m, &formats(&[("q8_0", 1e-6), ("q4_0", 4e-4)])),
        "Row 0 of classifier: MSE q8_0 9.99e-7, q4_0 3.99e-4. The largest is q4_0."
    );
    assert!(matches!(
        resolve(&question(m), &formats(&[])),
        Resolution::NotMeasured { .. }
    ));
}

fn flip(other_label: &str) -> RunRecord {
    with(|r| {
        r.flip = Some(FlipRun {
            text: "not bad at all".into(),
            scheme: "q4_0".into(),
            f32_label: "POSITIVE".into(),
            other_label: other_label.into(),
            f32_margin: 2.5,
            other_margin: -0.25,
        })
    })
}

#[test]
fn flip_compares_the_labels() {
    let m = Measurement::Flip;
    assert_eq!(outcome_of(m, &flip("POSITIVE")), "kept");
    assert_eq!(outcome_of(m, &flip("NEGATIVE")), "flipped");
    assert_eq!(
        explanation(m, &flip("NEGATIVE")),
        "For “not bad at all” f32 said POSITIVE (margin 2.5) and q4_0 said NEGATIVE (margin -0.25): the label flipped."
    );
}

fn sensitivity(layers: &[(&str, f32)]) -> RunRecord {
    with(|r| {
        r.sensitivity = Some(SensitivityRun {
            scheme: "int8-dynamic".into(),
            text: "hi".into(),
            layers: layers.iter().map(|(l, e)| (l.to_string(), *e)).collect(),
        })
    })
}

#[test]
fn sensitivity_names_the_kind_of_the_worst_layer() {
    let m = Measurement::Sensitivity;
    let attn = "transformer.layer.0.attention.q_lin";
    let ffn = "transformer.layer.3.ffn.lin2";
    assert_eq!(
        outcome_of(m, &sensitivity(&[(attn, 2e-3), (ffn, 1e-3)])),
        "attention"
    );
    assert_eq!(
        outcome_of(m, &sensitivity(&[(attn, 2e-3), (ffn, 4e-3)])),
        "feed-forward"
    );
    assert_eq!(
        outcome_of(
            m,
            &sensitivity(&[(attn, 2e-3), ("classifier", 5e-3), ("embeddings", 9.0)])
        ),
        "head"
    );
    assert!(explanation(m, &sensitivity(&[(ffn, 4e-3)]))
        .contains("came from transformer.layer.3.ffn.lin2, a feed-forward layer"));
}

#[test]
fn nothing_measured_says_where_to_measure() {
    let hrefs: Vec<(Measurement, String)> = Measurement::ALL
        .iter()
        .map(|&m| match resolve(&question(m), &RunRecord::new()) {
            Resolution::NotMeasured { measure_at, what } => {
                assert!(
                    what.starts_with("run ") || what.starts_with("load "),
                    "{what}"
                );
                (m, measure_at)
            }
            other => panic!("{m:?}: {other:?}"),
        })
        .collect();
    let want = [
        (Measurement::LabSize, "/lab"),
        (
            Measurement::QuantizeTensor,
            "/learn/quantization#figure-quantize-tensor",
        ),
        (
            Measurement::Temperature,
            "/learn/distillation#figure-temperature",
        ),
        (Measurement::SeedCode, "/learn/hands-on#figure-seed-code"),
        (
            Measurement::BlockFormats,
            "/learn/lab-formats#figure-block-formats",
        ),
        (Measurement::Flip, "/learn/lab-measuring#figure-flip-it"),
        (Measurement::Sensitivity, "/lab"),
    ];
    let want: Vec<(Measurement, String)> = want.iter().map(|(m, h)| (*m, h.to_string())).collect();
    assert_eq!(hrefs, want);
    for &m in Measurement::ALL {
        assert_eq!(Measurement::from_name(m.name()), Some(m));
        assert_eq!(serde_json::to_value(m).unwrap(), m.name());
    }
}

#[test]
fn a_resolved_question_grades_normally_and_keeps_the_fingerprint() {
    let q = question(Measurement::Flip);
    assert_eq!(q.resolved(&RunRecord::new()), None);
    let r = q.resolved(&flip("NEGATIVE")).unwrap();
    assert_eq!(r.answer, Some(1));
    assert!(r.is_correct(1) && !q.is_correct(1));
    assert!(r.measured_html.as_deref().unwrap().contains("flipped"));

    let quiz = crate::model::Quiz {
        fingerprint: "fp".into(),
        questions: vec![q],
    };
    let mut unresolved = crate::grade::QuizRun::new(&quiz);
    assert_eq!(unresolved.pick(0, 1), Err(crate::PickError::Unresolved(0)));
    let resolved = quiz.resolved(&flip("NEGATIVE"));
    assert_eq!(resolved.fingerprint, "fp");
    let mut run = crate::grade::QuizRun::new(&resolved);
    assert_eq!(run.pick(0, 1), Ok(crate::Verdict::Correct));
    // Saved picks of a question that is unresolved now are dropped on restore.
    let back = crate::grade::QuizRun::restore(&quiz, run.picks(), run.shown(), 1);
    assert_eq!(back.picked(0), None);
}

#[test]
fn a_fixed_question_resolves_to_its_own_answer() {
    let mut q = question(Measurement::Flip);
    q.from_run = None;
    q.answer = Some(0);
    assert_eq!(
        resolve(&q, &RunRecord::new()),
        Resolution::Measured {
            answer: 0,
            explanation_html: String::new()
        }
    );
    assert_eq!(q.resolved(&RunRecord::new()), Some(q.clone()));
}

#[test]
fn the_record_round_trips_and_garbage_resets() {
    let (empty, how) = RunRecord::load(None);
    assert_eq!((empty.clone(), how), (RunRecord::new(), Loaded::Empty));
    assert_eq!(
        empty.to_json(),
        r#"{"version":1,"lab_size":null,"tensor":null,"temperature":null,"seed_code":null,"block_formats":null,"flip":null,"sensitivity":null}"#
    );
    let mut full = flip("NEGATIVE");
    full.lab_size = lab(4, 1).lab_size;
    full.block_formats = formats(&[("q8_0", 1e-6)]).block_formats;
    full.sensitivity = sensitivity(&[("classifier", 1.0)]).sensitivity;
    full.tensor = tensor(0, 0.001).tensor;
    full.temperature = temperature(0.7).temperature;
    full.seed_code = seed(1e-5).seed_code;
    assert_eq!(
        RunRecord::load(Some(&full.to_json())),
        (full, Loaded::Restored)
    );

    for bad in [
        "",
        "{",
        "null",
        "[]",
        r#"{"version":"1"}"#,
        r#"{"version":1,"flip":3}"#,
    ] {
        let (r, how) = RunRecord::load(Some(bad));
        assert!(matches!(how, Loaded::Reset(_)), "{bad:?} gave {how:?}");
        assert_eq!(r, RunRecord::new());
    }
    assert_eq!(
        RunRecord::load(Some(r#"{"version":2}"#)).1,
        Loaded::Reset("stored measurements has version 2, expected 1".into())
    );
}
