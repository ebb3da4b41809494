//! The engine's own f32 Linear product for the browser: `y[m][n] = Σ_k x[m][k] · w[n][k]`,
//! from the row-major weight candle holds ([`matmul`]) or from the same weight packed once
//! when its layer is built ([`Packed`], [`matmul_packed`]: what the browser's f32 layers
//! use), with the same bits either way.
//!
//! candle's f32 matmul packs its right-hand side on every call; at a few tokens that
//! packing costs as much as the product (a 1536 × 384 weight is re-laid out for 8 rows).
//! Here every output is a dot product of an activation row and a weight row, in a
//! register block of [`MR`] activation rows × [`NR`] weight rows: four f32 lanes per
//! partial sum, 8 accumulators plus 6 operands in the 16 vector registers V8 has, so
//! nothing spills. The weight rows of one block (NR · k floats, ≤ 24 KB at k = 1536) stay
//! in L1 while every activation row streams past them.
//!
//! The summation order is fixed and the same on every path: lane `j` sums the products
//! `i ≡ j (mod 4)` in order, the lanes are combined as `(l0 + l2) + (l1 + l3)`, then the
//! products past the last whole group of four are added in order, then the bias. No
//! multiply-add is fused, so the simd128 path and the scalar one (natively, the reference
//! the tests hold the browser to) give the same bits.

use candle_core::Tensor;

use crate::Result;

/// Whether f32 (and f16) Linear layers run on this kernel: in the browser, where
/// candle's f32 matmul is the slower one; natively candle's AVX2/FMA gemm stays.
pub const IN_USE: bool = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));

/// Activation rows per register block.
pub const MR: usize = 2;
/// Weight rows (outputs) per register block.
pub const NR: usize = 4;

/// `x · wᵀ + b` for `m = x.len() / k` rows: `x` is `m × k`, `w` is `n × k`, both
/// row-major; `bias` has `n` values. Returns `m × n`, row-major.
pub fn matmul(x: &[f32], w: &[f32], k: usize, bias: Option<&[f32]>) -> Vec<f32> {
    let m = x.len().checked_div(k).unwrap_or(0);
    let n = w.len().checked_div(k).unwrap_or(0);
    assert_eq!(x.len(), m * k, "input is not whole rows");
    assert_eq!(w.len(), n * k, "weight is not whole rows");
    if let Some(b) = bias {
        assert_eq!(b.len(), n, "bias length");
    }
    if k == 0 {
        let mut y = vec![0f32; m * n];
        add_bias(&mut y, n, bias);
        return y;
    }
    // Columns split across threads (`crate::parallel`) in whole register blocks: every
    // output's sum is the same on one thread or many.
    let mut y = crate::parallel::by_columns(m, n, NR, m * n * k, |cols, out| {
        columns(x, w, k, m, cols, out);
    });
    add_bias(&mut y, n, bias);
    y
}

/// `x · wᵀ` on the calling thread alone (no bias): for products that are already one of
/// many running side by side, such as one attention head's. Each output has the bits
/// [`matmul`] gives it.
pub fn matmul_on_this_thread(x: &[f32], w: &[f32], k: usize) -> Vec<f32> {
    let m = x.len().checked_div(k).unwrap_or(0);
    let n = w.len().checked_div(k).unwrap_or(0);
    assert_eq!(x.len(), m * k, "input is not whole rows");
    assert_eq!(w.len(), n * k, "weight is not whole rows");
    let mut y = vec![0f32; m * n];
    if k > 0 {
        columns(x, w, k, m, 0..n, &mut y);
    }
    y
}

/// A weight packed once for this kernel, for the browser's f32 layers
/// ([`super::f32_linear`]): panels of [`NR`] rows, each panel holding its rows' first
/// `k - k % 4` values as `[k / 4][NR][4]` (one 64-byte line per step of the loop), then
/// their last `k % 4` values row after row; a short last panel is padded with zero rows,
/// whose outputs are never stored. The products and their order are those of the
/// row-major weight, so the result is the same bit for bit.
///
/// Why: at a few rows the kernel waits on the weights more than it computes, and four
/// rows of a row-major weight read side by side are four short streams, which the CPU
/// prefetches worse than one. In Chromium, 8 rows through the teacher's 36 Linears took
/// 5.7–6.5 ms packed against 7.7–10.9 ms row-major (64 rows: ~36 ms both).
#[derive(Debug)]
pub struct Packed {
    data: Vec<f32>,
    n: usize,
    k: usize,
}

impl Packed {
    /// Packs a row-major `n × k` weight (`n = w.len() / k`).
    pub fn new(w: &[f32], k: usize) -> Self {
        let n = w.len().checked_div(k).unwrap_or(0);
        assert_eq!(w.len(), n * k, "weight is not whole rows");
        let body = k - k % 4;
        let mut data = vec![0f32; n.div_ceil(NR) * NR * k];
        for (r, values) in w.chunks_exact(k.max(1)).enumerate().take(n) {
            let (panel, lane) = ((r / NR) * NR * k, r % NR);
            for (i, &v) in values[..body].iter().enumerate() {
                data[panel + (i / 4) * NR * 4 + lane * 4 + i % 4] = v;
            }
            let tail = panel + NR * body + lane * (k - body);
            data[tail..tail + k - body].copy_from_slice(&values[body..]);
        }
        Self { data, n, k }
    }

    /// Output rows `n` and input width `k`.
    pub fn dims(&self) -> (usize, usize) {
        (self.n, self.k)
    }

    /// Panel `p`: `NR · k` values.
    fn panel(&self, p: usize) -> &[f32] {
        &self.data[p * NR * self.k..(p + 1) * NR * self.k]
    }
}

/// [`matmul`] on a packed weight: the same outputs, bit for bit.
pub fn matmul_packed(x: &[f32], w: &Packed, bias: Option<&[f32]>) -> Vec<f32> {
    let (n, k) = w.dims();
    let m = x.len().checked_div(k).unwrap_or(0);
    assert_eq!(x.len(), m * k, "input is not whole rows");
    if let Some(b) = bias {
        assert_eq!(b.len(), n, "bias length");
    }
    let mut y = if k == 0 {
        vec![0f32; m * n]
    } else {
        crate::parallel::by_columns(m, n, NR, m * n * k, |cols, out| {
            columns_packed(x, w, m, cols, out);
        })
    };
    add_bias(&mut y, n, bias);
    y
}

/// The output columns `cols` (starting on a register block) of `x · wᵀ` into `out`,
/// `m × cols.len()`, row-major.
fn columns(
    x: &[f32],
    w: &[f32],
    k: usize,
    m: usize,
    cols: std::ops::Range<usize>,
    out: &mut [f32],
) {
    let weight = |c: usize| &w[c * k..(c + 1) * k];
    blocks(x, k, m, cols, out, |c0, take, xs| {
        // A short last block repeats its last row; the repeats are not stored.
        block(xs, std::array::from_fn(|j| weight(c0 + j.min(take - 1))))
    });
}

/// [`columns`] on a packed weight.
fn columns_packed(x: &[f32], w: &Packed, m: usize, cols: std::ops::Range<usize>, out: &mut [f32]) {
    blocks(x, w.k, m, cols, out, |c0, _, xs| {
        block_packed(xs, w.panel(c0 / NR))
    });
}

/// Walks the register blocks of the output columns `cols`: `block(c0, take, rows)` gives
/// the sums of the `MR` activation rows against the weight rows `c0..c0 + take` (at most
/// `NR`), which land in `out`, `m × cols.len()`, row-major.
fn blocks(
    x: &[f32],
    k: usize,
    m: usize,
    cols: std::ops::Range<usize>,
    out: &mut [f32],
    block: impl Fn(usize, usize, [&[f32]; MR]) -> [[f32; NR]; MR],
) {
    let width = cols.len();
    let row = |r: usize| &x[r * k..(r + 1) * k];
    for c0 in cols.clone().step_by(NR) {
        let take = NR.min(cols.end - c0);
        for r0 in (0..m).step_by(MR) {
            let rows = MR.min(m - r0);
            let xs: [&[f32]; MR] = std::array::from_fn(|i| row(r0 + i.min(rows - 1)));
            let sums = block(c0, take, xs);
            for (i, s) in sums.iter().enumerate().take(rows) {
                let at = (r0 + i) * width + c0 - cols.start;
                out[at..at + take].copy_from_slice(&s[..take]);
            }
        }
    }
}

/// `x · wᵀ + b` on tensors with a packed weight: `x` `[..., in]`, `bias` `[out]`, both
/// read in place.
pub fn forward_packed(weight: &Packed, bias: Option<&Tensor>, x: &Tensor) -> Result<Tensor> {
    let y = crate::ops::with_values(x, "f32 kernel: input", |x| match bias {
        Some(b) => {
            crate::ops::with_values(b, "f32 kernel: bias", |b| matmul_packed(x, weight, Some(b)))
        }
        None => Ok(matmul_packed(x, weight, None)),
    })??;
    super::output_like(y, weight.n, x, "f32 kernel: output")
}

fn add_bias(y: &mut [f32], n: usize, bias: Option<&[f32]>) {
    let Some(b) = bias else { return };
    for out in y.chunks_exact_mut(n.max(1)) {
        for (o, &v) in out.iter_mut().zip(b) {
            *o += v;
        }
    }
}

/// `MR` activation rows against `NR` weight rows, all of one length.
fn block(x: [&[f32]; MR], w: [&[f32]; NR]) -> [[f32; NR]; MR] {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return wasm::block_simd128(x, w);
    #[allow(unreachable_code)]
    block_scalar(x, w)
}

/// `MR` activation rows against one panel of a [`Packed`] weight.
fn block_packed(x: [&[f32]; MR], panel: &[f32]) -> [[f32; NR]; MR] {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return wasm::block_packed_simd128(x, panel);
    #[allow(unreachable_code)]
    {
        let rows: [Vec<f32>; NR] = std::array::from_fn(|j| unpack_row(panel, x[0].len(), j));
        block_scalar(x, std::array::from_fn(|j| rows[j].as_slice()))
    }
}

/// Row `lane` of a packed panel of width `k`, as it was before packing.
fn unpack_row(panel: &[f32], k: usize, lane: usize) -> Vec<f32> {
    let body = k - k % 4;
    let mut row: Vec<f32> = (0..body)
        .map(|i| panel[(i / 4) * NR * 4 + lane * 4 + i % 4])
        .collect();
    let tail = NR * body + lane * (k - body);
    row.extend_from_slice(&panel[tail..tail + k - body]);
    row
}

/// The reference: the same four lanes and the same combining order as the vector path.
fn block_scalar(x: [&[f32]; MR], w: [&[f32]; NR]) -> [[f32; NR]; MR] {
    std::array::from_fn(|i| std::array::from_fn(|j| dot(x[i], w[j])))
}

/// One dot product in the module's fixed order.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let body = a.len() - a.len() % 4;
    let mut lanes = [0f32; 4];
    for (ca, cb) in a[..body].chunks_exact(4).zip(b[..body].chunks_exact(4)) {
        for l in 0..4 {
            lanes[l] += ca[l] * cb[l];
        }
    }
    tail(
        (lanes[0] + lanes[2]) + (lanes[1] + lanes[3]),
        &a[body..],
        &b[body..],
    )
}

/// Adds the products of the last values (past the whole groups of four), in order.
fn tail(mut sum: f32, a: &[f32], b: &[f32]) -> f32 {
    for (&va, &vb) in a.iter().zip(b) {
        sum += va * vb;
    }
    sum
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use core::arch::wasm32::*;

    use super::super::simd_sum::transpose_sum;
    use super::{tail, MR, NR};

    pub fn block_simd128(x: [&[f32]; MR], w: [&[f32]; NR]) -> [[f32; NR]; MR] {
        let k = x[0].len();
        assert!(x.iter().chain(&w).all(|r| r.len() == k), "row lengths");
        let body = k - k % 4;
        // SAFETY: every row holds k values (asserted above), so the loads of rows at
        // step 1 stay below `body`.
        unsafe { block_at(x, w.map(<[f32]>::as_ptr), 1, w.map(|r| &r[body..])) }
    }

    pub fn block_packed_simd128(x: [&[f32]; MR], panel: &[f32]) -> [[f32; NR]; MR] {
        let k = x[0].len();
        assert!(
            x.iter().all(|r| r.len() == k) && panel.len() == NR * k,
            "panel width"
        );
        let (body, rest) = (k - k % 4, k % 4);
        let tails =
            std::array::from_fn(|j| &panel[NR * body + j * rest..NR * body + (j + 1) * rest]);
        let base = panel.as_ptr();
        // SAFETY: row j's group at i sits at j · 4 + i · NR, below NR · body, inside
        // the panel (asserted above); with k < 4 there is no group and nothing is read.
        unsafe {
            block_at(
                x,
                std::array::from_fn(|j| base.wrapping_add(j * 4)),
                NR,
                tails,
            )
        }
    }

    /// The block over weight rows whose group of four at input `i` starts at
    /// `w[j] + i · step`, then each row's `tails[j]` (its last `k % 4` values).
    ///
    /// # Safety
    /// Those groups, for every `i` in steps of 4 below `k - k % 4`, must be readable.
    #[inline(always)]
    unsafe fn block_at(
        x: [&[f32]; MR],
        w: [*const f32; NR],
        step: usize,
        tails: [&[f32]; NR],
    ) -> [[f32; NR]; MR] {
        let k = x[0].len();
        let body = k - k % 4;
        let mut acc = [[f32x4_splat(0.0); NR]; MR];
        let xp = x.map(<[f32]>::as_ptr);
        for i in (0..body).step_by(4) {
            // SAFETY: i + 4 <= body <= k, the length of every activation row; the
            // weights by the caller's promise; v128_load allows unaligned addresses.
            let (xv, wv) = unsafe {
                (
                    xp.map(|p| v128_load(p.add(i) as *const v128)),
                    w.map(|p| v128_load(p.add(i * step) as *const v128)),
                )
            };
            for (a, xr) in acc.iter_mut().zip(&xv) {
                for (cell, wc) in a.iter_mut().zip(&wv) {
                    *cell = f32x4_add(*cell, f32x4_mul(*xr, *wc));
                }
            }
        }
        std::array::from_fn(|r| {
            let s = transpose_sum(acc[r], f32x4_add);
            let lanes = [
                f32x4_extract_lane::<0>(s),
                f32x4_extract_lane::<1>(s),
                f32x4_extract_lane::<2>(s),
                f32x4_extract_lane::<3>(s),
            ];
            std::array::from_fn(|c| tail(lanes[c], &x[r][body..], tails[c]))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len as u32)
            .map(|i| ((i.wrapping_mul(2654435761) ^ seed) % 1000) as f32 / 250.0 - 2.0)
            .collect()
    }

    #[test]
    fn matches_a_plain_f64_product_on_odd_shapes() {
        for (m, n, k, with_bias) in [
            (1, 1, 1, false),
            (3, 5, 7, true),
            (8, 6, 64, true),
            (5, 9, 130, false),
        ] {
            let (x, w, b) = (values(m * k, 1), values(n * k, 2), values(n, 3));
            let bias = with_bias.then_some(&b[..]);
            let y = matmul(&x, &w, k, bias);
            assert_eq!(y.len(), m * n);
            for r in 0..m {
                for c in 0..n {
                    let exact: f64 = (0..k)
                        .map(|i| f64::from(x[r * k + i]) * f64::from(w[c * k + i]))
                        .sum::<f64>()
                        + bias.map_or(0.0, |b| f64::from(b[c]));
                    let got = f64::from(y[r * n + c]);
                    assert!(
                        (got - exact).abs() <= 1e-5 * (1.0 + exact.abs()),
                        "{m}x{n}x{k} [{r}][{c}]: {got} vs {exact}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_output_is_the_fixed_order_dot_product() {
        let (m, n, k) = (5, 7, 37);
        let (x, w) = (values(m * k, 4), values(n * k, 5));
        let y = matmul(&x, &w, k, None);
        for r in 0..m {
            for c in 0..n {
                let d = dot(&x[r * k..(r + 1) * k], &w[c * k..(c + 1) * k]);
                assert_eq!(y[r * n + c].to_bits(), d.to_bits(), "[{r}][{c}]");
            }
        }
    }

    #[test]
    fn a_packed_weight_gives_the_row_major_bits() {
        // Rows not a multiple of a panel, widths with and without a tail, one row or many.
        for (m, n, k) in [
            (1, 1, 1),
            (3, 5, 7),
            (8, 6, 64),
            (5, 9, 130),
            (2, 4, 3),
            (65, 131, 1000),
        ] {
            let (x, w, b) = (values(m * k, 9), values(n * k, 10), values(n, 11));
            let packed = Packed::new(&w, k);
            assert_eq!(packed.dims(), (n, k));
            for r in 0..n {
                let panel = packed.panel(r / NR);
                assert_eq!(unpack_row(panel, k, r % NR), &w[r * k..(r + 1) * k]);
            }
            let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
            assert_eq!(
                bits(matmul_packed(&x, &packed, Some(&b))),
                bits(matmul(&x, &w, k, Some(&b))),
                "{m}x{n}x{k}"
            );
        }
        assert!(matmul_packed(&[], &Packed::new(&[], 0), None).is_empty());
    }

    #[test]
    fn empty_inputs_give_the_bias_or_nothing() {
        assert!(matmul(&[], &values(8, 1), 4, None).is_empty());
        assert_eq!(matmul(&[], &[], 0, None), Vec::<f32>::new());
    }

    #[test]
    fn many_threads_give_the_one_thread_bits() {
        // Large enough to be split (≥ parallel::MIN_WORK); n not a multiple of NR.
        let (m, n, k, bias) = (65, 131, 1000, values(131, 8));
        assert!(m * n * k >= crate::parallel::MIN_WORK);
        let (x, w) = (values(m * k, 6), values(n * k, 7));
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| matmul(&x, &w, k, Some(&bias)))
        };
        let one: Vec<u32> = on(1).iter().map(|v| v.to_bits()).collect();
        for threads in [2, 3] {
            let many: Vec<u32> = on(threads).iter().map(|v| v.to_bits()).collect();
            assert_eq!(many, one, "{threads} threads");
        }
        let d = dot(&x[64 * k..65 * k], &w[130 * k..131 * k]) + bias[130];
        assert_eq!(one[64 * n + 130], d.to_bits());
    }
}
