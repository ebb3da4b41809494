//! How close a prediction is to flipping: the sentences on which a quantized model is
//! most likely to disagree with the f32 one (lessons/quantization.md, "The accuracy
//! trade-off": "for sentences near the decision boundary it sometimes does").

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

pub use crate::metrics::margin;
use crate::{metrics, Classifier, Result};

/// One sentence through two models.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarginRow {
    /// The sentence.
    pub text: String,
    /// The reference (f32) model's label id.
    pub f32_label: usize,
    /// Its top-1 minus top-2 logit.
    pub f32_margin: f32,
    /// The other model's label id.
    pub other_label: usize,
    /// Its top-1 minus top-2 logit.
    pub other_margin: f32,
}

impl MarginRow {
    /// Whether the two models give different labels.
    pub fn disagrees(&self) -> bool {
        self.f32_label != self.other_label
    }

    /// The smaller of the two margins: how close either model is to flipping.
    pub fn closest(&self) -> f32 {
        self.f32_margin.min(self.other_margin)
    }
}

/// The at most `n` sentences nearest to a flip: those where the models' labels differ
/// first, then by the smaller of the two margins, smallest first (ties keep input order).
pub fn closest_calls(
    reference: &Classifier,
    other: &Classifier,
    sentences: &[String],
    n: usize,
) -> Result<Vec<MarginRow>> {
    let mut rows = sentences
        .iter()
        .map(|text| {
            let enc = reference.encode(text)?;
            let a = reference.logits(&enc)?;
            let b = other.logits(&enc)?;
            Ok(MarginRow {
                text: text.clone(),
                f32_label: metrics::argmax(&a),
                f32_margin: margin(&a),
                other_label: metrics::argmax(&b),
                other_margin: margin(&b),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    rows.sort_by(nearest_flip_first);
    rows.truncate(n);
    Ok(rows)
}

/// Disagreements first, then the smaller closest margin first.
fn nearest_flip_first(a: &MarginRow, b: &MarginRow) -> Ordering {
    b.disagrees()
        .cmp(&a.disagrees())
        .then(a.closest().total_cmp(&b.closest()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::bundled;
    use crate::Scheme;

    fn sentences() -> Vec<String> {
        [
            "I love learning about AI!",
            "This movie was terrible.",
            "It was okay, I guess.",
            "The food was not bad at all.",
            "What a waste of time and money.",
            "An absolute delight from start to finish.",
            "I am not sure how I feel about this.",
            "The plot was thin but the acting was fine.",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn rows_are_sorted_disagreements_first_then_by_margin() {
        let m = bundled();
        let q4 = m.quantize(Scheme::Q4_0).unwrap();
        let all = closest_calls(m, &q4, &sentences(), 100).unwrap();
        assert_eq!(all.len(), 8);
        for r in &all {
            assert!(r.f32_margin >= 0.0 && r.other_margin >= 0.0, "{r:?}");
        }
        for w in all.windows(2) {
            assert!(w[0].disagrees() >= w[1].disagrees(), "{w:?}");
            if w[0].disagrees() == w[1].disagrees() {
                assert!(w[0].closest() <= w[1].closest(), "{w:?}");
            }
        }
        let top3 = closest_calls(m, &q4, &sentences(), 3).unwrap();
        assert_eq!(top3, all[..3]);
        assert!(closest_calls(m, &q4, &sentences(), 0).unwrap().is_empty());
    }

    #[test]
    fn a_model_against_itself_never_disagrees() {
        let m = bundled();
        let rows = closest_calls(m, m, &sentences(), 8).unwrap();
        assert!(rows
            .iter()
            .all(|r| !r.disagrees() && r.f32_margin == r.other_margin));
        let e = closest_calls(m, m, &[String::new()], 1)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "the text is empty: type a sentence");
    }

    #[test]
    fn disagreements_sort_before_close_calls() {
        let row = |f32_label, f32_margin, other_margin| MarginRow {
            text: String::new(),
            f32_label,
            f32_margin,
            other_label: 0,
            other_margin,
        };
        let mut rows = [row(0, 0.1, 0.2), row(1, 3.0, 2.0), row(0, 0.05, 0.5)];
        rows.sort_by(nearest_flip_first);
        assert_eq!(rows.map(|r| r.f32_margin), [3.0, 0.05, 0.1]);
    }
}
