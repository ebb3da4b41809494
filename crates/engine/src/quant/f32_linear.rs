//! The f32 Linear layer: candle's weight and bias, and in the browser the same weight
//! packed once for the engine's kernel (`f32_kernel::Packed`), which reads it as one
//! stream. The packed copy is a working copy (4 bytes a weight more in the page, not
//! counted as stored); natively candle's gemm multiplies and nothing is packed.

use std::sync::Arc;

use candle_core::{Module, Tensor};

use super::f32_kernel::{self, Packed};
use crate::error::CandleContext;
use crate::Result;

/// `y = x Wᵀ + b` with f32 weights.
#[derive(Clone, Debug)]
pub struct F32Linear {
    linear: candle_nn::Linear,
    packed: Option<Arc<Packed>>,
}

impl F32Linear {
    /// From a weight `[out, in]` and a bias `[out]`. In the browser the weight is packed
    /// here; one whose values cannot be read as f32 rows is left to candle.
    pub fn new(weight: Tensor, bias: Option<Tensor>) -> Self {
        let packed = f32_kernel::IN_USE
            .then(|| pack(&weight))
            .flatten()
            .map(Arc::new);
        Self {
            linear: candle_nn::Linear::new(weight, bias),
            packed,
        }
    }

    /// The weight, `[out, in]`.
    pub fn weight(&self) -> &Tensor {
        self.linear.weight()
    }

    /// The bias, `[out]`.
    pub fn bias(&self) -> Option<&Tensor> {
        self.linear.bias()
    }

    /// Forward on `[..., in]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match &self.packed {
            Some(packed) => f32_kernel::forward_packed(packed, self.bias(), x),
            None => self.linear.forward(x).during("linear"),
        }
    }
}

fn pack(weight: &Tensor) -> Option<Packed> {
    let (_, k) = weight.dims2().ok()?;
    let values = weight.flatten_all().and_then(|w| w.to_vec1::<f32>()).ok()?;
    Some(Packed::new(&values, k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_is_candles_linear() {
        let w: Vec<f32> = (0..35).map(|i| (i as f32 - 17.0) / 9.0).collect();
        let weight = Tensor::from_vec(w, (5, 7), &candle_core::Device::Cpu).unwrap();
        let bias = Tensor::new(&[0.5f32, -1.0, 0.0, 2.0, 0.25], &candle_core::Device::Cpu).unwrap();
        let layer = F32Linear::new(weight.clone(), Some(bias.clone()));
        let x = Tensor::from_vec(
            (0..21).map(|i| i as f32 / 10.0).collect::<Vec<_>>(),
            (1, 3, 7),
            &candle_core::Device::Cpu,
        )
        .unwrap();
        let values = |t: Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let got = values(layer.forward(&x).unwrap());
        let want = values(
            candle_nn::Linear::new(weight, Some(bias))
                .forward(&x)
                .unwrap(),
        );
        for (a, b) in got.iter().zip(&want) {
            assert!((a - b).abs() <= 1e-5, "{a} vs {b}");
        }
        assert_eq!(layer.packed.is_some(), f32_kernel::IN_USE);
    }
}
