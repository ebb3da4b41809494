//! "Your own model": malformed, wrong-shape and huge files give a clear message and
//! the lab keeps its model; good files replace it and the panels use the new one.

use anyhow::{ensure, Result};
use e2e::lab::{testid, Lab};
use e2e::panels::{self, model_dir};
use e2e::{Site, TempDir, RUN_TIMEOUT};

/// Puts the three paths into the file inputs, clicks load and waits for an error
/// other than `previous`; returns it.
fn upload_error(lab: &Lab<'_>, files: [&std::path::Path; 3], previous: &str) -> Result<String> {
    for (id, path) in ["upload-config", "upload-tokenizer", "upload-weights"]
        .iter()
        .zip(files)
    {
        lab.element(id)?.send_keys(&path.display().to_string())?;
    }
    lab.element("upload-load")?.click()?;
    Ok(lab.browser.wait_for("an upload error", RUN_TIMEOUT, |s| {
        let Some(el) = s.try_find(&testid("upload-error"))? else {
            return Ok(None);
        };
        let text = el.text()?;
        Ok((!text.is_empty() && text != previous).then_some(text))
    })?)
}

fn status(lab: &Lab<'_>) -> Result<(String, String)> {
    let el = lab.element("model-status")?;
    Ok((el.attr("data-state")?.unwrap_or_default(), el.text()?))
}

#[test]
fn lab_upload_refuses_bad_files_and_keeps_the_model() -> Result<()> {
    let Some(site) = Site::start("lab_upload_refuses_bad_files_and_keeps_the_model")? else {
        return Ok(());
    };
    let lab = Lab::open(&site, "")?;
    let run = panels::wait_for_table(&lab, 0)?;
    let before = status(&lab)?;
    let dir = TempDir::new("e2e-upload")?;
    let src = model_dir();
    let tokenizer = src.join("tokenizer.json");
    let weights = src.join("model.safetensors");

    // Malformed JSON.
    let bad_config = dir.path().join("config.json");
    std::fs::write(&bad_config, "{ this is not json")?;
    let e1 = upload_error(&lab, [&bad_config, &tokenizer, &weights], "")?;
    println!("malformed: {e1}");
    ensure!(
        e1.contains("config.json"),
        "message does not name the file: {e1}"
    );
    ensure!(
        status(&lab)? == before,
        "model status changed: {:?}",
        status(&lab)?
    );

    // Valid JSON, wrong shapes: the config says the model is twice as wide.
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(src.join("config.json"))?)?;
    let dim = config["dim"].as_u64().unwrap_or(256);
    config["dim"] = serde_json::json!(dim * 2);
    let wide = dir.path().join("wide").join("config.json");
    std::fs::create_dir_all(wide.parent().unwrap())?;
    std::fs::write(&wide, serde_json::to_vec(&config)?)?;
    let e2 = upload_error(&lab, [&wide, &tokenizer, &weights], &e1)?;
    println!("wrong shape: {e2}");
    ensure!(e2.contains("keeps its current model"), "{e2}");
    ensure!(
        status(&lab)? == before,
        "model status changed: {:?}",
        status(&lab)?
    );

    // Over 1 GiB: refused by size before reading (a sparse file takes no disk).
    let huge = dir.path().join("huge.safetensors");
    std::fs::File::create(&huge)?.set_len(1_200_000_000)?;
    let e3 = upload_error(&lab, [&src.join("config.json"), &tokenizer, &huge], &e2)?;
    println!("huge: {e3}");
    ensure!(
        e3.contains("huge.safetensors") && e3.contains("1 GiB"),
        "{e3}"
    );
    ensure!(
        status(&lab)? == before,
        "model status changed: {:?}",
        status(&lab)?
    );

    // The lab still works with its model.
    ensure!(
        panels::table_run(&lab)? >= run,
        "the scheme table went away"
    );

    // Good files replace the model; the table reruns for it and the URL says so.
    for (id, path) in ["upload-config", "upload-tokenizer", "upload-weights"]
        .iter()
        .zip([&src.join("config.json"), &tokenizer, &weights])
    {
        lab.element(id)?.send_keys(&path.display().to_string())?;
    }
    let last = panels::table_run(&lab)?;
    lab.element("upload-load")?.click()?;
    lab.browser
        .wait_for("the upload to load", RUN_TIMEOUT, |s| {
            Ok(s.try_find(&testid("upload-status"))?.map(|_| ()))
        })?;
    let (state, text) = status(&lab)?;
    ensure!(
        state == "ready" && text.contains("model.safetensors"),
        "status {state}: {text}"
    );
    panels::wait_for_table(&lab, last)?;
    let url = lab.browser.current_url()?;
    ensure!(
        url.contains("model=files"),
        "URL does not say model=files: {url}"
    );
    Ok(())
}
