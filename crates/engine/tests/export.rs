//! Exports: the f32 model as a Hugging Face folder, every scheme (with and without int8
//! embeddings) as a quantized safetensors file read back bit for bit.

mod common;

use common::{files, tiny};
use engine::export::hf::Precision;
use engine::{Classifier, EmbeddingStorage, ModelFiles, QuantizeOptions, Scheme};
use safetensors::SafeTensors;

const TEXTS: [&str; 4] = [
    "I love learning about AI!",
    "not bad at all",
    "Terrible. Just terrible.",
    "The plot was predictable but the acting saved it.",
];

fn logits(m: &Classifier) -> Vec<Vec<f32>> {
    TEXTS
        .iter()
        .map(|t| m.classify(t).unwrap().logits)
        .collect()
}

/// Every tensor of two safetensors files (name, dtype, shape, bytes) and their metadata.
fn assert_same_tensors(a: &[u8], b: &[u8]) {
    let (sa, sb) = (
        SafeTensors::deserialize(a).unwrap(),
        SafeTensors::deserialize(b).unwrap(),
    );
    let mut names = sa.names();
    names.sort();
    let mut other = sb.names();
    other.sort();
    assert_eq!(names, other);
    for n in names {
        let (x, y) = (sa.tensor(n).unwrap(), sb.tensor(n).unwrap());
        assert_eq!((x.dtype(), x.shape()), (y.dtype(), y.shape()), "{n}");
        assert!(x.data() == y.data(), "{n}: stored bytes differ");
    }
    let meta = |bytes| {
        SafeTensors::read_metadata(bytes)
            .unwrap()
            .1
            .metadata()
            .clone()
    };
    assert_eq!(meta(a), meta(b));
}

fn reload(model: &Classifier, original: &ModelFiles) -> (Vec<u8>, Classifier) {
    let bytes = model.export_quantized().unwrap();
    let files = ModelFiles {
        config: model.export_config(),
        tokenizer: original.tokenizer.clone(),
        weights: bytes.clone(),
    };
    (bytes, Classifier::load_quantized(&files).unwrap())
}

#[test]
fn every_scheme_round_trips_bit_for_bit() {
    let original = files("tiny", "tokenizer.json");
    let f32_model = tiny();
    for &scheme in Scheme::ALL {
        for embeddings in [EmbeddingStorage::F32, EmbeddingStorage::Int8PerRow] {
            let what = format!("{scheme} + {embeddings:?}");
            let q = f32_model
                .quantize_with(scheme, QuantizeOptions { embeddings })
                .unwrap();
            let (bytes, back) = reload(&q, &original);
            assert_eq!(back.scheme(), scheme, "{what}");
            assert_eq!(back.embedding_storage(), embeddings, "{what}");
            assert_eq!(back.size(), q.size(), "{what}");
            let layers = |m: &Classifier| {
                m.linears()
                    .into_iter()
                    .map(|l| (l.name, l.scheme, l.bytes))
                    .collect::<Vec<_>>()
            };
            assert_eq!(layers(&back), layers(&q), "{what}");
            // Stored bytes: writing the loaded model again gives the same tensors.
            assert_same_tensors(&bytes, &back.export_quantized().unwrap());
            assert_eq!(logits(&back), logits(&q), "{what}: logits");
        }
    }
}

#[test]
fn the_bundled_student_round_trips_in_q4_k_with_int8_embeddings() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/models/default/");
    let read = |f: &str| std::fs::read(format!("{dir}{f}")).unwrap();
    let original = ModelFiles {
        config: read("config.json"),
        tokenizer: engine::TokenizerFile::Json(read("tokenizer.json")),
        weights: read("model.safetensors"),
    };
    let options = QuantizeOptions {
        embeddings: EmbeddingStorage::Int8PerRow,
    };
    let q = Classifier::load(&original)
        .unwrap()
        .quantize_with(Scheme::Q4K, options)
        .unwrap();
    let (bytes, back) = reload(&q, &original);
    // The file is the stored bytes plus a header of names and metadata.
    let stored = q.size().total_bytes as usize;
    assert!(
        bytes.len() > stored && bytes.len() < stored + 16_384,
        "{}",
        bytes.len()
    );
    assert_eq!(logits(&back), logits(&q));
}

#[test]
fn the_hf_folder_reloads_with_the_same_logits() {
    let original = files("tiny", "tokenizer.json");
    let f32_model = tiny();
    let hf = f32_model.export_hf(Precision::F32).unwrap();
    let st = SafeTensors::deserialize(&hf.weights).unwrap();
    for name in [
        "distilbert.embeddings.word_embeddings.weight",
        "distilbert.transformer.layer.0.attention.q_lin.weight",
        "distilbert.transformer.layer.1.output_layer_norm.bias",
        "pre_classifier.weight",
        "classifier.bias",
    ] {
        assert_eq!(
            st.tensor(name).unwrap().dtype(),
            safetensors::Dtype::F32,
            "{name}"
        );
    }
    let reload = |files: engine::export::hf::HfFiles| {
        Classifier::load(&ModelFiles {
            config: files.config,
            tokenizer: original.tokenizer.clone(),
            weights: files.weights,
        })
        .unwrap()
    };
    let back = reload(hf);
    assert_eq!(back.labels(), f32_model.labels());
    assert_eq!(logits(&back), logits(&f32_model));

    let half = f32_model.export_hf(Precision::F16).unwrap();
    assert!(String::from_utf8_lossy(&half.config).contains("\"dtype\": \"float16\""));
    let size = half.weights.len();
    let back = reload(half);
    for (a, b) in logits(&back)
        .iter()
        .flatten()
        .zip(logits(&f32_model).iter().flatten())
    {
        assert!((a - b).abs() < 1e-2, "f16 {a} vs f32 {b}");
    }
    assert!(size < f32_model.size().total_bytes as usize * 6 / 10);

    let q = f32_model.quantize(Scheme::Int8Dynamic).unwrap();
    let err = q.export_hf(Precision::F32).unwrap_err().to_string();
    assert!(
        err.starts_with("export: a Hugging Face folder holds the f32 model"),
        "{err}"
    );
}

#[test]
fn a_file_that_is_not_a_quantized_export_is_refused_in_one_line() {
    let mut original = files("tiny", "tokenizer.json");
    let err = Classifier::load_quantized(&original)
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        err,
        "quantized.safetensors: not a squeeze quantized export (its __metadata__ has no `format: squeeze-quantized`)"
    );
    original.weights = b"nope".to_vec();
    let err = Classifier::load_quantized(&original)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.starts_with("quantized.safetensors: not a readable safetensors file"),
        "{err}"
    );
}
