//! `/train` on the learner's own sentences (issue 16, items 1 and 6): too few are refused
//! in one line; enough train a student whose held-out fifth is exactly the native
//! engine's split, and the evaluation lists every sentence a student labels otherwise than
//! the teacher, each a link into the lab.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use e2e::lab::testid;
use e2e::{repo_root, Session, Site, UI_TIMEOUT};
use engine::distill::live::{LiveConfig, Sentences, Trainer};
use engine::distill::text::Labelled;
use engine::{ModelFiles, TokenizerFile};

/// Cutting the student, labelling the sentences and the first steps on a busy machine.
const TRAIN_TIMEOUT: Duration = Duration::from_secs(240);

/// The first `n` held-out review sentences as `(label id, text)`.
fn reviews(n: usize) -> Result<Vec<(usize, String)>> {
    Ok(e2e::held_out_sentences()?
        .into_iter()
        // Short ones: each is typed key by key into the box.
        .filter(|(_, t)| t.len() < 90)
        .take(n)
        .collect())
}

/// `rows` as CSV with a header (comma-separated: a typed Tab would move the focus).
fn csv(rows: &[(usize, String)]) -> String {
    let mut out = String::from("text,label\n");
    for (label, text) in rows {
        out.push_str(&format!("\"{}\",{label}\n", text.replace('"', "\"\"")));
    }
    out
}

fn paste(b: &Session, text: &str, rows: usize) -> Result<()> {
    let area = b.wait_for_element(&testid("own-data-text"), UI_TIMEOUT)?;
    area.select_all_and_delete()?;
    area.send_keys(text)?;
    b.find(&testid("own-data-read-text"))?.click()?;
    b.wait_for(&format!("{rows} rows read"), UI_TIMEOUT, |s| {
        if let Some(e) = s.try_find(&testid("own-data-error"))? {
            return Err(e2e::Error(format!("refused: {}", e.text()?)));
        }
        let Some(el) = s.try_find(&testid("own-data-summary"))? else {
            return Ok(None);
        };
        Ok((el.attr("data-rows")?.as_deref() == Some(rows.to_string().as_str())).then_some(()))
    })?;
    Ok(())
}

fn bundled() -> Result<ModelFiles> {
    let dir = repo_root().join("www/models/default");
    let read = |f: &str| std::fs::read(dir.join(f)).with_context(|| f.to_string());
    Ok(ModelFiles {
        config: read("config.json")?,
        tokenizer: TokenizerFile::Json(read("tokenizer.json")?),
        weights: read("model.safetensors")?,
    })
}

#[test]
fn own_sentences_train_a_student_tested_on_their_held_out_fifth_with_its_flips() -> Result<()> {
    let Some(site) = Site::start("own_sentences_train_a_student")? else {
        return Ok(());
    };
    let b = &site.browser;
    b.goto(&site.url("/train"))?;
    b.wait_for_element(&testid("train-sentences-own"), UI_TIMEOUT)?
        .click()?;

    // Too few: read, but Start refuses in one line and nothing trains.
    let rows = reviews(40)?;
    paste(b, &csv(&rows[..10]), 10)?;
    b.find(&testid("train-start"))?.click()?;
    let refusal = b
        .wait_for_element(&testid("train-error"), TRAIN_TIMEOUT)?
        .text()?;
    ensure!(
        refusal.contains("10 usable sentences") && refusal.contains("at least 25"),
        "refusal: {refusal}"
    );
    ensure!(
        b.find(&testid("train"))?.attr("data-state")?.as_deref() == Some("idle"),
        "a run started on 10 sentences"
    );

    // Forty: the native engine splits them the same way.
    paste(b, &csv(&rows), 40)?;
    b.find(&testid("train-start"))?.click()?;
    b.wait_for("20 steps", TRAIN_TIMEOUT, |s| {
        if let Some(e) = s.try_find(&testid("train-error"))? {
            return Err(e2e::Error(format!("the page failed: {}", e.text()?)));
        }
        let step: usize = s
            .find(&testid("train"))?
            .attr("data-step")?
            .unwrap_or_default()
            .parse()
            .unwrap_or(0);
        Ok((step >= 20).then_some(()))
    })?;
    let labelled: Vec<Labelled> = rows
        .iter()
        .map(|(label, text)| Labelled {
            label: *label,
            text: text.clone(),
        })
        .collect();
    let sentences = Sentences::own(&labelled)?;
    let held_out: Vec<String> = sentences.held_out.iter().map(|l| l.text.clone()).collect();
    let native = Trainer::with_sentences(&bundled()?, LiveConfig::default(), sentences)?;
    let (train_n, held_n) = native.sentences();
    let ready = b.find(&testid("train-ready"))?.text()?;
    ensure!(
        ready.contains(&format!(
            "{train_n} training and {held_n} held-out sentences"
        )),
        "page: {ready}; native: {train_n} training, {held_n} held out"
    );
    ensure!(held_n == 8, "{held_n} held out of 40");

    b.find(&testid("train-pause"))?.click()?;
    b.wait_for_element(&testid("train-evaluate-run"), UI_TIMEOUT)?
        .click()?;
    let table = b.wait_for_element(&testid("train-eval"), TRAIN_TIMEOUT)?;
    ensure!(
        table.text()?.contains("On 8 held-out sentences"),
        "{}",
        table.text()?
    );
    // The flip finder: each flip a held-out sentence, linked into the lab.
    let finder = b.find(&testid("train-flips"))?;
    let count: usize = finder.attr("data-count")?.unwrap_or_default().parse()?;
    let flips = b.find_all(&format!("{} a", testid("train-flip")))?;
    ensure!(flips.len() == count, "{} links, count {count}", flips.len());
    ensure!(
        count <= 2 * held_n,
        "{count} flips of {held_n} sentences × 2 students"
    );
    for a in &flips {
        let text = a.text()?;
        ensure!(held_out.contains(&text), "flip {text:?} is not held out");
        let href = a.attr("href")?.unwrap_or_default();
        ensure!(href.contains("/lab?text="), "flip link {href}");
    }
    // Take the student home: a Hugging Face folder the native engine loads, of the
    // student's shape, with the tokenizer it reads the held-out sentences with.
    b.find(&testid("train-download"))?.click()?;
    let saved = b.wait_for_element(&testid("train-saved"), TRAIN_TIMEOUT)?;
    let name = saved.attr("data-file")?.unwrap_or_default();
    ensure!(
        name.starts_with("squeeze-student-step-") && name.ends_with(".zip"),
        "{name}"
    );
    let zip = b.wait_download(&name, UI_TIMEOUT)?;
    let files = engine::export::bundle::read(&zip)?;
    ensure!(
        files.kind == engine::export::bundle::BundleKind::HuggingFace,
        "{:?}",
        files.kind
    );
    let student = files.load()?;
    ensure!(
        student.info().layers == LiveConfig::default().layers,
        "{} layers",
        student.info().layers
    );
    let label = student.classify(&held_out[0])?.label;
    ensure!(
        ["NEGATIVE", "POSITIVE"].contains(&label.as_str()),
        "{label}"
    );
    eprintln!(
        "train on own data: {train_n} training, {held_n} held out, {count} flips; saved {name}"
    );
    e2e::figures::console_clean(b, "/train")?;
    Ok(())
}
