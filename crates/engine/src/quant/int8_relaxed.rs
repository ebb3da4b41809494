//! The int8 matmul with relaxed SIMD (wasm, cargo feature `relaxed-simd`):
//! `i32x4.relaxed_dot_i8x16_i7x16_add_s` multiplies 16 i8 weights by 16 activations and
//! adds them in fours into four i32 sums, twice the pairs of `i32x4.dot_i16x8_s`.
//!
//! Its second operand is 7-bit: a lane with the high bit set gives an implementation's
//! choice of result. The activations are torch's reduce_range quint8, 0..=127 almost
//! always, but one value can round up to 128 (x = max with a zero point rounded up, e.g.
//! the range [-1, 1]: 63.5 + 63.5 → 64 + 64). So the activations go in clamped to 127,
//! and the few values above it are put right afterwards, exactly: for each one, its excess
//! times the weight column is added to its row's sums. Every sum stays the exact integer
//! the other paths compute, bit for bit.
//!
//! Layout: the weights as i8 in the i16 path's panels (`[k / KC][NR][KC]`, one 16-byte
//! load per row and chunk), the same 2 × 4 register block.
//!
//! Only [`block`] is compiled with the `relaxed-simd` target feature (the rest of the
//! module, and every other crate, as the simd128 build), so this build reuses the other's
//! compiled dependencies; the module it ends up in needs a browser with relaxed SIMD.

use core::arch::wasm32::*;
use std::ops::Range;

use super::int8_kernel::{padded_width, reduce4, KC, MR, NR};

/// Packs row-major `n × k` weights into i8 panels, rows padded to the packed width.
pub fn pack(w: &[i8], n: usize, k: usize) -> Vec<i8> {
    let kp = padded_width(k);
    let mut data = vec![0i8; n.div_ceil(NR) * NR * kp];
    for (row, values) in w.chunks_exact(k.max(1)).enumerate().take(n) {
        for (i, &v) in values.iter().enumerate() {
            data[index(row, i, kp)] = v;
        }
    }
    data
}

/// Where weight `[row][i]` sits in the packed panels.
fn index(row: usize, i: usize, kp: usize) -> usize {
    (row / NR) * NR * kp + (i / KC) * NR * KC + (row % NR) * KC + i % KC
}

/// The activations as the instruction's 7-bit operand: `m` rows (padded to whole
/// blocks of [`MR`]) of the packed width `kp`, each value clamped to 0..=127, and what the
/// clamping took off: (row, input, excess).
#[derive(Clone, Debug)]
pub struct Clamped {
    bytes: Vec<u8>,
    excess: Vec<(usize, usize, i32)>,
    m: usize,
    kp: usize,
}

impl Clamped {
    /// From `m` rows of the packed width `kp` holding 0..=255 in i16.
    pub fn new(x: &[i16], m: usize, kp: usize) -> Self {
        assert!(x.len() >= m.div_ceil(MR) * MR * kp);
        let mut bytes = vec![0u8; m.div_ceil(MR) * MR * kp];
        // Whole rows per chunk, shared by a forward's team (`crate::parallel`). The
        // corrections are integer adds: their order changes no sum.
        let excess = std::sync::Mutex::new(Vec::new());
        // A clamp and a compare per value: half of quantizing one.
        let work = x.len() * super::int8_kernel::QUANTIZE_COST / 2;
        crate::parallel::chunks_mut(&mut bytes, kp, work, |start, chunk| {
            let x = &x[start..start + chunk.len()];
            for (b, &v) in chunk.iter_mut().zip(x) {
                *b = v.clamp(0, 127) as u8;
            }
            let over = x.iter().enumerate().filter(|&(_, &v)| v > 127);
            let found: Vec<_> = over
                .map(|(at, &v)| ((start + at) / kp, (start + at) % kp, i32::from(v) - 127))
                .collect();
            if !found.is_empty() {
                excess
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(found);
            }
        });
        Self {
            bytes,
            excess: excess.into_inner().unwrap_or_else(|e| e.into_inner()),
            m,
            kp,
        }
    }
}

/// `out[r][j] = Σ_i x[r][i] · w[cols.start + j][i]`: the output columns `cols` (starting
/// on a panel) of the packed weights `w` against the activations `x`; `out` is
/// `m × cols.len()`, row-major.
pub fn matmul(x: &Clamped, w: &[i8], cols: Range<usize>, out: &mut [i32]) {
    let (m, kp, width) = (x.m, x.kp, cols.len());
    assert!(cols.start.is_multiple_of(NR) && w.len() >= cols.end.div_ceil(NR) * NR * kp);
    assert!(out.len() >= m * width);
    for p in cols.start / NR..cols.end.div_ceil(NR) {
        let panel = &w[p * NR * kp..(p + 1) * NR * kp];
        let first = p * NR - cols.start;
        let take = NR.min(cols.end - p * NR);
        for r in (0..m).step_by(MR) {
            let rows: [&[u8]; MR] =
                std::array::from_fn(|i| &x.bytes[(r + i) * kp..(r + i + 1) * kp]);
            let sums = block(rows, panel);
            for (i, s) in sums.iter().enumerate().take(m - r) {
                let at = (r + i) * width + first;
                out[at..at + take].copy_from_slice(&s[..take]);
            }
        }
    }
    for &(row, i, e) in &x.excess {
        for (o, c) in out[row * width..(row + 1) * width]
            .iter_mut()
            .zip(cols.clone())
        {
            *o += e * i32::from(w[index(c, i, kp)]);
        }
    }
}

/// `MR` rows of 7-bit activations against one panel of `NR` weight rows.
#[target_feature(enable = "relaxed-simd")]
fn block(x: [&[u8]; MR], panel: &[i8]) -> [[i32; NR]; MR] {
    let mut acc = [[i32x4_splat(0); NR]; MR];
    for (chunk, w) in panel.chunks_exact(NR * KC).enumerate() {
        // SAFETY: w holds NR · KC bytes, each row (chunk + 1) · KC or more; v128_load
        // allows unaligned addresses.
        let (wv, xv) = unsafe {
            (
                std::array::from_fn::<_, NR, _>(|c| {
                    v128_load(w.as_ptr().add(c * KC) as *const v128)
                }),
                x.map(|r| v128_load(r.as_ptr().add(chunk * KC) as *const v128)),
            )
        };
        for (a, xr) in acc.iter_mut().zip(&xv) {
            for (cell, wc) in a.iter_mut().zip(&wv) {
                *cell = i32x4_relaxed_dot_i8x16_i7x16_add(*wc, *xr, *cell);
            }
        }
    }
    acc.map(reduce4)
}
