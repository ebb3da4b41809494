//! Fuzz target bodies for the files the engine parses and the text it classifies.
//! Shared with crates/engine/tests/fuzz_replay.rs through `#[path]`.

use std::cell::OnceCell;

use engine::checkpoint::Weights;
use engine::tokenize::TextEncoder;
use engine::{Classifier, Config, Error, ModelFiles, TokenizerFile};

/// The smallest DistilBERT the loader accepts, for the safetensors target: fuzzed
/// weights are checked against these shapes (dim 4, one layer, 8 tokens).
pub const MICRO_CONFIG: &str = r#"{"model_type":"distilbert","vocab_size":8,"dim":4,"n_layers":1,
"n_heads":1,"hidden_dim":8,"max_position_embeddings":8,"id2label":{"0":"NEG","1":"POS"}}"#;

/// The same shape in BERT names, so the BERT → DistilBERT renaming is fuzzed too.
pub const MICRO_BERT_CONFIG: &str = r#"{"model_type":"bert","vocab_size":8,"hidden_size":4,
"num_hidden_layers":1,"num_attention_heads":1,"intermediate_size":8,"max_position_embeddings":8}"#;

/// An 8-token WordPiece vocabulary matching [`MICRO_CONFIG`].
pub const MICRO_VOCAB: &str = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\ngood\nbad\n";

/// Texts every accepted tokenizer must handle: plain, long (truncation), other scripts,
/// control characters.
const PROBES: &[&str] = &[
    "the good",
    "a long sentence that keeps going and going so that any small limit is passed for sure",
    "😀 好 مرحبا שלום",
    "tab\there\u{0}nul\u{1b}esc",
];

/// `config.json`: never panics; an accepted config satisfies the checks the model
/// builder relies on.
pub fn config(data: &[u8]) {
    if let Ok(c) = Config::from_json(data) {
        assert!(c.n_heads > 0 && c.dim % c.n_heads == 0, "heads divide dim");
        assert!(c.max_position_embeddings >= 3, "room for [CLS] and [SEP]");
        assert!(c.dim <= 8192 && c.hidden_dim <= 4 * 8192 && c.n_layers <= 64);
        assert!(c.vocab_size > 0 && c.vocab_size <= 1_000_000);
    }
}

/// `model.safetensors`: header and tensors, renamed for both layouts and loaded into a
/// model. Never panics; a model that loads also classifies.
pub fn safetensors(data: &[u8]) {
    for json in [MICRO_CONFIG, MICRO_BERT_CONFIG] {
        let config = Config::from_json(json.as_bytes()).expect("the micro config is valid");
        let _ = Weights::from_safetensors(data, &config);
    }
    let files = ModelFiles {
        config: MICRO_CONFIG.as_bytes().to_vec(),
        tokenizer: TokenizerFile::Vocab(MICRO_VOCAB.as_bytes().to_vec()),
        weights: data.to_vec(),
    };
    if let Ok(model) = Classifier::load(&files) {
        // Finite weights can still overflow to non-finite logits; that must be an error
        // or a prediction, never a panic.
        let _ = model.classify("the good");
    }
}

/// Checks what every encoding of a non-empty text must satisfy.
fn check_encoder(enc: &TextEncoder, max_len: usize) {
    for text in PROBES {
        if let Ok(e) = enc.encode(text) {
            assert!(
                e.ids.len() <= max_len,
                "{} ids past the limit {max_len}",
                e.ids.len()
            );
            assert_eq!(e.ids.len(), e.tokens.len());
            assert!(e.original_len >= e.ids.len());
        }
    }
    assert!(matches!(enc.encode(" \n\t"), Err(Error::EmptyInput)));
}

/// `tokenizer.json`: never panics; an accepted tokenizer encodes within the limit.
pub fn tokenizer_json(data: &[u8]) {
    if let Ok(enc) = TextEncoder::from_json(data, 16) {
        check_encoder(&enc, 16);
    }
}

/// `vocab.txt`: never panics; an accepted vocabulary encodes within the limit.
pub fn vocab_txt(data: &[u8]) {
    if let Ok(enc) = TextEncoder::from_vocab(data, 16) {
        check_encoder(&enc, 16);
    }
}

thread_local! {
    static TINY: OnceCell<Classifier> = const { OnceCell::new() };
}

/// The committed tiny fixture model (64 positions), loaded once per thread.
fn with_tiny<T>(f: impl FnOnce(&Classifier) -> T) -> T {
    TINY.with(|cell| {
        f(cell.get_or_init(|| {
            // fuzz/ and crates/engine/ both compile this file: find the repository root.
            let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
            let dir = here
                .ancestors()
                .map(|a| a.join("tests/fixtures/tiny"))
                .find(|d| d.join("config.json").is_file())
                .expect("tests/fixtures/tiny above the crate");
            let read = |name: &str| {
                let path = dir.join(name);
                std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            };
            Classifier::load(&ModelFiles {
                config: read("config.json"),
                tokenizer: TokenizerFile::Json(read("tokenizer.json")),
                weights: read("model.safetensors"),
            })
            .expect("the tiny fixture loads")
        }))
    })
}

/// Input text: anything a learner can type or paste. Blank text is refused with
/// [`Error::EmptyInput`]; anything else classifies within the position limit, with
/// finite probabilities that sum to 1, and says when it was truncated.
pub fn text(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    with_tiny(|model| match model.classify(&text) {
        Err(Error::EmptyInput) => assert!(text.trim().is_empty(), "refused non-blank {text:?}"),
        Err(e) => panic!("{text:?} was refused: {e}"),
        Ok(p) => {
            assert!(!text.trim().is_empty(), "classified blank text");
            assert!(p.tokens <= 64, "{} tokens past the 64 positions", p.tokens);
            assert!(p.probabilities.iter().all(|v| v.is_finite()));
            let sum: f32 = p.probabilities.iter().sum();
            assert!((sum - 1.0).abs() < 1e-4, "probabilities sum to {sum}");
        }
    })
}
