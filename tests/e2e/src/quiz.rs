//! Page objects for the lessons and quizzes: what a learner does on
//! `/quiz/<slug>` (click or key through the options, retry, reload) and what
//! the page shows, read through the attributes of the DOM contract
//! (`/work/notes/dom-contract-lessons.md`), never through its wording.
//!
//! What the page *should* show comes from `lessons/` itself, loaded with the
//! same `content` crate the site's build uses, so the tests follow every edit
//! of a lesson or quiz (its order, its questions, its right answers).

use serde_json::{json, Value};

use crate::lab::testid;
use crate::{repo_root, Error, Result, Session, Site, UI_TIMEOUT};
use content::run::{
    BlockFormatsRun, FlipRun, LabSize, RunRecord, SeedCodeRun, SensitivityRun, TemperatureRun,
    TensorRun, RUN_STORAGE_KEY,
};
use content::{Content, Lesson, Question};

/// The localStorage key of the learner's progress (DOM contract).
pub const STORAGE_KEY: &str = content::progress::STORAGE_KEY;

/// The lessons and quizzes of the repository's `lessons/`, in path order, as written:
/// questions about the learner's own run have no answer yet.
pub fn course_as_written() -> Result<Content> {
    let dir = repo_root().join("lessons");
    content::load_dir(&dir).map_err(|e| Error(format!("cannot load {}: {e}", dir.display())))
}

/// [`course_as_written`] graded against [`sample_run`]: what a quiz page shows once
/// [`QuizPage::open`] has saved that run in the browser.
pub fn course() -> Result<Content> {
    Ok(course_as_written()?.resolved(&sample_run()))
}

/// Measurements as a learner who ran every figure and the lab would have saved
/// them, so that every question about "your run" can be answered.
pub fn sample_run() -> RunRecord {
    let mut run = RunRecord::new();
    run.lab_size = Some(LabSize {
        model: "squeeze-sentiment-student".into(),
        f32_bytes: 11_340_000,
        int8_bytes: 7_996_000,
    });
    run.tensor = Some(TensorRun {
        bits: 8,
        mapping: "affine".into(),
        scale: 0.01,
        zero_point: 100,
        max_error: 0.45,
        clipped: 1,
        values: 4,
    });
    run.temperature = Some(TemperatureRun {
        text: "I love learning about AI!".into(),
        temperature: 2.0,
        labels: vec!["NEGATIVE".into(), "POSITIVE".into()],
        teacher_logits: vec![-1.9, 1.9],
        teacher_top_prob: 0.87,
    });
    run.seed_code = Some(SeedCodeRun {
        text: "I love learning about AI!".into(),
        f32_logits: vec![-1.866, 1.910],
        int8_logits: vec![-1.867, 1.911],
        mse: 1.0e-6,
    });
    run.block_formats = Some(BlockFormatsRun {
        layer: "transformer.layer.0.attention.q_lin".into(),
        row: 0,
        errors: vec![
            ("q8_0".into(), 1.0e-7),
            ("q4_0".into(), 3.0e-5),
            ("q4_k".into(), 2.0e-5),
        ],
    });
    run.flip = Some(FlipRun {
        text: "not bad at all".into(),
        scheme: "int8-dynamic".into(),
        f32_label: "POSITIVE".into(),
        other_label: "POSITIVE".into(),
        f32_margin: 1.2,
        other_margin: 1.19,
    });
    run.sensitivity = Some(SensitivityRun {
        scheme: "q4_0".into(),
        text: "I love learning about AI!".into(),
        layers: vec![
            ("transformer.layer.0.ffn.lin2".into(), 3.0e-4),
            ("classifier".into(), 1.0e-5),
        ],
    });
    run
}

/// The right option of `q` (graded: from [`course`]).
pub fn answer(q: &Question) -> usize {
    q.answer.unwrap_or_else(|| {
        panic!(
            "`{}` has no answer: take it from course(), not course_as_written()",
            q.id
        )
    })
}

/// A wrong option of `q` (the one after the right answer, wrapping).
pub fn wrong_option(q: &Question) -> usize {
    (answer(q) + 1) % q.choices.len()
}

/// CSS selector of the question with id `id`.
pub fn question_css(id: &str) -> String {
    format!("[data-testid=quiz-question][data-question=\"{id}\"]")
}

/// CSS selector of option `index` of the question with id `id`.
pub fn option_css(id: &str, index: usize) -> String {
    format!(
        "{} [data-testid=quiz-option][data-index=\"{index}\"]",
        question_css(id)
    )
}

/// The `[data-testid=quiz-score]` attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Score {
    /// `data-correct`.
    pub correct: usize,
    /// `data-answered`.
    pub answered: usize,
    /// `data-total`.
    pub total: usize,
}

/// One option as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionView {
    /// `aria-checked`.
    pub checked: String,
    /// `aria-disabled`.
    pub disabled: String,
    /// `tabindex`.
    pub tabindex: String,
    /// The class list, sorted.
    pub classes: Vec<String>,
    /// Every other attribute as `name=value`, sorted: these must be the same
    /// for all options of an open question, or they would give the answer away.
    pub rest: Vec<String>,
}

/// One question as the page shows it, read in one script call so that the
/// parts belong to the same render.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuestionView {
    /// `data-state`: `open`, `correct` or `wrong`.
    pub state: String,
    /// The options in DOM order.
    pub options: Vec<OptionView>,
    /// `data-verdict` of the feedback, when there is one.
    pub verdict: Option<String>,
    /// The feedback's text, whitespace collapsed.
    pub feedback: Option<String>,
    /// Whether the worked solution (`quiz-solution`) is shown.
    pub solution: bool,
}

impl QuestionView {
    /// Indices of the options with `aria-checked="true"`.
    pub fn checked(&self) -> Vec<usize> {
        self.indices(|o| o.checked == "true")
    }

    /// Indices of the options with `tabindex="0"`.
    pub fn tab_stops(&self) -> Vec<usize> {
        self.indices(|o| o.tabindex == "0")
    }

    /// Indices of the options that have class `class`.
    pub fn with_class(&self, class: &str) -> Vec<usize> {
        self.indices(|o| o.classes.iter().any(|c| c == class))
    }

    fn indices(&self, keep: impl Fn(&OptionView) -> bool) -> Vec<usize> {
        (0..self.options.len())
            .filter(|&i| keep(&self.options[i]))
            .collect()
    }
}

/// Reads one question (`arguments[0]` = its id) and where the focus is.
const SNAPSHOT_JS: &str = r#"
const q = document.querySelector(`[data-testid=quiz-question][data-question="${arguments[0]}"]`);
if (!q) return null;
const squash = (s) => s.replace(/\s+/g, ' ').trim();
const options = [...q.querySelectorAll('[data-testid=quiz-option]')].map((o) => ({
  index: o.getAttribute('data-index'),
  checked: o.getAttribute('aria-checked'),
  disabled: o.getAttribute('aria-disabled'),
  tabindex: o.getAttribute('tabindex'),
  classes: [...o.classList].sort(),
  rest: [...o.attributes]
    .filter((a) => !['data-index', 'tabindex', 'class'].includes(a.name))
    .map((a) => a.name + '=' + a.value)
    .sort(),
}));
const fb = q.querySelector('[data-testid=quiz-feedback]');
return {
  state: q.getAttribute('data-state'),
  options,
  verdict: fb ? fb.getAttribute('data-verdict') : null,
  feedback: fb ? squash(fb.textContent) : null,
  solution: !!q.querySelector('[data-testid=quiz-solution]'),
};
"#;

/// Whether the feedback of question `arguments[0]` contains the text of the
/// HTML `arguments[1]` (rendered by the browser itself, whitespace collapsed).
const FEEDBACK_HAS_JS: &str = r#"
const fb = document.querySelector(
  `[data-testid=quiz-question][data-question="${arguments[0]}"] [data-testid=quiz-feedback]`);
if (!fb) return false;
const squash = (s) => s.replace(/\s+/g, ' ').trim();
const probe = document.createElement('div');
probe.innerHTML = arguments[1];
const want = squash(probe.textContent);
return want.length > 0 && squash(fb.textContent).includes(want);
"#;

/// The quiz of one lesson, open in the browser.
pub struct QuizPage<'s> {
    /// The browser showing the quiz.
    pub browser: &'s Session,
    /// The lesson whose quiz it is, as `lessons/` defines it.
    pub lesson: &'s Lesson,
}

impl<'s> QuizPage<'s> {
    /// Opens `/quiz/<slug>` with [`sample_run`] saved in the browser (so every question
    /// can be answered) and waits until its questions are shown.
    pub fn open(site: &'s Site, lesson: &'s Lesson) -> Result<QuizPage<'s>> {
        site.browser
            .goto(&site.url(&format!("/quiz/{}", lesson.slug)))?;
        site.browser.execute(
            "localStorage.setItem(arguments[0], arguments[1]);",
            vec![json!(RUN_STORAGE_KEY), json!(sample_run().to_json())],
        )?;
        let page = QuizPage {
            browser: &site.browser,
            lesson,
        };
        page.reload()?;
        Ok(page)
    }

    /// Waits until the quiz article of this lesson shows at least one question.
    pub fn wait_loaded(&self) -> Result<()> {
        let article = format!("[data-testid=quiz][data-slug=\"{}\"]", self.lesson.slug);
        let question = format!("{article} [data-testid=quiz-question]");
        self.browser
            .wait_for(&format!("`{question}`"), UI_TIMEOUT, |s| {
                Ok(s.try_find(&question)?.map(drop))
            })
    }

    /// Reloads the page and waits for the quiz again.
    pub fn reload(&self) -> Result<()> {
        self.browser.refresh()?;
        self.wait_loaded()
    }

    /// The question `index` of the quiz file.
    pub fn question(&self, index: usize) -> Result<&'s Question> {
        self.lesson.quiz.questions.get(index).ok_or_else(|| {
            Error(format!(
                "the {} quiz has no question {index}",
                self.lesson.slug
            ))
        })
    }

    /// `data-question` of every question shown, in page order.
    pub fn shown(&self) -> Result<Vec<String>> {
        self.browser
            .find_all("[data-testid=quiz-question]")?
            .iter()
            .map(|e| {
                e.attr("data-question")?
                    .ok_or_else(|| Error("a quiz-question has no data-question".into()))
            })
            .collect()
    }

    /// The score's attributes.
    pub fn score(&self) -> Result<Score> {
        let el = self.browser.find(&testid("quiz-score"))?;
        let number = |name: &str| -> Result<usize> {
            let raw = el.attr(name)?.unwrap_or_default();
            raw.parse()
                .map_err(|_| Error(format!("quiz-score {name} `{raw}` is not a count")))
        };
        Ok(Score {
            correct: number("data-correct")?,
            answered: number("data-answered")?,
            total: number("data-total")?,
        })
    }

    /// Waits until the score equals `want`; the error shows the last one seen.
    pub fn wait_score(&self, want: Score) -> Result<()> {
        let mut last = None;
        let found = self
            .browser
            .wait_for(&format!("quiz-score {want:?}"), UI_TIMEOUT, |_| {
                let now = self.score()?;
                last = Some(now);
                Ok((now == want).then_some(()))
            });
        found.map_err(|e| Error(format!("{e}; last score {last:?}")))
    }

    /// The question `q` as shown; `None` when it is not on the page.
    pub fn view(&self, q: &Question) -> Result<Option<QuestionView>> {
        let value = self.browser.execute(SNAPSHOT_JS, vec![json!(q.id)])?;
        parse_view(&value)
            .map_err(|e| Error(format!("question `{}`: {e}; page gave {value}", q.id)))
    }

    /// The question `q` as shown; an error when it is not on the page.
    pub fn view_present(&self, q: &Question) -> Result<QuestionView> {
        self.view(q)?
            .ok_or_else(|| Error(format!("question `{}` is not shown", q.id)))
    }

    /// Waits until question `q` has a verdict and returns it as shown.
    pub fn wait_answered(&self, q: &Question) -> Result<QuestionView> {
        self.browser.wait_for(
            &format!("question `{}` to show feedback", q.id),
            UI_TIMEOUT,
            |_| {
                Ok(self
                    .view(q)?
                    .filter(|v| v.state != "open" && v.verdict.is_some()))
            },
        )
    }

    /// Clicks option `option` of question `q` and waits for its feedback.
    pub fn answer_by_click(&self, q: &Question, option: usize) -> Result<QuestionView> {
        self.click(q, option)?;
        self.wait_answered(q)
    }

    /// Clicks option `option` of question `q`; waits for nothing.
    pub fn click(&self, q: &Question, option: usize) -> Result<()> {
        self.browser.find(&option_css(&q.id, option))?.click()
    }

    /// Whether the feedback of `q` shows the text of `html` (build-time HTML
    /// from the quiz file, rendered by the browser to compare text with text).
    pub fn feedback_shows(&self, q: &Question, html: &str) -> Result<bool> {
        let value = self
            .browser
            .execute(FEEDBACK_HAS_JS, vec![json!(q.id), json!(html)])?;
        Ok(value.as_bool() == Some(true))
    }

    /// Moves the DOM focus to option `option` of `q` (`element.focus()`, as
    /// the contract allows), as a learner's Tab into the group would.
    pub fn focus(&self, q: &Question, option: usize) -> Result<()> {
        self.browser.execute(
            "document.querySelector(arguments[0]).focus();",
            vec![json!(option_css(&q.id, option))],
        )?;
        Ok(())
    }

    /// `(data-question, data-index)` of the focused option, if an option has the focus.
    pub fn focused(&self) -> Result<Option<(String, usize)>> {
        let value = self.browser.execute(
            "const el = document.activeElement;
             if (!el || el.getAttribute('data-testid') !== 'quiz-option') return null;
             const q = el.closest('[data-testid=quiz-question]');
             return [q ? q.getAttribute('data-question') : null, el.getAttribute('data-index')];",
            vec![],
        )?;
        let Some(pair) = value.as_array() else {
            return Ok(None);
        };
        let id = pair.first().and_then(Value::as_str).unwrap_or_default();
        let index = pair
            .get(1)
            .and_then(Value::as_str)
            .and_then(|i| i.parse().ok())
            .ok_or_else(|| Error(format!("focused option has no data-index: {value}")))?;
        Ok(Some((id.to_string(), index)))
    }

    /// Waits until option `option` of `q` has the DOM focus.
    pub fn wait_focus(&self, q: &Question, option: usize) -> Result<()> {
        let want = (q.id.clone(), option);
        let mut last = None;
        let found = self.browser.wait_for(
            &format!("focus on option {option} of `{}`", q.id),
            UI_TIMEOUT,
            |_| {
                let now = self.focused()?;
                let hit = now.as_ref() == Some(&want);
                last = now;
                Ok(hit.then_some(()))
            },
        );
        found.map_err(|e| Error(format!("{e}; focus was on {last:?}")))
    }
}

/// The stored progress (`localStorage["squeeze.progress"]`) as raw text.
pub fn stored_text(browser: &Session) -> Result<Option<String>> {
    let value = browser.execute(
        "return window.localStorage.getItem(arguments[0]);",
        vec![json!(STORAGE_KEY)],
    )?;
    Ok(value.as_str().map(str::to_string))
}

/// Replaces the stored progress with `text` (on the current page's origin).
pub fn store_text(browser: &Session, text: &str) -> Result<()> {
    browser.execute(
        "window.localStorage.setItem(arguments[0], arguments[1]);",
        vec![json!(STORAGE_KEY), json!(text)],
    )?;
    Ok(())
}

/// The saved picks of the quiz `slug` (`quizzes.<slug>.picks`), if saved.
pub fn stored_picks(browser: &Session, slug: &str) -> Result<Option<Vec<Option<usize>>>> {
    let Some(text) = stored_text(browser)? else {
        return Ok(None);
    };
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| Error(format!("stored progress is not JSON ({e}): {text}")))?;
    let Some(picks) = value["quizzes"][slug]["picks"].as_array() else {
        return Ok(None);
    };
    Ok(Some(
        picks
            .iter()
            .map(|p| p.as_u64().map(|i| i as usize))
            .collect(),
    ))
}

fn parse_view(value: &Value) -> std::result::Result<Option<QuestionView>, String> {
    if value.is_null() {
        return Ok(None);
    }
    let text = |v: &Value, name: &str| -> std::result::Result<String, String> {
        v[name]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("no {name}"))
    };
    let list = |v: &Value, name: &str| -> Vec<String> {
        v[name]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut options = Vec::new();
    for (i, o) in value["options"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        // Options must come in data-index order: tests address them by index.
        let index = text(o, "index")?;
        if index != i.to_string() {
            return Err(format!("option {i} in page order has data-index `{index}`"));
        }
        options.push(OptionView {
            checked: text(o, "checked")?,
            disabled: text(o, "disabled")?,
            tabindex: text(o, "tabindex")?,
            classes: list(o, "classes"),
            rest: list(o, "rest"),
        });
    }
    Ok(Some(QuestionView {
        state: text(value, "state")?,
        options,
        verdict: value["verdict"].as_str().map(str::to_string),
        feedback: value["feedback"].as_str().map(str::to_string),
        solution: value["solution"].as_bool() == Some(true),
    }))
}
