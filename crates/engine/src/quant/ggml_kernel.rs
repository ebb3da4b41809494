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

/// The order activations are stored in inside each block of 32: `LANES[p]` is the input
/// index at position `p`. It is the order in which the vector path gets weights out of
/// the blocks without byte shuffles: read as eight 16-bit lanes, 16 bytes hold the even
/// inputs in their low bytes (or low nibbles) and the odd ones in their high bytes, so
/// shifts and masks on i16 lanes yield inputs 0, 2, …, 14, then 1, 3, …, 15 (then the
/// same for 16..32, from the next 16 bytes or from the high nibbles).
pub const LANES: [usize; QK] = {
    let mut lanes = [0; QK];
    let mut p = 0;
    while p < QK {
        let (half, within) = (p / 16, p % 16);
        lanes[p] = half * 16
            + if within < 8 {
                2 * within
            } else {
                2 * (within - 8) + 1
            };
        p += 1;
    }
    lanes
};

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
    /// The i8 values widened to i16, row-major `m × k`, each block of 32 in [`LANES`]
    /// order.
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
        let mut sums = vec![0f32; m * k / QK];
        let blocks = x
            .chunks_exact(QK)
            .zip(q.chunks_exact_mut(QK))
            .zip(scales.iter_mut().zip(sums.iter_mut()));
        if format == Format::Q4K {
            assert!(k.is_multiple_of(QK_K), "input width {k}");
            // candle's BlockQ8K::from_float: the first value of largest magnitude maps to
            // -127; one scale `max / -127` per 256 values (0 for an all-zero block).
            let mut inv = 0f32;
            let mut scale = 0f32;
            for (i, ((src, dst), (d, sum))) in blocks.enumerate() {
                if i % (QK_K / QK) == 0 {
                    let start = i * QK;
                    let whole = &x[start..start + QK_K];
                    let amax = abs_max(whole);
                    (scale, inv) = match whole.iter().find(|v| v.abs() == amax) {
                        Some(&max) if amax > 0.0 => {
                            let iscale = -127.0 / max;
                            (1.0 / iscale, iscale)
                        }
                        _ => (0.0, 0.0),
                    };
                }
                *d = scale;
                *sum = scale * quantize_block(src, inv, dst) as f32;
            }
        } else {
            // candle's BlockQ8_0::from_float: `d = max|x| / 127`, `q = round(x / d)`, and d
            // stored (so used) as f16.
            for ((src, dst), (d, sum)) in blocks {
                let amax = abs_max(src);
                let exact = amax / 127.0;
                let inv = if exact != 0.0 { 1.0 / exact } else { 0.0 };
                *d = f16::from_f32(exact).to_f32();
                *sum = *d * quantize_block(src, inv, dst) as f32;
            }
        }
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

/// The largest `|x|`.
fn abs_max(x: &[f32]) -> f32 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return super::ggml_simd::abs_max(x);
    #[allow(unreachable_code)]
    x.iter().fold(0f32, |a, &v| a.max(v.abs()))
}

/// One block of 32: `q = clamp(round(x · inv), -128, 127)` (round half away from zero, as
/// candle's `f32::round`), written in [`LANES`] order; returns `Σ q`.
fn quantize_block(x: &[f32], inv: f32, out: &mut [i16]) -> i32 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return super::ggml_simd::quantize_block(x, inv, out);
    #[allow(unreachable_code)]
    quantize_block_scalar(x, inv, out)
}

/// [`quantize_block`] one value at a time.
pub fn quantize_block_scalar(x: &[f32], inv: f32, out: &mut [i16]) -> i32 {
    let mut sum = 0;
    for (o, &i) in out[..QK].iter_mut().zip(&LANES) {
        *o = round_away(x[i] * inv).clamp(-128.0, 127.0) as i16;
        sum += i32::from(*o);
    }
    sum
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
                let dot: i32 = LANES
                    .iter()
                    .zip(&xq[b * QK..(b + 1) * QK])
                    .map(|(&i, &c)| i32::from(wq[i]) * i32::from(c))
                    .sum();
                acc += dot as f32 * (sw[b] * dx[b]);
            }
            y[r * n + col] = acc;
        }
    }
    y
}

/// `Σ a[i] · b[i]` over two slices of one length, a multiple of 4, in four running sums.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return super::ggml_simd::dot(a, b);
    #[allow(unreachable_code)]
    {
        let mut acc = [0f32; 4];
        for (a, b) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
            for i in 0..4 {
                acc[i] += a[i] * b[i];
            }
        }
        (acc[0] + acc[1]) + (acc[2] + acc[3])
    }
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
            *o += dot(offsets, sums);
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
    fn lanes_are_a_permutation_evens_first() {
        assert_eq!(&LANES[..9], &[0, 2, 4, 6, 8, 10, 12, 14, 1]);
        assert_eq!(&LANES[15..18], &[15, 16, 18]);
        let mut sorted = LANES;
        sorted.sort();
        assert!(sorted.iter().enumerate().all(|(i, &v)| i == v));
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
