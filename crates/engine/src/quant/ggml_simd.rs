//! The simd128 path of [`super::ggml_kernel`]: the same arithmetic as its scalar
//! reference, four activation rows at a time.
//!
//! Per 32-weight block the weight integers are unpacked once into four i16x8 vectors
//! (nibbles split with `and`/`shr`, Q5_0's 5th bits spread from its 32-bit word with a
//! byte shuffle and a bit-mask compare, the format's bias subtracted in i8, then sign
//! extended), and used for [`MR`] activation rows: per row four `i32x4.dot_i16x8_s`
//! (8 multiply-adds each, exact in i32), three adds, then one f32 convert, one multiply
//! by `weight scale · activation scale` and one add into the row's f32x4 accumulator.
//!
//! Loop order: row tiles outside, weight rows inside, so a tile of activations
//! (`MR × k` i16, 4 KB for k = 512) stays in L1 while the weights stream past it once per
//! tile; a weight row of the student (k ≤ 512) is 144–544 bytes.

use core::arch::wasm32::*;

use super::ggml_kernel::{Activations, Format, Weights, QK};

/// Activation rows per unpacked weight block: 4 accumulators, 4 weight vectors and the
/// temporaries stay within the 16 registers V8 allocates.
const MR: usize = 4;

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

/// Two vectors of 16 i8 (inputs 0..16 and 16..32) as four i16x8.
#[inline(always)]
fn widen(lo: v128, hi: v128) -> [v128; 4] {
    [
        i16x8_extend_low_i8x16(lo),
        i16x8_extend_high_i8x16(lo),
        i16x8_extend_low_i8x16(hi),
        i16x8_extend_high_i8x16(hi),
    ]
}

/// Block `b` of a weight row in format `F`, as four i16x8 vectors in input order.
///
/// # Safety
/// `row` must hold the whole block.
#[inline(always)]
unsafe fn unpack<const F: u8>(row: *const u8, b: usize) -> [v128; 4] {
    let low = u8x16_splat(0x0F);
    // SAFETY (every load below): the block lies inside the row, by the caller.
    unsafe {
        match F {
            Q8_0 => {
                let p = row.add(b * 34 + 2);
                widen(load(p), load(p.add(16)))
            }
            Q4_0 => {
                let v = load(row.add(b * 18 + 2));
                let eight = i8x16_splat(8);
                widen(
                    i8x16_sub(v128_and(v, low), eight),
                    i8x16_sub(u8x16_shr(v, 4), eight),
                )
            }
            Q4_1 => {
                let v = load(row.add(b * 20 + 4));
                widen(v128_and(v, low), u8x16_shr(v, 4))
            }
            Q5_0 => {
                let p = row.add(b * 22);
                let v = load(p.add(6));
                // The four bytes of 5th bits in every lane; byte e/8 holds element e's
                // bit at position e % 8.
                let h = v128_load32_splat(p.add(2) as *const u32);
                let bits = u8x16(1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);
                let lo_h = i8x16_shuffle::<0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1>(h, h);
                let hi_h = i8x16_shuffle::<2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3>(h, h);
                let lo_set = i8x16_eq(v128_and(lo_h, bits), bits);
                let hi_set = i8x16_eq(v128_and(hi_h, bits), bits);
                // (nibble | bit << 4) - 16 = nibble - (bit set ? 0 : 16).
                let sixteen = i8x16_splat(16);
                widen(
                    i8x16_sub(v128_and(v, low), v128_andnot(sixteen, lo_set)),
                    i8x16_sub(u8x16_shr(v, 4), v128_andnot(sixteen, hi_set)),
                )
            }
            _ => {
                // Q4K: sub-block j of super-block s is the low (even j) or high (odd j)
                // nibbles of 32 bytes at 16 + 32 · (j / 2).
                let (s, j) = (b / 8, b % 8);
                let p = row.add(s * 144 + 16 + 32 * (j / 2));
                let (a, c) = (load(p), load(p.add(16)));
                if j % 2 == 0 {
                    widen(v128_and(a, low), v128_and(c, low))
                } else {
                    widen(u8x16_shr(a, 4), u8x16_shr(c, 4))
                }
            }
        }
    }
}

fn hsum(v: v128) -> f32 {
    (f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<1>(v))
        + (f32x4_extract_lane::<2>(v) + f32x4_extract_lane::<3>(v))
}

/// `R` activation rows (i16 values `x[i]`, block scales `dx[i]`) against one weight row.
///
/// # Safety
/// Every `x[i]` holds `32 · nb` values; `dx[i]` and `sw` hold `nb`; `row` holds `nb`
/// blocks of format `F`.
#[inline(always)]
unsafe fn tile<const F: u8, const R: usize>(
    row: *const u8,
    sw: *const f32,
    x: [*const i16; R],
    dx: [*const f32; R],
    nb: usize,
) -> [f32; R] {
    let mut acc = [f32x4_splat(0.0); R];
    for b in 0..nb {
        // SAFETY: b < nb, within every slice by the caller's promise.
        unsafe {
            let [w0, w1, w2, w3] = unpack::<F>(row, b);
            let s = *sw.add(b);
            for (a, (xr, dr)) in acc.iter_mut().zip(x.iter().zip(&dx)) {
                let p = xr.add(b * QK);
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
                let scale = f32x4_splat(s * *dr.add(b));
                *a = f32x4_add(*a, f32x4_mul(f32x4_convert_i32x4(d), scale));
            }
        }
    }
    acc.map(hsum)
}

/// `x · wᵀ` without the weight offsets (the caller adds them).
pub fn matmul(x: &Activations, w: &Weights) -> Vec<f32> {
    match w.format {
        Format::Q8_0 => run::<Q8_0>(x, w),
        Format::Q4_0 => run::<Q4_0>(x, w),
        Format::Q4_1 => run::<Q4_1>(x, w),
        Format::Q5_0 => run::<Q5_0>(x, w),
        Format::Q4K => run::<Q4K>(x, w),
    }
}

fn run<const F: u8>(x: &Activations, w: &Weights) -> Vec<f32> {
    let (m, n, k) = (x.m, w.n, w.k);
    let nb = k / QK;
    assert_eq!(x.k, k, "input width");
    assert!(
        x.q.len() >= m * k && x.scales.len() >= m * nb,
        "activations"
    );
    assert!(
        w.bytes.len() >= n * w.format.row_bytes(k) && w.scales.len() >= n * nb,
        "weights"
    );
    let mut y = vec![0f32; m * n];
    let mut r = 0;
    while r < m {
        let tile_rows = if m - r >= MR { MR } else { 1 };
        let xs: [*const i16; MR] =
            std::array::from_fn(|i| x.q[(r + i.min(tile_rows - 1)) * k..].as_ptr());
        let ds: [*const f32; MR] =
            std::array::from_fn(|i| x.scales[(r + i.min(tile_rows - 1)) * nb..].as_ptr());
        for col in 0..n {
            let row = w.row(col).as_ptr();
            let sw = w.scales[col * nb..].as_ptr();
            if tile_rows == MR {
                // SAFETY: the asserts above; rows r..r + MR exist.
                let out = unsafe { tile::<F, MR>(row, sw, xs, ds, nb) };
                for (i, v) in out.into_iter().enumerate() {
                    y[(r + i) * n + col] = v;
                }
            } else {
                // SAFETY: as above, for row r.
                let [v] = unsafe { tile::<F, 1>(row, sw, [xs[0]], [ds[0]], nb) };
                y[r * n + col] = v;
            }
        }
        r += tile_rows;
    }
    y
}
