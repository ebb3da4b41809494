//! Forward timing in the worker. `std::time::Instant` panics on wasm32, so the clock
//! is `performance.now()`; browsers coarsen it (0.1 ms in a worker without
//! cross-origin isolation), hence a median over several runs.

/// Most timed forwards per model.
pub const MAX_RUNS: u32 = 5;

/// Stop timing a model once its runs took this long, so a big model stays responsive.
pub const BUDGET_MS: f64 = 600.0;

/// Milliseconds since the worker started (`performance.now()`), or 0 without a clock.
pub fn now_ms() -> f64 {
    use wasm_bindgen::JsCast;
    js_sys::global()
        .unchecked_into::<web_sys::WorkerGlobalScope>()
        .performance()
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// Runs `f` up to [`MAX_RUNS`] times (at least once, and no more once [`BUDGET_MS`]
/// is spent), reading the clock with `clock`; returns the median time and the run count.
pub fn median_time<E>(
    clock: impl Fn() -> f64,
    mut f: impl FnMut() -> Result<(), E>,
) -> Result<(f64, u32), E> {
    let mut times = Vec::with_capacity(MAX_RUNS as usize);
    let mut spent = 0.0;
    while times.len() < MAX_RUNS as usize && (times.is_empty() || spent < BUDGET_MS) {
        let start = clock();
        f()?;
        let t = clock() - start;
        spent += t;
        times.push(t);
    }
    Ok((median(&mut times), times.len() as u32))
}

/// Median of `xs` (mean of the middle two for an even count); 0 for none.
pub fn median(xs: &mut [f64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(f64::total_cmp);
    let mid = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[mid]
    } else {
        (xs[mid - 1] + xs[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&mut []), 0.0);
    }

    #[test]
    fn timing_runs_up_to_the_limit_and_takes_the_median() {
        // A fake clock that advances 10, 1, 2, 3, 4 ms across the five runs.
        let steps = [10.0, 1.0, 2.0, 3.0, 4.0];
        let now = Cell::new(0.0);
        let run = Cell::new(0);
        let (ms, runs) = median_time(
            || now.get(),
            || {
                now.set(now.get() + steps[run.get()]);
                run.set(run.get() + 1);
                Ok::<(), ()>(())
            },
        )
        .unwrap();
        assert_eq!(runs, MAX_RUNS);
        assert_eq!(ms, 3.0);
    }

    #[test]
    fn a_slow_model_is_timed_once() {
        let now = Cell::new(0.0);
        let (ms, runs) = median_time(
            || now.get(),
            || {
                now.set(now.get() + 2.0 * BUDGET_MS);
                Ok::<(), ()>(())
            },
        )
        .unwrap();
        assert_eq!((ms, runs), (2.0 * BUDGET_MS, 1));
    }

    #[test]
    fn an_error_stops_timing() {
        let r = median_time(|| 0.0, || Err::<(), _>("boom"));
        assert_eq!(r, Err("boom"));
    }
}
