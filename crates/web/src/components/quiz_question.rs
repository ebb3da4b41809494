//! One quiz question: the prompt, its options as a WAI-ARIA radio group
//! (roving tabindex; arrows move, Space/Enter choose — see
//! [`crate::radio_keys`]) and, once answered, the feedback for the chosen
//! option with the explanation and the worked solution.
//!
//! Which option is right is not in the DOM before the learner answers. A question
//! about the learner's own run that has not been measured yet says where to
//! measure it and takes no pick.

use std::sync::Arc;

use leptos::ev::KeyboardEvent;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use content::{Question, QuizRun, Verdict};

use crate::radio_keys::{radio_key, KeyAction};

/// Question `index` of the quiz, shown as number `number`; `on_pick` gets
/// `(question, option)` when the learner chooses.
#[component]
pub fn QuizQuestion(
    /// Position of the question in its quiz.
    index: usize,
    /// The number shown to the learner.
    number: usize,
    /// The question itself (resolved from the learner's run when it asks about it).
    question: Arc<Question>,
    /// For a question about the learner's run not measured yet: where to measure it
    /// (a site path) and what to do there.
    measure: Option<(String, String)>,
    /// The quiz's grading state, shared by all its questions.
    run: RwSignal<QuizRun>,
    /// Called with `(question, option)` when the learner chooses.
    on_pick: Callback<(usize, usize)>,
) -> impl IntoView {
    let count = question.choices.len();
    let picked = Memo::new(move |_| run.with(|r| r.picked(index)));
    let verdict = Memo::new(move |_| run.with(|r| r.verdict(index)));
    // The option that takes Tab focus: the chosen one, else the first.
    let focus = RwSignal::new(picked.get_untracked().unwrap_or(0));
    let group = NodeRef::<leptos::html::Div>::new();

    let locked = measure.is_some();
    let choose = move |option: usize| {
        focus.set(option);
        if !locked && picked.get_untracked().is_none() {
            on_pick.run((index, option));
        }
    };
    let on_key = move |ev: KeyboardEvent| {
        let Some(action) = radio_key(&ev.key(), focus.get_untracked(), count) else {
            return;
        };
        // Space would scroll the page, arrows too.
        ev.prevent_default();
        match action {
            KeyAction::Focus(option) => {
                focus.set(option);
                focus_option(group, option);
            }
            KeyAction::Choose(option) => choose(option),
        }
    };

    let prompt_id = format!("q-{}-prompt", question.id);
    let for_feedback = question.clone();
    let options = question
        .choices
        .iter()
        .enumerate()
        .map(|(option, choice)| {
            let letter = char::from(b'A' + option as u8).to_string();
            let is_picked = move || picked.get() == Some(option);
            let answered = move || picked.get().is_some();
            let right = question.is_correct(option);
            view! {
                <div
                    role="radio"
                    class="quiz-option"
                    class:picked=is_picked
                    class:right=move || answered() && right
                    class:wrong=move || is_picked() && !right
                    data-testid="quiz-option"
                    data-index=option.to_string()
                    aria-checked=move || is_picked().to_string()
                    aria-disabled=move || (locked || answered()).to_string()
                    tabindex=move || if focus.get() == option { "0" } else { "-1" }
                    on:click=move |_| choose(option)
                    on:focus=move |_| focus.set(option)
                >
                    <span class="option-letter" aria-hidden="true">{letter}</span>
                    <span class="option-text" inner_html=choice.html.clone()></span>
                </div>
            }
        })
        .collect_view();

    view! {
        <article
            class="quiz-question card"
            data-testid="quiz-question"
            data-question=question.id.clone()
            data-state=move || match verdict.get() {
                None if locked => "unmeasured",
                None => "open",
                Some(Verdict::Correct) => "correct",
                Some(Verdict::Wrong) => "wrong",
            }
        >
            <h2 class="question-number">{format!("Question {number}")}</h2>
            <div class="question-prompt prose" id=prompt_id.clone() inner_html=question.prompt_html.clone()></div>
            {measure.map(|(href, what)| view! {
                <p class="question-measure" data-testid="quiz-measure">
                    "This question is about your own numbers. To answer it, "
                    <a href=crate::site::path(&href) data-testid="quiz-measure-link">{what}</a>
                    "; your measurements stay in this browser."
                </p>
            })}
            {question.lab.clone().map(|href| view! {
                <p class="question-lab">
                    <a href=crate::site::path(&href) target="_blank" rel="noopener" data-testid="quiz-lab-link">
                        "Find out in the lab (opens a new tab)"
                    </a>
                </p>
            })}
            <div
                role="radiogroup"
                class="quiz-options"
                aria-labelledby=prompt_id
                data-testid="quiz-options"
                node_ref=group
                on:keydown=on_key
            >
                {options}
            </div>
            <div class="feedback-live" aria-live="polite">
                {move || picked.get().map(|option| view! { <Feedback question=for_feedback.clone() option=option/> })}
            </div>
        </article>
    }
}

/// What the learner sees after choosing `option`.
#[component]
fn Feedback(question: Arc<Question>, option: usize) -> impl IntoView {
    let correct = question.is_correct(option);
    let choice = &question.choices[option];
    let measured = question.measured_html.clone().map(|html| {
        view! {
            <div class="measured-explanation prose" data-testid="quiz-measured">
                <strong>"Your numbers: "</strong>
                <span inner_html=html></span>
            </div>
        }
    });
    let steps = (!question.steps_html.is_empty()).then(|| {
        view! {
            <details class="solution" data-testid="quiz-solution">
                <summary>"Step-by-step solution"</summary>
                <ol>
                    {question
                        .steps_html
                        .iter()
                        .map(|s| view! { <li inner_html=s.clone()></li> })
                        .collect_view()}
                </ol>
            </details>
        }
    });
    view! {
        <div
            class="feedback"
            class:correct=correct
            class:wrong=!correct
            data-testid="quiz-feedback"
            data-verdict=if correct { "correct" } else { "wrong" }
        >
            <p class="verdict">{if correct { "Correct!" } else { "Not quite." }}</p>
            <div class="prose" inner_html=choice.feedback_html.clone()></div>
            <div class="explanation prose" inner_html=question.explanation_html.clone()></div>
            {measured}
            {steps}
            {question.quick_check_html.clone().map(|c| view! {
                <p class="quick-check">
                    <strong>"Quick check: "</strong>
                    <span inner_html=c></span>
                </p>
            })}
        </div>
    }
}

/// Move the DOM focus to option `option` of the group.
fn focus_option(group: NodeRef<leptos::html::Div>, option: usize) {
    let Some(group) = group.get_untracked() else {
        return;
    };
    let Ok(radios) = group.query_selector_all("[role=radio]") else {
        return;
    };
    if let Some(el) = radios
        .item(option as u32)
        .and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}
