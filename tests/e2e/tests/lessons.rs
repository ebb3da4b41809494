//! The lessons in real headless Chromium (issue 4): every lesson and quiz URL
//! loads by deep link, previous/next walk the whole path in
//! `lessons/index.toml` order, and an unknown slug says so.
//!
//! Slugs, titles, code blocks and question ids come from `lessons/` through
//! the site's own `content` crate, so the test follows the content.

use anyhow::{ensure, Context, Result};
use content::{Block, Lesson};
use e2e::lab::testid;
use e2e::quiz::course;
use e2e::{Session, Site, UI_TIMEOUT};

/// The path part of `url` (no query or fragment).
fn path_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or("/").to_string()
}

/// Waits for the lesson article of `slug` and returns nothing else.
fn wait_lesson(browser: &Session, slug: &str) -> Result<()> {
    browser.wait_for_element(
        &format!("article[data-testid=lesson][data-slug=\"{slug}\"]"),
        UI_TIMEOUT,
    )?;
    Ok(())
}

/// The `href` of the link `id`, as a path; `None` when the link is absent.
fn link_path(browser: &Session, id: &str) -> Result<Option<String>> {
    match browser.try_find(&testid(id))? {
        None => Ok(None),
        Some(a) => Ok(Some(path_of(
            &a.attr("href")?
                .with_context(|| format!("{id} has no href"))?,
        ))),
    }
}

/// The lesson page as the content defines it: its code blocks, its quiz link,
/// its neighbours.
fn check_lesson(browser: &Session, lessons: &[Lesson], i: usize) -> Result<()> {
    let lesson = &lessons[i];
    let slug = &lesson.slug;
    wait_lesson(browser, slug)?;
    let title = browser.find("article[data-testid=lesson] h1")?.text()?;
    ensure!(
        title.trim() == lesson.title,
        "/learn/{slug} heading `{title}`, lesson title `{}`",
        lesson.title
    );
    let code_blocks = lesson
        .blocks
        .iter()
        .filter(|b| matches!(b, Block::Code(_)))
        .count();
    let shown = browser.find_all("[data-testid=code-block]")?.len();
    ensure!(
        shown == code_blocks,
        "/learn/{slug} shows {shown} code blocks, the lesson has {code_blocks}"
    );
    ensure!(
        link_path(browser, "lesson-quiz")? == Some(format!("/quiz/{slug}")),
        "/learn/{slug} quiz link goes to {:?}",
        link_path(browser, "lesson-quiz")?
    );
    let prev = i
        .checked_sub(1)
        .map(|p| format!("/learn/{}", lessons[p].slug));
    let next = lessons.get(i + 1).map(|n| format!("/learn/{}", n.slug));
    ensure!(
        link_path(browser, "lesson-prev")? == prev,
        "/learn/{slug} previous link {:?}, expected {prev:?}",
        link_path(browser, "lesson-prev")?
    );
    ensure!(
        link_path(browser, "lesson-next")? == next,
        "/learn/{slug} next link {:?}, expected {next:?}",
        link_path(browser, "lesson-next")?
    );
    let all = link_path(browser, "lesson-all")?;
    if next.is_none() {
        ensure!(
            all.as_deref() == Some("/learn"),
            "last lesson's lesson-all goes to {all:?}"
        );
    } else {
        ensure!(
            all.is_none(),
            "/learn/{slug} has lesson-all but is not last"
        );
    }
    ensure!(
        browser.try_find(&testid("lesson-missing"))?.is_none(),
        "/learn/{slug} also shows lesson-missing"
    );
    Ok(())
}

/// Clicks the link `id` and waits for the lesson `slug` (client-side routing).
fn follow(browser: &Session, id: &str, slug: &str) -> Result<()> {
    browser.find(&testid(id))?.click()?;
    wait_lesson(browser, slug).with_context(|| format!("following {id} to {slug}"))?;
    let url = browser.current_url()?;
    ensure!(
        path_of(&url) == format!("/learn/{slug}"),
        "after {id} the URL is {url}"
    );
    Ok(())
}

#[test]
fn every_lesson_and_quiz_opens_by_deep_link() -> Result<()> {
    let Some(site) = Site::start("every_lesson_and_quiz_opens_by_deep_link")? else {
        return Ok(());
    };
    let course = course()?;
    ensure!(!course.lessons.is_empty(), "lessons/ holds no lesson");
    for (i, lesson) in course.lessons.iter().enumerate() {
        let slug = &lesson.slug;
        // A fresh page load each time: the server's SPA fallback and the router.
        site.browser.goto(&site.url(&format!("/learn/{slug}")))?;
        check_lesson(&site.browser, &course.lessons, i)?;

        site.browser.goto(&site.url(&format!("/quiz/{slug}")))?;
        site.browser.wait_for_element(
            &format!("article[data-testid=quiz][data-slug=\"{slug}\"] [data-testid=quiz-question]"),
            UI_TIMEOUT,
        )?;
        let mut shown = Vec::new();
        for q in site.browser.find_all("[data-testid=quiz-question]")? {
            shown.push(q.attr("data-question")?.unwrap_or_default());
        }
        let want: Vec<&str> = lesson
            .quiz
            .questions
            .iter()
            .map(|q| q.id.as_str())
            .collect();
        ensure!(
            shown == want,
            "/quiz/{slug} shows questions {shown:?}, the quiz file has {want:?}"
        );
        let total = site
            .browser
            .find(&testid("quiz-score"))?
            .attr("data-total")?
            .unwrap_or_default();
        ensure!(
            total == want.len().to_string(),
            "/quiz/{slug} data-total {total}, {} questions",
            want.len()
        );
        ensure!(
            link_path(&site.browser, "quiz-lesson")? == Some(format!("/learn/{slug}")),
            "/quiz/{slug} links back to {:?}",
            link_path(&site.browser, "quiz-lesson")?
        );
    }
    Ok(())
}

#[test]
fn lesson_links_walk_the_whole_path_both_ways() -> Result<()> {
    let Some(site) = Site::start("lesson_links_walk_the_whole_path_both_ways")? else {
        return Ok(());
    };
    let course = course()?;
    let lessons = &course.lessons;
    let browser = &site.browser;
    ensure!(!lessons.is_empty(), "lessons/ holds no lesson");

    // Forward from the first lesson with "next", then "all lessons" from the last.
    browser.goto(&site.url(&format!("/learn/{}", lessons[0].slug)))?;
    for i in 0..lessons.len() {
        check_lesson(browser, lessons, i)?;
        if let Some(next) = lessons.get(i + 1) {
            follow(browser, "lesson-next", &next.slug)?;
        }
    }
    browser.find(&testid("lesson-all"))?.click()?;
    browser.wait_for("the /learn path", UI_TIMEOUT, |s| {
        Ok((path_of(&s.current_url()?) == "/learn"
            && s.try_find(&testid("lesson-path"))?.is_some())
        .then_some(()))
    })?;

    // The path lists every lesson in order, each now marked visited.
    let items = browser.find_all("[data-testid=lesson-path-item]")?;
    let mut slugs = Vec::new();
    for item in &items {
        let slug = item.attr("data-slug")?.unwrap_or_default();
        ensure!(
            item.attr("data-visited")?.as_deref() == Some("true"),
            "lesson {slug} not marked visited after the walk"
        );
        slugs.push(slug);
    }
    let want: Vec<&str> = lessons.iter().map(|l| l.slug.as_str()).collect();
    ensure!(
        slugs == want,
        "/learn lists {slugs:?}, index.toml has {want:?}"
    );

    // Backward from the last lesson with "previous".
    let last = lessons.len() - 1;
    browser.goto(&site.url(&format!("/learn/{}", lessons[last].slug)))?;
    for i in (0..lessons.len()).rev() {
        check_lesson(browser, lessons, i)?;
        if i > 0 {
            follow(browser, "lesson-prev", &lessons[i - 1].slug)?;
        }
    }
    Ok(())
}

#[test]
fn unknown_lesson_or_quiz_says_so() -> Result<()> {
    let Some(site) = Site::start("unknown_lesson_or_quiz_says_so")? else {
        return Ok(());
    };
    for path in ["/learn/nope", "/quiz/nope"] {
        site.browser.goto(&site.url(path))?;
        site.browser
            .wait_for_element(&testid("lesson-missing"), UI_TIMEOUT)
            .with_context(|| format!("{path} did not show lesson-missing"))?;
        for id in ["lesson", "quiz"] {
            ensure!(
                site.browser.try_find(&testid(id))?.is_none(),
                "{path} shows a {id} next to lesson-missing"
            );
        }
    }
    Ok(())
}
