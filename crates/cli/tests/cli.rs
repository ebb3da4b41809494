//! The `squeeze` binary as a user runs it: real model folders, real exit codes.

mod common;

use common::{root, squeeze, stderr};

fn tiny() -> String {
    common::tiny().display().to_string()
}

#[test]
fn classify_json_reports_int8_and_f32_logits_and_their_mse() {
    let o = squeeze(&[
        "classify",
        "--model",
        &tiny(),
        "--scheme",
        "int8-dynamic",
        "--json",
        "I love learning about AI!",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let r = &v[0];
    assert_eq!(r["scheme"], "int8-dynamic");
    assert_eq!(r["logits"].as_array().unwrap().len(), 2);
    assert_eq!(r["f32_logits"].as_array().unwrap().len(), 2);
    let mse = r["mse"].as_f64().unwrap();
    assert!(mse > 0.0 && mse < 1e-2, "mse {mse}");
    assert!(["NEGATIVE", "POSITIVE"].contains(&r["label"].as_str().unwrap()));
}

#[test]
fn eval_json_has_accuracy_n_and_agreement() {
    let dir = std::env::temp_dir().join(format!("squeeze-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("d.tsv");
    std::fs::write(
        &data,
        "label\ttext\n1\tI loved it\n0\tawful and boring\n1\tgreat 🎉\n",
    )
    .unwrap();
    let o = squeeze(&[
        "eval",
        "--model",
        &tiny(),
        "--scheme",
        "int8-dynamic",
        "--data",
        data.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["n"], 3);
    let acc = v["accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&acc));
    let agree = v["agreement_with_f32"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&agree));
}

#[test]
fn compare_json_lists_every_scheme() {
    let o = squeeze(&[
        "compare",
        "--model",
        &tiny(),
        "--runs",
        "2",
        "--json",
        "not bad at all",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let schemes = v["schemes"].as_array().unwrap();
    assert_eq!(schemes.len(), engine::Scheme::ALL.len());
    assert_eq!(schemes[0]["mse_vs_f32"], 0.0);
    assert!(schemes[1]["bytes"].as_u64().unwrap() < schemes[0]["bytes"].as_u64().unwrap());
}

#[test]
fn garbage_safetensors_exits_non_zero_with_one_line_and_no_panic() {
    let dir = std::env::temp_dir().join(format!("squeeze-garbage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["config.json", "tokenizer.json"] {
        std::fs::copy(root().join("tests/fixtures/tiny").join(f), dir.join(f)).unwrap();
    }
    std::fs::write(
        dir.join("model.safetensors"),
        b"\x10\x00\x00\x00\x00\x00\x00\x00garbage!garbage!",
    )
    .unwrap();
    let o = squeeze(&["classify", "--model", dir.to_str().unwrap(), "hello"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.starts_with("squeeze: "), "{err}");
    assert!(
        err.contains("model.safetensors: not a readable safetensors file"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn empty_text_and_unknown_scheme_are_clear_errors() {
    let o = squeeze(&["classify", "--model", &tiny(), "   "]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("the text is empty"), "{}", stderr(&o));
    let o = squeeze(&["classify", "--model", &tiny(), "--scheme", "int3", "hi"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("unknown scheme `int3`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn recipe_fits_its_budget_writes_json_and_judges_on_the_held_out_set() {
    let dir = std::env::temp_dir().join(format!("squeeze-recipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("d.tsv");
    std::fs::write(&data, "label\ttext\n1\tI loved it\n0\tawful and boring\n").unwrap();
    let out = dir.join("recipe.json");
    let sens = dir.join("sensitivity.json");
    let data = data.to_str().unwrap();
    let model = tiny();
    let args = |budget: &[&str]| {
        let mut a = vec!["recipe", "--model", &model, "--dev", data, "--test", data];
        a.extend_from_slice(budget);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let run = |a: Vec<String>| squeeze(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let mut a = args(&["--no-larger-than", "int8-dynamic", "--json"]);
    a.extend(["--out".into(), out.display().to_string()]);
    a.extend(["--sensitivity".into(), sens.display().to_string()]);
    let o = run(a);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = v["held_out"].as_array().unwrap();
    let bytes = |name: &str| {
        rows.iter().find(|r| r["model"] == name).unwrap()["bytes"]
            .as_u64()
            .unwrap()
    };
    assert!(bytes("recipe") <= bytes("int8-dynamic"));
    assert_eq!(rows.len(), 2 + engine::Scheme::ALL.len() - 1);
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(file["format"], "squeeze-recipe");
    assert_eq!(file["bytes"].as_u64(), Some(bytes("recipe")));
    assert!(sens.exists());

    // Reusing the measured sensitivity; the table names every layer.
    let mut a = args(&["--max-error", "1e-3"]);
    a.extend(["--sensitivity".into(), sens.display().to_string()]);
    let o = run(a);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("transformer.layer.0.ffn.lin1"), "{text}");
    assert!(text.contains("held out:"), "{text}");

    let o = run(args(&["--budget-mb", "0.001"]));
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.starts_with("squeeze: no recipe fits a budget of 1000 bytes"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}
