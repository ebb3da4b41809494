//! Forward timing in the worker. `std::time::Instant` panics on wasm32, so the clock
//! is `performance.now()`, which browsers coarsen (0.1 ms in a worker without
//! cross-origin isolation). A small model's forward can take less than one tick, so
//! each sample runs enough forwards back to back to span [`MIN_SAMPLE_MS`], and the
//! reported time is the median over samples of the mean per forward.

use crate::lab::messages::ForwardTime;

/// Samples per model in a table of schemes, which times many models one after another.
pub const SAMPLES: u32 = 5;

/// Samples per model on the lab's speed card, which compares two. With five, a busy
/// moment of three samples (a large model's forwards last tens of milliseconds; the page
/// draws its results on a core the forward's threads share) set the median; with
/// fifteen, still within [`BUDGET_MS`], the median leaves out a moment of up to seven.
/// Slower stretches of the machine itself last seconds and still show (docs/BENCHMARKS.md,
/// session 14).
pub const SPEED_CARD_SAMPLES: u32 = 15;

/// The shortest sample: 50 ticks of the coarsened clock, so rounding stays ≤ 2 %.
pub const MIN_SAMPLE_MS: f64 = 5.0;

/// The clock's resolution in a worker without cross-origin isolation.
pub const TICK_MS: f64 = 0.1;

/// Stop sampling a model once this much time went into it, so a big model stays responsive.
pub const BUDGET_MS: f64 = 600.0;

/// Most forwards in one sample, whatever the first one measured.
const MAX_PER_SAMPLE: u32 = 1000;

/// Milliseconds since the worker started (`performance.now()`), or 0 without a clock.
pub fn now_ms() -> f64 {
    use wasm_bindgen::JsCast;
    js_sys::global()
        .unchecked_into::<web_sys::WorkerGlobalScope>()
        .performance()
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// Times `forward`, reading the clock with `clock`: one calibration run decides how
/// many forwards make a sample, then up to [`SAMPLES`] samples (at least one, and
/// none past [`BUDGET_MS`]).
pub fn time_forward<E>(
    clock: impl Fn() -> f64,
    mut forward: impl FnMut() -> Result<(), E>,
) -> Result<ForwardTime, E> {
    let [time] = time_interleaved(clock, SAMPLES, [&mut forward])?;
    Ok(time)
}

/// Times several forwards as [`time_forward`] times one, but with up to `samples`
/// samples each, taken in turn (a, b, a, b, …) after each one's calibration run, so that
/// a busy moment of the page (the results being drawn, another tab) falls on all of them
/// alike and the median leaves it out, instead of spoiling the one that happened to be
/// timed first.
pub fn time_interleaved<E, const N: usize>(
    clock: impl Fn() -> f64,
    samples: u32,
    mut forwards: [&mut dyn FnMut() -> Result<(), E>; N],
) -> Result<[ForwardTime; N], E> {
    let mut timers = Vec::with_capacity(N);
    for forward in forwards.iter_mut() {
        let start = clock();
        forward()?;
        timers.push(Timer::new(clock() - start, samples));
    }
    loop {
        let mut sampled = false;
        for (forward, timer) in forwards.iter_mut().zip(&mut timers) {
            if !timer.wants_more() {
                continue;
            }
            let start = clock();
            for _ in 0..timer.per_sample {
                forward()?;
            }
            timer.add(clock() - start);
            sampled = true;
        }
        if !sampled {
            break;
        }
    }
    let mut timers = timers.into_iter();
    Ok(std::array::from_fn(|_| {
        timers.next().expect("one timer per forward").result()
    }))
}

/// One forward's samples while it is being timed.
struct Timer {
    first: f64,
    /// Most samples to take.
    samples: u32,
    per_sample: u32,
    spent: f64,
    times: Vec<f64>,
}

impl Timer {
    /// After a calibration run of `first` ms, for at most `samples` samples.
    fn new(first: f64, samples: u32) -> Self {
        Self {
            first,
            samples,
            per_sample: forwards_per_sample(first),
            spent: first,
            times: Vec::with_capacity(samples as usize),
        }
    }

    /// Another sample is due: fewer than `samples`, and none yet or time left in the
    /// budget (a calibration run past the budget is the only timing).
    fn wants_more(&self) -> bool {
        self.first < BUDGET_MS
            && self.times.len() < self.samples as usize
            && (self.times.is_empty() || self.spent < BUDGET_MS)
    }

    /// A sample of `per_sample` forwards that took `ms`.
    fn add(&mut self, ms: f64) {
        self.spent += ms;
        self.times.push(ms / f64::from(self.per_sample));
    }

    fn result(mut self) -> ForwardTime {
        if self.times.is_empty() {
            return ForwardTime {
                ms: self.first,
                samples: 1,
                forwards_per_sample: 1,
            };
        }
        ForwardTime {
            ms: median(&mut self.times),
            samples: self.times.len() as u32,
            forwards_per_sample: self.per_sample,
        }
    }
}

/// Forwards per sample for a forward that measured `first_ms` (0 below one tick).
pub fn forwards_per_sample(first_ms: f64) -> u32 {
    let per = (MIN_SAMPLE_MS / first_ms.max(TICK_MS)).ceil();
    (per as u32).clamp(1, MAX_PER_SAMPLE)
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
    fn fast_forwards_are_batched_to_span_many_ticks() {
        assert_eq!(forwards_per_sample(0.0), 50);
        assert_eq!(forwards_per_sample(0.5), 10);
        assert_eq!(forwards_per_sample(7.0), 1);
        assert_eq!(forwards_per_sample(1e-9), 50);
    }

    #[test]
    fn timing_takes_the_median_per_forward() {
        // A fake clock: every forward costs 0.5 ms, except the ten of the second
        // sample (calls 11..21), which cost 3 ms each: one slow sample must not move the median.
        let now = Cell::new(0.0);
        let calls = Cell::new(0u32);
        let t = time_forward(
            || now.get(),
            || {
                let n = calls.get();
                calls.set(n + 1);
                now.set(now.get() + if (11..21).contains(&n) { 3.0 } else { 0.5 });
                Ok::<(), ()>(())
            },
        )
        .unwrap();
        assert_eq!(t.forwards_per_sample, 10);
        assert_eq!(t.samples, SAMPLES);
        assert_eq!(t.ms, 0.5);
        assert_eq!(calls.get(), 1 + SAMPLES * 10);
    }

    #[test]
    fn a_slow_model_is_timed_once() {
        let now = Cell::new(0.0);
        let t = time_forward(
            || now.get(),
            || {
                now.set(now.get() + 2.0 * BUDGET_MS);
                Ok::<(), ()>(())
            },
        )
        .unwrap();
        assert_eq!(
            (t.ms, t.samples, t.forwards_per_sample),
            (2.0 * BUDGET_MS, 1, 1)
        );
    }

    #[test]
    fn two_forwards_are_sampled_in_turn() {
        // Each forward logs its name; a costs 1 ms, b 10 ms (one forward per sample).
        let now = Cell::new(0.0);
        let log = std::cell::RefCell::new(String::new());
        let mut a = || {
            log.borrow_mut().push('a');
            now.set(now.get() + 1.0);
            Ok::<(), ()>(())
        };
        let mut b = || {
            log.borrow_mut().push('b');
            now.set(now.get() + 10.0);
            Ok::<(), ()>(())
        };
        let [ta, tb] = time_interleaved(|| now.get(), SAMPLES, [&mut a, &mut b]).unwrap();
        assert_eq!(
            (ta.ms, ta.forwards_per_sample, ta.samples),
            (1.0, 5, SAMPLES)
        );
        assert_eq!(
            (tb.ms, tb.forwards_per_sample, tb.samples),
            (10.0, 1, SAMPLES)
        );
        // Calibration runs, then one sample of each in turn.
        let sample = "aaaaab".repeat(SAMPLES as usize);
        assert_eq!(*log.borrow(), format!("ab{sample}"));
    }

    #[test]
    fn the_speed_card_outlasts_a_busy_moment_of_seven_samples() {
        // a costs 15 ms a forward, b 20 ms, except while the page is busy: a's samples
        // 2..9 (seven of them, interleaved with b's) cost 21 ms, as measured on a busy
        // page. Five samples would have given 21 ms; fifteen leave the moment out.
        let now = Cell::new(0.0);
        let a_calls = Cell::new(0u32);
        let mut a = || {
            let n = a_calls.get();
            a_calls.set(n + 1);
            now.set(now.get() + if (2..9).contains(&n) { 21.0 } else { 15.0 });
            Ok::<(), ()>(())
        };
        let mut b = || {
            now.set(now.get() + 20.0);
            Ok::<(), ()>(())
        };
        let [ta, tb] =
            time_interleaved(|| now.get(), SPEED_CARD_SAMPLES, [&mut a, &mut b]).unwrap();
        assert_eq!((ta.ms, ta.samples), (15.0, SPEED_CARD_SAMPLES));
        assert_eq!((tb.ms, tb.samples), (20.0, SPEED_CARD_SAMPLES));
    }

    #[test]
    fn the_budget_caps_the_speed_cards_samples() {
        // 100 ms forwards: the calibration run and five samples spend the budget.
        let now = Cell::new(0.0);
        let mut slow = || {
            now.set(now.get() + 100.0);
            Ok::<(), ()>(())
        };
        let [t] = time_interleaved(|| now.get(), SPEED_CARD_SAMPLES, [&mut slow]).unwrap();
        assert_eq!((t.ms, t.samples), (100.0, 5));
    }

    #[test]
    fn an_error_stops_timing() {
        let r = time_forward(|| 0.0, || Err::<(), _>("boom"));
        assert_eq!(r, Err("boom"));
    }
}
