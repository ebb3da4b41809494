//! The simd128 path of [`super::ggml_kernel`]: the same arithmetic as its scalar
//! reference, eight activation rows per unpacked weight block.
//!
//! Per 32-weight block the weight integers are unpacked once into four i16x8 vectors
//! with shifts and masks on 16-bit lanes only (V8 has no native 8-bit shift): bytes or
//! nibbles come out in the [`LANES`](super::ggml_kernel::LANES) order the activations
//! are stored in, Q5_0's 5th bits are tested in its 32-bit word per lane with a bit-mask
//! compare, the format's bias is subtracted in i16. Each unpacked block then serves
//! eight activation rows (two groups of four): per row four `i32x4.dot_i16x8_s` (8
//! multiply-adds each, exact in i32) and three adds; per group of four rows one
//! transposing reduction puts the four block sums in one i32x4, converted once,
//! multiplied once by `weight scale · the rows' scales` and added to the group's f32x4.
//! Live vectors: 4 weights, 4 sums, 2 accumulators and temporaries, within the 16
//! registers V8 allocates (one f32 accumulator per row, unreduced, spilled).
//!
//! Loop order: row tiles outside, weight rows inside, so a tile of activations
//! (8 × k i16, 8 KB for k = 512) stays in L1 while the weights stream past it once per
//! tile; a weight row of the student (k ≤ 512) is 144–544 bytes. Left-over rows go in a
//! tile of four, then one at a time.

use core::arch::wasm32::*;
use std::ops::Range;

use super::ggml_kernel::{Activations, Format, Weights, QK};
use super::simd_sum::transpose_sum;

const Q8_0: u8 = 0;
const Q4_0: u8 = 1;
const Q4_1: u8 = 2;
const Q5_0: u8 = 3;
const Q4K: u8 = 4;

/// # Safety
/// `p .. p + 16` must be readable.
#[inline(always)]
unsafe fn load<T>(p: *const T) -> v128 {
    // SAFETY: by the caller; v128_load allows unaligned addresses.
    unsafe { v128_load(p as *const v128) }
}

/// 16 bytes of i8 as eight i16 lanes: the even bytes (sign-extended) and the odd ones.
#[inline(always)]
fn split_bytes(v: v128) -> [v128; 2] {
    [i16x8_shr(i16x8_shl(v, 8), 8), i16x8_shr(v, 8)]
}

/// 16 bytes of nibbles as four i16x8 of 0..=15: the low nibbles of the even bytes, of
/// the odd bytes, then the high nibbles of the even bytes, of the odd bytes.
#[inline(always)]
fn split_nibbles(v: v128) -> [v128; 4] {
    let low = u16x8_splat(0x0F);
    [
        v128_and(v, low),
        v128_and(u16x8_shr(v, 8), low),
        v128_and(u16x8_shr(v, 4), low),
        u16x8_shr(v, 12),
    ]
}

/// Block `b` of a weight row in format `F`, as four i16x8 vectors in [`LANES`] order
/// (the order the activations are stored in).
///
/// [`LANES`]: super::ggml_kernel::LANES
///
/// # Safety
/// `row` must hold the whole block.
#[inline(always)]
unsafe fn unpack<const F: u8>(row: *const u8, b: usize) -> [v128; 4] {
    // SAFETY (every load below): the block lies inside the row, by the caller.
    unsafe {
        match F {
            Q8_0 => {
                let p = row.add(b * 34 + 2);
                let [a, c] = split_bytes(load(p));
                let [e, g] = split_bytes(load(p.add(16)));
                [a, c, e, g]
            }
            Q4_0 => {
                let eight = i16x8_splat(8);
                split_nibbles(load(row.add(b * 18 + 2))).map(|v| i16x8_sub(v, eight))
            }
            Q4_1 => split_nibbles(load(row.add(b * 20 + 4))),
            Q5_0 => {
                let p = row.add(b * 22);
                let h = u32::from_le_bytes([*p.add(2), *p.add(3), *p.add(4), *p.add(5)]);
                // Input e's 5th bit is bit e of h; lanes hold inputs 0, 2, …, 14 / 1, …, 15
                // (and the same + 16): test bit 2i / 2i + 1 of h's low or high half.
                let even = u16x8(1, 1 << 2, 1 << 4, 1 << 6, 1 << 8, 1 << 10, 1 << 12, 1 << 14);
                let odd = u16x8_shl(even, 1);
                let (lo, hi) = (u16x8_splat(h as u16), u16x8_splat((h >> 16) as u16));
                let sixteen = i16x8_splat(16);
                // (nibble | bit << 4) - 16 = nibble - (bit set ? 0 : 16).
                let minus =
                    |h: v128, bits: v128| v128_andnot(sixteen, i16x8_eq(v128_and(h, bits), bits));
                let [a, c, e, g] = split_nibbles(load(p.add(6)));
                [
                    i16x8_sub(a, minus(lo, even)),
                    i16x8_sub(c, minus(lo, odd)),
                    i16x8_sub(e, minus(hi, even)),
                    i16x8_sub(g, minus(hi, odd)),
                ]
            }
            _ => {
                // Q4K: sub-block j of super-block s is the low (even j) or high (odd j)
                // nibbles of 32 bytes at 16 + 32 · (j / 2).
                let (s, j) = (b / 8, b % 8);
                let p = row.add(s * 144 + 16 + 32 * (j / 2));
                let (v0, v1) = (load(p), load(p.add(16)));
                let low = u16x8_splat(0x0F);
                if j % 2 == 0 {
                    [
                        v128_and(v0, low),
                        v128_and(u16x8_shr(v0, 8), low),
                        v128_and(v1, low),
                        v128_and(u16x8_shr(v1, 8), low),
                    ]
                } else {
                    [
                        v128_and(u16x8_shr(v0, 4), low),
                        u16x8_shr(v0, 12),
                        v128_and(u16x8_shr(v1, 4), low),
                        u16x8_shr(v1, 12),
                    ]
                }
            }
        }
    }
}

/// One activation row (i16 values `x`, block scales `dx`) against one weight row, for
/// the rows left over after the tiles. Like [`tile4`] (and the scalar reference), each
/// block's integer sum is reduced exactly to one i32 before it is scaled, and the scaled
/// blocks are added in order: a row gets the same bits in a tile or alone.
///
/// # Safety
/// `x` holds `32 · nb` values; `dx` and `sw` hold `nb`; `row` holds `nb` blocks of
/// format `F`.
#[inline(always)]
unsafe fn single<const F: u8>(
    row: *const u8,
    sw: *const f32,
    x: *const i16,
    dx: *const f32,
    nb: usize,
) -> f32 {
    let mut acc = 0f32;
    for b in 0..nb {
        // SAFETY: b < nb, within every slice by the caller's promise.
        unsafe {
            let [w0, w1, w2, w3] = unpack::<F>(row, b);
            let p = x.add(b * QK);
            let d = i32x4_add(
                i32x4_add(
                    i32x4_dot_i16x8(w0, load(p)),
                    i32x4_dot_i16x8(w1, load(p.add(8))),
                ),
                i32x4_add(
                    i32x4_dot_i16x8(w2, load(p.add(16))),
                    i32x4_dot_i16x8(w3, load(p.add(24))),
                ),
            );
            let d = (i32x4_extract_lane::<0>(d) + i32x4_extract_lane::<1>(d))
                + (i32x4_extract_lane::<2>(d) + i32x4_extract_lane::<3>(d));
            acc += d as f32 * (*sw.add(b) * *dx.add(b));
        }
    }
    acc
}

/// `4 · G` activation rows against one weight row, the results in `G` f32x4 (row
/// `4g + i` in lane i of vector g): per block each group's integer sums are reduced into
/// one i32x4, converted once and scaled by `weight scale · (the four rows' scales)`, read
/// from `dx`, the tile's block scales stored block-major (`dx[4G · b + r]` = row r's).
///
/// # Safety
/// Every `x[g][i]` holds `32 · nb` values, `dx` holds `4G · nb`, `sw` holds `nb`; `row`
/// holds `nb` blocks of format `F`.
#[inline(always)]
unsafe fn tile4<const F: u8, const G: usize>(
    row: *const u8,
    sw: *const f32,
    x: [[*const i16; 4]; G],
    dx: *const f32,
    nb: usize,
) -> [v128; G] {
    let mut acc = [f32x4_splat(0.0); G];
    for b in 0..nb {
        // SAFETY: b < nb, within every slice by the caller's promise.
        unsafe {
            let [w0, w1, w2, w3] = unpack::<F>(row, b);
            let s = f32x4_splat(*sw.add(b));
            for (g, (a, xg)) in acc.iter_mut().zip(&x).enumerate() {
                let sums = xg.map(|xr| {
                    let p = xr.add(b * QK);
                    i32x4_add(
                        i32x4_add(
                            i32x4_dot_i16x8(w0, load(p)),
                            i32x4_dot_i16x8(w1, load(p.add(8))),
                        ),
                        i32x4_add(
                            i32x4_dot_i16x8(w2, load(p.add(16))),
                            i32x4_dot_i16x8(w3, load(p.add(24))),
                        ),
                    )
                });
                let scale = f32x4_mul(s, load(dx.add(4 * G * b + 4 * g)));
                *a = f32x4_add(
                    *a,
                    f32x4_mul(f32x4_convert_i32x4(transpose_sum(sums, i32x4_add)), scale),
                );
            }
        }
    }
    acc
}

/// Rows `r .. r + 4G` of `y` (`m × cols.len()`, the output columns `cols`) with
/// [`tile4`]; returns `4G`.
fn rows_of<const F: u8, const G: usize>(
    x: &Activations,
    w: &Weights,
    r: usize,
    cols: &Range<usize>,
    y: &mut [f32],
) -> usize {
    let (n, k, nb) = (cols.len(), w.k, w.k / QK);
    let rows = 4 * G;
    assert!(x.q.len() >= (r + rows) * k && x.scales.len() >= (r + rows) * nb);
    let xs: [[*const i16; 4]; G] =
        std::array::from_fn(|g| std::array::from_fn(|i| x.q[(r + 4 * g + i) * k..].as_ptr()));
    // The tile's block scales, block-major.
    let dx: Vec<f32> = (0..nb * rows)
        .map(|i| x.scales[(r + i % rows) * nb + i / rows])
        .collect();
    let mut lanes = [0f32; 4];
    for (j, col) in cols.clone().enumerate() {
        let sw = w.scales[col * nb..].as_ptr();
        // SAFETY: the asserts here and in `run`; dx holds 4G · nb.
        let out = unsafe { tile4::<F, G>(w.row(col).as_ptr(), sw, xs, dx.as_ptr(), nb) };
        for (g, v) in out.into_iter().enumerate() {
            // SAFETY: lanes holds exactly one v128.
            unsafe { v128_store(lanes.as_mut_ptr() as *mut v128, v) };
            for (i, &l) in lanes.iter().enumerate() {
                y[(r + 4 * g + i) * n + j] = l;
            }
        }
    }
    rows
}

/// `x · wᵀ` without the weight offsets (the caller adds them), its output columns
/// split across threads (`crate::parallel`).
pub fn matmul(x: &Activations, w: &Weights) -> Vec<f32> {
    crate::parallel::by_columns(x.m, w.n, 1, x.m * w.n * w.k, |cols, y| {
        matmul_columns(x, w, cols, y)
    })
}

/// The output columns `cols` of `x · wᵀ` (no offsets) into `y`, `m × cols.len()`.
pub fn matmul_columns(x: &Activations, w: &Weights, cols: Range<usize>, y: &mut [f32]) {
    match w.format {
        Format::Q8_0 => run::<Q8_0>(x, w, cols, y),
        Format::Q4_0 => run::<Q4_0>(x, w, cols, y),
        Format::Q4_1 => run::<Q4_1>(x, w, cols, y),
        Format::Q5_0 => run::<Q5_0>(x, w, cols, y),
        Format::Q4K => run::<Q4K>(x, w, cols, y),
    }
}

fn run<const F: u8>(x: &Activations, w: &Weights, cols: Range<usize>, y: &mut [f32]) {
    let (m, k) = (x.m, w.k);
    let n = cols.len();
    assert!(cols.end <= w.n && y.len() == m * n, "output columns");
    let nb = k / QK;
    assert_eq!(x.k, k, "input width");
    assert!(
        x.q.len() >= m * k && x.scales.len() >= m * nb,
        "activations"
    );
    assert!(
        w.bytes.len() >= w.n * w.format.row_bytes(k) && w.scales.len() >= w.n * nb,
        "weights"
    );
    let mut r = 0;
    while r < m {
        r += match m - r {
            left if left >= 8 => rows_of::<F, 2>(x, w, r, &cols, y),
            left if left >= 4 => rows_of::<F, 1>(x, w, r, &cols, y),
            _ => {
                let xr = x.q[r * k..].as_ptr();
                let dx = x.scales[r * nb..].as_ptr();
                for (j, col) in cols.clone().enumerate() {
                    let sw = w.scales[col * nb..].as_ptr();
                    // SAFETY: the asserts above, for row r.
                    y[r * n + j] = unsafe { single::<F>(w.row(col).as_ptr(), sw, xr, dx, nb) };
                }
                1
            }
        };
    }
}

/// The largest `|x|` (`x.len()` a multiple of 4).
pub fn abs_max(x: &[f32]) -> f32 {
    let mut m = f32x4_splat(0.0);
    for c in x.chunks_exact(4) {
        // SAFETY: c holds 4 floats.
        m = f32x4_pmax(m, f32x4_abs(unsafe { load(c.as_ptr()) }));
    }
    f32x4_extract_lane::<0>(m)
        .max(f32x4_extract_lane::<1>(m))
        .max(f32x4_extract_lane::<2>(m).max(f32x4_extract_lane::<3>(m)))
}

/// [`super::ggml_kernel`]'s block quantization, four values at a time: round half away
/// from zero as `trunc`, plus `±1` where the dropped fraction is ≥ 0.5 (exact: `v - trunc(v)`
/// has no rounding error), then the [`LANES`](super::ggml_kernel::LANES) order with two
/// lane shuffles per 16 values.
pub fn quantize_block(x: &[f32], inv: f32, out: &mut [i16]) -> i32 {
    assert!(x.len() >= QK && out.len() >= QK, "a whole block");
    let (scale, half) = (f32x4_splat(inv), f32x4_splat(0.5));
    let (sign, one) = (f32x4_splat(-0.0), f32x4_splat(1.0));
    let quad = |i: usize| {
        // SAFETY: i + 4 <= 32 <= x.len().
        let v = f32x4_mul(unsafe { load(x.as_ptr().add(i)) }, scale);
        let t = f32x4_trunc(v);
        let up = f32x4_ge(f32x4_abs(f32x4_sub(v, t)), half);
        let step = v128_and(up, v128_or(v128_and(v, sign), one));
        i32x4_trunc_sat_f32x4(f32x4_add(t, step))
    };
    let (lo, hi) = (i16x8_splat(-128), i16x8_splat(127));
    let eighth = |i: usize| i16x8_min(i16x8_max(i16x8_narrow_i32x4(quad(i), quad(i + 4)), lo), hi);
    let (n0, n1, n2, n3) = (eighth(0), eighth(8), eighth(16), eighth(24));
    let lanes = [
        i16x8_shuffle::<0, 2, 4, 6, 8, 10, 12, 14>(n0, n1),
        i16x8_shuffle::<1, 3, 5, 7, 9, 11, 13, 15>(n0, n1),
        i16x8_shuffle::<0, 2, 4, 6, 8, 10, 12, 14>(n2, n3),
        i16x8_shuffle::<1, 3, 5, 7, 9, 11, 13, 15>(n2, n3),
    ];
    for (i, v) in lanes.iter().enumerate() {
        // SAFETY: 8 · i + 8 <= 32 <= out.len().
        unsafe { v128_store(out.as_mut_ptr().add(8 * i) as *mut v128, *v) };
    }
    // |Σ of four lanes| <= 512: the i16 adds cannot overflow.
    let s = i16x8_add(i16x8_add(lanes[0], lanes[1]), i16x8_add(lanes[2], lanes[3]));
    let s = i32x4_extadd_pairwise_i16x8(s);
    i32x4_extract_lane::<0>(s)
        + i32x4_extract_lane::<1>(s)
        + i32x4_extract_lane::<2>(s)
        + i32x4_extract_lane::<3>(s)
}

/// `Σ a[i] · b[i]` in four lanes (lengths equal, a multiple of 4).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = f32x4_splat(0.0);
    for (a, b) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        // SAFETY: each chunk holds 4 floats.
        acc = f32x4_add(
            acc,
            f32x4_mul(unsafe { load(a.as_ptr()) }, unsafe { load(b.as_ptr()) }),
        );
    }
    (f32x4_extract_lane::<0>(acc) + f32x4_extract_lane::<1>(acc))
        + (f32x4_extract_lane::<2>(acc) + f32x4_extract_lane::<3>(acc))
}
