//! The page's own defences: a Content-Security-Policy that the working page does not
//! trip and that keeps the page off the Hugging Face Hub; the worker, which the page's
//! meta policy does not bind (measured here), bound instead by the policy the site's
//! files are served with (`www/_headers`, in every build): its own origin plus the Hub for
//! a Hub model the learner asks for; and a worker that is restarted (and the learner
//! told) when it dies.

use anyhow::{ensure, Context, Result};
use e2e::lab::{testid, Lab};
use e2e::{repo_root, Site, TempDir, RUN_TIMEOUT};
use serde_json::{json, Value};

/// Console lines that report a CSP violation.
fn csp_violations(log: &[String]) -> Vec<&String> {
    log.iter()
        .filter(|l| l.contains("Content Security Policy") || l.contains("Refused to"))
        .collect()
}

#[test]
fn the_csp_is_present_and_the_lab_works_under_it() -> Result<()> {
    let Some(site) = Site::start("the_csp_is_present_and_the_lab_works_under_it")? else {
        return Ok(());
    };
    let html = std::fs::read_to_string(site.dist().join("index.html"))?;
    let csp_at = html
        .find("http-equiv=\"Content-Security-Policy\"")
        .context("no CSP meta tag in dist/index.html")?;
    let first_script = html.find("<script").context("no script in index.html")?;
    ensure!(
        csp_at < first_script,
        "the CSP must come before the first script"
    );
    for directive in [
        "default-src 'none'",
        "script-src 'self' 'wasm-unsafe-eval' 'nonce-",
        "worker-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
    ] {
        ensure!(html.contains(directive), "CSP lacks `{directive}`");
    }
    ensure!(!html.contains("'unsafe-eval'"), "no eval allowed");

    let lab = Lab::open(&site, "")?;
    let mut log = site.browser.browser_log();
    lab.run()?;
    ensure!(!lab.has("lab-error")?, "the lab failed under the CSP");
    // A lesson page too (code blocks, highlighting).
    site.browser.goto(&site.url("/learn/quantization"))?;
    site.browser
        .wait_for_element("[data-testid=code-block]", RUN_TIMEOUT)?;
    log.extend(site.browser.browser_log());
    let bad = csp_violations(&log);
    ensure!(bad.is_empty(), "CSP violations: {bad:#?}");
    // The policy is enforced, not just present: an inline script without the nonce is refused.
    let ran = site.browser.execute(
        "const s = document.createElement('script');
         s.textContent = 'window.__inline_ran = true';
         document.head.appendChild(s);
         return window.__inline_ran === true;",
        vec![],
    )?;
    ensure!(
        ran == serde_json::json!(false),
        "an injected inline script ran"
    );
    Ok(())
}

#[test]
fn a_dead_worker_is_restarted_and_the_learner_told() -> Result<()> {
    let Some(site) = Site::start("a_dead_worker_is_restarted_and_the_learner_told")? else {
        return Ok(());
    };
    let lab = Lab::open(&site, "")?;
    lab.run()?;
    ensure!(
        !lab.has("worker-notice")?,
        "a notice before anything went wrong"
    );
    // The test hook makes the worker panic, as a bug in the engine would.
    site.browser
        .execute("window.squeezeCrashWorker();", vec![])?;
    let notice = site
        .browser
        .wait_for_element(&testid("worker-notice"), RUN_TIMEOUT)?;
    let text = notice.text()?;
    ensure!(text.contains("restarted"), "notice: {text:?}");
    // The lab works again: the new worker reloaded the model.
    let runs = lab.run()?;
    ensure!(
        !lab.has("lab-error")?,
        "error after the restart: {}",
        lab.element("lab-error")?.text()?
    );
    ensure!(runs >= 2, "run count {runs}");
    ensure!(
        !lab.values("logits-int8")?.is_empty(),
        "no int8 logits after the restart"
    );
    Ok(())
}

/// Fetches `url` (`no-cors`: an opaque answer counts as reached) from the page and from
/// a dedicated worker the page starts from `worker` (a same-origin URL, as the engine's
/// worker is); returns `{page, worker}`, each `{reached, violation}` where `violation`
/// is the CSP directive a `securitypolicyviolation` event named, or null.
const PROBE: &str = r#"
const [url, workerUrl] = arguments;
return (async () => {
const page = await new Promise((resolve) => {
  let violation = null;
  const seen = (e) => { if (e.blockedURI.startsWith(url.slice(0, 20))) violation = e.violatedDirective; };
  document.addEventListener('securitypolicyviolation', seen);
  fetch(url, { mode: 'no-cors' }).then(() => true, () => false).then((reached) =>
    // The event is queued as a task: let it arrive before reading it.
    setTimeout(() => { document.removeEventListener('securitypolicyviolation', seen);
                       resolve({ reached, violation }); }, 200));
});
const w = new Worker(workerUrl);
const worker = await new Promise((resolve) => {
  w.onmessage = (m) => resolve(m.data);
  w.onerror = (e) => resolve({ reached: false, violation: 'worker failed: ' + e.message });
  w.postMessage(url);
});
w.terminate();
return { page, worker };
})();
"#;

/// The probe worker: same fetch, same event, answered with one message.
const PROBE_WORKER: &str = r#"
let violation = null;
self.addEventListener('securitypolicyviolation', (e) => { violation = e.violatedDirective; });
self.onmessage = async (m) => {
  const reached = await fetch(m.data, { mode: 'no-cors' }).then(() => true, () => false);
  setTimeout(() => postMessage({ reached, violation }), 200);
};
"#;

#[test]
fn the_page_policy_keeps_the_page_off_the_hub_and_the_hub_still_loads() -> Result<()> {
    let hub = TempDir::new("e2e-csp-hub")?;
    let id = "squeeze-test/tiny-sst2";
    let folder = hub.path().join(id).join("resolve/main");
    std::fs::create_dir_all(&folder)?;
    for name in ["config.json", "tokenizer.json", "model.safetensors"] {
        std::fs::copy(
            repo_root().join("tests/fixtures/tiny").join(name),
            folder.join(name),
        )?;
    }
    let probe = TempDir::new("e2e-csp-probe")?;
    std::fs::write(probe.path().join("probe.js"), PROBE_WORKER)?;
    let Some(site) = Site::start_with(
        "the_page_policy_keeps_the_page_off_the_hub_and_the_hub_still_loads",
        vec![
            ("/fake-hub/".to_string(), hub.path().to_path_buf()),
            ("/probe/".to_string(), probe.path().to_path_buf()),
        ],
    )?
    else {
        return Ok(());
    };
    let lab = Lab::open(&site, "?hub=/fake-hub")?;

    // Before any Hub request, the live policy lets the page connect to its own origin only.
    let policy: Value = site.browser.execute(
        "return document.querySelector('meta[http-equiv=Content-Security-Policy]').content;",
        vec![],
    )?;
    let policy = policy
        .as_str()
        .context("no CSP meta tag in the live page")?;
    let connect = policy
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("connect-src"))
        .context("the CSP has no connect-src")?;
    ensure!(
        connect == "connect-src 'self'",
        "the page may connect elsewhere: `{connect}`"
    );
    ensure!(
        !policy.contains("huggingface") && !policy.contains("hf.co"),
        "the page's policy names the Hub: {policy}"
    );

    // Enforced: the page is refused huggingface.co by the policy (a violation event, not
    // just a network error), and refused another origin that is up and answering (the
    // same server under `localhost`). A dedicated worker started from the page's origin
    // gets the policy of its own script's response, not the page's meta tag: here the
    // site's header policy, which refuses that other origin too but lets the worker try
    // the Hub (no violation; the fetch itself fails offline).
    let other = site.url("/index.html").replace("127.0.0.1", "localhost");
    let worker_url = site.url("/probe/probe.js");
    let hf: Value = site.browser.execute(
        PROBE,
        vec![
            json!("https://huggingface.co/api/models"),
            json!(worker_url),
        ],
    )?;
    println!("huggingface.co: {hf}");
    ensure!(
        hf["page"] == json!({ "reached": false, "violation": "connect-src" }),
        "the page was not refused huggingface.co by its policy: {hf}"
    );
    ensure!(
        hf["worker"]["violation"].is_null(),
        "the worker's policy refuses the Hub: {hf}"
    );
    let probed: Value = site
        .browser
        .execute(PROBE, vec![json!(other), json!(worker_url)])?;
    println!("{other}: {probed}");
    ensure!(
        probed["page"] == json!({ "reached": false, "violation": "connect-src" }),
        "the page reached another origin: {probed}"
    );
    ensure!(
        probed["worker"] == json!({ "reached": false, "violation": "connect-src" }),
        "the worker reached another origin (is the site's header policy served?): {probed}"
    );

    // The Hub path, which runs in the engine's worker, still works under the page's policy.
    let input = lab.element("hub-id")?;
    input.click()?;
    input.select_all_and_delete()?;
    input.send_keys(id)?;
    lab.element("hub-load")?.click()?;
    let status = site
        .browser
        .wait_for("the Hub model to load", RUN_TIMEOUT, |s| {
            if let Some(e) = s.try_find(&testid("hub-error"))? {
                return Ok(Some(Err(e.text()?)));
            }
            match s.try_find(&testid("hub-status"))? {
                Some(e) => Ok(Some(Ok(e.text()?))),
                None => Ok(None),
            }
        })?
        .map_err(|e| anyhow::anyhow!("the Hub load failed: {e}"))?;
    ensure!(status.contains(id), "hub status: {status}");
    lab.run()?;
    ensure!(!lab.has("lab-error")?, "the lab failed on the Hub model");
    let log = site.browser.browser_log();
    let bad: Vec<&String> = csp_violations(&log)
        .into_iter()
        .filter(|l| !l.contains("huggingface.co") && !l.contains("localhost"))
        .collect();
    ensure!(bad.is_empty(), "CSP violations on the Hub path: {bad:#?}");
    Ok(())
}
