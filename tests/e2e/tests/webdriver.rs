//! The e2e harness tested on its own: the static server and the WebDriver client
//! drive a small hand-written page in real headless Chromium. Independent of the
//! squeeze site, so a failure here points at the harness, not at the page.
//! Runs when SQUEEZE_DIST is set (as under `cargo xtask test`), like all browser tests.

use std::time::Duration;

use e2e::{dist_or_skip, webdriver::keys, Session, StaticServer, TempDir, UI_TIMEOUT};

const PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>harness</title></head><body>
<textarea data-testid="text"></textarea>
<button data-testid="go">go</button>
<p data-testid="out" data-n="0"></p>
<a data-testid="next" href="/second.html">next</a>
<script>
  const text = document.querySelector('[data-testid=text]');
  let inputs = 0;
  text.addEventListener('input', () => { inputs += 1; document.body.dataset.inputs = inputs;
                                         document.body.dataset.last = text.value; });
  let runs = 0;
  document.querySelector('[data-testid=go]').addEventListener('click', () => {
    // Answer later, as the worker does: tests must wait, not race.
    setTimeout(() => {
      runs += 1;
      const out = document.querySelector('[data-testid=out]');
      out.dataset.n = runs;
      out.textContent = 'got: ' + text.value;
    }, 300);
  });
  console.warn('harness-page-loaded');
</script></body></html>"#;

const SECOND: &str =
    r#"<!doctype html><meta charset="utf-8"><h1 data-testid="second">second page</h1>"#;

#[test]
fn harness_drives_a_local_page_in_chromium() -> anyhow::Result<()> {
    if dist_or_skip("harness_drives_a_local_page_in_chromium").is_none() {
        return Ok(());
    }
    let dir = TempDir::new("e2e-harness-site")?;
    std::fs::write(dir.path().join("index.html"), PAGE)?;
    std::fs::write(dir.path().join("second.html"), SECOND)?;
    let server = StaticServer::start(dir.path())?;
    let browser = Session::start()?;

    // A route without an extension gets index.html (the SPA fallback).
    browser.goto(&server.url("/some/route?x=1"))?;
    let text = browser.wait_for_element("[data-testid=text]", UI_TIMEOUT)?;
    assert!(browser.current_url()?.ends_with("/some/route?x=1"));

    // Typing (non-ASCII too) fires input events and lands in the field.
    text.send_keys("héllo wörld")?;
    assert_eq!(text.property("value")?, "héllo wörld");
    let body = browser.find("body")?;
    assert_eq!(body.attr("data-last")?.as_deref(), Some("héllo wörld"));

    // Clicking works and waiting sees the delayed answer.
    browser.find("[data-testid=go]")?.click()?;
    browser.wait_for("the first run", UI_TIMEOUT, |s| {
        let out = s.find("[data-testid=out]")?;
        Ok((out.attr("data-n")?.as_deref() == Some("1")).then_some(()))
    })?;
    assert_eq!(
        browser.find("[data-testid=out]")?.text()?,
        "got: héllo wörld"
    );

    // Select-all + backspace empties the field through a real input event.
    let before: u32 = body.attr("data-inputs")?.unwrap_or_default().parse()?;
    text.select_all_and_delete()?;
    assert_eq!(text.property("value")?, "");
    assert_eq!(body.attr("data-last")?.as_deref(), Some(""));
    let after: u32 = body.attr("data-inputs")?.unwrap_or_default().parse()?;
    assert!(after > before, "no input event: {before} -> {after}");
    text.send_keys(&format!("line{}", keys::ENTER))?;
    assert_eq!(text.property("value")?, "line\n");

    // Scripts run and return values.
    assert_eq!(
        browser.execute("return arguments[0] * 7;", vec![6.into()])?,
        42
    );

    // A timeout names what it waited for and shows the page's console.
    let err = browser
        .wait_for(
            "a thing that never comes",
            Duration::from_millis(300),
            |s| Ok(s.try_find("[data-testid=never]")?.map(|_| ())),
        )
        .expect_err("waiting for a missing element must time out");
    let msg = err.to_string();
    assert!(msg.contains("a thing that never comes"), "{msg}");
    assert!(msg.contains("harness-page-loaded"), "{msg}");

    // Links navigate; a missing element is a clear error.
    browser.find("[data-testid=next]")?.click()?;
    let h1 = browser.wait_for_element("[data-testid=second]", UI_TIMEOUT)?;
    assert_eq!(h1.text()?, "second page");
    assert!(browser.current_url()?.ends_with("/second.html"));
    let missing = browser.find("#nope").err().unwrap().to_string();
    assert!(missing.contains("`#nope`"), "{missing}");

    // Reload keeps the URL.
    browser.refresh()?;
    browser.wait_for_element("[data-testid=second]", UI_TIMEOUT)?;
    Ok(())
}
