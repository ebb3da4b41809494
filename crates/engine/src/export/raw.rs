//! A tensor as the bytes safetensors stores, for dtypes candle has no tensor type for
//! (int8, raw GGML blocks) as well as f32 and f16.

use std::borrow::Cow;

use candle_core::{DType, Tensor};
use safetensors::{Dtype, View};

use crate::error::CandleContext;
use crate::Result;

/// Little-endian bytes with a safetensors dtype and shape.
pub struct Raw {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl Raw {
    /// f32 values of `shape`.
    pub fn f32(values: &[f32], shape: &[usize]) -> Self {
        Self {
            dtype: Dtype::F32,
            shape: shape.to_vec(),
            data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    /// int8 values of `shape`.
    pub fn i8(values: &[i8], shape: &[usize]) -> Self {
        Self {
            dtype: Dtype::I8,
            shape: shape.to_vec(),
            data: values.iter().map(|&v| v as u8).collect(),
        }
    }

    /// Opaque bytes (GGML blocks) of `shape`.
    pub fn u8(data: Vec<u8>, shape: &[usize]) -> Self {
        Self {
            dtype: Dtype::U8,
            shape: shape.to_vec(),
            data,
        }
    }

    /// A candle tensor as f32, or as f16 when `half` (an f16 tensor stays f16).
    pub fn tensor(t: &Tensor, half: bool) -> Result<Self> {
        let shape = t.dims().to_vec();
        let flat = t.flatten_all().during("export: tensor")?;
        if half || t.dtype() == DType::F16 {
            let values = flat
                .to_dtype(DType::F16)
                .and_then(|t| t.to_vec1::<half::f16>())
                .during("export: f16 tensor")?;
            Ok(Self {
                dtype: Dtype::F16,
                shape,
                data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            })
        } else {
            let values = flat.to_vec1::<f32>().during("export: f32 tensor")?;
            Ok(Self::f32(&values, &shape))
        }
    }
}

impl View for &Raw {
    fn dtype(&self) -> Dtype {
        self.dtype
    }

    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }

    fn data_len(&self) -> usize {
        self.data.len()
    }
}

/// Serializes named tensors (sorted by safetensors) with a `__metadata__` map, whose keys
/// are written in sorted order so that one model always gives the same bytes.
pub fn serialize(
    tensors: &[(String, Raw)],
    metadata: Option<std::collections::HashMap<String, String>>,
) -> Result<Vec<u8>> {
    let mut bytes = safetensors::serialize(tensors.iter().map(|(n, t)| (n.as_str(), t)), metadata)
        .map_err(|e| crate::Error::Export(format!("cannot write safetensors ({e})")))?;
    sort_metadata(&mut bytes);
    Ok(bytes)
}

/// safetensors writes `__metadata__` first, from a `HashMap` whose order changes from run
/// to run. Rewrites that one object with its keys sorted, in place: the same keys and
/// values as compact JSON take the same bytes, so nothing else moves.
fn sort_metadata(bytes: &mut [u8]) {
    const PREFIX: &[u8] = b"{\"__metadata__\":";
    let Some(start) = 8usize.checked_add(PREFIX.len()) else {
        return;
    };
    if bytes.get(8..start) != Some(PREFIX) {
        return;
    }
    let mut values = serde_json::Deserializer::from_slice(&bytes[start..])
        .into_iter::<std::collections::BTreeMap<String, String>>();
    let Some(Ok(sorted)) = values.next() else {
        return;
    };
    let len = values.byte_offset();
    if let Ok(json) = serde_json::to_vec(&sorted) {
        if json.len() == len {
            bytes[start..start + len].copy_from_slice(&json);
        }
    }
}
