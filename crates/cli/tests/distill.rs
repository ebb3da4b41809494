//! `squeeze distill` as a user runs it: the live run on the bundled teacher, in JSON.

use std::path::PathBuf;
use std::process::Command;

fn distill(args: &[&str]) -> serde_json::Value {
    let o = Command::new(env!("CARGO_BIN_EXE_squeeze"))
        .arg("distill")
        .args(args)
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .output()
        .expect("squeeze runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("one JSON object")
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

#[test]
fn thirty_steps_of_seed_7_lower_the_loss_by_a_fifth_and_repeat_exactly() {
    let args = ["--steps", "30", "--seed", "7", "--json"];
    let v = distill(&args);
    let loss = floats(&v["loss"]);
    assert_eq!(loss.len(), 30, "one loss per step");
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
    let (first, last) = (loss[0], loss[29]);
    assert!(last <= 0.8 * first, "loss {first} -> {last}");
    // Not one lucky batch: the last five steps average well under the first five.
    assert!(
        mean(&loss[25..]) <= 0.8 * mean(&loss[..5]),
        "first five {:?}, last five {:?}",
        &loss[..5],
        &loss[25..]
    );
    let held: Vec<f64> = v["held_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_f64().unwrap())
        .collect();
    assert!(held.last().unwrap() < &held[0], "held-out {held:?}");
    let agreement = v["agreement"].as_f64().unwrap();
    assert!((0.5..=1.0).contains(&agreement), "agreement {agreement}");
    let models = v["eval"]["models"].as_array().unwrap();
    assert_eq!(models.len(), 3);
    assert!(models[1]["bytes"].as_u64() < models[0]["bytes"].as_u64());

    // The seed fixes the curve.
    let again = floats(&distill(&args)["loss"]);
    assert_eq!(loss, again);
}

#[test]
fn a_width_that_is_not_a_multiple_of_32_is_refused_by_name() {
    let o = Command::new(env!("CARGO_BIN_EXE_squeeze"))
        .args(["distill", "--steps", "1", "--dim", "100"])
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .output()
        .expect("squeeze runs");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("width must be a multiple of 32"), "{err}");
}
