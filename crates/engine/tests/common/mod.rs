//! Fixture loading shared by the engine's integration tests. The fixtures are made by
//! tools/reference/make_fixtures.py with PyTorch and committed under tests/fixtures/.
#![allow(dead_code, missing_docs)]

use std::path::PathBuf;

use engine::{Classifier, ModelFiles, TokenizerFile};

/// `tests/fixtures/<name>` at the repository root.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}

pub fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn json(path: PathBuf) -> serde_json::Value {
    serde_json::from_slice(&read(path)).expect("fixture JSON")
}

/// The f32 values of a JSON array (fixtures write exact f32 decimals).
pub fn floats(v: &serde_json::Value) -> Vec<f32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

pub fn files(dir: &str, tokenizer: &str) -> ModelFiles {
    let d = fixture(dir);
    let tok = read(d.join(tokenizer));
    ModelFiles {
        config: read(d.join("config.json")),
        tokenizer: if tokenizer.ends_with(".json") {
            TokenizerFile::Json(tok)
        } else {
            TokenizerFile::Vocab(tok)
        },
        weights: read(d.join("model.safetensors")),
    }
}

/// The student the site bundles (`www/models/default/`).
pub fn bundled() -> Classifier {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/models/default/");
    let read = |f: &str| std::fs::read(format!("{dir}{f}")).expect("the bundled model");
    Classifier::load(&ModelFiles {
        config: read("config.json"),
        tokenizer: TokenizerFile::Json(read("tokenizer.json")),
        weights: read("model.safetensors"),
    })
    .expect("the bundled model loads")
}

pub fn tiny() -> Classifier {
    Classifier::load(&files("tiny", "tokenizer.json")).expect("tiny fixture loads")
}

pub fn median(mut v: Vec<f32>) -> f32 {
    v.sort_by(f32::total_cmp);
    if v.is_empty() {
        return 0.0;
    }
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}
