//! The integer heart of dynamic int8: `acc[m][n] = Σ_k x[m][k] · w[n][k]` in exact i32,
//! and the per-call quantization of the activations that feed it.
//!
//! Both operands are i16 (activations are 0..=255, weights -128..=127), so every product
//! and every pairwise sum of `madd`/`dot_i16x8` fits in i32 exactly and the result is the
//! same bit for bit on every path: AVX512-VNNI natively when the CPU has it (u8 × i8, in
//! `int8_vnni`), else AVX2 (both detected at run time), simd128 in the browser (relaxed
//! SIMD's 8-bit dot product in a build with that feature, `int8_relaxed`), and a plain
//! loop elsewhere.
//!
//! Layout, chosen so the inner loop only streams memory it fully uses:
//! - weights are packed once, when quantizing, into panels of [`NR`] output rows; inside a
//!   panel the rows are interleaved in chunks of [`KC`] inputs (`[k / KC][NR][KC]`), so one
//!   step of the loop reads `NR · KC` contiguous i16;
//! - activations are quantized once per call straight into i16 rows padded to the packed
//!   width, with the row count padded to a multiple of [`MR`];
//! - zero padding (in k, in rows, in output rows) adds 0 to every sum.
//!
//! The register block is `MR × NR` = 2 × 4: eight accumulators plus two activation and
//! four weight vectors fill 14 of the 16 vector registers that V8 (xmm) and AVX2 (ymm)
//! have, so nothing spills; a 4 × 4 block (16 accumulators) did spill in V8 and ran at
//! half speed. Panels are the outer loop: one panel (≤ 12 KB for k = 1536) stays in L1
//! while every activation row streams past it.

use std::ops::Range;

/// Output rows (weight rows) per panel.
pub const NR: usize = 4;
/// Activation rows per register block.
pub const MR: usize = 2;
/// Inputs per interleaved chunk: one AVX2 vector, two simd128 vectors of i16.
pub const KC: usize = 16;

/// `n × k` int8 weights widened to i16 and packed into panels (see the module doc), or,
/// on a CPU with AVX512-VNNI, kept as i8 in that kernel's panels (`int8_vnni`).
#[derive(Clone, Debug)]
pub struct PackedWeights {
    data: Vec<i16>,
    #[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
    relaxed: Vec<i8>,
    #[cfg(target_arch = "x86_64")]
    vnni: Option<Vec<i8>>,
    n: usize,
    k: usize,
}

impl PackedWeights {
    /// Packs row-major `n × k` weights.
    pub fn pack(w: &[i8], n: usize, k: usize) -> Self {
        assert_eq!(w.len(), n * k, "weight shape");
        #[cfg(target_arch = "x86_64")]
        if super::int8_vnni::available() {
            return Self {
                data: Vec::new(),
                vnni: Some(super::int8_vnni::pack(w, n, k, padded_width(k))),
                n,
                k,
            };
        }
        #[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
        return Self {
            data: Vec::new(),
            relaxed: super::int8_relaxed::pack(w, n, k),
            n,
            k,
        };
        #[allow(unreachable_code)]
        Self::pack_i16(w, n, k)
    }

    /// The i16 panels, whatever the CPU.
    fn pack_i16(w: &[i8], n: usize, k: usize) -> Self {
        let kp = padded_width(k);
        let panels = n.div_ceil(NR);
        let mut data = vec![0i16; panels * NR * kp];
        for (row, values) in w.chunks_exact(k.max(1)).enumerate().take(n) {
            let (panel, lane) = (row / NR, row % NR);
            let base = panel * NR * kp;
            for (i, &v) in values.iter().enumerate() {
                let (chunk, within) = (i / KC, i % KC);
                data[base + chunk * NR * KC + lane * KC + within] = i16::from(v);
            }
        }
        Self {
            data,
            #[cfg(target_arch = "x86_64")]
            vnni: None,
            #[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
            relaxed: Vec::new(),
            n,
            k,
        }
    }

    fn panel(&self, p: usize) -> &[i16] {
        let len = NR * padded_width(self.k);
        &self.data[p * len..(p + 1) * len]
    }
}

/// What quantizing one activation costs, in multiply-adds of this kernel (as
/// `crate::parallel` counts work): a multiply, a rounding, an add, a clamp and a narrow
/// per value, about a third of a LayerNorm's (estimated from their operations; not timed
/// alone).
pub(super) const QUANTIZE_COST: usize = 8;

/// Width of a packed row: `k` rounded up to a whole chunk.
pub fn padded_width(k: usize) -> usize {
    k.div_ceil(KC) * KC
}

/// Activations quantized to i16 rows of the packed width (and, in the relaxed-SIMD
/// build, as that kernel's 7-bit operand, made once for every layer that reads them).
#[derive(Clone, Debug)]
pub struct Activations {
    data: Vec<i16>,
    #[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
    clamped: super::int8_relaxed::Clamped,
    m: usize,
    k: usize,
}

impl Activations {
    /// Quantizes `m × k` activations: `clamp(rne(x · inv_scale) + zero_point, 0, 255)`.
    pub fn quantize(x: &[f32], k: usize, inv_scale: f32, zero_point: i32) -> Self {
        let m = x.len().checked_div(k).unwrap_or(0);
        let kp = padded_width(k);
        let mut data = vec![0i16; m.div_ceil(MR) * MR * kp];
        // Row by row, so the rows can be shared by a forward's team (`crate::parallel`).
        let rows = &mut data[..m * kp];
        crate::parallel::chunks_mut(rows, kp, m * k * QUANTIZE_COST, |start, chunk| {
            let first = start / kp;
            let src = x[first * k..].chunks_exact(k.max(1));
            for (src, dst) in src.zip(chunk.chunks_exact_mut(kp.max(1))) {
                quantize_row(src, &mut dst[..k], inv_scale, zero_point);
            }
        });
        Self {
            #[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
            clamped: super::int8_relaxed::Clamped::new(&data, m, kp),
            data,
            m,
            k,
        }
    }

    fn row(&self, r: usize) -> &[i16] {
        let kp = padded_width(self.k);
        &self.data[r * kp..(r + 1) * kp]
    }
}

/// `x · wᵀ`: `m × n` exact dot products, row-major; the output columns are split across
/// threads (`crate::parallel`) in whole panels of either layout. (The layers call
/// [`matmul_then`]; this is what the tests check.)
#[cfg(test)]
pub fn matmul(x: &Activations, w: &PackedWeights) -> Vec<i32> {
    matmul_then(x, w, |_, sums, out| out.copy_from_slice(sums))
}

/// [`matmul`], each block of output columns handed to `finish(cols, sums, out)` on the
/// thread that computed it (`sums` and `out` are `m × cols.len()`, row-major), so that
/// what follows the product (the requantization) is split across threads too.
pub fn matmul_then<T, F>(x: &Activations, w: &PackedWeights, finish: F) -> Vec<T>
where
    T: Copy + Default + Send,
    F: Fn(Range<usize>, &[i32], &mut [T]) + Sync,
{
    assert_eq!(x.k, w.k, "input width");
    let m = x.m;
    let (align, sums) = column_sums(x, w);
    crate::parallel::by_columns(m, w.n, align, m * w.n * x.k, |cols, out| {
        let mut block = vec![0i32; m * cols.len()];
        sums(cols.clone(), &mut block);
        finish(cols, &block, out);
    })
}

/// Fills `m × cols.len()` dot products for the output columns `cols`.
type ColumnSums<'a> = Box<dyn Fn(Range<usize>, &mut [i32]) + Sync + 'a>;

/// The kernel this CPU and build run, with its activations prepared once for every
/// block, and the column alignment its blocks need.
fn column_sums<'a>(x: &'a Activations, w: &'a PackedWeights) -> (usize, ColumnSums<'a>) {
    #[cfg(target_arch = "x86_64")]
    if let Some(panels) = &w.vnni {
        let (m, kp) = (x.m, padded_width(x.k));
        // The quantized activations are 0..=255: as u8 they are the kernel's operand.
        let bytes: Vec<u8> = x.data[..m * kp].iter().map(|&v| v as u8).collect();
        let rows = super::int8_vnni::ROWS;
        return (
            rows,
            Box::new(move |cols, out| {
                let panels = &panels[cols.start / rows * rows * kp..];
                // SAFETY: `vnni` is only packed when the CPU has the instructions; `cols`
                // starts on a panel, so the slice starts with that panel.
                unsafe { super::int8_vnni::matmul(&bytes, m, kp, panels, cols.len(), out) };
            }),
        );
    }
    #[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
    return (
        NR,
        Box::new(move |cols, out| super::int8_relaxed::matmul(&x.clamped, &w.relaxed, cols, out)),
    );
    #[allow(unreachable_code)]
    (
        NR,
        Box::new(move |cols, out| matmul_columns(x, w, cols, out)),
    )
}

/// The output columns `cols` (starting on a panel) into `out`, `m × cols.len()`.
fn matmul_columns(x: &Activations, w: &PackedWeights, cols: Range<usize>, out: &mut [i32]) {
    let (m, width) = (x.m, cols.len());
    for p in cols.start / NR..cols.end.div_ceil(NR) {
        let panel = w.panel(p);
        let first = p * NR - cols.start;
        let take = NR.min(cols.end - p * NR);
        for r in (0..m).step_by(MR) {
            let block = block(std::array::from_fn(|i| x.row(r + i)), panel);
            for (i, sums) in block.iter().enumerate().take(m - r) {
                let at = (r + i) * width + first;
                out[at..at + take].copy_from_slice(&sums[..take]);
            }
        }
    }
}

/// `MR` activation rows against one panel: `out[i][j] = x[i] · w[j]`.
fn block(x: [&[i16]; MR], panel: &[i16]) -> [[i32; NR]; MR] {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 is present (checked above); the rows and the panel share one
        // padded width, a multiple of KC.
        return unsafe { x86::block_avx2(x, panel) };
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return wasm::block_simd128(x, panel);
    #[allow(unreachable_code)]
    block_scalar(x, panel)
}

fn block_scalar(x: [&[i16]; MR], panel: &[i16]) -> [[i32; NR]; MR] {
    let mut out = [[0i32; NR]; MR];
    for (chunk, w) in panel.chunks_exact(NR * KC).enumerate() {
        for (row, xr) in x.iter().enumerate() {
            let xs = &xr[chunk * KC..(chunk + 1) * KC];
            for (col, wc) in w.chunks_exact(KC).enumerate() {
                out[row][col] += xs
                    .iter()
                    .zip(wc)
                    .map(|(&a, &b)| i32::from(a) * i32::from(b))
                    .sum::<i32>();
            }
        }
    }
    out
}

/// Smallest and largest value, NaN ignored (as `f32::min`/`max` fold them).
pub fn min_max(x: &[f32]) -> (f32, f32) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 is present (checked above).
        return unsafe { x86::min_max_avx2(x) };
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return wasm::min_max_simd128(x);
    #[allow(unreachable_code)]
    min_max_scalar(x)
}

fn min_max_scalar(x: &[f32]) -> (f32, f32) {
    x.iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

fn quantize_row(x: &[f32], out: &mut [i16], inv: f32, zp: i32) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 is present (checked above); both slices have one length.
        return unsafe { x86::quantize_row_avx2(x, out, inv, zp) };
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return wasm::quantize_row_simd128(x, out, inv, zp);
    #[allow(unreachable_code)]
    quantize_row_scalar(x, out, inv, zp)
}

fn quantize_row_scalar(x: &[f32], out: &mut [i16], inv: f32, zp: i32) {
    for (o, &v) in out.iter_mut().zip(x) {
        // Round first, then add the zero point (fbgemm's order; see int8.rs).
        *o = ((v * inv).round_ties_even() as i32 + zp).clamp(0, 255) as i16;
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{min_max_scalar, quantize_row_scalar, KC, MR, NR};

    /// # Safety
    /// The CPU must support AVX2; every row is as long as the panel's width.
    #[target_feature(enable = "avx2")]
    pub unsafe fn block_avx2(x: [&[i16]; MR], panel: &[i16]) -> [[i32; NR]; MR] {
        let mut acc = [[_mm256_setzero_si256(); NR]; MR];
        for (chunk, w) in panel.chunks_exact(NR * KC).enumerate() {
            // SAFETY: each chunk holds NR · KC i16 and each row (chunk + 1) · KC or more.
            let (wv, xv) = unsafe {
                (
                    std::array::from_fn::<_, NR, _>(|c| {
                        _mm256_loadu_si256(w.as_ptr().add(c * KC) as *const __m256i)
                    }),
                    x.map(|r| _mm256_loadu_si256(r.as_ptr().add(chunk * KC) as *const __m256i)),
                )
            };
            for (a, xr) in acc.iter_mut().zip(&xv) {
                for (cell, wc) in a.iter_mut().zip(&wv) {
                    *cell = _mm256_add_epi32(*cell, _mm256_madd_epi16(*xr, *wc));
                }
            }
        }
        acc.map(|[a0, a1, a2, a3]| {
            // Three horizontal adds leave the four column sums in both 128-bit halves.
            let h = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
            let s = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256::<1>(h));
            let mut lanes = [0i32; NR];
            // SAFETY: `lanes` holds exactly one 128-bit vector.
            unsafe { _mm_storeu_si128(lanes.as_mut_ptr() as *mut __m128i, s) };
            lanes
        })
    }

    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub unsafe fn min_max_avx2(x: &[f32]) -> (f32, f32) {
        let body = x.len() - x.len() % 8;
        let mut lo = _mm256_set1_ps(f32::INFINITY);
        let mut hi = _mm256_set1_ps(f32::NEG_INFINITY);
        for i in (0..body).step_by(8) {
            // SAFETY: i + 8 <= body <= x.len().
            let v = unsafe { _mm256_loadu_ps(x.as_ptr().add(i)) };
            // The new value first: min_ps returns the second operand when one is NaN.
            lo = _mm256_min_ps(v, lo);
            hi = _mm256_max_ps(v, hi);
        }
        let (mut l, mut h) = ([0f32; 8], [0f32; 8]);
        // SAFETY: each array holds exactly one 256-bit vector.
        unsafe {
            _mm256_storeu_ps(l.as_mut_ptr(), lo);
            _mm256_storeu_ps(h.as_mut_ptr(), hi);
        }
        let (tl, th) = min_max_scalar(&x[body..]);
        (
            l.iter().fold(tl, |a, &b| a.min(b)),
            h.iter().fold(th, |a, &b| a.max(b)),
        )
    }

    /// # Safety
    /// The CPU must support AVX2; `x` and `out` have one length.
    #[target_feature(enable = "avx2")]
    pub unsafe fn quantize_row_avx2(x: &[f32], out: &mut [i16], inv: f32, zp: i32) {
        let body = x.len() - x.len() % 8;
        let (inv_v, zp_v) = (_mm256_set1_ps(inv), _mm256_set1_epi32(zp));
        let (zero, top) = (_mm256_setzero_si256(), _mm256_set1_epi32(255));
        for i in (0..body).step_by(8) {
            // SAFETY: i + 8 <= body <= len of both slices.
            unsafe {
                let v = _mm256_mul_ps(_mm256_loadu_ps(x.as_ptr().add(i)), inv_v);
                // Round half to even (the default MXCSR mode, made explicit).
                let r = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(v);
                let q = _mm256_add_epi32(_mm256_cvtps_epi32(r), zp_v);
                let q = _mm256_min_epi32(_mm256_max_epi32(q, zero), top);
                // packs works per 128-bit half; the permute puts the eight values in order.
                let packed = _mm256_permute4x64_epi64::<0b1000>(_mm256_packs_epi32(q, q));
                _mm_storeu_si128(
                    out.as_mut_ptr().add(i) as *mut __m128i,
                    _mm256_castsi256_si128(packed),
                );
            }
        }
        quantize_row_scalar(&x[body..], &mut out[body..], inv, zp);
    }
}

#[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
pub(super) use wasm::reduce4;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use core::arch::wasm32::*;

    use super::super::simd_sum::transpose_sum;
    use super::{min_max_scalar, quantize_row_scalar, KC, MR, NR};

    /// # Safety
    /// `i + 8` must not exceed `s.len()`.
    unsafe fn load(s: &[i16], i: usize) -> v128 {
        // SAFETY: in bounds by the caller's promise; v128_load allows unaligned addresses.
        unsafe { v128_load(s.as_ptr().add(i) as *const v128) }
    }

    /// Four vectors of four partial sums → the four totals.
    pub fn reduce4(v: [v128; NR]) -> [i32; NR] {
        let s = transpose_sum(v, i32x4_add);
        [
            i32x4_extract_lane::<0>(s),
            i32x4_extract_lane::<1>(s),
            i32x4_extract_lane::<2>(s),
            i32x4_extract_lane::<3>(s),
        ]
    }

    /// An `MR × NR` block with `i32x4.dot_i16x8_s` (8 multiply-adds per instruction).
    pub fn block_simd128(x: [&[i16]; MR], panel: &[i16]) -> [[i32; NR]; MR] {
        let mut acc = [[i32x4_splat(0); NR]; MR];
        for (chunk, w) in panel.chunks_exact(NR * KC).enumerate() {
            for half in [0, KC / 2] {
                // SAFETY: w holds NR · KC i16 and each row (chunk + 1) · KC or more.
                let (wv, xv) = unsafe {
                    (
                        std::array::from_fn::<_, NR, _>(|c| load(w, c * KC + half)),
                        x.map(|r| load(r, chunk * KC + half)),
                    )
                };
                for (a, xr) in acc.iter_mut().zip(&xv) {
                    for (cell, wc) in a.iter_mut().zip(&wv) {
                        *cell = i32x4_add(*cell, i32x4_dot_i16x8(*xr, *wc));
                    }
                }
            }
        }
        acc.map(reduce4)
    }

    pub fn min_max_simd128(x: &[f32]) -> (f32, f32) {
        let body = x.len() - x.len() % 4;
        let mut lo = f32x4_splat(f32::INFINITY);
        let mut hi = f32x4_splat(f32::NEG_INFINITY);
        for i in (0..body).step_by(4) {
            // SAFETY: i + 4 <= body <= x.len(); v128_load allows unaligned addresses.
            let v = unsafe { v128_load(x.as_ptr().add(i) as *const v128) };
            // pmin(a, b) is `b < a ? b : a`: a NaN in v keeps the running value.
            lo = f32x4_pmin(lo, v);
            hi = f32x4_pmax(hi, v);
        }
        let (tl, th) = min_max_scalar(&x[body..]);
        let l = [
            f32x4_extract_lane::<0>(lo),
            f32x4_extract_lane::<1>(lo),
            f32x4_extract_lane::<2>(lo),
            f32x4_extract_lane::<3>(lo),
        ];
        let h = [
            f32x4_extract_lane::<0>(hi),
            f32x4_extract_lane::<1>(hi),
            f32x4_extract_lane::<2>(hi),
            f32x4_extract_lane::<3>(hi),
        ];
        (
            l.iter().fold(tl, |a, &b| a.min(b)),
            h.iter().fold(th, |a, &b| a.max(b)),
        )
    }

    pub fn quantize_row_simd128(x: &[f32], out: &mut [i16], inv: f32, zp: i32) {
        let body = x.len() - x.len() % 8;
        let (inv_v, zp_v) = (f32x4_splat(inv), i32x4_splat(zp));
        let (zero, top) = (i32x4_splat(0), i32x4_splat(255));
        let quarter = |v: v128| {
            // nearest = round half to even; trunc_sat of an integral value is exact.
            let q = i32x4_add(
                i32x4_trunc_sat_f32x4(f32x4_nearest(f32x4_mul(v, inv_v))),
                zp_v,
            );
            i32x4_min(i32x4_max(q, zero), top)
        };
        for i in (0..body).step_by(8) {
            // SAFETY: i + 8 <= body <= len of both slices; unaligned access is allowed.
            unsafe {
                let a = quarter(v128_load(x.as_ptr().add(i) as *const v128));
                let b = quarter(v128_load(x.as_ptr().add(i + 4) as *const v128));
                v128_store(
                    out.as_mut_ptr().add(i) as *mut v128,
                    i16x8_narrow_i32x4(a, b),
                );
            }
        }
        quantize_row_scalar(&x[body..], &mut out[body..], inv, zp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator: the test needs varied values, not randomness.
    fn values(len: usize, seed: u32, lo: i32, hi: i32) -> Vec<i32> {
        let mut s = seed;
        (0..len)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                lo + (s >> 8) as i32 % (hi - lo + 1)
            })
            .collect()
    }

    /// Activations whose quantization is the identity (scale 1, zero point 0).
    fn activations(q: &[i32], k: usize) -> Activations {
        let x: Vec<f32> = q.iter().map(|&v| v as f32).collect();
        Activations::quantize(&x, k, 1.0, 0)
    }

    #[test]
    fn every_path_equals_the_plain_sum_exactly() {
        // Odd sizes exercise the padding of rows, panels and chunks.
        for &(m, n, k) in &[
            (1, 3, 5),
            (4, 8, 16),
            (7, 5, 37),
            (9, 33, 384),
            (3, 2, 1536),
            (8, 8, 100),
            (64, 13, 256),
        ] {
            let x = values(m * k, 1, 0, 255);
            let w: Vec<i8> = values(n * k, 2, -128, 127)
                .iter()
                .map(|&v| v as i8)
                .collect();
            let got = matmul(&activations(&x, k), &PackedWeights::pack(&w, n, k));
            for r in 0..m {
                for c in 0..n {
                    let want: i32 = (0..k).map(|i| x[r * k + i] * i32::from(w[c * k + i])).sum();
                    assert_eq!(got[r * n + c], want, "({m},{n},{k}) at [{r}][{c}]");
                }
            }
        }
    }

    #[test]
    fn many_threads_give_the_one_thread_sums_bit_for_bit() {
        // Large enough to be split (≥ parallel::MIN_WORK); n not a multiple of a panel.
        let (m, n, k) = (33, 75, 4000);
        assert!(m * n * k >= crate::parallel::MIN_WORK);
        let x = activations(&values(m * k, 5, 0, 255), k);
        let w: Vec<i8> = values(n * k, 6, -128, 127)
            .iter()
            .map(|&v| v as i8)
            .collect();
        let on = |threads: usize, packed: &PackedWeights| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| matmul(&x, packed))
        };
        let mut layouts = vec![PackedWeights::pack_i16(&w, n, k)];
        layouts.push(PackedWeights::pack(&w, n, k));
        for packed in &layouts {
            let one = on(1, packed);
            for threads in [2, 3, 4] {
                assert_eq!(on(threads, packed), one, "{threads} threads");
            }
            let want: i32 = (0..k)
                .map(|i| x.row(32)[i] as i32 * i32::from(w[74 * k + i]))
                .sum();
            assert_eq!(one[32 * n + 74], want);
        }
    }

    #[test]
    fn vnni_and_i16_panels_give_the_same_sums() {
        #[cfg(target_arch = "x86_64")]
        if super::super::int8_vnni::available() {
            let (m, n, k) = (37, 70, 300);
            let x = activations(&values(m * k, 3, 0, 255), k);
            let w: Vec<i8> = values(n * k, 4, -128, 127)
                .iter()
                .map(|&v| v as i8)
                .collect();
            let vnni = PackedWeights::pack(&w, n, k);
            assert!(vnni.vnni.is_some(), "pack chooses VNNI on this CPU");
            assert_eq!(
                matmul(&x, &vnni),
                matmul(&x, &PackedWeights::pack_i16(&w, n, k))
            );
            return;
        }
        eprintln!("no AVX512-VNNI here: the i16 path is the only one");
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        // The largest magnitudes: 255 · -128 summed over the widest input we accept.
        let k = 4 * 8192;
        let x = vec![255; 3 * k];
        let w = vec![-128i8; 5 * k];
        let got = matmul(&activations(&x, k), &PackedWeights::pack(&w, 5, k));
        assert_eq!(got.len(), 15);
        assert!(got.iter().all(|&v| v == 255 * -128 * k as i32));
    }

    #[test]
    fn vector_quantization_equals_the_scalar_formula() {
        // Exact .5 ties at both parities, values past both clamps, NaN-free tails.
        let x: Vec<f32> = (0..203).map(|i| (i as f32 - 100.0) * 0.25 + 0.5).collect();
        for &(inv, zp) in &[(1.0, 0), (2.0, 64), (4.0, 127), (0.3, 10)] {
            let got = Activations::quantize(&x, x.len(), inv, zp);
            let mut want = vec![0i16; x.len()];
            quantize_row_scalar(&x, &mut want, inv, zp);
            assert_eq!(&got.row(0)[..x.len()], &want[..], "inv {inv} zp {zp}");
            assert!(got.row(0)[x.len()..].iter().all(|&v| v == 0), "padding");
        }
        assert!(want_has_ties(&x), "the data must contain ties");
        assert_eq!(min_max(&x), min_max_scalar(&x));
        let mut with_nan = x.clone();
        with_nan[17] = f32::NAN;
        assert_eq!(min_max(&with_nan), min_max_scalar(&x));
    }

    fn want_has_ties(x: &[f32]) -> bool {
        x.iter().any(|v| v.fract().abs() == 0.5)
    }
}
