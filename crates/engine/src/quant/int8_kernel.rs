//! The integer heart of dynamic int8: `acc[m][n] = Σ_k x[m][k] · w[n][k]` in exact i32.
//!
//! Both operands are widened to i16 (activations are 0..=255, weights -128..=127), so
//! every product and every pairwise sum of `madd`/`dot_i16x8` fits in i32 exactly and
//! the result is the same bit for bit on every path: AVX2 natively (detected at run
//! time), simd128 in the browser, and a plain loop elsewhere. Four activation rows share
//! each pass over a weight row, so a weight row is read from memory once per four rows.

/// Rows of activations computed together against one weight row.
const TILE: usize = 4;

/// `x` is `m × k` (row-major), `w` is `n × k`; returns `m × n` exact dot products.
pub fn matmul(x: &[i16], w: &[i16], m: usize, n: usize, k: usize) -> Vec<i32> {
    assert_eq!(x.len(), m * k, "activation shape");
    assert_eq!(w.len(), n * k, "weight shape");
    let mut out = vec![0i32; m * n];
    let mut row = 0;
    while row < m {
        let rows = TILE.min(m - row);
        for (col, wrow) in w.chunks_exact(k).enumerate() {
            let mut xs: [&[i16]; TILE] = [&[]; TILE];
            for (t, slot) in xs.iter_mut().enumerate().take(rows) {
                *slot = &x[(row + t) * k..(row + t + 1) * k];
            }
            let sums = dot_tile(&xs[..rows], wrow);
            for t in 0..rows {
                out[(row + t) * n + col] = sums[t];
            }
        }
        row += rows;
    }
    out
}

/// Dot products of up to [`TILE`] rows with one weight row.
fn dot_tile(xs: &[&[i16]], w: &[i16]) -> [i32; TILE] {
    #[cfg(target_arch = "x86_64")]
    if xs.len() == TILE && std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 is present (checked above); slices are all w.len() long.
        return unsafe { x86::dot4_avx2([xs[0], xs[1], xs[2], xs[3]], w) };
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if xs.len() == TILE {
        return wasm::dot4_simd128([xs[0], xs[1], xs[2], xs[3]], w);
    }
    let mut sums = [0i32; TILE];
    for (s, x) in sums.iter_mut().zip(xs) {
        *s = dot_scalar(x, w);
    }
    sums
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

    /// # Safety
    /// The CPU must support AVX2, and every `x[i]` must be as long as `w`.
    #[target_feature(enable = "avx2")]
    pub unsafe fn dot4_avx2(x: [&[i16]; TILE], w: &[i16]) -> [i32; TILE] {
        let k = w.len();
        let body = k - k % 16;
        let mut acc = [_mm256_setzero_si256(); TILE];
        let mut i = 0;
        while i < body {
            // SAFETY: i + 16 <= body <= k, and every slice has k elements.
            unsafe {
                let wv = _mm256_loadu_si256(w.as_ptr().add(i) as *const __m256i);
                for t in 0..TILE {
                    let xv = _mm256_loadu_si256(x[t].as_ptr().add(i) as *const __m256i);
                    acc[t] = _mm256_add_epi32(acc[t], _mm256_madd_epi16(xv, wv));
                }
            }
            i += 16;
        }
        let mut out = [0i32; TILE];
        for t in 0..TILE {
            let mut lanes = [0i32; 8];
            // SAFETY: lanes holds exactly one 256-bit vector.
            unsafe { _mm256_storeu_si256(lanes.as_mut_ptr() as *mut __m256i, acc[t]) };
            out[t] = lanes.iter().sum::<i32>() + dot_scalar(&x[t][body..], &w[body..]);
        }
        out
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use core::arch::wasm32::*;

    use super::{dot_scalar, TILE};

    /// Four rows against one weight row with `i32x4.dot_i16x8_s` (8 multiply-adds each).
    pub fn dot4_simd128(x: [&[i16]; TILE], w: &[i16]) -> [i32; TILE] {
        let k = w.len();
        let body = k - k % 8;
        let mut acc = [i32x4_splat(0); TILE];
        let mut i = 0;
        while i < body {
            // SAFETY: i + 8 <= body <= k; v128_load allows unaligned addresses.
            let wv = unsafe { v128_load(w.as_ptr().add(i) as *const v128) };
            for t in 0..TILE {
                let xv = unsafe { v128_load(x[t].as_ptr().add(i) as *const v128) };
                acc[t] = i32x4_add(acc[t], i32x4_dot_i16x8(xv, wv));
            }
            i += 8;
        }
        let mut out = [0i32; TILE];
        for t in 0..TILE {
            let a = acc[t];
            out[t] = i32x4_extract_lane::<0>(a)
                + i32x4_extract_lane::<1>(a)
                + i32x4_extract_lane::<2>(a)
                + i32x4_extract_lane::<3>(a)
                + dot_scalar(&x[t][body..], &w[body..]);
        }
        out
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
        // Odd sizes exercise the tile remainder and the vector tails.
        for &(m, n, k) in &[
            (1, 3, 5),
            (4, 8, 16),
            (7, 5, 37),
            (9, 33, 384),
            (3, 2, 1536),
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
        // The largest magnitudes: 255 · -128 summed over the widest FFN input we accept.
        let k = 4 * 8192;
        let x = vec![255i16; 4 * k];
        let w = vec![-128i16; k];
        let got = matmul(&x, &w, 4, 1, k);
        assert!(got.iter().all(|&v| v == 255 * -128 * k as i32));
    }
}
