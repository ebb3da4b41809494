//! A small tensor quantized the way lessons/quantization.md teaches it, every step kept:
//!
//! ```text
//! quantize:    q = clamp(round(x / s) + z, q_min, q_max)
//! dequantize:  x ≈ s × (q − z)
//! ```
//!
//! `round` is round-half-to-even, as torch's `round`/`nearbyint` do.

use serde::{Deserialize, Serialize};

use super::invalid;
use crate::Result;

/// How the grid sits over the range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mapping {
    /// Unsigned grid `0 ..= 2^bits − 1` over `[min, max]`, `s = (max − min) / (2^bits − 1)`,
    /// `z = round(−min / s)`: the lesson's "Scale and zero point".
    Affine,
    /// Signed grid `−2^(bits−1) ..= 2^(bits−1) − 1` with `z = 0` and `s = m / ((2^bits − 1) / 2)`
    /// for the largest `|x|` = `m` (`m / 127.5` at 8 bits): the lesson's "Symmetric
    /// quantization for weights", torch's symmetric observer.
    Symmetric,
}

/// Which values share one scale and zero point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Granularity {
    /// One group for the whole tensor.
    PerTensor,
    /// One group per row (per output channel of a weight).
    PerRow,
}

/// Where the range the grid covers comes from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RangeSource {
    /// The group's own minimum and maximum (dynamic quantization, min/max observers):
    /// nothing is clipped.
    FromValues,
    /// A range decided before the values arrive (static quantization's calibration):
    /// values outside it are clipped to its edges.
    Fixed {
        /// Lower end.
        min: f32,
        /// Upper end.
        max: f32,
    },
}

/// How to quantize.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TensorSpec {
    /// Bits per value, 2 to 8.
    pub bits: u8,
    /// Affine or symmetric grid.
    pub mapping: Mapping,
    /// One group per tensor or per row.
    pub granularity: Granularity,
    /// Range from the values, or fixed in advance.
    pub range: RangeSource,
}

/// One value through quantize and dequantize.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantizedValue {
    /// The original value.
    pub x: f32,
    /// `x / s + z` before rounding and clamping.
    pub scaled: f32,
    /// The stored integer.
    pub q: i32,
    /// `s × (q − z)`: the value the integer stands for.
    pub back: f32,
    /// `|x − back|`: at most `s / 2` unless clipped.
    pub error: f32,
    /// Whether `x` lay outside the group's range and was clamped to its edge.
    pub clipped: bool,
}

/// Values that share one scale and zero point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// Lower end of the range the grid covers: the range widened to include 0 (as torch's
    /// observers do, so that 0.0 comes back exactly); `−m` for a symmetric grid.
    pub min: f32,
    /// Upper end of that range; `m` for a symmetric grid.
    pub max: f32,
    /// Step between neighbouring levels, never below `f32::EPSILON` (torch's observers
    /// clamp it there: an all-zero group gets scale `f32::EPSILON` and zero point 0).
    pub scale: f32,
    /// The integer that stands for 0.0 (0 for a symmetric grid).
    pub zero_point: i32,
    /// Lowest integer.
    pub q_min: i32,
    /// Highest integer.
    pub q_max: i32,
    /// The group's values in order.
    pub values: Vec<QuantizedValue>,
}

/// A tensor quantized group by group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantizedTensor {
    /// One group for the tensor, or one per row.
    pub groups: Vec<Group>,
}

/// Quantizes `rows` (a matrix, or one row for a vector) as `spec` says.
///
/// Errors, as one line: no values, a NaN or infinite value, bits outside 2..=8, rows of
/// different lengths, a fixed range that is not finite or has `min ≥ max`.
pub fn quantize_tensor(rows: &[Vec<f32>], spec: &TensorSpec) -> Result<QuantizedTensor> {
    check(rows, spec)?;
    let groups = match spec.granularity {
        Granularity::PerTensor => {
            let all: Vec<f32> = rows.iter().flatten().copied().collect();
            vec![group(&all, spec)]
        }
        Granularity::PerRow => rows.iter().map(|r| group(r, spec)).collect(),
    };
    Ok(QuantizedTensor { groups })
}

fn check(rows: &[Vec<f32>], spec: &TensorSpec) -> Result<()> {
    if !(2..=8).contains(&spec.bits) {
        return Err(invalid(format!("bits must be 2 to 8, got {}", spec.bits)));
    }
    let width = rows.first().map_or(0, Vec::len);
    if width == 0 {
        return Err(invalid("no values to quantize"));
    }
    for (i, row) in rows.iter().enumerate() {
        if row.len() != width {
            return Err(invalid(format!(
                "row {i} has {} values but row 0 has {width}: rows must be equally long",
                row.len()
            )));
        }
        if let Some((j, x)) = row.iter().enumerate().find(|(_, x)| !x.is_finite()) {
            return Err(invalid(format!(
                "value {x} at row {i}, column {j} is not a finite number"
            )));
        }
    }
    if let RangeSource::Fixed { min, max } = spec.range {
        if !(min.is_finite() && max.is_finite() && min < max) {
            return Err(invalid(format!(
                "a fixed range needs finite min < max, got {min} … {max}"
            )));
        }
    }
    Ok(())
}

fn group(values: &[f32], spec: &TensorSpec) -> Group {
    let (lo, hi) = match spec.range {
        RangeSource::FromValues => values
            .iter()
            .fold((0.0_f32, 0.0_f32), |(lo, hi), &x| (lo.min(x), hi.max(x))),
        RangeSource::Fixed { min, max } => (min.min(0.0), max.max(0.0)),
    };
    let levels = (1_i32 << spec.bits) - 1;
    let (min, max, scale, zero_point, q_min, q_max) = match spec.mapping {
        Mapping::Affine => {
            let s = ((hi - lo) / levels as f32).max(f32::EPSILON);
            let z = ((-lo / s).round_ties_even() as i32).clamp(0, levels);
            (lo, hi, s, z, 0, levels)
        }
        Mapping::Symmetric => {
            let m = (-lo).max(hi);
            let s = (m / (levels as f32 / 2.0)).max(f32::EPSILON);
            let half = 1_i32 << (spec.bits - 1);
            (-m, m, s, 0, -half, half - 1)
        }
    };
    let values = values
        .iter()
        .map(|&x| {
            let q = ((x / scale).round_ties_even() as i32 + zero_point).clamp(q_min, q_max);
            let back = scale * (q - zero_point) as f32;
            QuantizedValue {
                x,
                scaled: x / scale + zero_point as f32,
                q,
                back,
                error: (x - back).abs(),
                clipped: x < min || x > max,
            }
        })
        .collect();
    Group {
        min,
        max,
        scale,
        zero_point,
        q_min,
        q_max,
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(
        bits: u8,
        mapping: Mapping,
        granularity: Granularity,
        range: RangeSource,
    ) -> TensorSpec {
        TensorSpec {
            bits,
            mapping,
            granularity,
            range,
        }
    }

    fn per_tensor(bits: u8, mapping: Mapping, range: RangeSource) -> TensorSpec {
        spec(bits, mapping, Granularity::PerTensor, range)
    }

    /// A fixed-seed xorshift stream in [-1, 1): the property tests repeat exactly.
    fn noise(seed: u64, n: usize) -> Vec<f32> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect()
    }

    #[test]
    fn the_lessons_worked_example_comes_out_exactly() {
        let fixed = RangeSource::Fixed {
            min: -1.0,
            max: 1.55,
        };
        let rows = vec![vec![0.5, 0.123, 0.0, 2.0]];
        let t = quantize_tensor(&rows, &per_tensor(8, Mapping::Affine, fixed)).unwrap();
        let g = &t.groups[0];
        assert!((g.scale - 0.01).abs() < 1e-6, "{}", g.scale);
        assert_eq!((g.zero_point, g.q_min, g.q_max), (100, 0, 255));
        let q: Vec<i32> = g.values.iter().map(|v| v.q).collect();
        assert_eq!(q, [150, 112, 100, 255]);
        for (v, (back, error)) in
            g.values
                .iter()
                .zip([(0.5, 0.0), (0.12, 0.003), (0.0, 0.0), (1.55, 0.45)])
        {
            assert!((v.back - back).abs() < 1e-6, "{v:?}");
            assert!((v.error - error).abs() < 1e-6, "{v:?}");
        }
        assert_eq!(g.values[2].back, 0.0, "0.0 comes back exactly");
        let clipped: Vec<bool> = g.values.iter().map(|v| v.clipped).collect();
        assert_eq!(clipped, [false, false, false, true]);
        assert!((g.values[3].scaled - 300.0).abs() < 1e-3);
    }

    #[test]
    fn the_lessons_symmetric_example_has_zero_point_zero() {
        let rows = vec![vec![-0.52, 0.13, 0.80, -0.30]];
        let s = per_tensor(8, Mapping::Symmetric, RangeSource::FromValues);
        let g = &quantize_tensor(&rows, &s).unwrap().groups[0];
        assert_eq!((g.zero_point, g.q_min, g.q_max), (0, -128, 127));
        assert_eq!(g.scale, 0.80 / 127.5);
        let q: Vec<i32> = g.values.iter().map(|v| v.q).collect();
        assert_eq!(q, [-83, 21, 127, -48], "127.5 is clamped to 127");
        assert!(g.values.iter().all(|v| !v.clipped));
        assert!((g.values[0].back - -0.5208).abs() < 1e-4);
    }

    #[test]
    fn per_row_gives_one_group_per_row() {
        let rows = vec![vec![1.0, -1.0], vec![0.1, 0.2], vec![-4.0, 0.0]];
        for mapping in [Mapping::Affine, Mapping::Symmetric] {
            let s = spec(8, mapping, Granularity::PerRow, RangeSource::FromValues);
            let t = quantize_tensor(&rows, &s).unwrap();
            assert_eq!(t.groups.len(), 3);
            assert!(t.groups[1].scale < t.groups[2].scale);
            let s = per_tensor(8, mapping, RangeSource::FromValues);
            let t = quantize_tensor(&rows, &s).unwrap();
            assert_eq!(t.groups.len(), 1);
            assert_eq!(t.groups[0].values.len(), 6);
        }
    }

    #[test]
    fn four_bits_give_sixteen_levels() {
        // A ramp over −1 … 1, so both grids are used from end to end.
        let ramp: Vec<f32> = (0..=200).map(|i| i as f32 / 100.0 - 1.0).collect();
        for mapping in [Mapping::Affine, Mapping::Symmetric] {
            let s = per_tensor(4, mapping, RangeSource::FromValues);
            let g = &quantize_tensor(std::slice::from_ref(&ramp), &s)
                .unwrap()
                .groups[0];
            assert_eq!(g.q_max - g.q_min + 1, 16, "{mapping:?}");
            let mut used: Vec<i32> = g.values.iter().map(|v| v.q).collect();
            used.sort_unstable();
            used.dedup();
            assert!(
                used.len() <= 16 && used.len() >= 14,
                "{mapping:?}: {used:?}"
            );
        }
    }

    #[test]
    fn error_is_at_most_half_a_step_unless_clipped() {
        let values = noise(0x5eed, 400);
        let rows: Vec<Vec<f32>> = values.chunks(40).map(|r| r.to_vec()).collect();
        let ranges = [
            RangeSource::FromValues,
            RangeSource::Fixed {
                min: -0.5,
                max: 0.6,
            },
        ];
        for bits in [2, 3, 4, 8] {
            for mapping in [Mapping::Affine, Mapping::Symmetric] {
                for granularity in [Granularity::PerTensor, Granularity::PerRow] {
                    for range in ranges {
                        let s = spec(bits, mapping, granularity, range);
                        for g in quantize_tensor(&rows, &s).unwrap().groups {
                            for v in g.values.iter().filter(|v| !v.clipped) {
                                // Half a step, plus f32 rounding in x / s and s × (q − z).
                                let slack = 4.0 * f32::EPSILON * v.x.abs().max(g.scale);
                                let bound = g.scale / 2.0 + slack;
                                assert!(v.error <= bound, "{s:?}: {v:?} vs {bound}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn only_a_fixed_range_clips() {
        let rows = vec![noise(7, 300)];
        let s = per_tensor(8, Mapping::Affine, RangeSource::FromValues);
        let g = &quantize_tensor(&rows, &s).unwrap().groups[0];
        assert!(g.values.iter().all(|v| !v.clipped));
        let fixed = RangeSource::Fixed {
            min: -0.25,
            max: 0.5,
        };
        for mapping in [Mapping::Affine, Mapping::Symmetric] {
            let g = &quantize_tensor(&rows, &per_tensor(8, mapping, fixed))
                .unwrap()
                .groups[0];
            for v in &g.values {
                assert_eq!(v.clipped, v.x < g.min || v.x > g.max, "{v:?}");
                if v.clipped {
                    assert!(v.q == g.q_min || v.q == g.q_max, "{v:?}");
                }
            }
            assert!(g.values.iter().any(|v| v.clipped));
        }
    }

    #[test]
    fn an_all_zero_tensor_gets_torchs_epsilon_scale() {
        for mapping in [Mapping::Affine, Mapping::Symmetric] {
            let s = per_tensor(8, mapping, RangeSource::FromValues);
            let g = &quantize_tensor(&[vec![0.0; 4]], &s).unwrap().groups[0];
            assert_eq!((g.scale, g.zero_point), (f32::EPSILON, 0));
            assert!(g.values.iter().all(|v| v.back == 0.0 && v.error == 0.0));
        }
    }

    #[test]
    fn bad_inputs_are_one_line_errors() {
        let ok = per_tensor(8, Mapping::Affine, RangeSource::FromValues);
        let err =
            |rows: &[Vec<f32>], s: &TensorSpec| quantize_tensor(rows, s).unwrap_err().to_string();
        assert_eq!(err(&[], &ok), "no values to quantize");
        assert_eq!(err(&[vec![]], &ok), "no values to quantize");
        assert_eq!(
            err(&[vec![1.0, f32::NAN]], &ok),
            "value NaN at row 0, column 1 is not a finite number"
        );
        assert_eq!(
            err(&[vec![f32::INFINITY]], &ok),
            "value inf at row 0, column 0 is not a finite number"
        );
        assert_eq!(
            err(
                &[vec![1.0]],
                &per_tensor(9, Mapping::Affine, RangeSource::FromValues)
            ),
            "bits must be 2 to 8, got 9"
        );
        assert_eq!(
            err(
                &[vec![1.0]],
                &per_tensor(1, Mapping::Affine, RangeSource::FromValues)
            ),
            "bits must be 2 to 8, got 1"
        );
        assert_eq!(
            err(&[vec![1.0, 2.0], vec![3.0]], &ok),
            "row 1 has 1 values but row 0 has 2: rows must be equally long"
        );
        let flat = RangeSource::Fixed { min: 1.0, max: 1.0 };
        assert_eq!(
            err(&[vec![1.0]], &per_tensor(8, Mapping::Affine, flat)),
            "a fixed range needs finite min < max, got 1 … 1"
        );
    }
}
