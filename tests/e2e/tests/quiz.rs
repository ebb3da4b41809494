//! The quizzes in real headless Chromium (issue 4): answering right and wrong
//! by click and by keyboard alone, the feedback and score that follow,
//! answers that stay final, progress that survives a reload, "retry the wrong
//! ones", and corrupt saved progress that resets cleanly.
//!
//! The right answers are never written here: they come from `correct = true`
//! in `lessons/<slug>.quiz.toml`, loaded with the site's own `content` crate.

use std::thread;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use content::{Content, Lesson, Question};
use e2e::lab::testid;
use e2e::quiz::{
    answer, course, store_text, stored_picks, stored_text, wrong_option, QuestionView, QuizPage,
    Score,
};
use e2e::webdriver::keys;
use e2e::{Site, UI_TIMEOUT};
use serde_json::{json, Value};

/// How long a refused answer is watched for a change that must not come.
const SETTLE: Duration = Duration::from_millis(1500);

/// Lesson `i` of the path (wrapping), with at least `questions` questions.
fn lesson(course: &Content, i: usize, questions: usize) -> Result<&Lesson> {
    let n = course.lessons.len();
    ensure!(n > 0, "lessons/ holds no lesson");
    (0..n)
        .map(|k| &course.lessons[(i + k) % n])
        .find(|l| l.quiz.questions.len() >= questions)
        .with_context(|| format!("no lesson has a quiz of {questions} questions"))
}

/// An unanswered question: nothing chosen, nothing revealed, one tab stop.
fn check_open(q: &Question, v: &QuestionView) -> Result<()> {
    ensure!(
        v.options.len() == q.choices.len(),
        "`{}` shows {} options, the quiz file has {}",
        q.id,
        v.options.len(),
        q.choices.len()
    );
    ensure!(
        v.state == "open",
        "`{}` is {} before any answer",
        q.id,
        v.state
    );
    ensure!(v.verdict.is_none(), "`{}` shows feedback unanswered", q.id);
    ensure!(v.checked().is_empty(), "`{}` has a checked option", q.id);
    ensure!(
        v.tab_stops().len() == 1,
        "`{}` must have exactly one tabindex=0 option, has {:?}",
        q.id,
        v.tab_stops()
    );
    ensure!(
        v.with_class("right").is_empty() && v.with_class("wrong").is_empty(),
        "`{}` marks options right/wrong before an answer: {v:?}",
        q.id
    );
    // Apart from its index and tab stop, every option must look the same, or
    // the page would give the answer away.
    let first = &v.options[0];
    for (i, o) in v.options.iter().enumerate() {
        ensure!(
            o.rest == first.rest && o.classes == first.classes,
            "`{}` option {i} differs from option 0 before an answer: {o:?} vs {first:?}",
            q.id
        );
        ensure!(o.disabled == "false", "`{}` option {i} is disabled", q.id);
    }
    Ok(())
}

/// An answered question: `chosen` checked, verdict and classes from the quiz
/// file, the option's feedback and the explanation shown, options disabled.
fn check_answered(page: &QuizPage, q: &Question, chosen: usize, v: &QuestionView) -> Result<()> {
    let verdict = if chosen == answer(q) {
        "correct"
    } else {
        "wrong"
    };
    ensure!(
        v.state == verdict,
        "`{}` data-state {} ≠ {verdict}",
        q.id,
        v.state
    );
    ensure!(
        v.verdict.as_deref() == Some(verdict),
        "`{}` feedback data-verdict {:?} ≠ {verdict}",
        q.id,
        v.verdict
    );
    ensure!(
        v.checked() == [chosen],
        "`{}` aria-checked on {:?}, chose {chosen}",
        q.id,
        v.checked()
    );
    ensure!(
        v.with_class("right") == [answer(q)],
        "`{}` class right on {:?}, answer is {}",
        q.id,
        v.with_class("right"),
        answer(q)
    );
    let wrong: Vec<usize> = if chosen == answer(q) {
        vec![]
    } else {
        vec![chosen]
    };
    ensure!(
        v.with_class("wrong") == wrong,
        "`{}` class wrong on {:?}, expected {wrong:?}",
        q.id,
        v.with_class("wrong")
    );
    ensure!(
        v.options.iter().all(|o| o.disabled == "true"),
        "`{}` options not all aria-disabled once answered",
        q.id
    );
    ensure!(
        v.tab_stops().len() == 1,
        "`{}` tab stops {:?}",
        q.id,
        v.tab_stops()
    );
    ensure!(
        page.feedback_shows(q, &q.explanation_html)?,
        "`{}` feedback lacks the explanation: {:?}",
        q.id,
        v.feedback
    );
    let option_feedback = &q.choices[chosen].feedback_html;
    if !option_feedback.trim().is_empty() {
        ensure!(
            page.feedback_shows(q, option_feedback)?,
            "`{}` feedback lacks option {chosen}'s own feedback: {:?}",
            q.id,
            v.feedback
        );
    }
    let has_steps = !q.steps_html.is_empty();
    ensure!(
        v.solution == has_steps,
        "`{}` solution shown: {}, quiz file has {} steps",
        q.id,
        v.solution,
        q.steps_html.len()
    );
    Ok(())
}

/// The view without its roving tab stop (clicking an option focuses it, and
/// the tab stop follows the focus; that is not a change of answer).
fn without_tab_stop(mut v: QuestionView) -> QuestionView {
    v.options.iter_mut().for_each(|o| o.tabindex.clear());
    v
}

fn ids(questions: &[&Question]) -> Vec<String> {
    questions.iter().map(|q| q.id.clone()).collect()
}

#[test]
fn quiz_click_answers_give_feedback_and_are_final() -> Result<()> {
    let Some(site) = Site::start("quiz_click_answers_give_feedback_and_are_final")? else {
        return Ok(());
    };
    let course = course()?;
    let lesson = lesson(&course, 1, 2)?;
    let total = lesson.quiz.questions.len();
    let page = QuizPage::open(&site, lesson)?;

    let all: Vec<&Question> = lesson.quiz.questions.iter().collect();
    ensure!(
        page.shown()? == ids(&all),
        "questions shown {:?}",
        page.shown()?
    );
    ensure!(
        page.score()?
            == Score {
                correct: 0,
                answered: 0,
                total
            },
        "fresh score {:?}",
        page.score()?
    );
    for q in &all {
        check_open(q, &page.view_present(q)?)?;
    }

    // Right, by click.
    let (q0, q1) = (page.question(0)?, page.question(1)?);
    let v0 = page.answer_by_click(q0, answer(q0))?;
    check_answered(&page, q0, answer(q0), &v0)?;
    page.wait_score(Score {
        correct: 1,
        answered: 1,
        total,
    })?;
    check_open(q1, &page.view_present(q1)?)?;

    // Wrong, by click.
    let w1 = wrong_option(q1);
    let v1 = page.answer_by_click(q1, w1)?;
    check_answered(&page, q1, w1, &v1)?;
    let score = Score {
        correct: 1,
        answered: 2,
        total,
    };
    page.wait_score(score)?;
    let mut picks = vec![None; total];
    picks[0] = Some(answer(q0));
    picks[1] = Some(w1);
    ensure!(
        stored_picks(&site.browser, &lesson.slug)? == Some(picks.clone()),
        "stored picks {:?}, expected {picks:?}",
        stored_picks(&site.browser, &lesson.slug)?
    );

    // Answers are final: clicking another option of an answered question,
    // even the right one, changes nothing (view, score, storage).
    let (before0, before1) = (
        without_tab_stop(page.view_present(q0)?),
        without_tab_stop(page.view_present(q1)?),
    );
    page.click(q0, wrong_option(q0))?;
    page.click(q1, answer(q1))?;
    let start = Instant::now();
    while start.elapsed() < SETTLE {
        ensure!(
            without_tab_stop(page.view_present(q0)?) == before0,
            "a second click changed `{}`: {:?}",
            q0.id,
            page.view_present(q0)?
        );
        ensure!(
            without_tab_stop(page.view_present(q1)?) == before1,
            "a second click changed `{}`: {:?}",
            q1.id,
            page.view_present(q1)?
        );
        ensure!(page.score()? == score, "a second click moved the score");
        thread::sleep(Duration::from_millis(100));
    }
    ensure!(
        stored_picks(&site.browser, &lesson.slug)? == Some(picks),
        "a second click changed the stored picks"
    );
    ensure!(
        site.browser.try_find(&testid("quiz-retry"))?.is_none(),
        "quiz-retry offered before the round is finished"
    );
    Ok(())
}

#[test]
fn quiz_is_operable_by_keyboard_alone() -> Result<()> {
    let Some(site) = Site::start("quiz_is_operable_by_keyboard_alone")? else {
        return Ok(());
    };
    let course = course()?;
    let lesson = lesson(&course, 2, 2)?;
    let total = lesson.quiz.questions.len();
    let page = QuizPage::open(&site, lesson)?;
    let (q0, q1) = (page.question(0)?, page.question(1)?);

    // Focus lands on the group's tab stop, as Tab would take it there.
    let stop = page.view_present(q0)?.tab_stops();
    ensure!(
        stop == [0],
        "`{}` first tab stop is {stop:?}, not [0]",
        q0.id
    );
    page.focus(q0, 0)?;
    page.wait_focus(q0, 0)?;

    // Arrows move the focus and the tab stop (wrapping both ways) and never choose.
    let n = q0.choices.len();
    let mut at = 0;
    let mut moves: Vec<(&str, usize)> = Vec::new();
    for _ in 0..n {
        at = (at + 1) % n;
        moves.push((keys::ARROW_DOWN, at));
    }
    moves.push((keys::ARROW_UP, n - 1));
    moves.push((keys::HOME, 0));
    moves.push((keys::END, n - 1));
    at = n - 1;
    while at != answer(q0) {
        at -= 1;
        moves.push((keys::ARROW_UP, at));
    }
    for (key, want) in moves {
        site.browser.press_keys(key)?;
        page.wait_focus(q0, want)?;
        let v = page.view_present(q0)?;
        ensure!(
            v.tab_stops() == [want],
            "after a key, focus is on {want} but tabindex=0 on {:?}",
            v.tab_stops()
        );
        check_open(q0, &v).context("an arrow key must not choose")?;
    }
    ensure!(page.score()?.answered == 0, "arrow keys answered something");

    // Enter chooses the focused option: the right one.
    site.browser.press_keys(keys::ENTER)?;
    let v0 = page.wait_answered(q0)?;
    check_answered(&page, q0, answer(q0), &v0)?;
    page.wait_score(Score {
        correct: 1,
        answered: 1,
        total,
    })?;

    // Space chooses too: a wrong one in the next question.
    let w1 = wrong_option(q1);
    page.focus(q1, 0)?;
    page.wait_focus(q1, 0)?;
    for step in 1..=w1 {
        site.browser.press_keys(keys::ARROW_DOWN)?;
        page.wait_focus(q1, step)?;
    }
    site.browser.press_keys(keys::SPACE)?;
    let v1 = page.wait_answered(q1)?;
    check_answered(&page, q1, w1, &v1)?;
    page.wait_score(Score {
        correct: 1,
        answered: 2,
        total,
    })?;

    // Once answered, the keyboard cannot change the answer either.
    let before = without_tab_stop(v1);
    site.browser.press_keys(keys::HOME)?;
    page.wait_focus(q1, 0)?;
    site.browser
        .press_keys(&format!("{}{}", keys::ENTER, keys::SPACE))?;
    let start = Instant::now();
    while start.elapsed() < SETTLE {
        ensure!(
            without_tab_stop(page.view_present(q1)?) == before,
            "Enter/Space on an answered question changed it: {:?}",
            page.view_present(q1)?
        );
        thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

#[test]
fn quiz_progress_survives_reload_and_retry_shows_the_wrong_ones() -> Result<()> {
    let Some(site) = Site::start("quiz_progress_survives_reload_and_retry_shows_the_wrong_ones")?
    else {
        return Ok(());
    };
    let course = course()?;
    let lesson = lesson(&course, 3, 3)?;
    let all: Vec<&Question> = lesson.quiz.questions.iter().collect();
    let total = all.len();
    let page = QuizPage::open(&site, lesson)?;

    // Question 1 and the last one wrong, the rest right.
    let choice = |i: usize| {
        if i == 1 || i == total - 1 {
            wrong_option(all[i])
        } else {
            answer(all[i])
        }
    };
    let wrong: Vec<&Question> = vec![all[1], all[total - 1]];

    // Answer the first two, then reload: same picks, feedback and score.
    for (i, q) in all.iter().enumerate().take(2) {
        page.answer_by_click(q, choice(i))?;
    }
    let partial = Score {
        correct: 1,
        answered: 2,
        total,
    };
    page.wait_score(partial)?;
    let before: Vec<QuestionView> = all
        .iter()
        .map(|q| page.view_present(q).map(without_tab_stop))
        .collect::<std::result::Result<_, _>>()?;
    page.reload()?;
    page.wait_score(partial)?;
    ensure!(
        page.shown()? == ids(&all),
        "after reload {:?}",
        page.shown()?
    );
    for (i, q) in all.iter().enumerate() {
        let after = page.view_present(q)?;
        if i < 2 {
            check_answered(&page, q, choice(i), &after).context("after reload")?;
        } else {
            check_open(q, &after).context("after reload")?;
        }
        ensure!(
            without_tab_stop(after) == before[i],
            "`{}` differs after reload",
            q.id
        );
    }
    ensure!(
        site.browser.try_find(&testid("quiz-done"))?.is_none(),
        "quiz-done before the round is finished"
    );

    // Finish the round: done, and a retry of exactly the wrong ones.
    for (i, q) in all.iter().enumerate().skip(2) {
        let v = page.answer_by_click(q, choice(i))?;
        check_answered(&page, q, choice(i), &v)?;
    }
    let right = total - wrong.len();
    page.wait_score(Score {
        correct: right,
        answered: total,
        total,
    })?;
    site.browser
        .wait_for_element(&testid("quiz-done"), UI_TIMEOUT)?;
    let retry = site
        .browser
        .wait_for_element(&testid("quiz-retry"), UI_TIMEOUT)?;
    let label = retry.text()?;
    ensure!(
        label.contains(&format!("({})", wrong.len())),
        "retry button `{label}` does not count {} wrong answers",
        wrong.len()
    );
    ensure!(
        site.browser.try_find(&testid("quiz-round"))?.is_none(),
        "quiz-round shown in round 1"
    );
    retry.click()?;

    // Round 2: only the wrong ones, cleared; the right answers still count.
    let round = |browser: &e2e::Session| -> Result<Option<String>> {
        Ok(match browser.try_find(&testid("quiz-round"))? {
            Some(el) => el.attr("data-round")?,
            None => None,
        })
    };
    site.browser
        .wait_for("quiz-round data-round=2", UI_TIMEOUT, |s| {
            Ok((round(s).ok().flatten().as_deref() == Some("2")).then_some(()))
        })?;
    let retried = Score {
        correct: right,
        answered: right,
        total,
    };
    let check_round_two = || -> Result<()> {
        page.wait_score(retried)?;
        ensure!(
            page.shown()? == ids(&wrong),
            "round 2 shows {:?}, the wrong ones were {:?}",
            page.shown()?,
            ids(&wrong)
        );
        for q in &wrong {
            check_open(q, &page.view_present(q)?).context("in round 2")?;
        }
        ensure!(
            site.browser.try_find(&testid("quiz-retry"))?.is_none(),
            "quiz-retry offered in an unfinished round 2"
        );
        ensure!(
            round(&site.browser)?.as_deref() == Some("2"),
            "data-round is {:?}",
            round(&site.browser)?
        );
        Ok(())
    };
    check_round_two()?;
    page.reload()?;
    check_round_two().context("after reloading round 2")?;

    // A retried question can now be answered, and right this time.
    let again = wrong[0];
    let v = page.answer_by_click(again, answer(again))?;
    check_answered(&page, again, answer(again), &v)?;
    page.wait_score(Score {
        correct: right + 1,
        answered: right + 1,
        total,
    })?;
    Ok(())
}

#[test]
fn corrupt_progress_resets_cleanly_with_a_notice() -> Result<()> {
    let Some(site) = Site::start("corrupt_progress_resets_cleanly_with_a_notice")? else {
        return Ok(());
    };
    let course = course()?;
    let lesson = lesson(&course, 0, 1)?;
    let clean = json!({ "version": 1, "visited": [], "quizzes": {} });
    let notice = testid("progress-reset-notice");
    let stored_json = |what: &str| -> Result<Value> {
        let text = stored_text(&site.browser)?
            .with_context(|| format!("{what}: nothing stored under squeeze.progress"))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{what}: stored progress is not JSON: {text}"))
    };

    // Not JSON, an old version, the right version with the wrong shape: each
    // is replaced by clean progress and reported once, on every page that
    // reads progress (a lesson then records its own visit in the clean record).
    let quiz = format!("/quiz/{}", lesson.slug);
    let lesson_page = format!("/learn/{}", lesson.slug);
    let cases = [
        ("{not json", quiz.clone()),
        (r#"{"version":0,"visited":["x"]}"#, "/learn".to_string()),
        (r#"{"version":1,"visited":"all","quizzes":[]}"#, quiz),
        ("[]", "/".to_string()),
        ("null", lesson_page.clone()),
    ];
    for (bad, path) in &cases {
        let mut clean = clean.clone();
        if *path == lesson_page {
            clean["visited"] = json!([lesson.slug]);
        }
        site.browser.goto(&site.url("/learn"))?;
        site.browser
            .wait_for_element(&testid("lesson-path"), UI_TIMEOUT)?;
        store_text(&site.browser, bad)?;
        site.browser.goto(&site.url(path))?;
        site.browser
            .wait_for_element(&notice, UI_TIMEOUT)
            .with_context(|| format!("no reset notice on {path} for stored `{bad}`"))?;
        let stored = stored_json(path)?;
        ensure!(
            stored == clean,
            "after `{bad}` on {path} storage holds {stored}, expected {clean}"
        );
        // Reported once: the next page load reads clean progress, no notice.
        site.browser.refresh()?;
        site.browser.wait_for_element(
            if path.starts_with("/quiz") {
                "[data-testid=quiz-question]"
            } else if *path == lesson_page {
                "[data-testid=lesson]"
            } else {
                "[data-testid=lesson-path]"
            },
            UI_TIMEOUT,
        )?;
        ensure!(
            site.browser.try_find(&notice)?.is_none(),
            "the reset notice came back on reloading {path}"
        );
    }

    // After a reset the quiz saves and restores as usual.
    let page = QuizPage::open(&site, lesson)?;
    let q = page.question(0)?;
    page.answer_by_click(q, answer(q))?;
    page.reload()?;
    let v = page.view_present(q)?;
    check_answered(&page, q, answer(q), &v).context("after reset and reload")?;
    ensure!(
        site.browser.try_find(&notice)?.is_none(),
        "the reset notice is shown for valid progress"
    );
    let stored = stored_json("after an answer")?;
    ensure!(
        stored["quizzes"][&lesson.slug]["picks"][0] == json!(answer(q)),
        "stored progress after an answer: {stored}"
    );
    Ok(())
}
