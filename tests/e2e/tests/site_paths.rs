//! The site opened the ways its users open it, in real headless Chromium:
//!
//! (a) the real `cargo xtask serve` (started by the test on a free port, stopped after);
//! (b) `cargo xtask dist --public-url /squeeze/` on a plain static host that sends no
//!     headers and answers unknown paths with `404.html` and status 404 (GitHub Pages);
//! (c) (b) after one visit, then offline: Chromium's offline emulation and the server
//!     stopped, so only the service worker's copy can answer.
//! (d) a new deploy under a served site: the page offers the new version, and taking it
//!     replaces the old build's cache as a whole.
//!
//! Two variables point a test at a site made elsewhere, to see it fail on an older
//! build: `SQUEEZE_SERVE_URL` (a running server, instead of starting `cargo xtask
//! serve`) and `SQUEEZE_STATIC_DIST` (a built folder, instead of `cargo xtask dist`).
//!
//! Each walks every page (/, /learn, each lesson, each quiz, /lab, /train): the page
//! shows with all its stylesheets applied, its links stay below the site's base path,
//! the lab answers with logits (time to first logits printed), /train takes a training
//! step, and the console shows no error, CSP violation or page error.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use e2e::console::ConsoleWatch;
use e2e::lab::{testid, Lab};
use e2e::quiz::course;
use e2e::serve_process::ServeProcess;
use e2e::{
    dist_or_skip, repo_root, site_headers, Fallback, ServeOptions, Session, Site, TempDir,
    UI_TIMEOUT,
};
use serde_json::Value;

/// The GitHub Pages project path the static build is made for.
const PUBLIC_URL: &str = "/squeeze/";

/// How long /train may take to cut its student and take a first step.
const TRAIN_TIMEOUT: Duration = Duration::from_secs(240);

/// How long the service worker may take to save the site (≈ 25 MB from loopback).
const SAVE_TIMEOUT: Duration = Duration::from_secs(120);

/// What one walk through the site measured.
struct Walk {
    pages: Vec<String>,
    first_logits: Duration,
}

#[test]
fn a_served_by_cargo_xtask_serve() -> Result<()> {
    let Some(dist) = dist_or_skip("a_served_by_cargo_xtask_serve") else {
        return Ok(());
    };
    let site = match std::env::var("SQUEEZE_SERVE_URL") {
        Ok(url) => Site::on_url(&url, dist)?,
        Err(_) => {
            let process = ServeProcess::start()?;
            println!("cargo xtask serve answers at {}", process.url());
            Site::on_process(process, dist)?
        }
    };
    let walk = walk_site(&site, "cargo xtask serve")?;
    report("(a) cargo xtask serve", &walk);
    Ok(())
}

#[test]
fn b_static_host_below_a_path_with_a_404_page() -> Result<()> {
    let Some(_) = dist_or_skip("b_static_host_below_a_path_with_a_404_page") else {
        return Ok(());
    };
    let dist = static_build()?;
    let site = github_pages_like(dist)?;
    // A deep link is a 404 on such a host; its body is the app shell.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into();
    let mut resp = agent.get(&site.url("/lab")).call()?;
    ensure!(
        resp.status().as_u16() == 404,
        "/lab answered {}",
        resp.status()
    );
    let body = resp.body_mut().read_to_string()?;
    ensure!(
        body.contains(&format!("<base href=\"{PUBLIC_URL}\"")),
        "the 404 page is not the app shell below {PUBLIC_URL}: {body:.300}"
    );
    cold_deep_link(&site)?;
    let walk = walk_site(&site, "static host")?;
    report("(b) static host at /squeeze/", &walk);
    // Installable: Chromium finds nothing missing (manifest, icons, service worker).
    let errors = site
        .browser
        .cdp("Page.getInstallabilityErrors", serde_json::json!({}))?;
    let errors = errors["installabilityErrors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    ensure!(
        errors.is_empty(),
        "Chromium would not offer to install the site: {errors:?}"
    );
    println!("(b) installable: Chromium reports no installability error");
    Ok(())
}

/// A first visit (a fresh browser, no service worker yet) straight to a deep link: the
/// host answers with its 404 status and the 404 page, which is the app, and the app
/// shows the page the link names. The one console line allowed is Chromium's report of
/// that 404 status for the document itself; anything else fails.
fn cold_deep_link(site: &Site) -> Result<()> {
    let b = Session::start()?;
    let slug = &course()?.lessons[0].slug;
    let url = site.url(&format!("/quiz/{slug}"));
    b.goto(&url)?;
    let css = format!("[data-testid=quiz][data-slug=\"{slug}\"] [data-testid=quiz-question]");
    b.wait_for_element(&css, UI_TIMEOUT)?;
    styled(&b, stylesheet_count(site.dist())?)?;
    links_below_base(&b, &base_path(&site.url("/")))?;
    let mut console = ConsoleWatch::default();
    console.collect(&b, "cold deep link")?;
    let host_404 =
        format!("{url} - Failed to load resource: the server responded with a status of 404");
    let others: Vec<&String> = console
        .problems()
        .iter()
        .filter(|p| !p.contains(&host_404))
        .collect();
    ensure!(
        others.is_empty(),
        "a cold deep link: console problems besides the host's 404 status: {others:#?}"
    );
    println!(
        "(b) cold deep link {url}: the quiz shows; console: {} line(s), each the host's 404 status for the document",
        console.problems().len()
    );
    Ok(())
}

#[test]
fn c_static_host_offline_after_one_visit() -> Result<()> {
    let Some(_) = dist_or_skip("c_static_host_offline_after_one_visit") else {
        return Ok(());
    };
    let dist = static_build()?;
    let mut site = github_pages_like(dist)?;
    let b = &site.browser;
    b.goto(&site.url("/"))?;
    wait_saved(b)?;
    let mut console = ConsoleWatch::default();
    console.collect(b, "/ (online, first visit)")?;
    console.ensure_clean("the first visit")?;

    b.set_offline(true)?;
    site.stop_server();
    let b = &site.browser;
    // Reload the lab and a quiz in place, as a learner on a train would.
    b.goto(&site.url("/lab"))?;
    b.refresh()?;
    let lab = Lab { browser: b };
    lab.wait_until_ready()?;
    let notice = b.wait_for_element(&testid("offline-notice"), UI_TIMEOUT)?;
    let text = notice.text()?;
    ensure!(
        text.contains("offline") && text.contains("Hub"),
        "the offline notice does not say what needs the network: {text}"
    );
    ensure!(
        lab.has("hub-offline")?,
        "the Hub panel does not say that a new model needs the network"
    );
    lab.run()?;
    if std::env::var_os("SQUEEZE_SCREENSHOTS").is_some() {
        let path = repo_root().join("docs/screenshots/lab-offline-1280.png");
        std::fs::write(&path, b.screenshot_png()?)?;
        println!("wrote {}", path.display());
    }
    let slug = &course()?.lessons[0].slug;
    b.goto(&site.url(&format!("/quiz/{slug}")))?;
    b.refresh()?;
    b.wait_for_element("[data-testid=quiz-question]", UI_TIMEOUT)?;
    console.collect(b, "offline reloads")?;
    console.ensure_clean("offline reloads")?;

    let walk = walk_site(&site, "offline")?;
    report("(c) static host, offline", &walk);
    Ok(())
}

#[test]
fn d_a_new_deploy_is_offered_and_replaces_the_cache_as_a_whole() -> Result<()> {
    let Some(dist) = dist_or_skip("d_a_new_deploy_is_offered_and_replaces_the_cache_as_a_whole")
    else {
        return Ok(());
    };
    let host = TempDir::new("e2e-deploy")?;
    copy_tree(&dist, host.path())?;
    let options = ServeOptions {
        headers: site_headers(&dist)?,
        ..ServeOptions::new(host.path())
    };
    let site = Site::serve(host.path().to_path_buf(), options)?;
    let b = &site.browser;
    b.goto(&site.url("/learn"))?;
    wait_saved(b)?;
    let sw = host.path().join("sw.js");
    let old = build_id(&std::fs::read_to_string(&sw)?)?;
    ensure!(
        build_caches(b)? == [format!("squeeze-build-{old}")],
        "after the first visit: {:?}",
        build_caches(b)?
    );
    // A new deploy: the same files under a new build id.
    let new = format!("{old}next");
    let text = std::fs::read_to_string(&sw)?.replacen(&old, &new, 1);
    std::fs::write(&sw, text)?;
    b.refresh()?;
    let reload = b.wait_for_element("[data-testid=update-notice] button", SAVE_TIMEOUT)?;
    // Until the learner says so, the page keeps running on the old build's cache.
    ensure!(
        build_caches(b)?.contains(&format!("squeeze-build-{old}")),
        "the old build's cache went before the learner reloaded"
    );
    reload.click()?;
    let want = vec![format!("squeeze-build-{new}")];
    b.wait_for("the new build to take over alone", SAVE_TIMEOUT, |s| {
        let caches = build_caches(s).map_err(|e| e2e::Error(e.to_string()))?;
        Ok((caches == want).then_some(()))
    })?;
    b.wait_for_element(&testid("lesson-path"), UI_TIMEOUT)?;
    ensure!(
        b.try_find(&testid("update-notice"))?.is_none(),
        "the notice is still shown on the new build"
    );
    let mut console = ConsoleWatch::default();
    console.collect(b, "a new deploy")?;
    console.ensure_clean("a new deploy")?;
    println!(
        "(d) a new deploy: notice shown, Reload → cache {old} replaced by {new}, console clean"
    );
    Ok(())
}

/// The `BUILD` constant of a service worker script.
fn build_id(sw: &str) -> Result<String> {
    let rest = sw
        .strip_prefix("const BUILD = \"")
        .context("sw.js does not start with its BUILD")?;
    Ok(rest.split('"').next().unwrap_or_default().to_string())
}

/// The names of the service worker's build caches in the page's origin, sorted.
fn build_caches(b: &Session) -> Result<Vec<String>> {
    let keys = b.execute(
        "return caches.keys().then((k) => k.filter((n) => n.startsWith('squeeze-build-')).sort());",
        vec![],
    )?;
    Ok(keys
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect())
}

/// Copies the folder `from` into `to`, recursively.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// `cargo xtask dist --public-url /squeeze/` into target/xtask/e2e-static, once per run.
fn static_build() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("SQUEEZE_STATIC_DIST") {
        return Ok(PathBuf::from(dir));
    }
    static BUILT: OnceLock<std::result::Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let out = repo_root().join("target/xtask/e2e-static");
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let status = std::process::Command::new(cargo)
                .args(["xtask", "dist", "--public-url", PUBLIC_URL, "--out"])
                .arg(&out)
                .current_dir(repo_root())
                .stdin(std::process::Stdio::null())
                .status()
                .map_err(|e| format!("cannot run cargo xtask dist: {e}"))?;
            if !status.success() {
                return Err(format!("`cargo xtask dist` failed ({status})"));
            }
            Ok(out)
        })
        .clone()
        .map_err(anyhow::Error::msg)
}

/// `dist` served at /squeeze/ with no headers and the 404 page for anything unknown.
fn github_pages_like(dist: PathBuf) -> Result<Site> {
    let options = ServeOptions {
        base: PUBLIC_URL.into(),
        fallback: Fallback::NotFoundPage,
        ..ServeOptions::new(&dist)
    };
    Ok(Site::serve(dist, options)?)
}

fn report(how: &str, walk: &Walk) {
    println!(
        "{how}: {} pages opened, 0 console problems, lab's first logits {} ms after navigation\n  pages: {}",
        walk.pages.len(),
        walk.first_logits.as_millis(),
        walk.pages.join(" ")
    );
}

/// Opens every page of the site and checks each; fails with every console problem seen.
fn walk_site(site: &Site, what: &str) -> Result<Walk> {
    let b = &site.browser;
    let content = course()?;
    let sheets = stylesheet_count(site.dist())?;
    let base = base_path(&site.url("/"));
    let mut console = ConsoleWatch::default();
    let mut pages = Vec::new();
    let mut visit = |path: &str, ready: &dyn Fn(&Session) -> Result<()>| -> Result<()> {
        b.goto(&site.url(path))?;
        ready(b).with_context(|| format!("{what}: {path} did not show"))?;
        styled(b, sheets).with_context(|| format!("{what}: {path}"))?;
        links_below_base(b, &base).with_context(|| format!("{what}: {path}"))?;
        console.collect(b, path)?;
        pages.push(path.to_string());
        Ok(())
    };
    // The first page also waits until the service worker has saved the site (it then
    // answers every page address itself, so none reaches the host's 404).
    visit("/", &|b| {
        b.wait_for_element(&testid("nav-lab"), UI_TIMEOUT)?;
        wait_saved(b)
    })?;
    visit("/learn", &|b| {
        b.wait_for_element(&testid("lesson-path"), UI_TIMEOUT)?;
        Ok(())
    })?;
    for lesson in &content.lessons {
        let slug = lesson.slug.clone();
        visit(&format!("/learn/{slug}"), &|b| {
            let css = format!("article[data-testid=lesson][data-slug=\"{slug}\"]");
            b.wait_for_element(&css, UI_TIMEOUT)?;
            Ok(())
        })?;
        visit(&format!("/quiz/{slug}"), &|b| {
            let css =
                format!("[data-testid=quiz][data-slug=\"{slug}\"] [data-testid=quiz-question]");
            b.wait_for_element(&css, UI_TIMEOUT)?;
            Ok(())
        })?;
    }
    let first_logits = std::cell::Cell::new(Duration::ZERO);
    visit("/lab", &|b| {
        let start = Instant::now();
        let lab = Lab { browser: b };
        lab.wait_until_ready()?;
        lab.run()?;
        ensure!(!lab.has("lab-error")?, "the lab shows an error");
        let int8 = lab.values("logits-int8")?;
        ensure!(int8.len() == 2, "int8 logits: {int8:?}");
        ensure!(lab.has("hub-panel")?, "the lab has no Hub panel");
        // Navigation start → logits on screen, by the page's own clock.
        let now = b.execute("return performance.now();", vec![])?;
        let ms = now.as_f64().unwrap_or(start.elapsed().as_secs_f64() * 1e3);
        first_logits.set(Duration::from_secs_f64(ms / 1e3));
        Ok(())
    })?;
    visit("/train", &|b| {
        let start = b.wait_for_element(&testid("train-start"), UI_TIMEOUT)?;
        start.click()?;
        b.wait_for("a training step", TRAIN_TIMEOUT, |s| {
            if let Some(e) = s.try_find(&testid("train-error"))? {
                return Err(e2e::Error(format!("/train failed: {}", e.text()?)));
            }
            let step = s
                .find(&testid("train"))?
                .attr("data-step")?
                .unwrap_or_default();
            Ok((step.parse::<u64>().unwrap_or(0) >= 1).then_some(()))
        })?;
        b.find(&testid("train-pause"))?.click()?;
        Ok(())
    })?;
    // Client-side navigation from the home page's lab link stays below the base path.
    visit("/", &|b| {
        b.wait_for_element(&testid("nav-lab"), UI_TIMEOUT)?
            .click()?;
        b.wait_for("the lab link to navigate", UI_TIMEOUT, |s| {
            let url = s.current_url()?;
            Ok(url
                .split('?')
                .next()
                .unwrap_or("")
                .ends_with("/lab")
                .then_some(url))
        })
        .and_then(|url| {
            if url.contains(&format!("{base}/lab")) {
                Ok(())
            } else {
                Err(e2e::Error(format!(
                    "the lab link left the base path: {url}"
                )))
            }
        })?;
        Lab { browser: b }.wait_until_ready()?;
        Ok(())
    })?;
    console.ensure_clean(what)?;
    Ok(Walk {
        pages,
        first_logits: first_logits.get(),
    })
}

/// Waits until the footer says the service worker has saved the site.
fn wait_saved(b: &Session) -> Result<()> {
    b.wait_for("the site to be saved for offline use", SAVE_TIMEOUT, |s| {
        let el = s.find(&testid("offline-ready"))?;
        Ok((el.attr("data-state")?.as_deref() == Some("saved")).then_some(()))
    })?;
    Ok(())
}

/// The path part of the site's URL without its trailing `/` (`""` or `/squeeze`).
fn base_path(site_root_url: &str) -> String {
    let after_host = site_root_url
        .splitn(4, '/')
        .nth(3)
        .map(|p| format!("/{p}"))
        .unwrap_or_default();
    after_host.trim_end_matches('/').to_string()
}

/// How many stylesheets the built page links (Trunk writes one `<link rel="stylesheet">` each).
fn stylesheet_count(dist: &Path) -> Result<usize> {
    let html = std::fs::read_to_string(dist.join("index.html"))?;
    let n = html.matches("rel=\"stylesheet\"").count();
    ensure!(n >= 1, "dist/index.html links no stylesheet");
    Ok(n)
}

/// Every linked stylesheet loaded and has rules, and the site's own layout applies.
fn styled(b: &Session, expected: usize) -> Result<()> {
    let state = b.execute(
        "const sheets = [...document.styleSheets].filter((s) => s.href);
         const rules = sheets.map((s) => { try { return s.cssRules.length; } catch (e) { return -1; } });
         const nav = document.querySelector('.site-nav');
         return { rules, nav: nav ? getComputedStyle(nav).display : null };",
        vec![],
    )?;
    let rules: Vec<i64> = state["rules"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default();
    ensure!(
        rules.len() == expected && rules.iter().all(|&r| r > 0),
        "stylesheets not applied: {expected} expected, rules per sheet {rules:?}"
    );
    ensure!(
        state["nav"] == "flex",
        "the site's layout is not applied (nav display {})",
        state["nav"]
    );
    Ok(())
}

/// Every site-absolute link on the page starts with the base path.
fn links_below_base(b: &Session, base: &str) -> Result<()> {
    let hrefs = b.execute(
        "return [...document.querySelectorAll('a[href^=\"/\"]')].map((a) => a.getAttribute('href'));",
        vec![],
    )?;
    let outside: Vec<&str> = hrefs
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|h| !h.starts_with("//") && !(h.starts_with(&format!("{base}/"))))
        .collect();
    ensure!(
        outside.is_empty(),
        "links outside the base path {base}/: {outside:?}"
    );
    Ok(())
}
