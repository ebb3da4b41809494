//! Text → WordPiece ids with the Hugging Face `tokenizers` crate, always unpadded.
//!
//! Dynamic int8 quantizes each input with one scale over every position, padding
//! included, so padding would change the quantized logits: whatever padding a
//! tokenizer.json asks for is switched off. Truncation is set to the model's maximum
//! positions, and the caller is told when it happened.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::json;
use tokenizers::{Tokenizer, TruncationParams};

use crate::{Error, Result};

/// One text, tokenized for the model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encoding {
    /// Token ids, `[CLS] … [SEP]`.
    pub ids: Vec<u32>,
    /// The tokens themselves, for display.
    pub tokens: Vec<String>,
    /// Whether the text was cut to fit the model.
    pub truncated: bool,
    /// Tokens the whole text would have needed (equals `ids.len()` unless truncated).
    pub original_len: usize,
}

/// A tokenizer set up for one model: unpadded, truncating at the model's limit.
#[derive(Clone)]
pub struct TextEncoder {
    tokenizer: Tokenizer,
    max_len: usize,
}

impl TextEncoder {
    /// From a `tokenizer.json`.
    pub fn from_json(bytes: &[u8], max_len: usize) -> Result<Self> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| tokenizer_error("tokenizer.json", "not UTF-8 text"))?;
        // tokenizers 0.23 panics (`expect("Helper")`) on a JSON syntax error inside the
        // `decoder` value, and a panic kills the page's worker: check the syntax first.
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| tokenizer_error("tokenizer.json", &format!("not valid JSON ({e})")))?;
        check_post_processor(&value["post_processor"])
            .map_err(|reason| tokenizer_error("tokenizer.json", &reason))?;
        let tokenizer = Tokenizer::from_str(text)
            .map_err(|e| tokenizer_error("tokenizer.json", &format!("not a tokenizer ({e})")))?;
        Self::new(tokenizer, max_len, "tokenizer.json")
    }

    /// From a BERT `vocab.txt` (one WordPiece token per line, the line number is its id).
    /// The vocabulary is taken as uncased unless it holds upper-case word pieces.
    pub fn from_vocab(bytes: &[u8], max_len: usize) -> Result<Self> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| tokenizer_error("vocab.txt", "not UTF-8 text"))?;
        let tokens: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
        let id = |t: &str| {
            tokens
                .iter()
                .position(|&x| x == t)
                .ok_or_else(|| tokenizer_error("vocab.txt", &format!("has no `{t}` token")))
        };
        let (cls, sep, _unk) = (id("[CLS]")?, id("[SEP]")?, id("[UNK]")?);
        let lowercase = !tokens
            .iter()
            .any(|t| !t.starts_with('[') && t.chars().any(|c| c.is_ascii_uppercase()));
        let vocab: serde_json::Map<String, serde_json::Value> = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.to_string(), json!(i)))
            .collect();
        // The same pipeline BertTokenizerFast builds, written as tokenizer.json so that it
        // goes through the one loading path that works on every target.
        let spec = json!({
            "version": "1.0",
            "truncation": null,
            "padding": null,
            "added_tokens": [],
            "normalizer": {"type": "BertNormalizer", "clean_text": true,
                "handle_chinese_chars": true, "strip_accents": null, "lowercase": lowercase},
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", sep], "cls": ["[CLS]", cls]},
            "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
            "model": {"type": "WordPiece", "unk_token": "[UNK]",
                "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": vocab}
        });
        let tokenizer = Tokenizer::from_str(&spec.to_string()).map_err(|e| {
            tokenizer_error(
                "vocab.txt",
                &format!("cannot build a WordPiece tokenizer ({e})"),
            )
        })?;
        Self::new(tokenizer, max_len, "vocab.txt")
    }

    fn new(mut tokenizer: Tokenizer, max_len: usize, file: &'static str) -> Result<Self> {
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_len,
                ..TruncationParams::default()
            }))
            .map_err(|e| tokenizer_error(file, &format!("cannot truncate to {max_len} ({e})")))?;
        Ok(Self { tokenizer, max_len })
    }

    /// Number of tokens in the vocabulary, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.tokenizer.get_vocab_size(true)
    }

    /// The longest input, special tokens included.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Tokenizes one text. Empty or whitespace-only text is an error.
    pub fn encode(&self, text: &str) -> Result<Encoding> {
        if text.trim().is_empty() {
            return Err(Error::EmptyInput);
        }
        let enc = self.tokenizer.encode(text, true).map_err(|e| {
            tokenizer_error("tokenizer", &format!("cannot tokenize the text ({e})"))
        })?;
        let truncated = !enc.get_overflowing().is_empty();
        let original_len = if truncated {
            // Only paid for texts past the limit: count what the whole text needs.
            let mut whole = self.tokenizer.clone();
            whole
                .with_truncation(None)
                .expect("removing truncation cannot fail");
            whole
                .encode(text, true)
                .map(|e| e.get_ids().len())
                .unwrap_or(enc.get_ids().len())
        } else {
            enc.get_ids().len()
        };
        Ok(Encoding {
            ids: enc.get_ids().to_vec(),
            tokens: enc.get_tokens().to_vec(),
            truncated,
            original_len,
        })
    }
}

/// What tokenizers 0.23 trusts in a `TemplateProcessing` post-processor without checking
/// when it is deserialized: a `SpecialToken` piece whose id is not among `special_tokens`
/// (found by fuzzing: a map lookup that panics at encode time), a `Sequence` piece other
/// than `A` in the single-text template (it indexes an encoding one text does not have),
/// and a special token whose `ids` and `tokens` differ in length (parallel vectors).
/// Processors are matched by shape, not by their `type` (tokenizers ignores a misspelt
/// one), and nested ones (`Sequence`) are checked too.
fn check_post_processor(p: &serde_json::Value) -> std::result::Result<(), String> {
    match p {
        serde_json::Value::Array(items) => items.iter().try_for_each(check_post_processor),
        serde_json::Value::Object(fields) => {
            if ["single", "pair", "special_tokens"]
                .iter()
                .any(|k| fields.contains_key(*k))
            {
                check_template(p)?;
            }
            fields.values().try_for_each(check_post_processor)
        }
        _ => Ok(()),
    }
}

fn check_template(p: &serde_json::Value) -> std::result::Result<(), String> {
    let special = &p["special_tokens"];
    for (name, token) in special.as_object().into_iter().flatten() {
        let ids = token["ids"].as_array().map_or(0, Vec::len);
        let tokens = token["tokens"].as_array().map_or(0, Vec::len);
        if ids != tokens {
            return Err(format!(
                "post_processor special token `{name}` has {ids} ids but {tokens} tokens"
            ));
        }
    }
    for (template, single) in [("single", true), ("pair", false)] {
        for piece in p[template].as_array().into_iter().flatten() {
            if let Some(id) = piece["SpecialToken"]["id"].as_str() {
                if special.get(id).is_none() {
                    return Err(format!(
                        "post_processor {template} template uses special token `{id}`, which special_tokens does not define"
                    ));
                }
            }
            if let Some(seq) = piece["Sequence"]["id"].as_str() {
                if single && seq != "A" {
                    return Err(format!(
                        "post_processor single template uses sequence `{seq}`; one text has only sequence `A`"
                    ));
                }
            }
        }
    }
    Ok(())
}

fn tokenizer_error(file: &'static str, reason: &str) -> Error {
    Error::Tokenizer {
        file,
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VOCAB: &str =
        "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\ni\nlove\nlearning\nabout\nai\n!\n##s\nlearn\n";

    #[test]
    fn vocab_txt_builds_a_bert_tokenizer() {
        let enc = TextEncoder::from_vocab(VOCAB.as_bytes(), 16).unwrap();
        let e = enc.encode("I love learning about AI!").unwrap();
        assert_eq!(
            e.tokens,
            ["[CLS]", "i", "love", "learning", "about", "ai", "!", "[SEP]"]
        );
        assert_eq!(e.ids, [2, 5, 6, 7, 8, 9, 10, 3]);
        assert!(!e.truncated);
        let e = enc.encode("learns 🎉").unwrap();
        assert_eq!(e.tokens, ["[CLS]", "learn", "##s", "[UNK]", "[SEP]"]);
    }

    #[test]
    fn long_text_is_truncated_and_says_so() {
        let enc = TextEncoder::from_vocab(VOCAB.as_bytes(), 6).unwrap();
        let e = enc.encode("i love learning about ai ! i love").unwrap();
        assert_eq!(e.ids.len(), 6);
        assert_eq!(e.ids.last(), Some(&3), "[SEP] stays last");
        assert!(e.truncated);
        assert_eq!(e.original_len, 10);
    }

    #[test]
    fn empty_text_is_refused() {
        let enc = TextEncoder::from_vocab(VOCAB.as_bytes(), 16).unwrap();
        assert!(matches!(enc.encode("  \n\t"), Err(Error::EmptyInput)));
    }

    #[test]
    fn bad_files_are_named() {
        let err = TextEncoder::from_vocab(b"a\nb\n", 8)
            .err()
            .unwrap()
            .to_string();
        assert_eq!(err, "vocab.txt: has no `[CLS]` token");
        let err = TextEncoder::from_json(b"{}", 8).err().unwrap().to_string();
        assert!(err.starts_with("tokenizer.json: not a tokenizer"), "{err}");
    }
}
