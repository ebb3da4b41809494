//! The integer heart of dynamic int8: `acc[m][n] = Σ_k x[m][k] · w[n][k]` in exact i32.
//!
//! Both operands are widened to i16 (activations are 0..=255, weights -128..=127), so
//! every product and every pairwise sum of `madd`/`dot_i16x8` fits in i32 exactly and
//! the result is the same bit for bit on every path: AVX2 natively (detected at run
//! time), simd128 in the browser, and a plain loop elsewhere.
//!
//! Work is cut into 4 × 4 tiles (four activation rows against four weight rows), so each
//! vector loaded from memory feeds four multiply-adds; leftover rows and columns use the
//! one-by-one dot product.

/// Rows (and columns) of one tile.
const TILE: usize = 4;

/// `x` is `m × k` (row-major), `w` is `n × k`; returns `m × n` exact dot products.
pub fn matmul(x: &[i16], w: &[i16], m: usize, n: usize, k: usize) -> Vec<i32> {
    assert_eq!(x.len(), m * k, "activation shape");
    assert_eq!(w.len(), n * k, "weight shape");
    let mut out = vec![0i32; m * n];
    let row = |r: usize| &x[r * k..(r + 1) * k];
    let col = |c: usize| &w[c * k..(c + 1) * k];
    let (full_rows, full_cols) = (m - m % TILE, n - n % TILE);
    for r in (0..full_rows).step_by(TILE) {
        let xs = [row(r), row(r + 1), row(r + 2), row(r + 3)];
        for c in (0..full_cols).step_by(TILE) {
            let tile = dot_tile(xs, [col(c), col(c + 1), col(c + 2), col(c + 3)]);
            for (t, sums) in tile.iter().enumerate() {
                out[(r + t) * n + c..(r + t) * n + c + TILE].copy_from_slice(sums);
            }
        }
        for c in full_cols..n {
            for (t, x) in xs.iter().enumerate() {
                out[(r + t) * n + c] = dot(x, col(c));
            }
        }
    }
    for r in full_rows..m {
        for c in 0..n {
            out[r * n + c] = dot(row(r), col(c));
        }
    }
    out
}

/// Four rows against four columns: `out[i][j] = x[i] · w[j]`.
fn dot_tile(x: [&[i16]; TILE], w: [&[i16]; TILE]) -> [[i32; TILE]; TILE] {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 is present (checked above); all slices have one length.
        return unsafe { x86::tile_avx2(x, w) };
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return wasm::tile_simd128(x, w);
    #[allow(unreachable_code)]
    x.map(|xr| w.map(|wr| dot_scalar(xr, wr)))
}

/// One row against one column, vectorised where the target allows.
fn dot(x: &[i16], w: &[i16]) -> i32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 is present (checked above); both slices have one length.
        return unsafe { x86::dot_avx2(x, w) };
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return wasm::dot_simd128(x, w);
    #[allow(unreachable_code)]
    dot_scalar(x, w)
}

fn dot_scalar(x: &[i16], w: &[i16]) -> i32 {
    x.iter()
        .zip(w)
        .map(|(&a, &b)| i32::from(a) * i32::from(b))
        .sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{dot_scalar, TILE};

    /// Sum of the eight i32 lanes.
    #[target_feature(enable = "avx2")]
    fn hsum(v: __m256i) -> i32 {
        let mut lanes = [0i32; 8];
        // SAFETY: `lanes` holds exactly one 256-bit vector.
        unsafe { _mm256_storeu_si256(lanes.as_mut_ptr() as *mut __m256i, v) };
        lanes.iter().sum()
    }

    /// # Safety
    /// The CPU must support AVX2, and every slice must be as long as `w[0]`.
    #[target_feature(enable = "avx2")]
    pub unsafe fn tile_avx2(x: [&[i16]; TILE], w: [&[i16]; TILE]) -> [[i32; TILE]; TILE] {
        let k = w[0].len();
        let body = k - k % 16;
        let mut acc = [[_mm256_setzero_si256(); TILE]; TILE];
        let mut i = 0;
        while i < body {
            // SAFETY: i + 16 <= body <= k, and every slice has k elements.
            let (xv, wv) = unsafe {
                (
                    x.map(|r| _mm256_loadu_si256(r.as_ptr().add(i) as *const __m256i)),
                    w.map(|c| _mm256_loadu_si256(c.as_ptr().add(i) as *const __m256i)),
                )
            };
            for (a, xr) in acc.iter_mut().zip(&xv) {
                for (cell, wc) in a.iter_mut().zip(&wv) {
                    *cell = _mm256_add_epi32(*cell, _mm256_madd_epi16(*xr, *wc));
                }
            }
            i += 16;
        }
        let mut out = [[0i32; TILE]; TILE];
        for r in 0..TILE {
            for c in 0..TILE {
                out[r][c] = hsum(acc[r][c]) + dot_scalar(&x[r][body..], &w[c][body..]);
            }
        }
        out
    }

    /// # Safety
    /// The CPU must support AVX2, and `x` and `w` must have one length.
    #[target_feature(enable = "avx2")]
    pub unsafe fn dot_avx2(x: &[i16], w: &[i16]) -> i32 {
        let body = w.len() - w.len() % 16;
        let mut acc = _mm256_setzero_si256();
        let mut i = 0;
        while i < body {
            // SAFETY: i + 16 <= body <= len of both slices.
            unsafe {
                let xv = _mm256_loadu_si256(x.as_ptr().add(i) as *const __m256i);
                let wv = _mm256_loadu_si256(w.as_ptr().add(i) as *const __m256i);
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(xv, wv));
            }
            i += 16;
        }
        hsum(acc) + dot_scalar(&x[body..], &w[body..])
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use core::arch::wasm32::*;

    use super::{dot_scalar, TILE};

    fn hsum(v: v128) -> i32 {
        i32x4_extract_lane::<0>(v)
            + i32x4_extract_lane::<1>(v)
            + i32x4_extract_lane::<2>(v)
            + i32x4_extract_lane::<3>(v)
    }

    /// # Safety
    /// `i + 8` must not exceed `s.len()`.
    unsafe fn load(s: &[i16], i: usize) -> v128 {
        // SAFETY: in bounds by the caller's promise; v128_load allows unaligned addresses.
        unsafe { v128_load(s.as_ptr().add(i) as *const v128) }
    }

    /// A 4 × 4 tile with `i32x4.dot_i16x8_s` (8 multiply-adds per instruction).
    pub fn tile_simd128(x: [&[i16]; TILE], w: [&[i16]; TILE]) -> [[i32; TILE]; TILE] {
        let k = w[0].len();
        let body = k - k % 8;
        let mut acc = [[i32x4_splat(0); TILE]; TILE];
        let mut i = 0;
        while i < body {
            // SAFETY: i + 8 <= body <= k, the length of every slice.
            let (xv, wv) = unsafe { (x.map(|r| load(r, i)), w.map(|c| load(c, i))) };
            for (a, xr) in acc.iter_mut().zip(&xv) {
                for (cell, wc) in a.iter_mut().zip(&wv) {
                    *cell = i32x4_add(*cell, i32x4_dot_i16x8(*xr, *wc));
                }
            }
            i += 8;
        }
        let mut out = [[0i32; TILE]; TILE];
        for r in 0..TILE {
            for c in 0..TILE {
                out[r][c] = hsum(acc[r][c]) + dot_scalar(&x[r][body..], &w[c][body..]);
            }
        }
        out
    }

    /// One row against one column.
    pub fn dot_simd128(x: &[i16], w: &[i16]) -> i32 {
        let body = w.len() - w.len() % 8;
        let mut acc = i32x4_splat(0);
        let mut i = 0;
        while i < body {
            // SAFETY: i + 8 <= body <= len of both slices.
            let (xv, wv) = unsafe { (load(x, i), load(w, i)) };
            acc = i32x4_add(acc, i32x4_dot_i16x8(xv, wv));
            i += 8;
        }
        hsum(acc) + dot_scalar(&x[body..], &w[body..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator: the test needs varied values, not randomness.
    fn values(len: usize, seed: u32, lo: i32, hi: i32) -> Vec<i16> {
        let mut s = seed;
        (0..len)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (lo + (s >> 8) as i32 % (hi - lo + 1)) as i16
            })
            .collect()
    }

    #[test]
    fn every_path_equals_the_plain_sum_exactly() {
        // Odd sizes exercise the tile edges and the vector tails.
        for &(m, n, k) in &[
            (1, 3, 5),
            (4, 8, 16),
            (7, 5, 37),
            (9, 33, 384),
            (3, 2, 1536),
            (8, 8, 100),
        ] {
            let x = values(m * k, 1, 0, 255);
            let w = values(n * k, 2, -128, 127);
            let got = matmul(&x, &w, m, n, k);
            for r in 0..m {
                for c in 0..n {
                    let want = dot_scalar(&x[r * k..(r + 1) * k], &w[c * k..(c + 1) * k]);
                    assert_eq!(got[r * n + c], want, "({m},{n},{k}) at [{r}][{c}]");
                }
            }
        }
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        // The largest magnitudes: 255 · -128 summed over the widest input we accept.
        let k = 4 * 8192;
        let x = vec![255i16; 4 * k];
        let w = vec![-128i16; 4 * k];
        let got = matmul(&x, &w, 4, 4, k);
        assert!(got.iter().all(|&v| v == 255 * -128 * k as i32));
    }
}
