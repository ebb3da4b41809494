//! A model from the Hugging Face Hub, against a fake Hub served beside the site
//! (`?hub=/fake-hub`, accepted because it is same-origin): the first load downloads
//! the three files with progress, the second reads them from the browser's Cache API
//! (the server sees no new request), a link with `model=hub&id=…` reloads it, and
//! an id the Hub does not have gives a clear message while the lab keeps its model.

use anyhow::{ensure, Result};
use e2e::lab::{testid, Lab};
use e2e::panels::{self, number};
use e2e::{repo_root, Site, TempDir, RUN_TIMEOUT};

const ID: &str = "squeeze-test/tiny-sst2";
const FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// The text of `id`, or "" when absent.
fn text_of(lab: &Lab<'_>, id: &str) -> Result<String> {
    Ok(match lab.browser.try_find(&testid(id))? {
        Some(el) => el.text()?,
        None => String::new(),
    })
}

/// Types `id` into the box, clicks load and waits until the error or the status line
/// changes; returns (is_error, its text).
fn load(lab: &Lab<'_>, id: &str) -> Result<(bool, String)> {
    let before = [text_of(lab, "hub-error")?, text_of(lab, "hub-status")?];
    let input = lab.element("hub-id")?;
    input.click()?;
    input.select_all_and_delete()?;
    input.send_keys(id)?;
    lab.element("hub-load")?.click()?;
    Ok(lab
        .browser
        .wait_for("the Hub load to end", RUN_TIMEOUT, |s| {
            if !s.find(&testid("hub-load"))?.is_enabled()? {
                return Ok(None);
            }
            for (i, (error, id)) in [(true, "hub-error"), (false, "hub-status")]
                .into_iter()
                .enumerate()
            {
                if let Some(el) = s.try_find(&testid(id))? {
                    let text = el.text()?;
                    if text != before[i] {
                        return Ok(Some((error, text)));
                    }
                }
            }
            Ok(None)
        })?)
}

fn hub_requests(site: &Site) -> Vec<String> {
    site.requests()
        .into_iter()
        .filter(|r| r.starts_with("/fake-hub/"))
        .collect()
}

#[test]
fn lab_hub_downloads_caches_and_refuses_a_missing_id() -> Result<()> {
    let hub = TempDir::new("e2e-fake-hub")?;
    let folder = hub.path().join(ID).join("resolve/main");
    std::fs::create_dir_all(&folder)?;
    let tiny = repo_root().join("tests/fixtures/tiny");
    let mut bytes = 0;
    for name in FILES {
        bytes += std::fs::copy(tiny.join(name), folder.join(name))?;
    }
    let Some(site) = Site::start_with(
        "lab_hub_downloads_caches_and_refuses_a_missing_id",
        vec![("/fake-hub/".to_string(), hub.path().to_path_buf())],
    )?
    else {
        return Ok(());
    };
    let lab = Lab::open(&site, "?hub=/fake-hub")?;
    let hub_attr = lab.attr("hub-panel", "data-hub")?;
    ensure!(
        hub_attr == site.url("/fake-hub"),
        "the same-origin hub was not taken: {hub_attr}"
    );
    let table = panels::wait_for_table(&lab, 0)?;

    // First load: downloaded, with progress.
    let (error, status) = load(&lab, ID)?;
    ensure!(!error, "the first load failed: {status}");
    println!("first: {status}");
    let downloaded = number(&lab.element("hub-status")?, "data-downloaded", "hub-status")?;
    ensure!(
        downloaded as u64 == bytes,
        "downloaded {downloaded} bytes, the files have {bytes}"
    );
    let progress = lab.element("hub-progress")?;
    let loaded = number(&progress, "data-loaded", "hub-progress")?;
    let total = number(&progress, "data-total", "hub-progress")?;
    let events = number(&progress, "data-events", "hub-progress")?;
    println!("progress: {loaded} / {total} in {events} reports");
    ensure!(
        loaded as u64 == bytes && total as u64 == bytes && events >= 2.0,
        "progress {loaded}/{total} in {events} reports"
    );
    let model = lab.element("model-status")?.text()?;
    ensure!(
        model.contains(ID),
        "model status does not name {ID}: {model}"
    );
    let requests = hub_requests(&site);
    println!("hub requests: {requests:?}");
    ensure!(requests.len() == 3, "expected 3 Hub requests: {requests:?}");
    // Every panel moves to the new model, and the URL names it.
    panels::wait_for_table(&lab, table)?;
    let url = lab.browser.current_url()?;
    ensure!(
        url.contains("model=hub") && url.contains("id=squeeze-test%2Ftiny-sst2"),
        "{url}"
    );

    // Second load: from the Cache API, nothing asked of the server.
    let (error, again) = load(&lab, ID)?;
    ensure!(!error, "the cached load failed: {again}");
    println!("second: {again}");
    ensure!(
        number(&lab.element("hub-status")?, "data-downloaded", "hub-status")? == 0.0,
        "the second load downloaded: {again}"
    );
    ensure!(
        hub_requests(&site).len() == 3,
        "the cached load asked the server: {:?}",
        hub_requests(&site)
    );

    // A link with the Hub model reloads it (from the cache) after the bundled one.
    site.browser.goto(&site.url(&format!(
        "/lab?hub=/fake-hub&model=hub&id={}",
        e2e::encode_query_value(ID)
    )))?;
    let linked = lab
        .browser
        .wait_for("the linked Hub model", RUN_TIMEOUT, |s| {
            s.try_find(&testid("hub-status"))?
                .map(|e| e.text())
                .transpose()
        })?;
    println!("linked: {linked}");
    ensure!(linked.contains(ID) && linked.contains("cache"), "{linked}");
    ensure!(hub_requests(&site).len() == 3, "the link downloaded again");

    // An id the Hub does not have: a clear message, the model stays.
    let before = lab.element("model-status")?.text()?;
    let (error, message) = load(&lab, "squeeze-test/no-such-model")?;
    println!("missing: {message}");
    ensure!(error, "a missing id loaded: {message}");
    ensure!(
        message.contains("no-such-model") && message.contains("keeps its current model"),
        "{message}"
    );
    ensure!(
        lab.element("model-status")?.text()? == before,
        "the model changed"
    );
    Ok(())
}
