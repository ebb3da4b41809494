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

pub use attention::{first_query_attention, self_attention};
pub use math::{erfc, exp, exp_shifted_in_place, gelu, gelu_in_place};
pub use norm::LayerNorm;
