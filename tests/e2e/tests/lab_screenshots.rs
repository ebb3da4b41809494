//! Screenshots of the lab with every panel filled, at 1280 and 375 px wide. The test
//! checks each is a PNG of the asked width; with `SQUEEZE_SCREENSHOTS=1` it also
//! writes them to docs/screenshots/lab-1280.png and lab-375.png (linked from the README).

use std::time::Duration;

use anyhow::{ensure, Result};
use e2e::lab::Lab;
use e2e::panels;
use e2e::{png_size, repo_root, Site, RUN_TIMEOUT};

#[test]
fn lab_screenshots_at_desktop_and_phone_width() -> Result<()> {
    let Some(site) = Site::start("lab_screenshots_at_desktop_and_phone_width")? else {
        return Ok(());
    };
    let lab = Lab::open(
        &site,
        "?text=The%20hotel%20was%20lovely%20but%20far%20from%20everything.",
    )?;
    panels::wait_for_table(&lab, 0)?;
    lab.run()?;
    lab.element("sens-run")?.click()?;
    lab.browser.wait_for("the histogram", RUN_TIMEOUT, |s| {
        Ok(s.try_find("[data-testid=histogram]")?.map(|_| ()))
    })?;
    lab.element("batch-run")?.click()?;
    lab.browser
        .wait_for("the batch to finish", Duration::from_secs(180), |s| {
            let state = s.find("[data-testid=batch-panel]")?.attr("data-state")?;
            Ok((state.as_deref() == Some("done")).then_some(()))
        })?;
    // A recipe built (16 development sentences, the int8-dynamic budget) for the panel.
    lab.browser
        .find("[data-testid=recipe-sentences] option[value=\"16\"]")?
        .click()?;
    lab.element("recipe-measure")?.click()?;
    lab.browser
        .wait_for("the recipe's measurements", Duration::from_secs(180), |s| {
            let phase = s.find("[data-testid=recipe-panel]")?.attr("data-phase")?;
            Ok((phase.as_deref() == Some("measured")).then_some(()))
        })?;
    lab.element("recipe-apply")?.click()?;
    lab.browser
        .wait_for("the recipe's outcome", Duration::from_secs(180), |s| {
            Ok(s.try_find("[data-testid=recipe-outcome]")?.map(|_| ()))
        })?;
    let write = std::env::var_os("SQUEEZE_SCREENSHOTS").is_some();
    for width in [1280u32, 375] {
        lab.browser.set_window_size(width, 900)?;
        std::thread::sleep(Duration::from_millis(300));
        let height = lab
            .browser
            .execute("return document.documentElement.scrollHeight;", vec![])?
            .as_u64()
            .unwrap_or(900) as u32;
        lab.browser.set_window_size(width, height + 40)?;
        std::thread::sleep(Duration::from_millis(500));
        // Nothing wider than the window: tables scroll inside their box, charts scale.
        let scroll = lab
            .browser
            .execute("return document.documentElement.scrollWidth;", vec![])?
            .as_u64()
            .unwrap_or(0) as u32;
        if scroll > width {
            let wide = lab.browser.execute(
                "return [...document.querySelectorAll('body *')]\
                 .filter(e => e.getBoundingClientRect().right > innerWidth + 1)\
                 .filter(e => !e.parentElement || e.parentElement.getBoundingClientRect().right <= innerWidth + 1)\
                 .slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + (e.dataset.testid || '') + ' ' + Math.round(e.getBoundingClientRect().right));",
                vec![],
            )?;
            anyhow::bail!("the lab scrolls sideways at {width} px ({scroll} px wide): {wide}");
        }
        let png = lab.browser.screenshot_png()?;
        let (w, h) = png_size(&png).ok_or_else(|| anyhow::anyhow!("not a PNG"))?;
        ensure!(w == width, "screenshot is {w} px wide, asked {width}");
        println!("lab at {width} px: {w}×{h}, {} bytes", png.len());
        if write {
            let path = repo_root().join(format!("docs/screenshots/lab-{width}.png"));
            std::fs::create_dir_all(path.parent().unwrap())?;
            std::fs::write(&path, &png)?;
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}
