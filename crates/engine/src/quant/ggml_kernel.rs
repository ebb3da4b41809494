//! The engine's own forward for GGML Linear layers: `y[m][n] = Σ_k x[m][k] · w[n][k]`
//! with the weights in candle's GGML blocks (Q8_0, Q4_0, Q4_1, Q5_0, Q4_K) and the
//! activations quantized once per call to 8 bits, as ggml's `vec_dot` kernels do.
//!
//! The arithmetic, the same on every path:
//! - each activation row is cut into blocks of 32 and quantized to i8 with one f32 scale
//!   per block, exactly as candle quantizes the left-hand side before its dot products:
//!   Q8_0-style (`d = max|x| / 127`, the scale rounded to f16) for the 32-weight formats,
//!   Q8_K-style (one scale per 256 values, `d = max / -127` with the sign of the largest
//!   magnitude) for Q4_K;
//! - per 32-weight block an exact integer dot product of the small weight integers with
//!   the i8 activations, then one multiply by `weight scale · activation scale` and an f32
//!   sum over the blocks;
//! - formats with a per-block offset (Q4_1's minimum, Q4_K's sub-block minimum) add
//!   `offset · Σ activations of the block`, from per-block sums kept with the activations.
//!
//! The weight bytes stay candle's (`QTensor::data`, read in place). The block scales are
//! decoded once to f32 (Q4_K's 6-bit sub-block scales and minimums folded into its f16
//! super-block factors), a working copy of one or two f32 per 32 weights.
//!
//! Paths: simd128 in the browser (`ggml_simd`: nibbles and 5th bits unpacked to i16 lanes
//! per block, `i32x4.dot_i16x8_s`, four activation rows per unpacked weight block) and a
//! plain loop elsewhere, which is the reference the tests hold every path to.

use candle_core::quantized::GgmlDType;
use half::f16;

/// Weights (and activation values) per block.
pub const QK: usize = 32;
/// Values per Q4_K super-block (and per Q8_K activation block).
pub const QK_K: usize = 256;

/// The block formats this kernel reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// 32 × i8, f16 scale: 34 bytes.
    Q8_0,
    /// 32 × 4 bits (minus 8), f16 scale: 18 bytes.
    Q4_0,
    /// 32 × 4 bits, f16 scale and f16 minimum: 20 bytes.
    Q4_1,
    /// 32 × 5 bits (minus 16): f16 scale, 4 bytes of 5th bits, 16 of nibbles: 22 bytes.
    Q5_0,
    /// 256 × 4 bits: f16 scale and minimum, 12 bytes of 6-bit sub-block scales and
    /// minimums, 128 of nibbles: 144 bytes.
    Q4K,
}

impl Format {
    /// The format of a candle dtype, if this kernel reads it.
    pub fn of(dtype: GgmlDType) -> Option<Self> {
        match dtype {
            GgmlDType::Q8_0 => Some(Format::Q8_0),
            GgmlDType::Q4_0 => Some(Format::Q4_0),
            GgmlDType::Q4_1 => Some(Format::Q4_1),
            GgmlDType::Q5_0 => Some(Format::Q5_0),
            GgmlDType::Q4K => Some(Format::Q4K),
            _ => None,
        }
    }

    /// Bytes of one row of `k` weights.
    pub(super) fn row_bytes(self, k: usize) -> usize {
        match self {
            Format::Q8_0 => k / QK * 34,
            Format::Q4_0 => k / QK * 18,
            Format::Q4_1 => k / QK * 20,
            Format::Q5_0 => k / QK * 22,
            Format::Q4K => k / QK_K * 144,
        }
    }

    /// Whether the weights carry a per-block offset (`w = scale · q + offset`).
    fn has_offsets(self) -> bool {
        matches!(self, Format::Q4_1 | Format::Q4K)
    }
}

/// The Q4_K 6-bit scale and minimum of sub-block `j` (0..8) from the 12 packed bytes:
/// sub-blocks 0..4 keep theirs in the low 6 bits of bytes `j` and `j + 4`; 4..8 take
/// 4 bits from byte `j + 4` and their top 2 bits from the spare bits of bytes `j - 4`, `j`.
fn q4k_scale_min(j: usize, s: &[u8]) -> (u8, u8) {
    if j < 4 {
        (s[j] & 63, s[j + 4] & 63)
    } else {
        (
            (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4),
            (s[j + 4] >> 4) | ((s[j] >> 6) << 4),
        )
    }
}

fn f16_at(bytes: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([bytes[at], bytes[at + 1]]).to_f32()
}

/// `n × k` weights as candle's GGML blocks, with their scales decoded to f32.
#[derive(Clone, Debug)]
pub struct Weights {
    pub(super) format: Format,
    /// candle's bytes, unchanged: `n` rows of `k / block` blocks.
    pub(super) bytes: Vec<u8>,
    /// Per 32-weight block: the factor of its integers (`n × k / 32`).
    pub(super) scales: Vec<f32>,
    /// Per 32-weight block: the added offset (Q4_1, Q4_K), else empty.
    offsets: Vec<f32>,
    pub(super) n: usize,
    pub(super) k: usize,
}

impl Weights {
    /// Takes candle's bytes of an `n × k` tensor in `format` (`k` a whole number of blocks).
    pub fn new(format: Format, bytes: Vec<u8>, n: usize, k: usize) -> Self {
        let row = format.row_bytes(k);
        assert_eq!(bytes.len(), n * row, "{format:?} bytes of {n} × {k}");
        let blocks = k / QK;
        let mut scales = Vec::with_capacity(n * blocks);
        let mut offsets = Vec::new();
        for r in bytes.chunks_exact(row.max(1)).take(n) {
            match format {
                Format::Q8_0 | Format::Q4_0 | Format::Q5_0 => {
                    let size = row / blocks;
                    scales.extend((0..blocks).map(|b| f16_at(r, b * size)));
                }
                Format::Q4_1 => {
                    for b in 0..blocks {
                        scales.push(f16_at(r, b * 20));
                        offsets.push(f16_at(r, b * 20 + 2));
                    }
                }
                Format::Q4K => {
                    for sb in r.chunks_exact(144) {
                        let (d, dmin) = (f16_at(sb, 0), f16_at(sb, 2));
                        for j in 0..QK_K / QK {
                            let (sc, m) = q4k_scale_min(j, &sb[4..16]);
                            scales.push(d * f32::from(sc));
                            offsets.push(-dmin * f32::from(m));
                        }
                    }
                }
            }
        }
        Self {
            format,
            bytes,
            scales,
            offsets,
            n,
            k,
        }
    }

    /// The block format.
    pub fn format(&self) -> Format {
        self.format
    }

    pub(super) fn row(&self, r: usize) -> &[u8] {
        let len = self.format.row_bytes(self.k);
        &self.bytes[r * len..(r + 1) * len]
    }
}

/// The 32 integers of block `b` of one weight row, in input order. Weight value
/// `i` of the block is `scale · q[i] + offset`.
pub fn unpack(format: Format, row: &[u8], b: usize) -> [i8; QK] {
    let mut q = [0i8; QK];
    match format {
        Format::Q8_0 => {
            for (o, &v) in q.iter_mut().zip(&row[b * 34 + 2..b * 34 + 34]) {
                *o = v as i8;
            }
        }
        Format::Q4_0 | Format::Q4_1 => {
            let (size, at) = if format == Format::Q4_0 {
                (18, 2)
            } else {
                (20, 4)
            };
            let bias = if format == Format::Q4_0 { 8 } else { 0 };
            let qs = &row[b * size + at..b * size + at + 16];
            for (i, &v) in qs.iter().enumerate() {
                // Element i in the low nibble of byte i, element i + 16 in its high one.
                q[i] = (v & 0x0F) as i8 - bias;
                q[i + 16] = (v >> 4) as i8 - bias;
            }
        }
        Format::Q5_0 => {
            let block = &row[b * 22..b * 22 + 22];
            let high = u32::from_le_bytes([block[2], block[3], block[4], block[5]]);
            for (i, &v) in block[6..].iter().enumerate() {
                // Bit e of the 32-bit word is the 5th bit of element e.
                let h0 = ((high >> i) & 1) as u8;
                let h1 = ((high >> (i + 16)) & 1) as u8;
                q[i] = ((v & 0x0F) | (h0 << 4)) as i8 - 16;
                q[i + 16] = ((v >> 4) | (h1 << 4)) as i8 - 16;
            }
        }
        Format::Q4K => {
            // Sub-block j of super-block s: bytes 32·(j/2).. of its nibbles, the low
            // nibbles for even j, the high ones for odd j.
            let (s, j) = (b / 8, b % 8);
            let qs = &row[s * 144 + 16 + 32 * (j / 2)..][..32];
            let shift = 4 * (j % 2);
            for (o, &v) in q.iter_mut().zip(qs) {
                *o = ((v >> shift) & 0x0F) as i8;
            }
        }
    }
    q
}

/// `m × k` activations quantized per block for one weight format's dot products.
#[derive(Clone, Debug)]
pub struct Activations {
    /// The i8 values widened to i16, row-major `m × k`.
    pub(super) q: Vec<i16>,
    /// Per 32-value block: the scale (`x ≈ scale · q`), `m × k / 32`.
    pub(super) scales: Vec<f32>,
    /// Per 32-value block: `scale · Σ q`, for the weight offsets.
    sums: Vec<f32>,
    pub(super) m: usize,
    pub(super) k: usize,
}

/// candle's `f32::round` (half away from zero) from `trunc`, which wasm has as one
/// instruction and which vectorises; equal to `round` for every finite value.
#[inline(always)]
fn round_away(v: f32) -> f32 {
    let t = v.trunc();
    if (v - t).abs() >= 0.5 {
        t + 1f32.copysign(v)
    } else {
        t
    }
}

impl Activations {
    /// Quantizes row-major `m × k` activations as candle does for `format`'s dot product:
    /// Q8_0 blocks for the 32-weight formats, Q8_K blocks for Q4_K.
    pub fn quantize(x: &[f32], k: usize, format: Format) -> Self {
        assert!(k > 0 && k.is_multiple_of(QK), "input width {k}");
        let m = x.len() / k;
        let mut q = vec![0i16; m * k];
        let mut scales = vec![0f32; m * k / QK];
        match format {
            Format::Q4K => {
                assert!(k.is_multiple_of(QK_K), "input width {k}");
                for ((src, dst), d) in x
                    .chunks_exact(QK_K)
                    .zip(q.chunks_exact_mut(QK_K))
                    .zip(scales.chunks_exact_mut(QK_K / QK))
                {
                    d.fill(quantize_q8k(src, dst));
                }
            }
            _ => {
                for ((src, dst), d) in x
                    .chunks_exact(QK)
                    .zip(q.chunks_exact_mut(QK))
                    .zip(scales.iter_mut())
                {
                    *d = quantize_q8_0(src, dst);
                }
            }
        }
        let sums = q
            .chunks_exact(QK)
            .zip(&scales)
            .map(|(b, &d)| d * b.iter().map(|&v| i32::from(v)).sum::<i32>() as f32)
            .collect();
        Self {
            q,
            scales,
            sums,
            m,
            k,
        }
    }

    fn row(&self, r: usize) -> (&[i16], &[f32]) {
        let nb = self.k / QK;
        (
            &self.q[r * self.k..(r + 1) * self.k],
            &self.scales[r * nb..(r + 1) * nb],
        )
    }
}

/// candle's `BlockQ8_0::from_float` for one block: `d = max|x| / 127` (used rounded to
/// f16, as candle stores it), `q = round(x / d)`. Returns the scale.
fn quantize_q8_0(x: &[f32], out: &mut [i16]) -> f32 {
    let amax = x.iter().fold(0f32, |a, &v| a.max(v.abs()));
    let d = amax / 127.0;
    let inv = if d != 0.0 { 1.0 / d } else { 0.0 };
    for (o, &v) in out.iter_mut().zip(x) {
        *o = round_away(v * inv) as i16;
    }
    f16::from_f32(d).to_f32()
}

/// candle's `BlockQ8K::from_float` for one 256-value block: the value of largest
/// magnitude (the first one) maps to -127, `q = clamp(round(x · -127 / max))`. Returns
/// the scale `max / -127` (0 for an all-zero block).
fn quantize_q8k(x: &[f32], out: &mut [i16]) -> f32 {
    let (mut amax, mut max) = (0f32, 0f32);
    for &v in x {
        if amax < v.abs() {
            amax = v.abs();
            max = v;
        }
    }
    if amax == 0.0 {
        out.fill(0);
        return 0.0;
    }
    let iscale = -127.0 / max;
    for (o, &v) in out.iter_mut().zip(x) {
        *o = round_away(iscale * v).clamp(-128.0, 127.0) as i16;
    }
    1.0 / iscale
}

/// `x · wᵀ`: `m × n` f32, row-major.
pub fn matmul(x: &Activations, w: &Weights) -> Vec<f32> {
    assert_eq!(x.k, w.k, "input width");
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let mut y = super::ggml_simd::matmul(x, w);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let mut y = matmul_scalar(x, w);
    add_offsets(x, w, &mut y);
    y
}

/// The reference: per block an exact i32 dot product, one multiply by both scales, an
/// f32 sum in block order. Offsets are added by the caller.
pub fn matmul_scalar(x: &Activations, w: &Weights) -> Vec<f32> {
    let (m, n, nb) = (x.m, w.n, w.k / QK);
    let mut y = vec![0f32; m * n];
    for col in 0..n {
        let row = w.row(col);
        let sw = &w.scales[col * nb..(col + 1) * nb];
        let blocks: Vec<[i8; QK]> = (0..nb).map(|b| unpack(w.format, row, b)).collect();
        for r in 0..m {
            let (xq, dx) = x.row(r);
            let mut acc = 0f32;
            for (b, wq) in blocks.iter().enumerate() {
                let dot: i32 = wq
                    .iter()
                    .zip(&xq[b * QK..(b + 1) * QK])
                    .map(|(&a, &c)| i32::from(a) * i32::from(c))
                    .sum();
                acc += dot as f32 * (sw[b] * dx[b]);
            }
            y[r * n + col] = acc;
        }
    }
    y
}

/// `y[r][c] += Σ_b offset[c][b] · scale_x[r][b] · Σ q_x[r][b]` for Q4_1 and Q4_K.
fn add_offsets(x: &Activations, w: &Weights, y: &mut [f32]) {
    if !w.format.has_offsets() {
        return;
    }
    let (n, nb) = (w.n, w.k / QK);
    for (r, out) in y.chunks_exact_mut(n).enumerate() {
        let sums = &x.sums[r * nb..(r + 1) * nb];
        for (o, offsets) in out.iter_mut().zip(w.offsets.chunks_exact(nb)) {
            *o += offsets.iter().zip(sums).map(|(a, b)| a * b).sum::<f32>();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::quantized::QTensor;
    use candle_core::{Device, Tensor};

    fn values(len: usize, seed: u32) -> Vec<f32> {
        let mut s = seed;
        (0..len)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                ((s >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 2.0
            })
            .collect()
    }

    #[test]
    fn unpacked_blocks_times_scales_are_candles_dequantized_weights() {
        for dtype in [
            GgmlDType::Q8_0,
            GgmlDType::Q4_0,
            GgmlDType::Q4_1,
            GgmlDType::Q5_0,
            GgmlDType::Q4K,
        ] {
            let (n, k) = (3, 512);
            let t = Tensor::from_vec(values(n * k, 7), (n, k), &Device::Cpu).unwrap();
            let q = QTensor::quantize(&t, dtype).unwrap();
            let want: Vec<f32> = q
                .dequantize(&Device::Cpu)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let format = Format::of(dtype).unwrap();
            let w = Weights::new(format, q.data().unwrap().to_vec(), n, k);
            for r in 0..n {
                for b in 0..k / QK {
                    let ints = unpack(format, w.row(r), b);
                    let i = r * (k / QK) + b;
                    let off = w.offsets.get(i).copied().unwrap_or(0.0);
                    for (e, &v) in ints.iter().enumerate() {
                        let got = w.scales[i] * f32::from(v) + off;
                        let exp = want[r * k + b * QK + e];
                        assert!(
                            (got - exp).abs() <= 1e-6 * exp.abs().max(1.0),
                            "{dtype:?} [{r}][{}]: {got} vs {exp}",
                            b * QK + e
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        for v in [
            0.5f32,
            -0.5,
            1.5,
            -2.5,
            0.49999997,
            -0.49999997,
            126.5,
            3.0,
            0.0,
        ] {
            assert_eq!(round_away(v), v.round(), "{v}");
        }
    }
}
