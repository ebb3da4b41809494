//! Quantization schemes and the Linear layer that holds whichever one a model uses.
//!
//! A scheme is a value: the model asks each of its Linear layers to forward, and each
//! layer is f32 or quantized. Nothing else in the model knows which.

pub mod embedding;
pub mod f16;
pub mod f32_kernel;
pub mod f32_linear;
pub mod ggml;
pub mod ggml_kernel;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod ggml_simd;
pub mod int8;
mod int8_kernel;
#[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
mod int8_relaxed;
#[cfg(target_arch = "x86_64")]
mod int8_vnni;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd_sum;
pub mod tap;

use std::fmt;
use std::str::FromStr;

use candle_core::quantized::GgmlDType;
use candle_core::Tensor;
use serde::{Deserialize, Serialize};

use crate::error::CandleContext;
use crate::{Error, Result};

/// How a model's Linear weights are stored and multiplied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    /// Full precision: the model as trained.
    F32,
    /// Weights stored as f16 (PyTorch's `float16_dynamic_qconfig`), multiplied in f32.
    F16,
    /// PyTorch `quantize_dynamic(..., dtype=torch.qint8)`: one weight scale per tensor.
    Int8Dynamic,
    /// The same with `per_channel_dynamic_qconfig`: one weight scale per output row.
    Int8PerChannel,
    /// GGML Q8_0: blocks of 32 int8 weights with one f16 scale.
    #[serde(rename = "q8_0")]
    Q8_0,
    /// GGML Q5_0: blocks of 32 5-bit weights with one f16 scale.
    #[serde(rename = "q5_0")]
    Q5_0,
    /// GGML Q4_1: blocks of 32 4-bit weights with an f16 scale and minimum.
    #[serde(rename = "q4_1")]
    Q4_1,
    /// GGML Q4_0: blocks of 32 4-bit weights with one f16 scale.
    #[serde(rename = "q4_0")]
    Q4_0,
    /// GGML Q4_K: 256-weight super-blocks of 4-bit weights with 6-bit sub-block scales.
    #[serde(rename = "q4_k")]
    Q4K,
}

impl Scheme {
    /// Every scheme, in the order tables show them.
    pub const ALL: &'static [Scheme] = &[
        Scheme::F32,
        Scheme::F16,
        Scheme::Int8Dynamic,
        Scheme::Int8PerChannel,
        Scheme::Q8_0,
        Scheme::Q5_0,
        Scheme::Q4_1,
        Scheme::Q4_0,
        Scheme::Q4K,
    ];

    /// The name used on the command line, in URLs and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::F32 => "f32",
            Scheme::F16 => "f16",
            Scheme::Int8Dynamic => "int8-dynamic",
            Scheme::Int8PerChannel => "int8-per-channel",
            Scheme::Q8_0 => "q8_0",
            Scheme::Q5_0 => "q5_0",
            Scheme::Q4_1 => "q4_1",
            Scheme::Q4_0 => "q4_0",
            Scheme::Q4K => "q4_k",
        }
    }

    /// One line for a learner: what the scheme stores.
    pub fn description(self) -> &'static str {
        match self {
            Scheme::F32 => "32-bit floats, as trained",
            Scheme::F16 => "16-bit float weights, multiplied in f32 (PyTorch float16 dynamic)",
            Scheme::Int8Dynamic => {
                "int8 weights, one scale per layer; activations quantized per call (PyTorch quantize_dynamic)"
            }
            Scheme::Int8PerChannel => {
                "int8 weights, one scale per output row; activations quantized per call"
            }
            Scheme::Q8_0 => "GGML: 8-bit weights in blocks of 32, one f16 scale per block",
            Scheme::Q5_0 => "GGML: 5-bit weights in blocks of 32, one f16 scale per block",
            Scheme::Q4_1 => "GGML: 4-bit weights in blocks of 32, f16 scale and minimum per block",
            Scheme::Q4_0 => "GGML: 4-bit weights in blocks of 32, one f16 scale per block",
            Scheme::Q4K => "GGML k-quant: 4-bit weights in super-blocks of 256 with 6-bit block scales",
        }
    }

    /// The GGML block format behind a GGML scheme.
    pub fn ggml_dtype(self) -> Option<GgmlDType> {
        match self {
            Scheme::Q8_0 => Some(GgmlDType::Q8_0),
            Scheme::Q5_0 => Some(GgmlDType::Q5_0),
            Scheme::Q4_1 => Some(GgmlDType::Q4_1),
            Scheme::Q4_0 => Some(GgmlDType::Q4_0),
            Scheme::Q4K => Some(GgmlDType::Q4K),
            _ => None,
        }
    }

    /// Why a Linear with `in_features` inputs cannot take this scheme (it then stays f32).
    pub fn unfit_reason(self, in_features: usize) -> Option<String> {
        self.ggml_dtype()
            .and_then(|d| ggml::fits(d, in_features).err())
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scheme {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Scheme::ALL
            .iter()
            .copied()
            .find(|scheme| scheme.name() == s)
            .ok_or_else(|| Error::UnknownScheme {
                given: s.to_string(),
                known: Scheme::ALL
                    .iter()
                    .map(|s| s.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// The values of `x` (`[..., in]`), row-major, for the engine's own kernels; `op` names
/// the layer kind in errors.
fn input_rows(x: &Tensor, op: &'static str) -> Result<Vec<f32>> {
    x.flatten_all().and_then(|t| t.to_vec1::<f32>()).during(op)
}

/// The layers as int8 layers, if there are some and they all are.
fn all_int8<'a, const N: usize>(layers: &[&'a Linear; N]) -> Option<[&'a int8::Int8Linear; N]> {
    if N == 0 {
        return None;
    }
    let int8: Vec<_> = layers
        .iter()
        .map(|l| match l {
            Linear::Int8(l) => Some(l),
            _ => None,
        })
        .collect::<Option<_>>()?;
    int8.try_into().ok()
}

/// `f` over an array, stopping at the first error.
fn try_map<T, U, const N: usize>(
    items: [T; N],
    mut f: impl FnMut(T) -> Result<U>,
) -> Result<[U; N]> {
    let mut out = Vec::with_capacity(N);
    for item in items {
        out.push(f(item)?);
    }
    Ok(out
        .try_into()
        .unwrap_or_else(|_| unreachable!("N items in, N out")))
}

/// A kernel's output `y` as a tensor shaped like its input `x` with `out` last.
fn output_like(y: Vec<f32>, out: usize, x: &Tensor, op: &'static str) -> Result<Tensor> {
    let mut dims = x.dims().to_vec();
    if let Some(last) = dims.last_mut() {
        *last = out;
    }
    Tensor::from_vec(y, dims, x.device()).during(op)
}

/// What a quantized model stores besides its Linear scheme. The default keeps everything
/// outside the Linear layers f32, as PyTorch's `quantize_dynamic` does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QuantizeOptions {
    /// How the word-embedding table is stored.
    pub embeddings: embedding::EmbeddingStorage,
}

impl QuantizeOptions {
    /// Word embeddings int8 per row when `int8_embeddings`, else f32 (the default).
    pub fn int8_embeddings(int8_embeddings: bool) -> Self {
        Self {
            embeddings: if int8_embeddings {
                embedding::EmbeddingStorage::Int8PerRow
            } else {
                embedding::EmbeddingStorage::F32
            },
        }
    }
}

/// A Linear layer `y = x Wᵀ + b` in one of the schemes.
#[derive(Clone, Debug)]
pub enum Linear {
    /// Float weights: multiplied by [`f32_kernel`] in the browser, by candle natively.
    F32(f32_linear::F32Linear),
    /// Half-precision weights.
    F16(f16::F16Linear),
    /// PyTorch-exact dynamic int8.
    Int8(int8::Int8Linear),
    /// A GGML block format.
    Ggml(ggml::GgmlLinear),
    /// Another layer that records its input on every call (for figures; see
    /// [`crate::explain::activations`]). Everything else is the wrapped layer's.
    Tap(tap::Tap),
}

impl Linear {
    /// An f32 layer from its weight `[out, in]` and bias `[out]`.
    pub fn f32(weight: Tensor, bias: Option<Tensor>) -> Self {
        Linear::F32(f32_linear::F32Linear::new(weight, bias))
    }

    /// This layer in `scheme`. Only an f32 layer can be quantized; a layer whose shape
    /// the scheme cannot take stays f32 (see [`Scheme::unfit_reason`]).
    pub fn quantize(&self, scheme: Scheme) -> Result<Self> {
        if let Linear::Tap(t) = self {
            return Ok(Linear::Tap(t.wrap(t.inner().quantize(scheme)?)));
        }
        let Linear::F32(float) = self else {
            return Err(Error::AlreadyQuantized(self.scheme().name()));
        };
        let (w, b) = (float.weight(), float.bias());
        let (_, in_features) = self.dims();
        if scheme.unfit_reason(in_features).is_some() {
            return Ok(self.clone());
        }
        Ok(match scheme {
            Scheme::F32 => self.clone(),
            Scheme::F16 => Linear::F16(f16::F16Linear::from_tensors(w, b)?),
            Scheme::Int8Dynamic => Linear::Int8(int8::Int8Linear::from_tensors(
                w,
                b,
                int8::Granularity::PerTensor,
            )?),
            Scheme::Int8PerChannel => Linear::Int8(int8::Int8Linear::from_tensors(
                w,
                b,
                int8::Granularity::PerChannel,
            )?),
            Scheme::Q8_0 | Scheme::Q5_0 | Scheme::Q4_1 | Scheme::Q4_0 | Scheme::Q4K => {
                let dtype = scheme.ggml_dtype().expect("a GGML scheme");
                Linear::Ggml(ggml::GgmlLinear::from_tensors(w, b, dtype)?)
            }
        })
    }

    /// The scheme this layer is stored in.
    pub fn scheme(&self) -> Scheme {
        match self {
            Linear::F32(_) => Scheme::F32,
            Linear::F16(_) => Scheme::F16,
            Linear::Int8(l) if l.scales().len() == 1 => Scheme::Int8Dynamic,
            Linear::Int8(_) => Scheme::Int8PerChannel,
            Linear::Ggml(l) => Scheme::ALL
                .iter()
                .copied()
                .find(|s| s.ggml_dtype() == Some(l.dtype()))
                .unwrap_or(Scheme::F32),
            Linear::Tap(t) => t.inner().scheme(),
        }
    }

    /// `(out_features, in_features)`.
    pub fn dims(&self) -> (usize, usize) {
        match self {
            Linear::F32(l) => l.weight().dims2().unwrap_or((0, 0)),
            Linear::F16(l) => l.dims(),
            Linear::Int8(l) => (l.out_features(), l.in_features()),
            Linear::Ggml(l) => l.dims(),
            Linear::Tap(t) => t.inner().dims(),
        }
    }

    /// Bytes this layer takes as stored.
    pub fn stored_bytes(&self) -> u64 {
        match self {
            Linear::F32(l) => {
                let bias = l.bias().map_or(0, |b| b.elem_count());
                4 * (l.weight().elem_count() + bias) as u64
            }
            Linear::F16(l) => l.stored_bytes(),
            Linear::Int8(l) => l.stored_bytes(),
            Linear::Ggml(l) => l.stored_bytes(),
            Linear::Tap(t) => t.inner().stored_bytes(),
        }
    }

    /// The bias as f32 values (every scheme keeps it f32), if the layer has one.
    pub fn bias(&self) -> Result<Option<Vec<f32>>> {
        let tensor = match self {
            Linear::F32(l) => l.bias(),
            Linear::F16(l) => l.bias(),
            Linear::Int8(l) => return Ok(l.bias().map(<[f32]>::to_vec)),
            Linear::Ggml(l) => l.bias(),
            Linear::Tap(t) => return t.inner().bias(),
        };
        tensor
            .map(|b| b.flatten_all().and_then(|b| b.to_vec1::<f32>()))
            .transpose()
            .during("linear: bias values")
    }

    /// The weight as the f32 values this layer multiplies with, row-major `[out, in]`:
    /// the original weights of an f32 layer, the rounded ones of a quantized layer.
    pub fn dequantized_weight(&self) -> Result<Vec<f32>> {
        let tensor = match self {
            Linear::F32(l) => l.weight().clone(),
            Linear::F16(l) => l.dequantized_weight()?,
            Linear::Int8(l) => {
                let scales = l.scales();
                let per_row = scales.len() > 1;
                let in_features = l.in_features().max(1);
                return Ok(l
                    .weight()
                    .iter()
                    .enumerate()
                    .map(|(i, &q)| {
                        let s = if per_row {
                            scales[i / in_features]
                        } else {
                            scales[0]
                        };
                        f32::from(q) * s
                    })
                    .collect());
            }
            Linear::Ggml(l) => l.dequantized_weight()?,
            Linear::Tap(t) => return t.inner().dequantized_weight(),
        };
        tensor
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .during("linear: weight values")
    }

    /// The levels the first quantization group of this layer can take, ascending:
    /// int8 has 256 levels `k × scale` (per-tensor: the whole layer's grid; per-channel:
    /// row 0's); a GGML layer shows the distinct values its first block holds (each
    /// block has its own scale). `None` for f32 and f16, which have no coarse grid.
    pub fn grid(&self) -> Result<Option<Vec<f32>>> {
        match self {
            Linear::F32(_) | Linear::F16(_) => Ok(None),
            Linear::Tap(t) => t.inner().grid(),
            Linear::Int8(l) => {
                let s = l.scales()[0];
                Ok(Some((-128..=127).map(|k| k as f32 * s).collect()))
            }
            Linear::Ggml(l) => {
                let block = l.dtype().block_size();
                let values = self.dequantized_weight()?;
                let mut levels: Vec<f32> = values.iter().take(block).copied().collect();
                levels.sort_by(f32::total_cmp);
                levels.dedup();
                Ok(Some(levels))
            }
        }
    }

    /// Forward of several layers on the same `[..., in]`. Int8 layers share one
    /// quantization of the input (the same input gives the same parameters and values,
    /// so the results are those of [`Self::forward`] bit for bit).
    pub fn forward_all<const N: usize>(layers: [&Linear; N], x: &Tensor) -> Result<[Tensor; N]> {
        let Some(int8) = all_int8(&layers) else {
            return try_map(layers, |l| l.forward(x));
        };
        let k = int8.first().map_or(0, |l| l.in_features());
        if int8.iter().any(|l| l.in_features() != k) {
            return try_map(layers, |l| l.forward(x));
        }
        let input = crate::ops::with_values(x, "int8: input", |x| int8::QuantizedInput::new(x, k))?;
        try_map(int8, |l| {
            output_like(
                l.forward_quantized(&input),
                l.out_features(),
                x,
                "int8: output",
            )
        })
    }

    /// Whether each output row is computed from its own input row alone, with the same
    /// bits however many rows come with it. Dynamic int8 takes one scale from the whole
    /// input; candle's native f32 gemm sums in another order for one row than for many
    /// (the engine's own f32 kernel, in the browser, does not); a tap records the whole
    /// input it is given.
    pub fn rows_independent(&self) -> bool {
        match self {
            Linear::F32(_) | Linear::F16(_) => f32_kernel::IN_USE,
            Linear::Ggml(_) => true,
            Linear::Int8(_) | Linear::Tap(_) => false,
        }
    }

    /// The first output row of `forward(x)` for `x` `[1, rows, in]`, as `[1, 1, out]`, with
    /// the same bits: the other rows are not multiplied (an int8 layer still takes its
    /// scale from every row).
    pub fn forward_first_row(&self, x: &Tensor) -> Result<Tensor> {
        let first = |t: &Tensor| t.narrow(1, 0, 1).during("linear: first row");
        match self {
            Linear::Int8(l) => {
                let input = crate::ops::with_values(x, "int8: input", |x| {
                    int8::QuantizedInput::of_first_row(x, l.in_features())
                })?;
                output_like(
                    l.forward_quantized(&input),
                    l.out_features(),
                    &first(x)?,
                    "int8: output",
                )
            }
            _ if self.rows_independent() => self.forward(&first(x)?),
            _ => first(&self.forward(x)?),
        }
    }

    /// Forward on `[..., in]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Linear::F32(l) => l.forward(x),
            Linear::F16(l) => l.forward(x),
            Linear::Int8(l) => l.forward(x),
            Linear::Ggml(l) => l.forward(x),
            Linear::Tap(t) => t.forward(x),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_names_round_trip() {
        for &s in Scheme::ALL {
            assert_eq!(s.name().parse::<Scheme>().unwrap(), s);
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.name())
            );
        }
        let err = "int4".parse::<Scheme>().unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown scheme `int4`; expected one of: f32, f16, int8-dynamic, int8-per-channel, q8_0, q5_0, q4_1, q4_0, q4_k"
        );
    }

    #[test]
    fn ggml_needs_whole_blocks_and_says_why() {
        assert_eq!(Scheme::Q8_0.unfit_reason(64), None);
        assert_eq!(
            Scheme::Q4K.unfit_reason(64).unwrap(),
            "input width 64 is not a multiple of the 256-weight Q4K block"
        );
        assert_eq!(Scheme::Int8Dynamic.unfit_reason(7), None);
    }

    fn layer(out: usize, inp: usize) -> Linear {
        let w: Vec<f32> = (0..out * inp)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 97.0)
            .collect();
        Linear::f32(
            Tensor::from_vec(w, (out, inp), &candle_core::Device::Cpu).unwrap(),
            None,
        )
    }

    #[test]
    fn forward_all_is_each_forward_bit_for_bit() {
        let x: Vec<f32> = (0..5 * 64)
            .map(|i| ((i * 13 % 29) as f32 - 9.0) / 7.0)
            .collect();
        let x = Tensor::from_vec(x, (1, 5, 64), &candle_core::Device::Cpu).unwrap();
        let each = |layers: [&Linear; 3]| {
            let shared = Linear::forward_all(layers, &x).unwrap();
            for (layer, y) in layers.iter().zip(&shared) {
                let alone = layer.forward(&x).unwrap();
                assert_eq!(y.dims(), alone.dims());
                let (y, alone) = (y.flatten_all().unwrap(), alone.flatten_all().unwrap());
                assert_eq!(y.to_vec1::<f32>().unwrap(), alone.to_vec1::<f32>().unwrap());
            }
        };
        let (a, b, c) = (layer(8, 64), layer(3, 64), layer(64, 64));
        let int8 = |l: &Linear, s| l.quantize(s).unwrap();
        // One shared quantization: per-tensor and per-channel weights alike.
        let (qa, qb) = (
            int8(&a, Scheme::Int8Dynamic),
            int8(&b, Scheme::Int8PerChannel),
        );
        let qc = int8(&c, Scheme::Int8Dynamic);
        each([&qa, &qb, &qc]);
        // Mixed schemes: each layer on its own.
        each([&qa, &b, &int8(&c, Scheme::Q8_0)]);
    }

    #[test]
    fn dequantized_int8_weights_sit_on_the_grid_near_the_originals() {
        let f = layer(4, 64);
        let original = f.dequantized_weight().unwrap();
        assert_eq!(f.grid().unwrap(), None);
        let q = f.quantize(Scheme::Int8Dynamic).unwrap();
        let rounded = q.dequantized_weight().unwrap();
        let grid = q.grid().unwrap().unwrap();
        assert_eq!(grid.len(), 256);
        let step = grid[1] - grid[0];
        for (a, b) in original.iter().zip(&rounded) {
            assert!((a - b).abs() <= step / 2.0 + 1e-6, "{a} vs {b}");
            assert!(
                grid.iter().any(|g| (g - b).abs() < 1e-7),
                "{b} off the grid"
            );
        }
        assert_ne!(original, rounded);
    }

    #[test]
    fn ggml_grid_lists_the_first_blocks_levels() {
        let q = layer(2, 64).quantize(Scheme::Q4_0).unwrap();
        let grid = q.grid().unwrap().unwrap();
        assert!(grid.len() <= 16 && grid.len() > 1, "{grid:?}");
        assert!(grid.windows(2).all(|w| w[0] < w[1]));
        let first_block = &q.dequantized_weight().unwrap()[..32];
        assert!(first_block.iter().all(|v| grid.contains(v)));
    }
}
