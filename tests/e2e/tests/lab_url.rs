//! The lab's view lives in its URL: a link with a sentence, schemes and model opens
//! exactly that view; ticking a scheme rewrites the URL; a reload restores it.

use std::time::Duration;

use anyhow::{ensure, Result};
use e2e::lab::Lab;
use e2e::panels::{self, row_schemes, ticked};
use e2e::{encode_query_value, Site, UI_TIMEOUT};

#[test]
fn lab_url_round_trip_restores_sentence_schemes_and_model() -> Result<()> {
    let Some(site) = Site::start("lab_url_round_trip_restores_sentence_schemes_and_model")? else {
        return Ok(());
    };
    let text = "Links keep this: 50% off & café!";
    let lab = Lab::open(
        &site,
        &format!(
            "?text={}&schemes=f16,q4_0&model=default",
            encode_query_value(text)
        ),
    )?;
    let first = panels::wait_for_table(&lab, 0)?;
    ensure!(lab.text()? == text, "box holds `{}`", lab.text()?);
    ensure!(
        ticked(&lab)? == ["f16", "q4_0"],
        "ticked {:?}",
        ticked(&lab)?
    );
    ensure!(
        row_schemes(&lab)? == ["f32", "f16", "q4_0"],
        "rows {:?}",
        row_schemes(&lab)?
    );

    // Ticking q8_0 reruns the table and writes the new view into the URL.
    lab.browser
        .find("[data-testid=scheme-pick][data-scheme=q8_0]")?
        .click()?;
    panels::wait_for_table(&lab, first)?;
    let url = lab
        .browser
        .wait_for("the URL to list q8_0", UI_TIMEOUT, |s| {
            let url = s.current_url()?;
            Ok(url.contains("schemes=f16%2Cq8_0%2Cq4_0").then_some(url))
        })?;
    ensure!(
        url.contains(&format!("text={}", encode_query_value(text))),
        "URL lost the sentence: {url}"
    );
    ensure!(url.contains("model=default"), "URL lost the model: {url}");

    // A reload (the same link opened anew) restores the view.
    site.browser.refresh()?;
    lab.wait_until_ready()?;
    panels::wait_for_table(&lab, 0)?;
    ensure!(
        lab.text()? == text,
        "after reload the box holds `{}`",
        lab.text()?
    );
    ensure!(
        ticked(&lab)? == ["f16", "q8_0", "q4_0"],
        "after reload ticked {:?}",
        ticked(&lab)?
    );
    ensure!(
        row_schemes(&lab)? == ["f32", "f16", "q8_0", "q4_0"],
        "after reload rows {:?}",
        row_schemes(&lab)?
    );

    // An empty list is honoured (f32 alone), and unknown names are dropped.
    let lab = Lab::open(&site, "?schemes=bogus")?;
    panels::wait_for_table(&lab, 0)?;
    ensure!(ticked(&lab)?.is_empty(), "ticked {:?}", ticked(&lab)?);
    ensure!(
        row_schemes(&lab)? == ["f32"],
        "rows {:?}",
        row_schemes(&lab)?
    );
    std::thread::sleep(Duration::from_millis(200));
    Ok(())
}
