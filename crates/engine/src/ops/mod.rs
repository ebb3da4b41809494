//! The non-Linear work of a forward pass, written for one unpadded sequence: the exact
//! GELU, the attention core and LayerNorm.
//!
//! Both schemes (f32 and every quantized one) spend the same time here, so every
//! millisecond saved is a millisecond of the f32 forward that quantization cannot touch.
//! candle evaluates GELU with a scalar `erf` per element and builds attention from
//! generic tensor ops (head-split copies, batched matmuls, a softmax with scalar `exp`);
//! the loops here are plain slices the compiler vectorises (`f32x4` in wasm with
//! simd128), with no FMA contraction, so wasm and native give the same bits.

mod attention;
mod math;
mod norm;

use candle_core::{Storage, Tensor};

use crate::error::CandleContext;
use crate::Result;

pub use attention::{first_query_attention, self_attention};
pub use math::{erfc, exp, exp_shifted_in_place, gelu, gelu_in_place};
pub use norm::LayerNorm;

/// `f` of the values of `x`, row-major: read in place where candle holds them as one
/// block of f32 in memory (every activation of a forward), else from a copy. A 64-token
/// forward of the teacher read ~10 MB of activations into copies, on one thread while
/// the others waited; `op` names the reader in errors.
pub fn with_values<R>(x: &Tensor, op: &'static str, f: impl FnOnce(&[f32]) -> R) -> Result<R> {
    {
        let (storage, layout) = x.storage_and_layout();
        if let (Storage::Cpu(cpu), Some((start, end))) = (&*storage, layout.contiguous_offsets()) {
            if let Ok(all) = cpu.as_slice::<f32>() {
                return Ok(f(&all[start..end]));
            }
        }
    }
    let copy = x
        .flatten_all()
        .and_then(|t| t.to_vec1::<f32>())
        .during(op)?;
    Ok(f(&copy))
}
