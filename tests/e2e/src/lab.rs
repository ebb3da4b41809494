//! A page object for the Quantization lab: what a learner does there (wait for
//! the model, type, run) and what the page shows, read through the attributes of
//! the DOM contract (`/work/notes/dom-contract.md`), never through its wording.

use crate::{
    parse_f32_list, Error, Result, Session, Site, MODEL_READY_TIMEOUT, RUN_TIMEOUT, UI_TIMEOUT,
};

/// CSS selector for a `data-testid`.
pub fn testid(id: &str) -> String {
    format!("[data-testid={id}]")
}

/// The lab page of a [`Site`].
pub struct Lab<'s> {
    /// The browser showing the lab.
    pub browser: &'s Session,
}

impl<'s> Lab<'s> {
    /// Opens `/lab` plus `query` (e.g. `""` or `"?text=hi"`) and waits for the model.
    pub fn open(site: &'s Site, query: &str) -> Result<Lab<'s>> {
        site.browser.goto(&site.url(&format!("/lab{query}")))?;
        let lab = Lab {
            browser: &site.browser,
        };
        lab.wait_until_ready()?;
        Ok(lab)
    }

    /// Waits for `model-status` to say `ready`; fails at once on `error`.
    pub fn wait_until_ready(&self) -> Result<()> {
        let status = testid("model-status");
        let state = self.browser.wait_for(
            "the model to load (model-status ready)",
            MODEL_READY_TIMEOUT,
            |s| {
                let Some(el) = s.try_find(&status)? else {
                    return Ok(None);
                };
                match el.attr("data-state")?.as_deref() {
                    Some("ready") => Ok(Some(Ok(()))),
                    Some("error") => Ok(Some(Err(el.text()?))),
                    _ => Ok(None),
                }
            },
        )?;
        state.map_err(|text| Error(format!("the page could not load the model: {text}")))
    }

    /// The sentence box's current value.
    pub fn text(&self) -> Result<String> {
        let value = self.browser.find(&testid("lab-text"))?.property("value")?;
        Ok(value.as_str().unwrap_or_default().to_string())
    }

    /// Empties the sentence box and types `text`, as a learner would.
    pub fn set_text(&self, text: &str) -> Result<()> {
        let area = self.browser.find(&testid("lab-text"))?;
        area.click()?;
        area.select_all_and_delete()?;
        if !text.is_empty() {
            area.send_keys(text)?;
        }
        let now = self.text()?;
        if now != text {
            return Err(Error(format!("typed `{text}` but the box holds `{now}`")));
        }
        Ok(())
    }

    /// The `data-run` counter of the results (0 before any result).
    pub fn run_count(&self) -> Result<u64> {
        match self.browser.try_find(&testid("lab-results"))? {
            None => Ok(0),
            Some(el) => {
                let run = el.attr("data-run")?.unwrap_or_default();
                run.parse()
                    .map_err(|_| Error(format!("lab-results data-run `{run}` is not a count")))
            }
        }
    }

    /// Clicks run once the button is enabled; does not wait for the result.
    pub fn click_run(&self) -> Result<()> {
        let button = testid("lab-run");
        self.browser
            .wait_for("an enabled run button", RUN_TIMEOUT, |s| {
                Ok(s.find(&button)?.is_enabled()?.then_some(()))
            })?;
        self.browser.find(&button)?.click()
    }

    /// Clicks run and waits until a new result is shown; returns its `data-run`.
    pub fn run(&self) -> Result<u64> {
        let before = self.run_count()?;
        self.click_run()?;
        self.browser
            .wait_for("a new result (lab-results data-run)", RUN_TIMEOUT, |_| {
                let now = self.run_count()?;
                Ok((now > before).then_some(now))
            })
    }

    /// Waits until the shown result has its forward times (`lab-results data-timed`):
    /// the worker times both models after the logits are on screen.
    pub fn wait_timed(&self) -> Result<()> {
        let results = testid("lab-results");
        self.browser.wait_for(
            "the forward times (lab-results data-timed)",
            RUN_TIMEOUT,
            |s| {
                let timed = s.find(&results)?.attr("data-timed")?;
                Ok((timed.as_deref() == Some("true")).then_some(()))
            },
        )
    }

    /// The element with `data-testid=id`; an error if absent.
    pub fn element(&self, id: &str) -> Result<crate::Element<'s>> {
        self.browser.find(&testid(id))
    }

    /// A required attribute of the element `id`.
    pub fn attr(&self, id: &str, name: &str) -> Result<String> {
        self.element(id)?
            .attr(name)?
            .ok_or_else(|| Error(format!("[data-testid={id}] has no {name} attribute")))
    }

    /// The `data-values` list of `id` (e.g. `logits-f32`), parsed exactly.
    pub fn values(&self, id: &str) -> Result<Vec<f32>> {
        parse_f32_list(&self.attr(id, "data-values")?)
            .map_err(|e| Error(format!("[data-testid={id}] data-values: {e}")))
    }

    /// A numeric attribute of `id`, e.g. `("mse", "data-value")`.
    pub fn number(&self, id: &str, name: &str) -> Result<f64> {
        let raw = self.attr(id, name)?;
        raw.trim()
            .parse()
            .map_err(|_| Error(format!("[data-testid={id}] {name} `{raw}` is not a number")))
    }

    /// Whether an element with `data-testid=id` is present.
    pub fn has(&self, id: &str) -> Result<bool> {
        Ok(self.browser.try_find(&testid(id))?.is_some())
    }

    /// Waits until the message element `id` (a panel's error line) shows a text other than
    /// `before`, and returns it.
    pub fn wait_message(&self, id: &str, before: &str) -> Result<String> {
        let sel = testid(id);
        self.browser
            .wait_for(&format!("a new message in {id}"), UI_TIMEOUT, |s| {
                let Some(e) = s.try_find(&sel)? else {
                    return Ok(None);
                };
                let text = e.text()?;
                Ok((text != before).then_some(text))
            })
    }
}
