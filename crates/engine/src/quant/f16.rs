//! Half-precision weights: PyTorch's `float16_dynamic_qconfig` stores Linear weights as
//! f16 and multiplies in f32. Here the f16 weights are widened to f32 once, on the first
//! forward, and kept as a working copy (the stored size stays two bytes per weight), so
//! the result is what an f32 Linear computes with f16-rounded weights, at f32's speed
//! (in the browser the working copy is packed for the engine's kernel, as an f32 layer's
//! weight is: `f32_kernel::Packed`).

use std::sync::{Arc, OnceLock};

use candle_core::{DType, Module, Tensor};

use super::f32_kernel::{self, Packed};
use crate::error::CandleContext;
use crate::Result;

/// A Linear layer whose weight is stored as f16.
#[derive(Clone, Debug)]
pub struct F16Linear {
    weight: Tensor,
    bias: Option<Tensor>,
    /// The weight widened to f32, made on the first forward.
    widened: OnceLock<Widened>,
}

/// The f32 working copy of an f16 weight.
#[derive(Clone, Debug)]
enum Widened {
    /// Packed for the engine's kernel (the browser).
    Packed(Arc<Packed>),
    /// A tensor for candle's matmul (natively).
    Tensor(Tensor),
}

impl F16Linear {
    /// Rounds an f32 weight `[out, in]` to f16; the bias stays f32.
    pub fn from_tensors(weight: &Tensor, bias: Option<&Tensor>) -> Result<Self> {
        Ok(Self {
            weight: weight.to_dtype(DType::F16).during("f16: weight")?,
            bias: bias.cloned(),
            widened: OnceLock::new(),
        })
    }

    /// A layer from a weight already stored as f16 `[out, in]` (e.g. read from an export).
    pub fn from_f16(weight: Tensor, bias: Option<Tensor>) -> Result<Self> {
        if weight.dtype() != DType::F16 || weight.rank() != 2 {
            return Err(crate::Error::Safetensors(format!(
                "an f16 layer needs an f16 [out, in] weight, not {:?} {:?}",
                weight.dtype(),
                weight.dims()
            )));
        }
        Ok(Self {
            weight,
            bias,
            widened: OnceLock::new(),
        })
    }

    /// The stored f16 weight `[out, in]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The f32 bias.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }

    /// `(out, in)`.
    pub fn dims(&self) -> (usize, usize) {
        self.weight.dims2().unwrap_or((0, 0))
    }

    /// The weight as the f32 values it represents.
    pub fn dequantized_weight(&self) -> Result<Tensor> {
        self.weight.to_dtype(DType::F32).during("f16: widen weight")
    }

    /// Bytes as stored: two per weight, four per bias value.
    pub fn stored_bytes(&self) -> u64 {
        (2 * self.weight.elem_count() + 4 * self.bias.as_ref().map_or(0, Tensor::elem_count)) as u64
    }

    /// Forward on `[..., in]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let widened = match self.widened.get() {
            Some(w) => w,
            None => {
                let w = self.widen()?;
                self.widened.get_or_init(|| w)
            }
        };
        match widened {
            Widened::Packed(w) => f32_kernel::forward_packed(w, self.bias.as_ref(), x),
            Widened::Tensor(w) => candle_nn::Linear::new(w.clone(), self.bias.clone())
                .forward(x)
                .during("f16: linear"),
        }
    }

    fn widen(&self) -> Result<Widened> {
        let w = self.dequantized_weight()?;
        if !f32_kernel::IN_USE {
            return Ok(Widened::Tensor(w));
        }
        let (_, k) = w.dims2().during("f16: weight shape")?;
        let values = w
            .flatten_all()
            .and_then(|w| w.to_vec1::<f32>())
            .during("f16: widen weight")?;
        Ok(Widened::Packed(Arc::new(Packed::new(&values, k))))
    }
}
