//! One forward on every core: a Linear layer's output columns split across threads.
//!
//! The kernels compute `y[m][n] = Σ_k x[m][k] · w[n][k]`; every output column is its own
//! sum over the same inputs, so giving each thread a contiguous range of columns changes
//! nothing in any column's arithmetic: the result is the same bit for bit on one thread
//! or many (tested below). Columns, not rows, because the weights are the large operand:
//! each thread streams only its share of them.
//!
//! The threads are rayon's: natively its global pool (one thread per core), in a
//! threaded browser build the pool the web worker starts on Web Workers with shared
//! memory, and in the one-thread wasm build rayon's fallback, which runs everything on
//! the calling thread. Small calls stay on the calling thread: waking another costs
//! more than it saves.

use std::ops::Range;

use rayon::prelude::*;

/// Multiply-adds below which a call is not split: ~8 M. Measured in Chromium on this
/// 2-core machine, splitting from 4 M (the teacher's feed-forward layers at 8 tokens,
/// 8 × 1536 × 384) made the teacher's 8-token int8 forward slower (5.17 → 5.85 ms): a
/// fraction of a millisecond of work does not pay for waking a pool thread. From 8 M
/// nothing at 8 tokens is split, and at 64 tokens every Linear of the teacher is
/// (64 × 384 × 384 = 9.4 M and up).
pub const MIN_WORK: usize = 1 << 23;

/// Threads a forward can use: rayon's pool size (1 in the one-thread wasm build).
pub fn threads() -> usize {
    rayon::current_num_threads()
}

/// `n` columns cut into at most `parts` contiguous ranges whose lengths are multiples of
/// `align` (but the last), as even as that allows; empty ranges are left out.
pub fn column_ranges(n: usize, align: usize, parts: usize) -> Vec<Range<usize>> {
    let align = align.max(1);
    let units = n.div_ceil(align);
    let parts = parts.clamp(1, units.max(1));
    let mut ranges = Vec::with_capacity(parts);
    let mut start = 0;
    for part in 0..parts {
        // Units before the end of this part: an even share, rounded down.
        let end = ((part + 1) * units / parts * align).min(n);
        if end > start {
            ranges.push(start..end);
        }
        start = end;
    }
    ranges
}

/// The row-major `m × n` output of `block`, computed in column ranges on every thread.
///
/// `block(cols, out)` must fill `out`, a row-major `m × cols.len()` block, with the
/// output columns `cols` (ranges start at multiples of `align`, the kernel's panel
/// width). `work` (multiply-adds) decides whether splitting pays: below [`MIN_WORK`], or
/// on one thread, `block` runs once for all columns straight into the result.
pub fn by_columns<T, F>(m: usize, n: usize, align: usize, work: usize, block: F) -> Vec<T>
where
    T: Copy + Default + Send,
    F: Fn(Range<usize>, &mut [T]) + Sync,
{
    let parts = if work < MIN_WORK { 1 } else { threads() };
    let ranges = column_ranges(n, align, parts);
    if ranges.len() <= 1 {
        let mut out = vec![T::default(); m * n];
        block(0..n, &mut out);
        return out;
    }
    let blocks: Vec<Vec<T>> = ranges
        .par_iter()
        .map(|cols| {
            let mut out = vec![T::default(); m * cols.len()];
            block(cols.clone(), &mut out);
            out
        })
        .collect();
    let mut out = vec![T::default(); m * n];
    for (cols, values) in ranges.iter().zip(&blocks) {
        let width = cols.len();
        for (row, chunk) in values.chunks_exact(width).enumerate() {
            out[row * n + cols.start..row * n + cols.end].copy_from_slice(chunk);
        }
    }
    out
}

/// Applies `f` to every item on every thread when `work` (multiply-adds, as for
/// [`by_columns`]) reaches [`MIN_WORK`], else on the calling thread; results in input
/// order either way.
pub fn map_above<I, T, F>(items: &[I], work: usize, f: F) -> Vec<T>
where
    I: Sync,
    T: Send,
    F: Fn(&I) -> T + Sync + Send,
{
    if work < MIN_WORK || threads() <= 1 {
        items.iter().map(f).collect()
    } else {
        map(items, f)
    }
}

/// Applies `f` to every item on every thread, results in input order (batch work:
/// one sentence per item). On one thread this is a plain map.
pub fn map<I, T, F>(items: &[I], f: F) -> Vec<T>
where
    I: Sync,
    T: Send,
    F: Fn(&I) -> T + Sync + Send,
{
    items.par_iter().map(f).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_every_column_once_on_aligned_starts() {
        for n in [0, 1, 3, 4, 5, 17, 64, 768, 3072, 1001] {
            for align in [1, 4, 16, 32] {
                for parts in [1, 2, 3, 8, 100] {
                    let ranges = column_ranges(n, align, parts);
                    let mut next = 0;
                    for r in &ranges {
                        assert_eq!(r.start, next, "n {n} align {align} parts {parts}");
                        assert!(r.start.is_multiple_of(align) && !r.is_empty());
                        next = r.end;
                    }
                    assert_eq!(next, n);
                    assert!(ranges.len() <= parts);
                }
            }
        }
        assert_eq!(column_ranges(768, 16, 2), vec![0..384, 384..768]);
    }

    #[test]
    fn by_columns_stitches_blocks_into_row_major_order() {
        let (m, n) = (3, 37);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let out = pool.install(|| {
            by_columns(m, n, 4, MIN_WORK, |cols, out: &mut [usize]| {
                let width = cols.len();
                for r in 0..m {
                    for (j, c) in cols.clone().enumerate() {
                        out[r * width + j] = r * 1000 + c;
                    }
                }
            })
        });
        let want: Vec<usize> = (0..m)
            .flat_map(|r| (0..n).map(move |c| r * 1000 + c))
            .collect();
        assert_eq!(out, want);
    }

    #[test]
    fn small_work_stays_on_one_block() {
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        pool.install(|| {
            by_columns(2, 64, 4, MIN_WORK - 1, |_, _: &mut [u8]| {
                calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            })
        });
        assert_eq!(calls.into_inner(), 1);
    }
}
