//! Choosing a scheme per layer: the exact size–error frontier of the additive error
//! model, and a recipe from it for a budget (see the [module docs](super) for why).

use serde::{Deserialize, Serialize};

use super::{Recipe, RecipeLayer, Sensitivity};
use crate::{Error, Result};

/// What a recipe must meet.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Budget {
    /// The whole model in at most this many bytes; the least predicted error wins.
    MaxBytes(u64),
    /// Summed predicted error at most this; the fewest bytes win.
    MaxError(f64),
}

/// Frontiers larger than this are thinned (see [`Frontier::new`]); a DistilBERT with six
/// blocks stays far below it.
const MAX_POINTS: usize = 200_000;

/// One mix on the frontier: its total bytes, summed error and the option per layer.
#[derive(Clone, Debug)]
struct Point {
    bytes: u64,
    error: f64,
    picks: Vec<u8>,
}

/// Every mix that no other mix beats on both bytes and predicted error, smallest first:
/// along it the bytes grow and the predicted error strictly falls.
#[derive(Clone, Debug)]
pub struct Frontier {
    sensitivity: Sensitivity,
    points: Vec<Point>,
}

impl Frontier {
    /// Merges the layers one at a time, keeping after each only the partial mixes that no
    /// other partial mix beats on both bytes and error: exact for summed errors, because a
    /// beaten partial mix stays beaten whatever the remaining layers add. Should the
    /// frontier ever pass 200 000 points it is thinned to evenly spaced sizes, which keeps
    /// every budget respected but may miss the best mix by a little.
    pub fn new(sensitivity: &Sensitivity) -> Result<Self> {
        let mut points = vec![Point {
            bytes: sensitivity.fixed_bytes,
            error: 0.0,
            picks: Vec::with_capacity(sensitivity.layers.len()),
        }];
        for layer in &sensitivity.layers {
            if layer.options.is_empty() || layer.options.len() > usize::from(u8::MAX) {
                return Err(Error::Recipe(format!(
                    "layer `{}` has {} options; expected 1 to 255",
                    layer.layer,
                    layer.options.len()
                )));
            }
            let mut next = Vec::with_capacity(points.len() * layer.options.len());
            for p in &points {
                for (i, c) in layer.options.iter().enumerate() {
                    let mut picks = p.picks.clone();
                    picks.push(i as u8);
                    next.push(Point {
                        bytes: p.bytes + c.bytes,
                        error: p.error + c.error.max(0.0),
                        picks,
                    });
                }
            }
            points = prune(next);
        }
        Ok(Self {
            sensitivity: sensitivity.clone(),
            points,
        })
    }

    /// `(bytes, predicted error)` of every frontier point, smallest model first: the curve
    /// a lab panel would plot.
    pub fn points(&self) -> Vec<(u64, f64)> {
        self.points.iter().map(|p| (p.bytes, p.error)).collect()
    }

    /// The recipe for `budget`: under a size budget the least predicted error that fits,
    /// under an error budget the smallest model within it. Errors when nothing fits.
    pub fn recipe(&self, budget: Budget) -> Result<Recipe> {
        let point = match budget {
            Budget::MaxBytes(max) => self.points.iter().rev().find(|p| p.bytes <= max),
            Budget::MaxError(max) if max.is_nan() || max < 0.0 => {
                return Err(Error::Recipe(format!(
                    "an error budget must be 0 or more, not {max}"
                )))
            }
            Budget::MaxError(max) => self.points.iter().find(|p| p.error <= max),
        };
        let Some(point) = point else {
            let smallest = self.points.first().map_or(0, |p| p.bytes);
            return Err(Error::Recipe(format!(
                "no recipe fits {budget}: the smallest these schemes reach is {smallest} bytes"
            )));
        };
        Ok(self.recipe_at(point, Some(budget)))
    }

    fn recipe_at(&self, point: &Point, budget: Option<Budget>) -> Recipe {
        let layers = self
            .sensitivity
            .layers
            .iter()
            .zip(&point.picks)
            .map(|(l, &i)| {
                let c = l.options[usize::from(i)];
                RecipeLayer {
                    layer: l.layer.clone(),
                    scheme: c.scheme,
                    bytes: c.bytes,
                    predicted_error: c.error,
                }
            })
            .collect();
        Recipe {
            layers,
            predicted_error: point.error,
            bytes: point.bytes,
            budget,
        }
    }
}

impl std::fmt::Display for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Budget::MaxBytes(b) => write!(f, "a budget of {b} bytes"),
            Budget::MaxError(e) => write!(f, "an error budget of {e:e}"),
        }
    }
}

/// Sorts by bytes (then error) and keeps each point whose error is below every smaller
/// point's: the Pareto frontier, smallest first.
fn prune(mut points: Vec<Point>) -> Vec<Point> {
    points.sort_by(|a, b| a.bytes.cmp(&b.bytes).then(a.error.total_cmp(&b.error)));
    let mut kept: Vec<Point> = Vec::new();
    for p in points {
        if kept.last().is_none_or(|k| p.error < k.error) {
            kept.push(p);
        }
    }
    if kept.len() > MAX_POINTS {
        let step = kept.len().div_ceil(MAX_POINTS);
        let last = kept.len() - 1;
        kept = kept
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % step == 0 || *i == last)
            .map(|(_, p)| p)
            .collect();
    }
    kept
}

/// The recipe for `budget` from measured sensitivity: [`Frontier::new`] then
/// [`Frontier::recipe`].
pub fn search(sensitivity: &Sensitivity, budget: Budget) -> Result<Recipe> {
    Frontier::new(sensitivity)?.recipe(budget)
}
