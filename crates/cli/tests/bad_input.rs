//! Hostile and unusual input through the `squeeze` binary: odd texts classify (or are
//! refused with a reason), broken model folders exit 1 with one line on stderr, and
//! nothing ever panics.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use common::{root, squeeze, stderr, tiny};

/// Exit code 1, one line on stderr starting `squeeze: ` and containing `needle`, no panic.
fn assert_one_line_error(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.starts_with("squeeze: "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(needle), "expected `{needle}` in: {err}");
}

/// Classifies `text` with `--json`; returns the one result object.
fn classify_json(model: &Path, text: &str) -> serde_json::Value {
    let o = squeeze(&[
        "classify",
        "--model",
        model.to_str().unwrap(),
        "--json",
        text,
    ]);
    assert!(o.status.success(), "{text:?}: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    v[0].clone()
}

/// A fresh copy of the tiny model folder, to be broken by the test.
fn model_copy(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("squeeze-bad-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["config.json", "tokenizer.json", "model.safetensors"] {
        std::fs::copy(tiny().join(f), dir.join(f)).unwrap();
    }
    dir
}

fn classify_dir(dir: &Path) -> Output {
    squeeze(&["classify", "--model", dir.to_str().unwrap(), "hello"])
}

#[test]
fn text_past_512_tokens_is_truncated_and_the_output_says_so() {
    let model = root().join("www/models/default");
    let text = "good ".repeat(700);
    let r = classify_json(&model, &text);
    assert_eq!(r["truncated"], true);
    assert_eq!(r["tokens"], 512);
    assert_eq!(r["original_tokens"], 702, "700 words + [CLS] + [SEP]");
    let o = squeeze(&["classify", "--model", model.to_str().unwrap(), &text]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("512 (truncated: the text has 702 tokens, the model reads the first 512)"),
        "{out}"
    );
}

#[test]
fn blank_texts_are_refused_with_a_reason() {
    for text in ["", " ", "\t\n \r\n", "\u{a0}\u{2003}"] {
        let o = squeeze(&["classify", "--model", tiny().to_str().unwrap(), text]);
        assert_one_line_error(&o, "the text is empty: type a sentence");
    }
}

#[test]
fn control_characters_emoji_cjk_and_rtl_classify() {
    // No NUL: an argv string cannot hold one (the engine's tests and the fuzzer cover it).
    for text in [
        "bell\u{7}esc\u{1b}[31m del\u{7f} back\u{8}space",
        "😀🎉👍🏽 great",
        "这个模型很好",
        "素晴らしい映画でした",
        "هذا رائع جدا",
        "זה נהדר",
        "mixed: good \u{202e}reversed\u{202c} 好 😀",
    ] {
        let r = classify_json(&tiny(), text);
        assert_eq!(r["text"], text);
        let p: Vec<f64> = r["probabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert!(
            (p.iter().sum::<f64>() - 1.0).abs() < 1e-4,
            "{text:?}: {p:?}"
        );
        assert!(
            r["tokens"].as_u64().unwrap() >= 3,
            "{text:?}: [CLS] x [SEP]"
        );
    }
}

#[test]
fn a_100_kb_text_classifies_truncated() {
    let text = "the movie was long but fine. ".repeat(3600);
    assert!(text.len() > 100_000);
    let r = classify_json(&tiny(), &text);
    assert_eq!(r["truncated"], true);
    assert_eq!(r["tokens"], 64, "the tiny model's 64 positions");
    assert!(r["original_tokens"].as_u64().unwrap() > 10_000);
}

#[test]
fn files_of_the_wrong_type_are_named_in_one_line() {
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01";
    let dir = model_copy("wrong-config");
    std::fs::write(dir.join("config.json"), png).unwrap();
    assert_one_line_error(&classify_dir(&dir), "config.json: not valid JSON");

    let dir = model_copy("wrong-tokenizer");
    std::fs::write(dir.join("tokenizer.json"), png).unwrap();
    assert_one_line_error(&classify_dir(&dir), "tokenizer.json: not UTF-8 text");

    let dir = model_copy("json-tokenizer");
    std::fs::write(dir.join("tokenizer.json"), "{\"hello\": 1}").unwrap();
    assert_one_line_error(&classify_dir(&dir), "tokenizer.json: not a tokenizer");

    let dir = model_copy("wrong-weights");
    std::fs::copy(tiny().join("config.json"), dir.join("model.safetensors")).unwrap();
    assert_one_line_error(
        &classify_dir(&dir),
        "model.safetensors: not a readable safetensors file",
    );

    let dir = model_copy("not-a-dir");
    let file = dir.join("config.json");
    let o = squeeze(&["classify", "--model", file.to_str().unwrap(), "hi"]);
    assert_one_line_error(&o, "not a model folder");
}

#[test]
fn a_truncated_safetensors_is_refused() {
    let dir = model_copy("truncated");
    let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
    for keep in [4, 100, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(dir.join("model.safetensors"), &bytes[..keep]).unwrap();
        assert_one_line_error(
            &classify_dir(&dir),
            "model.safetensors: not a readable safetensors file",
        );
    }
}

#[test]
fn a_shape_mismatch_names_the_tensor_and_both_shapes() {
    let dir = model_copy("shape");
    let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
    std::fs::write(
        dir.join("config.json"),
        config.replace("\"hidden_dim\": 128", "\"hidden_dim\": 96"),
    )
    .unwrap();
    assert_one_line_error(
        &classify_dir(&dir),
        "ffn.lin1.weight` has shape [128, 64], config.json implies [96, 64]",
    );
}

/// Writes `value` over the first f32 of `tensor` in a safetensors file.
fn poke_f32(path: &Path, tensor: &str, value: f32) {
    let mut bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let start = header[tensor]["data_offsets"][0].as_u64().unwrap() as usize + 8 + n;
    bytes[start..start + 4].copy_from_slice(&value.to_le_bytes());
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn nan_and_infinite_weights_are_refused() {
    for (value, what) in [
        (f32::NAN, "nan"),
        (f32::INFINITY, "inf"),
        (f32::NEG_INFINITY, "-inf"),
    ] {
        let dir = model_copy(what);
        poke_f32(
            &dir.join("model.safetensors"),
            "pre_classifier.weight",
            value,
        );
        assert_one_line_error(
            &classify_dir(&dir),
            "tensor `pre_classifier.weight` holds 1 NaN or infinite values",
        );
    }
}

#[test]
fn files_over_1_gib_are_refused_before_reading() {
    let dir = model_copy("huge");
    // A sparse file: 1 GiB + 1 byte long, no disk used. Reading it would take seconds
    // and a gigabyte of memory; the metadata check refuses it at once.
    let f = std::fs::File::create(dir.join("model.safetensors")).unwrap();
    f.set_len((1 << 30) + 1).unwrap();
    let start = Instant::now();
    let o = classify_dir(&dir);
    let took = start.elapsed();
    assert_one_line_error(
        &o,
        "model.safetensors: 1073741825 bytes is over the 1 GiB limit; refusing to read it",
    );
    assert!(took < Duration::from_secs(5), "took {took:?}: was it read?");
}

#[test]
fn a_missing_file_is_named() {
    let dir = model_copy("missing");
    std::fs::remove_file(dir.join("model.safetensors")).unwrap();
    assert_one_line_error(&classify_dir(&dir), "model.safetensors");
    let dir = model_copy("no-tokenizer");
    std::fs::remove_file(dir.join("tokenizer.json")).unwrap();
    assert_one_line_error(&classify_dir(&dir), "no tokenizer.json or vocab.txt");
}

#[test]
fn an_eval_file_with_bad_rows_is_refused() {
    let dir = model_copy("eval");
    let data = dir.join("d.tsv");
    std::fs::write(&data, "label\ttext\nseven\tgood\n").unwrap();
    let o = squeeze(&[
        "eval",
        "--model",
        dir.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}
