//! One browser test per bad-input row of issue 8: what a learner can type or paste into
//! the lab. Each row either gets a result (truncated and told, when long) or a clear
//! message, and the lab keeps working afterwards.

use anyhow::{ensure, Result};
use e2e::lab::{testid, Lab};
use e2e::{Site, UI_TIMEOUT};
use serde_json::json;

/// The bundled model's position limit.
const MAX_TOKENS: f64 = 512.0;

/// Puts `text` into the sentence box the way a paste does (one `input` event). WebDriver
/// typing cannot send characters outside the BMP (emoji) and would take minutes for 100 kB.
fn paste(lab: &Lab, text: &str) -> Result<()> {
    lab.browser.execute(
        "const box = document.querySelector('[data-testid=lab-text]');
         box.value = arguments[0];
         box.dispatchEvent(new Event('input', { bubbles: true }));",
        vec![json!(text)],
    )?;
    // A textarea normalises line breaks to \n, as it does for a real paste.
    let want = text.replace("\r\n", "\n").replace('\r', "\n");
    let got = lab.text()?;
    ensure!(got == want, "the box holds {got:?}, not {want:?}");
    Ok(())
}

/// Runs `text` and checks a normal result: no error, probabilities that sum to 1.
/// Returns the token count the page shows.
fn run_ok(lab: &Lab, text: &str) -> Result<f64> {
    paste(lab, text)?;
    lab.run()?;
    ensure!(
        !lab.has("lab-error")?,
        "error shown: {}",
        lab.element("lab-error")?.text()?
    );
    for id in ["probs-f32", "probs-int8"] {
        let p = lab.values(id)?;
        let sum: f32 = p.iter().sum();
        ensure!((sum - 1.0).abs() < 1e-4, "{id} sums to {sum}");
    }
    Ok(lab.number("tokens", "data-count")?)
}

/// Afterwards an ordinary sentence still runs.
fn still_works(lab: &Lab) -> Result<()> {
    let tokens = run_ok(lab, "Still working fine.")?;
    ensure!(!lab.has("truncated")?, "a short text is not truncated");
    ensure!(tokens < 20.0, "{tokens} tokens for a short sentence");
    Ok(())
}

#[test]
fn empty_and_whitespace_text_shows_a_message() -> Result<()> {
    let Some(site) = Site::start("empty_and_whitespace_text_shows_a_message")? else {
        return Ok(());
    };
    let lab = Lab::open(&site, "")?;
    for text in ["", "   ", " \n\t \n"] {
        paste(&lab, text)?;
        let before = lab.run_count()?;
        lab.browser.find(&testid("lab-run"))?.click()?;
        let message = lab
            .browser
            .wait_for("the empty-text message", UI_TIMEOUT, |s| {
                match s.try_find(&testid("lab-error"))? {
                    Some(el) => Ok(Some(el.text()?)),
                    None => Ok(None),
                }
            })?;
        ensure!(!message.trim().is_empty(), "{text:?}: an empty message");
        ensure!(lab.run_count()? == before, "{text:?} was sent to the model");
    }
    still_works(&lab)
}

#[test]
fn text_past_512_tokens_is_truncated_and_told() -> Result<()> {
    let Some(site) = Site::start("text_past_512_tokens_is_truncated_and_told")? else {
        return Ok(());
    };
    let lab = Lab::open(&site, "")?;
    let tokens = run_ok(&lab, &"good ".repeat(700))?;
    ensure!(tokens == MAX_TOKENS, "{tokens} tokens shown");
    let note = lab.element("truncated")?.text()?;
    ensure!(note.contains("512"), "the note names the limit: {note:?}");
    still_works(&lab)
}

#[test]
fn emoji_cjk_and_right_to_left_text_classify() -> Result<()> {
    let Some(site) = Site::start("emoji_cjk_and_right_to_left_text_classify")? else {
        return Ok(());
    };
    let lab = Lab::open(&site, "")?;
    for text in [
        "😀🎉👍🏽 great 🤖",
        "这个模型很好。素晴らしい映画でした。",
        "هذا رائع جدا",
        "זה נהדר",
        "mixed: good \u{202e}reversed\u{202c} 好 😀 مرحبا",
    ] {
        let tokens = run_ok(&lab, text)?;
        ensure!(tokens >= 3.0, "{text:?}: {tokens} tokens");
    }
    still_works(&lab)
}

#[test]
fn control_characters_classify() -> Result<()> {
    let Some(site) = Site::start("control_characters_classify")? else {
        return Ok(());
    };
    let lab = Lab::open(&site, "")?;
    for text in [
        "nul\u{0}bell\u{7}esc\u{1b}[31m red\u{7f}",
        "tabs\tand\r\nnewlines\u{b}\u{c}",
        "zero\u{200b}width\u{feff}joiners\u{200d}",
    ] {
        run_ok(&lab, text)?;
    }
    still_works(&lab)
}

#[test]
fn a_100_kb_text_is_truncated_and_told() -> Result<()> {
    let Some(site) = Site::start("a_100_kb_text_is_truncated_and_told")? else {
        return Ok(());
    };
    let lab = Lab::open(&site, "")?;
    let text = "The film was long, but I enjoyed most of it. ".repeat(2300);
    ensure!(text.len() > 100_000, "{} bytes", text.len());
    let tokens = run_ok(&lab, &text)?;
    ensure!(tokens == MAX_TOKENS, "{tokens} tokens shown");
    ensure!(lab.has("truncated")?, "no truncation note");
    still_works(&lab)
}
