//! The word-embedding table, f32 or int8 with one scale per row.
//!
//! In a small model the table is most of the bytes (6,183 × 256 f32 = 6.3 MB of the bundled
//! student's 11.3 MB), and no Linear scheme touches it. [`EmbeddingStorage::Int8PerRow`]
//! stores it at a quarter of that:
//!
//! - **symmetric, per row**: `scale[r] = absmax(row r) / 127` (f32), zero point 0;
//!   `q = clamp(rne(w / scale[r]), -127, 127)`; a row of zeros gets scale 0 and all-zero `q`.
//! - **lookup** dequantizes only the rows asked for: `w ≈ f32(q) · scale[r]`, one f32
//!   multiply per value, so a token's vector is within `scale[r] / 2` of the original.
//!
//! This is not PyTorch's quantized `Embedding` (`float_qparams_weight_only_qconfig`), which
//! stores quint8 with an f32 scale *and* an f32 zero point per row (asymmetric, min/max):
//! one scale per row and no offset keep the format a plain `int8 × scale` grid, the same
//! grid the int8 Linear layers use.

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::CandleContext;
use crate::{Error, Result};

/// How the word-embedding table is stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EmbeddingStorage {
    /// 32-bit floats, as trained.
    #[default]
    F32,
    /// int8 with one f32 scale per row (symmetric, `absmax / 127`).
    Int8PerRow,
}

impl EmbeddingStorage {
    /// The name used in JSON and in exported files' metadata.
    pub fn name(self) -> &'static str {
        match self {
            EmbeddingStorage::F32 => "f32",
            EmbeddingStorage::Int8PerRow => "int8-per-row",
        }
    }
}

/// An int8 table with one scale per row.
#[derive(Clone, Debug, PartialEq)]
pub struct Int8Rows {
    values: Vec<i8>,
    scales: Vec<f32>,
    rows: usize,
    dim: usize,
}

impl Int8Rows {
    /// Quantizes a row-major `rows × dim` f32 table.
    pub fn quantize(table: &[f32], rows: usize, dim: usize) -> Self {
        assert_eq!(table.len(), rows * dim, "table shape");
        let mut values = Vec::with_capacity(table.len());
        let mut scales = Vec::with_capacity(rows);
        for row in table.chunks_exact(dim.max(1)).take(rows) {
            let absmax = row.iter().fold(0f32, |m, v| m.max(v.abs()));
            let scale = absmax / 127.0;
            scales.push(scale);
            values.extend(row.iter().map(|&v| {
                if scale == 0.0 {
                    0
                } else {
                    (v / scale).round_ties_even().clamp(-127.0, 127.0) as i8
                }
            }));
        }
        Self {
            values,
            scales,
            rows,
            dim,
        }
    }

    /// A table from stored values and scales (e.g. read back from an export); checks that
    /// the lengths fit `rows × dim`.
    pub fn from_parts(values: Vec<i8>, scales: Vec<f32>, rows: usize, dim: usize) -> Result<Self> {
        if values.len() != rows * dim || scales.len() != rows {
            return Err(Error::ShapeMismatch {
                name: "embeddings.word_embeddings".into(),
                expected: vec![rows, dim],
                actual: vec![scales.len(), values.len() / rows.max(1)],
            });
        }
        Ok(Self {
            values,
            scales,
            rows,
            dim,
        })
    }

    /// The int8 values, row-major `[rows, dim]`.
    pub fn values(&self) -> &[i8] {
        &self.values
    }

    /// One scale per row.
    pub fn scales(&self) -> &[f32] {
        &self.scales
    }

    /// Row `r` as the f32 values it stands for.
    pub fn row(&self, r: usize) -> impl Iterator<Item = f32> + '_ {
        let s = self.scales[r];
        self.values[r * self.dim..(r + 1) * self.dim]
            .iter()
            .map(move |&q| f32::from(q) * s)
    }
}

/// The word-embedding table in its storage.
#[derive(Clone, Debug)]
pub enum WordEmbeddings {
    /// f32 `[vocab, dim]`.
    F32(Tensor),
    /// int8 rows with a scale each.
    Int8(Int8Rows),
}

impl WordEmbeddings {
    /// This table in `storage`. Only an f32 table can be quantized.
    pub fn convert(&self, storage: EmbeddingStorage) -> Result<Self> {
        match (self, storage) {
            (WordEmbeddings::F32(_), EmbeddingStorage::F32) => Ok(self.clone()),
            (WordEmbeddings::F32(t), EmbeddingStorage::Int8PerRow) => {
                let (rows, dim) = t.dims2().during("embeddings: shape")?;
                let values = t
                    .flatten_all()
                    .and_then(|t| t.to_vec1::<f32>())
                    .during("embeddings: values")?;
                Ok(WordEmbeddings::Int8(Int8Rows::quantize(&values, rows, dim)))
            }
            (WordEmbeddings::Int8(_), _) => Err(Error::AlreadyQuantized("int8-per-row embeddings")),
        }
    }

    /// How the table is stored.
    pub fn storage(&self) -> EmbeddingStorage {
        match self {
            WordEmbeddings::F32(_) => EmbeddingStorage::F32,
            WordEmbeddings::Int8(_) => EmbeddingStorage::Int8PerRow,
        }
    }

    /// `(rows, dim)`.
    pub fn dims(&self) -> (usize, usize) {
        match self {
            WordEmbeddings::F32(t) => t.dims2().unwrap_or((0, 0)),
            WordEmbeddings::Int8(q) => (q.rows, q.dim),
        }
    }

    /// The rows of `ids` as an f32 tensor `[ids.len(), dim]`; an int8 table dequantizes
    /// only those rows.
    pub fn lookup(&self, ids: &[u32], device: &Device) -> Result<Tensor> {
        match self {
            WordEmbeddings::F32(t) => {
                let ids = Tensor::new(ids, device).during("embeddings: ids")?;
                t.index_select(&ids, 0).during("embeddings: words")
            }
            WordEmbeddings::Int8(q) => {
                let mut out = Vec::with_capacity(ids.len() * q.dim);
                for &id in ids {
                    let r = id as usize;
                    if r >= q.rows {
                        let msg = format!("token id {id} is outside the {}-row table", q.rows);
                        return Err(candle_core::Error::Msg(msg)).during("embeddings: words");
                    }
                    out.extend(q.row(r));
                }
                Tensor::from_vec(out, (ids.len(), q.dim), device).during("embeddings: words")
            }
        }
    }

    /// The whole table as the f32 values lookups return, row-major.
    pub fn dequantized(&self) -> Result<Vec<f32>> {
        match self {
            WordEmbeddings::F32(t) => t
                .flatten_all()
                .and_then(|t| t.to_vec1::<f32>())
                .during("embeddings: values"),
            WordEmbeddings::Int8(q) => Ok((0..q.rows).flat_map(|r| q.row(r)).collect()),
        }
    }

    /// Number of weights.
    pub fn elem_count(&self) -> usize {
        let (rows, dim) = self.dims();
        rows * dim
    }

    /// Bytes as stored: 4 per f32 value, or 1 per int8 value plus 4 per row scale.
    pub fn stored_bytes(&self) -> u64 {
        match self {
            WordEmbeddings::F32(t) => 4 * t.elem_count() as u64,
            WordEmbeddings::Int8(q) => (q.values.len() + 4 * q.scales.len()) as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_to_their_own_grid() {
        let table = [0.5, -1.0, 0.25, 0.0, 0.0, 0.0, 2.0, 1.0, -0.01];
        let q = Int8Rows::quantize(&table, 3, 3);
        assert_eq!(q.scales(), [1.0 / 127.0, 0.0, 2.0 / 127.0]);
        assert_eq!(&q.values()[..3], [64, -127, 32]);
        assert_eq!(&q.values()[3..6], [0, 0, 0], "a zero row stays zero");
        assert_eq!(q.values()[6], 127);
        for (r, original) in table.chunks(3).enumerate() {
            for (a, b) in q.row(r).zip(original) {
                assert!((a - b).abs() <= q.scales()[r] / 2.0 + 1e-7, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn lookup_dequantizes_the_rows_asked_for() {
        let t = Tensor::from_vec(vec![1.0f32, -2.0, 0.5, 4.0], (2, 2), &Device::Cpu).unwrap();
        let f = WordEmbeddings::F32(t);
        let q = f.convert(EmbeddingStorage::Int8PerRow).unwrap();
        assert_eq!(q.storage(), EmbeddingStorage::Int8PerRow);
        assert_eq!(q.stored_bytes(), 4 + 8);
        assert_eq!(f.stored_bytes(), 16);
        let rows = q.lookup(&[1, 0, 1], &Device::Cpu).unwrap();
        let rows = rows.to_vec2::<f32>().unwrap();
        assert_eq!(rows[0], rows[2]);
        assert_eq!(rows[1][1], -2.0, "the absmax value is exact");
        assert!(q.lookup(&[2], &Device::Cpu).is_err());
        assert!(q.convert(EmbeddingStorage::F32).is_err());
    }
}
