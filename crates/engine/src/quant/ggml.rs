//! llama.cpp's GGML block formats (Q8_0, Q4_0, Q4_1, Q5_0, Q4_K …), stored and quantized
//! by candle's `QTensor`, multiplied by the engine's own kernel ([`super::ggml_kernel`]:
//! activations quantized to 8 bits per block, integer dot products per block) or, where
//! that is not the faster one, by candle's `QMatMul`.
//!
//! Each block of 32 (256 for k-quants) consecutive weights along the input dimension
//! shares a scale (and for some formats a minimum), so a layer fits only when its input
//! width is a multiple of the block size; a layer that does not fit stays f32 and says why.

use std::borrow::Cow;

use candle_core::quantized::{GgmlDType, QMatMul, QStorage, QTensor};
use candle_core::{Device, Module, Tensor};

use super::ggml_kernel::{self, Activations, Format, Weights};
use crate::error::CandleContext;
use crate::Result;

/// Whether a weight with `in_features` columns can be stored in `dtype`; if not, why.
pub fn fits(dtype: GgmlDType, in_features: usize) -> std::result::Result<(), String> {
    let block = dtype.block_size();
    // candle's Q4_1/Q5_0/Q5_1 dot products walk two blocks at a time (k_quants.rs
    // asserts it), so those formats need an even number of blocks.
    let pairs = matches!(dtype, GgmlDType::Q4_1 | GgmlDType::Q5_0 | GgmlDType::Q5_1);
    let unit = if pairs { 2 * block } else { block };
    if in_features.is_multiple_of(unit) {
        Ok(())
    } else if pairs && in_features.is_multiple_of(block) {
        Err(format!(
            "input width {in_features} is an odd number of {block}-weight {dtype:?} blocks; candle's kernel needs pairs"
        ))
    } else {
        Err(format!(
            "input width {in_features} is not a multiple of the {block}-weight {dtype:?} block"
        ))
    }
}

/// A Linear layer whose weight is a GGML quantized tensor.
#[derive(Clone, Debug)]
pub struct GgmlLinear {
    weight: std::sync::Arc<QTensor>,
    matmul: QMatMul,
    /// The same blocks for the engine's kernel, when it reads the format.
    kernel: Option<std::sync::Arc<Weights>>,
    bias: Option<Tensor>,
    dtype: GgmlDType,
}

impl GgmlLinear {
    /// Quantizes an f32 weight `[out, in]`; the bias stays f32. Check [`fits`] first.
    pub fn from_tensors(weight: &Tensor, bias: Option<&Tensor>, dtype: GgmlDType) -> Result<Self> {
        let q = std::sync::Arc::new(QTensor::quantize(weight, dtype).during("ggml: quantize")?);
        let (n, k) = weight.dims2().during("ggml: weight shape")?;
        let kernel = match Format::of(dtype) {
            Some(format) => {
                let bytes = q.data().during("ggml: blocks")?.into_owned();
                Some(std::sync::Arc::new(Weights::new(format, bytes, n, k)))
            }
            None => None,
        };
        Ok(Self {
            matmul: QMatMul::from_arc(q.clone()).during("ggml: matmul")?,
            kernel,
            weight: q,
            bias: bias.cloned(),
            dtype,
        })
    }

    /// A layer from raw GGML blocks (e.g. read from an export): `blocks` holds the
    /// `[out, in]` weight row after row, `in / block_size` blocks of `type_size` bytes per
    /// row, exactly as [`GgmlLinear::blocks`] returns them.
    pub fn from_blocks(
        dtype: GgmlDType,
        blocks: &[u8],
        out_features: usize,
        in_features: usize,
        bias: Option<Tensor>,
    ) -> Result<Self> {
        fits(dtype, in_features).map_err(crate::Error::Safetensors)?;
        let expected = out_features * in_features / dtype.block_size() * dtype.type_size();
        if blocks.len() != expected {
            return Err(crate::Error::Safetensors(format!(
                "{dtype:?} weight [{out_features}, {in_features}] needs {expected} bytes of blocks, found {}",
                blocks.len()
            )));
        }
        // candle reads the bytes as block structs (holding f16/f32), so they must be
        // aligned; bytes inside a safetensors buffer need not be.
        let mut buf = vec![0u8; blocks.len() + 8];
        let skip = buf.as_ptr().align_offset(8).min(8);
        buf[skip..skip + blocks.len()].copy_from_slice(blocks);
        let aligned = &buf[skip..skip + blocks.len()];
        let storage = QStorage::from_data(Cow::Borrowed(aligned), &Device::Cpu, dtype)
            .during("ggml: blocks")?;
        let q = std::sync::Arc::new(
            QTensor::new(storage, (out_features, in_features)).during("ggml: blocks")?,
        );
        let kernel = Format::of(dtype).map(|format| {
            std::sync::Arc::new(Weights::new(
                format,
                blocks.to_vec(),
                out_features,
                in_features,
            ))
        });
        Ok(Self {
            matmul: QMatMul::from_arc(q.clone()).during("ggml: matmul")?,
            kernel,
            weight: q,
            bias,
            dtype,
        })
    }

    /// The weight's raw blocks, row after row (see [`GgmlLinear::from_blocks`]).
    pub fn blocks(&self) -> Result<Vec<u8>> {
        Ok(self.weight.data().during("ggml: blocks")?.into_owned())
    }

    /// The f32 bias.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }

    /// The block format.
    pub fn dtype(&self) -> GgmlDType {
        self.dtype
    }

    /// `(out, in)`.
    pub fn dims(&self) -> (usize, usize) {
        self.weight.shape().dims2().unwrap_or((0, 0))
    }

    /// The weight as the f32 values it represents.
    pub fn dequantized_weight(&self) -> Result<Tensor> {
        self.weight
            .dequantize(&Device::Cpu)
            .during("ggml: dequantize")
    }

    /// `x · wᵀ` by candle's `QMatMul` (no bias).
    pub fn forward_candle(&self, x: &Tensor) -> Result<Tensor> {
        self.matmul.forward(x).during("ggml: matmul")
    }

    /// `x · wᵀ` by candle's generic block product (no bias): GGML's formulas, each input
    /// block quantized to the format's dot type. `QMatMul` on an AVX512-VNNI or AVX-VNNI
    /// CPU instead repacks Q8_0 and Q4_K weights and quantizes its input its own way, so
    /// its results depend on the machine; this is the reference the engine's kernel is
    /// held to on every machine.
    pub fn forward_candle_reference(&self, x: &Tensor) -> Result<Tensor> {
        use candle_core::quantized::k_quants::{
            self, BlockQ4K, BlockQ4_0, BlockQ4_1, BlockQ5_0, BlockQ8_0, GgmlType,
        };
        /// The stored blocks as `T`s, then candle's product.
        fn product<T: GgmlType>(
            mkn: (usize, usize, usize),
            lhs: &[f32],
            bytes: &[u8],
            dst: &mut [f32],
        ) -> candle_core::Result<()> {
            let count = bytes.len() / std::mem::size_of::<T>();
            let mut blocks: Vec<T> = Vec::with_capacity(count);
            // SAFETY: GGML blocks are plain f16/u8/i8 fields, valid for every bit pattern;
            // `count` of them fit the capacity and come from `bytes`, their stored form.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    bytes.as_ptr(),
                    blocks.as_mut_ptr().cast::<u8>(),
                    count * std::mem::size_of::<T>(),
                );
                blocks.set_len(count);
            }
            k_quants::matmul(mkn, lhs, &blocks, dst)
        }
        let (n, k) = self.dims();
        let lhs = super::input_rows(x, "ggml: input")?;
        let m = lhs.len().checked_div(k).unwrap_or(0);
        let bytes = self.weight.data().during("ggml: blocks")?;
        let mut y = vec![0f32; m * n];
        let mkn = (m, k, n);
        match self.dtype {
            GgmlDType::Q8_0 => product::<BlockQ8_0>(mkn, &lhs, &bytes, &mut y),
            GgmlDType::Q4_0 => product::<BlockQ4_0>(mkn, &lhs, &bytes, &mut y),
            GgmlDType::Q4_1 => product::<BlockQ4_1>(mkn, &lhs, &bytes, &mut y),
            GgmlDType::Q5_0 => product::<BlockQ5_0>(mkn, &lhs, &bytes, &mut y),
            GgmlDType::Q4K => product::<BlockQ4K>(mkn, &lhs, &bytes, &mut y),
            other => Err(candle_core::Error::Msg(format!(
                "no reference product for {other:?}"
            ))),
        }
        .during("ggml: reference matmul")?;
        super::output_like(y, n, x, "ggml: reference output")
    }

    /// `x · wᵀ` by the engine's kernel (no bias); `None` for a format it does not read.
    pub fn forward_kernel(&self, x: &Tensor) -> Result<Option<Tensor>> {
        self.kernel
            .as_deref()
            .map(|w| self.forward_own(w, x))
            .transpose()
    }

    fn forward_own(&self, w: &Weights, x: &Tensor) -> Result<Tensor> {
        let (n, k) = self.dims();
        let input = crate::ops::with_values(x, "ggml: input", |x| {
            Activations::quantize(x, k, w.format())
        })?;
        let y = ggml_kernel::matmul(&input, w);
        super::output_like(y, n, x, "ggml: output")
    }

    /// Bytes as stored: the blocks (quantized values with their scales) and the f32 bias.
    pub fn stored_bytes(&self) -> u64 {
        let n = self.weight.shape().elem_count();
        let blocks = n / self.dtype.block_size() * self.dtype.type_size();
        (blocks + 4 * self.bias.as_ref().map_or(0, Tensor::elem_count)) as u64
    }

    /// Forward on `[..., in]`: the engine's kernel where [`uses_own_kernel`] says so,
    /// else candle's.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = match self
            .kernel
            .as_deref()
            .filter(|_| uses_own_kernel(self.dtype))
        {
            Some(w) => self.forward_own(w, x)?,
            None => self.forward_candle(x)?,
        };
        match &self.bias {
            Some(b) => y.broadcast_add(b).during("ggml: bias"),
            None => Ok(y),
        }
    }
}

/// Whether a forward in `dtype` runs on the engine's kernel. Always in wasm (candle's
/// simd128 and scalar GGML kernels are slower than f32 there); natively only where
/// candle has no AVX2 kernel of its own (see docs/BENCHMARKS.md).
pub fn uses_own_kernel(dtype: GgmlDType) -> bool {
    if cfg!(target_arch = "wasm32") {
        return true;
    }
    matches!(dtype, GgmlDType::Q4_1 | GgmlDType::Q5_0)
}
