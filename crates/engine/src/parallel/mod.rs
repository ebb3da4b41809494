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
//! more than it saves. Inside [`one_forward`] the pool's threads stay awake as a
//! [`team`] between splits, so splitting pays from a much smaller size ([`TEAM_MIN_WORK`]).

mod team;

use std::ops::Range;
use std::sync::Mutex;

use rayon::prelude::*;

pub use team::{one_forward, MIN_FORWARD};

/// Multiply-adds below which a call is not split: ~8 M. Measured in Chromium on this
/// 2-core machine, splitting from 4 M (the teacher's feed-forward layers at 8 tokens,
/// 8 × 1536 × 384) made the teacher's 8-token int8 forward slower (5.17 → 5.85 ms): a
/// fraction of a millisecond of work does not pay for waking a pool thread. From 8 M
/// nothing at 8 tokens is split, and at 64 tokens every Linear of the teacher is
/// (64 × 384 × 384 = 9.4 M and up).
pub const MIN_WORK: usize = 1 << 23;

/// Multiply-adds from which a call is split inside a [`one_forward`] team: ~256 K, about
/// ten microseconds of the int8 kernel in the browser, where a team split costs a few
/// cache-line transfers. Every Linear of the teacher at 8 tokens (8 × 384 × 384 = 1.2 M
/// and up) is split.
pub const TEAM_MIN_WORK: usize = 1 << 18;

/// Parts per team thread in a team split. The parts are claimed as threads come free,
/// so a thread the browser holds up (its other threads share these cores) leaves its
/// later parts to the others instead of making every split wait for it.
pub const PARTS_PER_THREAD: usize = 4;

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
    if let Some(team) = team::current().filter(|_| work >= TEAM_MIN_WORK) {
        let ranges = column_ranges(n, align, team.size() * PARTS_PER_THREAD);
        let mut out = vec![T::default(); m * n];
        let shared = Shared(out.as_mut_ptr());
        team.run(ranges.len(), &|part| {
            let cols = ranges[part].clone();
            let width = cols.len();
            let mut values = vec![T::default(); m * width];
            block(cols.clone(), &mut values);
            for (row, chunk) in values.chunks_exact(width).enumerate() {
                // SAFETY: the parts' column ranges are disjoint, so every part writes
                // its own elements of `out`, which outlives `run`.
                unsafe { shared.write(row * n + cols.start, chunk) };
            }
        });
        return out;
    }
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
    if let Some(team) = team::current().filter(|_| work >= TEAM_MIN_WORK) {
        let slots: Vec<Mutex<Option<T>>> = items.iter().map(|_| Mutex::new(None)).collect();
        team.run(items.len(), &|i| {
            let value = f(&items[i]);
            *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(value);
        });
        return slots
            .into_iter()
            .map(|slot| {
                let value = slot.into_inner().unwrap_or_else(|e| e.into_inner());
                value.expect("every part ran")
            })
            .collect();
    }
    if work < MIN_WORK || threads() <= 1 {
        items.iter().map(f).collect()
    } else {
        let _batch = team::batch();
        items.par_iter().map(f).collect()
    }
}

/// Applies `f(start, chunk)` to `data` in chunks (`start` a multiple of `align`, the
/// chunk's offset in `data`) on every thread of a [`one_forward`] team when `work`
/// reaches [`TEAM_MIN_WORK`], else `f(0, data)` on the calling thread. For work whose
/// result per element does not depend on the chunking (GELU, quantizing rows).
pub fn chunks_mut<T, F>(data: &mut [T], align: usize, work: usize, f: F)
where
    T: Send,
    F: Fn(usize, &mut [T]) + Sync,
{
    let Some(team) = team::current().filter(|_| work >= TEAM_MIN_WORK) else {
        f(0, data);
        return;
    };
    let ranges = column_ranges(data.len(), align, team.size() * PARTS_PER_THREAD);
    let shared = Shared(data.as_mut_ptr());
    team.run(ranges.len(), &|part| {
        let range = ranges[part].clone();
        // SAFETY: the ranges are disjoint and inside `data`, borrowed for the whole run.
        f(range.start, unsafe { shared.slice(range) });
    });
}

/// A pointer into an output that the parts of one team task fill in disjoint places.
struct Shared<T>(*mut T);

// SAFETY: only used to write disjoint elements from the parts of one `Team::run`.
unsafe impl<T: Send> Sync for Shared<T> {}

impl<T: Copy> Shared<T> {
    /// Copies `values` to `at..` (caller: in bounds, and no other part writes there).
    unsafe fn write(&self, at: usize, values: &[T]) {
        unsafe { std::ptr::copy_nonoverlapping(values.as_ptr(), self.0.add(at), values.len()) };
    }
}

impl<T> Shared<T> {
    /// The elements `range` (caller: in bounds, and no other part touches them).
    #[allow(clippy::mut_from_ref)]
    unsafe fn slice(&self, range: Range<usize>) -> &mut [T] {
        unsafe { std::slice::from_raw_parts_mut(self.0.add(range.start), range.len()) }
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
    let _batch = team::batch();
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

    fn pool(threads: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
    }

    /// `m × n` values from `by_columns` whose every element names its row and column.
    fn labelled(m: usize, n: usize, work: usize) -> Vec<usize> {
        by_columns(m, n, 4, work, |cols, out: &mut [usize]| {
            let width = cols.len();
            for r in 0..m {
                for (j, c) in cols.clone().enumerate() {
                    out[r * width + j] = r * 1000 + c;
                }
            }
        })
    }

    #[test]
    fn a_team_forms_only_on_a_pool_thread_of_a_pool_with_company() {
        assert!(
            one_forward(MIN_FORWARD, || team::current().is_none()),
            "not a pool thread"
        );
        assert!(pool(1).install(|| one_forward(MIN_FORWARD, || team::current().is_none())));
        assert!(pool(2).install(|| one_forward(MIN_FORWARD, || team::current().is_some())));
        assert!(pool(2).install(|| one_forward(MIN_FORWARD - 1, || team::current().is_none())));
        // Nested: the outer team stays; inside a batch map, none forms.
        assert!(
            pool(2).install(|| one_forward(MIN_FORWARD, || one_forward(MIN_FORWARD, || {
                team::current().is_some()
            })))
        );
        let inside_batch = pool(2).install(|| {
            map(&[0, 1], |_| {
                one_forward(MIN_FORWARD, || team::current().is_none())
            })
        });
        assert_eq!(inside_batch, vec![true, true]);
    }

    #[test]
    fn team_splits_stitch_like_one_thread_and_share_the_parts() {
        let (m, n) = (3, 37);
        let want: Vec<usize> = (0..m)
            .flat_map(|r| (0..n).map(move |c| r * 1000 + c))
            .collect();
        let helped = pool(3).install(|| {
            one_forward(MIN_FORWARD, || {
                until_shared(|| assert_eq!(labelled(m, n, TEAM_MIN_WORK), want))
            })
        });
        assert!(helped, "no part of any split ran on a helper");
    }

    /// Splits (after `also`) until a part ran on another thread than the caller's: a
    /// helper comes once woken, and on a busy machine that can take a while (bounded).
    fn until_shared(also: impl Fn()) -> bool {
        let start = std::time::Instant::now();
        while start.elapsed().as_secs() < 60 {
            also();
            if shared() {
                return true;
            }
        }
        false
    }

    /// Whether a part of a split ran on another thread than the caller's.
    fn shared() -> bool {
        let owner = rayon::current_thread_index();
        let ran = Mutex::new(Vec::new());
        map_above(&[0, 1, 2, 3], TEAM_MIN_WORK, |_| {
            ran.lock().unwrap().push(rayon::current_thread_index());
        });
        ran.into_inner().unwrap().iter().any(|&t| t != owner)
    }

    #[test]
    fn helpers_leave_when_idle_and_come_back_for_the_next_forward() {
        pool(2).install(|| {
            for round in 0..2 {
                // A helper wakes once; until it runs, the owner takes every part.
                let helped = one_forward(MIN_FORWARD, || until_shared(|| ()));
                assert!(helped, "forward {round}: no part ran on a helper");
                let start = std::time::Instant::now();
                while team::helpers() > 0 {
                    assert!(start.elapsed().as_secs() < 60, "the helper never left");
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            }
        });
    }

    #[test]
    fn team_map_keeps_input_order_and_chunks_cover_every_element() {
        pool(2).install(|| {
            one_forward(MIN_FORWARD, || {
                let items: Vec<usize> = (0..50).collect();
                let doubled = map_above(&items, TEAM_MIN_WORK, |&i| 2 * i);
                assert_eq!(doubled, items.iter().map(|i| 2 * i).collect::<Vec<_>>());
                let mut data = vec![1u32; 1001];
                chunks_mut(&mut data, 4, TEAM_MIN_WORK, |start, chunk| {
                    assert!(start.is_multiple_of(4));
                    chunk.iter_mut().for_each(|v| *v += start as u32 + 1)
                });
                let starts = column_ranges(1001, 4, 2 * PARTS_PER_THREAD);
                assert_eq!(
                    starts.len(),
                    2 * PARTS_PER_THREAD,
                    "more parts than threads"
                );
                for (i, v) in data.iter().enumerate() {
                    let start = starts.iter().find(|r| r.contains(&i)).unwrap().start;
                    assert_eq!(*v, start as u32 + 2);
                }
                // Below the team's size everything runs in one call.
                let calls = std::sync::atomic::AtomicUsize::new(0);
                chunks_mut(&mut data, 4, TEAM_MIN_WORK - 1, |_, _| {
                    calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                });
                assert_eq!(calls.into_inner(), 1);
            })
        });
    }

    #[test]
    fn a_panic_in_a_team_part_reaches_the_owner() {
        let outcome = std::panic::catch_unwind(|| {
            pool(2).install(|| {
                one_forward(MIN_FORWARD, || {
                    for _ in 0..10_000 {
                        map_above(&[0, 1], TEAM_MIN_WORK, |&i| {
                            if i == 1 {
                                panic!("part 1 fails");
                            }
                        });
                    }
                })
            })
        });
        assert!(outcome.is_err());
    }
}
