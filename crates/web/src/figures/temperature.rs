//! *Temperature and soft targets*: the teacher's logits for the learner's sentence, a
//! temperature slider, the softened distributions of teacher and student, and the two
//! losses side by side — MSE on the logits (no temperature) and `T²·KL` on the softened
//! probabilities — with `T²·KL` drawn over the whole slider range.

use leptos::prelude::*;

use content::figure as settings;

use super::frame::{bundled_model, ErrorLine, FigureFrame, ModelLine, SentenceRun};
use super::messages::SoftTargets;
use super::soft::{kl_loss, mse, softened, top_probability};
use super::{bridge, run_store};
use crate::components::logit_bars::ProbBars;
use crate::components::metric_card::MetricCard;
use crate::format;

/// The slider's range and step.
const T_MIN: f32 = 0.5;
const T_MAX: f32 = 10.0;
const T_STEP: f32 = 0.1;
/// Temperatures listed in the chart's text alternative.
const TABLE_TS: [f32; 5] = [0.5, 1.0, 2.0, 4.0, 8.0];

/// The figure.
#[component]
pub fn Temperature(
    /// The figure's id in its lesson.
    id: String,
    /// Its settings from the lesson.
    settings: &'static settings::Temperature,
) -> impl IntoView {
    let state = SentenceRun::<SoftTargets>::new(settings.text.clone());
    let SentenceRun {
        text,
        result: soft,
        error,
        busy,
    } = state;
    let t = RwSignal::new(settings.temperature.clamp(T_MIN, T_MAX));
    let run = move || state.start(bridge::soft_targets, |_| {});
    let status = bundled_model(run);
    // The quiz asks about the temperature the learner leaves the slider at.
    Effect::new(move |_| {
        let temperature = t.get();
        soft.with(|s| {
            if let Some(s) = s {
                run_store::update(|r| {
                    r.temperature = Some(content::run::TemperatureRun {
                        text: s.text.clone(),
                        temperature,
                        labels: s.labels.clone(),
                        teacher_logits: s.teacher.clone(),
                        teacher_top_prob: top_probability(&s.teacher, temperature),
                    })
                });
            }
        })
    });

    let body = move || {
        soft.get().map(|s| {
            let temperature = t.get();
            let bars = |logits: &[f32]| -> Vec<(String, f32)> {
                s.labels.iter().cloned().zip(softened(logits, temperature)).collect()
            };
            let student_name = if s.student_steps == 0 {
                format!(
                    "Student: freshly cut from the teacher ({} layer{}, width {}), not trained yet",
                    s.student_layers,
                    if s.student_layers == 1 { "" } else { "s" },
                    s.student_dim
                )
            } else {
                format!(
                    "Student: your /train run after {} steps ({} layer{}, width {})",
                    s.student_steps,
                    s.student_layers,
                    if s.student_layers == 1 { "" } else { "s" },
                    s.student_dim
                )
            };
            let kl = kl_loss(&s.student, &s.teacher, temperature);
            let m = mse(&s.student, &s.teacher);
            view! {
                <div class="panels figure-panels">
                    <section class="panel" aria-label="Teacher">
                        <h3 class="panel-label">"Teacher: the bundled model"</h3>
                        <p class="small" data-testid="temp-teacher-logits">{format!("logits {}", logits_text(&s.teacher))}</p>
                        <ul class="bars" data-testid="temp-teacher-probs">
                            <ProbBars rows=bars(&s.teacher)/>
                        </ul>
                    </section>
                    <section class="panel" aria-label="Student">
                        <h3 class="panel-label">{student_name}</h3>
                        <p class="small" data-testid="temp-student-logits">{format!("logits {}", logits_text(&s.student))}</p>
                        <ul class="bars" data-testid="temp-student-probs">
                            <ProbBars rows=bars(&s.student)/>
                        </ul>
                    </section>
                </div>
                <div class="metrics" data-testid="temp-losses" data-mse=m.to_string() data-kl=kl.to_string()
                    data-t=temperature.to_string() data-teacher=format::f32_json_array(&s.teacher)
                    data-student=format::f32_json_array(&s.student)>
                    <MetricCard title="MSE on logits" value=format::small(m)
                        detail="the same at every T" hint="Mean squared error between student and teacher logits"/>
                    <MetricCard title="T² · KL(teacher ‖ student)" value=format::small(kl)
                        detail=format!("at T = {temperature:.1}") hint="Kullback–Leibler divergence of the softened distributions, times T squared"/>
                </div>
                <LossCurve student=s.student.clone() teacher=s.teacher.clone() t=temperature/>
            }
        })
    };

    view! {
        <FigureFrame id=id title="Temperature and soft targets"
            caption="Move the temperature: the teacher's probabilities soften, and the KL loss changes while MSE does not.">
            <ModelLine status=status/>
            <form class="figure-controls" on:submit=move |ev| { ev.prevent_default(); run(); }>
                <label class="grow">"Sentence "
                    <input type="text" class="figure-text" data-testid="temp-text" maxlength="2000"
                        prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))/>
                </label>
                <button class="button primary small" type="submit" data-testid="temp-run"
                    disabled=move || busy.get() || !status.with(|s| s.is_ready())>"Run"</button>
            </form>
            <label class="figure-slider">
                <span>{move || format!("Temperature T = {:.1}", t.get())}</span>
                <input type="range" data-testid="temp-slider" min=T_MIN.to_string() max=T_MAX.to_string()
                    step=T_STEP.to_string() prop:value=move || t.get().to_string()
                    aria-valuetext=move || format!("T = {:.1}", t.get())
                    on:input=move |ev| {
                        if let Ok(v) = event_target_value(&ev).parse::<f32>() {
                            t.set(v.clamp(T_MIN, T_MAX));
                        }
                    }/>
            </label>
            <ErrorLine error=error.into()/>
            {body}
        </FigureFrame>
    }
}

/// `T²·KL` over the slider's range, the current `T` marked, with a table as its text.
#[component]
fn LossCurve(student: Vec<f32>, teacher: Vec<f32>, t: f32) -> impl IntoView {
    const W: f32 = 600.0;
    const H: f32 = 120.0;
    const PAD: f32 = 24.0;
    let samples: Vec<(f32, f32)> = (0..=95)
        .map(|i| {
            let tt = T_MIN + i as f32 * 0.1;
            (tt, kl_loss(&student, &teacher, tt))
        })
        .collect();
    let top = samples.iter().map(|(_, k)| *k).fold(1e-9, f32::max);
    let x = move |tt: f32| PAD + (tt - T_MIN) / (T_MAX - T_MIN) * (W - 2.0 * PAD);
    let y = move |k: f32| H - PAD - k / top * (H - 2.0 * PAD);
    let path: String = samples
        .iter()
        .enumerate()
        .map(|(i, (tt, k))| {
            format!(
                "{}{:.1},{:.1}",
                if i == 0 { "M" } else { " L" },
                x(*tt),
                y(*k)
            )
        })
        .collect();
    let now = kl_loss(&student, &teacher, t);
    let rows = TABLE_TS
        .iter()
        .map(|tt| {
            view! {
                <tr>
                    <td>{format!("{tt:.1}")}</td>
                    <td>{format::percent(top_probability(&teacher, *tt))}</td>
                    <td>{format::small(kl_loss(&student, &teacher, *tt))}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <svg class="temp-curve" viewBox="0 0 600 120" role="img"
            aria-label=format!("T² times KL against temperature, from {:.3} at T = 0.5 to {:.3} at T = 10; now {:.3} at T = {t:.1}", samples[0].1, samples[samples.len() - 1].1, now)>
            <line class="chart-axis" x1=PAD x2=W - PAD y1=H - PAD y2=H - PAD/>
            <path class="chart-line" d=path/>
            <circle class="chart-dot" cx=x(t) cy=y(now) r="5"/>
            <text class="chart-label" x=PAD y=H - 6.0>{format!("T = {T_MIN}")}</text>
            <text class="chart-label" x=W - PAD y=H - 6.0 text-anchor="end">{format!("T = {T_MAX}")}</text>
            <text class="chart-label" x=PAD y="14">{format!("T² · KL (max {})", format::small(top))}</text>
        </svg>
        <details class="figure-details">
            <summary>"The curve as a table"</summary>
            <table class="figure-table">
                <thead><tr><th scope="col">"T"</th><th scope="col">"teacher's top probability"</th><th scope="col">"T² · KL"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </details>
    }
}

fn logits_text(logits: &[f32]) -> String {
    let values: Vec<String> = logits.iter().map(|x| format!("{x:.3}")).collect();
    format!("[{}]", values.join(", "))
}
