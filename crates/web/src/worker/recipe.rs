//! The lab's recipe in the worker: per-layer costs on development sentences (one layer
//! per request, so the page shows progress and can stop), then the mixed model built and
//! judged on the held-out set beside every uniform scheme.
//!
//! The development sentences (data/sentiment/dev.tsv) choose; the held-out ones
//! (data/sentiment/test.tsv) judge: the recipe never sees what it is reported on.

use std::cell::RefCell;
use std::collections::hash_map::Entry;
use std::collections::HashMap;

use crate::engine::recipe::{self, EvalSet, Evaluation, LayerCosts, Recipe};
use crate::engine::{Classifier, Encoding, QuantizeOptions, Scheme};
use crate::lab::recipe::{RecipeOutcome, RecipePlan, CANDIDATES};

use super::lab::{held_out_set, parse_tsv};
use super::models::Loaded;

/// The development set, `label<TAB>text` under a header line.
const DEV_TSV: &str = include_str!("../../../../data/sentiment/dev.tsv");

/// What the worker keeps for one model (dropped when another is loaded).
struct State {
    /// The model these belong to (`ModelReady::base_url`).
    source: String,
    /// Development sentences, tokenized, and f32's logits on them.
    dev: Vec<Encoding>,
    reference: Vec<Vec<f32>>,
    /// The held-out set with f32's logits, built at the first apply.
    held_out: Option<EvalSet>,
    /// Uniform schemes judged on it, by (scheme, int8 embeddings).
    uniform: HashMap<(Scheme, bool), Evaluation>,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
    /// The last mixed model applied, for the lab's downloads.
    static MIXED: RefCell<Option<(String, Classifier)>> = const { RefCell::new(None) };
}

/// Tokenizes the first `sentences` development sentences and runs f32 on them.
pub fn start(loaded: &Loaded, sentences: u32) -> Result<RecipePlan, String> {
    let f32 = loaded.f32();
    let dev_rows = parse_tsv(DEV_TSV);
    let n = (sentences.max(1) as usize).min(dev_rows.len());
    let dev = dev_rows[..n]
        .iter()
        .map(|(_, text)| f32.encode(text))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let reference = recipe::sensitivity::reference_logits(f32, &dev).map_err(|e| e.to_string())?;
    let plan = RecipePlan {
        layers: f32.linears().into_iter().map(|l| l.name).collect(),
        fixed_bytes: recipe::sensitivity::fixed_bytes(f32),
        sentences: n as u32,
    };
    let source = loaded.ready.base_url.clone();
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        // The held-out judgements stay valid for the same model.
        let (held_out, uniform) = match s.take() {
            Some(old) if old.source == source => (old.held_out, old.uniform),
            _ => (None, HashMap::new()),
        };
        *s = Some(State {
            source,
            dev,
            reference,
            held_out,
            uniform,
        });
    });
    Ok(plan)
}

/// One layer alone in each candidate scheme, on the development sentences.
pub fn layer(loaded: &Loaded, layer: &str) -> Result<LayerCosts, String> {
    STATE.with(|s| {
        let s = s.borrow();
        let state = current(&s, loaded)?;
        recipe::sensitivity::measure_layer(
            loaded.f32(),
            layer,
            &state.dev,
            &state.reference,
            &CANDIDATES,
        )
        .map_err(|e| e.to_string())
    })
}

/// Builds the mixed model of `recipe` (with int8 word embeddings if asked), judges it,
/// f32 and every uniform candidate on the held-out set, and keeps it for downloads.
pub fn apply(
    loaded: &Loaded,
    recipe: Recipe,
    int8_embeddings: bool,
) -> Result<RecipeOutcome, String> {
    let f32 = loaded.f32();
    let options = QuantizeOptions::int8_embeddings(int8_embeddings);
    let mixed = f32
        .apply_recipe_with(&recipe, options)
        .map_err(|e| e.to_string())?;
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        if s.as_ref()
            .is_none_or(|st| st.source != loaded.ready.base_url)
        {
            // A recipe file applied before any measuring: nothing to reuse.
            *s = Some(State {
                source: loaded.ready.base_url.clone(),
                dev: Vec::new(),
                reference: Vec::new(),
                held_out: None,
                uniform: HashMap::new(),
            });
        }
        let state = s.as_mut().expect("set above");
        if state.held_out.is_none() {
            state.held_out = Some(EvalSet::new(f32, &held_out_set()).map_err(|e| e.to_string())?);
        }
        let set = state.held_out.as_ref().expect("built above");
        let judged = set.evaluate(&mixed).map_err(|e| e.to_string())?;
        let f32_eval = set.evaluate(f32).map_err(|e| e.to_string())?;
        let mut uniform = Vec::new();
        for scheme in CANDIDATES {
            let key = (scheme, int8_embeddings);
            let eval = match state.uniform.entry(key) {
                Entry::Occupied(e) => e.get().clone(),
                Entry::Vacant(slot) => {
                    let model = f32
                        .quantize_with(scheme, options)
                        .map_err(|e| e.to_string())?;
                    let e = set.evaluate(&model).map_err(|e| e.to_string())?;
                    slot.insert(e).clone()
                }
            };
            uniform.push((scheme, eval));
        }
        let mut recipe = recipe;
        recipe.bytes = judged.bytes;
        MIXED.with(|m| *m.borrow_mut() = Some((loaded.ready.base_url.clone(), mixed)));
        Ok(RecipeOutcome {
            recipe,
            int8_embeddings,
            mixed: judged,
            f32: f32_eval,
            uniform,
        })
    })
}

/// The mixed model last applied to the loaded model, if any.
pub fn mixed(loaded: &Loaded) -> Option<Classifier> {
    MIXED.with(|m| {
        m.borrow()
            .as_ref()
            .filter(|(source, _)| *source == loaded.ready.base_url)
            .map(|(_, model)| model.clone())
    })
}

fn current<'a>(s: &'a Option<State>, loaded: &Loaded) -> Result<&'a State, String> {
    s.as_ref()
        .filter(|st| st.source == loaded.ready.base_url && !st.dev.is_empty())
        .ok_or_else(|| "measure the layers first (the model changed since)".to_string())
}
