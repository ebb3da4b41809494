//! *The seed's code, line by line*: each line of the seed document's PyTorch program
//! beside what it produces here, for the learner's sentence — token ids, f32 logits,
//! the int8 model, its logits and the MSE between them (the seed's "distillation loss").

use leptos::prelude::*;

use content::figure as settings;

use super::frame::{bundled_model, ErrorLine, FigureFrame, ModelLine, SentenceRun};
use super::messages::SeedCodeRun;
use super::{bridge, run_store};
use crate::format;

/// The figure.
#[component]
pub fn SeedCode(
    /// The figure's id in its lesson.
    id: String,
    /// Its settings from the lesson.
    settings: &'static settings::SeedCode,
) -> impl IntoView {
    let state = SentenceRun::<SeedCodeRun>::new(settings.text.clone());
    let SentenceRun {
        text,
        result,
        error,
        busy,
    } = state;
    let run = move || state.start(bridge::seed_code, record);
    let status = bundled_model(run);

    let out = move |f: fn(&SeedCodeRun) -> String| {
        move || result.with(|r| r.as_ref().map(f).unwrap_or_else(|| "…".to_string()))
    };
    view! {
        <FigureFrame id=id title="The seed's code, line by line"
            caption="Each line of the PyTorch program, and what the same step gives in your browser for your sentence.">
            <ModelLine status=status/>
            <form class="figure-controls" on:submit=move |ev| { ev.prevent_default(); run(); }>
                <label class="grow">"text = "
                    <input type="text" class="figure-text" data-testid="seed-text" maxlength="2000"
                        prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))/>
                </label>
                <button class="button primary small" type="submit" data-testid="seed-run"
                    disabled=move || busy.get() || !status.with(|s| s.is_ready())>"Run"</button>
            </form>
            <ErrorLine error=error.into()/>
            <ol class="seed-lines" data-testid="seed-lines" aria-busy=move || busy.get().to_string()>
                <SeedLine code="tokenizer = DistilBertTokenizer.from_pretrained(model_name)"
                    out=Signal::derive(out(|r| format!("the bundled WordPiece tokenizer; your sentence is {} tokens{}", r.ids.len(), if r.truncated { " (cut at the model's length)" } else { "" })))/>
                <SeedLine code="model = DistilBertForSequenceClassification.from_pretrained(model_name)"
                    out=Signal::derive(out(|r| format!("the bundled student: {} layers, width {}, {} weights, {} as f32", r.layers, r.dim, format::thousands(r.parameters), format::size(r.f32_bytes))))/>
                <SeedLine code="inputs = tokenizer(text, return_tensors=\"pt\")" testid="seed-ids"
                    out=Signal::derive(out(|r| format!("input_ids = {:?}  ({})", r.ids, r.tokens.join(" "))))/>
                <SeedLine code="original_logits = model(**inputs).logits" testid="seed-f32"
                    out=Signal::derive(out(|r| logits_line(&r.f32_logits, &r.labels)))/>
                <SeedLine code="quantized_model = torch.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)"
                    out=Signal::derive(out(|r| format!("{} Linear layers now int8: {} → {} ({})", r.linears, format::size(r.f32_bytes), format::size(r.int8_bytes), format::ratio(r.f32_bytes, r.int8_bytes))))/>
                <SeedLine code="quantized_logits = quantized_model(**inputs).logits" testid="seed-int8"
                    out=Signal::derive(out(|r| logits_line(&r.int8_logits, &r.labels)))/>
                <SeedLine code="loss = torch.nn.MSELoss()(quantized_logits, original_logits)" testid="seed-mse"
                    out=Signal::derive(out(|r| format!("{} (the seed's \"distillation loss\": 0 would mean identical logits)", format::small(r.mse))))/>
            </ol>
            {move || result.with(|r| r.as_ref().map(|r| view! {
                <p class="visually-hidden" data-testid="seed-numbers" data-mse=r.mse.to_string()
                    data-f32=format::f32_json_array(&r.f32_logits) data-int8=format::f32_json_array(&r.int8_logits)
                    data-ids=format!("{:?}", r.ids)></p>
            }))}
        </FigureFrame>
    }
}

/// What the hands-on quiz reads back.
fn record(run: &SeedCodeRun) {
    run_store::update(|r| {
        r.seed_code = Some(content::run::SeedCodeRun {
            text: run.text.clone(),
            f32_logits: run.f32_logits.clone(),
            int8_logits: run.int8_logits.clone(),
            mse: run.mse,
        })
    });
}

#[component]
fn SeedLine(
    code: &'static str,
    out: Signal<String>,
    #[prop(optional)] testid: &'static str,
) -> impl IntoView {
    view! {
        <li class="seed-line">
            <code class="seed-code">{code}</code>
            <output class="seed-out" data-testid=testid>{move || out.get()}</output>
        </li>
    }
}

/// `tensor([[a, b]])` as PyTorch prints it, with the predicted class named.
fn logits_line(logits: &[f32], labels: &[String]) -> String {
    let values: Vec<String> = logits.iter().map(|x| format!("{x:.4}")).collect();
    let top = crate::engine::metrics::argmax(logits);
    format!(
        "tensor([[{}]])  → {}",
        values.join(", "),
        labels.get(top).map_or("?", String::as_str)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logits_print_like_pytorch_and_name_the_class() {
        let labels = vec!["NEGATIVE".to_string(), "POSITIVE".to_string()];
        assert_eq!(
            logits_line(&[-0.12345, 0.5], &labels),
            "tensor([[-0.1235, 0.5000]])  → POSITIVE"
        );
    }
}
