//! LayerNorm over the last dimension.
//!
//! candle-nn's LayerNorm spreads its rows over rayon's pool. In the browser's threaded
//! worker every one of a forward's LayerNorms then woke a pool thread for a few rows of
//! work, which made 8-token forwards slower on 2 threads than on one. This is the same
//! arithmetic, row after row, so the result is the same bit for bit (tested); its rows
//! are shared only by a forward's team of awake threads (`crate::parallel`).

use candle_core::Tensor;

use crate::error::CandleContext;
use crate::Result;

/// What normalising one value costs, in multiply-adds of the int8 kernel (as
/// `crate::parallel` counts work). Measured in Chromium (docs/BENCHMARKS.md, the
/// student's 64-token forward, session 12): 1.1 ns a value against 0.041 ns an int8
/// multiply-add. (It was 4, which kept a 64-token LayerNorm of the teacher on one thread
/// while the other spun.)
const COST_PER_VALUE: usize = 27;

/// `(x − mean) / √(var + eps) · weight + bias` per row, with candle's LayerNorm order
/// of operations: one f32 pass for the sum and the sum of squares, `var = E[x²] − mean²`.
#[derive(Clone, Debug)]
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    weight_values: Vec<f32>,
    bias_values: Vec<f32>,
    eps: f32,
}

impl LayerNorm {
    /// From a checkpoint's `weight` and `bias` (both `[dim]`, f32).
    pub fn new(weight: Tensor, bias: Tensor, eps: f64) -> Result<Self> {
        let weight_values = weight.to_vec1::<f32>().during("layer norm: weight")?;
        let bias_values = bias.to_vec1::<f32>().during("layer norm: bias")?;
        Ok(Self {
            weight,
            bias,
            weight_values,
            bias_values,
            eps: eps as f32,
        })
    }

    /// The scale, `[dim]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The shift, `[dim]`.
    pub fn bias(&self) -> &Tensor {
        &self.bias
    }

    /// Normalises each row of `x` (`[..., dim]`, f32).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dim = self.weight_values.len();
        let out = super::with_values(x, "layer norm: input", |values| {
            let mut out = vec![0f32; values.len()];
            // Whole rows per chunk: shared by a forward's team (`crate::parallel`), each
            // row's arithmetic unchanged.
            let work = values.len() * COST_PER_VALUE;
            crate::parallel::chunks_mut(&mut out, dim.max(1), work, |start, out| {
                let rows = values[start..start + out.len()].chunks_exact(dim);
                for (src, dst) in rows.zip(out.chunks_exact_mut(dim)) {
                    self.row(src, dst);
                }
            });
            out
        })?;
        Tensor::from_vec(out, x.shape(), x.device()).during("layer norm: output")
    }

    fn row(&self, src: &[f32], dst: &mut [f32]) {
        let n = src.len() as f32;
        let (mut sum, mut sum2) = (0f32, 0f32);
        for &v in src {
            sum += v;
            sum2 += v * v;
        }
        let mean = sum / n;
        let var = sum2 / n - mean * mean;
        let inv_std = (var + self.eps).sqrt().recip();
        for ((d, &s), (&alpha, &beta)) in dst
            .iter_mut()
            .zip(src)
            .zip(self.weight_values.iter().zip(&self.bias_values))
        {
            *d = (s - mean) * inv_std * alpha + beta;
        }
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor};
    use candle_nn::Module;

    use super::*;

    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 8) as f32 / (1u32 << 24) as f32 * 8.0 - 4.0
            })
            .collect()
    }

    #[test]
    fn gives_candles_layer_norm_bit_for_bit() {
        let dev = Device::Cpu;
        for (rows, dim) in [(1, 4), (8, 384), (64, 256), (3, 768)] {
            let weight = Tensor::from_vec(values(dim, 1), dim, &dev).unwrap();
            let bias = Tensor::from_vec(values(dim, 2), dim, &dev).unwrap();
            let x = Tensor::from_vec(values(rows * dim, 3), (1, rows, dim), &dev).unwrap();
            let ours = LayerNorm::new(weight.clone(), bias.clone(), 1e-12).unwrap();
            let candle = candle_nn::LayerNorm::new(weight, bias, 1e-12);
            let bits = |t: Tensor| {
                t.flatten_all()
                    .unwrap()
                    .to_vec1::<f32>()
                    .unwrap()
                    .into_iter()
                    .map(f32::to_bits)
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                bits(ours.forward(&x).unwrap()),
                bits(candle.forward(&x).unwrap()),
                "{rows} × {dim}"
            );
        }
    }
}
