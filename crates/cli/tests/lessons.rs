//! What `lessons/` states about squeeze's own runs, recomputed. Every such number is read
//! out of the lesson text and compared with the engine's, so a changed model or recipe
//! fails here instead of leaving a stale sentence. The Rust program that
//! lessons/hands-on.md shows is compiled and run here too.
//!
//! A number matches when it is the computed value to the digits the lesson writes, plus a
//! relative slack: [`FORWARD_SLACK`] for one forward pass, [`TRAINING_SLACK`] for numbers
//! after many training steps.

mod common;

use std::sync::OnceLock;

use common::lessons::{bundled, check, half_unit, integer, lesson, raw, stated};
use common::{squeeze, stderr};
use engine::ModelFiles;

/// One forward pass: another CPU may sum some floats in another order.
const FORWARD_SLACK: f64 = 1e-4;
/// An MSE between nearly equal logits, where one flipped rounding moves it by a few percent.
const MSE_SLACK: f64 = 0.03;
/// After 100 training steps the float-order differences of each step add up; a changed
/// model, recipe or batch order moves these numbers by tens of percent.
const TRAINING_SLACK: f64 = 0.02;

/// The command lessons/distillation.md gives for the numbers it states.
const DISTILL: [&str; 5] = ["distill", "--steps", "100", "--seed", "7"];
/// The lesson's sentence.
const TEXT: &str = "I love learning about AI!";

/// The Rust program of lessons/hands-on.md: the lines between the markers are the lesson's
/// code block, verbatim (minus this indentation).
fn hands_on_program(files: ModelFiles) -> engine::Result<()> {
    // lesson hands-on.md: start
    use engine::{metrics, Classifier, Scheme};

    let model = Classifier::load(&files)?; // f32, from the three files' bytes
    let int8 = model.quantize(Scheme::Int8Dynamic)?; // a new model; `model` is unchanged

    let text = "I love learning about AI!";
    let before = model.classify(text)?;
    let after = int8.classify(text)?;
    println!("f32 logits:  {:?}", before.logits);
    println!("int8 logits: {:?}", after.logits);
    println!("MSE: {:e}", metrics::mse(&before.logits, &after.logits)?);
    // lesson hands-on.md: end
    Ok(())
}

#[test]
fn numbers_are_read_as_written() {
    let text = "its f32 logits `[-1.87, 1.9]` and int8 MSE `8.8e-06`, step 30. Not 4";
    assert_eq!(
        stated(text, "its f32 ", 4),
        ["-1.87", "1.9", "8.8e-06", "30"]
    );
    assert_eq!(half_unit("0.585"), 0.0005);
    assert_eq!(half_unit("87"), 0.5);
    assert!((half_unit("8.8e-06") - 5e-8).abs() < 1e-20);
}

#[test]
fn the_rust_program_of_hands_on_is_the_one_compiled_here_and_runs() {
    let source = include_str!("lessons.rs");
    let (_, rest) = source
        .split_once("    // lesson hands-on.md: start\n")
        .expect("start marker");
    let (body, _) = rest
        .split_once("    // lesson hands-on.md: end\n")
        .expect("end marker");
    let here: String = body
        .lines()
        .map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l)))
        .collect();
    let md = raw("hands-on.md");
    let (_, rest) = md.split_once("```rust\n").expect("a rust block");
    let (shown, _) = rest.split_once("```").expect("its end");
    assert_eq!(shown, here, "lessons/hands-on.md shows another program");
    hands_on_program(bundled()).expect("the program runs on the bundled model");
}

#[test]
fn hands_on_states_the_bundled_models_logits_and_mse_for_the_sentence() {
    let md = lesson("hands-on.md");
    let f32_model = engine::Classifier::load(&bundled()).unwrap();
    let int8 = f32_model.quantize(engine::Scheme::Int8Dynamic).unwrap();
    let c = engine::compare(&f32_model, &int8, TEXT).unwrap();
    let (a, b) = (&c.f32.logits, &c.quantized.logits);
    let mean_square = a.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / a.len() as f64;
    let mse = f64::from(c.mse);

    let n = stated(&md, "for the same sentence its f32 logits are ", 7);
    check("f32 logit 0", &n[0], a[0].into(), FORWARD_SLACK);
    check("f32 logit 1", &n[1], a[1].into(), FORWARD_SLACK);
    check("int8 logit 0", &n[2], b[0].into(), FORWARD_SLACK);
    check("int8 logit 1", &n[3], b[1].into(), FORWARD_SLACK);
    check("MSE", &n[4], mse, MSE_SLACK);
    check(
        "mean square of the f32 logits",
        &n[5],
        mean_square,
        FORWARD_SLACK,
    );
    check("MSE / mean square", &n[6], mse / mean_square, MSE_SLACK);

    // "the int8 model is smaller, though not 4× smaller"
    let (f, q) = (f32_model.size().total_bytes, int8.size().total_bytes);
    assert!(q < f && 4 * q > f, "f32 {f} bytes, int8 {q} bytes");
}

#[test]
fn hands_on_pytorch_figures_agree_with_their_own_arithmetic() {
    // PyTorch's logits come from tools/reference (by hand); what the lesson derives from
    // them is checked here.
    let md = lesson("hands-on.md");
    let n = stated(&md, "PyTorch printed f32 logits ", 6);
    let v: Vec<f64> = n.iter().map(|s| s.parse().unwrap()).collect();
    let mse = ((v[0] - v[2]).powi(2) + (v[1] - v[3]).powi(2)) / 2.0;
    let mean_square = (v[0].powi(2) + v[1].powi(2)) / 2.0;
    check("MSE of the printed logits", &n[4], mse, 0.01);
    let n2 = stated(&md, "with a mean square of only about ", 1);
    check("their mean square", &n2[0], mean_square, 0.01);
    assert!(md.contains("The error is a third of that, and the first logit even changes sign."));
    assert!(
        (mse / mean_square * 3.0 - 1.0).abs() < 0.1,
        "a third: {}",
        mse / mean_square
    );
    assert!(v[0] > 0.0 && v[2] < 0.0, "the first logit changes sign");
}

/// `squeeze distill --steps 100 --seed 7 --json`, the run lessons/distillation.md states.
struct Run {
    /// Training loss of steps 1, 2, ….
    loss: Vec<f64>,
    /// `(step, held-out loss)`, every 10 steps from 0.
    held: Vec<(usize, f64)>,
    json: serde_json::Value,
}

impl Run {
    fn loss_at(&self, step: &str) -> f64 {
        self.loss[step.parse::<usize>().expect("a step") - 1]
    }

    fn held_at(&self, step: &str) -> f64 {
        let step: usize = step.parse().expect("a step");
        let found = self.held.iter().find(|h| h.0 == step);
        found
            .unwrap_or_else(|| panic!("no held-out loss at step {step}"))
            .1
    }

    fn number(&self, pointer: &str) -> f64 {
        let v = self.json.pointer(pointer);
        v.and_then(serde_json::Value::as_f64)
            .unwrap_or_else(|| panic!("{pointer}"))
    }
}

/// The lesson's run, made once for all the tests that read it (about half a minute).
fn seed_7() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let o = squeeze(&[&DISTILL[..], &["--json"]].concat());
        assert!(o.status.success(), "{}", stderr(&o));
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
        let f = |x: &serde_json::Value| x.as_f64().expect("a number");
        let loss = json["loss"].as_array().unwrap().iter().map(f).collect();
        let held = json["held_out"].as_array().unwrap().iter();
        let held = held
            .map(|p| (p[0].as_u64().unwrap() as usize, f(&p[1])))
            .collect();
        Run { loss, held, json }
    })
}

#[test]
fn distillation_shows_the_command_and_the_setting_of_its_run() {
    let t = &lesson("distillation.md");
    let command = format!("$ squeeze {}\n", DISTILL.join(" "));
    assert!(
        raw("distillation.md").contains(&command),
        "the lesson shows `{command}`"
    );
    let run = seed_7();

    let teacher = engine::Config::from_json(&bundled().config).unwrap();
    let n = stated(t, "squeeze's bundled model (", 2);
    integer("teacher layers", &n[0], teacher.n_layers);
    integer("teacher width", &n[1], teacher.dim);
    assert!(t.contains("one layer instead of two"));
    assert_eq!(run.json["config"]["layers"], 1);
    let batch = run.number("/config/batch") as usize;
    integer("batch", &stated(t, "logits on the ", 1)[0], batch);
    let curve = engine::distill::live::HELD_OUT_CURVE_SENTENCES;
    integer(
        "held-out curve",
        &stated(t, "the same MSE on ", 1)[0],
        curve,
    );
}

#[test]
fn distillation_states_the_training_loss_of_seed_7() {
    let (t, run, s) = (&lesson("distillation.md"), seed_7(), TRAINING_SLACK);
    check(
        "first loss",
        &stated(t, "it starts at ", 1)[0],
        run.loss[0],
        s,
    );
    let n = stated(t, "harder to copy than others — step ", 4);
    check("a low step", &n[1], run.loss_at(&n[0]), s);
    check("the next, high step", &n[3], run.loss_at(&n[2]), s);
    let n = stated(t, "Over steps ", 3);
    check("late mean loss", &n[2], late_loss(run, &n[0], &n[1]), s);
}

/// Mean training loss of steps `from..=to`.
fn late_loss(run: &Run, from: &str, to: &str) -> f64 {
    let (from, to) = (from.parse::<usize>().unwrap(), to.parse::<usize>().unwrap());
    run.loss[from - 1..to].iter().sum::<f64>() / (to - from + 1) as f64
}

#[test]
fn distillation_states_the_held_out_loss_of_seed_7_falls_to_its_best_step() {
    let (t, run, s) = (&lesson("distillation.md"), seed_7(), TRAINING_SLACK);
    let n = stated(t, "the orange line falls from ", 3);
    check("held-out at step 0", &n[0], run.held_at("0"), s);
    check("held-out at the best step", &n[1], run.held_at(&n[2]), s);
    // "… the lowest of the run": no held-out measurement of the 100 steps is lower.
    let best = n[2].parse::<usize>().unwrap();
    let lowest = run
        .held
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("a held-out curve");
    assert_eq!(lowest.0, best, "the lowest held-out loss: {:?}", run.held);
    // "… and stays close: 0.356 at step 90, 0.353 at step 100."
    let after = stated(t, "and stays close: ", 4);
    check(
        "held-out after the best",
        &after[0],
        run.held_at(&after[1]),
        s,
    );
    check("held-out at the end", &after[2], run.held_at(&after[3]), s);
    // The run's transfer text: the training sentences and their variants.
    let n = stated(t, "The student learns from ", 2);
    integer(
        "transfer sentences",
        &n[0],
        run.number("/train_sentences") as usize,
    );
    integer(
        "training sentences",
        &n[1],
        engine::distill::live::TRAIN_SENTENCES,
    );
    assert_eq!(
        run.number("/train_sentences") as usize,
        (1 + engine::distill::live::VARIANTS_PER_SENTENCE) * engine::distill::live::TRAIN_SENTENCES,
        "every variant is used"
    );
    assert!(t.contains("and four variants of each"));
    assert_eq!(engine::distill::live::VARIANTS_PER_SENTENCE, 4);
}

#[test]
fn distillation_states_the_evaluation_after_seed_7() {
    let (t, run, s) = (&lesson("distillation.md"), seed_7(), TRAINING_SLACK);
    let n = stated(t, "the student agrees with its teacher on ", 2);
    check("agreement %", &n[0], 100.0 * run.number("/agreement"), s);
    integer("held-out sentences", &n[1], run.number("/eval/n") as usize);
    let sq = run.number("/eval/mse_student_quantized");
    let ts = run.number("/eval/mse_teacher_student");
    check(
        "student-int8 MSE",
        &stated(t, "`int8-dynamic` copy, ", 1)[0],
        sq,
        s,
    );
    check(
        "teacher-student MSE",
        &stated(t, "between teacher and student, ", 1)[0],
        ts,
        s,
    );
    // "about fifteen hundred times": 1500 to two significant figures.
    assert!((1450.0..1550.0).contains(&(ts / sq)), "ratio {}", ts / sq);
    assert!(t.contains("about fifteen hundred times smaller"));
    assert!(lesson("distillation.quiz.toml").contains("about fifteen hundred times less"));
}
