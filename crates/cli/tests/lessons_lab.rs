//! What lessons/lab-formats.md and lessons/lab-measuring.md state about squeeze, recomputed:
//! bits per weight and bytes from the engine's own size accounting, which layers stay f32
//! for the Train page's student, the outlier of the bundled model, the effect of batching
//! on int8 logits, the held-out evaluation, and the speed figures of docs/BENCHMARKS.md.

mod common;

use candle_core::{Device, Tensor};
use common::lessons::{bundled, check, integer, lesson, raw, stated, table_row};
use common::{root, squeeze, stderr};
use engine::distill::live::{LiveConfig, Trainer};
use engine::distill::text::{parse_tsv, Labelled};
use engine::quant::Linear;
use engine::{metrics, Classifier, Scheme};

const FORMATS: &str = "lab-formats.md";
const MEASURING: &str = "lab-measuring.md";
/// One forward pass: another CPU may sum some floats in another order.
const FORWARD_SLACK: f64 = 1e-4;
/// An MSE between nearly equal numbers, where one flipped rounding moves it by a few percent.
const MSE_SLACK: f64 = 0.03;
/// The layer whose outlier lab-formats.md shows.
const OUTLIER_LAYER: &str = "transformer.layer.0.ffn.lin2";
/// The lesson's sentence, and the one it is batched with.
const TEXT: &str = "I love learning about AI!";
const OTHER: &str = "Terrible.";

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// Bits per weight of each Linear of `model` as the engine stores it (bias excluded).
fn bits_per_weight(model: &Classifier) -> Vec<(usize, f64)> {
    let linears = model.linears();
    let per_layer = linears.iter().map(|l| {
        let weights = (l.in_features * l.out_features) as f64;
        let bias = 4 * l.out_features as u64;
        (l.in_features, (l.bytes - bias) as f64 * 8.0 / weights)
    });
    per_layer.collect()
}

/// Evaluates a formula the lesson works out, `(a·b + c + …)/d`.
fn formula(text: &str) -> f64 {
    let (sum, divisor) = text
        .trim()
        .strip_prefix('(')
        .and_then(|t| t.split_once(")/"))
        .unwrap_or_else(|| panic!("`(…)/n`, found `{text}`"));
    let term = |t: &str| {
        t.split('·')
            .map(|f| f.trim().parse::<f64>().unwrap())
            .product::<f64>()
    };
    sum.split('+').map(term).sum::<f64>() / divisor.trim().parse::<f64>().unwrap()
}

#[test]
fn formats_table_states_the_engines_bits_and_bytes_per_scheme() {
    let md = raw(FORMATS);
    let f32_model = Classifier::load(&bundled()).unwrap();
    for &scheme in Scheme::ALL {
        let q = f32_model.quantize(scheme).unwrap();
        let row = table_row(&md, &[&format!("`{scheme}`")]);
        let what = scheme.name();
        let bits_cell = &row[3];
        let written = bits_cell.rsplit(['=', '≈']).next().unwrap().trim();
        if let Some((left, _)) = bits_cell.rsplit_once('=').filter(|(l, _)| l.contains(")/")) {
            check(what, written, formula(left), 0.0);
        }
        let bits = bits_per_weight(&q);
        let computed = match scheme {
            // One scale per matrix: a little over 8, different for each shape.
            Scheme::Int8Dynamic => {
                let weights: usize = q
                    .linears()
                    .iter()
                    .map(|l| l.in_features * l.out_features)
                    .sum();
                let bias: u64 = q.linears().iter().map(|l| 4 * l.out_features as u64).sum();
                (q.size().linear_bytes - bias) as f64 * 8.0 / weights as f64
            }
            // One scale per row: the lesson states a row of 256.
            Scheme::Int8PerChannel => bits.iter().find(|b| b.0 == 256).unwrap().1,
            _ => {
                assert!(bits.iter().all(|b| b.1 == bits[0].1), "{what}: {bits:?}");
                bits[0].1
            }
        };
        check(what, written, computed, 0.0);
        check(
            what,
            row[4].trim_end_matches(" MB"),
            mb(q.size().total_bytes),
            0.0,
        );
        if let Some(dtype) = scheme.ggml_dtype() {
            let block = if scheme == Scheme::Q4K { 256 } else { 32 };
            assert_eq!(dtype.block_size(), block, "{what}");
            assert!(row[1].starts_with("32 weights"), "{what}: {row:?}");
        }
    }
    let t = lesson(FORMATS);
    assert!(t.contains("(32·4 + 16)/32 = 4.5 bits per weight"));
}

#[test]
fn formats_file_shrinks_less_than_its_bits() {
    let t = lesson(FORMATS);
    let f32_model = Classifier::load(&bundled()).unwrap();
    let q4 = f32_model.quantize(Scheme::Q4_0).unwrap();
    let (f, q) = (f32_model.size(), q4.size());
    check(
        "f32 model",
        &stated(&t, "The bundled model takes ", 1)[0],
        mb(f.total_bytes),
        0.0,
    );
    let n = stated(&t, "but only ", 2);
    check("f32 Linear bytes", &n[0], mb(f.linear_bytes), 0.0);
    integer("Linear layers", &n[1], f32_model.linears().len());
    check(
        "f32 parts",
        &stated(&t, "The other ", 1)[0],
        mb(f.float_bytes),
        0.0,
    );
    let n = stated(&t, "At 4.5 bits the Linear layers take ", 1);
    check("q4_0 Linear bytes", &n[0], mb(q.linear_bytes), 0.0);
    let n = stated(&t, "so the `q4_0` model is ", 2);
    check("q4_0 model", &n[0], mb(q.total_bytes), 0.0);
    check(
        "ratio",
        &n[1],
        f.total_bytes as f64 / q.total_bytes as f64,
        0.0,
    );
    assert!(t.contains("although each weight is 7 times smaller"));
    assert_eq!((32.0_f64 / 4.5).floor(), 7.0);
}

#[test]
fn formats_states_which_layers_fit_for_the_bundled_model_and_the_train_student() {
    let t = lesson(FORMATS);
    let teacher = Classifier::load(&bundled()).unwrap();
    let n = stated(&t, "so all ", 1);
    integer("bundled Linears", &n[0], teacher.linears().len());
    for l in teacher.linears() {
        assert!([256, 512].contains(&l.in_features), "{}", l.name);
        assert!(Scheme::ALL
            .iter()
            .all(|s| s.unfit_reason(l.in_features).is_none()));
    }

    // The Train page's default student, as cut before training (its shapes and bytes do
    // not change while it trains).
    let config = LiveConfig::default();
    let n = stated(&t, "by default one layer of width ", 1);
    assert_eq!((config.layers, config.dim), (1, 128));
    integer("student width", &n[0], config.dim);
    let student = Trainer::new(&bundled(), config).unwrap().student().unwrap();
    let wide: Vec<_> = student
        .linears()
        .into_iter()
        .filter(|l| l.in_features != 128)
        .collect();
    assert_eq!(wide.len(), 1, "one Linear is not 128 wide");
    assert!(wide[0].name.ends_with("ffn.lin2") && wide[0].in_features == 256);

    let q4k = student.quantize(Scheme::Q4K).unwrap();
    let stay: Vec<String> = q4k
        .linears()
        .into_iter()
        .filter_map(|l| l.stays_f32_because)
        .collect();
    let n = stated(&t, "Under `q4_k`, ", 2);
    integer("stay f32 under q4_k", &n[0], stay.len());
    integer("student Linears", &n[1], student.linears().len());
    assert!(
        t.contains(&format!("\"{}\"", stay[0])),
        "the lesson quotes `{}`",
        stay[0]
    );

    let n = stated(&t, "the student shrinks only from ", 2);
    check("student f32", &n[0], mb(student.size().total_bytes), 0.0);
    check("student q4_k", &n[1], mb(q4k.size().total_bytes), 0.0);
    let q4 = student.quantize(Scheme::Q4_0).unwrap();
    let n = stated(&t, "whose blocks are ", 3);
    integer("q4_0 block", &n[0], 32);
    assert!(q4.linears().iter().all(|l| l.stays_f32_because.is_none()));
    integer("all fit", &n[1], q4.linears().len());
    check("student q4_0", &n[2], mb(q4.size().total_bytes), 0.0);
    let n = stated(&t, "Even that is not much smaller, because ", 1);
    check(
        "student f32 parts",
        &n[0],
        mb(student.size().float_bytes),
        0.0,
    );
}

/// Largest magnitude of a slice.
fn max_abs(w: &[f32]) -> f32 {
    w.iter().fold(0.0, |m, &x| m.max(x.abs()))
}

#[test]
fn formats_states_the_outlier_of_the_bundled_model() {
    let (t, quiz) = (lesson(FORMATS), lesson("lab-formats.quiz.toml"));
    assert!(t.contains(&format!("In `{OUTLIER_LAYER}` the largest weight")));
    let model = Classifier::load(&bundled()).unwrap();
    let w = model
        .linear(OUTLIER_LAYER)
        .unwrap()
        .dequantized_weight()
        .unwrap();
    let (rows, cols) = model.linear(OUTLIER_LAYER).unwrap().dims();
    let mut row_max: Vec<f32> = w.chunks(cols).map(max_abs).collect();
    row_max.sort_by(f32::total_cmp);
    let largest = f64::from(max_abs(&w));
    let mean_abs = w.iter().map(|x| f64::from(x.abs())).sum::<f64>() / w.len() as f64;

    let n = stated(&t, "the largest weight has magnitude ", 1);
    check("largest weight", &n[0], largest, 0.0);
    let n = stated(&t, "while the median of the ", 2);
    integer("rows", &n[0], rows);
    check("median row maximum", &n[1], row_max[rows / 2].into(), 0.0);
    let n = stated(&t, "The int8-dynamic step is therefore ", 3);
    check("largest weight", &n[0], largest, 0.0);
    let step = largest / 127.5;
    check("step", &n[2], step, 0.0);
    let n = stated(&t, "larger than the layer's average magnitude, ", 1);
    check("mean |w|", &n[0], mean_abs, 0.0);
    assert!(step > mean_abs);

    // "Most of its weights are rounded to one of the three levels −1, 0 and 1".
    let int8 = model.quantize(Scheme::Int8Dynamic).unwrap();
    let Linear::Int8(layer) = int8.linear(OUTLIER_LAYER).unwrap() else {
        panic!("an int8 layer")
    };
    let small = layer.weight().iter().filter(|q| q.abs() <= 1).count();
    assert!(
        2 * small > layer.weight().len(),
        "{small} of {}",
        layer.weight().len()
    );

    let rounding = |scheme| {
        let q = model.quantize_only(OUTLIER_LAYER, scheme).unwrap();
        let d = q
            .linear(OUTLIER_LAYER)
            .unwrap()
            .dequantized_weight()
            .unwrap();
        let sq = d.iter().zip(&w).map(|(a, b)| f64::from(a - b).powi(2));
        sq.sum::<f64>() / w.len() as f64
    };
    let (tensor, channel) = (
        rounding(Scheme::Int8Dynamic),
        rounding(Scheme::Int8PerChannel),
    );
    let n = stated(&t, "the weights falls from ", 2);
    check("per-tensor rounding MSE", &n[0], tensor, MSE_SLACK);
    check("per-channel rounding MSE", &n[1], channel, MSE_SLACK);
    assert!(t.contains("about 170 times less"));
    assert_eq!(
        (tensor / channel / 10.0).round(),
        17.0,
        "{}",
        tensor / channel
    );
    let per_channel = model.quantize(Scheme::Int8PerChannel).unwrap();
    let extra = per_channel.size().total_bytes - int8.size().total_bytes;
    let n = stated(&t, "The cost is one more `float32` per row: ", 1);
    integer("per-channel bytes", &n[0], extra as usize);

    // The quiz's version: "4.44, while in most rows the largest is under 0.2".
    let n = stated(&quiz, "the largest weight has magnitude ", 2);
    check("quiz: largest weight", &n[0], largest, 0.0);
    let under = row_max
        .iter()
        .filter(|&&m| f64::from(m) < n[1].parse::<f64>().unwrap());
    assert!(2 * under.count() > rows);
}

/// The bundled model's head (`pre_classifier`, ReLU, `classifier`) on `rows` [CLS] vectors
/// at once, as one batched call of each Linear: the logits, row after row.
fn head(model: &Classifier, cls: &[Vec<f32>]) -> Vec<f32> {
    let dim = cls[0].len();
    let x = Tensor::from_vec(cls.concat(), (cls.len(), dim), &Device::Cpu).unwrap();
    let linear = |name: &str, x: &Tensor| model.linear(name).unwrap().forward(x).unwrap();
    let h = linear("pre_classifier", &x).relu().unwrap();
    let logits = linear("classifier", &h);
    logits.flatten_all().unwrap().to_vec1().unwrap()
}

/// The last hidden state at `[CLS]` for `text`, run alone and unpadded.
fn cls(model: &Classifier, text: &str) -> Vec<f32> {
    let ids = model.encode(text).unwrap().ids;
    let hidden = model.model().hidden_states(&ids).unwrap();
    hidden
        .narrow(1, 0, 1)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

#[test]
fn formats_states_how_batching_moves_int8_logits() {
    let (t, quiz) = (lesson(FORMATS), lesson("lab-formats.quiz.toml"));
    let f32_model = Classifier::load(&bundled()).unwrap();
    let int8 = f32_model.quantize(Scheme::Int8Dynamic).unwrap();
    assert!(t.contains(&format!("\"{TEXT}\" alone")) && t.contains(&format!("\"{OTHER}\"")));
    let n = stated(&t, "the bundled model does this ", 1);
    integer("quantized inputs per forward", &n[0], int8.linears().len());

    let (a, b) = (cls(&int8, TEXT), cls(&int8, OTHER));
    let alone = head(&int8, std::slice::from_ref(&a));
    assert_eq!(
        alone,
        int8.classify(TEXT).unwrap().logits,
        "the head is the model's"
    );
    let batched = head(&int8, &[a, b]);
    let n = stated(&t, "alone, giving logits ", 2);
    check("alone 0", &n[0], alone[0].into(), FORWARD_SLACK);
    check("alone 1", &n[1], alone[1].into(), FORWARD_SLACK);
    let n = stated(&t, &format!("\"{OTHER}\", giving "), 2);
    check("batched 0", &n[0], batched[0].into(), FORWARD_SLACK);
    check("batched 1", &n[1], batched[1].into(), FORWARD_SLACK);
    let moved = f64::from((batched[0] - alone[0]).abs());
    let n = stated(&t, "The first logit moved by ", 1);
    check("moved by batching", &n[0], moved, MSE_SLACK);
    let f32_logits = f32_model.classify(TEXT).unwrap().logits;
    let by_int8 = f64::from((alone[0] - f32_logits[0]).abs());
    let n = stated(&t, "moved it away from `float32` (", 1);
    check("moved by int8", &n[0], by_int8, MSE_SLACK);
    assert!(moved > by_int8);
    assert!(quiz.contains(&format!(
        "moved a logit by {}",
        stated(&t, "The first logit moved by ", 1)[0]
    )));

    // "In `float32` the other row moves them by less than 1e-6".
    let n = stated(&t, "In `float32` the other row moves them by less than ", 1);
    let bound: f32 = n[0].parse().unwrap();
    let (a, b) = (cls(&f32_model, TEXT), cls(&f32_model, OTHER));
    let alone = head(&f32_model, std::slice::from_ref(&a));
    let batched = head(&f32_model, &[a, b]);
    assert!(metrics::max_abs_diff(&alone, &batched[..2]).unwrap() < bound);
}

/// docs/BENCHMARKS.md, as written.
fn benchmarks() -> String {
    let path = root().join("docs/BENCHMARKS.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn measuring_speed_figures_are_the_ones_in_benchmarks() {
    let (md, bench) = (raw(MEASURING), benchmarks());
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let (t, bench_flat) = (lesson(MEASURING), flat(&bench));
    let header = "| where | model | tokens | scheme | median ms | f32 / scheme |";
    let (_, table) = md.split_once(header).expect("the speed table");
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
    assert!(rows.len() >= 8);
    let bench_row = |r: &[&str]| table_row(&bench, &r[..4]);
    for r in &rows {
        let b = bench_row(r);
        assert_eq!(
            (r[4], r[5]),
            (b[4].as_str(), b[7].as_str()),
            "{r:?} vs {b:?}"
        );
    }
    // The prose's ratios and its reading of them.
    let ratio = |r: &[&str]| {
        bench_row(r)[7]
            .trim_end_matches('x')
            .parse::<f64>()
            .unwrap()
    };
    let native8 = |s| ratio(&["native", "student", "8", s]);
    let native64 = |s| ratio(&["native", "student", "64", s]);
    let n = stated(&t, "Longer inputs shrink the gain** (", 4);
    check("int8 at 8 tokens", &n[0], native8("int8-dynamic"), 0.0);
    check("int8 at 64 tokens", &n[2], native64("int8-dynamic"), 0.0);
    assert_eq!((n[1].as_str(), n[3].as_str()), ("8", "64"));
    assert!(native8("f16") < 1.0 && native8("q4_0") <= 1.0 && native8("q5_0") < 0.25);
    for tokens in ["8", "64"] {
        let fastest = Scheme::ALL
            .iter()
            .max_by(|a, b| {
                let r = |s: &Scheme| ratio(&["native", "student", tokens, s.name()]);
                r(a).total_cmp(&r(b))
            })
            .unwrap();
        assert!(
            fastest.name().starts_with("int8"),
            "{tokens} tokens: {fastest}"
        );
    }
    // Figures quoted in the text, and where they were measured.
    for phrase in [
        "an 8-token f32 forward took 19 ms instead of ~1 ms because its threads wait on each other",
        "2 vCPU AMD EPYC VM",
        "AVX512-VNNI",
        "`vpdpbusd` multiplies 64 u8 × i8 pairs per instruction",
        "`i32x4.dot_i16x8_s` + `i32x4.add` do 8 multiply-adds",
        "Every squeeze measurement below is single-threaded",
    ] {
        assert!(bench_flat.contains(phrase), "BENCHMARKS.md: `{phrase}`");
    }
    assert!(t.contains("taken on one 2-core machine"));
    // The threaded worker's figures in the lesson are the ones BENCHMARKS.md measured.
    for (lesson, bench) in [
        ("got 1.62x faster in `float32`", "f32 1.62x"),
        (
            "and 1.67x in int8",
            "**Teacher 64-token int8 on 2 threads: 1.67x**",
        ),
        ("8-token int8 forward 1.43x", "gains 1.43x (3.96 → 2.76"),
    ] {
        assert!(t.contains(lesson), "lesson: `{lesson}`");
        assert!(bench_flat.contains(bench), "BENCHMARKS.md: `{bench}`");
    }
    // The GGML kernel's browser ratios: the lowest and highest of BENCHMARKS.md's runs.
    let kernel = bench
        .split_once("| tokens | scheme | before: f32 → scheme, four runs | after, four runs |")
        .expect("BENCHMARKS.md: the GGML kernel's before/after table")
        .1;
    let after: Vec<f64> = kernel
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            (cells[0].to_string(), cells[3].trim_matches('*').to_string())
        })
        .flat_map(|(tokens, runs)| {
            runs.trim_end_matches('x')
                .split('/')
                .map(|r| (tokens.clone(), r.trim().parse::<f64>().unwrap()))
                .collect::<Vec<_>>()
        })
        .map(|(tokens, r)| if tokens == "8" { r } else { -r })
        .collect();
    let range = |sign: f64| {
        let v: Vec<f64> = after
            .iter()
            .filter(|r| r.signum() == sign)
            .map(|r| r.abs())
            .collect();
        let lo = v.iter().copied().fold(f64::MAX, f64::min);
        let hi = v.iter().copied().fold(f64::MIN, f64::max);
        (lo, hi)
    };
    // "… 1.82x to 3.94x at 8 tokens and 1.06x to 1.35x at 64".
    let n = stated(&t, "every GGML scheme is faster than `float32`: ", 6);
    let (lo8, hi8) = range(1.0);
    let (lo64, hi64) = range(-1.0);
    assert_eq!((n[2].as_str(), n[5].as_str()), ("8", "64"));
    check("GGML kernel low, 8 tokens", &n[0], lo8, 0.0);
    check("GGML kernel high, 8 tokens", &n[1], hi8, 0.0);
    check("GGML kernel low, 64 tokens", &n[3], lo64, 0.0);
    check("GGML kernel high, 64 tokens", &n[4], hi64, 0.0);
    assert!(
        lo8 > 1.0 && lo64 > 1.0,
        "a GGML scheme slower than f32 in the browser"
    );
    let n = stated(&t, "(the 6-layer teacher), took ", 2);
    assert_eq!(table_row(&bench, &["8", "f32"])[2], n[0]);
    assert_eq!(table_row(&bench, &["8", "int8-dynamic (qint8)"])[2], n[1]);
    let quiz = lesson("lab-measuring.quiz.toml");
    // "… took 1.580 ms per 8-token sentence in `float32`, 0.636 ms with …"
    let n = stated(&quiz, "the bundled model took ", 4);
    let ms = |s| table_row(&bench, &["native", "student", "8", s])[4].clone();
    assert_eq!(
        [&n[0], &n[2], &n[3]],
        [&ms("f32"), &ms("int8-dynamic"), &ms("q4_0")]
    );
}

/// One scheme of the bundled model on the held-out set, against f32.
struct Held {
    correct: usize,
    agree: usize,
    right_to_wrong: usize,
    wrong_to_right: usize,
    /// Mean over sentences of the logit MSE against f32.
    mse: f64,
}

fn held_out(file: &str) -> Vec<Labelled> {
    let path = root().join("data/sentiment").join(file);
    parse_tsv(file, &std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn measuring_states_the_held_out_evaluation() {
    let (t, md) = (lesson(MEASURING), raw(MEASURING));
    let rows = held_out("test.tsv");
    let f32_model = Classifier::load(&bundled()).unwrap();
    let encs: Vec<_> = rows
        .iter()
        .map(|r| f32_model.encode(&r.text).unwrap())
        .collect();
    let base: Vec<Vec<f32>> = encs.iter().map(|e| f32_model.logits(e).unwrap()).collect();
    let right = |logits: &[f32], r: &Labelled| metrics::argmax(logits) == r.label;
    let run = |scheme| {
        let q = f32_model.quantize(scheme).unwrap();
        let mut h = Held {
            correct: 0,
            agree: 0,
            right_to_wrong: 0,
            wrong_to_right: 0,
            mse: 0.0,
        };
        for ((e, r), b) in encs.iter().zip(&rows).zip(&base) {
            let l = q.logits(e).unwrap();
            let (was, is) = (right(b, r), right(&l, r));
            h.correct += usize::from(is);
            h.agree += usize::from(metrics::argmax(b) == metrics::argmax(&l));
            h.right_to_wrong += usize::from(was && !is);
            h.wrong_to_right += usize::from(!was && is);
            h.mse += f64::from(metrics::mse(b, &l).unwrap()) / rows.len() as f64;
        }
        h
    };
    let n = rows.len();
    let correct = base.iter().zip(&rows).filter(|(b, r)| right(b, r)).count();
    let p = correct as f64 / n as f64;
    let half = 1.96 * (p * (1.0 - p) / n as f64).sqrt();

    let s = stated(&t, "`data/sentiment/test.tsv`, has ", 2);
    integer("sentences", &s[0], n);
    check("one sentence", &s[1], 100.0 / n as f64, 0.0);
    let s = stated(&t, "model gets ", 2);
    integer("f32 correct", &s[0], correct);
    check("f32 accuracy", &s[1], 100.0 * p, 0.0);
    let s = stated(&t, "print(interval(", 4);
    integer("snippet: correct", &s[0], correct);
    integer("snippet: n", &s[1], n);
    check("snippet: low", &s[2], p - half, 0.0);
    check("snippet: high", &s[3], p + half, 0.0);
    let s = stated(&t, "could be anywhere from ", 3);
    check("low", &s[0], 100.0 * (p - half), 0.0);
    check("high", &s[1], 100.0 * (p + half), 0.0);
    check("half width", &s[2], 100.0 * half, 0.0);
    let s = stated(&t, "±3.9 points. The ", 1);
    integer("Train page held-out", &s[0], held_out("dev.tsv").len());
    let quiz = lesson("lab-measuring.quiz.toml");
    assert!(quiz.contains(&format!("about ±{:.1} points", 100.0 * half)));

    let f32_row = table_row(&md, &["`f32`"]);
    integer("table: f32 correct", &f32_row[1], correct);
    let int8 = run(Scheme::Int8Dynamic);
    let q4 = run(Scheme::Q4_0);
    for (name, h) in [("int8-dynamic", &int8), ("q4_0", &q4)] {
        let r = table_row(&md, &[&format!("`{name}`")]);
        integer(name, &r[1], h.correct);
        check(
            name,
            r[2].trim_end_matches('%'),
            100.0 * h.agree as f64 / n as f64,
            0.0,
        );
        integer(name, &r[3], h.right_to_wrong);
        integer(name, &r[4], h.wrong_to_right);
        check(name, &r[5], h.mse, MSE_SLACK);
        // Two classes: every changed label is a flip of right and wrong.
        assert_eq!(n - h.agree, h.right_to_wrong + h.wrong_to_right);
        let agreement = format!("{:.2}%", 100.0 * h.agree as f64 / n as f64);
        assert!(quiz.contains(&agreement) && quiz.contains(&format!("{} of {n}", h.correct)));
    }
    let s = stated(&t, "`int8-dynamic` is \"", 1);
    check(
        "int8 gain",
        &s[0],
        100.0 * (int8.correct - correct) as f64 / n as f64,
        0.0,
    );
    let s = stated(&t, "better\" than `float32` because ", 1);
    integer("int8 flips", &s[0], n - int8.agree);
    assert_eq!(int8.right_to_wrong, 0, "both flips go from wrong to right");
    // Two flips the same way: probability 2 · (1/2)² = 1/2, "half the time".
    assert_eq!(n - int8.agree, 2);
    assert!(t.contains("what a fair coin gives half the time"));
    assert!(t.contains("with twice as many flips, one of them from right to wrong"));
    assert_eq!((n - q4.agree, q4.right_to_wrong), (2 * (n - int8.agree), 1));
    assert_eq!(q4.correct, int8.correct);

    let mean_square = base
        .iter()
        .flatten()
        .map(|&x| f64::from(x).powi(2))
        .sum::<f64>()
        / (2 * n) as f64;
    let s = stated(&t, "have a mean square of ", 3);
    check("mean square", &s[0], mean_square, FORWARD_SLACK);
    check("int8 mean MSE", &s[1], int8.mse, MSE_SLACK);
    check("relative", &s[2], int8.mse / mean_square, MSE_SLACK);
    assert!(quiz.contains(&format!("mean square of {}", s[0])));
}

#[test]
fn measuring_console_command_runs() {
    let md = raw(MEASURING);
    let (_, rest) = md
        .split_once("```console\nsqueeze ")
        .expect("a console block");
    let (line, _) = rest.split_once('\n').unwrap();
    let (command, text) = line.split_once(" \"").unwrap();
    let o = squeeze(&[command, text.trim_end_matches('"')]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for s in Scheme::ALL {
        assert!(
            out.lines().any(|l| l.starts_with(&format!("{s} "))),
            "{s}: {out}"
        );
    }
}
