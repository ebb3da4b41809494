//! `squeeze quantize --recipe` writes the mixed model a recipe file describes (loaded back
//! bit for bit), bad recipe files are one clear line, and `--zip` writes the bundle the web
//! page downloads.

mod common;

use std::path::{Path, PathBuf};

use common::{root, squeeze, stderr, tiny};
use engine::export::hf::Precision;
use engine::recipe::Recipe;
use engine::{Classifier, EmbeddingStorage, ModelFiles, QuantizeOptions, Scheme, TokenizerFile};

const TEXTS: [&str; 2] = [
    "not bad at all",
    "The plot was predictable but the acting saved it.",
];

/// A fresh, absent path under the temp dir.
fn temp(test: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("squeeze-recipe-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    let _ = std::fs::remove_file(&p);
    p
}

fn student() -> PathBuf {
    root().join("www/models/default")
}

fn files(dir: &Path, weights: &str) -> ModelFiles {
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    ModelFiles {
        config: read("config.json"),
        tokenizer: TokenizerFile::Json(read("tokenizer.json")),
        weights: read(weights),
    }
}

fn logits(m: &Classifier) -> Vec<Vec<f32>> {
    TEXTS
        .iter()
        .map(|t| m.classify(t).unwrap().logits)
        .collect()
}

/// A recipe for `model` cycling through `schemes`, layer by layer.
fn recipe(model: &Classifier, schemes: &[Scheme]) -> Recipe {
    Recipe::by_hand(
        model
            .linears()
            .into_iter()
            .enumerate()
            .map(|(i, l)| (l.name, schemes[i % schemes.len()])),
    )
}

fn one_line_error(o: &std::process::Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.starts_with("squeeze: "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(needle), "expected `{needle}` in: {err}");
}

#[test]
fn quantize_with_a_recipe_writes_the_mixed_model_bit_for_bit() {
    let f32_model = Classifier::load(&files(&student(), "model.safetensors")).unwrap();
    let schemes = [
        Scheme::Q4K,
        Scheme::Int8Dynamic,
        Scheme::F32,
        Scheme::Q8_0,
        Scheme::F16,
    ];
    let recipe = recipe(&f32_model, &schemes);
    let path = temp("mixed.json");
    std::fs::write(&path, recipe.to_json()).unwrap();
    for int8_embeddings in [false, true] {
        let out = temp(&format!("mixed-out-{int8_embeddings}"));
        let zip = temp(&format!("mixed-{int8_embeddings}.zip"));
        let mut args = vec![
            "quantize",
            "--model",
            student().to_str().unwrap().to_owned().leak(),
            "--recipe",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--zip",
            zip.to_str().unwrap(),
            "--json",
        ];
        if int8_embeddings {
            args.push("--int8-embeddings");
        }
        let o = squeeze(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(v.get("scheme").is_none(), "{v}");
        assert_eq!(v["recipe"]["file"], path.to_str().unwrap());
        let counts: Vec<(String, usize)> = recipe
            .counts()
            .iter()
            .map(|(s, n)| (s.name().to_string(), *n))
            .collect();
        for (scheme, n) in &counts {
            assert_eq!(v["recipe"]["layers"][scheme], *n as u64, "{v}");
        }
        assert_eq!(
            v["recipe"]["layers"].as_object().unwrap().len(),
            counts.len()
        );

        let expected = f32_model
            .apply_recipe_with(
                &recipe,
                QuantizeOptions {
                    embeddings: if int8_embeddings {
                        EmbeddingStorage::Int8PerRow
                    } else {
                        EmbeddingStorage::F32
                    },
                },
            )
            .unwrap();
        let back = Classifier::load_quantized(&files(&out, "quantized.safetensors")).unwrap();
        for l in back.linears() {
            assert_eq!(Some(l.scheme), recipe.scheme_of(&l.name), "{}", l.name);
        }
        assert_eq!(back.embedding_storage(), expected.embedding_storage());
        assert_eq!(back.size(), expected.size());
        assert_eq!(v["size"]["total_bytes"], expected.size().total_bytes);
        assert_eq!(logits(&back), logits(&expected));

        let zipped = std::fs::read(&zip).unwrap();
        assert_eq!(v["zip_bytes"], zipped.len() as u64);
        let bundle = engine::export::bundle::read(&zipped).unwrap();
        let variant = if int8_embeddings {
            "recipe-int8-embeddings"
        } else {
            "recipe"
        };
        assert_eq!(bundle.folder, format!("squeeze-default-{variant}"));
        assert_eq!(
            bundle.files.weights,
            std::fs::read(out.join("quantized.safetensors")).unwrap(),
            "the zip holds the folder's file"
        );
        assert_eq!(logits(&bundle.load().unwrap()), logits(&expected));
    }
}

#[test]
fn bad_recipe_files_are_one_clear_line() {
    let f32_model = Classifier::load(&files(&student(), "model.safetensors")).unwrap();
    let good = recipe(&f32_model, &[Scheme::Int8Dynamic]);
    let json = |r: &Recipe| r.to_json();
    let mut unknown = good.clone();
    unknown.layers[0].layer = "transformer.layer.9.ffn.lin1".into();
    let mut twice = good.clone();
    twice.layers[1].layer = twice.layers[0].layer.clone();
    let mut missing = good.clone();
    let dropped = missing.layers.pop().unwrap().layer;
    let cases: Vec<(&str, String, String)> = vec![
        (
            "not-json",
            "layers: all int8".into(),
            "not a recipe file:".into(),
        ),
        (
            "format",
            json(&good).replace("squeeze-recipe", "squeeze-quantized"),
            "not a recipe file: format is \"squeeze-quantized\"".into(),
        ),
        (
            "version",
            json(&good).replace("\"version\": 1", "\"version\": 2"),
            "recipe file version 2 is not supported".into(),
        ),
        (
            "unknown",
            json(&unknown),
            "no Linear layer named `transformer.layer.9.ffn.lin1`".into(),
        ),
        (
            "twice",
            json(&twice),
            format!("the recipe names layer `{}` twice", good.layers[0].layer),
        ),
        (
            "missing",
            json(&missing),
            format!("the recipe has no scheme for layer `{dropped}`"),
        ),
        (
            "scheme",
            json(&good).replacen("int8-dynamic", "int4", 1),
            "recipe file: unknown variant `int4`, expected one of `f32`".into(),
        ),
    ];
    for (name, contents, needle) in cases {
        let path = temp(&format!("bad-{name}.json"));
        std::fs::write(&path, contents).unwrap();
        let out = temp(&format!("bad-{name}-out"));
        let o = squeeze(&[
            "quantize",
            "--model",
            student().to_str().unwrap(),
            "--recipe",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        one_line_error(&o, &needle);
        assert!(
            stderr(&o).starts_with(&format!("squeeze: {}: ", path.display())),
            "{name}: the message names the file: {}",
            stderr(&o)
        );
        assert!(!out.exists(), "{name}: nothing is written");
    }

    // A scheme a layer's width cannot take: the tiny model is 64 wide, Q4_K needs 256.
    let tiny_model = Classifier::load(&files(&tiny(), "model.safetensors")).unwrap();
    let path = temp("bad-width.json");
    std::fs::write(&path, json(&recipe(&tiny_model, &[Scheme::Q4K]))).unwrap();
    let o = squeeze(&[
        "quantize",
        "--model",
        tiny().to_str().unwrap(),
        "--recipe",
        path.to_str().unwrap(),
        "--out",
        temp("bad-width-out").to_str().unwrap(),
    ]);
    one_line_error(
        &o,
        &format!("layer `{}` cannot take q4_k", tiny_model.linears()[0].name),
    );
}

#[test]
fn scheme_and_recipe_are_one_or_the_other() {
    let out = temp("either");
    let both = squeeze(&[
        "quantize",
        "--scheme",
        "q8_0",
        "--recipe",
        "r.json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(both.status.code(), Some(2));
    assert!(
        stderr(&both).contains("cannot be used with"),
        "{}",
        stderr(&both)
    );
    let neither = squeeze(&["quantize", "--out", out.to_str().unwrap()]);
    assert_eq!(neither.status.code(), Some(2));
    assert!(
        stderr(&neither).contains("--scheme <SCHEME>|--recipe <RECIPE>"),
        "{}",
        stderr(&neither)
    );
    let nowhere = squeeze(&["quantize", "--scheme", "q8_0"]);
    assert_eq!(nowhere.status.code(), Some(2));
    assert!(
        stderr(&nowhere).contains("--out <OUT>|--zip <ZIP>"),
        "{}",
        stderr(&nowhere)
    );
}

#[test]
fn export_zip_is_the_bundle_the_page_downloads() {
    let zip = temp("hf.zip");
    let o = squeeze(&[
        "export",
        "--model",
        student().to_str().unwrap(),
        "--f16",
        "--zip",
        zip.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("squeeze-default-hf-f16/"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let source = files(&student(), "model.safetensors");
    let model = Classifier::load(&source).unwrap();
    let expected = model
        .hf_bundle("default", Precision::F16, &source.tokenizer)
        .unwrap();
    assert_eq!(std::fs::read(&zip).unwrap(), expected.bytes);

    let o = squeeze(&[
        "export",
        "--model",
        student().to_str().unwrap(),
        "--zip",
        zip.to_str().unwrap(),
    ]);
    one_line_error(&o, "already exists; choose a new file name");
}
