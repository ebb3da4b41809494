//! Int8 per-row embeddings on the bundled student: the size target of issue [4/5] item 4
//! holds on the held-out set (data/sentiment/test.tsv, 336 sentences).
//!
//! Measured with `squeeze eval --scheme S [--int8-embeddings] --data data/sentiment/test.tsv`
//! (bytes as `Classifier::size` counts them; agreement = same label as the f32 student):
//!
//! | Linear scheme | f32 embeddings | int8 embeddings |
//! |---|---:|---:|
//! | f32 | 11,339,784 B | 6,615,972 B, 100.00% |
//! | int8-dynamic | 7,995,968 B, 99.40% | 3,272,156 B, 99.11% |
//! | int8-per-channel | 8,011,280 B, 99.70% | 3,287,468 B, 100.00% |
//! | q8_0 | 8,065,576 B, 100.00% | 3,341,764 B, 100.00% |
//! | q4_k | 7,508,264 B, 99.40% | 2,784,452 B, 99.70% |
//!
//! The best combination, q4_k + int8 embeddings: 2,784,452 bytes, 335/336 labels agree.

mod common;

use common::bundled;
use engine::{EmbeddingStorage, QuantizeOptions, Scheme};

fn held_out() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/sentiment/test.tsv");
    let text = std::fs::read_to_string(path).expect("test.tsv");
    text.lines()
        .skip(1)
        .filter_map(|l| l.split_once('\t').map(|(_, t)| t.to_string()))
        .collect()
}

const INT8_EMBEDDINGS: QuantizeOptions = QuantizeOptions {
    embeddings: EmbeddingStorage::Int8PerRow,
};

#[test]
fn q4_k_with_int8_embeddings_is_under_3_5_mb_and_agrees_on_98_percent() {
    let f32_model = bundled();
    let small = f32_model
        .quantize_with(Scheme::Q4K, INT8_EMBEDDINGS)
        .unwrap();
    let size = small.size();
    assert_eq!(size.total_bytes, 2_784_452);
    assert!(size.total_bytes <= 3_500_000);
    // 6183 × 256 int8 values, 6183 f32 scales, 512 × 256 f32 positions.
    assert_eq!(size.embedding_bytes, 6183 * 256 + 4 * 6183 + 4 * 512 * 256);
    let texts = held_out();
    assert_eq!(texts.len(), 336);
    let mut agree = 0;
    for text in &texts {
        let enc = f32_model.encode(text).unwrap();
        let a = f32_model.predict(&enc).unwrap().label_id;
        let b = small.predict(&enc).unwrap().label_id;
        agree += usize::from(a == b);
    }
    let agreement = agree as f64 / texts.len() as f64;
    assert!(agreement >= 0.98, "{agree}/336 agree");
}

#[test]
fn int8_embeddings_shrink_only_the_word_table_and_work_with_f32_linears() {
    let f32_model = bundled();
    let m = f32_model
        .quantize_with(Scheme::F32, INT8_EMBEDDINGS)
        .unwrap();
    assert_eq!(m.scheme(), Scheme::F32);
    assert_eq!(m.embedding_storage(), EmbeddingStorage::Int8PerRow);
    let (a, b) = (f32_model.size(), m.size());
    assert_eq!(a.linear_bytes, b.linear_bytes);
    assert_eq!(a.total_bytes - b.total_bytes, 6183 * 256 * 3 - 4 * 6183);
    assert_eq!(m.info().parameters, f32_model.info().parameters);
    // Already quantized: no second pass, whichever part was quantized.
    assert!(m.quantize(Scheme::Int8Dynamic).is_err());
    assert_eq!(
        f32_model
            .quantize(Scheme::Q8_0)
            .unwrap()
            .embedding_storage(),
        EmbeddingStorage::F32,
        "quantize keeps its behaviour"
    );
    let text = "a quiet, moving film";
    let d = engine::compare(&f32_model, &m, text).unwrap();
    assert!(d.max_abs_diff < 0.05, "{}", d.max_abs_diff);
}
