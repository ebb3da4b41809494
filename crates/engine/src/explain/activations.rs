//! What dynamic int8 sees at one Linear layer for one sentence: the layer's real input,
//! recorded during a forward pass, and the scale and zero point PyTorch's
//! `quantize_dynamic` picks for it (lessons/quantization.md, "Dynamic, static, …").

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::invalid;
use crate::quant::int8::{self, ActivationParams, ACTIVATION_QMAX};
use crate::quant::tap::{Recorded, Tap};
use crate::quant::Linear;
use crate::{Classifier, Result};

/// Counts of values in equal-width bins.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// `bins + 1` ascending edges from the smallest value to the largest.
    pub edges: Vec<f32>,
    /// Values per bin; the last bin includes its upper edge.
    pub counts: Vec<usize>,
}

/// What one outlier does to the step: the lesson's "an outlier stretches the range".
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutlierEffect {
    /// The value with the largest `|x|`.
    pub largest: f32,
    /// The activation scale with that one value left out.
    pub scale_without: f32,
    /// The activation scale with it (the one actually used).
    pub scale_with: f32,
}

/// One Linear layer's input for one sentence, as dynamic int8 quantizes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivationRange {
    /// The layer's checkpoint name.
    pub layer: String,
    /// Rows of the input: tokens for the transformer blocks, 1 for the head.
    pub tokens: usize,
    /// Input width.
    pub in_features: usize,
    /// The input, `tokens × in_features`, row-major.
    pub values: Vec<f32>,
    /// Smallest input value.
    pub min: f32,
    /// Largest input value.
    pub max: f32,
    /// Scale and zero point from [`int8::activation_params`] on `min`/`max` (the range is
    /// widened to include 0): exactly what the engine's int8 layer uses for this call.
    pub params: ActivationParams,
    /// Lowest activation level (0).
    pub q_min: i32,
    /// Highest activation level: 127, `reduce_range`'s 7-bit grid.
    pub q_max: i32,
    /// Distribution of `values`.
    pub histogram: Histogram,
    /// Mean `|x − s × (q − z)|` over the input, rounded as the int8 layer rounds it.
    pub mean_abs_error: f32,
    /// How the largest value alone stretches the scale.
    pub outlier: OutlierEffect,
}

/// Runs `text` through `classifier` and records the input of its Linear layer `layer`
/// (a name from [`Classifier::linears`]); `bins` ≥ 1 histogram bins. In a quantized
/// classifier the input is the one its own (rounded) upstream layers produce.
pub fn activation_range(
    classifier: &Classifier,
    text: &str,
    layer: &str,
    bins: usize,
) -> Result<ActivationRange> {
    classifier.linear(layer)?;
    if bins == 0 {
        return Err(invalid("a histogram needs at least one bin"));
    }
    let enc = classifier.encode(text)?;
    let recorded = record(classifier, layer, &enc.ids)?.0;
    let in_features = recorded.dims.last().copied().unwrap_or(0);
    let values = recorded.values;
    let (min, max) = min_max(&values);
    let params = int8::activation_params(min, max);
    Ok(ActivationRange {
        layer: layer.to_string(),
        tokens: values.len() / in_features.max(1),
        in_features,
        min,
        max,
        params,
        q_min: 0,
        q_max: ACTIVATION_QMAX,
        histogram: histogram(&values, min, max, bins),
        mean_abs_error: mean_abs_error(&values, params),
        outlier: outlier(&values, params),
        values,
    })
}

/// One forward of `ids` with a tap on `layer`: what the layer saw, and the logits.
fn record(classifier: &Classifier, layer: &str, ids: &[u32]) -> Result<(Recorded, Vec<f32>)> {
    let seen = Arc::new(Mutex::new(None));
    let tapped = classifier.model().map_linears(|name, l| {
        Ok(if name == layer {
            Linear::Tap(Tap::new(l.clone(), seen.clone()))
        } else {
            l.clone()
        })
    })?;
    let logits = tapped.logits(ids)?;
    let recorded = seen.lock().unwrap_or_else(|e| e.into_inner()).take();
    let recorded =
        recorded.ok_or_else(|| invalid(format!("`{layer}` was not called in the forward pass")))?;
    Ok((recorded, logits))
}

fn min_max(values: &[f32]) -> (f32, f32) {
    values
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

fn histogram(values: &[f32], min: f32, max: f32, bins: usize) -> Histogram {
    let width = (max - min) / bins as f32;
    let edges = (0..=bins)
        .map(|i| {
            if i == bins {
                max
            } else {
                min + width * i as f32
            }
        })
        .collect();
    let mut counts = vec![0; bins];
    for &v in values {
        let i = if width > 0.0 {
            (((v - min) / width) as usize).min(bins - 1)
        } else {
            0
        };
        counts[i] += 1;
    }
    Histogram { edges, counts }
}

fn mean_abs_error(values: &[f32], p: ActivationParams) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let q = int8::quantize_activations(values, p);
    let sum: f64 = values
        .iter()
        .zip(q)
        .map(|(&x, q)| {
            let back = p.scale * (i32::from(q) - p.zero_point) as f32;
            f64::from((x - back).abs())
        })
        .sum();
    (sum / values.len() as f64) as f32
}

fn outlier(values: &[f32], p: ActivationParams) -> OutlierEffect {
    let at = values.iter().enumerate().fold(0, |best, (i, v)| {
        if v.abs() > values[best].abs() {
            i
        } else {
            best
        }
    });
    let largest = values.get(at).copied().unwrap_or(0.0);
    let rest = values[..at]
        .iter()
        .chain(values.get(at + 1..).unwrap_or(&[]));
    let (lo, hi) = rest.fold((0.0_f32, 0.0_f32), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    OutlierEffect {
        largest,
        scale_without: int8::activation_params(lo, hi).scale,
        scale_with: p.scale,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::bundled;
    use crate::Scheme;

    const TEXT: &str = "I love learning about AI!";
    const Q_LIN: &str = "transformer.layer.0.attention.q_lin";

    #[test]
    fn the_tap_leaves_the_logits_unchanged() {
        let m = bundled();
        let enc = m.encode(TEXT).unwrap();
        for layer in [Q_LIN, "transformer.layer.1.ffn.lin2", "classifier"] {
            let (_, logits) = record(m, layer, &enc.ids).unwrap();
            assert_eq!(logits, m.logits(&enc).unwrap(), "{layer}");
        }
        let int8 = m.quantize(Scheme::Int8Dynamic).unwrap();
        let (_, logits) = record(&int8, Q_LIN, &enc.ids).unwrap();
        assert_eq!(logits, int8.logits(&enc).unwrap());
    }

    #[test]
    fn the_first_q_lin_sees_one_row_per_token() {
        let m = bundled();
        let r = activation_range(m, TEXT, Q_LIN, 20).unwrap();
        assert_eq!(r.tokens, m.encode(TEXT).unwrap().ids.len());
        assert_eq!(r.in_features, 256);
        assert_eq!(r.values.len(), r.tokens * r.in_features);
        assert_eq!(r.histogram.counts.iter().sum::<usize>(), r.values.len());
        assert_eq!(
            (r.histogram.edges.len(), r.histogram.counts.len()),
            (21, 20)
        );
        assert_eq!(
            (r.histogram.edges[0], r.histogram.edges[20]),
            (r.min, r.max)
        );
        assert_eq!((r.q_min, r.q_max), (0, 127));
        let head = activation_range(m, TEXT, "classifier", 5).unwrap();
        assert_eq!(head.tokens, 1);
    }

    #[test]
    fn params_are_the_int8_layers_own() {
        let m = bundled();
        let int8 = m.quantize(Scheme::Int8Dynamic).unwrap();
        let r = activation_range(&int8, TEXT, Q_LIN, 10).unwrap();
        assert_eq!(r.params, int8::activation_params(r.min, r.max));
        assert!(r.mean_abs_error > 0.0 && r.mean_abs_error <= r.params.scale / 2.0);
        assert!(r.outlier.scale_without <= r.outlier.scale_with);
        assert_eq!(r.outlier.scale_with, r.params.scale);
        assert!(r.values.iter().all(|v| v.abs() <= r.outlier.largest.abs()));

        // Redo the int8 layer's arithmetic with these params: it matches its forward.
        let Linear::Int8(layer) = int8.linear(Q_LIN).unwrap() else {
            panic!("q_lin is int8")
        };
        let Linear::F32(float) = m.linear(Q_LIN).unwrap() else {
            panic!("q_lin is f32")
        };
        let bias: Vec<f32> = float.bias().unwrap().to_vec1().unwrap();
        let (k, n) = (layer.in_features(), layer.out_features());
        let xq = int8::quantize_activations(&r.values, r.params);
        let s_w = layer.scales()[0];
        let expected: Vec<f32> = xq
            .chunks_exact(k)
            .flat_map(|x| {
                let bias = &bias;
                layer
                    .weight()
                    .chunks_exact(k)
                    .enumerate()
                    .map(move |(o, w)| {
                        let dot: i32 = x
                            .iter()
                            .zip(w)
                            .map(|(&a, &b)| (i32::from(a) - r.params.zero_point) * i32::from(b))
                            .sum();
                        (f64::from(dot) * f64::from(r.params.scale * s_w) + f64::from(bias[o]))
                            as f32
                    })
            })
            .collect();
        assert_eq!(expected.len(), r.tokens * n);
        assert_eq!(layer.forward_rows(&r.values), expected);
    }

    #[test]
    fn bad_layers_and_bins_are_errors() {
        let m = bundled();
        let e = activation_range(m, TEXT, "lin9", 10)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("no Linear layer named `lin9`; the model has: "),
            "{e}"
        );
        assert!(
            e.contains("transformer.layer.1.ffn.lin1") && e.ends_with("classifier"),
            "{e}"
        );
        let e = activation_range(m, TEXT, Q_LIN, 0).unwrap_err().to_string();
        assert_eq!(e, "a histogram needs at least one bin");
        let e = activation_range(m, "  ", Q_LIN, 4).unwrap_err().to_string();
        assert_eq!(e, "the text is empty: type a sentence");
    }

    #[test]
    fn histogram_and_outlier_on_small_inputs() {
        let h = histogram(&[0.0, 1.0, 2.0, 4.0], 0.0, 4.0, 4);
        assert_eq!(h.edges, [0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(h.counts, [1, 1, 1, 1]);
        let flat = histogram(&[3.0, 3.0], 3.0, 3.0, 3);
        assert_eq!(flat.counts, [2, 0, 0]);
        let values = [0.5, -1.0, 10.0, 0.25];
        let p = int8::activation_params(-1.0, 10.0);
        let o = outlier(&values, p);
        assert_eq!(o.largest, 10.0);
        assert_eq!(o.scale_without, int8::activation_params(-1.0, 0.5).scale);
        assert!(o.scale_with > 5.0 * o.scale_without);
    }
}
