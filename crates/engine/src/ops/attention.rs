//! Scaled dot-product self-attention over all heads of unpadded sequences, straight from
//! the q/k/v Linear outputs (`[tokens, heads · head_dim]` rows) to the context rows in the
//! same layout: no head-split copies, no transposes.
//!
//! Per head, the head's columns of q and k are copied out as contiguous rows and v's
//! transposed (`[head_dim][tokens]`), so the scores and the context are both products of
//! rows against rows, on the f32 kernel's register blocks (`quant::f32_kernel`).

use super::math::exp_shifted_in_place;
use crate::quant::f32_kernel;

/// `softmax(q·kᵀ / √head_dim) · v` for `batch` sequences of `tokens` rows each.
///
/// `q`, `k`, `v` hold `batch · tokens` rows of `heads · head_dim` values; so does the
/// result. Like Hugging Face's DistilBERT, q is scaled before the product. No mask: every
/// token sees every token of its own sequence.
pub fn self_attention(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    tokens: usize,
    heads: usize,
    head_dim: usize,
) -> Vec<f32> {
    let width = heads * head_dim;
    let seq_len = tokens * width;
    assert!(
        q.len() == k.len() && k.len() == v.len() && seq_len > 0 && q.len().is_multiple_of(seq_len),
        "attention: q, k, v must be whole sequences of {tokens} × {width}"
    );
    let sequences = q.len() / seq_len;
    // Every (sequence, head) is its own computation into its own columns, so they run on
    // any threads with the same result bit for bit (`crate::parallel`).
    let units: Vec<(usize, usize)> = (0..sequences)
        .flat_map(|b| (0..heads).map(move |h| (b, h)))
        .collect();
    let work = units.len() * 2 * tokens * tokens * head_dim * COST_PER_MULTIPLY_ADD;
    let contexts = crate::parallel::map_above(&units, work, |&(b, h)| {
        let at = b * seq_len..(b + 1) * seq_len;
        Head::new(h, head_dim, tokens, width).context(&q[at.clone()], &k[at.clone()], &v[at])
    });
    let mut out = vec![0f32; q.len()];
    for (&(b, h), context) in units.iter().zip(&contexts) {
        let rows = out[b * seq_len..(b + 1) * seq_len].chunks_exact_mut(width);
        for (row, values) in rows.zip(context.chunks_exact(head_dim)) {
            row[h * head_dim..(h + 1) * head_dim].copy_from_slice(values);
        }
    }
    out
}

/// The context row of the first query only: `self_attention`'s first row, bit for bit,
/// for a reader of the [CLS] row alone. `q0` is that query's `heads · head_dim` values,
/// `k` and `v` the `tokens` rows of one sequence.
pub fn first_query_attention(
    q0: &[f32],
    k: &[f32],
    v: &[f32],
    tokens: usize,
    heads: usize,
    head_dim: usize,
) -> Vec<f32> {
    let width = heads * head_dim;
    assert!(
        q0.len() == width && k.len() == tokens * width && v.len() == k.len() && tokens > 0,
        "attention: one query row and {tokens} key and value rows of {width}"
    );
    (0..heads)
        .flat_map(|h| Head::new(h, head_dim, tokens, width).context(q0, k, v))
        .collect()
}

/// What one multiply-add here costs against one of the int8 kernel, in which
/// `crate::parallel::MIN_WORK` is counted: f32 register blocks on short rows (32 values
/// a head), with the copies and the softmax around them.
const COST_PER_MULTIPLY_ADD: usize = 3;

/// One head of one sequence: its columns of the q, k, v rows.
struct Head {
    tokens: usize,
    width: usize,
    cols: std::ops::Range<usize>,
    scale: f32,
}

impl Head {
    /// Head `h` of `head_dim` columns in rows of `width`, over `tokens` keys.
    fn new(h: usize, head_dim: usize, tokens: usize, width: usize) -> Self {
        Self {
            tokens,
            width,
            cols: h * head_dim..(h + 1) * head_dim,
            scale: 1.0 / (head_dim as f32).sqrt(),
        }
    }

    /// The head's context rows, one per row of `q` (`head_dim` values each), over the
    /// `tokens` rows of `k` and `v`. The head's columns are first copied out (q scaled,
    /// v transposed), so both products are rows against rows on the f32 kernel's
    /// register blocks.
    fn context(&self, q: &[f32], k: &[f32], v: &[f32]) -> Vec<f32> {
        let (tokens, width, cols) = (self.tokens, self.width, self.cols.clone());
        let head_dim = cols.len();
        let queries: Vec<f32> = q
            .chunks_exact(width)
            .flat_map(|row| row[cols.clone()].iter().map(|&x| x * self.scale))
            .collect();
        let keys: Vec<f32> = k
            .chunks_exact(width)
            .flat_map(|row| row[cols.clone()].iter().copied())
            .collect();
        let mut values_t = vec![0f32; head_dim * tokens];
        for (j, value) in v.chunks_exact(width).enumerate() {
            for (d, &x) in value[cols.clone()].iter().enumerate() {
                values_t[d * tokens + j] = x;
            }
        }
        let mut scores = f32_kernel::matmul_on_this_thread(&queries, &keys, head_dim);
        for row in scores.chunks_exact_mut(tokens) {
            softmax_in_place(row);
        }
        f32_kernel::matmul_on_this_thread(&scores, &values_t, tokens)
    }
}

/// `x ← exp(x − max) / Σ exp(x − max)`.
fn softmax_in_place(x: &mut [f32]) {
    let max = x
        .iter()
        .fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m });
    exp_shifted_in_place(x, max);
    let inv = 1.0 / x.iter().sum::<f32>();
    for v in x.iter_mut() {
        *v *= inv;
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor};

    use super::*;

    /// The same attention from candle's tensor ops, the way the model computed it before.
    fn reference(q: &[f32], k: &[f32], v: &[f32], shape: (usize, usize, usize, usize)) -> Vec<f32> {
        let (b, s, h, d) = shape;
        let t = |x: &[f32]| {
            Tensor::from_slice(x, (b, s, h, d), &Device::Cpu)
                .and_then(|t| t.transpose(1, 2))
                .and_then(|t| t.contiguous())
                .expect("tensor")
        };
        let (q, k, v) = (t(q), t(k), t(v));
        let q = (q / (d as f64).sqrt()).expect("scale");
        let scores = q
            .matmul(&k.t().and_then(|t| t.contiguous()).expect("kt"))
            .expect("scores");
        let w = candle_nn::ops::softmax_last_dim(&scores).expect("softmax");
        w.matmul(&v)
            .and_then(|c| c.transpose(1, 2))
            .and_then(|c| c.flatten_all())
            .and_then(|c| c.to_vec1::<f32>())
            .expect("context")
    }

    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 8) as f32 / (1u32 << 24) as f32 * 6.0 - 3.0
            })
            .collect()
    }

    #[test]
    fn matches_candle_tensor_attention() {
        for shape in [(1, 1, 1, 4), (1, 7, 2, 8), (1, 64, 8, 32), (3, 5, 12, 32)] {
            let (b, s, h, d) = shape;
            let n = b * s * h * d;
            let (q, k, v) = (values(n, 1), values(n, 2), values(n, 3));
            let got = self_attention(&q, &k, &v, s, h, d);
            let want = reference(&q, &k, &v, shape);
            let worst = got
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            // Values are within ±3, so scores reach tens (half an ulp there is ~2e-6) and
            // softmax turns a score's rounding into that relative error of its weight; the
            // sums run in another order than candle's.
            assert!(worst < 1e-5, "{shape:?}: worst |diff| {worst:e}");
        }
    }

    #[test]
    fn the_first_query_alone_gives_the_first_row_bit_for_bit() {
        for (s, h, d) in [(1, 1, 4), (9, 3, 8), (64, 12, 32)] {
            let n = s * h * d;
            let (q, k, v) = (values(n, 7), values(n, 8), values(n, 9));
            let all = self_attention(&q, &k, &v, s, h, d);
            let first = first_query_attention(&q[..h * d], &k, &v, s, h, d);
            let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&first), bits(&all[..h * d]), "{s} tokens, {h} heads");
        }
    }

    #[test]
    fn rows_of_weights_sum_to_one() {
        let mut x = values(64, 9);
        x[3] = 80.0;
        softmax_in_place(&mut x);
        let sum: f32 = x.iter().sum();
        assert!((sum - 1.0).abs() < 1e-6, "{sum}");
        assert!(x[3] > 0.999);
    }

    #[test]
    fn many_threads_give_the_one_thread_bits() {
        let (s, h, d) = (64, 12, 32);
        let n = 2 * s * h * d;
        let (q, k, v) = (values(n, 4), values(n, 5), values(n, 6));
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| self_attention(&q, &k, &v, s, h, d))
        };
        let bits = |x: Vec<f32>| x.into_iter().map(f32::to_bits).collect::<Vec<_>>();
        assert_eq!(bits(on(3)), bits(on(1)));
    }
}
