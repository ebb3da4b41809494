//! The fuzz smoke run: replays fuzz/seeds and fuzz/regressions (every crash the fuzzer
//! ever found) through the fuzz target bodies, plus 200 deterministic mutations of each
//! input, under plain `cargo test` — no nightly needed. Real fuzzing: `cargo xtask fuzz`.

#[path = "../../../fuzz/src/engine_targets.rs"]
mod engine_targets;
#[path = "../../../fuzz/src/replay.rs"]
mod replay;

use std::path::{Path, PathBuf};

/// Mutations per seed: enough to reach past the seeds, few enough for seconds.
const PER_SEED: usize = 200;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn config_json() {
    let runs = replay::replay(&root(), "config", PER_SEED, engine_targets::config);
    println!("config: {runs} inputs");
}

#[test]
fn safetensors() {
    let runs = replay::replay(
        &root(),
        "safetensors",
        PER_SEED,
        engine_targets::safetensors,
    );
    println!("safetensors: {runs} inputs");
}

#[test]
fn tokenizer_json() {
    let runs = replay::replay(
        &root(),
        "tokenizer_json",
        PER_SEED,
        engine_targets::tokenizer_json,
    );
    println!("tokenizer_json: {runs} inputs");
}

#[test]
fn vocab_txt() {
    let runs = replay::replay(&root(), "vocab_txt", PER_SEED, engine_targets::vocab_txt);
    println!("vocab_txt: {runs} inputs");
}

#[test]
fn text() {
    let runs = replay::replay(&root(), "text", PER_SEED, engine_targets::text);
    println!("text: {runs} inputs");
}

/// The seeds themselves are what they claim: the micro model loads, so mutations of it
/// exercise the tensor checks and not only the header parser.
#[test]
fn the_micro_seed_is_a_loadable_model() {
    let weights = std::fs::read(root().join("fuzz/seeds/safetensors/micro.safetensors")).unwrap();
    let model = engine::Classifier::load(&engine::ModelFiles {
        config: engine_targets::MICRO_CONFIG.as_bytes().to_vec(),
        tokenizer: engine::TokenizerFile::Vocab(engine_targets::MICRO_VOCAB.as_bytes().to_vec()),
        weights,
    })
    .expect("micro seed loads");
    assert_eq!(model.labels(), ["NEG", "POS"]);
    assert!(model.classify("the good").is_ok());
}

/// Found by the replay's mutations: tokenizers 0.23 panicked on a JSON syntax error
/// inside `decoder`; the engine now refuses the file with one line.
#[test]
fn regression_tokenizer_json_decoder_syntax_error() {
    let bytes =
        std::fs::read(root().join("fuzz/regressions/tokenizer_json/decoder-syntax-error.json"))
            .unwrap();
    let err = engine::tokenize::TextEncoder::from_json(&bytes, 16)
        .err()
        .expect("refused");
    let msg = err.to_string();
    assert!(msg.starts_with("tokenizer.json: not valid JSON ("), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
}

/// Found by cargo-fuzz (tokenizer_json, 66k executions): a template naming a special
/// token it does not define panicked inside tokenizers at encode time. Two neighbours
/// of the same trust (single template using sequence B, ids/tokens of unequal length)
/// are refused too.
#[test]
fn regression_tokenizer_json_post_processor_template() {
    for (file, needle) in [
        (
            "template-undefined-special-token.json",
            "uses special token `[CLA]`, which special_tokens does not define",
        ),
        (
            "template-single-sequence-b.json",
            "single template uses sequence `B`",
        ),
        ("template-ids-tokens-mismatch.json", "ids but 0 tokens"),
        ("template-misspelt-type.json", "uses special token `[CLA]`"),
    ] {
        let bytes =
            std::fs::read(root().join("fuzz/regressions/tokenizer_json").join(file)).unwrap();
        let msg = engine::tokenize::TextEncoder::from_json(&bytes, 16)
            .err()
            .unwrap_or_else(|| panic!("{file} was accepted"))
            .to_string();
        assert!(
            msg.starts_with("tokenizer.json: post_processor "),
            "{file}: {msg}"
        );
        assert!(msg.contains(needle), "{file}: {msg}");
    }
}
