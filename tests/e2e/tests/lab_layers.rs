//! Per-layer sensitivity and weight histograms in the page, against the native engine:
//! one bar per Linear with the MSE `quantize_only` gives natively, and the histogram
//! of a chosen layer with its weight count and quantization grid.

use anyhow::{ensure, Result};
use e2e::lab::Lab;
use e2e::panels::{self, attr, model_dir, native_model, number};
use e2e::{encode_query_value, Site, RUN_TIMEOUT};
use engine::{metrics, Scheme};

fn wait_histogram(lab: &Lab<'_>, layer: &str, scheme: &str) -> e2e::Result<()> {
    lab.browser.wait_for(
        &format!("the histogram of {layer} in {scheme}"),
        RUN_TIMEOUT,
        |s| {
            let Some(el) = s.try_find("[data-testid=histogram]")? else {
                return Ok(None);
            };
            let ok = el.attr("data-layer")?.as_deref() == Some(layer)
                && el.attr("data-scheme")?.as_deref() == Some(scheme);
            Ok(ok.then_some(()))
        },
    )
}

#[test]
fn lab_layer_sensitivity_and_histogram_match_the_native_engine() -> Result<()> {
    let Some(site) = Site::start("lab_layer_sensitivity_and_histogram_match_the_native_engine")?
    else {
        return Ok(());
    };
    let text = "What a wonderful, warm little film.";
    let lab = Lab::open(&site, &format!("?text={}", encode_query_value(text)))?;
    panels::wait_for_table(&lab, 0)?;
    let model = native_model(&model_dir())?;
    let names: Vec<String> = model.linears().into_iter().map(|l| l.name).collect();

    // q4_0 is the panel's first choice.
    lab.element("sens-run")?.click()?;
    lab.browser
        .wait_for("one sensitivity bar per layer", RUN_TIMEOUT, |s| {
            let n = s.find_all("[data-testid=sens-bar]")?.len();
            Ok((n == names.len()).then_some(()))
        })?;
    let enc = model.encode(text)?;
    let reference = model.logits(&enc)?;
    let mut worst = (String::new(), -1.0f64);
    for bar in lab.browser.find_all("[data-testid=sens-bar]")? {
        let layer = attr(&bar, "data-layer", "sens-bar")?;
        ensure!(names.contains(&layer), "unknown layer {layer}");
        let page = number(&bar, "data-mse", "sens-bar")?;
        let logits = model.quantize_only(&layer, Scheme::Q4_0)?.logits(&enc)?;
        let want = f64::from(metrics::mse(&reference, &logits)?);
        ensure!(
            (page - want).abs() <= 0.25 * want + 1e-7,
            "{layer}: page MSE {page:e}, native {want:e}"
        );
        if page > worst.1 {
            worst = (layer, page);
        }
    }
    ensure!(worst.1 > 0.0, "no layer moved the logits");

    // The most sensitive layer's weights are shown first.
    wait_histogram(&lab, &worst.0, "q4_0")?;
    let check_hist = |layer: &str, min_grid: usize| -> Result<()> {
        let h = lab.element("histogram")?;
        let (out, inp) = model.linear(layer)?.dims();
        let count = number(&h, "data-count", "histogram")? as usize;
        ensure!(
            count == out * inp,
            "{layer}: histogram of {count} weights, layer has {}",
            out * inp
        );
        let grid = number(&h, "data-grid", "histogram")? as usize;
        let lines = lab.browser.find_all("[data-testid=grid-line]")?.len();
        ensure!(
            grid >= min_grid && lines == grid,
            "{layer}: grid {grid}, {lines} lines"
        );
        ensure!(
            number(&h, "data-weight-mse", "histogram")? > 0.0,
            "{layer}: weights unchanged"
        );
        println!("{layer}: {count} weights, {grid} grid levels");
        Ok(())
    };
    check_hist(&worst.0, 2)?;

    // Another layer, then another scheme: int8 per-tensor has ~255 levels in range.
    let other = if worst.0 == "classifier" {
        "transformer.layer.0.ffn.lin1"
    } else {
        "classifier"
    };
    lab.browser
        .find(&format!(
            "[data-testid=hist-layer] option[value=\"{other}\"]"
        ))?
        .click()?;
    wait_histogram(&lab, other, "q4_0")?;
    check_hist(other, 2)?;
    lab.browser
        .find("[data-testid=sens-scheme] option[value=\"int8-dynamic\"]")?
        .click()?;
    lab.element("sens-run")?.click()?;
    wait_histogram(&lab, other, "int8-dynamic")?;
    check_hist(other, 200)?;
    Ok(())
}
