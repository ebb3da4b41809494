//! A recipe for a budget in the lab (issue 16, item 3): measure every layer, take the
//! budget "no larger than int8-dynamic", build the mixed model and judge it on the
//! held-out set; the same recipe built by the native engine gives the same bytes and
//! (within one sentence) the same accuracy; the recipe downloads as JSON that the engine
//! reads and that loads back in the page; bad recipe files get one line. With int8
//! embeddings at q4_k's size the student meets the issue's ≤ 3.5 MB / ≥ 98% target.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use e2e::lab::{testid, Lab};
use e2e::panels::{attr, model_dir, native_model, number};
use e2e::{Site, TempDir, UI_TIMEOUT};
use engine::recipe::{EvalSet, Recipe};
use engine::{Classifier, EmbeddingStorage, QuantizeOptions, Scheme};

/// Measuring 16 sentences × 7 schemes per layer, then judging 9 models on 336 sentences.
const WORK_TIMEOUT: Duration = Duration::from_secs(300);

fn held_out(f32: &Classifier) -> Result<EvalSet> {
    Ok(EvalSet::new(f32, &e2e::held_out_sentences()?)?)
}

fn wait_phase(lab: &Lab<'_>, phase: &str) -> Result<()> {
    lab.browser.wait_for(
        &format!("the recipe panel to be {phase}"),
        WORK_TIMEOUT,
        |s| {
            if let Some(e) = s.try_find(&testid("recipe-error"))? {
                return Err(e2e::Error(format!("recipe error: {}", e.text()?)));
            }
            let panel = s.find(&testid("recipe-panel"))?;
            Ok((panel.attr("data-phase")?.as_deref() == Some(phase)).then_some(()))
        },
    )?;
    Ok(())
}

/// Waits for the panel's `runs`-th outcome and returns its key (bytes, mean MSE, embeddings).
fn wait_outcome(lab: &Lab<'_>, runs: u32) -> Result<String> {
    Ok(lab
        .browser
        .wait_for(&format!("the recipe's outcome {runs}"), WORK_TIMEOUT, |s| {
            if let Some(e) = s.try_find(&testid("recipe-error"))? {
                return Err(e2e::Error(format!("recipe error: {}", e.text()?)));
            }
            let panel = s.find(&testid("recipe-panel"))?;
            let shown: u32 = panel
                .attr("data-runs")?
                .and_then(|r| r.parse().ok())
                .unwrap_or(0);
            if shown < runs || panel.attr("data-phase")?.as_deref() != Some("measured") {
                return Ok(None);
            }
            let o = s.find(&testid("recipe-outcome"))?;
            Ok(Some(format!(
                "{}/{}/{}",
                o.attr("data-bytes")?.unwrap_or_default(),
                o.attr("data-mean-mse")?.unwrap_or_default(),
                o.attr("data-int8-embeddings")?.unwrap_or_default()
            )))
        })?)
}

/// The recipe the page shows in its per-layer table.
fn shown_layers(lab: &Lab<'_>) -> Result<Vec<(String, String)>> {
    lab.browser
        .find_all(&testid("recipe-layer"))?
        .iter()
        .map(|row| {
            Ok((
                attr(row, "data-layer", "recipe-layer")?,
                attr(row, "data-scheme", "recipe-layer")?,
            ))
        })
        .collect()
}

#[test]
fn a_recipe_no_larger_than_int8_keeps_f32_accuracy_downloads_and_loads_back() -> Result<()> {
    let Some(site) =
        Site::start("a_recipe_no_larger_than_int8_keeps_f32_accuracy_downloads_and_loads_back")?
    else {
        return Ok(());
    };
    let lab = Lab::open(&site, "")?;
    lab.wait_until_ready()?;
    let f32 = native_model(&model_dir())?;
    let int8_bytes = f32.quantize(Scheme::Int8Dynamic)?.size().total_bytes;

    lab.browser
        .find(&format!(
            "{} option[value=\"16\"]",
            testid("recipe-sentences")
        ))?
        .click()?;
    lab.element("recipe-measure")?.click()?;
    wait_phase(&lab, "measured")?;
    // The budget starts at int8-dynamic's size; the preview fits it.
    let preview = lab.element("recipe-preview")?;
    let predicted = number(&preview, "data-bytes", "recipe-preview")? as u64;
    ensure!(
        predicted <= int8_bytes,
        "preview {predicted} B > int8-dynamic {int8_bytes} B"
    );
    lab.element("recipe-apply")?.click()?;
    let first = wait_outcome(&lab, 1)?;
    eprintln!("recipe: built {first}");

    let outcome = lab.element("recipe-outcome")?;
    let bytes = number(&outcome, "data-bytes", "recipe-outcome")? as u64;
    let accuracy = number(&outcome, "data-accuracy", "recipe-outcome")?;
    let f32_accuracy = number(&outcome, "data-f32-accuracy", "recipe-outcome")?;
    let agreement = number(&outcome, "data-agreement", "recipe-outcome")?;
    ensure!(bytes <= int8_bytes, "mixed {bytes} B > int8 {int8_bytes} B");
    // The issue's target: within 0.5 points of f32 on the held-out set.
    ensure!(
        (accuracy - f32_accuracy).abs() <= 0.005,
        "held-out accuracy {accuracy} vs f32 {f32_accuracy}"
    );

    // The native engine builds the same mixed model from the table the page shows.
    let layers = shown_layers(&lab)?;
    ensure!(
        layers.len() == f32.linears().len(),
        "{} layers shown",
        layers.len()
    );
    let recipe = Recipe::by_hand(
        layers
            .iter()
            .map(|(l, s)| Ok((l.clone(), s.parse::<Scheme>()?)))
            .collect::<Result<Vec<_>>>()?,
    );
    let native = f32.apply_recipe(&recipe)?;
    let judged = held_out(&f32)?.evaluate(&native)?;
    ensure!(
        judged.bytes == bytes,
        "native mixed model {} B, page {bytes} B",
        judged.bytes
    );
    let n = judged.n as f64;
    ensure!(
        (judged.accuracy - accuracy).abs() * n <= 1.0 + 1e-9
            && (judged.agreement - agreement).abs() * n <= 1.0 + 1e-9,
        "native accuracy {} agreement {}, page {accuracy} {agreement}",
        judged.accuracy,
        judged.agreement
    );
    // The chart has the recipe among f32 and the seven uniform schemes.
    let points = lab.browser.find_all(&testid("recipe-point"))?;
    ensure!(points.len() == 9, "{} chart points", points.len());

    // Download it: the engine reads the file, and it names the same schemes.
    lab.element("recipe-download")?.click()?;
    let name = format!("recipe-{:.2}MB.json", bytes as f64 / 1e6);
    let file = lab.browser.wait_download(&name, UI_TIMEOUT)?;
    let downloaded = Recipe::from_json(&file).context("the downloaded recipe")?;
    for (layer, scheme) in &layers {
        ensure!(
            downloaded.scheme_of(layer).map(|s| s.name()) == Some(scheme.as_str()),
            "downloaded recipe: {layer} is {:?}, page shows {scheme}",
            downloaded.scheme_of(layer)
        );
    }
    ensure!(
        downloaded.bytes == bytes,
        "file says {} B",
        downloaded.bytes
    );

    eprintln!("recipe: downloaded {name}");
    // Bad recipe files: one line each, the outcome shown stays.
    let dir = TempDir::new("recipes")?;
    let mut missing: serde_json::Value = serde_json::from_slice(&file)?;
    missing["layers"][0]["layer"] = "transformer.layer.9.ffn.lin9".into();
    let cases = [
        (
            "missing-layer.json",
            missing.to_string(),
            "transformer.layer.9.ffn.lin9",
        ),
        (
            "notes.json",
            "these are my notes".to_string(),
            "not a recipe file",
        ),
        (
            "other.json",
            r#"{"format": "something-else", "version": 1}"#.to_string(),
            "something-else",
        ),
    ];
    let mut before = String::new();
    for (file_name, body, expect) in cases {
        let path = dir.path().join(file_name);
        std::fs::write(&path, body)?;
        lab.element("recipe-file")?
            .send_keys(&path.display().to_string())?;
        let message = lab.wait_message("recipe-error", &before)?;
        ensure!(
            message.contains(expect) && message.lines().count() == 1,
            "{file_name}: {message:?}"
        );
        ensure!(
            lab.has("recipe-outcome")?,
            "{file_name} removed the outcome"
        );
        before = message;
    }

    eprintln!("recipe: bad files refused");
    // The downloaded file loads back and rebuilds the same model.
    let path = dir.path().join(&name);
    std::fs::write(&path, &file)?;
    lab.element("recipe-file")?
        .send_keys(&path.display().to_string())?;
    let again = wait_outcome(&lab, 2)?;
    ensure!(again == first, "loaded back: {again}, built: {first}");

    eprintln!("recipe: loaded back");
    // Int8 embeddings at q4_k's size: the issue's ≤ 3.5 MB and ≥ 98% agreement.
    lab.browser
        .find(&format!(
            "{}[data-scheme=\"q4_k\"]",
            testid("recipe-as-small-as")
        ))?
        .click()?;
    lab.element("recipe-int8-embeddings")?.click()?;
    lab.element("recipe-apply")?.click()?;
    wait_outcome(&lab, 3)?;
    let outcome = lab.element("recipe-outcome")?;
    let small = number(&outcome, "data-bytes", "recipe-outcome")? as u64;
    let small_agreement = number(&outcome, "data-agreement", "recipe-outcome")?;
    ensure!(
        attr(&outcome, "data-int8-embeddings", "recipe-outcome")? == "true",
        "embeddings not int8"
    );
    let q4k_int8_emb = f32
        .quantize_with(
            Scheme::Q4K,
            QuantizeOptions {
                embeddings: EmbeddingStorage::Int8PerRow,
            },
        )?
        .size()
        .total_bytes;
    ensure!(
        small <= q4k_int8_emb && small <= 3_500_000,
        "{small} B (uniform q4_k with int8 embeddings: {q4k_int8_emb} B)"
    );
    ensure!(small_agreement >= 0.98, "agreement {small_agreement}");
    eprintln!(
        "recipe ≤ int8-dynamic: {bytes} B, accuracy {accuracy:.4} (f32 {f32_accuracy:.4}), \
         agreement {agreement:.4}; at q4_k's size with int8 embeddings: {small} B, agreement {small_agreement:.4}"
    );
    e2e::figures::console_clean(&site.browser, "/lab")?;
    Ok(())
}
