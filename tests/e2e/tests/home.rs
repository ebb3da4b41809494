//! The home page in real headless Chromium: it says what squeeze is and its lab
//! link navigates (client-side) to a working lab.

use anyhow::{ensure, Result};
use e2e::lab::{testid, Lab};
use e2e::{Site, UI_TIMEOUT};

#[test]
fn home_links_to_the_lab() -> Result<()> {
    let Some(site) = Site::start("home_links_to_the_lab")? else {
        return Ok(());
    };
    site.browser.goto(&site.url("/"))?;
    let link = site
        .browser
        .wait_for_element(&testid("nav-lab"), UI_TIMEOUT)?;
    let body = site.browser.find("body")?.text()?;
    ensure!(
        body.to_lowercase().contains("squeeze"),
        "the home page never names squeeze: {body:.300}"
    );

    link.click()?;
    let url = site.browser.wait_for("the lab URL", UI_TIMEOUT, |s| {
        let url = s.current_url()?;
        let path = url.split(['?', '#']).next().unwrap_or("").to_string();
        Ok(path.ends_with("/lab").then_some(url))
    })?;
    ensure!(url.starts_with(&site.url("/lab")), "navigated to {url}");
    let lab = Lab {
        browser: &site.browser,
    };
    lab.wait_until_ready()?;
    ensure!(lab.has("lab-run")?, "the lab has no run button");
    Ok(())
}
