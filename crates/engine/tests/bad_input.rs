//! Hostile and unusual input at the engine's API: every text either classifies or is
//! refused as empty, and every broken file is an [`engine::Error`] naming it — never a
//! panic. The CLI's own tests (crates/cli/tests/bad_input.rs) check the same rows end to end.

mod common;

use engine::{Classifier, Error, ModelFiles, TokenizerFile};

fn files() -> ModelFiles {
    common::files("tiny", "tokenizer.json")
}

#[test]
fn odd_texts_classify_and_blank_ones_are_refused() {
    let model = common::tiny();
    for text in ["", " ", "\t\r\n", "\u{a0}\u{2003}\u{3000}"] {
        assert!(
            matches!(model.classify(text), Err(Error::EmptyInput)),
            "{text:?}"
        );
    }
    for text in [
        "nul\u{0}bell\u{7}esc\u{1b}[31m del\u{7f}",
        "\u{0}",
        "😀🎉👍🏽",
        "这个模型很好",
        "هذا رائع جدا",
        "זה נהדר",
        "good \u{202e}reversed\u{202c} \u{200b}zero-width",
    ] {
        let p = model
            .classify(text)
            .unwrap_or_else(|e| panic!("{text:?}: {e}"));
        let sum: f32 = p.probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-5, "{text:?}: {sum}");
        assert!(p.tokens >= 2 && !p.truncated, "{text:?}");
    }
}

#[test]
fn a_100_kb_text_is_truncated_and_its_length_reported() {
    let model = common::tiny();
    let text = "fine ".repeat(20_001);
    assert!(text.len() > 100_000);
    let enc = model.encode(&text).unwrap();
    assert!(enc.truncated);
    assert_eq!(enc.ids.len(), 64);
    // The tiny vocabulary splits "fine" into word pieces: count them once.
    let per_word = model.encode("fine").unwrap().ids.len() - 2;
    assert_eq!(
        enc.original_len,
        20_001 * per_word + 2,
        "every piece + [CLS] + [SEP]"
    );
    let p = model.predict(&enc).unwrap();
    assert!(p.truncated && p.tokens == 64);
}

fn load_err(files: &ModelFiles) -> String {
    let e = Classifier::load(files).err().expect("refused");
    let msg = e.to_string();
    assert!(!msg.contains('\n'), "one line: {msg}");
    msg
}

#[test]
fn broken_files_are_named_errors() {
    let mut f = files();
    f.config = b"\x89PNG\r\n\x1a\n".to_vec();
    assert!(load_err(&f).starts_with("config.json: not valid JSON"));

    let mut f = files();
    f.tokenizer = TokenizerFile::Json(b"\xff\xfe".to_vec());
    assert_eq!(load_err(&f), "tokenizer.json: not UTF-8 text");

    let mut f = files();
    f.tokenizer = TokenizerFile::Vocab(b"hello\nworld\n".to_vec());
    assert_eq!(load_err(&f), "vocab.txt: has no `[CLS]` token");

    let mut f = files();
    let n = f.weights.len();
    for keep in [0, 7, 8, 200, n / 2, n - 1] {
        f.weights = common::read(common::fixture("tiny/model.safetensors"))[..keep].to_vec();
        assert!(
            load_err(&f).starts_with("model.safetensors: not a readable safetensors file"),
            "kept {keep} bytes"
        );
    }
}

#[test]
fn shape_mismatch_and_non_finite_weights_name_the_tensor() {
    let mut f = files();
    f.config = String::from_utf8(f.config)
        .unwrap()
        .replace("\"hidden_dim\": 128", "\"hidden_dim\": 96")
        .into_bytes();
    assert!(matches!(
        Classifier::load(&f),
        Err(Error::ShapeMismatch { ref expected, ref actual, .. }) if expected == &[96, 64] && actual == &[128, 64]
    ));

    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut f = files();
        let n = u64::from_le_bytes(f.weights[..8].try_into().unwrap()) as usize;
        let header: serde_json::Value = serde_json::from_slice(&f.weights[8..8 + n]).unwrap();
        let at = header["classifier.weight"]["data_offsets"][0]
            .as_u64()
            .unwrap() as usize
            + 8
            + n;
        f.weights[at..at + 4].copy_from_slice(&bad.to_le_bytes());
        f.weights[at + 4..at + 8].copy_from_slice(&bad.to_le_bytes());
        assert_eq!(
            load_err(&f),
            "model.safetensors: tensor `classifier.weight` holds 2 NaN or infinite values"
        );
    }
}
