//! PyTorch's dynamic int8 Linear (`torch.quantization.quantize_dynamic(model, {nn.Linear},
//! dtype=torch.qint8)` on the x86/fbgemm engine), reproduced bit for bit.
//!
//! Every step follows ../shared/reference/pytorch-dynamic-int8.md, which was measured
//! against torch: weights are symmetric qint8 with one scale per tensor (or per output
//! row); activations get a fresh asymmetric quint8 scale and zero point per call, over the
//! whole input, with `reduce_range` (0..=127); products accumulate exactly in i32 and are
//! rescaled with one fused multiply-add in f64.

use candle_core::Tensor;
use serde::{Deserialize, Serialize};

use super::int8_kernel::{self, Activations, PackedWeights};
use crate::error::CandleContext;
use crate::Result;

/// One scale for the whole weight, or one per output row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Granularity {
    /// `default_dynamic_qconfig`: MinMaxObserver over the tensor.
    PerTensor,
    /// `per_channel_dynamic_qconfig`: PerChannelMinMaxObserver over each output row.
    PerChannel,
}

/// The quantization of one activation tensor: `x ≈ (q - zero_point) * scale`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivationParams {
    /// Step between two quantized levels.
    pub scale: f32,
    /// The level that represents 0.0, in 0..=127.
    pub zero_point: i32,
}

/// Highest level of a `reduce_range` quint8 activation (fbgemm keeps one bit of headroom);
/// the lowest is 0.
pub const ACTIVATION_QMAX: i32 = 127;
/// Smallest activation scale torch allows (`SMALL_SCALE_THRESHOLD` in QuantUtils.h).
const SMALL_SCALE: f32 = 6.1e-5;

/// Symmetric qint8 scale of a weight slice: `max(|range| / 127.5, f32::EPSILON)`.
pub fn weight_scale(w: &[f32]) -> f32 {
    let (min, max) = int8_kernel::min_max(w);
    let m = (-min.min(0.0)).max(max.max(0.0));
    // (127 - (-128)) / 2 = 127.5: torch's symmetric observer divides by half the span.
    (m / 127.5).max(f32::EPSILON)
}

/// Quantizes weights with `scale`: `clamp(rne(w * (1 / scale)), -128, 127)`.
pub fn quantize_weights(w: &[f32], scale: f32) -> Vec<i8> {
    let inv = 1.0 / scale;
    w.iter()
        .map(|&v| (v * inv).round_ties_even().clamp(-128.0, 127.0) as i8)
        .collect()
}

/// torch's `ChooseQuantizationParams(min, max, 0, 255, reduce_range = true)`.
pub fn activation_params(x_min: f32, x_max: f32) -> ActivationParams {
    let mut min = x_min.min(0.0);
    let mut max = x_max.max(0.0);
    let qmin = 0.0_f64;
    let qmax = f64::from(ACTIVATION_QMAX);
    let mut scale = (f64::from(max) - f64::from(min)) / (qmax - qmin);
    if scale as f32 == 0.0 || (1.0 / scale as f32).is_infinite() {
        scale = 0.1;
    }
    if scale < f64::from(SMALL_SCALE) {
        let original = scale as f32;
        scale = f64::from(SMALL_SCALE);
        if min == 0.0 {
            max = SMALL_SCALE * ACTIVATION_QMAX as f32;
        } else if max == 0.0 {
            min = -SMALL_SCALE * ACTIVATION_QMAX as f32;
        } else {
            let amplifier = SMALL_SCALE / original;
            min *= amplifier;
            max *= amplifier;
        }
    }
    // Of the two affine solutions for the zero point, take the one with smaller terms:
    // its rounding error is the smaller (torch's comment, kept as torch computes it).
    let from_min = qmin - f64::from(min) / scale;
    let from_max = qmax - f64::from(max) / scale;
    let from_min_error = qmin.abs() - (f64::from(min) / scale).abs();
    let from_max_error = qmax.abs() - (f64::from(max) / scale).abs();
    let initial = if from_min_error < from_max_error {
        from_min
    } else {
        from_max
    };
    let zero_point = if initial < qmin {
        qmin
    } else if initial > qmax {
        qmax
    } else {
        initial.round_ties_even()
    };
    ActivationParams {
        scale: scale as f32,
        zero_point: zero_point as i32,
    }
}

/// Quantizes activations: `clamp(rne(x * (1 / scale)) + zero_point, 0, 255)`.
/// Rounding comes before the zero point is added, as in fbgemm; the other order differs
/// on exact .5 ties.
pub fn quantize_activations(x: &[f32], p: ActivationParams) -> Vec<u8> {
    let inv = 1.0 / p.scale;
    x.iter()
        .map(|&v| ((v * inv).round_ties_even() as i32 + p.zero_point).clamp(0, 255) as u8)
        .collect()
}

/// An input quantized as torch's dynamic int8 does on every call: one scale and zero
/// point from the whole tensor's range (reduce_range quint8).
pub struct QuantizedInput {
    values: Activations,
    params: ActivationParams,
    k: usize,
}

impl QuantizedInput {
    /// Quantizes `rows × k` values.
    pub fn new(x: &[f32], k: usize) -> Self {
        let (min, max) = int8_kernel::min_max(x);
        let params = activation_params(min, max);
        let values = Activations::quantize(x, k, 1.0 / params.scale, params.zero_point);
        Self { values, params, k }
    }

    /// Only the first of `rows × k` values' rows, quantized with the scale and zero point
    /// of all of them: that row of a product is then the whole product's, bit for bit.
    pub fn of_first_row(x: &[f32], k: usize) -> Self {
        let (min, max) = int8_kernel::min_max(x);
        let params = activation_params(min, max);
        let values = Activations::quantize(
            &x[..k.min(x.len())],
            k,
            1.0 / params.scale,
            params.zero_point,
        );
        Self { values, params, k }
    }
}

/// A Linear layer with int8 weights that quantizes its input on every call.
#[derive(Clone, Debug)]
pub struct Int8Linear {
    weight: Vec<i8>,
    /// The same weights widened and packed once for the integer kernel (a working copy,
    /// not counted as stored).
    packed: PackedWeights,
    scales: Vec<f32>,
    col_sums: Vec<i32>,
    bias: Option<Vec<f32>>,
    in_features: usize,
    out_features: usize,
}

impl Int8Linear {
    /// Quantizes an `out_features × in_features` row-major f32 weight.
    pub fn quantize(
        weight: &[f32],
        out_features: usize,
        in_features: usize,
        bias: Option<&[f32]>,
        granularity: Granularity,
    ) -> Self {
        assert_eq!(weight.len(), out_features * in_features, "weight shape");
        let (scales, q) = match granularity {
            Granularity::PerTensor => {
                let s = weight_scale(weight);
                (vec![s], quantize_weights(weight, s))
            }
            Granularity::PerChannel => {
                let mut scales = Vec::with_capacity(out_features);
                let mut q = Vec::with_capacity(weight.len());
                for row in weight.chunks_exact(in_features) {
                    let s = weight_scale(row);
                    scales.push(s);
                    q.extend(quantize_weights(row, s));
                }
                (scales, q)
            }
        };
        let col_sums = q
            .chunks_exact(in_features)
            .map(|row| row.iter().map(|&v| i32::from(v)).sum())
            .collect();
        Self {
            packed: PackedWeights::pack(&q, out_features, in_features),
            weight: q,
            scales,
            col_sums,
            bias: bias.map(<[f32]>::to_vec),
            in_features,
            out_features,
        }
    }

    /// A layer from weights already quantized (e.g. read from an export): `weight` is
    /// row-major `[out, in]` int8, `scales` has one value (per tensor) or `out_features`.
    pub fn from_parts(
        weight: Vec<i8>,
        scales: Vec<f32>,
        bias: Option<Vec<f32>>,
        out_features: usize,
        in_features: usize,
    ) -> Result<Self> {
        let bad = |what: String| Err(crate::Error::Safetensors(what));
        if weight.len() != out_features * in_features {
            return bad(format!(
                "int8 weight has {} values, not {out_features} × {in_features}",
                weight.len()
            ));
        }
        if scales.len() != 1 && scales.len() != out_features {
            return bad(format!(
                "int8 layer has {} scales; expected 1 or {out_features}",
                scales.len()
            ));
        }
        if scales.iter().any(|s| !s.is_finite() || *s <= 0.0) {
            return bad("int8 scales must be finite and positive".into());
        }
        if bias.as_ref().is_some_and(|b| b.len() != out_features) {
            return bad(format!("int8 bias is not {out_features} long"));
        }
        let col_sums = weight
            .chunks_exact(in_features.max(1))
            .map(|row| row.iter().map(|&v| i32::from(v)).sum())
            .collect();
        Ok(Self {
            packed: PackedWeights::pack(&weight, out_features, in_features),
            weight,
            scales,
            col_sums,
            bias,
            in_features,
            out_features,
        })
    }

    /// Quantizes a candle Linear's weight `[out, in]` and bias `[out]`.
    pub fn from_tensors(weight: &Tensor, bias: Option<&Tensor>, g: Granularity) -> Result<Self> {
        let (out_features, in_features) = weight.dims2().during("int8: weight shape")?;
        let w = weight
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .during("int8: weight")?;
        let b = bias
            .map(|b| b.to_vec1::<f32>())
            .transpose()
            .during("int8: bias")?;
        Ok(Self::quantize(
            &w,
            out_features,
            in_features,
            b.as_deref(),
            g,
        ))
    }

    /// Input width.
    pub fn in_features(&self) -> usize {
        self.in_features
    }

    /// Output width.
    pub fn out_features(&self) -> usize {
        self.out_features
    }

    /// The weight scales (one, or one per output row).
    pub fn scales(&self) -> &[f32] {
        &self.scales
    }

    /// The quantized weights, row-major `[out, in]`.
    pub fn weight(&self) -> &[i8] {
        &self.weight
    }

    /// The f32 bias.
    pub fn bias(&self) -> Option<&[f32]> {
        self.bias.as_deref()
    }

    /// Bytes as stored: int8 weights, one f32 per scale, the f32 bias. The zero point of a
    /// symmetric weight is 0 by construction and is not stored.
    pub fn stored_bytes(&self) -> u64 {
        let bias = self.bias.as_ref().map_or(0, Vec::len);
        (self.weight.len() + 4 * self.scales.len() + 4 * bias) as u64
    }

    /// `rows × in_features` f32 input → `rows × out_features` f32 output. One activation
    /// scale covers all rows, exactly as torch quantizes the whole input tensor at once.
    pub fn forward_rows(&self, x: &[f32]) -> Vec<f32> {
        self.forward_quantized(&QuantizedInput::new(x, self.in_features))
    }

    /// [`Self::forward_rows`] on an input already quantized (shared by the layers that
    /// read it: the same input gives the same parameters and values on every call).
    pub fn forward_quantized(&self, input: &QuantizedInput) -> Vec<f32> {
        assert_eq!(input.k, self.in_features, "int8: input width");
        let (xq, p) = (&input.values, input.params);
        let n = self.out_features;
        // Per-call constants per output column, so the loop below is straight-line
        // arithmetic the compiler vectorises (f64x2 in wasm, SSE2/AVX natively).
        let scales: Vec<f64> = (0..n)
            .map(|col| f64::from(p.scale * self.scales[col % self.scales.len()]))
            .collect();
        let offsets: Vec<i32> = self.col_sums.iter().map(|&s| p.zero_point * s).collect();
        let bias: Vec<f64> = match &self.bias {
            Some(b) => b.iter().map(|&v| f64::from(v)).collect(),
            None => vec![0.0; n],
        };
        // Requantized on the thread that computed each block of columns.
        int8_kernel::matmul_then(xq, &self.packed, |cols, sums, out: &mut [f32]| {
            let width = cols.len();
            let offsets = &offsets[cols.clone()];
            let (scales, bias) = (&scales[cols.clone()], &bias[cols]);
            for (out, row) in out.chunks_exact_mut(width).zip(sums.chunks_exact(width)) {
                for ((((o, &dot), &off), &scale), &b) in
                    out.iter_mut().zip(row).zip(offsets).zip(scales).zip(bias)
                {
                    // One rounding for multiply and add, as fbgemm's requantization does.
                    *o = (f64::from(dot - off) * scale + b) as f32;
                }
            }
        })
    }

    /// Forward on a tensor `[..., in_features]` → `[..., out_features]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = crate::ops::with_values(x, "int8: input", |x| self.forward_rows(x))?;
        super::output_like(y, self.out_features, x, "int8: output")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_scale_divides_by_127_5() {
        assert_eq!(weight_scale(&[-1.0, 0.5]), 1.0 / 127.5);
        assert_eq!(weight_scale(&[0.0, 0.0]), f32::EPSILON);
        // 1/s in f32 is a hair under 127.5, so ±max lands on ±127, not on the -128 tie.
        let s = weight_scale(&[-1.0, 1.0]);
        assert_eq!(quantize_weights(&[-1.0, 1.0, 0.0], s), [-127, 127, 0]);
        assert_eq!(quantize_weights(&[-3.0, 3.0], 0.01), [-128, 127], "clamped");
    }

    #[test]
    fn activation_params_cover_zero_and_use_seven_bits() {
        let p = activation_params(-1.0, 1.0);
        assert_eq!(p.scale, (2.0_f64 / 127.0) as f32);
        // from_min = from_max = 63.5; its smaller error term picks from_min; ties to even → 64.
        assert_eq!(p.zero_point, 64);
        let p = activation_params(0.5, 2.0);
        assert_eq!(p.zero_point, 0, "min is widened to 0");
        let p = activation_params(0.0, 0.0);
        assert_eq!(p.scale, 0.1_f64 as f32, "an empty range gets torch's 0.1");
        let p = activation_params(0.0, 1e-6);
        assert_eq!(p.scale, SMALL_SCALE, "tiny ranges are widened to 6.1e-5");
    }

    #[test]
    fn activations_round_before_adding_the_zero_point() {
        let p = ActivationParams {
            scale: 1.0,
            zero_point: 3,
        };
        // 0.5 rounds to 0 (ties to even) and then becomes 3; rne(0.5 + 3) would give 4.
        assert_eq!(quantize_activations(&[0.5, -10.0, 300.0], p), [3, 0, 255]);
    }

    #[test]
    fn a_small_layer_matches_the_float_result_closely() {
        let w = [0.5, -0.25, 0.125, 1.0, 0.0, -1.0];
        let layer = Int8Linear::quantize(&w, 2, 3, Some(&[0.1, -0.2]), Granularity::PerTensor);
        let x = [1.0, 2.0, -1.0];
        let y = layer.forward_rows(&x);
        let exact = [0.5 - 0.5 - 0.125 + 0.1, 1.0 + 0.0 + 1.0 - 0.2];
        for (a, b) in y.iter().zip(exact) {
            assert!((a - b).abs() < 0.03, "{a} vs {b}");
        }
        assert_eq!(layer.stored_bytes(), 6 + 4 + 8);
    }
}
