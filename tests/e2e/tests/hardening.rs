//! The page's own defences: a Content-Security-Policy that the working page does not
//! trip, and a worker that is restarted (and the learner told) when it dies.

use anyhow::{ensure, Context, Result};
use e2e::lab::{testid, Lab};
use e2e::{Site, RUN_TIMEOUT};

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
