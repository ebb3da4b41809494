//! One quiz question: the prompt, its options as a WAI-ARIA radio group
//! (roving tabindex; arrows move, Space/Enter choose — see
//! [`crate::radio_keys`]) and, once answered, the feedback for the chosen
//! option with the explanation and the worked solution.
//!
//! Which option is right is not in the DOM before the learner answers.

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
    /// The question itself.
    question: &'static Question,
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

    let choose = move |option: usize| {
        focus.set(option);
        if picked.get_untracked().is_none() {
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
    let options = question
        .choices
        .iter()
        .enumerate()
        .map(|(option, choice)| {
            let letter = char::from(b'A' + option as u8).to_string();
            let is_picked = move || picked.get() == Some(option);
            let answered = move || picked.get().is_some();
            view! {
                <div
                    role="radio"
                    class="quiz-option"
                    class:picked=is_picked
                    class:right=move || answered() && question.is_correct(option)
                    class:wrong=move || is_picked() && !question.is_correct(option)
                    data-testid="quiz-option"
                    data-index=option.to_string()
                    aria-checked=move || is_picked().to_string()
                    aria-disabled=move || answered().to_string()
                    tabindex=move || if focus.get() == option { "0" } else { "-1" }
                    on:click=move |_| choose(option)
                    on:focus=move |_| focus.set(option)
                >
                    <span class="option-letter" aria-hidden="true">{letter}</span>
                    <span class="option-text" inner_html=choice.html.as_str()></span>
                </div>
            }
        })
        .collect_view();

    view! {
        <article
            class="quiz-question card"
            data-testid="quiz-question"
            data-question=question.id.as_str()
            data-state=move || match verdict.get() {
                None => "open",
                Some(Verdict::Correct) => "correct",
                Some(Verdict::Wrong) => "wrong",
            }
        >
            <h2 class="question-number">{format!("Question {number}")}</h2>
            <div class="question-prompt prose" id=prompt_id.clone() inner_html=question.prompt_html.as_str()></div>
            {question.lab.as_deref().map(|href| view! {
                <p class="question-lab">
                    <a href=crate::site::path(href) target="_blank" rel="noopener" data-testid="quiz-lab-link">
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
                {move || picked.get().map(|option| view! { <Feedback question=question option=option/> })}
            </div>
        </article>
    }
}

/// What the learner sees after choosing `option`.
#[component]
fn Feedback(question: &'static Question, option: usize) -> impl IntoView {
    let correct = question.is_correct(option);
    let choice = &question.choices[option];
    let steps = (!question.steps_html.is_empty()).then(|| {
        view! {
            <details class="solution" data-testid="quiz-solution">
                <summary>"Step-by-step solution"</summary>
                <ol>
                    {question
                        .steps_html
                        .iter()
                        .map(|s| view! { <li inner_html=s.as_str()></li> })
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
            <div class="prose" inner_html=choice.feedback_html.as_str()></div>
            <div class="explanation prose" inner_html=question.explanation_html.as_str()></div>
            {steps}
            {question.quick_check_html.as_deref().map(|c| view! {
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
