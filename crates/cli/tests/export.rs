//! `squeeze quantize` and `squeeze export`: the folders they write load back (in the engine)
//! with the same logits, and their mistakes are one-line errors.

mod common;

use std::path::{Path, PathBuf};

use common::{squeeze, stderr, tiny};
use engine::{Classifier, EmbeddingStorage, ModelFiles, QuantizeOptions, Scheme, TokenizerFile};

/// A fresh, absent folder under the temp dir.
fn out_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("squeeze-export-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn files(dir: &Path, weights: &str) -> ModelFiles {
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    ModelFiles {
        config: read("config.json"),
        tokenizer: TokenizerFile::Json(read("tokenizer.json")),
        weights: read(weights),
    }
}

fn one_line_error(o: &std::process::Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.starts_with("squeeze: "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(needle), "expected `{needle}` in: {err}");
}

const TEXT: &str = "not bad at all";

#[test]
fn quantize_writes_a_folder_that_loads_back_with_the_same_logits() {
    let out = out_dir("quantize");
    let o = squeeze(&[
        "quantize",
        "--model",
        tiny().to_str().unwrap(),
        "--scheme",
        "q8_0",
        "--int8-embeddings",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["scheme"], "q8_0");
    assert_eq!(v["embeddings"], "int8-per-row");
    let total = v["size"]["total_bytes"].as_u64().unwrap();
    assert!(total < v["f32_size"]["total_bytes"].as_u64().unwrap() / 3);
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["config.json", "quantized.safetensors", "tokenizer.json"]
    );
    assert_eq!(
        std::fs::metadata(out.join("quantized.safetensors"))
            .unwrap()
            .len(),
        v["file_bytes"].as_u64().unwrap()
    );

    let back = Classifier::load_quantized(&files(&out, "quantized.safetensors")).unwrap();
    assert_eq!(back.size().total_bytes, total);
    let expected = Classifier::load(&files(&tiny(), "model.safetensors"))
        .unwrap()
        .quantize_with(
            Scheme::Q8_0,
            QuantizeOptions {
                embeddings: EmbeddingStorage::Int8PerRow,
            },
        )
        .unwrap();
    assert_eq!(
        back.classify(TEXT).unwrap().logits,
        expected.classify(TEXT).unwrap().logits
    );

    let o = squeeze(&[
        "quantize",
        "--model",
        tiny().to_str().unwrap(),
        "--scheme",
        "int8-dynamic",
        "--out",
        out.to_str().unwrap(),
    ]);
    one_line_error(&o, "the folder is not empty");
}

#[test]
fn export_writes_a_hugging_face_folder_with_the_same_logits() {
    let out = out_dir("hf");
    let o = squeeze(&[
        "export",
        "--model",
        tiny().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("model.safetensors (f32"));
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(
        config["architectures"][0],
        "DistilBertForSequenceClassification"
    );
    let back = Classifier::load(&files(&out, "model.safetensors")).unwrap();
    let original = Classifier::load(&files(&tiny(), "model.safetensors")).unwrap();
    assert_eq!(
        back.classify(TEXT).unwrap().logits,
        original.classify(TEXT).unwrap().logits
    );

    let half = out_dir("hf-f16");
    let o = squeeze(&[
        "export",
        "--model",
        tiny().to_str().unwrap(),
        "--f16",
        "--out",
        half.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let size = |d: &Path| {
        std::fs::metadata(d.join("model.safetensors"))
            .unwrap()
            .len()
    };
    assert!(size(&half) < size(&out) * 6 / 10);
}

#[test]
fn bad_arguments_are_one_clear_line() {
    let out = out_dir("bad");
    let o = squeeze(&[
        "export",
        "--model",
        "no/such/model",
        "--out",
        out.to_str().unwrap(),
    ]);
    one_line_error(&o, "no/such/model: not a model folder");
    assert!(!out.exists(), "nothing is created for a failed export");

    let file = out_dir("bad-file");
    std::fs::write(&file, "x").unwrap();
    let o = squeeze(&[
        "export",
        "--model",
        tiny().to_str().unwrap(),
        "--out",
        file.to_str().unwrap(),
    ]);
    one_line_error(&o, "exists and is not a folder");

    let o = squeeze(&[
        "quantize",
        "--model",
        tiny().to_str().unwrap(),
        "--scheme",
        "int4",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.lines().next().unwrap().contains(
            "unknown scheme `int4`; expected one of: f32, f16, int8-dynamic, int8-per-channel, q8_0, q5_0, q4_1, q4_0, q4_k"
        ),
        "{err}"
    );
}
