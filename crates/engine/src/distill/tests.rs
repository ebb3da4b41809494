//! End-to-end checks of the distillation code on a tiny random teacher built in memory, so
//! that they run in CI in seconds without downloading anything.

use std::collections::HashMap;

use candle_core::{Device, Tensor};
use serde_json::{json, Value};

use super::net::{Batch, Importance, Net, Shape};
use super::pipeline::{self, Event, ModelBytes, Recipe, Report, Sources, StudentSpec};
use super::prune::{cut_student, Selection};
use super::rng::Rng;
use super::text::Labelled;
use super::vocab::{count_tokens, PrunedVocab, TeacherTokenizer};
use crate::{Classifier, ModelFiles, TokenizerFile};

const WORDS: &[&str] = &[
    "i", "love", "hate", "the", "movie", "food", "was", "is", "not", "bad", "good", "great",
    "awful", "it", "but", "and", "very", "boring", "fun", "!", ".", ",",
];

fn tokenizer_json() -> Vec<u8> {
    let mut tokens: Vec<String> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    tokens.extend(('a'..='z').map(String::from));
    tokens.extend(('a'..='z').map(|c| format!("##{c}")));
    tokens.extend(WORDS.iter().filter(|w| w.len() > 1).map(|w| w.to_string()));
    tokens.extend(["!", ".", ","].map(String::from));
    let vocab: serde_json::Map<String, Value> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), json!(i)))
        .collect();
    let spec = json!({
        "version": "1.0", "truncation": null,
        "padding": {"strategy": {"Fixed": 16}, "direction": "Right", "pad_to_multiple_of": null,
            "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"},
        "added_tokens": [],
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
            "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
            "max_input_chars_per_word": 100, "vocab": vocab}
    });
    spec.to_string().into_bytes()
}

fn teacher_shape(vocab: usize) -> Shape {
    Shape {
        vocab,
        dim: 64,
        layers: 2,
        heads: 2,
        hidden: 128,
        positions: 64,
        labels: 2,
    }
}

/// A random DistilBERT teacher as model files.
fn teacher_files() -> ModelBytes {
    let tokenizer = tokenizer_json();
    let vocab = TeacherTokenizer::from_json(&tokenizer)
        .unwrap()
        .vocab_size();
    let shape = teacher_shape(vocab);
    let mut rng = Rng::new(11);
    let net = Net::from_tensors(shape, 1e-12, |name, dims| {
        let n: usize = dims.iter().product();
        let v: Vec<f32> = if name.contains("LayerNorm.weight") || name.contains("layer_norm.weight")
        {
            vec![1.0; n]
        } else {
            (0..n).map(|_| (rng.unit() as f32 - 0.5) * 0.4).collect()
        };
        Ok(Tensor::from_vec(v, dims, &Device::Cpu).unwrap())
    })
    .unwrap();
    ModelBytes {
        config: pipeline::distilbert_config(shape),
        tokenizer,
        weights: net.to_safetensors().unwrap(),
    }
}

fn classifier(m: &ModelBytes) -> Classifier {
    Classifier::load(&ModelFiles {
        config: m.config.clone(),
        tokenizer: TokenizerFile::Json(m.tokenizer.clone()),
        weights: m.weights.clone(),
    })
    .unwrap()
}

fn sentences() -> Vec<Labelled> {
    let pos = [
        "i love the movie",
        "great food",
        "not bad",
        "it was fun",
        "very good",
    ];
    let neg = [
        "i hate the movie",
        "awful food",
        "not good",
        "it was boring",
        "very bad",
    ];
    let mut rows = Vec::new();
    for (p, n) in pos.iter().zip(neg) {
        for tail in ["", " !", " .", ", but fun", ", but awful"] {
            rows.push(Labelled {
                label: 1,
                text: format!("{p}{tail}"),
            });
            rows.push(Labelled {
                label: 0,
                text: format!("{n}{tail}"),
            });
        }
    }
    rows
}

fn net_logits(net: &Net, seqs: &[Vec<u32>]) -> Vec<Vec<f32>> {
    let refs: Vec<&[u32]> = seqs.iter().map(|s| s.as_slice()).collect();
    net.forward(&Batch::new(&refs, &Device::Cpu).unwrap())
        .unwrap()
        .logits
        .to_vec2::<f32>()
        .unwrap()
}

#[test]
fn batched_padded_forward_matches_the_engine_one_sentence_at_a_time() {
    let files = teacher_files();
    let engine = classifier(&files);
    let teacher = pipeline::Teacher::load(&files).unwrap();
    let texts = [
        "i love the movie , but it was boring",
        "awful",
        "not bad at all !",
    ];
    let ids: Vec<Vec<u32>> = texts
        .iter()
        .map(|t| engine.encode(t).unwrap().ids)
        .collect();
    // One batch: the shorter sentences are padded, and must not notice.
    let batched = net_logits(&teacher.net, &ids);
    for (t, got) in texts.iter().zip(batched) {
        let want = engine.classify(t).unwrap().logits;
        for (a, b) in got.iter().zip(&want) {
            assert!((a - b).abs() < 1e-5, "{t}: {got:?} vs {want:?}");
        }
    }
}

#[test]
fn cutting_everything_reproduces_the_teacher_exactly() {
    let files = teacher_files();
    let teacher = pipeline::Teacher::load(&files).unwrap();
    let shape = teacher.net.shape();
    let ids: Vec<Vec<u32>> = sentences()
        .iter()
        .map(|r| teacher.tokenizer.encode(&r.text).unwrap())
        .collect();
    let mut importance = Importance::default();
    let refs: Vec<&[u32]> = ids.iter().map(|s| s.as_slice()).collect();
    teacher
        .net
        .measure(&Batch::new(&refs, &Device::Cpu).unwrap(), &mut importance)
        .unwrap();
    assert!(importance.tokens > 0.0 && importance.heads[1].iter().all(|h| *h > 0.0));
    // Every unit kept, every token kept: the student is the teacher.
    let vocab = PrunedVocab::new(&teacher.tokenizer, &HashMap::new(), shape.vocab).unwrap();
    let sel = Selection::choose(shape, &importance, shape, &[0, 1]).unwrap();
    let student = cut_student(&teacher.net, &sel, &vocab, shape).unwrap();
    assert_eq!(net_logits(&student, &ids), net_logits(&teacher.net, &ids));
    // A smaller cut keeps the chosen units' weights verbatim.
    let small = Shape {
        dim: 32,
        heads: 1,
        hidden: 16,
        layers: 1,
        ..shape
    };
    let sel = Selection::choose(shape, &importance, small, &[1]).unwrap();
    let cut = cut_student(&teacher.net, &sel, &vocab, small).unwrap();
    let w = cut
        .tensor("transformer.layer.0.ffn.lin1.weight")
        .unwrap()
        .to_vec2::<f32>()
        .unwrap();
    let tw = teacher
        .net
        .tensor("transformer.layer.1.ffn.lin1.weight")
        .unwrap()
        .to_vec2::<f32>()
        .unwrap();
    let (u, d) = (sel.neurons[0][3] as usize, sel.dims[5] as usize);
    assert_eq!(w[3][5], tw[u][d]);
}

#[test]
fn the_pipeline_fine_tunes_distils_and_writes_a_loadable_student() {
    let files = teacher_files();
    let rows = sentences();
    let src = Sources {
        teacher_config: files.config.clone(),
        teacher_tokenizer: files.tokenizer.clone(),
        teacher_weights: files.weights.clone(),
        train: rows.clone(),
        dev: rows[..10].to_vec(),
        fortunes: vec![
            "The movie was fun. The food was awful!\n%\nI hate it, but it is good.\n".into(),
        ],
        limit: None,
    };
    let mut recipe = Recipe::smoke();
    recipe.teacher_tuned_layers = 2;
    recipe.teacher_schedule.max_steps = None;
    recipe.teacher_schedule.epochs = 3;
    recipe.teacher_schedule.lr = 3e-3;
    recipe.student = StudentSpec {
        dim: 32,
        heads: 1,
        hidden: 64,
        positions: 32,
        teacher_layers: vec![1],
    };
    recipe.max_share_of_teacher = 0.9;
    recipe.student_schedule.max_steps = None;
    recipe.student_schedule.epochs = 8;
    recipe.student_schedule.lr = 3e-3;
    recipe.hidden_weight = 0.1;
    recipe.log_every = 1;
    let mut report = Report::default();
    let mut lines = 0;
    let mut on = |_: Event| lines += 1;
    let teacher = pipeline::fine_tune_teacher(&src, &recipe, &mut report, &mut on).unwrap();
    // The labels here are a learnable function of the words: the teacher must learn them.
    assert!(
        report.teacher_dev.iter().copied().fold(0.0, f64::max) >= 0.8,
        "{:?}",
        report.teacher_dev
    );
    let text = pipeline::transfer_text(&src, &recipe, &mut report, &mut on);
    assert_eq!(report.fortune_sentences, 3);
    let (text, ids) = pipeline::teacher_ids(&teacher, &text).unwrap();
    let labels = pipeline::label(&teacher, ids, &recipe, &mut report, &mut on).unwrap();
    let saved = labels.to_safetensors().unwrap();
    let again = pipeline::Labels::from_safetensors(&saved, labels.ids.clone()).unwrap();
    assert_eq!(again.logits, labels.logits);
    let student = pipeline::distil(
        &teacher,
        &text,
        &labels,
        &src,
        &recipe,
        &mut report,
        &mut on,
    )
    .unwrap();
    assert!(lines > 10);
    // The distillation loss falls.
    let first = report.loss.first().unwrap().2;
    let last = report.loss.iter().rev().take(3).map(|l| l.2).sum::<f64>() / 3.0;
    assert!(last < 0.5 * first, "logit MSE {first} → {last}");
    // The student's files load in the engine and give the net's own logits.
    let out = student.files().unwrap();
    let engine = classifier(&out);
    assert_eq!(engine.labels(), pipeline::LABELS);
    assert_eq!(engine.info().vocab_size, report.vocab_rows);
    assert!(out.weights.len() as u64 <= report.student_limit);
    let enc = engine.encode("The movie was fun!").unwrap();
    let got = engine.logits(&enc).unwrap();
    let want = &net_logits(&student.net, std::slice::from_ref(&enc.ids))[0];
    for (a, b) in got.iter().zip(want) {
        assert!((a - b).abs() < 1e-5, "{got:?} vs {want:?}");
    }
    // A word outside every vocabulary still tokenizes, into pieces, not [UNK].
    let enc = engine.encode("zebra").unwrap();
    assert!(
        !enc.tokens.contains(&"[UNK]".to_string()),
        "{:?}",
        enc.tokens
    );
    let mut counts = HashMap::new();
    count_tokens(&teacher.tokenizer, ["zebra"], 1.0, &mut counts).unwrap();
    assert!(!counts.is_empty());
}
