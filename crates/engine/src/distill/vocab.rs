//! A pruned WordPiece vocabulary for the student: in a small model the word-embedding
//! table is most of the bytes, so the student keeps only the teacher's tokens that its
//! text needs, plus every character piece, so that any text still tokenizes.
//!
//! WordPiece takes the longest piece of the vocabulary that starts the rest of a word. If
//! every piece the teacher uses for a word is kept, the pruned tokenizer therefore splits
//! that word exactly as the teacher does; a word with a dropped piece falls back to
//! shorter pieces, down to single characters, rather than to `[UNK]`.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use serde_json::{json, Value};
use tokenizers::{
    NormalizedString, Normalizer, OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer,
    Tokenizer,
};

use super::{Error, Result};

/// Tokens every BERT vocabulary needs, in the order the student stores them (ids 0–4).
pub const SPECIAL: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/// The teacher's tokenizer, unpadded and untruncated, for counting and pruning.
pub struct TeacherTokenizer {
    tokenizer: Tokenizer,
    json: Value,
}

impl TeacherTokenizer {
    /// From the teacher's `tokenizer.json` (a BERT WordPiece tokenizer).
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| Error::Data("teacher tokenizer.json: not UTF-8".into()))?;
        let json: Value = serde_json::from_str(text)
            .map_err(|e| Error::Data(format!("teacher tokenizer.json: not JSON ({e})")))?;
        if json["model"]["type"] != "WordPiece" {
            return Err(Error::Data(
                "teacher tokenizer.json: the model is not WordPiece".into(),
            ));
        }
        let mut tokenizer = Tokenizer::from_str(text)
            .map_err(|e| Error::Data(format!("teacher tokenizer.json: not a tokenizer ({e})")))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(None)
            .map_err(|e| Error::Data(format!("teacher tokenizer.json: {e}")))?;
        Ok(Self { tokenizer, json })
    }

    /// Token ids of `text` with `[CLS]` and `[SEP]`, not truncated.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        self.tokenizer
            .encode(text, true)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| Error::Data(format!("cannot tokenize `{text}` ({e})")))
    }

    /// Number of tokens in the vocabulary.
    pub fn vocab_size(&self) -> usize {
        self.tokenizer.get_vocab_size(true)
    }

    /// Whether a character piece can ever come out of this tokenizer: `c` must survive the
    /// normalizer (upper case and accents do not, when it lower-cases), and for `##c` the
    /// pre-tokenizer must leave `c` inside a word (punctuation and CJK ideographs always
    /// stand alone, so `##!` is never used).
    fn reachable(&self, piece: &str) -> bool {
        let (c, inside) = match piece.strip_prefix("##") {
            Some(c) => (c, true),
            None => (piece, false),
        };
        let normalized = match self.tokenizer.get_normalizer() {
            Some(n) => {
                let mut s = NormalizedString::from(c);
                if n.normalize(&mut s).is_err() {
                    return false;
                }
                s.get().to_string()
            }
            None => c.to_string(),
        };
        if normalized != c {
            return false;
        }
        if !inside {
            return true;
        }
        match self.tokenizer.get_pre_tokenizer() {
            Some(p) => {
                let mut s = PreTokenizedString::from(format!("a{c}").as_str());
                p.pre_tokenize(&mut s).is_ok()
                    && s.get_splits(OffsetReferential::Original, OffsetType::Byte)
                        .len()
                        == 1
            }
            None => true,
        }
    }
}

/// The student's vocabulary: which teacher tokens it keeps, in student id order.
#[derive(Clone, Debug)]
pub struct PrunedVocab {
    /// Token strings by student id.
    pub tokens: Vec<String>,
    /// The teacher id of each student token (the row its embedding starts from).
    pub teacher_ids: Vec<u32>,
    /// How many of them are single characters or `##` + one character.
    pub char_pieces: usize,
    /// Share of the counted text's tokens that the kept vocabulary covers.
    pub coverage: f64,
    tokenizer_json: Value,
}

impl PrunedVocab {
    /// Keeps `rows` tokens: the special tokens, every reachable character piece, then the
    /// teacher tokens with the largest `counts` (ties to the smaller teacher id, which in a
    /// BERT vocabulary is the more frequent word).
    pub fn new(
        teacher: &TeacherTokenizer,
        counts: &HashMap<u32, f64>,
        rows: usize,
    ) -> Result<Self> {
        let vocab = teacher.tokenizer.get_vocab(true);
        let by_id: BTreeMap<u32, &str> = vocab.iter().map(|(t, &i)| (i, t.as_str())).collect();
        let mut keep: Vec<u32> = Vec::new();
        for s in SPECIAL {
            keep.push(
                *vocab.get(s).ok_or_else(|| {
                    Error::Data(format!("teacher tokenizer.json: no `{s}` token"))
                })?,
            );
        }
        let chars: Vec<u32> = by_id
            .iter()
            .filter(|(_, t)| {
                let c = t.strip_prefix("##").unwrap_or(t);
                c.chars().count() == 1 && !SPECIAL.contains(t)
            })
            .filter(|(_, t)| teacher.reachable(t))
            .map(|(&i, _)| i)
            .collect();
        let char_pieces = chars.len();
        keep.extend(&chars);
        if keep.len() > rows {
            return Err(Error::Data(format!(
                "a vocabulary of {rows} rows cannot hold the {} special and character tokens",
                keep.len()
            )));
        }
        let mut ranked: Vec<(u32, f64)> = counts
            .iter()
            .filter(|(id, _)| !keep.contains(id))
            .map(|(&id, &c)| (id, c))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let room = rows - keep.len();
        keep.extend(ranked.iter().take(room).map(|(id, _)| *id));
        // Fill what the counts leave with the teacher's own order (frequent words first).
        if keep.len() < rows {
            let taken: std::collections::HashSet<u32> = keep.iter().copied().collect();
            let more: Vec<u32> = by_id
                .iter()
                .filter(|(i, t)| !taken.contains(i) && !t.starts_with("[unused"))
                .map(|(&i, _)| i)
                .take(rows - keep.len())
                .collect();
            keep.extend(more);
        }
        let (specials, rest) = keep.split_at(SPECIAL.len());
        let mut rest = rest.to_vec();
        rest.sort_unstable();
        let teacher_ids: Vec<u32> = specials.iter().copied().chain(rest.drain(..)).collect();
        let tokens: Vec<String> = teacher_ids.iter().map(|i| by_id[i].to_string()).collect();
        let total: f64 = counts.values().sum();
        let kept: std::collections::HashSet<u32> = teacher_ids.iter().copied().collect();
        let covered: f64 = counts
            .iter()
            .filter(|(i, _)| kept.contains(i))
            .map(|(_, c)| c)
            .sum();
        let tokenizer_json = student_tokenizer_json(&teacher.json, &tokens)?;
        Ok(Self {
            tokens,
            teacher_ids,
            char_pieces,
            coverage: if total > 0.0 { covered / total } else { 1.0 },
            tokenizer_json,
        })
    }

    /// Rows of the student's embedding table.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether it is empty (never, once built).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The student's `tokenizer.json`: the teacher's pipeline with this vocabulary,
    /// padding and truncation off.
    pub fn tokenizer_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(&self.tokenizer_json).expect("a JSON value always serializes")
    }
}

/// Adds each text's token counts (times `weight`) to `counts`.
pub fn count_tokens<'a>(
    teacher: &TeacherTokenizer,
    texts: impl IntoIterator<Item = &'a str>,
    weight: f64,
    counts: &mut HashMap<u32, f64>,
) -> Result<()> {
    for text in texts {
        for id in teacher.encode(text)? {
            *counts.entry(id).or_default() += weight;
        }
    }
    Ok(())
}

fn student_tokenizer_json(teacher: &Value, tokens: &[String]) -> Result<Value> {
    let ids: HashMap<&str, usize> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i))
        .collect();
    let mut json = teacher.clone();
    json["padding"] = Value::Null;
    json["truncation"] = Value::Null;
    let vocab: serde_json::Map<String, Value> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), json!(i)))
        .collect();
    json["model"]["vocab"] = Value::Object(vocab);
    if let Some(added) = json["added_tokens"].as_array_mut() {
        added.retain(|t| t["content"].as_str().is_some_and(|c| ids.contains_key(c)));
        for t in added {
            let id = ids[t["content"].as_str().unwrap_or_default()];
            t["id"] = json!(id);
        }
    }
    let post = &mut json["post_processor"];
    match post["type"].as_str() {
        Some("TemplateProcessing") => {
            if let Some(map) = post["special_tokens"].as_object_mut() {
                for (name, spec) in map.iter_mut() {
                    let id = *ids.get(name.as_str()).ok_or_else(|| {
                        Error::Data(format!(
                            "teacher tokenizer.json: special token `{name}` was pruned"
                        ))
                    })?;
                    spec["ids"] = json!([id]);
                }
            }
        }
        Some("BertProcessing") => {
            for key in ["cls", "sep"] {
                let name = post[key][0].as_str().unwrap_or_default().to_string();
                let id = *ids.get(name.as_str()).ok_or_else(|| {
                    Error::Data(format!(
                        "teacher tokenizer.json: special token `{name}` was pruned"
                    ))
                })?;
                post[key] = json!([name, id]);
            }
        }
        _ => {}
    }
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn teacher() -> TeacherTokenizer {
        let vocab = [
            "[PAD]",
            "[UNK]",
            "[CLS]",
            "[SEP]",
            "[MASK]",
            "[unused0]",
            "!",
            "a",
            "b",
            "d",
            "e",
            "g",
            "n",
            "o",
            "t",
            "u",
            "é",
            "##a",
            "##b",
            "##d",
            "##e",
            "##g",
            "##n",
            "##o",
            "##t",
            "##u",
            "##!",
            "good",
            "not",
            "bad",
            "##ood",
            "un",
            "##bad",
        ];
        let vocab: serde_json::Map<String, Value> = vocab
            .iter()
            .enumerate()
            .map(|(i, t)| (t.to_string(), json!(i)))
            .collect();
        let spec = json!({
            "version": "1.0", "truncation": {"max_length": 8, "strategy": "LongestFirst", "stride": 0},
            "padding": {"strategy": {"Fixed": 8}, "direction": "Right", "pad_to_multiple_of": null,
                "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"},
            "added_tokens": [
                {"id": 0, "special": true, "content": "[PAD]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false},
                {"id": 2, "special": true, "content": "[CLS]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false},
                {"id": 3, "special": true, "content": "[SEP]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false}],
            "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                "strip_accents": null, "lowercase": true},
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": {"type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                           {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                         {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                                   "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
            "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
            "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                "max_input_chars_per_word": 100, "vocab": vocab}
        });
        TeacherTokenizer::from_json(spec.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn keeps_specials_reachable_characters_and_frequent_tokens() {
        let t = teacher();
        let mut counts = HashMap::new();
        count_tokens(&t, ["good", "not good", "unbad"], 1.0, &mut counts).unwrap();
        // 5 specials + 19 reachable character pieces ("é" and "##!" are unreachable)
        // + the 2 most frequent other tokens: "good"(2) and then "not" (id 28 < "un" 31).
        let v = PrunedVocab::new(&t, &counts, 26).unwrap();
        assert_eq!(&v.tokens[..5], SPECIAL);
        assert_eq!(v.char_pieces, 19);
        assert!(v.tokens.contains(&"good".to_string()));
        assert!(v.tokens.contains(&"not".to_string()));
        assert!(!v
            .tokens
            .iter()
            .any(|t| t == "é" || t == "##!" || t == "[unused0]" || t == "un"));
        assert_eq!(v.len(), 26);
        let kept: f64 = counts
            .iter()
            .filter(|(i, _)| v.teacher_ids.contains(i))
            .map(|(_, c)| c)
            .sum();
        assert!((v.coverage - kept / counts.values().sum::<f64>()).abs() < 1e-12);
    }

    #[test]
    fn student_tokenizer_splits_kept_words_like_the_teacher_and_falls_back_to_pieces() {
        let t = teacher();
        let mut counts = HashMap::new();
        count_tokens(&t, ["good", "not good"], 1.0, &mut counts).unwrap();
        let v = PrunedVocab::new(&t, &counts, 26).unwrap();
        let student = crate::tokenize::TextEncoder::from_json(&v.tokenizer_json(), 64).unwrap();
        let e = student.encode("Not good!").unwrap();
        assert_eq!(e.tokens, ["[CLS]", "not", "good", "!", "[SEP]"]);
        assert_eq!(e.ids[0] as usize, 2);
        assert_eq!(e.ids[4] as usize, 3);
        // "bad" was not kept: it falls back to characters, not to [UNK].
        let e = student.encode("bad").unwrap();
        assert_eq!(e.tokens, ["[CLS]", "b", "##a", "##d", "[SEP]"]);
        // No padding, whatever the teacher's file asked for.
        assert_eq!(student.encode("a").unwrap().ids.len(), 3);
    }

    #[test]
    fn too_small_a_budget_is_an_error() {
        let err = PrunedVocab::new(&teacher(), &HashMap::new(), 10)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "a vocabulary of 10 rows cannot hold the 24 special and character tokens"
        );
    }
}
