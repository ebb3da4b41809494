//! The lab's recipe for a budget: the payloads of its worker requests and the plain
//! arithmetic the panel does on the page (budgets, the chart's points). The search itself
//! is the engine's ([`crate::engine::recipe`]); it takes milliseconds, so the page runs it
//! and only the measuring and the evaluating go to the worker.

use serde::{Deserialize, Serialize};

use crate::engine::recipe::{Budget, Evaluation, Frontier, LayerCosts, Recipe, Sensitivity};
use crate::engine::Scheme;

/// Sentences of the development set the per-layer errors may be measured on.
pub const DEV_SIZES: [u32; 4] = [16, 32, 64, 224];

/// The default: enough to rank layers, quick enough to wait for (a few seconds).
pub const DEFAULT_DEV_SENTENCES: u32 = 32;

/// What a layer may take in the lab's recipes (f32 is always an option).
pub const CANDIDATES: [Scheme; 7] = [
    Scheme::F16,
    Scheme::Int8Dynamic,
    Scheme::Int8PerChannel,
    Scheme::Q8_0,
    Scheme::Q5_0,
    Scheme::Q4K,
    Scheme::Q4_0,
];

/// The measuring plan (answer to `RecipeStart`): the worker has tokenized the development
/// sentences and run f32 on them; the page then asks for each layer in turn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecipePlan {
    /// Every Linear layer, in forward order.
    pub layers: Vec<String>,
    /// Bytes no scheme changes (embeddings, LayerNorms).
    pub fixed_bytes: u64,
    /// Development sentences the errors are averaged over.
    pub sentences: u32,
}

/// A recipe applied and judged on the held-out set (answer to `RecipeApply`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecipeOutcome {
    /// The recipe as applied (its `bytes` are the mixed model's, measured).
    pub recipe: Recipe,
    /// Whether the word embeddings were stored int8 per row.
    pub int8_embeddings: bool,
    /// The mixed model on the held-out set.
    pub mixed: Evaluation,
    /// f32 on the same sentences (accuracy to compare with; agreement 100%).
    pub f32: Evaluation,
    /// Every uniform candidate scheme on the same sentences, for the chart.
    pub uniform: Vec<(Scheme, Evaluation)>,
}

/// Per-layer costs measured so far, as the engine's [`Sensitivity`].
pub fn sensitivity(plan: &RecipePlan, layers: Vec<LayerCosts>) -> Sensitivity {
    Sensitivity {
        fixed_bytes: plan.fixed_bytes,
        sentences: plan.sentences as usize,
        layers,
    }
}

/// The size budget "no larger than `scheme` everywhere" from the measured costs: the
/// fixed bytes plus each layer in `scheme` (or f32 where the layer cannot take it).
pub fn uniform_bytes(sens: &Sensitivity, scheme: Scheme) -> u64 {
    sens.fixed_bytes
        + sens
            .layers
            .iter()
            .map(|l| {
                l.options
                    .iter()
                    .find(|c| c.scheme == scheme)
                    .unwrap_or(&l.options[0])
                    .bytes
            })
            .sum::<u64>()
}

/// The recipe for a size budget of `max_bytes`, or the message to show when none fits.
/// (Worded here: formatting the engine's error would link candle's error text into the
/// page's wasm.)
pub fn for_budget(frontier: &Frontier, max_bytes: u64) -> Result<Recipe, String> {
    frontier.recipe(Budget::MaxBytes(max_bytes)).map_err(|_| {
        let smallest = frontier.points().first().map_or(0, |p| p.0);
        format!("No mix of schemes fits {max_bytes} bytes: the smallest takes {smallest} bytes.")
    })
}

/// Bytes that int8 per-row word embeddings save on a `vocab × dim` table: four bytes per
/// weight become one, plus one f32 scale per row.
pub fn int8_embedding_saving(vocab: usize, dim: usize) -> u64 {
    let f32_bytes = vocab * dim * 4;
    let int8_bytes = vocab * dim + vocab * 4;
    f32_bytes.saturating_sub(int8_bytes) as u64
}

/// The recipe file's name for a budget of `bytes`, e.g. `recipe-7.97MB.json`.
pub fn file_name(bytes: u64) -> String {
    format!("recipe-{:.2}MB.json", bytes as f64 / 1e6)
}

/// Percent with one decimal, e.g. `84.2%`.
pub fn percent(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::recipe::Cost;

    fn costs(layer: &str, f32: u64, int8: (u64, f64), q4: (u64, f64)) -> LayerCosts {
        LayerCosts {
            layer: layer.into(),
            options: vec![
                Cost {
                    scheme: Scheme::F32,
                    bytes: f32,
                    error: 0.0,
                },
                Cost {
                    scheme: Scheme::Int8Dynamic,
                    bytes: int8.0,
                    error: int8.1,
                },
                Cost {
                    scheme: Scheme::Q4_0,
                    bytes: q4.0,
                    error: q4.1,
                },
            ],
        }
    }

    fn sample() -> Sensitivity {
        let plan = RecipePlan {
            layers: vec!["a".into(), "b".into()],
            fixed_bytes: 1000,
            sentences: 16,
        };
        sensitivity(
            &plan,
            vec![
                costs("a", 400, (100, 1e-4), (60, 5e-3)),
                costs("b", 800, (200, 1e-5), (120, 1e-4)),
            ],
        )
    }

    #[test]
    fn int8_embeddings_save_three_quarters_less_the_scales() {
        // The bundled student's table: 6,183 × 256.
        assert_eq!(
            int8_embedding_saving(6183, 256),
            6_331_392 - 1_582_848 - 24_732
        );
        assert_eq!(file_name(7_971_234), "recipe-7.97MB.json");
    }

    #[test]
    fn uniform_budgets_add_the_fixed_bytes() {
        let s = sample();
        assert_eq!(uniform_bytes(&s, Scheme::F32), 2200);
        assert_eq!(uniform_bytes(&s, Scheme::Int8Dynamic), 1300);
        // A scheme no layer measured counts as f32.
        assert_eq!(uniform_bytes(&s, Scheme::Q8_0), 2200);
    }

    #[test]
    fn a_budget_picks_the_least_error_that_fits() {
        let s = sample();
        let frontier = Frontier::new(&s).unwrap();
        let r = for_budget(&frontier, 1300).unwrap();
        assert!(r.bytes <= 1300);
        assert_eq!(r.scheme_of("a"), Some(Scheme::Int8Dynamic));
        assert_eq!(r.scheme_of("b"), Some(Scheme::Int8Dynamic));
        // Tighter: the insensitive layer b goes to 4 bits first, the sensitive a keeps int8.
        let tight = for_budget(&frontier, 1220).unwrap();
        assert_eq!(tight.scheme_of("a"), Some(Scheme::Int8Dynamic));
        assert_eq!(tight.scheme_of("b"), Some(Scheme::Q4_0));
        let tightest = for_budget(&frontier, 1180).unwrap();
        assert_eq!(tightest.scheme_of("a"), Some(Scheme::Q4_0));
        assert!(for_budget(&frontier, 1179).is_err());
    }
}
