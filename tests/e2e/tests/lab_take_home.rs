//! "Take it home" in the lab (issue 16, item 5): the page's downloads are real files on
//! disk that the native engine reads — the Hugging Face folder with the f32 model's very
//! logits, the f16 one within f16 rounding, a quantized zip byte for byte what the native
//! engine writes — and a saved zip loads back in the page with the same logits, bit for
//! bit. Bad zips and a recipe download before any recipe get one line each.

use anyhow::{ensure, Result};
use e2e::lab::{testid, Lab};
use e2e::panels::{attr, floats, model_dir, native_model};
use e2e::{Site, TempDir, UI_TIMEOUT};
use engine::export::bundle;
use engine::export::hf::Precision;
use engine::{metrics, Classifier, QuantizeOptions, Scheme, TokenizerFile};

const SENTENCE: &str = "The staff were friendly but the room was tiny.";

fn largest_gap(a: &Classifier, b: &Classifier) -> Result<f32> {
    let (x, y) = (a.classify(SENTENCE)?.logits, b.classify(SENTENCE)?.logits);
    Ok(metrics::max_abs_diff(&x, &y)?)
}

#[test]
fn downloads_are_real_models_and_load_back_bit_for_bit() -> Result<()> {
    let Some(site) = Site::start("downloads_are_real_models_and_load_back_bit_for_bit")? else {
        return Ok(());
    };
    let text = format!("?text={}", SENTENCE.replace(' ', "%20"));
    let lab = Lab::open(&site, &text)?;
    lab.wait_until_ready()?;
    let f32 = native_model(&model_dir())?;
    let tokenizer = TokenizerFile::Json(std::fs::read(model_dir().join("tokenizer.json"))?);

    // The Hugging Face folder, f32: the same model, to the last bit of its logits.
    lab.element("take-home-hf-f32")?.click()?;
    let hf = lab
        .browser
        .wait_download("squeeze-default-hf-f32.zip", UI_TIMEOUT)?;
    let files = bundle::read(&hf)?;
    ensure!(
        files.kind == bundle::BundleKind::HuggingFace,
        "{:?}",
        files.kind
    );
    ensure!(
        hf == f32.hf_bundle("default", Precision::F32, &tokenizer)?.bytes,
        "the page's f32 zip differs from the native engine's"
    );
    let gap = largest_gap(&files.load()?, &f32)?;
    ensure!(gap == 0.0, "f32 folder logits differ by {gap}");

    // f16: within f16's rounding of the weights.
    lab.element("take-home-hf-f16")?.click()?;
    let half = lab
        .browser
        .wait_download("squeeze-default-hf-f16.zip", UI_TIMEOUT)?;
    let gap = largest_gap(&Classifier::load_zip(&half)?, &f32)?;
    ensure!(gap > 0.0 && gap < 1e-2, "f16 folder logits differ by {gap}");

    // q4_k with int8 embeddings: byte for byte the native engine's zip.
    lab.browser
        .find(&format!(
            "{} option[value=\"q4_k\"]",
            testid("take-home-scheme")
        ))?
        .click()?;
    lab.element("take-home-int8-embeddings")?.click()?;
    lab.element("take-home-quantized")?.click()?;
    let name = "squeeze-default-q4_k-int8-embeddings.zip";
    let q = lab.browser.wait_download(name, UI_TIMEOUT)?;
    let native = f32.quantize_with(Scheme::Q4K, QuantizeOptions::int8_embeddings(true))?;
    ensure!(
        q == native.quantized_bundle("default", &tokenizer)?.bytes,
        "the page's q4_k zip ({} B) differs from the native engine's",
        q.len()
    );
    let saved = lab.element("take-home-saved")?;
    ensure!(
        attr(&saved, "data-file", "take-home-saved")? == name,
        "saved line names another file"
    );

    // Load it back in the page: the same logits as the lab's model in those schemes.
    let dir = TempDir::new("take-home")?;
    let path = dir.path().join(name);
    std::fs::write(&path, &q)?;
    lab.element("take-home-check-file")?
        .send_keys(&path.display().to_string())?;
    let check = lab
        .browser
        .wait_for_element(&testid("take-home-check"), UI_TIMEOUT)?;
    ensure!(
        attr(&check, "data-kind", "take-home-check")? == "quantized"
            && attr(&check, "data-max-abs-diff", "take-home-check")? == "0.0",
        "check: {}",
        check.text()?
    );
    let logits = floats(&check, "data-logits", "take-home-check")?;
    let want = native.classify(SENTENCE)?.logits;
    let gap = metrics::max_abs_diff(&logits, &want)?;
    // wasm and x86 kernels sum in other orders: float tolerance, not bits, across machines.
    ensure!(gap < 1e-4, "page {logits:?} vs native {want:?}");

    // Bad files: one line each, the last check stays.
    let cases = [
        ("notes.zip", b"just some notes".to_vec(), "not a zip"),
        ("empty.zip", Vec::new(), "empty"),
    ];
    let mut before = String::new();
    for (file, body, expect) in cases {
        let p = dir.path().join(file);
        std::fs::write(&p, body)?;
        lab.element("take-home-check-file")?
            .send_keys(&p.display().to_string())?;
        let message = lab.wait_message("take-home-error", &before)?;
        ensure!(
            message.to_lowercase().contains(expect) && message.lines().count() == 1,
            "{file}: {message:?}"
        );
        ensure!(lab.has("take-home-check")?, "{file} removed the last check");
        before = message;
    }
    // The recipe's model before any recipe was built.
    lab.element("take-home-recipe")?.click()?;
    let message = lab.wait_message("take-home-error", &before)?;
    ensure!(message.contains("recipe"), "{message}");
    e2e::figures::console_clean(&site.browser, "/lab")?;
    Ok(())
}
