//! Teacher vs student vs quantized student: the teacher (fine-tuned MiniLM-L6, ~91 MB)
//! is not bundled, so it is loaded on demand, from the learner's files (the upload
//! panel's "Load as teacher") or from `models/teacher/` when the server has it. The
//! panel shows each model's logits and label and the MSE distillation loss of each pair.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::panel_run::PanelRun;
use super::schemes::vector;
use super::LabCtx;
use crate::engine::Scheme;
use crate::format;
use crate::lab::bridge;
use crate::lab::messages::TeacherTable;
use crate::lab::url::pickable;
use crate::worker_bridge;

/// Where a server may offer the teacher, relative to the page.
pub const TEACHER_DIR: &str = "models/teacher/";

/// The panel.
#[component]
pub fn TeacherPanel(
    /// Shared lab state.
    ctx: LabCtx,
) -> impl IntoView {
    let scheme = RwSignal::new(Scheme::Int8Dynamic);
    let state = PanelRun::<TeacherTable>::new();
    let (table, running, error, runs) = (state.table, state.running, state.error, state.runs);
    let fetching = RwSignal::new(None::<(u64, Option<u64>)>);
    // Bumped to run again after a run asked for while one was going.
    let again = RwSignal::new(0u32);

    let run = move || {
        if ctx.teacher.with_untracked(Option::is_none) {
            return;
        }
        let Some(text) = state.begin(&ctx) else {
            return;
        };
        state.send(
            bridge::compare_teacher(text, scheme.get_untracked()),
            move || again.update(|n| *n += 1),
        );
    };
    // A new teacher, a new student or the lab's run button: compare again.
    Effect::new(move |_| {
        ctx.teacher.track();
        ctx.model_gen.track();
        ctx.compare_gen.track();
        scheme.track();
        again.track();
        run();
    });

    let fetch_teacher = move |_| {
        if fetching.get_untracked().is_some() {
            return;
        }
        fetching.set(Some((0, None)));
        error.set(None);
        spawn_local(async move {
            let result = match worker_bridge::document_url(TEACHER_DIR) {
                Ok(url) => {
                    bridge::load_teacher(url, move |loaded, total| {
                        fetching.try_set(Some((loaded, total)));
                    })
                    .await
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(ready) => {
                    ctx.teacher.try_set(Some(ready));
                }
                Err(m) => {
                    error.try_set(Some(format!(
                        "No teacher at {TEACHER_DIR} on this server ({m}). See below for how to get one."
                    )));
                }
            }
            fetching.try_set(None);
        });
    };

    view! {
        <section class="card lab-panel" data-testid="teacher-panel">
            <h2>"Teacher, student and quantized student"</h2>
            <p class="muted small">
                "Distillation trains the small student to give the big teacher's logits; quantization "
                "then shrinks the student again. The MSE of the logits (the distillation loss) of each "
                "pair shows what each step costs on your sentence."
            </p>
            {move || ctx.teacher.get().map(|t| view! {
                <p class="banner info" data-testid="teacher-status" data-source=t.source.clone()>
                    {format!(
                        "Teacher: {} · {} layers, width {}, {} weights, {}",
                        t.source, t.layers, t.dim, t.parameters, format::size(t.bytes)
                    )}
                </p>
            })}
            {move || ctx.teacher.with(Option::is_none).then(|| view! {
                <div class="banner info" data-testid="teacher-none">
                    <p>
                        "No teacher is loaded. The teacher (all-MiniLM-L6-v2 fine-tuned on the sentiment "
                        "set, ~91 MB) is not bundled with the site. To get one, run "
                        <code>"cargo xtask distill"</code>
                        ", which leaves it in "
                        <code>".cache/distill/teacher/"</code>
                        "; then either pick its three files in “Your own model” below and press "
                        "“Load as teacher”, or copy the folder to "
                        <code>"dist/models/teacher/"</code>
                        " on the server and press “Fetch the server's teacher”. Any DistilBERT "
                        "classifier with the same labels works as a teacher."
                    </p>
                </div>
            })}
            <div class="actions">
                <button
                    class="button"
                    data-testid="teacher-fetch"
                    disabled=move || fetching.get().is_some()
                    on:click=fetch_teacher
                >
                    {move || match fetching.get() {
                        Some((loaded, total)) => format!("Fetching… {}", format::progress(loaded, total)),
                        None => "Fetch the server's teacher".to_string(),
                    }}
                </button>
                <label>
                    "Quantized student: "
                    <select
                        data-testid="teacher-scheme"
                        on:change=move |ev| {
                            if let Ok(s) = event_target_value(&ev).parse::<Scheme>() {
                                scheme.set(s);
                            }
                        }
                    >
                        {pickable().into_iter().map(|s| view! {
                            <option value=s.name() selected={s == Scheme::Int8Dynamic}>{s.name()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <button
                    class="button primary"
                    data-testid="teacher-run"
                    disabled=move || running.get() || !ctx.ready() || ctx.teacher.with(Option::is_none)
                    on:click=move |_| run()
                >
                    {move || if running.get() { "Comparing…" } else { "Compare the three" }}
                </button>
            </div>
            {move || error.get().map(|m| view! { <p class="error" role="alert" data-testid="teacher-error">{m}</p> })}
            {move || table.get().map(|t| view! { <TeacherResults table=t run=runs.get()/> })}
        </section>
    }
}

/// The three rows and the three losses of one answer.
#[component]
fn TeacherResults(table: TeacherTable, run: u32) -> impl IntoView {
    let names = |role: &str| match role {
        "teacher" => "teacher (f32)".to_string(),
        "student" => "student (f32)".to_string(),
        _ => format!("quantized student ({})", table.scheme),
    };
    let losses = [
        (
            "mse-teacher-student",
            "teacher – student",
            table.mse_teacher_student,
        ),
        (
            "mse-teacher-quantized",
            "teacher – quantized student",
            table.mse_teacher_quantized,
        ),
        (
            "mse-student-quantized",
            "student – quantized student",
            table.mse_student_quantized,
        ),
    ];
    view! {
        <div data-testid="teacher-results" data-run=run.to_string() data-scheme=table.scheme.name()>
            <div class="table-scroll">
                <table class="scheme-table">
                    <thead>
                        <tr><th>"model"</th><th>"size"</th><th>"logits"</th><th>"probabilities"</th><th>"label"</th></tr>
                    </thead>
                    <tbody>
                        {table.rows.iter().map(|r| {
                            let p = &r.prediction;
                            view! {
                                <tr
                                    data-testid="teacher-row"
                                    data-role=r.role.clone()
                                    data-logits=format::f32_json_array(&p.logits)
                                    data-label=p.label.clone()
                                >
                                    <th scope="row">{names(&r.role)}</th>
                                    <td>{format::size(r.bytes)}</td>
                                    <td class="mono">{vector(&p.logits, 4)}</td>
                                    <td class="mono">{vector(&p.probabilities, 3)}</td>
                                    <td>{p.label.clone()}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <div class="metrics">
                {losses.into_iter().map(|(id, title, value)| view! {
                    <div class="metric" data-testid=id data-value=format::f32_json(value)>
                        <div class="metric-title">{format!("MSE {title}")}</div>
                        <div class="metric-value">{format::small(value)}</div>
                    </div>
                }).collect_view()}
            </div>
        </div>
    }
}
