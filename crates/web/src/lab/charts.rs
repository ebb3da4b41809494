//! Geometry for the lab's SVG charts (scales and ticks), as plain functions with
//! native tests; the components only place what these compute.

/// A linear map from `[lo, hi]` onto `[a, b]` (pixels); a flat domain maps to the middle.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Linear {
    lo: f64,
    hi: f64,
    a: f64,
    b: f64,
}

impl Linear {
    /// The map of `[lo, hi]` onto `[a, b]`.
    pub fn new(lo: f64, hi: f64, a: f64, b: f64) -> Linear {
        Linear { lo, hi, a, b }
    }

    /// Where `x` lands.
    pub fn at(&self, x: f64) -> f64 {
        if (self.hi - self.lo).abs() < f64::EPSILON {
            return (self.a + self.b) / 2.0;
        }
        self.a + (x - self.lo) / (self.hi - self.lo) * (self.b - self.a)
    }
}

/// A log10 axis for errors that span decades; zero (f32 against itself) sits on the
/// floor, a decade below the smallest positive value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogAxis {
    /// log10 of the floor.
    pub lo: f64,
    /// log10 of the ceiling.
    pub hi: f64,
}

impl LogAxis {
    /// An axis covering `values` (whole decades).
    pub fn covering(values: &[f64]) -> LogAxis {
        let positive: Vec<f64> = values
            .iter()
            .copied()
            .filter(|v| *v > 0.0 && v.is_finite())
            .collect();
        if positive.is_empty() {
            return LogAxis { lo: -8.0, hi: 0.0 };
        }
        let min = positive.iter().copied().fold(f64::INFINITY, f64::min);
        let max = positive.iter().copied().fold(0.0, f64::max);
        let lo = min.log10().floor() - 1.0;
        let hi = max.log10().ceil().max(lo + 1.0);
        LogAxis { lo, hi }
    }

    /// log10 of `v`, clamped to the axis (zero and below go to the floor).
    pub fn position(&self, v: f64) -> f64 {
        if v > 0.0 {
            v.log10().clamp(self.lo, self.hi)
        } else {
            self.lo
        }
    }

    /// The decades `10^k` on the axis, bottom to top.
    pub fn decades(&self) -> Vec<i32> {
        (self.lo as i32..=self.hi as i32).collect()
    }
}

/// The largest of `values` (0 for none), for scaling bars.
pub fn max_of(values: impl IntoIterator<Item = f64>) -> f64 {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
}

/// Which points of `(size, error)` no other point beats on both (smaller or equal
/// in each, smaller in one): the Pareto front of size against error.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<bool> {
    points
        .iter()
        .map(|&(s, e)| {
            !points
                .iter()
                .any(|&(s2, e2)| s2 <= s && e2 <= e && (s2 < s || e2 < e))
        })
        .collect()
}

/// Height of one line of point labels, in chart pixels.
pub const LABEL_LINE: f64 = 13.0;

/// Where to write each point's label so that no two overlap: `points` are the points'
/// pixel positions and `widths` their labels' widths; each label goes up and right of
/// its point and, where it would cover one placed before it (left to right), one line
/// further down until it is free. Returns the label's baseline y per point.
pub fn label_rows(points: &[(f64, f64)], widths: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| points[a].0.total_cmp(&points[b].0));
    let mut placed: Vec<(f64, f64, f64)> = Vec::new(); // (left, right, baseline)
    let mut rows = vec![0.0; points.len()];
    for i in order {
        let (x, y) = points[i];
        let (left, right) = (x + 8.0, x + 8.0 + widths[i]);
        let mut base = y - 6.0;
        while placed
            .iter()
            .any(|&(l, r, b)| left < r && l < right && (base - b).abs() < LABEL_LINE)
        {
            base += LABEL_LINE;
        }
        placed.push((left, right, base));
        rows[i] = base;
    }
    rows
}

/// A colour per scheme position, distinct enough to tell nine apart.
pub fn palette(i: usize) -> &'static str {
    const COLOURS: [&str; 9] = [
        "#1f5fbf", "#9a4a00", "#1d7a3a", "#8e24aa", "#b3261e", "#00838f", "#6d4c41", "#c2185b",
        "#455a64",
    ];
    COLOURS[i % COLOURS.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_maps_ends_and_flat_domains() {
        let s = Linear::new(0.0, 10.0, 100.0, 0.0);
        assert_eq!(s.at(0.0), 100.0);
        assert_eq!(s.at(10.0), 0.0);
        assert_eq!(s.at(5.0), 50.0);
        assert_eq!(Linear::new(3.0, 3.0, 0.0, 10.0).at(3.0), 5.0);
    }

    #[test]
    fn log_axis_puts_zero_on_the_floor() {
        let axis = LogAxis::covering(&[0.0, 3e-6, 2e-2]);
        assert_eq!((axis.lo, axis.hi), (-7.0, -1.0));
        assert_eq!(axis.position(0.0), -7.0);
        assert!((axis.position(1e-3) + 3.0).abs() < 1e-12);
        assert_eq!(axis.decades().len(), 7);
        assert_eq!(LogAxis::covering(&[0.0]), LogAxis { lo: -8.0, hi: 0.0 });
        assert_eq!(max_of([1.0, f64::NAN, 3.0]), 3.0);
    }

    #[test]
    fn labels_step_down_until_free() {
        // Two points at the same spot, a third far right, a fourth just below the first.
        let pts = [(100.0, 50.0), (100.0, 50.0), (400.0, 50.0), (102.0, 60.0)];
        let rows = label_rows(&pts, &[40.0; 4]);
        assert_eq!(rows[0], 44.0);
        assert_eq!(rows[1], 44.0 + LABEL_LINE);
        assert_eq!(rows[2], 44.0);
        // Its own spot (54) and one line down (67) overlap the first two; it lands below.
        assert_eq!(rows[3], 54.0 + 2.0 * LABEL_LINE);
    }

    #[test]
    fn the_front_keeps_only_undominated_points() {
        // f32: big and exact; q8: smaller, small error; q4: smallest, big error;
        // bad: bigger than q8 with more error.
        let pts = [(10.0, 0.0), (3.0, 1e-4), (2.0, 1e-2), (4.0, 1e-3)];
        assert_eq!(pareto_front(&pts), vec![true, true, true, false]);
    }
}
