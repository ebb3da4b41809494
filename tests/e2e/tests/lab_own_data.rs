//! The learner's own labelled sentences in the lab (issue 16): pasted or picked as a
//! file, read with every bad row reported by line, evaluated through each ticked scheme
//! with counts equal to the native engine's, and bad files refused with one line.

use std::time::Duration;

use anyhow::{ensure, Result};
use e2e::lab::{testid, Lab};
use e2e::panels::{self, attr, model_dir, native_model, number};
use e2e::{Site, TempDir, UI_TIMEOUT};
use engine::{metrics, Scheme};

const BATCH_TIMEOUT: Duration = Duration::from_secs(180);

/// Three good rows (labels by name, any case, and by id), one unknown label, one empty
/// text. Comma-separated: a Tab typed into a text box moves the focus, as it should.
const PASTED: &str = "text,label\n\
The soup was cold and the waiter rude.,NEGATIVE\n\
What a lovely little hotel.,positive\n\
\"Not bad at all, I would go back.\",1\n\
It was a film.,neutral\n\
,POSITIVE\n";

fn wait_summary(lab: &Lab<'_>, rows: &str) -> Result<()> {
    lab.browser
        .wait_for(&format!("own data with {rows} rows"), UI_TIMEOUT, |s| {
            if let Some(e) = s.try_find(&testid("own-data-error"))? {
                return Err(e2e::Error(format!("refused: {}", e.text()?)));
            }
            let Some(el) = s.try_find(&testid("own-data-summary"))? else {
                return Ok(None);
            };
            Ok((el.attr("data-rows")?.as_deref() == Some(rows)).then_some(()))
        })?;
    Ok(())
}

#[test]
fn own_sentences_are_read_reported_and_evaluated_like_the_engine() -> Result<()> {
    let Some(site) = Site::start("own_sentences_are_read_reported_and_evaluated_like_the_engine")?
    else {
        return Ok(());
    };
    let lab = Lab::open(&site, "?schemes=int8-dynamic,q4_0")?;
    panels::wait_for_table(&lab, 0)?;
    lab.element("batch-source-own")?.click()?;

    // Pasted text: three rows kept, two reported with their lines.
    let area = lab
        .browser
        .wait_for_element(&testid("own-data-text"), UI_TIMEOUT)?;
    area.click()?;
    area.send_keys(PASTED)?;
    lab.element("own-data-read-text")?.click()?;
    wait_summary(&lab, "3")?;
    let lines: Vec<String> = lab
        .browser
        .find_all(&format!("{} li", testid("own-data-skipped")))?
        .iter()
        .map(|li| li.text())
        .collect::<e2e::Result<_>>()?;
    ensure!(
        lines
            == [
                "line 5: label `neutral` is not one of NEGATIVE, POSITIVE (or an id 0 … 1)",
                "line 6: the text is empty"
            ],
        "skipped rows: {lines:?}"
    );

    // Evaluate them: counts and flips as the native engine gives them.
    lab.element("batch-run")?.click()?;
    lab.browser
        .wait_for("the batch to finish", BATCH_TIMEOUT, |_| {
            Ok(
                (attr(&lab.element("batch-panel")?, "data-state", "batch-panel")? == "done")
                    .then_some(()),
            )
        })?;
    let f32 = native_model(&model_dir())?;
    let rows = [
        ("The soup was cold and the waiter rude.", 0),
        ("What a lovely little hotel.", 1),
        ("Not bad at all, I would go back.", 1),
    ];
    for scheme in [Scheme::F32, Scheme::Int8Dynamic, Scheme::Q4_0] {
        let model = f32.quantize(scheme)?;
        let (mut correct, mut agree) = (0, 0);
        for (text, gold) in rows {
            let label = metrics::argmax(&model.classify(text)?.logits);
            correct += u64::from(label == gold);
            agree += u64::from(label == metrics::argmax(&f32.classify(text)?.logits));
        }
        let row = lab.browser.find(&format!(
            "{}[data-scheme=\"{}\"]",
            testid("batch-row"),
            scheme.name()
        ))?;
        let get = |name| number(&row, name, "batch-row").map(|x| x as u64);
        ensure!(
            get("data-seen")? == 3,
            "{} saw {}",
            scheme.name(),
            get("data-seen")?
        );
        ensure!(
            get("data-correct")? == correct,
            "{} correct {} vs native {correct}",
            scheme.name(),
            get("data-correct")?
        );
        ensure!(
            get("data-agree")? == agree,
            "{} agrees {} vs native {agree}",
            scheme.name(),
            get("data-agree")?
        );
    }

    // A real file with CSV quoting, picked like a learner picks it.
    let dir = TempDir::new("own-data")?;
    let path = dir.path().join("reviews.csv");
    std::fs::write(
        &path,
        "id,Sentence,Sentiment\n1,\"Great, \"\"really\"\" great\",POSITIVE\n2,\"Cold\nfood\",0\n",
    )?;
    lab.element("own-data-file")?
        .send_keys(&path.display().to_string())?;
    wait_summary(&lab, "2")?;
    // And a tab-separated one, as a spreadsheet saves it.
    let tsv = dir.path().join("mine.tsv");
    std::fs::write(
        &tsv,
        "label\ttext\n0\tDreadful.\n1\tSplendid!\n1\tAll good.\n",
    )?;
    lab.element("own-data-file")?
        .send_keys(&tsv.display().to_string())?;
    wait_summary(&lab, "3")?;

    // Bad files: one line each, and the sentences read before stay.
    let big = dir.path().join("huge.tsv");
    std::fs::write(&big, vec![b'a'; 6 * 1024 * 1024])?;
    lab.element("own-data-file")?
        .send_keys(&big.display().to_string())?;
    let message = lab.wait_message("own-data-error", "")?;
    ensure!(
        message.contains("huge.tsv is 6.3 MB") && message.contains("not read"),
        "{message}"
    );
    let wrong = dir.path().join("wrong.csv");
    std::fs::write(&wrong, "review_text,stars\nnice,5\n")?;
    lab.element("own-data-file")?
        .send_keys(&wrong.display().to_string())?;
    let message = lab.wait_message("own-data-error", &message)?;
    ensure!(
        message.contains("wrong.csv:1: the header must name a text column"),
        "{message}"
    );
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "")?;
    lab.element("own-data-file")?
        .send_keys(&empty.display().to_string())?;
    let message = lab.wait_message("own-data-error", &message)?;
    ensure!(message == "empty.csv is empty", "{message}");
    let summary = lab.element("own-data-summary")?;
    let rows = summary.attr("data-rows")?;
    ensure!(
        rows.as_deref() == Some("3"),
        "the last good data stays: {rows:?}"
    );
    ensure!(
        summary.text()?.starts_with("mine.tsv: 3 sentences"),
        "{}",
        summary.text()?
    );
    Ok(())
}
