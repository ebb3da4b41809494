//! The int8 matmul with AVX512-VNNI (x86_64, detected at run time), the instruction
//! fbgemm uses: `vpdpbusd` multiplies 64 u8 × i8 pairs and adds them in groups of four
//! into sixteen i32 sums, exactly (each product fits i16, four of them fit i32).
//! Activations here are quint8 (0..=255), so no range restriction applies.
//!
//! Layout: weights in panels of [`ROWS`] output rows; inside a panel, for every group of
//! four inputs, the 16 rows' four bytes side by side (`[k / 4][ROWS][4]`): one 64-byte
//! load feeds one instruction. Each activation row contributes its four bytes broadcast
//! to all lanes. A register block is [`MR`] activation rows × [`PANELS`] panels:
//! 8 accumulators of the 32 zmm registers, 2 weight loads and 4 broadcasts per 512
//! multiply-adds.

use std::arch::x86_64::*;

/// Output rows per panel: one zmm of i32 sums.
pub const ROWS: usize = 16;
/// Panels per register block.
const PANELS: usize = 2;
/// Activation rows per register block.
const MR: usize = 4;

/// Whether this CPU has the instructions (AVX512F + BW + VNNI).
pub fn available() -> bool {
    is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vnni")
}

/// Packs row-major `n × k` weights into panels with rows `kp` wide (`kp ≥ k`, a multiple
/// of 4); padding is zero.
pub fn pack(w: &[i8], n: usize, k: usize, kp: usize) -> Vec<i8> {
    debug_assert!(kp >= k && kp.is_multiple_of(4));
    let mut data = vec![0i8; n.div_ceil(ROWS) * ROWS * kp];
    for (row, values) in w.chunks_exact(k.max(1)).enumerate().take(n) {
        let base = (row / ROWS) * ROWS * kp + (row % ROWS) * 4;
        for (i, &v) in values.iter().enumerate() {
            data[base + (i / 4) * ROWS * 4 + i % 4] = v;
        }
    }
    data
}

/// `out[r][c] = Σ_i x[r][i] · w[c][i]` for `m` rows of `kp` bytes in `x` and `n` packed
/// weight rows in `w`; `out` is `m × n`, row-major.
///
/// # Safety
/// The CPU must have AVX512F, AVX512BW and AVX512-VNNI ([`available`]).
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
pub unsafe fn matmul(x: &[u8], m: usize, kp: usize, w: &[i8], n: usize, out: &mut [i32]) {
    let panels = n.div_ceil(ROWS);
    let panel_len = ROWS * kp;
    assert!(x.len() >= m * kp && w.len() >= panels * panel_len && out.len() >= m * n);
    if m == 0 {
        return;
    }
    for p0 in (0..panels).step_by(PANELS) {
        let np = PANELS.min(panels - p0);
        for r0 in (0..m).step_by(MR) {
            // Rows past the end repeat the last row; their sums are not stored.
            let rows: [*const u8; MR] =
                std::array::from_fn(|i| x[(r0 + i).min(m - 1) * kp..].as_ptr());
            let mut acc = [[_mm512_setzero_si512(); PANELS]; MR];
            for q in 0..kp / 4 {
                // SAFETY: panel p0 + j < panels holds panel_len bytes; q · 64 + 64 ≤
                // panel_len; each row holds kp bytes and q · 4 + 4 ≤ kp.
                unsafe {
                    let wv: [__m512i; PANELS] = std::array::from_fn(|j| {
                        if j < np {
                            _mm512_loadu_si512(
                                w.as_ptr().add((p0 + j) * panel_len + q * ROWS * 4).cast(),
                            )
                        } else {
                            _mm512_setzero_si512()
                        }
                    });
                    for (a, row) in acc.iter_mut().zip(rows) {
                        let xb = _mm512_set1_epi32(row.add(q * 4).cast::<i32>().read_unaligned());
                        for (cell, wj) in a.iter_mut().zip(wv) {
                            *cell = _mm512_dpbusd_epi32(*cell, xb, wj);
                        }
                    }
                }
            }
            for (i, a) in acc.iter().enumerate().take(m - r0) {
                for (j, &sums) in a.iter().enumerate().take(np) {
                    let col = (p0 + j) * ROWS;
                    let cols = ROWS.min(n - col);
                    let mut lanes = [0i32; ROWS];
                    // SAFETY: `lanes` holds exactly one 512-bit vector.
                    unsafe { _mm512_storeu_si512(lanes.as_mut_ptr().cast(), sums) };
                    let at = (r0 + i) * n + col;
                    out[at..at + cols].copy_from_slice(&lanes[..cols]);
                }
            }
        }
    }
}
