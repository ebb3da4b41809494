//! Bundles round-trip (every file identical to the folder export, logits bit for bit),
//! another zip reader takes ours and ours takes its, and bad zips get one clear line.

use super::*;
use crate::explain::bundled;
use crate::recipe::Recipe;
use crate::{QuantizeOptions, Scheme};

const TEXTS: [&str; 3] = [
    "I love learning about AI!",
    "not bad at all",
    "The plot was predictable but the acting saved it.",
];

fn tokenizer() -> TokenizerFile {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../www/models/default/tokenizer.json"
    );
    TokenizerFile::Json(std::fs::read(path).expect("the bundled tokenizer"))
}

fn logits(m: &Classifier) -> Vec<Vec<f32>> {
    TEXTS
        .iter()
        .map(|t| m.classify(t).expect("classifies").logits)
        .collect()
}

/// The entries of a zip as (name, bytes), by our reader.
fn entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    zip::read(bytes)
        .expect("our zip reads")
        .into_iter()
        .map(|e| (e.name, e.data.to_vec()))
        .collect()
}

/// A recipe giving the layers of the bundled student several schemes.
fn recipe(model: &Classifier) -> Recipe {
    let cycle = [
        Scheme::Q4K,
        Scheme::Int8Dynamic,
        Scheme::F32,
        Scheme::Q8_0,
        Scheme::F16,
    ];
    Recipe::by_hand(
        model
            .linears()
            .into_iter()
            .enumerate()
            .map(|(i, l)| (l.name, cycle[i % cycle.len()])),
    )
}

#[test]
fn hugging_face_bundles_hold_the_folder_export_and_load_back() {
    let model = bundled();
    let tok = tokenizer();
    for (precision, variant) in [(Precision::F32, "hf-f32"), (Precision::F16, "hf-f16")] {
        let bundle = model.hf_bundle("student", precision, &tok).unwrap();
        let folder = format!("squeeze-student-{variant}");
        assert_eq!(bundle.file_name, format!("{folder}.zip"));
        let files = model.export_hf(precision).unwrap();
        assert_eq!(
            entries(&bundle.bytes),
            [
                (format!("{folder}/config.json"), files.config.clone()),
                (format!("{folder}/model.safetensors"), files.weights.clone()),
                (format!("{folder}/tokenizer.json"), tok.bytes().to_vec()),
            ]
        );
        let read = read(&bundle.bytes).unwrap();
        assert_eq!(
            (read.kind, read.folder.as_str()),
            (BundleKind::HuggingFace, folder.as_str())
        );
        let back = Classifier::load_zip(&bundle.bytes).unwrap();
        let expected = Classifier::load(&ModelFiles {
            config: files.config,
            tokenizer: tok.clone(),
            weights: files.weights,
        })
        .unwrap();
        assert_eq!(logits(&back), logits(&expected), "{variant}");
        if precision == Precision::F32 {
            assert_eq!(logits(&back), logits(model));
        }
    }
}

#[test]
fn quantized_bundles_hold_the_folder_export_and_load_back_bit_for_bit() {
    let f32_model = bundled();
    let tok = tokenizer();
    let int8_emb = QuantizeOptions {
        embeddings: EmbeddingStorage::Int8PerRow,
    };
    let recipe = recipe(f32_model);
    let models = [
        (
            f32_model.quantize(Scheme::Int8Dynamic).unwrap(),
            "int8-dynamic",
        ),
        (
            f32_model.quantize_with(Scheme::Q4K, int8_emb).unwrap(),
            "q4_k-int8-embeddings",
        ),
        (f32_model.apply_recipe(&recipe).unwrap(), "recipe"),
        (
            f32_model.apply_recipe_with(&recipe, int8_emb).unwrap(),
            "recipe-int8-embeddings",
        ),
    ];
    for (model, variant) in models {
        let bundle = model.quantized_bundle("student", &tok).unwrap();
        let folder = format!("squeeze-student-{variant}");
        assert_eq!(bundle.file_name, format!("{folder}.zip"));
        assert_eq!(
            entries(&bundle.bytes),
            [
                (format!("{folder}/config.json"), model.export_config()),
                (
                    format!("{folder}/quantized.safetensors"),
                    model.export_quantized().unwrap()
                ),
                (format!("{folder}/tokenizer.json"), tok.bytes().to_vec()),
            ],
            "{variant}: the bundle holds the folder export's bytes"
        );
        let back = Classifier::load_zip(&bundle.bytes).unwrap();
        assert_eq!(read(&bundle.bytes).unwrap().kind, BundleKind::Quantized);
        assert_eq!(logits(&back), logits(&model), "{variant}");
        assert_eq!(back.embedding_storage(), model.embedding_storage());
        let schemes = |m: &Classifier| {
            m.linears()
                .into_iter()
                .map(|l| l.scheme)
                .collect::<Vec<_>>()
        };
        assert_eq!(schemes(&back), schemes(&model), "{variant}");
        assert_eq!(quantized_variant(&back), variant);
        assert_eq!(
            back.quantized_bundle("student", &tok).unwrap().bytes,
            bundle.bytes,
            "{variant}: a reloaded model bundles to the same bytes"
        );
    }
}

// The `zip` crate is a native-only dev-dependency.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn another_zip_reader_takes_our_zips_and_ours_takes_its() {
    use std::io::{Cursor, Read, Write};
    let bytes = zip::write(&[
        ("m/", &[]),
        ("m/config.json", b"{}"),
        ("m/ünïcode.txt", "naïve\n".as_bytes()),
        ("m/empty", &[]),
    ])
    .unwrap();
    let mut archive = ::zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
    let mut seen = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        assert_eq!(f.compression(), ::zip::CompressionMethod::Stored);
        let name = f.name().unwrap().into_owned();
        let mode = f.unix_mode().unwrap();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap(); // checks the CRC-32
        seen.push((name, data, mode & 0o777));
    }
    assert_eq!(
        seen,
        [
            ("m/".to_string(), vec![], 0o755),
            ("m/config.json".to_string(), b"{}".to_vec(), 0o644),
            (
                "m/ünïcode.txt".to_string(),
                "naïve\n".as_bytes().to_vec(),
                0o644
            ),
            ("m/empty".to_string(), vec![], 0o644),
        ]
    );

    let mut w = ::zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = ::zip::write::SimpleFileOptions::default()
        .compression_method(::zip::CompressionMethod::Stored);
    w.add_directory("theirs/", options).unwrap();
    for (name, data) in [
        ("theirs/a.txt", &b"alpha"[..]),
        ("theirs/b.bin", &[0u8, 255, 7][..]),
    ] {
        w.start_file(name, options).unwrap();
        w.write_all(data).unwrap();
    }
    let theirs = w.finish().unwrap().into_inner();
    assert_eq!(
        entries(&theirs),
        [
            ("theirs/a.txt".to_string(), b"alpha".to_vec()),
            ("theirs/b.bin".to_string(), vec![0, 255, 7]),
        ]
    );
}

/// Our reader's error on `bytes`.
fn zip_error(bytes: &[u8]) -> String {
    zip::read(bytes).unwrap_err().to_string()
}

#[test]
fn bad_zips_get_one_clear_line() {
    let good = zip::write(&[("m/config.json", b"{\"a\": 1}")]).unwrap();
    // Offsets in our one-entry zip: local header at 0, central header after the data.
    let central = 30 + "m/config.json".len() + 8;
    let patched = |at: usize, value: &[u8]| {
        let mut b = good.clone();
        b[at..at + value.len()].copy_from_slice(value);
        b
    };
    let compressed = patched(central + 10, &8u16.to_le_bytes());
    assert_eq!(zip_error(&compressed), zip::COMPRESSED);
    let encrypted = patched(central + 8, &1u16.to_le_bytes());
    assert!(zip_error(&encrypted).starts_with("this zip is encrypted (m/config.json)"));
    let end = good.len() - 22;
    let zip64 = patched(end + 10, &u16::MAX.to_le_bytes());
    assert!(zip_error(&zip64).starts_with("this zip uses ZIP64"));
    let damaged = patched(30 + "m/config.json".len(), b"[");
    assert!(zip_error(&damaged).contains("does not match its checksum"));
    for cut in [good.len() - 1, good.len() / 2, 10] {
        assert_eq!(
            zip_error(&good[..cut]),
            "this zip is cut short or damaged; download it again",
            "cut at {cut}"
        );
    }
    assert_eq!(zip_error(b"{\"not\": \"a zip\"}"), "not a zip file");
    assert_eq!(zip_error(b""), "not a zip file");
    for message in [
        zip_error(&compressed),
        zip_error(&encrypted),
        zip_error(&zip64),
        zip_error(&damaged),
    ] {
        assert_eq!(message.lines().count(), 1, "{message}");
    }
}

#[test]
fn zips_without_a_model_get_one_clear_line() {
    let error =
        |files: &[(&str, &[u8])]| read(&zip::write(files).unwrap()).unwrap_err().to_string();
    assert!(error(&[("a/b.txt", b"")]).starts_with("this zip has no config.json"));
    assert!(error(&[("a/config.json", b""), ("b/config.json", b"")])
        .starts_with("this zip holds more than one model"));
    assert_eq!(
        error(&[("a/config.json", b""), ("a/model.safetensors", b"")]),
        "this zip has no tokenizer.json or vocab.txt beside config.json in `a/`"
    );
    assert_eq!(
        error(&[("config.json", b""), ("vocab.txt", b"")]),
        "this zip has no model.safetensors or quantized.safetensors beside config.json"
    );
    assert!(error(&[
        ("config.json", b""),
        ("vocab.txt", b""),
        ("model.safetensors", b""),
        ("quantized.safetensors", b""),
    ])
    .starts_with("this zip holds both"));
    // Files at the top level, a vocab.txt, and macOS's resource forks ignored.
    let ok = read(
        &zip::write(&[
            ("__MACOSX/._config.json", b"x"),
            ("config.json", b"{}"),
            ("vocab.txt", b"[PAD]"),
            ("quantized.safetensors", b"q"),
        ])
        .unwrap(),
    )
    .unwrap();
    assert_eq!((ok.folder.as_str(), ok.kind), ("", BundleKind::Quantized));
    assert!(matches!(ok.files.tokenizer, TokenizerFile::Vocab(ref v) if v == b"[PAD]"));
}

#[test]
fn names_are_safe_file_names() {
    assert_eq!(
        file_name("student", "int8-dynamic"),
        "squeeze-student-int8-dynamic.zip"
    );
    assert_eq!(
        folder_name("distilbert/sst-2 english", "hf-f16"),
        "squeeze-distilbert-sst-2-english-hf-f16"
    );
    assert_eq!(folder_name("squeeze-mine", "q4_k"), "squeeze-mine-q4_k");
    assert_eq!(folder_name("../..", "f32"), "squeeze-student-f32");
    assert_eq!(folder_name("", "recipe"), "squeeze-student-recipe");
}

#[test]
fn no_corrupted_byte_makes_the_reader_panic() {
    let good = zip::write(&[("m/", &[]), ("m/config.json", b"{}"), ("m/v.txt", b"[PAD]")]).unwrap();
    for at in 0..good.len() {
        for value in [0x00, 0xff, 0x7f] {
            let mut bad = good.clone();
            bad[at] = value;
            if let Err(e) = zip::read(&bad) {
                assert_eq!(e.to_string().lines().count(), 1, "byte {at} = {value}: {e}");
            }
            let _ = read(&bad);
        }
    }
}
