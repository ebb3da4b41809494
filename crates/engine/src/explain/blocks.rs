//! One weight row packed in a GGML block format by candle's own quantizer, then read back
//! from the stored bytes so a figure can show every block (lessons/lab-formats.md).
//!
//! Every weight is `scales[k] × (ints[i] − offset) − mins[k]`, where `k` is the
//! weight's block (q8_0, q4_0) or sub-block of 32 (q4_k), and `mins` is empty (0) for
//! q8_0 and q4_0.

use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use half::f16;
use serde::{Deserialize, Serialize};

use super::invalid;
use crate::error::CandleContext;
use crate::quant::Scheme;
use crate::{metrics, Classifier, Result};

/// Weights per q4_k sub-block, each with its own 6-bit scale and min codes.
const SUB_BLOCK: usize = 32;

/// A q4_k super-block's two f16 factors and its sub-blocks' 6-bit codes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SuperBlock {
    /// f16 factor of the scale codes: sub-block `k`'s scale is `d × scale_codes[k]`.
    pub d: f32,
    /// f16 factor of the min codes: sub-block `k`'s min is `dmin × min_codes[k]`.
    pub dmin: f32,
    /// Eight 6-bit scale codes, 0..=63.
    pub scale_codes: Vec<u8>,
    /// Eight 6-bit min codes, 0..=63.
    pub min_codes: Vec<u8>,
}

/// One block as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlockView {
    /// Index of the block's first weight in the row.
    pub start: usize,
    /// Weights in the block: 32, or 256 for a q4_k super-block.
    pub len: usize,
    /// Weights per scale: `len`, or 32 for q4_k.
    pub sub_len: usize,
    /// The block's scale (one), or each sub-block's `d × code` (q4_k: eight).
    pub scales: Vec<f32>,
    /// q4_k: each sub-block's `dmin × code`, subtracted after scaling; empty otherwise.
    pub mins: Vec<f32>,
    /// The stored integers, one per weight: q8_0 signed −127..=127; q4_0 the stored
    /// nibble 0..=15, which stands for `nibble − 8`; q4_k the nibble 0..=15.
    pub ints: Vec<i32>,
    /// Largest `|weight − dequantized|` in the block.
    pub max_abs_error: f32,
    /// q4_k's super-block factors and codes; `None` for q8_0 and q4_0.
    pub super_block: Option<SuperBlock>,
}

/// A row packed in one format and read back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PackedRow {
    /// The format: q8_0, q4_0 or q4_k.
    pub format: Scheme,
    /// Weights per block (32, or 256 for q4_k).
    pub block_size: usize,
    /// Stored bits per weight, scales included: 8.5, 4.5, 4.5.
    pub bits_per_weight: f32,
    /// Subtracted from every stored integer before scaling: 8 for q4_0, else 0.
    pub offset: i32,
    /// Every block in order.
    pub blocks: Vec<BlockView>,
    /// The row as the blocks give it back.
    pub dequantized: Vec<f32>,
    /// Mean squared error against the row.
    pub mse: f32,
    /// Largest absolute error over the row.
    pub max_abs_error: f32,
    /// Bytes the blocks take.
    pub stored_bytes: usize,
}

/// Packs `row` as `scheme` (q8_0, q4_0 or q4_k) with candle's quantizer and decodes the
/// stored bytes. The row's length must be a whole number of blocks.
pub fn pack_row(row: &[f32], scheme: Scheme) -> Result<PackedRow> {
    let dtype = match scheme {
        Scheme::Q8_0 | Scheme::Q4_0 | Scheme::Q4K => scheme.ggml_dtype().expect("a GGML scheme"),
        other => {
            return Err(invalid(format!(
                "blocks are shown for q8_0, q4_0 and q4_k, not {other}"
            )))
        }
    };
    let block = dtype.block_size();
    if row.is_empty() || !row.len().is_multiple_of(block) {
        return Err(invalid(format!(
            "a row of {} weights does not fit {scheme}: its length must be a multiple of the {block}-weight block",
            row.len()
        )));
    }
    if let Some(i) = row.iter().position(|x| !x.is_finite()) {
        return Err(invalid(format!(
            "weight {i} of the row is {}, not a finite number",
            row[i]
        )));
    }
    let tensor = Tensor::from_slice(row, (1, row.len()), &Device::Cpu).during("blocks: the row")?;
    let q = QTensor::quantize(&tensor, dtype).during("blocks: quantize")?;
    let bytes = q.data().during("blocks: stored bytes")?;
    let mut blocks: Vec<BlockView> = bytes
        .chunks_exact(dtype.type_size())
        .enumerate()
        .map(|(i, b)| decode(dtype, b, i * block))
        .collect();
    let mut dequantized = Vec::with_capacity(row.len());
    for view in &mut blocks {
        let values = values(view, offset(dtype));
        view.max_abs_error = metrics::max_abs_diff(&row[view.start..][..view.len], &values)?;
        dequantized.extend(values);
    }
    Ok(PackedRow {
        format: scheme,
        block_size: block,
        bits_per_weight: (dtype.type_size() * 8) as f32 / block as f32,
        offset: offset(dtype),
        mse: metrics::mse(row, &dequantized)?,
        max_abs_error: metrics::max_abs_diff(row, &dequantized)?,
        stored_bytes: bytes.len(),
        blocks,
        dequantized,
    })
}

/// Row `row` of the Linear layer `layer`'s weight `[out, in]`, as the f32 values this
/// classifier multiplies with (the originals in an f32 classifier).
pub fn weight_row(classifier: &Classifier, layer: &str, row: usize) -> Result<Vec<f32>> {
    let linear = classifier.linear(layer)?;
    let (rows, width) = linear.dims();
    if row >= rows {
        return Err(invalid(format!(
            "`{layer}` has {rows} rows (0..={}); there is no row {row}",
            rows.saturating_sub(1)
        )));
    }
    let weight = linear.dequantized_weight()?;
    Ok(weight[row * width..][..width].to_vec())
}

fn offset(dtype: GgmlDType) -> i32 {
    if dtype == GgmlDType::Q4_0 {
        8
    } else {
        0
    }
}

fn half_at(b: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([b[at], b[at + 1]]).to_f32()
}

/// One stored block: q8_0 `d, qs[32]`; q4_0 `d, qs[16]` (weight `j` in the low nibble
/// of byte `j`, weight `j + 16` in its high nibble); q4_k `d, dmin, scales[12], qs[128]`.
fn decode(dtype: GgmlDType, b: &[u8], start: usize) -> BlockView {
    let d = half_at(b, 0);
    let (len, sub_len, scales, mins, ints, super_block) = match dtype {
        GgmlDType::Q8_0 => {
            let ints = b[2..34].iter().map(|&v| i32::from(v as i8)).collect();
            (32, 32, vec![d], vec![], ints, None)
        }
        GgmlDType::Q4_0 => {
            let qs = &b[2..18];
            let low = qs.iter().map(|&v| i32::from(v & 0xF));
            let ints = low.chain(qs.iter().map(|&v| i32::from(v >> 4))).collect();
            (32, 32, vec![d], vec![], ints, None)
        }
        _ => {
            let dmin = half_at(b, 2);
            let (scale_codes, min_codes): (Vec<u8>, Vec<u8>) =
                (0..8).map(|k| scale_min_codes(k, &b[4..16])).unzip();
            // Each 32 bytes of qs hold two sub-blocks: low nibbles, then high nibbles.
            let mut ints = Vec::with_capacity(256);
            for chunk in b[16..144].chunks_exact(32) {
                ints.extend(chunk.iter().map(|&v| i32::from(v & 0xF)));
                ints.extend(chunk.iter().map(|&v| i32::from(v >> 4)));
            }
            let scales = scale_codes.iter().map(|&c| d * f32::from(c)).collect();
            let mins = min_codes.iter().map(|&c| dmin * f32::from(c)).collect();
            let sb = SuperBlock {
                d,
                dmin,
                scale_codes,
                min_codes,
            };
            (256, SUB_BLOCK, scales, mins, ints, Some(sb))
        }
    };
    BlockView {
        start,
        len,
        sub_len,
        scales,
        mins,
        ints,
        max_abs_error: 0.0,
        super_block,
    }
}

/// Sub-block `k`'s 6-bit scale and min codes from q4_k's 12 packed bytes: codes 0..4 are
/// the low 6 bits of bytes `k` and `k + 4`; codes 4..8 take 4 bits from byte `k + 4` and
/// their top 2 bits from the spare high bits of bytes `k − 4` and `k`.
fn scale_min_codes(k: usize, s: &[u8]) -> (u8, u8) {
    if k < 4 {
        (s[k] & 63, s[k + 4] & 63)
    } else {
        let scale = (s[k + 4] & 0xF) | ((s[k - 4] >> 6) << 4);
        let min = (s[k + 4] >> 4) | ((s[k] >> 6) << 4);
        (scale, min)
    }
}

/// `scale × (int − offset) − min` for every weight of a block.
fn values(view: &BlockView, offset: i32) -> Vec<f32> {
    view.ints
        .iter()
        .enumerate()
        .map(|(i, &q)| {
            let k = i / view.sub_len;
            let scaled = view.scales[k] * (q - offset) as f32;
            match view.mins.get(k) {
                Some(min) => scaled - min,
                None => scaled,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::bundled;

    const FORMATS: [Scheme; 3] = [Scheme::Q8_0, Scheme::Q4_0, Scheme::Q4K];

    fn wavy(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i as f32 * 0.37).sin() * 0.2 + (i % 7) as f32 * 0.01) * (1 + i / 64) as f32)
            .collect()
    }

    fn candle_dequantized(row: &[f32], scheme: Scheme) -> Vec<f32> {
        let t = Tensor::from_slice(row, (1, row.len()), &Device::Cpu).unwrap();
        let q = QTensor::quantize(&t, scheme.ggml_dtype().unwrap()).unwrap();
        let back = q.dequantize(&Device::Cpu).unwrap();
        back.flatten_all().unwrap().to_vec1().unwrap()
    }

    #[test]
    fn decoded_blocks_equal_candles_dequantize_bit_for_bit() {
        let rows = [
            wavy(512),
            weight_row(bundled(), "transformer.layer.0.attention.q_lin", 0).unwrap(),
            weight_row(bundled(), "transformer.layer.1.ffn.lin2", 3).unwrap(),
        ];
        for row in &rows {
            for scheme in FORMATS {
                let packed = pack_row(row, scheme).unwrap();
                let candle = candle_dequantized(row, scheme);
                let ours: Vec<u32> = packed.dequantized.iter().map(|v| v.to_bits()).collect();
                let theirs: Vec<u32> = candle.iter().map(|v| v.to_bits()).collect();
                assert_eq!(ours, theirs, "{scheme}");
            }
        }
    }

    #[test]
    fn bits_per_weight_and_bytes_follow_the_block_layouts() {
        let row = wavy(512);
        for (scheme, bits, bytes, blocks) in [
            (Scheme::Q8_0, 8.5, 16 * 34, 16),
            (Scheme::Q4_0, 4.5, 16 * 18, 16),
            (Scheme::Q4K, 4.5, 2 * 144, 2),
        ] {
            let p = pack_row(&row, scheme).unwrap();
            assert_eq!(p.bits_per_weight, bits, "{scheme}");
            assert_eq!(p.stored_bytes, bytes, "{scheme}");
            assert_eq!(p.blocks.len(), blocks, "{scheme}");
            assert!(p.blocks.iter().all(|b| b.ints.len() == b.len));
            let worst = p.blocks.iter().map(|b| b.max_abs_error).fold(0.0, f32::max);
            assert_eq!(worst, p.max_abs_error);
            assert!(p.mse > 0.0 && p.mse <= p.max_abs_error * p.max_abs_error);
        }
    }

    #[test]
    fn stored_integers_stay_in_their_format_range() {
        let row = wavy(256);
        let ranges = [
            (Scheme::Q8_0, -127, 127),
            (Scheme::Q4_0, 0, 15),
            (Scheme::Q4K, 0, 15),
        ];
        for (scheme, lo, hi) in ranges {
            let p = pack_row(&row, scheme).unwrap();
            for b in &p.blocks {
                assert!(b.ints.iter().all(|&q| (lo..=hi).contains(&q)), "{scheme}");
            }
        }
        let k = pack_row(&row, Scheme::Q4K).unwrap();
        let b = &k.blocks[0];
        let sb = b.super_block.as_ref().unwrap();
        assert_eq!((b.scales.len(), b.mins.len(), b.sub_len), (8, 8, 32));
        assert!(sb.scale_codes.iter().chain(&sb.min_codes).all(|&c| c < 64));
        assert_eq!(b.scales[3], sb.d * f32::from(sb.scale_codes[3]));
        assert!(pack_row(&row, Scheme::Q8_0).unwrap().blocks[0]
            .super_block
            .is_none());
    }

    #[test]
    fn the_worst_block_stays_within_the_formats_bound() {
        let row = weight_row(bundled(), "transformer.layer.0.attention.q_lin", 0).unwrap();
        assert_eq!(row.len(), 256);
        // f16 rounding of the stored scale adds at most a 2^-11 relative error per level.
        let f16_slack = |levels: f32| levels * 2f32.powi(-11);
        for scheme in FORMATS {
            let p = pack_row(&row, scheme).unwrap();
            for b in &p.blocks {
                let worst_step = b.scales.iter().map(|s| s.abs()).fold(0.0, f32::max);
                // q8_0 rounds to the nearest level; q4_0's grid reaches −8 steps on the
                // largest weight's side but only +7 on the other, a full step short.
                let bound = match scheme {
                    Scheme::Q8_0 => worst_step * (0.5 + f16_slack(127.0)),
                    Scheme::Q4_0 => worst_step * (1.0 + f16_slack(8.0)),
                    _ => continue,
                };
                assert!(
                    b.max_abs_error <= bound,
                    "{scheme}: {} > {bound}",
                    b.max_abs_error
                );
            }
            if scheme == Scheme::Q4K {
                // Weights inside a sub-block's grid span are within half of its step.
                for b in &p.blocks {
                    for (i, (&x, &y)) in row[b.start..][..b.len]
                        .iter()
                        .zip(&p.dequantized[b.start..])
                        .enumerate()
                    {
                        let (s, m) = (b.scales[i / 32], b.mins[i / 32]);
                        if x >= -m && x <= 15.0 * s - m {
                            assert!((x - y).abs() <= s / 2.0 * (1.0 + 1e-5) + 1e-7);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn bad_rows_and_layers_say_what_is_wrong() {
        let err = |row: &[f32], s: Scheme| pack_row(row, s).unwrap_err().to_string();
        assert_eq!(
            err(&wavy(96), Scheme::Q4K),
            "a row of 96 weights does not fit q4_k: its length must be a multiple of the 256-weight block"
        );
        assert_eq!(
            err(&wavy(40), Scheme::Q8_0),
            "a row of 40 weights does not fit q8_0: its length must be a multiple of the 32-weight block"
        );
        assert_eq!(
            err(&[], Scheme::Q4_0),
            "a row of 0 weights does not fit q4_0: its length must be a multiple of the 32-weight block"
        );
        assert_eq!(
            err(&wavy(32), Scheme::Int8Dynamic),
            "blocks are shown for q8_0, q4_0 and q4_k, not int8-dynamic"
        );
        let mut nan = wavy(32);
        nan[5] = f32::NAN;
        assert_eq!(
            err(&nan, Scheme::Q8_0),
            "weight 5 of the row is NaN, not a finite number"
        );

        let m = bundled();
        let e = weight_row(m, "transformer.layer.0.attention.q_lin", 256)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "`transformer.layer.0.attention.q_lin` has 256 rows (0..=255); there is no row 256"
        );
        let e = weight_row(m, "q_lin", 0).unwrap_err().to_string();
        assert!(e.starts_with("no Linear layer named `q_lin`; the model has: transformer.layer.0.attention.q_lin,"), "{e}");
        assert_eq!(weight_row(m, "classifier", 1).unwrap().len(), 256);
    }
}
